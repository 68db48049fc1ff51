package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
)

// loadConfig writes body to a temporary file and loads it like the exporter
// does, defaults and validation included.
func loadConfig(t *testing.T, body string) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "http5xx.yml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// oneTarget is a config of one target that the scheduler leaves alone for
// the length of a test (an hour's interval); tests probe it with ProbeNow.
func oneTarget(name, url, service string) string {
	return fmt.Sprintf("global:\n  interval: 1h\n  timeout: 50m\ntargets:\n  - name: %s\n    url: %s\n    service: %s\n", name, url, service)
}

// recordingSink keeps every result handed to it.
type recordingSink struct {
	mu   sync.Mutex
	seen []string // "target url code"
}

func (s *recordingSink) Observe(t *config.Target, r *probe.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, fmt.Sprintf("%s %s %d", t.Name, t.URL, r.StatusCode))
}

// skipRecorder is a SkipSink: it hears skips ("target reason"), not results.
type skipRecorder struct {
	mu    sync.Mutex
	skips []string
}

func (s *skipRecorder) Observe(*config.Target, *probe.Result) {}

func (s *skipRecorder) Skipped(target string, r contract.SkipReason, _ time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skips = append(s.skips, target+" "+string(r))
}

func (s *skipRecorder) heard() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.skips)
}

func (s *recordingSink) results() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// heldServer answers code, but only once release is closed; arrived gets
// a value when a request is being held.
func heldServer(t *testing.T, code int) (url string, arrived <-chan struct{}, release func()) {
	t.Helper()
	in := make(chan struct{}, 16)
	rel := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in <- struct{}{}
		select {
		case <-rel:
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(code)
	}))
	var once sync.Once
	release = func() { once.Do(func() { close(rel) }) }
	t.Cleanup(srv.Close)
	t.Cleanup(release) // runs before srv.Close: held handlers return first
	return srv.URL, in, release
}

// hangAfter is no performance bound: it only turns an event that never
// comes into a failure instead of a hung test, with a huge margin over
// anything a loaded machine needs.
const hangAfter = time.Minute

func waitChan[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(hangAfter):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// A probe started with ProbeNow writes into the sinks (status store, deploy
// log) that main closes right after Stop, so Stop must end it first; and
// nothing may probe or reconfigure a stopped exporter.
func TestStopEndsOnDemandProbes(t *testing.T) {
	url, arrived, _ := heldServer(t, 200)
	sink := &recordingSink{}
	e, err := New(Options{Sinks: []Sink{sink}}, loadConfig(t, oneTarget("slow", url, "slow")))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.ProbeNow(context.Background(), "slow")
		done <- err
	}()
	waitChan(t, "the on-demand probe to reach the target", arrived)
	e.Stop()
	// Stop ended the probe: ProbeNow returns, with an error. (Its caller's
	// send on done is not ordered with Stop's return, so it is waited for
	// here; that nothing reached the sinks is what Stop's wait guarantees.)
	if err := waitChan(t, "ProbeNow cut short by Stop to return", done); err == nil {
		t.Error("ProbeNow cut short by Stop returned no error")
	}
	if got := sink.results(); len(got) != 0 {
		t.Errorf("sinks got %v from a probe cut short by Stop, want nothing", got)
	}

	after := make(chan error, 1)
	go func() {
		_, err := e.ProbeNow(context.Background(), "slow")
		after <- err
	}()
	if err := waitChan(t, "ProbeNow after Stop", after); err == nil {
		t.Error("ProbeNow after Stop probed, want an error")
	}
	if err := e.Apply(loadConfig(t, oneTarget("other", url, "other"))); err == nil {
		t.Error("Apply after Stop succeeded, want an error")
	}
	if got := e.Config().Targets[0].Name; got != "slow" {
		t.Errorf("config after a refused Apply names %q, want slow", got)
	}
}

// A probe that was running while a reload changed its target belongs to the
// old target: it must not be counted under the new URL or service, nor reach
// the sinks once its target is gone.
func TestResultOfAChangedTargetIsDropped(t *testing.T) {
	for _, tc := range []struct {
		name string
		next func(newURL string) string
	}{
		{"url and service changed", func(u string) string { return oneTarget("shop", u, "shop-v2") }},
		{"target removed", func(u string) string { return oneTarget("other", u, "other") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldURL, arrived, release := heldServer(t, 500)
			fresh := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			t.Cleanup(fresh.Close)

			reg := prometheus.NewPedanticRegistry()
			sink := &recordingSink{}
			e, err := New(Options{Registerer: reg, Sinks: []Sink{sink}}, loadConfig(t, oneTarget("shop", oldURL, "shop")))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(e.Stop)
			done := make(chan probe.Result, 1)
			go func() {
				r, _ := e.ProbeNow(context.Background(), "shop")
				done <- r
			}()
			waitChan(t, "the probe to reach the old URL", arrived)
			if err := e.Apply(loadConfig(t, tc.next(fresh.URL))); err != nil {
				t.Fatal(err)
			}
			release()
			if r := waitChan(t, "the probe of the old URL", done); r.StatusCode != 500 {
				t.Fatalf("probe of the old URL answered %d (%v), want 500", r.StatusCode, r.Err)
			}
			for _, s := range sink.results() {
				t.Errorf("sink got %q, a result of the target before the reload", s)
			}
			for _, service := range []string{"shop", "shop-v2"} {
				if v, _ := responseCount(t, e.metrics, "shop", service, "500", "app", "app-team"); v != 0 {
					t.Errorf("responses_total{service=%q,code=500} = %v, want 0: the 500 came from the old URL", service, v)
				}
			}
		})
	}
}

// TestReloadIsNotAStateChange: "target is up/down" is logged at info when the
// outcome changes, not again after every reload of an unchanged target.
func TestReloadIsNotAStateChange(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer origin.Close()
	var logs syncLog
	e, err := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))},
		loadConfig(t, oneTarget("shop", origin.URL, "shop")))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	for i := range 3 {
		if i > 0 {
			if err := e.Apply(loadConfig(t, oneTarget("shop", origin.URL, "shop"))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.ProbeNow(context.Background(), "shop"); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "target is up"); n != 1 {
		t.Errorf("logged \"target is up\" %d times over two reloads of an unchanged target, want 1:\n%s", n, logs.String())
	}
}

type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A target the prober refuses fails the whole configuration, and the error
// names the target once (probe.New names it; Apply adds nothing).
func TestApplyErrorNamesTheTargetOnce(t *testing.T) {
	tg := config.NewTarget("shop", "http://127.0.0.1:1/")
	tg.Method = "NOT A METHOD"
	cfg := &config.Config{Classes: config.DefaultClasses(), Targets: []config.Target{tg}}
	e, err := New(Options{}, cfg)
	if err == nil {
		e.Stop()
		t.Fatal("a target with an invalid method was applied")
	}
	if n := strings.Count(err.Error(), `target "shop"`); n != 1 {
		t.Errorf("error names the target %d times, want once: %v", n, err)
	}
}

// TestRecordReload: the engine records what the reloader tells it. The
// first load counts as a successful reload; a failed attempt drops the
// gauge to 0 and keeps the time of the last good one.
func TestRecordReload(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer origin.Close()
	before := float64(time.Now().Unix())
	e, err := New(Options{}, loadConfig(t, oneTarget("shop", origin.URL, "shop")))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	gauges := func() (float64, float64) {
		return testutil.ToFloat64(e.metrics.ReloadOK), testutil.ToFloat64(e.metrics.ReloadTime)
	}
	ok, first := gauges()
	if ok != 1 || first < before {
		t.Fatalf("after New: successful = %v, time = %v; want 1 and a time from %v on", ok, first, before)
	}
	// The record the status page reads agrees with the gauges.
	agrees := func(state ReloadState, ok, at float64) bool {
		return state.OK == (ok == 1) && float64(state.LastSuccess.UnixNano())/1e9 == at && state.At.Compare(state.LastSuccess) >= 0
	}
	if s := e.LastReload(); !agrees(s, 1, first) || s.Err != "" {
		t.Errorf("after New: LastReload = %+v, gauges 1 and %v", s, first)
	}
	e.RecordReload(errors.New("http5xx.yml:3: targets[0].url: missing"))
	if ok, at := gauges(); ok != 0 || at != first {
		t.Errorf("after a failed reload: successful = %v, time = %v; want 0 and %v", ok, at, first)
	}
	if s := e.LastReload(); !agrees(s, 0, first) || s.Err != "http5xx.yml:3: targets[0].url: missing" {
		t.Errorf("after a failed reload: LastReload = %+v, gauges 0 and %v", s, first)
	}
	e.RecordReload(nil)
	ok, at := gauges()
	if ok != 1 || at < first {
		t.Errorf("after a good reload: successful = %v, time = %v; want 1 and a time from %v on", ok, at, first)
	}
	if s := e.LastReload(); !agrees(s, ok, at) || s.Err != "" {
		t.Errorf("after a good reload: LastReload = %+v, gauges %v and %v", s, ok, at)
	}
}

// blockingSink never returns from Observe until the test ends: a part of
// the exporter that is stuck for good.
type blockingSink struct {
	entered chan string
	release chan struct{}
}

func (s *blockingSink) Observe(t *config.Target, r *probe.Result) {
	s.entered <- t.Name
	<-s.release
}

// lockedBuffer is a log destination safe for the exporter's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A probe that cannot be ended (here: stuck in a sink, scheduled and on
// demand) holds Stop up for the grace period at most, and Stop logs which.
func TestHostileStopIsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	sink := &blockingSink{entered: make(chan string, 4), release: make(chan struct{})}
	var logs lockedBuffer
	const grace = 300 * time.Millisecond
	cfg := loadConfig(t, fmt.Sprintf("global:\n  interval: 1s\n  timeout: 500ms\ntargets:\n  - name: scheduled\n    url: %s\n"+
		"  - name: demanded\n    url: %s\n    interval: 1h\n", srv.URL, srv.URL))
	e, err := New(Options{Sinks: []Sink{sink}, StopGrace: grace, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(sink.release) })
	go e.ProbeNow(context.Background(), "demanded")
	stuck := map[string]bool{}
	for len(stuck) < 2 {
		stuck[waitChan(t, "both probes to get stuck in the sink", sink.entered)] = true
	}
	// The probes stay stuck until the test ends: Stop returning at all, and
	// saying it did not wait, is the proof that the grace period ended it.
	stopped := make(chan struct{})
	start := time.Now()
	go func() { e.Stop(); close(stopped) }()
	waitChan(t, "Stop to return despite the stuck probes", stopped)
	took := time.Since(start)
	if took < grace {
		t.Errorf("Stop returned after %v, before its grace period %v", took, grace)
	}
	for _, want := range []string{"stopped without waiting", "scheduled", "demanded (on demand)"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	t.Logf("Stop returned after %v", took)
}

// /probe goes through ProbeNow: it counts against --probe.max-concurrent,
// and when the limit stays full for the target's timeout the outcome is the
// exporter's (reason exporter), counted, and not the target's. The token
// is held until the test releases it, so reason exporter proves the wait
// was bounded; fast's timeout is long enough for a loaded machine to
// answer it once the token is back.
func TestProbeNowCountsAgainstTheConcurrencyLimit(t *testing.T) {
	held, arrived, release := heldServer(t, 200)
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(fast.Close)
	sink, skips := &recordingSink{}, &skipRecorder{}
	reg := prometheus.NewRegistry()
	cfg := loadConfig(t, fmt.Sprintf("global:\n  interval: 1h\n  timeout: 50m\ntargets:\n  - name: held\n    url: %s\n"+
		"  - name: fast\n    url: %s\n    timeout: 3s\n", held, fast.URL))
	e, err := New(Options{MaxConcurrent: 1, Sinks: []Sink{sink, skips}, Registerer: reg}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	first := make(chan error, 1)
	go func() {
		_, err := e.ProbeNow(context.Background(), "held")
		first <- err
	}()
	waitChan(t, "the first on-demand probe to hold the only token", arrived)
	type answer struct {
		r   probe.Result
		err error
	}
	waited := make(chan answer, 1)
	go func() {
		r, err := e.ProbeNow(context.Background(), "fast")
		waited <- answer{r, err}
	}()
	a := waitChan(t, "ProbeNow to give up waiting for a token", waited)
	r, err := a.r, a.err
	if err != nil {
		t.Fatal(err)
	}
	if r.Reason != contract.ReasonExporter || r.Class != "exporter" || r.Owner != "" || r.Success {
		t.Errorf("reason %q class %q owner %q success %v; want exporter, exporter, no owner, false (err %v)", r.Reason, r.Class, r.Owner, r.Success, r.Err)
	}
	if v := testutil.ToFloat64(e.metrics.skipped.WithLabelValues("fast", "fast", "exporter")); v != 1 {
		t.Errorf(`http5xx_skipped_probes_total{reason="exporter"} = %v, want 1`, v)
	}
	if got := skips.heard(); !slices.Equal(got, []string{"fast exporter"}) {
		t.Errorf("the skip sink heard %v, want [fast exporter]", got)
	}
	if got := sink.results(); len(got) != 0 {
		t.Errorf("sinks got %v: the exporter's failure is not the target's state", got)
	}
	release()
	if err := waitChan(t, "the first probe", first); err != nil {
		t.Fatal(err)
	}
	// With the token back, the same probe reaches the target.
	if r, err := e.ProbeNow(context.Background(), "fast"); err != nil || r.StatusCode != 200 {
		t.Errorf("after the token came back: code %d err %v, want 200", r.StatusCode, err)
	}
}
