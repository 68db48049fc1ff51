package saturation

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/selector"
)

// promSource reads a Prometheus text exposition, sums the series a selector
// picks and divides the sum by max: 'busy_workers{pool="web"}' with max 32,
// or 'active_connections' summed over every instance label. Samples are the
// exposition's series as Prometheus would ingest them, so the _sum, _count
// and _bucket series of summaries and histograms are selectable too. A
// selector that picks no series is an error, not a zero: a renamed metric
// must not read as an idle server.
type promSource struct {
	sel selector.Metric
	max float64
}

func (promSource) accept() string {
	return "text/plain;version=0.0.4;q=0.9,*/*;q=0.1"
}

func (s promSource) ratio(body []byte) (float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("exposition: %w", err)
	}
	// Only the families that can hold the series are expanded.
	name := s.sel.Name
	for _, suffix := range []string{"_sum", "_count", "_bucket"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && families[name] == nil {
			name = base
		}
	}
	mf, ok := families[name]
	if !ok {
		return 0, fmt.Errorf("exposition has no metric %q", s.sel.Name)
	}
	samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, mf)
	if err != nil {
		return 0, fmt.Errorf("metric %q: %w", s.sel.Name, err)
	}
	var sum float64
	var n int
	for _, smp := range samples {
		if string(smp.Metric[model.MetricNameLabel]) == s.sel.Name && s.sel.Matches(smp.Metric) {
			sum += float64(smp.Value)
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("no series matches %s", s.sel)
	}
	return divide(s.sel.String(), sum, s.max)
}
