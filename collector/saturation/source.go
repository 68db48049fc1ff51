package saturation

import (
	"errors"
	"fmt"
	"math"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/selector"
)

// source turns one fetched document into a saturation ratio. Parsers see
// at most the body limit, and return ratios before clamping.
type source interface {
	// accept is the Accept header of the request.
	accept() string
	// ratio reads the document; an error says what was wrong with it.
	ratio(body []byte) (float64, error)
}

// newSource builds the source of a saturation block that config.Load
// validated; it checks nothing the loader checks. A block the loader would
// have refused still gets an error rather than a source, never a panic.
func newSource(s *config.Saturation) (source, error) {
	if s == nil {
		return nil, errors.New("no saturation block")
	}
	switch s.Type {
	case contract.SaturationNginx:
		return nginxSource{max: s.Max}, nil
	case contract.SaturationPHPFPM:
		return newPHPFPMSource(s.URL, s.Max)
	case contract.SaturationJSON:
		f, err := selector.ParseField(s.Field)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", s.Field, err)
		}
		return jsonSource{field: f, max: s.Max}, nil
	case contract.SaturationPrometheus:
		sel, err := selector.ParseMetric(s.Metric)
		if err != nil {
			return nil, fmt.Errorf("metric %q: %w", s.Metric, err)
		}
		return promSource{sel: sel, max: s.Max}, nil
	}
	return nil, fmt.Errorf("unknown type %q", s.Type)
}

// divide is value/max for a reading that must be a finite, non-negative
// number; the ratio is finite too.
func divide(what string, value, max float64) (float64, error) {
	if math.IsNaN(value) || math.IsInf(value, 0) || value < 0 {
		return 0, fmt.Errorf("%s is %v, want a finite number >= 0", what, value)
	}
	if !(max > 0) {
		return 0, fmt.Errorf("no capacity to divide %s by (max %v)", what, max)
	}
	// A huge reading over a tiny max overflows to +Inf.
	r := value / max
	if math.IsInf(r, 0) {
		return 0, fmt.Errorf("%s %v over max %v is not a finite ratio", what, value, max)
	}
	return r, nil
}
