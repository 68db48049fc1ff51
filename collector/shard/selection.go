package shard

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// Selection is what the shard kept of the configuration the engine runs:
// the figures of /metrics, the status page and /api/v1/status. It is safe
// for concurrent use.
type Selection struct {
	shard Shard
	info  *prometheus.Desc
	conf  *prometheus.Desc

	mu         sync.Mutex
	configured int
	kept       int
}

// NewSelection returns the Selection of s, before any configuration. Its
// series carry the label location when location is set, like the engine's
// own series.
func NewSelection(s Shard, location string) *Selection {
	var constLabels prometheus.Labels
	if location != "" {
		constLabels = prometheus.Labels{contract.LabelLocation: location}
	}
	return &Selection{
		shard: s,
		info:  prometheus.NewDesc(contract.ShardInfo.Name, contract.ShardInfo.Help, contract.ShardInfo.Labels, constLabels),
		conf:  prometheus.NewDesc(contract.ConfiguredTargets.Name, contract.ConfiguredTargets.Help, nil, constLabels),
	}
}

// Record notes an applied configuration: configured targets loaded, kept
// of them by this shard.
func (s *Selection) Record(configured, kept int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.configured, s.kept = configured, kept
}

// Status is the shard part of /api/v1/status and the status page.
type Status struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// Configured counts the targets loaded before sharding; Skipped those
	// of them other shards probe.
	Configured int `json:"configured_targets"`
	Skipped    int `json:"skipped_targets"`
}

// Status returns the figures of the running configuration.
func (s *Selection) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{Index: s.shard.Index, Count: s.shard.Count, Configured: s.configured, Skipped: s.configured - s.kept}
}

// Describe implements prometheus.Collector.
func (s *Selection) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.info
	ch <- s.conf
}

// Collect implements prometheus.Collector.
func (s *Selection) Collect(ch chan<- prometheus.Metric) {
	st := s.Status()
	ch <- prometheus.MustNewConstMetric(s.info, prometheus.GaugeValue, 1, strconv.Itoa(st.Index), strconv.Itoa(st.Count))
	ch <- prometheus.MustNewConstMetric(s.conf, prometheus.GaugeValue, float64(st.Configured))
}
