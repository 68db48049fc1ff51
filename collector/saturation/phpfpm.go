package saturation

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// phpFPMSource reads php-fpm's pool status page (pm.status_path), plain text
// or ?json:
//
//	pool:                 www
//	process manager:      dynamic
//	listen queue:         0
//	idle processes:       3
//	active processes:     2
//	total processes:      5
//
// The ratio is active processes / max children. The page does not show
// pm.max_children, so max comes from the config; for a static pool the
// total process count equals pm.max_children and stands in when max is 0.
//
// A non-empty listen queue means every child is busy and requests are
// waiting for one: the pool is full whatever the process count says, so
// the ratio is 1 then. The queue length itself is not a ratio and has no
// series of its own in the contract; the pool's own exporter has it.
type phpFPMSource struct{ max float64 }

func (phpFPMSource) accept() string { return "text/plain, application/json;q=0.9" }

func (s phpFPMSource) ratio(body []byte) (float64, error) {
	st, err := parsePHPFPM(body)
	if err != nil {
		return 0, err
	}
	active, ok := st.number("active processes")
	if !ok {
		return 0, errors.New("php-fpm status: no \"active processes\", is the URL pm.status_path?")
	}
	max := s.max
	if max == 0 {
		total, ok := st.number("total processes")
		if st.text("process manager") != "static" || !ok || total <= 0 {
			return 0, fmt.Errorf("php-fpm status: pool %q uses pm = %s, set max to its pm.max_children", st.text("pool"), st.text("process manager"))
		}
		max = total
	}
	if q, ok := st.number("listen queue"); ok && q > 0 {
		return 1, nil
	}
	return divide("active processes", active, max)
}

// fpmStatus is the status page as field name → value.
type fpmStatus map[string]string

func (st fpmStatus) text(k string) string { return st[k] }

func (st fpmStatus) number(k string) (float64, bool) {
	v, err := strconv.ParseFloat(st[k], 64)
	return v, err == nil
}

func parsePHPFPM(body []byte) (fpmStatus, error) {
	st := fpmStatus{}
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' {
		var doc map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			return nil, fmt.Errorf("php-fpm status: %w", err)
		}
		for k, v := range doc {
			switch v := v.(type) {
			case string:
				st[k] = v
			case json.Number:
				st[k] = v.String()
			}
		}
		return st, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			st[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("php-fpm status: %w", err)
	}
	return st, nil
}
