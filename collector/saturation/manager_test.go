package saturation

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
)

// origin serves realistic status pages and broken ones on loopback, and
// counts the requests each path got.
type origin struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
	fail map[string]bool // paths that answer 500 for now
	// slowGaveUp gets a value each time a client gives up on /slow.
	slowGaveUp chan struct{}
}

func newOrigin(t *testing.T) *origin {
	o := &origin{hits: map[string]int{}, fail: map[string]bool{}, slowGaveUp: make(chan struct{}, 16)}
	stop := make(chan struct{})
	serve := func(file, contentType string) http.HandlerFunc {
		body := fixture(t, file)
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/nginx_status", serve("nginx_stub_status.txt", "text/plain"))
	mux.Handle("/fpm-status", serve("php_fpm_status.txt", "text/plain"))
	mux.Handle("/health", serve("app_status.json", "application/json"))
	mux.Handle("/metrics", serve("exposition.prom", "text/plain; version=0.0.4"))
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html><body><h1>Welcome to nginx!</h1></body></html>"))
	})
	// Streams well past any limit without announcing a length.
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		line := []byte("app_busy_workers{pool=\"web\"} 1\n")
		for i := 0; i < (4<<20)/len(line) && r.Context().Err() == nil; i++ {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/huge-declared", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(1<<20))
		_, _ = w.Write(make([]byte, 1<<20))
	})
	// Answers nothing until the client gives up (or the test ends).
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			select {
			case o.slowGaveUp <- struct{}{}:
			default:
			}
		case <-stop:
		}
	})
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits[r.URL.Path]++
		fail := o.fail[r.URL.Path]
		o.mu.Unlock()
		if fail {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(o.Close)
	t.Cleanup(func() { close(stop) }) // runs first: /slow lets go, Close can return
	return o
}

func (o *origin) hitCount(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

func (o *origin) setFailing(path string, fail bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fail[path] = fail
}

// target is a config.Target with defaults applied, as config.Load hands
// them over. Its saturation block polls once an hour unless a test changes
// it; its timeout is longer than any loaded machine needs to answer, so
// only a test that shortens it sees one.
func target(name, typ, url string, mod ...func(*config.Saturation)) *config.Target {
	s := &config.Saturation{
		Type: typ, URL: url, Interval: model.Duration(time.Hour), Timeout: model.Duration(30 * time.Second),
		BodySizeLimit: config.DefaultSaturationBodySizeLimit,
	}
	switch typ {
	case contract.SaturationNginx:
		s.Max = 1024
	case contract.SaturationPHPFPM:
		s.Max = 40
	case contract.SaturationJSON:
		s.Field, s.Max = "pools.web.busy", 64
	case contract.SaturationPrometheus:
		s.Metric, s.Max = `app_busy_workers{pool="web"}`, 64
	}
	for _, f := range mod {
		f(s)
	}
	return &config.Target{Name: name, Service: "shop", URL: "http://127.0.0.1:1/", Saturation: s}
}

// hangAfter is no performance bound: it only turns an event that never
// comes into a failure instead of a hung test, with a huge margin over
// anything a loaded machine needs.
const hangAfter = time.Minute

// waitFor polls cond until it holds, failing after hangAfter.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(hangAfter); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// errorCount sums a target's failed readings over every reason; -1 when
// it has no error series.
func (m *Manager) errorCount(target string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	sum, found := 0.0, false
	for k, n := range m.errors {
		if k.target == target {
			sum, found = sum+n, true
		}
	}
	if !found {
		return -1
	}
	return sum
}

// errorReasons lists the reasons a target's readings failed with, sorted.
func (m *Manager) errorReasons(target string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rs []string
	for k := range m.errors {
		if k.target == target {
			rs = append(rs, string(k.reason))
		}
	}
	slices.Sort(rs)
	return rs
}

// exposition renders the HELP and TYPE lines of the contract plus samples.
func exposition(ratio, errs []string) string {
	var b strings.Builder
	for _, x := range []struct {
		m       contract.Metric
		samples []string
	}{{contract.SaturationErrorsTotal, errs}, {contract.SaturationRatio, ratio}} {
		if len(x.samples) == 0 {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", x.m.Name, x.m.Help, x.m.Name, x.m.Type)
		for _, s := range x.samples {
			fmt.Fprintf(&b, "%s%s\n", x.m.Name, s)
		}
	}
	return b.String()
}

func gatherAndCompare(t *testing.T, reg *prometheus.Registry, want string) {
	t.Helper()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), contract.SaturationRatio.Name, contract.SaturationErrorsTotal.Name); err != nil {
		t.Error(err)
	}
}

func TestSources(t *testing.T) {
	for _, location := range []string{"", "eu-west-1"} {
		t.Run("location="+location, func(t *testing.T) {
			o := newOrigin(t)
			m := NewManager(Options{Location: location})
			defer m.Close()
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(m.Collector())

			limit := func(s *config.Saturation) { s.BodySizeLimit = 64 << 10 }
			short := func(s *config.Saturation) { s.Timeout = model.Duration(200 * time.Millisecond) }
			m.SetTargets([]*config.Target{
				target("web", contract.SaturationNginx, o.URL+"/nginx_status"),
				target("php", contract.SaturationPHPFPM, o.URL+"/fpm-status"),
				target("api", contract.SaturationJSON, o.URL+"/health"),
				target("app", contract.SaturationPrometheus, o.URL+"/metrics"),
				target("garbage", contract.SaturationJSON, o.URL+"/garbage"),
				target("huge", contract.SaturationPrometheus, o.URL+"/huge", limit),
				target("huge-declared", contract.SaturationNginx, o.URL+"/huge-declared", limit),
				target("slow", contract.SaturationNginx, o.URL+"/slow", short),
				target("error", contract.SaturationPHPFPM, o.URL+"/missing"),
				target("invalid", "redis", o.URL+"/redis"),
				{Name: "no-saturation", URL: o.URL},
			})
			good := []string{"web", "php", "api", "app"}
			bad := []string{"garbage", "huge", "huge-declared", "slow", "error", "invalid"}
			waitFor(t, "every source was read once", func() bool {
				for _, name := range good {
					if _, _, ok := m.Get(name); !ok {
						return false
					}
				}
				for _, name := range bad {
					if m.errorCount(name) != 1 {
						return false
					}
				}
				return true
			})

			loc := ""
			if location != "" {
				loc = fmt.Sprintf("location=%q,", location)
			}
			series := func(target, source, value string) string {
				return fmt.Sprintf(`{%sservice="shop",source=%q,target=%q} %s`, loc, source, target, value)
			}
			failed := func(target, source, reason string) string {
				return fmt.Sprintf(`{%sreason=%q,service="shop",source=%q,target=%q} 1`, loc, reason, source, target)
			}
			// Good sources have no error series: one appears with a
			// reason's first failure.
			gatherAndCompare(t, reg, exposition(
				[]string{
					series("api", "json", "0.75"),
					series("app", "prometheus", "0.5"),
					series("php", "php_fpm_status", "0.425"),
					series("web", "nginx_stub_status", "0.4580078125"),
				},
				[]string{
					failed("error", "php_fpm_status", "status"),
					failed("garbage", "json", "unparsable"),
					failed("huge", "prometheus", "too_large"),
					failed("huge-declared", "nginx_stub_status", "too_large"),
					failed("invalid", "redis", "other"),
					failed("slow", "nginx_stub_status", "timeout"),
				},
			))
			if r, src, ok := m.Get("php"); !ok || r != 0.425 || src != contract.SaturationPHPFPM {
				t.Errorf("Get(php) = %v, %q, %v", r, src, ok)
			}
			for _, name := range []string{"slow", "no-saturation", "nope"} {
				if _, _, ok := m.Get(name); ok {
					t.Errorf("Get(%s) has a reading", name)
				}
			}
			if n := o.hitCount("/redis"); n != 0 {
				t.Errorf("an invalid source was fetched %d times", n)
			}
		})
	}
}

// A source that hangs, floods or fails must not hold up the others, nor a
// reload that stops it.
func TestBrokenSourcesDoNotDisturbOthers(t *testing.T) {
	o := newOrigin(t)
	m := NewManager(Options{})
	defer m.Close()
	fast := func(s *config.Saturation) { s.Interval = model.Duration(20 * time.Millisecond) }
	// Only a cancellation can end the slow reading before the test does.
	slow := func(s *config.Saturation) {
		s.Interval = model.Duration(20 * time.Millisecond)
		s.Timeout = model.Duration(time.Hour)
	}
	m.SetTargets([]*config.Target{
		target("web", contract.SaturationNginx, o.URL+"/nginx_status", fast),
		target("slow", contract.SaturationNginx, o.URL+"/slow", slow),
		target("huge", contract.SaturationPrometheus, o.URL+"/huge", fast, func(s *config.Saturation) { s.BodySizeLimit = 1 << 10 }),
		target("garbage", contract.SaturationJSON, o.URL+"/garbage", fast),
	})
	// While the slow source hangs on its first reading, the healthy one keeps
	// being read on its own schedule.
	waitFor(t, "the slow source's first reading", func() bool { return o.hitCount("/slow") >= 1 })
	waitFor(t, "the healthy source was read 5 times", func() bool { return o.hitCount("/nginx_status") >= 5 })
	waitFor(t, "the flooding and the garbled source failed", func() bool {
		return m.errorCount("huge") >= 1 && m.errorCount("garbage") >= 1
	})
	if _, _, ok := m.Get("web"); !ok {
		t.Error("healthy source has no reading")
	}
	if n := o.hitCount("/slow"); n != 1 {
		t.Errorf("slow source: %d requests, want the one that still hangs", n)
	}

	// Removing the hanging source cancels its reading: its timeout is an
	// hour, so /slow seeing its client give up is the proof.
	set := make(chan struct{})
	go func() {
		m.SetTargets([]*config.Target{target("web", contract.SaturationNginx, o.URL+"/nginx_status", fast)})
		close(set)
	}()
	for _, c := range []struct {
		what string
		c    <-chan struct{}
	}{{"SetTargets to return", set}, {"the hanging reading to be cancelled", o.slowGaveUp}} {
		select {
		case <-c.c:
		case <-time.After(hangAfter):
			t.Fatalf("still waiting for %s after %v", c.what, hangAfter)
		}
	}
	if n := m.errorCount("slow"); n != -1 {
		t.Errorf("removed target still has an error series (%v)", n)
	}
}

func TestSetTargets(t *testing.T) {
	o := newOrigin(t)
	m := NewManager(Options{})
	defer m.Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.Collector())

	a := func() *config.Target { return target("a", contract.SaturationJSON, o.URL+"/health") }
	b := func(mod ...func(*config.Saturation)) *config.Target {
		return target("b", contract.SaturationPrometheus, o.URL+"/metrics", mod...)
	}
	m.SetTargets([]*config.Target{a(), b()})
	waitFor(t, "both read", func() bool { return o.hitCount("/health") == 1 && o.hitCount("/metrics") == 1 })
	waitFor(t, "both recorded", func() bool {
		_, _, okA := m.Get("a")
		_, _, okB := m.Get("b")
		return okA && okB
	})
	pa := m.pollers["a"]

	// An equal config (new values, as a reload makes them) keeps pollers and
	// readings; a changed block restarts only its target.
	m.SetTargets([]*config.Target{a(), b(func(s *config.Saturation) { s.Max = 32 })})
	waitFor(t, "b re-read", func() bool { r, _, ok := m.Get("b"); return ok && r == 1 })
	if m.pollers["a"] != pa || o.hitCount("/health") != 1 {
		t.Errorf("unchanged target a was restarted (%d reads)", o.hitCount("/health"))
	}
	if n := o.hitCount("/metrics"); n != 2 {
		t.Errorf("changed target b: %d reads, want 2", n)
	}

	// A new service is a new series; a dropped target leaves none behind.
	moved := b(func(s *config.Saturation) { s.Max = 32 })
	moved.Service = "checkout"
	m.SetTargets([]*config.Target{moved})
	waitFor(t, "b re-read", func() bool { _, _, ok := m.Get("b"); return ok && o.hitCount("/metrics") == 3 })
	gatherAndCompare(t, reg, exposition(
		[]string{`{service="checkout",source="prometheus",target="b"} 1`},
		nil,
	))
	if _, _, ok := m.Get("a"); ok {
		t.Error("removed target a still has a reading")
	}

	// A target whose saturation block is removed stops being polled.
	noSat := b()
	noSat.Saturation = nil
	m.SetTargets([]*config.Target{noSat})
	gatherAndCompare(t, reg, "")
	if len(m.pollers) != 0 {
		t.Errorf("%d pollers left", len(m.pollers))
	}
}

// No ratio outlives a failed reading: it goes with the first failure and
// comes back with the first good reading; the log has one line for the
// failures and one for the recovery.
func TestFailuresAndRecovery(t *testing.T) {
	o := newOrigin(t)
	var logs bytes.Buffer
	m := NewManager(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer m.Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.Collector())

	m.SetTargets([]*config.Target{target("api", contract.SaturationJSON, o.URL+"/health", func(s *config.Saturation) {
		s.Interval = model.Duration(10 * time.Millisecond)
	})})
	waitFor(t, "first reading", func() bool { _, _, ok := m.Get("api"); return ok })

	// The ratio and the failure count are read under one lock: whenever a
	// failed reading is counted, the ratio is gone (how many failed readings
	// happened before the test looks depends on the scheduler, not the code).
	o.setFailing("/health", true)
	waitFor(t, "the reading went", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		failed := 0.0
		for k, n := range m.errors {
			if k.target == "api" {
				failed += n
			}
		}
		_, ok := m.pollers["api"].current()
		if failed > 0 && ok {
			t.Errorf("a ratio outlived %v failed readings", failed)
			return true
		}
		return !ok
	})
	waitFor(t, "more failures", func() bool { return m.errorCount("api") >= 4 })
	if _, _, ok := m.Get("api"); ok {
		t.Error("a ratio is exported while the source answers 500")
	}
	if got := m.errorReasons("api"); !slices.Equal(got, []string{"status"}) {
		t.Errorf("reasons %v, want [status] (a 500 is the status server's own answer, not a gateway's)", got)
	}

	o.setFailing("/health", false)
	waitFor(t, "recovered", func() bool { r, _, ok := m.Get("api"); return ok && r == 0.75 })

	m.Close()
	out := logs.String()
	if n := strings.Count(out, "saturation reading failed"); n != 1 {
		t.Errorf("%d failure lines, want 1 (rate-limited):\n%s", n, out)
	}
	if !strings.Contains(out, "source answered 500 Internal Server Error") || !strings.Contains(out, "saturation reading recovered") {
		t.Errorf("log lacks the failure or the recovery:\n%s", out)
	}
}

// What a target exports after each event: a reading (good or failed with
// a reason) or a probe result. A failed reading leaves no ratio, unless it
// failed the way a full server fails (refused, reset, timeout, gateway)
// and the target's last probe failed: then it reads 1.
func TestRecordAndTargetState(t *testing.T) {
	type event struct {
		read   *reading // a reading, or
		probe  *bool    // a probe that succeeded or not
		want   float64
		wantOK bool
	}
	ok, failed := true, false
	good := func(r float64) *reading { return &reading{ratio: r} }
	bad := func(reason contract.SaturationReason) *reading {
		return &reading{reason: reason, err: errors.New(string(reason))}
	}
	tests := []struct {
		name   string
		events []event
	}{
		{"a good reading", []event{{read: good(0.5), want: 0.5, wantOK: true}}},
		{"one failure drops the ratio", []event{
			{read: good(0.5), want: 0.5, wantOK: true},
			{read: bad(contract.SaturationUnparsable)},
			{read: good(0.25), want: 0.25, wantOK: true},
		}},
		{"refused while the target is healthy is a gap", []event{
			{probe: &ok},
			{read: bad(contract.SaturationRefused)},
		}},
		{"refused while the target fails is full", []event{
			{probe: &failed},
			{read: bad(contract.SaturationRefused), want: 1, wantOK: true},
		}},
		{"reset while the target fails is full", []event{
			{probe: &failed},
			{read: bad(contract.SaturationReset), want: 1, wantOK: true},
		}},
		{"timeout, then the probe fails: full", []event{
			{read: good(0.4), want: 0.4, wantOK: true},
			{read: bad(contract.SaturationTimeout)},
			{probe: &failed, want: 1, wantOK: true},
			{probe: &ok}, // recovered: the inference goes with its premise
			{probe: &failed, want: 1, wantOK: true},
			{read: good(0.3), want: 0.3, wantOK: true},
		}},
		{"a gateway's 504 while the target fails is full", []event{
			{probe: &failed},
			{read: bad(contract.SaturationGateway), want: 1, wantOK: true},
		}},
		{"a good reading wins over a failing target", []event{
			{probe: &failed},
			{read: good(0.2), want: 0.2, wantOK: true},
		}},
	}
	for _, r := range []contract.SaturationReason{contract.SaturationStatus, contract.SaturationTooLarge, contract.SaturationUnparsable, contract.SaturationOther} {
		tests = append(tests, struct {
			name   string
			events []event
		}{string(r) + " while the target fails is a gap", []event{{probe: &failed}, {read: bad(r)}}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(Options{})
			tg := target("t", contract.SaturationJSON, "http://127.0.0.1:1/")
			p := m.newPoller(specOf(tg))
			m.pollers["t"] = p
			failures := 0.0
			for i, ev := range tt.events {
				if ev.read != nil {
					m.record(p, *ev.read)
					if ev.read.err != nil {
						failures++
					}
				} else {
					m.Observe(tg, &probe.Result{Target: "t", Success: *ev.probe})
				}
				if r, _, ok := m.Get("t"); ok != ev.wantOK || r != ev.want {
					t.Fatalf("after event %d: %v, %v; want %v, %v", i, r, ok, ev.want, ev.wantOK)
				}
			}
			if n := m.errorCount("t"); failures > 0 && n != failures {
				t.Errorf("%v failed readings counted, want %v", n, failures)
			}
		})
	}
}

// A reading recorded by a poller that was replaced meanwhile counts
// nothing; a result of another target, or of the same name with another
// service, says nothing about this target.
func TestRecordAndObserveIgnoreOthers(t *testing.T) {
	m := NewManager(Options{})
	tg := target("t", contract.SaturationJSON, "http://127.0.0.1:1/")
	old := m.newPoller(specOf(tg))
	m.pollers["t"] = m.newPoller(specOf(tg))
	m.record(old, reading{reason: contract.SaturationRefused, err: errors.New("refused")})
	if n := m.errorCount("t"); n != -1 {
		t.Errorf("a replaced poller counted an error")
	}
	m.record(m.pollers["t"], reading{reason: contract.SaturationRefused, err: errors.New("refused")})
	other := target("other", contract.SaturationJSON, "http://127.0.0.1:1/")
	moved := target("t", contract.SaturationJSON, "http://127.0.0.1:1/")
	moved.Service = "checkout"
	for _, tg := range []*config.Target{other, moved, nil} {
		m.Observe(tg, &probe.Result{Success: false})
	}
	m.Observe(tg, nil)
	if r, _, ok := m.Get("t"); ok {
		t.Errorf("reads %v after another target's failed probe", r)
	}
	m.Observe(tg, &probe.Result{Success: false})
	if r, _, ok := m.Get("t"); !ok || r != 1 {
		t.Errorf("refused while its own probe failed: %v, %v; want 1", r, ok)
	}
}

func TestClamp(t *testing.T) {
	o := newOrigin(t)
	m := NewManager(Options{})
	defer m.Close()
	m.SetTargets([]*config.Target{target("web", contract.SaturationNginx, o.URL+"/nginx_status", func(s *config.Saturation) { s.Max = 100 })})
	waitFor(t, "reading", func() bool { _, _, ok := m.Get("web"); return ok })
	if r, _, _ := m.Get("web"); r != 1 {
		t.Errorf("291 of 100 connections: ratio %v, want 1", r)
	}
}

func TestClose(t *testing.T) {
	o := newOrigin(t)
	m := NewManager(Options{})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m.Collector())
	hour := func(s *config.Saturation) { s.Timeout = model.Duration(time.Hour) }
	m.SetTargets([]*config.Target{target("slow", contract.SaturationNginx, o.URL+"/slow", hour)})
	waitFor(t, "the slow reading started", func() bool { return o.hitCount("/slow") == 1 })
	m.Close() // returns with the reading cancelled, not after its timeout
	select {
	case <-o.slowGaveUp:
	case <-time.After(hangAfter):
		t.Fatalf("the slow reading was not cancelled within %v of Close", hangAfter)
	}
	m.Close()
	m.SetTargets([]*config.Target{target("web", contract.SaturationNginx, o.URL+"/nginx_status")})
	gatherAndCompare(t, reg, "")
	if n := o.hitCount("/nginx_status"); n != 0 {
		t.Errorf("closed manager started a poller (%d reads)", n)
	}
}

// constSource reads the same ratio from any document.
type constSource float64

func (constSource) accept() string                  { return "text/plain" }
func (c constSource) ratio([]byte) (float64, error) { return float64(c), nil }

// Whatever a source computes, a reading is a number in 0..1 or a failure:
// NaN is never exported as a ratio.
func TestReadClampsAndRejectsNaN(t *testing.T) {
	o := newOrigin(t)
	m := NewManager(Options{})
	defer m.Close()
	p := m.newPoller(specOf(target("t", contract.SaturationNginx, o.URL+"/nginx_status")))
	defer p.cancel()
	for _, tc := range []struct {
		src, want float64
		wantErr   bool
	}{
		{src: 0.25, want: 0.25},
		{src: 2.9, want: 1},
		{src: -1, want: 0},
		{src: math.Inf(1), want: 1},
		{src: math.Inf(-1), want: 0},
		{src: math.NaN(), wantErr: true},
	} {
		p.src = constSource(tc.src)
		r := p.read()
		switch {
		case tc.wantErr && (r.err == nil || r.reason != contract.SaturationUnparsable):
			t.Errorf("source ratio %v: read %v, %q, want an unparsable reading", tc.src, r.ratio, r.reason)
		case !tc.wantErr && (r.err != nil || r.ratio != tc.want):
			t.Errorf("source ratio %v: read %v, %v; want %v", tc.src, r.ratio, r.err, tc.want)
		}
	}
}

// Close leaves no kept-alive connection to a source behind (nor the
// transport goroutines that serve it).
func TestCloseClosesSourceConnections(t *testing.T) {
	var open atomic.Int64
	body := fixture(t, "nginx_stub_status.txt")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()

	m := NewManager(Options{})
	m.SetTargets([]*config.Target{target("web", contract.SaturationNginx, srv.URL+"/nginx_status")})
	waitFor(t, "a reading", func() bool { _, _, ok := m.Get("web"); return ok })
	if n := open.Load(); n != 1 {
		t.Fatalf("%d connections open after one reading, want the kept-alive one", n)
	}
	m.Close()
	waitFor(t, "the source's connection to close", func() bool { return open.Load() == 0 })
}

// Readings go out with the exporter's User-Agent and through the target's
// proxy_url, as probes do (collector/fetch holds the rule and its tests).
func TestReadingsUseTheTargetsClient(t *testing.T) {
	doc := fixture(t, "app_status.json")
	var mu sync.Mutex
	seen := map[string]string{} // request URL -> User-Agent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.String()] = r.Header.Get("User-Agent")
		mu.Unlock()
		_, _ = w.Write(doc)
	}))
	defer srv.Close()
	m := NewManager(Options{Version: "9.9.9"})
	defer m.Close()
	direct := target("direct", contract.SaturationJSON, srv.URL+"/health")
	// Only the proxy knows sat.test: the reading works only through it.
	proxied := target("proxied", contract.SaturationJSON, "http://sat.test/health")
	if err := proxied.SetProxyURL(srv.URL); err != nil {
		t.Fatal(err)
	}
	m.SetTargets([]*config.Target{direct, proxied})
	waitFor(t, "both read", func() bool {
		_, _, a := m.Get("direct")
		_, _, b := m.Get("proxied")
		return a && b
	})
	mu.Lock()
	defer mu.Unlock()
	for _, u := range []string{"/health", "http://sat.test/health"} {
		if ua, ok := seen[u]; !ok || ua != "http5xx_exporter/9.9.9" {
			t.Errorf("%s: requested %v with User-Agent %q, want http5xx_exporter/9.9.9", u, ok, ua)
		}
	}
}
