package collector

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
)

// extraGoldenCollectors are the collectors main registers beside Metrics,
// fed with fixed inputs, so the golden file holds the whole contract.
func extraGoldenCollectors(t *testing.T) []prometheus.Collector {
	t.Helper()
	return []prometheus.Collector{versioncollector.NewCollector("http5xx_exporter")}
}
