package saturation

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// phpFPMSource reads php-fpm's pool status page (pm.status_path), plain text
// or ?json, with or without ?full:
//
//	pool:                 www
//	process manager:      dynamic
//	listen queue:         0
//	idle processes:       3
//	active processes:     2
//	total processes:      5
//
// The ratio is busy processes / max children. The page does not show
// pm.max_children, so max comes from the config; for a static pool the
// total process count equals pm.max_children and stands in when max is 0.
//
// A reading served by the pool it measures is one of its active processes,
// and is left out. With ?full the page lists every process and its request
// URI: the busy processes serving a status reading (this one, found by its
// query string, and other readers' on the same path) are left out, and a
// page served by pm.status_listen (a hidden pool of its own) lists none of
// them. Without ?full the page cannot tell the two setups apart, and the
// source assumes the common one: served through the pool, one process is
// the reading.
// docs: collector/saturation/README.md, "php-fpm: the reading is not the work".
//
// A non-empty listen queue means every child is busy and requests are
// waiting for one: the pool is full whatever the process count says, so
// the ratio is 1 then. php-fpm measures the queue of TCP listeners only; on
// a unix socket it always reads 0 and the process count alone decides.
type phpFPMSource struct {
	max float64
	// query is the reading's query string as php-fpm shows it in the
	// request URI of the process serving it.
	query string
}

func newPHPFPMSource(rawURL string, max float64) (phpFPMSource, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return phpFPMSource{}, fmt.Errorf("url: %w", err)
	}
	return phpFPMSource{max: max, query: u.RawQuery}, nil
}

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
	readers := 1.0 // without the list: this reading, served through the pool
	if st.procs != nil {
		readers = float64(st.readers(s.query))
	}
	return divide("active processes", max0(active-readers), max)
}

func max0(f float64) float64 {
	if f < 0 {
		return 0
	}
	return f
}

// fpmStatus is the status page: the pool's fields as name → value, and
// with ?full each process's fields.
type fpmStatus struct {
	fields map[string]string
	procs  []map[string]string // nil without ?full
}

func (st fpmStatus) text(k string) string { return st.fields[k] }

func (st fpmStatus) number(k string) (float64, bool) {
	v, err := strconv.ParseFloat(st.fields[k], 64)
	return v, err == nil
}

// readers counts the processes serving a status reading. The one serving
// this reading is busy (an idle process keeps showing its last request) and
// shows this reading's query string in its request URI; its path is the
// pool's pm.status_path, as php-fpm saw it. Every busy process on that path
// is a reading (other readers may ask with another query string).
func (st fpmStatus) readers(query string) int {
	busy := func(p map[string]string) bool { return !strings.EqualFold(p["state"], "Idle") }
	statusPaths := map[string]bool{}
	for _, p := range st.procs {
		if path, q, ok := strings.Cut(p["request uri"], "?"); ok && q == query && busy(p) {
			statusPaths[path] = true
		}
	}
	n := 0
	for _, p := range st.procs {
		path, _, _ := strings.Cut(p["request uri"], "?")
		if busy(p) && statusPaths[path] {
			n++
		}
	}
	return n
}

func parsePHPFPM(body []byte) (fpmStatus, error) {
	st := fpmStatus{fields: map[string]string{}}
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' {
		var doc map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			return st, fmt.Errorf("php-fpm status: %w", err)
		}
		st.fields = jsonFields(doc)
		if ps, ok := doc["processes"].([]any); ok {
			st.procs = make([]map[string]string, 0, len(ps))
			for _, p := range ps {
				if p, ok := p.(map[string]any); ok {
					st.procs = append(st.procs, jsonFields(p))
				}
			}
		}
		return st, nil
	}
	// Text: the pool's fields, then with ?full a block per process, each
	// after a line of asterisks.
	cur := st.fields
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "*****") {
			cur = map[string]string{}
			st.procs = append(st.procs, cur)
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			k = strings.TrimSpace(k)
			if len(st.procs) > 0 {
				k = strings.ToLower(k) // "request URI" in text, "request uri" in JSON
			}
			cur[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("php-fpm status: %w", err)
	}
	return st, nil
}

// jsonFields keeps the strings and numbers of a JSON object, as text.
func jsonFields(doc map[string]any) map[string]string {
	m := make(map[string]string, len(doc))
	for k, v := range doc {
		switch v := v.(type) {
		case string:
			m[k] = v
		case json.Number:
			m[k] = v.String()
		}
	}
	return m
}
