package collector

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// targetInfo exports http5xx_target_info: one series per target with its
// URL, owner and the target's own labels (labels:). Targets carry different
// label names, so it is an unchecked collector. It keeps a reference to
// each target's configuration, not a prebuilt series (a Desc and label
// pairs: 900 bytes a target), and writes the series at scrape time.
type targetInfo struct {
	plain *prometheus.Desc  // of the targets without labels
	names []string          // target, service, url, owner
	cl    prometheus.Labels // the constant labels

	mu      sync.RWMutex
	targets map[string]infoTarget // by target name
}

// infoTarget is what one series is written from.
type infoTarget struct {
	t   *config.Target
	url string // t.RedactedURL(), t.URL itself when nothing is hidden
	// labels are the target's location, service and target pairs, those
	// of its record (targetMetrics.labels).
	labels []*dto.LabelPair
}

func newTargetInfo(constLabels prometheus.Labels) *targetInfo {
	c := &targetInfo{
		plain:   prometheus.NewDesc(contract.TargetInfo.Name, contract.TargetInfo.Help, labelNames(contract.TargetInfo), constLabels),
		names:   labelNames(contract.TargetInfo),
		cl:      constLabels,
		targets: map[string]infoTarget{},
	}
	return c
}

// Describe sends nothing: the label names follow the configuration.
func (c *targetInfo) Describe(chan<- *prometheus.Desc) {}

// Collect writes every target's series; the targets with the same label
// names share a Desc for the length of the scrape.
func (c *targetInfo) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ss := &scrapeSeries{k: 2}
	descs := map[string]*prometheus.Desc{}
	for _, it := range c.targets {
		t, desc := it.t, c.plain
		ls := ss.labels(len(it.labels) + 2 + len(t.Labels))
		ls = append(ls, it.labels...) // shared by every scrape
		ls = append(ls, ss.pair(&c.names[2], it.url), ss.pair(&c.names[3], t.Owner))
		if len(t.Labels) > 0 {
			names := slices.Sorted(maps.Keys(t.Labels))
			key := strings.Join(names, "\xff") // never in a label name
			if desc = descs[key]; desc == nil {
				desc = prometheus.NewDesc(contract.TargetInfo.Name, contract.TargetInfo.Help,
					append(labelNames(contract.TargetInfo), names...), c.cl)
				descs[key] = desc
			}
			for _, n := range names {
				ls = append(ls, ss.pair(&n, t.Labels[n]))
			}
		}
		if m, ok := ss.add(desc, ls, prometheus.GaugeValue, 1, time.Time{}); ok {
			ch <- m
		}
	}
}

// set follows t's configuration, which must not change afterwards; labels
// are its record's location, service and target pairs.
func (c *targetInfo) set(t *config.Target, labels []*dto.LabelPair) {
	it := infoTarget{t: t, url: t.RedactedURL(), labels: labels}
	if it.url == t.URL {
		it.url = t.URL // the configuration's string, not a copy
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.targets[t.Name] = it
}

func (c *targetInfo) delete(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.targets, name)
}
