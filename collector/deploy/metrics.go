package deploy

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// metrics exposes the kept history. It reads the state at scrape time, so a
// replaced version's http5xx_deploy_info series is simply gone.
type metrics struct {
	m                      *Manager
	timestamp, total, info *prometheus.Desc
	tokenFileOK            *prometheus.Desc
	mActive, mEnd          *prometheus.Desc
}

func desc(c contract.Metric) *prometheus.Desc {
	return prometheus.NewDesc(c.Name, c.Help, c.Labels, nil)
}

// Collector exports http5xx_deploy_timestamp_seconds, http5xx_deploys_total
// and http5xx_deploy_info for every service with a recorded deploy, and
// http5xx_deploy_token_file_ok, and the maintenance gauges of every service
// with a kept window.
func (m *Manager) Collector() prometheus.Collector {
	return &metrics{
		m:         m,
		timestamp: desc(contract.DeployTimestamp),
		total:     desc(contract.DeploysTotal),
		info:      desc(contract.DeployInfo),

		tokenFileOK: desc(contract.DeployTokenFileOK),
		mActive:     desc(contract.MaintenanceActive),
		mEnd:        desc(contract.MaintenanceEndTimestamp),
	}
}

func (c *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.timestamp
	ch <- c.total
	ch <- c.info
	ch <- c.tokenFileOK
	ch <- c.mActive
	ch <- c.mEnd
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
	c.collectMaintenance(ch)
}

// collectMaintenance exports per service whether it is in a window now and
// when its current window ends, or else when its last one ended. A service
// with only upcoming windows has no end series: rules compare the end with
// time() and must not see a future end outside a window.
func (c *metrics) collectMaintenance(ch chan<- prometheus.Metric) {
	type state struct {
		active bool
		end    time.Time
	}
	now := c.m.now()
	cutoff := now.Add(-WindowRetention)
	states := map[string]*state{}
	c.m.mu.RLock()
	for _, w := range c.m.windows {
		end := w.EffectiveEnd()
		if end.Before(cutoff) {
			continue // pruned at the next write
		}
		st := states[w.Service]
		if st == nil {
			st = &state{}
			states[w.Service] = st
		}
		switch {
		case w.Active(now):
			if !st.active || end.After(st.end) {
				st.end = end
			}
			st.active = true
		case !st.active && !end.After(now) && end.After(st.end) && !end.Before(w.Start):
			st.end = end
		}
	}
	c.m.mu.RUnlock()
	for service, st := range states {
		active := 0.0
		if st.active {
			active = 1
		}
		ch <- prometheus.MustNewConstMetric(c.mActive, prometheus.GaugeValue, active, service)
		if !st.end.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.mEnd, prometheus.GaugeValue, float64(st.end.UnixNano())/1e9, service)
		}
	}
}
