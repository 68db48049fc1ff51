package status

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/http5xx/http5xx_exporter/collector"
	"github.com/http5xx/http5xx_exporter/collector/api"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/shard"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// clock is a settable clock, so rate limits and ages never depend on how
// fast the test runs.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a real exporter probing a loopback origin, with the status
// handlers on a test server.
type fixture struct {
	t      *testing.T
	exp    *collector.Exporter
	store  *Store
	clock  *clock
	srv    *httptest.Server
	origin *httptest.Server
	hits   atomic.Int64 // requests the origin received
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t}
	f.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		switch r.URL.Path {
		case "/bad":
			w.WriteHeader(http.StatusBadGateway)
		case "/busy":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(f.origin.Close)

	path := filepath.Join(t.TempDir(), "http5xx.yml")
	// An hour between scheduled probes: the test drives probes itself.
	yml := "global:\n  interval: 1h\n  timeout: 5s\ntargets:\n"
	for _, n := range []string{"ok", "bad", "busy"} {
		yml += fmt.Sprintf("  - name: %s\n    url: %s/%s\n    owner: web-team\n", n, f.origin.URL, n)
		if n == "bad" {
			// bad names its own team for gateway; the others page the default owners.
			yml += "    owners:\n      gateway: edge-team\n"
		}
	}
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f.store = NewStore(0)
	f.exp, err = collector.New(collector.Options{
		Location:  "eu",
		Sinks:     []collector.Sink{f.store},
		Followers: []collector.TargetSetter{f.store},
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.exp.Stop)
	return f
}

// serve starts the handlers; call after the probes the test needs, so the
// clock starts after them.
func (f *fixture) serve(o Options) {
	f.t.Helper()
	f.clock = &clock{t: time.Now()}
	o.Store, o.Exporter, o.Now = f.store, f.exp, f.clock.Now
	h, err := NewHandler(o)
	if err != nil {
		f.t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	f.srv = httptest.NewServer(mux)
	f.t.Cleanup(f.srv.Close)
}

func (f *fixture) probe(names ...string) {
	f.t.Helper()
	for _, n := range names {
		if _, err := f.exp.ProbeNow(context.Background(), n); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) get(path string) (*http.Response, string) {
	f.t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, string(b)
}

func TestStatusAPI(t *testing.T) {
	f := newFixture(t)
	f.probe("ok", "bad", "busy")
	deployed := time.Date(2025, 3, 1, 11, 58, 0, 0, time.UTC)
	f.serve(Options{
		Deploys: DeployLookupFunc(func(service string) (string, time.Time, bool) {
			return "1.4.2", deployed, service == "bad"
		}),
		Saturation: saturationMap{"busy": 0.97},
		Maintenance: MaintenanceLookupFunc(func(service string) (time.Time, string, bool) {
			return deployed.Add(time.Hour), "database upgrade", service == "busy"
		}),
	})
	// The page marks the target in maintenance, and no other.
	_, page := f.get("/")
	marked := 0
	for _, row := range strings.Split(page, "<tr")[1:] {
		if strings.Contains(row, "in maintenance until") {
			marked++
			if !strings.Contains(row, `data-target="busy"`) || !strings.Contains(row, `title="database upgrade"`) {
				t.Errorf("maintenance marker on the wrong row: %s", row)
			}
		}
	}
	if marked != 1 {
		t.Errorf("%d rows marked in maintenance, want busy's only", marked)
	}

	resp, body := f.get(APIPath)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %s", APIPath, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var d Document
	if _, err := api.Decode(resp.StatusCode, []byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.Location != "eu" || len(d.Targets) != 3 {
		t.Fatalf("location %q with %d targets, want eu with 3", d.Location, len(d.Targets))
	}
	tests := []struct {
		name, state    string
		code           int
		class, owner   string
		defaultOwner   string
		retryAfter     float64
		deploy         string
		saturationSeen bool
	}{
		{name: "ok", state: StateUp, code: 200, class: "2xx"},
		{name: "bad", state: StateDown, code: 502, class: "gateway", owner: "edge-team", defaultOwner: "app-infra", deploy: "1.4.2"},
		{name: "busy", state: StateDown, code: 503, class: "capacity", owner: "sre-oncall", retryAfter: 30, saturationSeen: true},
	}
	for i, tt := range tests {
		ts := d.Targets[i]
		if ts.Name != tt.name || ts.State != tt.state || ts.Up != (tt.state == StateUp) || ts.Owner != "web-team" {
			t.Errorf("target %d: %s state %s up %v owner %q, want %s %s", i, ts.Name, ts.State, ts.Up, ts.Owner, tt.name, tt.state)
			continue
		}
		lp := ts.LastProbe
		if lp == nil || lp.Code != tt.code || lp.Class != tt.class || lp.Owner != tt.owner || lp.DefaultOwner != tt.defaultOwner || lp.RetryAfterSeconds != tt.retryAfter {
			t.Errorf("%s: last probe %+v, want code %d class %s owner %q default owner %q retry-after %v", tt.name, lp, tt.code, tt.class, tt.owner, tt.defaultOwner, tt.retryAfter)
			continue
		}
		if wantOwners := map[string]string{"gateway": tt.owner}; (tt.defaultOwner != "") != (ts.Owners != nil) || ts.Owners != nil && !maps.Equal(ts.Owners, wantOwners) {
			t.Errorf("%s: owners %v, want %v only when it names its own team", tt.name, ts.Owners, wantOwners)
		}
		if _, ok := lp.PhasesSeconds["connect"]; !ok {
			t.Errorf("%s: phases %v lack connect", tt.name, lp.PhasesSeconds)
		}
		if ts.Window.Probes < 1 || ts.Window.P99Seconds <= 0 || ts.Window.Seconds != 300 {
			t.Errorf("%s: window %+v, want at least one probe and a p99", tt.name, ts.Window)
		}
		if got := ts.LastDeploy; (got != nil) != (tt.deploy != "") || got != nil && (got.Version != tt.deploy || !got.Time.Equal(deployed)) {
			t.Errorf("%s: last deploy %+v, want %q", tt.name, got, tt.deploy)
		}
		if got := ts.Maintenance; (got != nil) != (tt.name == "busy") || got != nil && (!got.Until.Equal(deployed.Add(time.Hour)) || got.Reason != "database upgrade") {
			t.Errorf("%s: maintenance %+v, want only busy's", tt.name, got)
		}
		if got := ts.Saturation; (got != nil) != tt.saturationSeen || got != nil && (got.Ratio != 0.97 || got.Source != "json") {
			t.Errorf("%s: saturation %+v", tt.name, got)
		}
		if ts.History != nil {
			t.Errorf("%s: the full document carries history", tt.name)
		}
	}

	resp, body = f.get(APIPath + "?target=bad")
	if _, err := api.Decode(resp.StatusCode, []byte(body), &d); err != nil || resp.StatusCode != 200 {
		t.Fatalf("?target=bad: %d %v", resp.StatusCode, err)
	}
	if len(d.Targets) != 1 || d.Targets[0].Name != "bad" || len(d.Targets[0].History) < 1 || d.Targets[0].History[0].Code != 502 {
		t.Errorf("?target=bad: %+v, want bad alone with its history", d.Targets)
	}
	resp, body = f.get(APIPath + "?target=nope")
	_, err := api.Decode(resp.StatusCode, []byte(body), &d)
	var ae *api.Error
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" ||
		!errors.As(err, &ae) || ae.Type != api.ErrNotFound || ae.Msg != `no configured target "nope"` {
		t.Errorf("?target=nope = %d %s, want 404 not_found", resp.StatusCode, body)
	}
}

type saturationMap map[string]float64

func (m saturationMap) Get(target string) (float64, string, bool) {
	r, ok := m[target]
	return r, "json", ok
}

// stubExporter serves the golden test, whose results are made up.
type stubExporter struct{}

func (stubExporter) Location() string       { return "eu" }
func (stubExporter) Config() *config.Config { return &config.Config{} }
func (stubExporter) ProbeNow(context.Context, string) (probe.Result, error) {
	return probe.Result{}, errors.New("not in this test")
}
func (stubExporter) Gatherer(*probe.Result) (prometheus.Gatherer, error) {
	return nil, errors.New("not in this test")
}

// TestStatusDocumentGolden pins the JSON field names and their encoding.
func TestStatusDocumentGolden(t *testing.T) {
	s := NewStore(0)
	ts := targets("shop", "api", "blog", "cdn", "new")
	ts[0].Owner = "web-team"
	ts[3].URL = "https://probe:s3cret@cdn.test/health"
	ts[1].Service = "backend"
	s.SetTargets(ts)
	var phases [contract.NumPhases]time.Duration
	var seen [contract.NumPhases]bool
	for i, d := range []time.Duration{3, 1, 0, 40, 2} {
		phases[i], seen[i] = d*time.Millisecond, i != int(contract.PhaseTLS)
	}
	s.Observe(ts[0], &probe.Result{Start: t0.Add(-time.Minute), Duration: 46 * time.Millisecond, Phases: phases, PhaseSeen: seen,
		StatusCode: 200, Success: true, Verdict: triage.Verdict{Class: "2xx"}})
	s.Observe(ts[0], &probe.Result{Start: t0.Add(-30 * time.Second), Duration: 46 * time.Millisecond, Phases: phases, PhaseSeen: seen,
		StatusCode: 502, Verdict: triage.Verdict{Class: "gateway", Owner: "app-infra", Layer: "proxy", Product: "nginx"}})
	s.Observe(ts[1], &probe.Result{Start: t0.Add(-20 * time.Second), Duration: 2 * time.Second, StatusCode: 503, RetryAfter: 30 * time.Second, Verdict: triage.Verdict{Class: "gateway", Owner: "app-infra", Layer: "load_balancer", Product: "haproxy", CodeClass: "capacity", Cause: "haproxy has no server to send the request to", FirstMove: "Is the backend running?"}})
	s.Observe(ts[2], &probe.Result{Start: t0.Add(-10 * time.Second), Duration: 5 * time.Second, Reason: contract.ReasonTimeout,
		Err: errors.New("context deadline exceeded"), Verdict: triage.Verdict{Class: "timeout", Owner: "db-api-owners"}})
	s.Observe(ts[3], &probe.Result{Start: t0.Add(-3 * time.Minute), Duration: time.Second, StatusCode: 500, Verdict: triage.Verdict{Class: "app", Owner: "app-team"}})
	s.Observe(ts[3], &probe.Result{Start: t0.Add(-time.Minute), Duration: 100 * time.Millisecond, StatusCode: 200, Success: true, Verdict: triage.Verdict{Class: "2xx"},
		Conn: cdnConn()})
	h, err := NewHandler(Options{
		Store: s, Exporter: stubExporter{}, Now: func() time.Time { return t0 },
		Deploys: DeployLookupFunc(func(service string) (string, time.Time, bool) {
			return "2.0.1", t0.Add(-2 * time.Minute), service == "shop"
		}),
		Saturation: saturationMap{"api": 0.93},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.serveAPI(rec, httptest.NewRequest("GET", APIPath, nil))
	golden(t, "status.golden.json", rec.Body.Bytes())
	rec = httptest.NewRecorder()
	h.serveAPI(rec, httptest.NewRequest("GET", APIPath+"?target=shop", nil))
	golden(t, "status-target.golden.json", rec.Body.Bytes())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update and review the diff):\n%s", path, got)
	}
}

func TestStatusPage(t *testing.T) {
	f := newFixture(t)
	f.probe("ok", "bad")
	f.serve(Options{Version: "1.2.3"})

	resp, body := f.get("/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<html lang="en">`,
		`<meta http-equiv="refresh" content="10">`,
		`<caption>`,
		`<th scope="col">Last code</th>`,
		`<tr class="state-up" data-target="ok" data-state="up" data-class="2xx" data-team="web-team" data-service="ok" data-location="eu">`,
		`<th scope="row"><a href="targets/ok">ok</a></th>`,
		`<tr class="state-down" data-target="bad" data-state="down" data-class="gateway" data-team="edge-team" data-service="bad" data-location="eu">`,
		`<span class="badge badge-down">DOWN</span>`,
		`<td data-label="Class">gateway</td>`,
		`<td data-label="Team to page">edge-team <span class="note default">class default: app-infra</span></td>`,
		`<td data-label="Team to page">web-team</td>`,
		`<td data-label="Location">eu</td>`,
		`<p class="where">Location <strong>eu</strong></p>`,
		`<tr class="state-pending" data-target="busy" data-state="pending" data-class="" data-team="web-team" data-service="busy" data-location="eu">`,
		`PENDING`,
		`1 of 3 targets down, 1 not probed yet.`,
		`<a href="./metrics">Metrics</a>`,
		`<a href="./api/v1/status">Status API (JSON)</a>`,
		`<a href="./-/healthy">Health</a>`,
		`<a data-refresh="0" href="?refresh=0">Pause auto-refresh</a>`,
		`http5xx_exporter 1.2.3 · location eu`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %s", want)
		}
	}
	for _, banned := range []string{"<script src", "http://", "https://", "<link", "@import"} {
		if strings.Contains(strings.ReplaceAll(body, f.origin.URL, ""), banned) {
			t.Errorf("status page contains %q: it must work offline without external assets", banned)
		}
	}

	_, body = f.get("/?refresh=0")
	if strings.Contains(body, `http-equiv="refresh"`) || !strings.Contains(body, `<a data-refresh="" href="?">Resume auto-refresh</a>`) {
		t.Error("?refresh=0 does not pause the refresh")
	}
	if resp, _ := f.get("/nothing-here"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nothing-here = %d, want 404", resp.StatusCode)
	}
}

func TestTargetPage(t *testing.T) {
	f := newFixture(t)
	f.probe("bad", "bad", "busy")
	f.serve(Options{Refresh: -1})

	resp, body := f.get("/targets/bad")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /targets/bad = %d", resp.StatusCode)
	}
	for _, want := range []string{
		`<h1>bad <span class="badge badge-down">DOWN</span></h1>`,
		`<code>` + f.origin.URL + `/bad</code>`,
		`<th scope="col">Connect</th>`,
		`<dt>Connection</dt><dd>HTTP/1.1 over ip4, lean client</dd>`,
		`<dt>Owner (whole-target alerts)</dt><dd>web-team</dd>`,
		`<dt>Teams by class</dt><dd>gateway: edge-team (class default app-infra)</dd>`,
		`<dt>Team to page</dt><dd>edge-team <span class="note default">class default: app-infra</span></dd>`,
		`<th scope="col">Processing</th>`,
		`<span class="badge badge-down">FAILED</span>`,
		`<a href="../">← All targets</a>`,
		`<a href="../metrics">Metrics</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("target page lacks %s", want)
		}
	}
	if n := strings.Count(body, `<tr class="failed">`); n < 2 {
		t.Errorf("target page shows %d failed probes, want the 2 made", n)
	}
	if strings.Contains(body, `http-equiv="refresh"`) {
		t.Error("Refresh < 0 still refreshes")
	}

	_, body = f.get("/targets/busy")
	if !strings.Contains(body, "<dd>30 s</dd>") || !strings.Contains(body, "capacity") {
		t.Error("the busy target's page lacks Retry-After 30 s or class capacity")
	}
	for _, path := range []string{"/targets/nope", "/targets/", "/targets/%3Cscript%3E"} {
		if resp, body := f.get(path); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "<script>") {
			t.Errorf("GET %s = %d %q, want an escaped 404", path, resp.StatusCode, body)
		}
	}
}

// cdnConn is an HTTP/2 answer over TLS 1.3 whose certificate expires in 20
// days and whose chain in 5.
func cdnConn() probe.Conn {
	return probe.Conn{Protocol: contract.ProtocolHTTP2, IPFamily: contract.FamilyIP6, TLS: probe.TLSState{
		Version: contract.TLS13, Subject: "CN=cdn.test", Issuer: "CN=Test CA",
		LeafNotAfter: t0.Add(20 * 24 * time.Hour), ChainNotAfter: t0.Add(5 * 24 * time.Hour), Verified: true,
	}}
}

// TestTargetPageConnection: the target page says how the last answer came
// (protocol, IP family, TLS version) and when the certificates expire; a
// timeout afterwards changes neither.
func TestTargetPageConnection(t *testing.T) {
	s := NewStore(0)
	ts := targets("cdn")
	s.SetTargets(ts)
	s.Observe(ts[0], &probe.Result{Start: t0.Add(-time.Minute), Duration: time.Millisecond, StatusCode: 200, Success: true, Conn: cdnConn()})
	s.Observe(ts[0], &probe.Result{Start: t0.Add(-time.Second), Duration: time.Second, Reason: contract.ReasonTimeout})
	h, err := NewHandler(Options{Store: s, Exporter: stubExporter{}, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/targets/cdn", nil))
	for _, want := range []string{
		"<dt>Connection</dt><dd>HTTP/2.0 over ip6, TLS 1.3</dd>",
		"<dt>Certificate</dt><dd>CN=cdn.test (issuer CN=Test CA) expires " + t0.Add(20*24*time.Hour).UTC().Format(time.DateOnly) + " (in 20d); chain " +
			t0.Add(5*24*time.Hour).UTC().Format(time.DateOnly) + " (in 5d)</dd>",
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("target page lacks %s", want)
		}
	}
}

func TestProbeEndpoint(t *testing.T) {
	f := newFixture(t)
	f.serve(Options{})

	for _, target := range []string{"", "nope", f.origin.URL + "/ok", "http://169.254.169.254/", "../ok", "ok/", " ok"} {
		before := f.hits.Load()
		resp, body := f.get(ProbePath + "?target=" + urlQuery(target))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/probe?target=%q = %d %q, want 400", target, resp.StatusCode, body)
		}
		if f.hits.Load() != before {
			t.Errorf("/probe?target=%q reached the origin", target)
		}
	}

	resp, body := f.get(ProbePath + "?target=bad")
	if resp.StatusCode != 200 {
		t.Fatalf("/probe?target=bad = %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`http5xx_last_status_code{location="eu",service="bad",target="bad"} 502`,
		`http5xx_responses_total{class="gateway",code="502",location="eu",owner="edge-team",service="bad",target="bad"} 1`,
		`http5xx_target_up{location="eu",service="bad",target="bad"} 0`,
		`http5xx_probes_total{location="eu",service="bad",target="bad"} 1`,
		`http5xx_request_duration_seconds_count{location="eu",service="bad",target="bad"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/probe answer lacks %s", want)
		}
	}
	for _, unwanted := range []string{"http5xx_inflight_probes", "http5xx_config_last_reload", "http5xx_schedule_lag", `target="ok"`} {
		if strings.Contains(body, unwanted) {
			t.Errorf("/probe answer contains %s; it should hold only this probe's series", unwanted)
		}
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", err, problems)
	}
	if snap, _ := f.store.Snapshot("bad"); len(snap.History) == 0 {
		t.Error("the on-demand probe is not on the status page")
	}

	// One probe per target per second: bad is limited, ok is not.
	resp, _ = f.get(ProbePath + "?target=bad")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("second /probe?target=bad = %d Retry-After %q, want 429 with Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ := f.get(ProbePath + "?target=ok"); resp.StatusCode != 200 {
		t.Errorf("/probe?target=ok = %d, want 200: the limit is per target", resp.StatusCode)
	}
	f.clock.advance(time.Second)
	if resp, body := f.get(ProbePath + "?target=bad"); resp.StatusCode != 200 || !strings.Contains(body, `http5xx_probes_total{location="eu",service="bad",target="bad"} 1`) {
		t.Errorf("/probe?target=bad a second later = %d, want 200 with a fresh counter", resp.StatusCode)
	}
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23", "?", "%3F")
	return r.Replace(s)
}

func TestLimiter(t *testing.T) {
	c := &clock{t: t0}
	l := newLimiter(time.Second, c.Now)
	steps := []struct {
		advance time.Duration
		key     string
		ok      bool
		wait    time.Duration
	}{
		{0, "a", true, 0},
		{0, "a", false, time.Second},
		{0, "b", true, 0},
		{400 * time.Millisecond, "a", false, 600 * time.Millisecond},
		{600 * time.Millisecond, "a", true, 0},
		{999 * time.Millisecond, "a", false, time.Millisecond},
	}
	for i, s := range steps {
		c.advance(s.advance)
		ok, wait := l.allow(s.key)
		if ok != s.ok || wait != s.wait {
			t.Errorf("step %d (%s): allow = %v %v, want %v %v", i, s.key, ok, wait, s.ok, s.wait)
		}
	}
	for i := range limiterPrune + 10 {
		c.advance(2 * time.Second)
		l.allow(fmt.Sprint(i))
	}
	if n := len(l.next); n > limiterPrune {
		t.Errorf("limiter holds %d keys, want at most %d", n, limiterPrune)
	}
}

// TestShardInStatus: the API always says which shard this is when told;
// the page shows a line only when there is more than one shard.
func TestShardInStatus(t *testing.T) {
	tests := []struct {
		st   *shard.Status
		line string // on the page; "" for none
	}{
		{nil, ""},
		{&shard.Status{Index: 0, Count: 1, Configured: 3}, ""},
		{&shard.Status{Index: 1, Count: 4, Configured: 12, Skipped: 9}, "Shard 1 of 4: 9 of 12 configured targets are probed by the other shards."},
	}
	for _, tt := range tests {
		f := newFixture(t)
		o := Options{}
		if tt.st != nil {
			st := *tt.st
			o.Shard = func() shard.Status { return st }
		}
		f.serve(o)
		resp, body := f.get(APIPath)
		var d Document
		if _, err := api.Decode(resp.StatusCode, []byte(body), &d); err != nil {
			t.Fatal(err)
		}
		if (d.Shard == nil) != (tt.st == nil) || d.Shard != nil && *d.Shard != *tt.st {
			t.Errorf("shard %+v: the document says %+v", tt.st, d.Shard)
		}
		if tt.st != nil && !strings.Contains(body, `"skipped_targets": `) {
			t.Errorf("shard %+v: the JSON has no shard member: %s", tt.st, body)
		}
		_, page := f.get(StatusPath)
		if got := strings.Contains(page, `<p class="shard">`); got != (tt.line != "") || tt.line != "" && !strings.Contains(page, tt.line) {
			t.Errorf("shard %+v: the page's shard line is wrong (want %q)", tt.st, tt.line)
		}
	}
}

// TestLastSkip: a skipped slot shows on the target page and in the status
// document with its reason, age and count; a target never skipped shows
// neither, and a new URL starts afresh.
func TestLastSkip(t *testing.T) {
	s := NewStore(0)
	ts := targets("shop", "calm")
	s.SetTargets(ts)
	s.Skipped("shop", contract.SkipOverlap, t0.Add(-time.Hour))
	s.Skipped("shop", contract.SkipLimit, t0.Add(-90*time.Second))
	s.Skipped("gone", contract.SkipLimit, t0) // not configured: ignored
	h, err := NewHandler(Options{Store: s, Exporter: stubExporter{}, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	page := func(name string) string {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/targets/"+name, nil))
		return rec.Body.String()
	}
	tests := []struct {
		target string
		page   string // "" means no Last skipped line
		doc    *SkipStatus
	}{
		{"shop", "<dt>Last skipped</dt><dd>limit, 90 s ago (2 in all)</dd>", &SkipStatus{Reason: contract.SkipLimit, Time: t0.Add(-90 * time.Second).UTC(), Count: 2}},
		{"calm", "", nil},
	}
	snaps := s.Snapshots(time.Time{})
	for _, tt := range tests {
		body := page(tt.target)
		if tt.page == "" && strings.Contains(body, "Last skipped") || tt.page != "" && !strings.Contains(body, tt.page) {
			t.Errorf("%s: page lacks %q or shows a skip it should not", tt.target, tt.page)
		}
		for i := range snaps {
			if snaps[i].Info.Name != tt.target {
				continue
			}
			got := h.targetStatus(&snaps[i], t0, false).LastSkip
			if (got == nil) != (tt.doc == nil) || got != nil && *got != *tt.doc {
				t.Errorf("%s: last_skip %+v, want %+v", tt.target, got, tt.doc)
			}
		}
	}
	moved := *ts[0]
	moved.URL += "/moved"
	s.SetTargets([]*config.Target{&moved, ts[1]})
	if snap, _ := s.Snapshot("shop"); snap.Skip.Reason != "" {
		t.Errorf("a new URL kept the old skip %+v", snap.Skip)
	}
}
