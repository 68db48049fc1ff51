package saturation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// jsonSource reads a number from a JSON document by a dotted path
// ("pools.web.busy", "workers.0.busy" for an array element) and divides it
// by max. A string holding a number counts as that number.
type jsonSource struct {
	path []string
	max  float64
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
	v := doc
	for i, p := range s.path {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[p]
			if !ok {
				return 0, fmt.Errorf("json: no %q", strings.Join(s.path[:i+1], "."))
			}
			v = next
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(node) {
				return 0, fmt.Errorf("json: %q is an array of %d, %q is no index in it", strings.Join(s.path[:i], "."), len(node), p)
			}
			v = node[n]
		default:
			return 0, fmt.Errorf("json: %q is not an object or array", strings.Join(s.path[:i], "."))
		}
	}
	field := strings.Join(s.path, ".")
	var f float64
	var err error
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
