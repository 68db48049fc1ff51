package saturation

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

type descs struct {
	ratio, errors *prometheus.Desc
}

func newDescs(location string) descs {
	var constLabels prometheus.Labels
	if location != "" {
		constLabels = prometheus.Labels{contract.LabelLocation: location}
	}
	desc := func(m contract.Metric) *prometheus.Desc {
		labels := append([]string{contract.LabelTarget, contract.LabelService}, m.Labels...)
		return prometheus.NewDesc(m.Name, m.Help, labels, constLabels)
	}
	return descs{ratio: desc(contract.SaturationRatio), errors: desc(contract.SaturationErrorsTotal)}
}

// Collector exports http5xx_saturation_ratio for every target with a
// current ratio and http5xx_saturation_errors_total for every reason a
// target's source has failed with.
func (m *Manager) Collector() prometheus.Collector { return collector{m} }

type collector struct{ m *Manager }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.m.descs.ratio
	ch <- c.m.descs.errors
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	out := make([]prometheus.Metric, 0, len(m.pollers)+len(m.errors))
	for _, p := range m.pollers {
		if r, ok := p.current(); ok {
			out = append(out, prometheus.MustNewConstMetric(m.descs.ratio, prometheus.GaugeValue, r, p.spec.target, p.spec.service, p.spec.typ))
		}
	}
	for k, n := range m.errors {
		out = append(out, prometheus.MustNewConstMetric(m.descs.errors, prometheus.CounterValue, n, k.target, k.service, k.source, string(k.reason)))
	}
	m.mu.Unlock()
	for _, metric := range out {
		ch <- metric
	}
}
