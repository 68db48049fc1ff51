package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// probeHeader is the header the exporter sends: "<location>/<target>".
const probeHeader = "X-Http5xx-Probe"

// options configure a server.
type options struct {
	Version string       // initial X-App-Version
	Seed    uint64       // seeds /flaky; 0 picks a random seed
	Logger  *slog.Logger // nil discards
}

// server is the demo origin: an http.Handler with all of its state.
type server struct {
	log      *slog.Logger
	mux      *http.ServeMux
	started  time.Time
	requests atomic.Uint64 // requests served, also the Cloudflare ray id

	mu        sync.Mutex
	version   string
	scenarios map[string]behaviour
	sat       saturationState
	rng       *rand.Rand
}

func newServer(o options) *server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	if o.Version == "" {
		o.Version = "1.0.0"
	}
	s := &server{
		log:       o.Logger,
		mux:       http.NewServeMux(),
		started:   time.Now(),
		version:   o.Version,
		scenarios: map[string]behaviour{},
		sat:       saturationState{Active: 0, Max: 100},
		rng:       rand.New(rand.NewPCG(o.Seed, o.Seed)),
	}
	s.routes()
	return s
}

func (s *server) routes() {
	m := s.mux
	// Fixed behaviours.
	m.HandleFunc("/{$}", s.handleOK)
	m.HandleFunc("/ok", s.handleOK)
	m.HandleFunc("/status/{code}", s.handleStatus)
	m.HandleFunc("/retry-after/{value}", s.handleRetryAfter)
	m.HandleFunc("/delay/{duration}", s.handleDelay)
	m.HandleFunc("/hang", handleHang)
	m.HandleFunc("/reset", handleReset)
	m.HandleFunc("/garbage", handleGarbage)
	m.HandleFunc("/huge", handleHuge)
	m.HandleFunc("/trickle", handleTrickle)
	m.HandleFunc("/redirect-loop", handleRedirectLoop)
	m.HandleFunc("/redirect-loop/{side}", handleRedirectLoop)
	m.HandleFunc("/flaky", s.handleFlaky)
	// Scenarios and the control API.
	m.HandleFunc("/t/{name}", s.handleScenario)
	m.HandleFunc("GET /-/control", s.handleListScenarios)
	m.HandleFunc("GET /-/control/{name}", s.handleGetScenario)
	m.HandleFunc("PUT /-/control/{name}", s.handlePutScenario)
	m.HandleFunc("DELETE /-/control/{name}", s.handleDeleteScenario)
	m.HandleFunc("GET /-/version", s.handleGetVersion)
	m.HandleFunc("PUT /-/version", s.handlePutVersion)
	m.HandleFunc("GET /-/saturation", s.handleGetSaturation)
	m.HandleFunc("PUT /-/saturation", s.handlePutSaturation)
	m.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "Healthy")
	})
	// Saturation readings in the formats the exporter's sources parse.
	m.HandleFunc("GET /nginx_status", s.handleNginxStatus)
	m.HandleFunc("GET /fpm-status", s.handleFPMStatus)
	m.HandleFunc("GET /metrics-sat", s.handleMetricsSat)
	m.HandleFunc("GET /saturation.json", s.handleSaturationJSON)
}

// ServeHTTP stamps every answer with the current version and dispatches.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	v := s.version
	s.mu.Unlock()
	w.Header().Set("X-App-Version", v)
	s.mux.ServeHTTP(w, r)
}

// answer writes a, tagging it with this request's number.
func (s *server) answer(w http.ResponseWriter, a answer) {
	a.write(w, s.requests.Load())
}

// badRequest answers 400 with a one-line reason.
func badRequest(w http.ResponseWriter, format string, args ...any) {
	http.Error(w, fmt.Sprintf(format, args...), http.StatusBadRequest)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// probeLocation returns the location of the probe that sent r: the part of
// X-Http5xx-Probe before the first "/". An exporter without --location sends
// just the target name, and a request without the header is no probe: both
// have no location.
func probeLocation(r *http.Request) string {
	loc, _, found := strings.Cut(r.Header.Get(probeHeader), "/")
	if !found {
		return ""
	}
	return strings.TrimSpace(loc)
}

func (s *server) handleScenario(w http.ResponseWriter, r *http.Request) {
	name, loc := r.PathValue("name"), probeLocation(r)
	s.mu.Lock()
	b, ok := s.scenarios[name]
	s.mu.Unlock()
	if !ok {
		b = defaultBehaviour()
	}
	b = b.forLocation(loc)
	s.log.Debug("scenario", "name", name, "location", loc, "status", b.Status, "mode", b.Mode)
	if b.Delay > 0 {
		sleep(r, time.Duration(b.Delay))
	}
	switch b.Mode {
	case modeHang:
		handleHang(w, r)
	case modeReset:
		handleReset(w, r)
	case modeGarbage:
		handleGarbage(w, r)
	default:
		s.answer(w, answer{status: b.Status, retryAfter: b.RetryAfter, as: b.As})
	}
}

func (s *server) handleListScenarios(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	all := maps.Clone(s.scenarios)
	s.mu.Unlock()
	writeJSON(w, all)
}

// scenarioName returns the {name} of a control request, answering 400 when
// it is not a valid name.
func scenarioName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if err := checkName(name); err != nil {
		badRequest(w, "scenario name %q: %v", name, err)
		return "", false
	}
	return name, true
}

func (s *server) handleGetScenario(w http.ResponseWriter, r *http.Request) {
	name, ok := scenarioName(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	b, ok := s.scenarios[name]
	s.mu.Unlock()
	if !ok {
		b = defaultBehaviour()
	}
	writeJSON(w, b)
}

func (s *server) handlePutScenario(w http.ResponseWriter, r *http.Request) {
	name, ok := scenarioName(w, r)
	if !ok {
		return
	}
	var b behaviour
	if code, err := decodeJSON(w, r, &b); err != nil {
		http.Error(w, fmt.Sprintf("scenario %q: %v", name, err), code)
		return
	}
	if err := b.normalize(false); err != nil {
		badRequest(w, "scenario %q: %v", name, err)
		return
	}
	s.mu.Lock()
	_, exists := s.scenarios[name]
	full := !exists && len(s.scenarios) >= maxScenarios
	if !full {
		s.scenarios[name] = b
	}
	s.mu.Unlock()
	if full {
		badRequest(w, "scenario %q: %d scenarios are set already; DELETE one first", name, maxScenarios)
		return
	}
	s.log.Info("scenario set", "name", name, "status", b.Status, "mode", b.Mode, "delay", time.Duration(b.Delay), "locations", len(b.Locations))
	writeJSON(w, b)
}

func (s *server) handleDeleteScenario(w http.ResponseWriter, r *http.Request) {
	name, ok := scenarioName(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	delete(s.scenarios, name)
	s.mu.Unlock()
	s.log.Info("scenario reset", "name", name)
	writeJSON(w, defaultBehaviour())
}

type versionBody struct {
	Version string `json:"version"`
}

func (s *server) handleGetVersion(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	v := s.version
	s.mu.Unlock()
	writeJSON(w, versionBody{v})
}

func (s *server) handlePutVersion(w http.ResponseWriter, r *http.Request) {
	var body versionBody
	if code, err := decodeJSON(w, r, &body); err != nil {
		http.Error(w, "version: "+err.Error(), code)
		return
	}
	if body.Version == "" {
		badRequest(w, `version: want {"version":"1.2.4"}`)
		return
	}
	if err := checkHeaderValue("version", body.Version); err != nil {
		badRequest(w, "%v", err)
		return
	}
	s.mu.Lock()
	old := s.version
	s.version = body.Version
	s.mu.Unlock()
	s.log.Info("version changed", "from", old, "to", body.Version)
	// This answer already carries the new version, as the first after a deploy.
	w.Header().Set("X-App-Version", body.Version)
	writeJSON(w, body)
}
