package collector

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// targetInfo exports http5xx_target_info: one series per target with its
// URL, owner and the target's own labels (labels:). Targets carry different
// label names, so it is an unchecked collector. It keeps a reference to
// each target's configuration, not a prebuilt series (a Desc and label
// pairs: 900 bytes a target), and writes the series at scrape time.
type targetInfo struct {
	constLabels prometheus.Labels
	plain       *prometheus.Desc // of the targets without labels

	mu      sync.RWMutex
	targets map[string]infoTarget // by target name
}

// infoTarget is what one series is written from.
type infoTarget struct {
	t   *config.Target
	url string // t.RedactedURL(), t.URL itself when nothing is hidden
}

func newTargetInfo(constLabels prometheus.Labels) *targetInfo {
	return &targetInfo{
		constLabels: constLabels,
		plain:       prometheus.NewDesc(contract.TargetInfo.Name, contract.TargetInfo.Help, labelNames(contract.TargetInfo), constLabels),
		targets:     map[string]infoTarget{},
	}
}

// Describe sends nothing: the label names follow the configuration.
func (c *targetInfo) Describe(chan<- *prometheus.Desc) {}

// Collect writes every target's series; the targets with the same label
// names share a Desc for the length of the scrape.
func (c *targetInfo) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	descs := map[string]*prometheus.Desc{}
	for _, it := range c.targets {
		t, desc := it.t, c.plain
		values := []string{t.Name, t.Service, it.url, t.Owner}
		if len(t.Labels) > 0 {
			names := slices.Sorted(maps.Keys(t.Labels))
			key := strings.Join(names, "\xff") // never in a label name
			if desc = descs[key]; desc == nil {
				desc = prometheus.NewDesc(contract.TargetInfo.Name, contract.TargetInfo.Help,
					append(labelNames(contract.TargetInfo), names...), c.constLabels)
				descs[key] = desc
			}
			for _, n := range names {
				values = append(values, t.Labels[n])
			}
		}
		// Config validation keeps names and values valid; a failure here
		// is a bug, and the target is then left without an info series.
		if m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, 1, values...); err == nil {
			ch <- m
		}
	}
}

// set follows t's configuration, which must not change afterwards.
func (c *targetInfo) set(t *config.Target) {
	it := infoTarget{t: t, url: t.RedactedURL()}
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
