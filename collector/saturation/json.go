package saturation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/http5xx/http5xx_exporter/collector/selector"
)

// jsonSource reads a number from a JSON document by a dotted path
// ("pools.web.busy", "workers.0.busy" for an array element) and divides it
// by max. A string holding a number counts as that number.
type jsonSource struct {
	field selector.Field
	max   float64
}

func (jsonSource) accept() string { return "application/json" }

func (s jsonSource) ratio(body []byte) (float64, error) {
	var doc any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return 0, fmt.Errorf("json: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return 0, errors.New("json: data after the document")
	}
	v, err := s.field.Lookup(doc)
	if err != nil {
		return 0, fmt.Errorf("json: %w", err)
	}
	field := s.field.String()
	var f float64
	switch v := v.(type) {
	case json.Number:
		f, err = v.Float64()
	case string:
		f, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
	default:
		return 0, fmt.Errorf("json: %q is %T, want a number", field, v)
	}
	if err != nil {
		return 0, fmt.Errorf("json: %q: %w", field, err)
	}
	return divide(field, f, s.max)
}
