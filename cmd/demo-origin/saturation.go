package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// saturationState holds the readings set through PUT /-/saturation and the
// high-water marks php-fpm reports alongside them.
type saturationState struct {
	Active int `json:"active"` // busy workers / active connections
	Max    int `json:"max"`    // workers the origin can run
	Queue  int `json:"queue"`  // requests waiting for a worker

	maxActive, maxQueue, maxReached int
}

// saturationUpdate is the body of PUT /-/saturation; fields left out keep
// their value.
type saturationUpdate struct {
	Active *int `json:"active"`
	Max    *int `json:"max"`
	Queue  *int `json:"queue"`
}

const maxSaturationValue = 1_000_000

func (u saturationUpdate) apply(st *saturationState) error {
	next := *st
	for _, f := range []struct {
		name string
		src  *int
		dst  *int
		min  int
	}{{"active", u.Active, &next.Active, 0}, {"max", u.Max, &next.Max, 1}, {"queue", u.Queue, &next.Queue, 0}} {
		if f.src == nil {
			continue
		}
		if *f.src < f.min || *f.src > maxSaturationValue {
			return fmt.Errorf("%s %d: want %d to %d", f.name, *f.src, f.min, maxSaturationValue)
		}
		*f.dst = *f.src
	}
	next.maxActive = max(next.maxActive, next.Active)
	next.maxQueue = max(next.maxQueue, next.Queue)
	if next.Active >= next.Max && st.Active < st.Max {
		next.maxReached++
	}
	*st = next
	return nil
}

func (s *server) saturation() saturationState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sat
}

func (s *server) handleGetSaturation(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.saturation())
}

func (s *server) handlePutSaturation(w http.ResponseWriter, r *http.Request) {
	var u saturationUpdate
	if code, err := decodeJSON(w, r, &u); err != nil {
		http.Error(w, "saturation: "+err.Error(), code)
		return
	}
	s.mu.Lock()
	err := u.apply(&s.sat)
	st := s.sat
	s.mu.Unlock()
	if err != nil {
		badRequest(w, "saturation: %v", err)
		return
	}
	s.log.Info("saturation set", "active", st.Active, "max", st.Max, "queue", st.Queue)
	writeJSON(w, st)
}

// handleNginxStatus imitates nginx's stub_status page (trailing spaces
// included) of a server that proxies nothing: the status request is the one
// writing, the other active connections wait (keep-alive), so the
// exporter's estimate (active + writing - 1) / max reads active / max.
func (s *server) handleNginxStatus(w http.ResponseWriter, _ *http.Request) {
	st, n := s.saturation(), s.requests.Load()
	w.Header().Set("Content-Type", "text/plain")
	_, _ = fmt.Fprintf(w, "Active connections: %d \nserver accepts handled requests\n %d %d %d \nReading: %d Writing: %d Waiting: %d \n",
		st.Active, n, n, n, 0, 1, max(st.Active-1, 0))
}

// handleFPMStatus imitates php-fpm's status page of a static pool whose
// max children is Max: JSON with ?json, php-fpm's text format otherwise.
func (s *server) handleFPMStatus(w http.ResponseWriter, r *http.Request) {
	st, n := s.saturation(), s.requests.Load()
	idle := max(st.Max-st.Active, 0)
	values := []struct {
		key string
		val any
	}{
		{"pool", "www"},
		{"process manager", "static"},
		{"start time", s.started.Unix()},
		{"start since", int64(time.Since(s.started).Seconds())},
		{"accepted conn", n},
		{"listen queue", st.Queue},
		{"max listen queue", st.maxQueue},
		{"listen queue len", 511},
		{"idle processes", idle},
		{"active processes", st.Active},
		{"total processes", idle + st.Active},
		{"max active processes", st.maxActive},
		{"max children reached", st.maxReached},
		{"slow requests", 0},
	}
	// php-fpm's keys contain spaces and come in a fixed order, which struct
	// tags cannot express.
	if r.URL.Query().Has("json") {
		var b bytes.Buffer
		b.WriteByte('{')
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(v.key)
			val, _ := json.Marshal(v.val)
			b.Write(k)
			b.WriteByte(':')
			b.Write(val)
		}
		b.WriteByte('}')
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b.Bytes())
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	for _, v := range values {
		_, _ = fmt.Fprintf(w, "%-21s %v\n", v.key+":", v.val)
	}
}

// handleMetricsSat serves the readings in the Prometheus text format.
func (s *server) handleMetricsSat(w http.ResponseWriter, _ *http.Request) {
	st := s.saturation()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	for _, m := range []struct {
		name, help string
		val        int
	}{
		{"demo_busy_workers", "Workers busy serving a request.", st.Active},
		{"demo_max_workers", "Workers the demo origin can run at most.", st.Max},
		{"demo_queued_requests", "Requests waiting for a free worker.", st.Queue},
	} {
		_, _ = fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", m.name, m.help, m.name, m.name, m.val)
	}
}

// handleSaturationJSON serves {"workers":{"busy":N,"max":M,"queue":Q}}.
func (s *server) handleSaturationJSON(w http.ResponseWriter, _ *http.Request) {
	st := s.saturation()
	type workers struct {
		Busy  int `json:"busy"`
		Max   int `json:"max"`
		Queue int `json:"queue"`
	}
	writeJSON(w, struct {
		Workers workers `json:"workers"`
	}{workers{st.Active, st.Max, st.Queue}})
}
