package collector

import (
	"maps"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// targetInfo exports http5xx_target_info: one series per target with its
// URL, owner and the target's own labels (labels:). Targets carry different
// label names, so it is an unchecked collector of prebuilt constant series,
// one per target, rebuilt only when the target's configuration changes: a
// scrape allocates nothing for it.
type targetInfo struct {
	constLabels prometheus.Labels

	mu     sync.RWMutex
	series map[string]prometheus.Metric // by target name
}

func newTargetInfo(constLabels prometheus.Labels) *targetInfo {
	return &targetInfo{constLabels: constLabels, series: map[string]prometheus.Metric{}}
}

// Describe sends nothing: the label names follow the configuration.
func (c *targetInfo) Describe(chan<- *prometheus.Desc) {}

func (c *targetInfo) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, m := range c.series {
		ch <- m
	}
}

// set (re)builds t's series.
func (c *targetInfo) set(t *config.Target) {
	names := append(labelNames(contract.TargetInfo), slices.Sorted(maps.Keys(t.Labels))...)
	values := []string{t.Name, t.Service, t.RedactedURL(), t.Owner}
	for _, n := range names[len(values):] {
		values = append(values, t.Labels[n])
	}
	desc := prometheus.NewDesc(contract.TargetInfo.Name, contract.TargetInfo.Help, names, c.constLabels)
	// Config validation keeps names and values valid; a failure here is a
	// bug, and the target is then left without an info series.
	m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, 1, values...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.series, t.Name)
		return
	}
	c.series[t.Name] = m
}

func (c *targetInfo) delete(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.series, name)
}
