package saturation

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/saturation/selector"
)

// source turns one fetched document into a saturation ratio. Parsers see
// at most the body limit, and return ratios before clamping.
type source interface {
	// accept is the Accept header of the request.
	accept() string
	// ratio reads the document; an error says what was wrong with it.
	ratio(body []byte) (float64, error)
}

// Validate checks a saturation block the way the manager will use it: the
// type, the URL, and what the type needs (max, field, metric). The config
// loader checks the same with the selector package's parsers; a test in
// the config package keeps the two in agreement.
func Validate(s *config.Saturation) error {
	_, err := newSource(s)
	return err
}

func newSource(s *config.Saturation) (source, error) {
	u, err := url.Parse(s.URL)
	if err != nil {
		// url.Error repeats the URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("url %q: want an absolute http or https URL", u.Redacted())
	}
	if s.Max < 0 || math.IsNaN(s.Max) || math.IsInf(s.Max, 0) {
		return nil, fmt.Errorf("max %v: want a positive number", s.Max)
	}
	needMax := func() error {
		if s.Max == 0 {
			return fmt.Errorf("type %s needs max", s.Type)
		}
		return nil
	}
	switch s.Type {
	case contract.SaturationNginx:
		return nginxSource{max: s.Max}, needMax()
	case contract.SaturationPHPFPM:
		return phpFPMSource{max: s.Max}, nil
	case contract.SaturationJSON:
		path, err := selector.ParseField(s.Field)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", s.Field, err)
		}
		return jsonSource{path: path, max: s.Max}, needMax()
	case contract.SaturationPrometheus:
		sel, err := selector.ParseMetric(s.Metric)
		if err != nil {
			return nil, fmt.Errorf("metric %q: %w", s.Metric, err)
		}
		return promSource{sel: sel, max: s.Max}, needMax()
	}
	return nil, fmt.Errorf("type %q: want one of %s", s.Type, strings.Join(contract.SaturationTypes(), ", "))
}

// divide is value/max for a reading that must be a finite, non-negative
// number.
func divide(what string, value, max float64) (float64, error) {
	if math.IsNaN(value) || math.IsInf(value, 0) || value < 0 {
		return 0, fmt.Errorf("%s is %v, want a finite number >= 0", what, value)
	}
	return value / max, nil
}
