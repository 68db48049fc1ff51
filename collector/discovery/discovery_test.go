package discovery_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/discovery"
)

// write replaces a file atomically, as inventory tools should.
func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// load writes the main config into dir and loads it.
func load(t *testing.T, dir, body string) *config.Config {
	t.Helper()
	path := filepath.Join(dir, "http5xx.yml")
	write(t, path, body)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newManager(t *testing.T) *discovery.Manager {
	t.Helper()
	m := discovery.New(discovery.Options{Watch: 10 * time.Millisecond})
	t.Cleanup(m.Close)
	return m
}

// summary renders the targets as name=url service owner, one a line.
func summary(cfg *config.Config) string {
	var lines []string
	for _, t := range cfg.Targets {
		lines = append(lines, fmt.Sprintf("%s=%s %s %s", t.Name, t.URL, t.Service, t.Owner))
	}
	return strings.Join(lines, "\n")
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const relabel = `
relabel_configs:
  - source_labels: [__meta_team]
    target_label: owner
  - source_labels: [app, __address__]
    separator: "@"
    target_label: name
    regex: "(.+)@(.+):.*"
    replacement: "${1}.${2}"
  - source_labels: [health]
    regex: "(.+)"
    target_label: __metrics_path__
  - source_labels: [env]
    regex: test
    action: drop
`

// TestRelabel: the labels relabel_configs see and what they become.
func TestRelabel(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "sd", "a.json"), `[
	  {"targets": ["web-1:8080", "web-2:8080"], "labels": {"app": "shop", "__meta_team": "web-team", "health": "/healthz"}},
	  {"targets": ["db:5432"], "labels": {"env": "test"}},
	  {"targets": ["api.example.com"], "labels": {"__scheme__": "https", "service": "api"}}
	]`)
	cfg := load(t, dir, "targets:\n  - name: static\n    url: http://127.0.0.1:1/\nfile_sd_configs:\n  - files: [sd/*.json]\n"+relabel)
	got, err := newManager(t).Discover(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"static=http://127.0.0.1:1/ static ",
		"shop.web-1=http://web-1:8080/healthz shop.web-1 web-team",
		"shop.web-2=http://web-2:8080/healthz shop.web-2 web-team",
		"api.example.com=https://api.example.com/ api ",
	}, "\n")
	if s := summary(got); s != want {
		t.Errorf("targets:\n%s\nwant:\n%s", s, want)
	}
	if len(cfg.Targets) != 1 {
		t.Error("Discover changed its argument")
	}
	// Labels left after relabelling, but for name, url, service, owner and
	// the reserved __ ones, are the target's labels.
	for i, want := range []map[string]string{nil, {"app": "shop", "health": "/healthz"}, {"app": "shop", "health": "/healthz"}, nil} {
		if tg := got.Targets[i]; !maps.Equal(tg.Labels, want) {
			t.Errorf("%s: labels %v, want %v", tg.Name, tg.Labels, want)
		}
	}
	if d := got.Targets[1]; d.Interval != cfg.Global.Interval || d.Method != "GET" || d.File != filepath.Join(dir, "sd", "a.json") {
		t.Errorf("a discovered target lacks the defaults or its file: %+v", d)
	}
}

// TestDiscoveredTeams: owner_<class> labels, written by the source or by
// relabelling, name the target's team for the class; its service's teams
// fill the rest, and neither becomes a label of the target.
func TestDiscoveredTeams(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "sd", "a.json"), `[
	  {"targets": ["checkout:80"], "labels": {"service": "shop", "owner": "web-team", "owner_app": "checkout-team", "__meta_edge_team": "edge-team"}},
	  {"targets": ["cart:80"], "labels": {"service": "shop"}},
	  {"targets": ["blog:80"], "labels": {"team": "web"}}
	]`)
	cfg := load(t, dir, `
services:
  - name: shop
    owners: {app: shop-team, capacity: shop-oncall}
file_sd_configs:
  - files: [sd/*.json]
relabel_configs:
  - source_labels: [__meta_edge_team]
    regex: "(.+)"
    target_label: owner_gateway
`)
	got, err := newManager(t).Discover(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]config.ClassTeam{
		"checkout:80": {{Class: "app", Team: "checkout-team", DefaultOwner: "app-team"}, {Class: "gateway", Team: "edge-team", DefaultOwner: "app-infra"}, {Class: "capacity", Team: "shop-oncall", DefaultOwner: "sre-oncall"}},
		"cart:80":     {{Class: "app", Team: "shop-team", DefaultOwner: "app-team"}, {Class: "capacity", Team: "shop-oncall", DefaultOwner: "sre-oncall"}},
		"blog:80":     nil,
	}
	if len(got.Targets) != len(want) {
		t.Fatalf("discovered %s, want %d targets", summary(got), len(want))
	}
	for _, tg := range got.Targets {
		if !reflect.DeepEqual(tg.Teams, want[tg.Name]) {
			t.Errorf("%s: teams %+v, want %+v", tg.Name, tg.Teams, want[tg.Name])
		}
		for l := range tg.Labels {
			if strings.HasPrefix(l, "owner") {
				t.Errorf("%s: %s became a label of the target", tg.Name, l)
			}
		}
	}
	if o := got.Targets[0].Owner; o != "web-team" {
		t.Errorf("checkout's owner %q, want web-team (the whole-target team)", o)
	}
}

// TestBadDiscoveredTargets: a discovered target is validated as a
// configured one, and the error says where it came from.
func TestBadDiscoveredTargets(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{`[{"targets": ["a b:80"]}]`, `[0].targets[0].name: "a b:80" may only hold`},
		{`[{"targets": ["x:80"], "labels": {"url": "ftp://x/"}}]`, `[0].targets[0].url: "ftp://x/" is not an http or https URL`},
		{`[{"targets": ["static:80"], "labels": {"name": "static"}}]`, `[0].targets[0].name: "static" is already defined at `},
		{`[{"targets": ["x:80"]}, {"targets": ["x:80"]}]`, `[1].targets[0].name: "x:80" is already defined at `},
		{`[{"targets": ["x:80"], "labels": {"job": "web"}}]`, `[0].targets[0].labels.job: "job" is reserved`},
		{`[{"targets": ["x:80"], "labels": {"owner_gatway": "edge-team"}}]`, `[0].targets[0].owners.gatway: "gatway" is not a class of the class table (app, gateway, capacity, timeout, network)`},
		{`[{"targets": ["x:80"], "labels": {"owner_app": "checkout team"}}]`, `[0].targets[0].owners.app: "checkout team" may only hold`},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		sd := filepath.Join(dir, "sd.json")
		write(t, sd, tt.file)
		cfg := load(t, dir, "targets:\n  - name: static\n    url: http://127.0.0.1:1/\nfile_sd_configs:\n  - files: [sd.json]\n")
		_, err := newManager(t).Discover(cfg)
		if err == nil || !strings.Contains(err.Error(), sd+": "+tt.want) {
			t.Errorf("%s: error %v, want %q", tt.file, err, sd+": "+tt.want)
		}
	}
}

// TestFileSD: changes are seen through an atomic rename; a broken file
// keeps its last good targets and is counted; a removed file takes its
// targets with it.
func TestFileSD(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "sd", "a.yml"), filepath.Join(dir, "sd", "b.json")
	write(t, a, "- targets: ['a1:80']\n")
	write(t, b, `[{"targets": ["b1:80"]}]`)
	cfg := load(t, dir, "file_sd_configs:\n  - files: [sd/*.yml, sd/*.json]\n")
	m := newManager(t)
	names := func() string {
		got, err := m.Discover(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, t := range got.Targets {
			ns = append(ns, t.Name)
		}
		return strings.Join(ns, " ")
	}
	if got := names(); got != "a1:80 b1:80" {
		t.Fatalf("targets %q at start", got)
	}
	steps := []struct {
		do       func()
		want     string
		failures uint64 // after the step
	}{
		{func() { write(t, a, "- targets: ['a1:80', 'a2:80']\n") }, "a1:80 a2:80 b1:80", 0},
		{func() { write(t, b, `[{"targets": ["b1:80"]`) }, "a1:80 a2:80 b1:80", 1},                 // truncated JSON
		{func() { write(t, b, `[{"targets": ["b2:80"], "lables": {}}]`) }, "a1:80 a2:80 b1:80", 2}, // unknown field
		{func() { write(t, b, `[{"targets": ["b2:80"]}]`) }, "a1:80 a2:80 b2:80", 2},
		{func() { os.Remove(a) }, "b2:80", 2},
	}
	for i, s := range steps {
		s.do()
		eventually(t, fmt.Sprintf("step %d: %q and %d failures", i, s.want, s.failures), func() bool {
			return names() == s.want && m.Failures(contract.SDFile) == s.failures
		})
	}
	select {
	case <-m.Changed():
	default:
		t.Error("Changed did not fire after the files changed")
	}
}

// inventory is a real loopback http_sd endpoint whose answer a test sets.
type inventory struct {
	mu      sync.Mutex
	answer  func(w http.ResponseWriter, r *http.Request)
	headers http.Header
}

func (inv *inventory) set(f func(w http.ResponseWriter, r *http.Request)) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.answer = f
}

func (inv *inventory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	inv.mu.Lock()
	f := inv.answer
	inv.headers = r.Header.Clone()
	inv.mu.Unlock()
	f(w, r)
}

func list(body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

// TestHTTPSD: a refresh that fails in any way (an error status, a wrong
// type, an oversized or endless answer, no answer in time) keeps the last
// good list and is counted; a good one replaces it.
func TestHTTPSD(t *testing.T) {
	inv := &inventory{answer: list(`[{"targets": ["one:80"], "labels": {"service": "s"}}]`)}
	srv := httptest.NewServer(inv)
	defer srv.Close()
	stop := make(chan struct{})
	defer close(stop)

	dir := t.TempDir()
	write(t, filepath.Join(dir, "token"), "s3cret\n")
	cfg := load(t, dir, fmt.Sprintf(`http_sd_configs:
  - url: %s/sd?key=hidden
    refresh_interval: 1s
    timeout: 500ms
    body_size_limit: 1KiB
    authorization:
      credentials_file: token
`, srv.URL))
	m := newManager(t)
	names := func() string {
		got, err := m.Discover(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, t := range got.Targets {
			ns = append(ns, t.Name)
		}
		return strings.Join(ns, " ")
	}
	// A new source is read once before Discover returns: its list, or a
	// failure when the read missed its 500 ms on a loaded machine; then the
	// next refresh (every second) brings the list.
	if got := names(); got != "one:80" && m.Failures(contract.SDHTTP) == 0 {
		t.Fatalf("targets %q at start, and no failed read counted", got)
	}
	eventually(t, "the first list", func() bool { return names() == "one:80" })
	inv.mu.Lock()
	h := inv.headers
	inv.mu.Unlock()
	if h.Get("Authorization") != "Bearer s3cret" || h.Get("X-Prometheus-Refresh-Interval-Seconds") != "1" {
		t.Errorf("request headers %v lack the credentials or the refresh interval", h)
	}

	steps := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		want   string
	}{
		{"HTTP 500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, "one:80"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>") }, "one:80"},
		{"bad list", list(`{"targets": ["x"]}`), "one:80"},
		{"oversized", list(`[{"targets": ["` + strings.Repeat("x", 2000) + `:80"]}]`), "one:80"},
		{"no answer in time", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		}, "one:80"},
		{"endless body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `[{"targets": [`)
			w.(http.Flusher).Flush()
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		}, "one:80"},
		{"good again", list(`[{"targets": ["one:80", "two:80"]}]`), "one:80 two:80"},
	}
	for _, s := range steps {
		before := m.Failures(contract.SDHTTP)
		inv.set(s.answer)
		wantFailure := s.want == "one:80"
		eventually(t, s.name, func() bool {
			if wantFailure {
				return m.Failures(contract.SDHTTP) > before
			}
			return names() == s.want
		})
		if got := names(); got != s.want {
			t.Errorf("%s: targets %q, want %q", s.name, got, s.want)
		}
	}
	metrics := `# HELP http5xx_sd_refresh_failures_total ` + contract.SDRefreshFailuresTotal.Help + `
# TYPE http5xx_sd_refresh_failures_total counter
http5xx_sd_refresh_failures_total{location="eu",mechanism="file"} 0
http5xx_sd_refresh_failures_total{location="eu",mechanism="http"} %d
`
	if err := testutil.CollectAndCompare(m.Collector("eu"), strings.NewReader(fmt.Sprintf(metrics, m.Failures(contract.SDHTTP)))); err != nil {
		t.Error(err)
	}
	if n := m.Failures(contract.SDHTTP); n < 6 {
		t.Errorf("%d failed refreshes counted, want at least 6", n)
	}
}

// TestSourcesFollowTheConfig: a source whose settings did not change keeps
// running across a reload (its list is not fetched again), a removed one
// stops.
func TestSourcesFollowTheConfig(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		list(`[{"targets": ["one:80"]}]`)(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	body := fmt.Sprintf("http_sd_configs:\n  - url: %s\n    refresh_interval: 1h\n", srv.URL)
	m := newManager(t)
	for range 3 {
		if _, err := m.Discover(load(t, dir, body)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.Discover(load(t, dir, "targets: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 1 || len(got.Targets) != 0 {
		t.Errorf("%d fetches over three loads of one source, %d targets after removing it; want 1 and 0", hits, len(got.Targets))
	}
}

// TestCloseEndsARunningFetch: stopping the exporter does not wait for an
// inventory that holds a refresh open (here for up to an hour).
func TestCloseEndsARunningFetch(t *testing.T) {
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		if n == 1 {
			list(`[{"targets": ["one:80"]}]`)(w, r)
			return
		}
		once.Do(func() { close(held) })
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release) // lets srv.Close return if Close did not end the fetch
	// Changed after loading: validation keeps timeout <= refresh_interval,
	// and refresh_interval >= 1s.
	cfg := load(t, t.TempDir(), "http_sd_configs:\n  - url: "+srv.URL+"\n")
	cfg.HTTPSDConfigs[0].RefreshInterval = model.Duration(10 * time.Millisecond)
	cfg.HTTPSDConfigs[0].Timeout = model.Duration(time.Hour)
	m := discovery.New(discovery.Options{})
	if _, err := m.Discover(cfg); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("no refresh after the first read")
	}
	closed := make(chan struct{})
	go func() { m.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close waited for a held refresh")
	}
	if n := m.Failures(contract.SDHTTP); n != 0 {
		t.Errorf("the refresh Close ended counts as %d failures, want 0", n)
	}
}
