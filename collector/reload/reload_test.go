package reload_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/http5xx/http5xx_exporter/collector"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/reload"
)

// setup is a config directory, an origin on loopback and a real engine
// started from the directory's config through a Source.
type setup struct {
	t      *testing.T
	dir    string
	path   string // the main config file
	origin string
	logs   *syncLog
	exp    *collector.Exporter
	engine *countingEngine
	rl     *reload.Reloader
	// applied holds what Options.Applied was told, in order.
	appliedMu sync.Mutex
	applied   []reload.Loaded
}

// config is a main file naming the targets and a glob of target files; the
// scheduler leaves the targets alone for the length of a test.
func (s *setup) config(names ...string) string {
	var b strings.Builder
	b.WriteString("global:\n  interval: 1h\n  timeout: 50m\ntarget_files: [targets/*.yml]\ntargets:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s/%s\n", n, s.origin, n)
	}
	return b.String()
}

func (s *setup) write(name, body string) {
	s.t.Helper()
	path := filepath.Join(s.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		s.t.Fatal(err)
	}
	// Write then rename so a digest never sees half a file.
	if err := os.WriteFile(path+".tmp", []byte(body), 0o644); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		s.t.Fatal(err)
	}
}

func start(t *testing.T, filter reload.Filter, hooks []reload.Hook, names ...string) *setup {
	t.Helper()
	origin := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(origin.Close)
	dir := t.TempDir()
	s := &setup{t: t, dir: dir, path: filepath.Join(dir, "http5xx.yml"), origin: origin.URL, logs: &syncLog{}}
	s.write("http5xx.yml", s.config(names...))

	src := reload.Source{Path: s.path, Filter: filter}
	first, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	if first.Digest == "" {
		t.Fatal("the first load has no digest")
	}
	s.exp, err = collector.New(collector.Options{}, first.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.exp.Stop)
	s.engine = &countingEngine{Exporter: s.exp}
	s.rl = reload.New(reload.Options{
		Source: src, Engine: s.engine, Running: first, Hooks: hooks,
		Applied: []func(reload.Loaded){func(l reload.Loaded) {
			s.appliedMu.Lock()
			defer s.appliedMu.Unlock()
			s.applied = append(s.applied, l)
		}},
		Logger: slog.New(slog.NewTextHandler(s.logs, nil)),
	})
	return s
}

func (s *setup) targets() []string {
	var names []string
	for _, t := range s.exp.Config().Targets {
		names = append(names, t.Name)
	}
	return names
}

func (s *setup) gauges() (ok, at float64) {
	m := s.exp.Metrics()
	return testutil.ToFloat64(m.ReloadOK), testutil.ToFloat64(m.ReloadTime)
}

// countingEngine is the real engine; it counts applies and fails the test
// when two overlap (the reloader must serialize them).
type countingEngine struct {
	*collector.Exporter
	applies atomic.Int32
	running atomic.Int32
	overlap atomic.Bool
}

func (e *countingEngine) Apply(cfg *config.Config) error {
	if e.running.Add(1) > 1 {
		e.overlap.Store(true)
	}
	defer e.running.Add(-1)
	e.applies.Add(1)
	time.Sleep(time.Millisecond) // widen the window an overlap would need
	return e.Exporter.Apply(cfg)
}

// TestBadReloadKeepsTheRunningConfig: whatever makes a reload fail (the
// file, its target files, or the engine refusing the result), the running
// configuration stays, the error and the log name the file, and the gauge
// drops to 0 until a good reload.
func TestBadReloadKeepsTheRunningConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(s *setup)
		want    string // in the error and the log
	}{
		{"unknown field", func(s *setup) { s.write("http5xx.yml", s.config("alpha")+"  - name: beta\n    ur1: x\n") }, "http5xx.yml:9"},
		{"broken target file", func(s *setup) { s.write("targets/a.yml", "targets: [{name: gamma}]\n") }, "a.yml:1"},
		{"missing file", func(s *setup) { os.Remove(s.path) }, "http5xx.yml"},
		{"refused by the engine", func(s *setup) {
			s.write("http5xx.yml", strings.Replace(s.config("alpha"), "global:\n", "global:\n  location: moon\n", 1))
		}, "global.location cannot change on reload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, nil, nil, "alpha")
			running := s.exp.Config()
			if ok, _ := s.gauges(); ok != 1 {
				t.Fatalf("reload gauge = %v after the first load, want 1", ok)
			}
			_, goodAt := s.gauges()

			tc.breakIt(s)
			err := s.rl.Reload("test")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("bad reload: err %v, want one containing %q", err, tc.want)
			}
			if s.exp.Config() != running {
				t.Errorf("a bad reload replaced the running configuration: targets %v", s.targets())
			}
			if ok, at := s.gauges(); ok != 0 || at != goodAt {
				t.Errorf("gauges after a bad reload = %v, %v; want 0 and the last good reload's time %v", ok, at, goodAt)
			}
			logs := s.logs.String()
			if !strings.Contains(logs, "reload failed") || !strings.Contains(logs, "file="+s.path) || !strings.Contains(logs, tc.want) {
				t.Errorf("log does not say reload failed with file=%s and %q:\n%s", s.path, tc.want, logs)
			}

			os.Remove(filepath.Join(s.dir, "targets", "a.yml"))
			s.write("http5xx.yml", s.config("alpha", "beta"))
			if err := s.rl.Reload("test"); err != nil {
				t.Fatalf("reload after the fix: %v", err)
			}
			if got := s.targets(); !slices.Equal(got, []string{"alpha", "beta"}) {
				t.Errorf("targets after the fix = %v, want [alpha beta]", got)
			}
			if ok, at := s.gauges(); ok != 1 || at < goodAt {
				t.Errorf("gauges after a good reload = %v, %v; want 1 and a time from %v on", ok, at, goodAt)
			}
		})
	}
}

// TestFilterRunsOnEveryLoad: the first load and every reload pass the
// same filter, so the engine never sees a target the filter dropped.
func TestFilterRunsOnEveryLoad(t *testing.T) {
	var calls atomic.Int32
	dropX := func(cfg *config.Config) *config.Config {
		calls.Add(1)
		out := *cfg
		out.Targets = slices.DeleteFunc(slices.Clone(cfg.Targets), func(t config.Target) bool { return strings.HasPrefix(t.Name, "x") })
		return &out
	}
	s := start(t, dropX, nil, "alpha", "xray")
	if got := s.targets(); !slices.Equal(got, []string{"alpha"}) {
		t.Errorf("targets after the first load = %v, want [alpha]", got)
	}
	s.write("http5xx.yml", s.config("alpha", "beta", "xenon"))
	if err := s.rl.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if got := s.targets(); !slices.Equal(got, []string{"alpha", "beta"}) {
		t.Errorf("targets after a reload = %v, want [alpha beta]", got)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("filter ran %d times over a start and a reload, want 2", n)
	}
	if got := reload.KeepAll(s.exp.Config()); got != s.exp.Config() {
		t.Error("KeepAll did not return its argument")
	}

	// A failed reload is not applied, so Applied hears of the start and
	// the good reload only, with the counts before the filter.
	s.write("http5xx.yml", s.config("alpha")+"  - name: broken\n")
	if err := s.rl.Reload("test"); err == nil {
		t.Fatal("a target without url reloaded")
	}
	s.appliedMu.Lock()
	defer s.appliedMu.Unlock()
	var got [][2]int
	for _, l := range s.applied {
		got = append(got, [2]int{l.Configured, len(l.Config.Targets)})
	}
	if want := [][2]int{{2, 1}, {3, 2}}; !slices.Equal(got, want) {
		t.Errorf("Applied saw (configured, kept) %v, want %v", got, want)
	}
}

// TestReloadIfChanged: the watcher reloads when a file's content changes,
// a target file included, and not again for an unchanged (even broken) one.
func TestReloadIfChanged(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	steps := []struct {
		name    string
		do      func()
		applies int32 // total so far
		targets []string
	}{
		{"nothing changed", func() {}, 0, []string{"alpha"}},
		{"rewritten with the same bytes", func() { s.write("http5xx.yml", s.config("alpha")) }, 0, []string{"alpha"}},
		{"a target file appears", func() { s.write("targets/a.yml", "targets: [{name: tf, url: "+s.origin+"/tf}]\n") }, 1, []string{"alpha", "tf"}},
		{"the main file breaks", func() { s.write("http5xx.yml", "targets: [\n") }, 1, []string{"alpha", "tf"}},
		{"still broken, unchanged", func() {}, 1, []string{"alpha", "tf"}},
		{"the main file is fixed", func() { s.write("http5xx.yml", s.config("beta")) }, 2, []string{"beta", "tf"}},
	}
	for _, st := range steps {
		st.do()
		s.rl.ReloadIfChanged()
		if n := s.engine.applies.Load(); n != st.applies {
			t.Errorf("%s: %d applies so far, want %d", st.name, n, st.applies)
		}
		if got := s.targets(); !slices.Equal(got, st.targets) {
			t.Errorf("%s: targets %v, want %v", st.name, got, st.targets)
		}
	}
	if n := strings.Count(s.logs.String(), "reload failed"); n != 1 {
		t.Errorf("logged %d failed reloads of one broken file, want 1:\n%s", n, s.logs.String())
	}
}

// TestHookFailureDoesNotStopTheReload: a hook (the deploy token file) runs
// on every reload; its failure is logged and the configuration still
// reloads.
func TestHookFailureDoesNotStopTheReload(t *testing.T) {
	var runs atomic.Int32
	hooks := []reload.Hook{{Name: "the token file", Reload: func() error {
		runs.Add(1)
		return errors.New("token file: permission denied")
	}}}
	s := start(t, nil, hooks, "alpha")
	if n := runs.Load(); n != 0 {
		t.Errorf("hook ran %d times at start, want 0 (its owner loads at start)", n)
	}
	s.write("http5xx.yml", s.config("alpha", "beta"))
	if err := s.rl.Reload("test"); err != nil {
		t.Fatal(err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("hook ran %d times on one reload, want 1", n)
	}
	if got := s.targets(); !slices.Equal(got, []string{"alpha", "beta"}) {
		t.Errorf("targets = %v, want [alpha beta]", got)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "the token file") || !strings.Contains(logs, "permission denied") {
		t.Errorf("the hook's failure is not logged:\n%s", logs)
	}
}

// TestTriggersAreSerialized: SIGHUP, /-/reload and the watcher may fire at
// once; applies never overlap and every one succeeds.
func TestTriggersAreSerialized(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	srv := httptest.NewServer(s.rl)
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(3)
		go func() {
			defer wg.Done()
			s.write(fmt.Sprintf("targets/%d.yml", i), fmt.Sprintf("targets: [{name: t%d, url: %s/t%d}]\n", i, s.origin, i))
			s.rl.ReloadIfChanged()
		}()
		go func() {
			defer wg.Done()
			if err := s.rl.Reload("SIGHUP"); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			resp, err := http.Post(srv.URL, "text/plain", nil)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("POST /-/reload = %d, want 200", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if s.engine.overlap.Load() {
		t.Error("two applies ran at once")
	}
	// Whatever order they ran in, a last check catches up with the files.
	s.rl.ReloadIfChanged()
	if n := len(s.targets()); n != 9 {
		t.Errorf("%d targets after every file was written, want 9: %v", n, s.targets())
	}
}

// TestServeHTTP: /-/reload answers 200 after a good reload and 500 naming
// file and line after a bad one.
func TestServeHTTP(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	srv := httptest.NewServer(s.rl)
	defer srv.Close()
	post := func() (int, string) {
		resp, err := http.Post(srv.URL, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(); code != 200 || body != "Reloaded.\n" {
		t.Errorf("good reload = %d %q, want 200 Reloaded.", code, body)
	}
	s.write("http5xx.yml", s.config("alpha")+"  - name: beta\n    ur1: x\n")
	if code, body := post(); code != 500 || !strings.Contains(body, s.path+":9") || !strings.Contains(body, "ur1") {
		t.Errorf("bad reload = %d %q, want 500 naming %s:9 and ur1", code, body, s.path)
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

// configMap lays out a ConfigMap volume as Kubernetes mounts it, at
// targets/ (a target_files directory): shop.yml -> ..data/shop.yml, ..data
// -> ..2026_12_06_01 holding target "one". version writes a new version
// directory holding target name, a day old; swap points ..data at one
// atomically, as the kubelet does.
func (s *setup) configMap() (mount string, version func(dir, name string), swap func(dir string)) {
	t := s.t
	mount = filepath.Join(s.dir, "targets")
	old := time.Now().Add(-24 * time.Hour)
	version = func(dir, name string) {
		t.Helper()
		p := filepath.Join(mount, dir, "shop.yml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s.targetFile(name)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	swap = func(dir string) {
		t.Helper()
		tmp := filepath.Join(mount, "..data_tmp")
		if err := os.Symlink(dir, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(mount, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_12_06_01", "one")
	swap("..2026_12_06_01")
	if err := os.Symlink(filepath.Join("..data", "shop.yml"), filepath.Join(mount, "shop.yml")); err != nil {
		t.Fatal(err)
	}
	return mount, version, swap
}

// targetFile is a target file of the named targets, each at the origin's
// /NAME: names of one length give files of one size.
func (s *setup) targetFile(names ...string) string {
	var b strings.Builder
	b.WriteString("targets:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - {name: %s, url: %s/%s}\n", n, s.origin, n)
	}
	return b.String()
}
