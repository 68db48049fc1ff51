package deploy

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// metrics exposes the kept history. It reads the state at scrape time, so a
// replaced version's http5xx_deploy_info series is simply gone.
type metrics struct {
	m                      *Manager
	timestamp, total, info *prometheus.Desc
	tokenFileOK            *prometheus.Desc
}

func desc(c contract.Metric) *prometheus.Desc {
	return prometheus.NewDesc(c.Name, c.Help, c.Labels, nil)
}

// Collector exports http5xx_deploy_timestamp_seconds, http5xx_deploys_total
// and http5xx_deploy_info for every service with a recorded deploy, and
// http5xx_deploy_token_file_ok.
func (m *Manager) Collector() prometheus.Collector {
	return &metrics{
		m:         m,
		timestamp: desc(contract.DeployTimestamp),
		total:     desc(contract.DeploysTotal),
		info:      desc(contract.DeployInfo),

		tokenFileOK: desc(contract.DeployTokenFileOK),
	}
}

func (c *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.timestamp
	ch <- c.total
	ch <- c.info
	ch <- c.tokenFileOK
}

func (c *metrics) Collect(ch chan<- prometheus.Metric) {
	// Read at scrape time, so the gauge (and the log) tell before a
	// pipeline's POST is refused.
	ok := 0.0
	if c.m.tokenFileOK() {
		ok = 1
	}
	ch <- prometheus.MustNewConstMetric(c.tokenFileOK, prometheus.GaugeValue, ok)
	type row struct {
		service, version string
		ts, total        float64
	}
	// Copy under the lock, send without it: a slow scrape must not hold up
	// the writer.
	c.m.mu.RLock()
	rows := make([]row, 0, len(c.m.services))
	for service, h := range c.m.services {
		if h.latest != nil {
			rows = append(rows, row{service, h.latest.Version, float64(h.latest.Timestamp.UnixNano()) / 1e9, float64(h.total)})
		}
	}
	c.m.mu.RUnlock()
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(c.timestamp, prometheus.GaugeValue, r.ts, r.service)
		ch <- prometheus.MustNewConstMetric(c.total, prometheus.CounterValue, r.total, r.service)
		ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, r.service, r.version)
	}
}
