package collector

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// targetInfo exports http5xx_target_info: one series per target with its
// URL, owner and the target's own labels (labels:). Targets carry different
// label names, so it is an unchecked collector. The target's record keeps
// a reference to its configuration, not a prebuilt series (a Desc and
// label pairs: 900 bytes a target), and the series is written at scrape
// time.
type targetInfo struct {
	m     *Metrics
	plain *prometheus.Desc  // of the targets without labels
	names []string          // target, service, url, owner
	cl    prometheus.Labels // the constant labels
}

func newTargetInfo(m *Metrics, constLabels prometheus.Labels) *targetInfo {
	return &targetInfo{
		m:     m,
		plain: prometheus.NewDesc(contract.TargetInfo.Name, contract.TargetInfo.Help, labelNames(contract.TargetInfo), constLabels),
		names: labelNames(contract.TargetInfo),
		cl:    constLabels,
	}
}

// Describe sends nothing: the label names follow the configuration.
func (c *targetInfo) Describe(chan<- *prometheus.Desc) {}

// Collect writes every target's series; the targets with the same label
// names share a Desc for the length of the scrape.
func (c *targetInfo) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.RLock()
	tms := c.m.order
	c.m.mu.RUnlock()
	ss := &scrapeSeries{k: 2}
	descs := map[string]*prometheus.Desc{}
	for _, tm := range tms {
		tm.mu.Lock()
		t, url := tm.info, tm.infoURL
		tm.mu.Unlock()
		if url == "" {
			url = t.URL
		}
		desc := c.plain
		ls := ss.labels(len(tm.labels) + 2 + len(t.Labels))
		ls = append(ls, tm.labels...) // location, service, target: shared by every scrape
		ls = append(ls, ss.pair(&c.names[2], url), ss.pair(&c.names[3], t.Owner))
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
