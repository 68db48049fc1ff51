package deploy

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/selector"
)

// origin is a loopback server whose version can be switched, like the demo
// origin's PUT /-/version: every answer carries X-App-Version and /info
// serves it as JSON.
type origin struct {
	mu      sync.Mutex
	version string
	info    string // body of /info; %s is the version
	status  int    // status of / (0: 200)
	infos   int    // requests /info answered
}

// infoPolls is how many requests /info answered so far.
func (o *origin) infoPolls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.infos
}

func (o *origin) set(f func(o *origin)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f(o)
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	v, info, status := o.version, o.info, o.status
	o.mu.Unlock()
	if r.URL.Path == "/info" {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, info, v)
		o.set(func(o *origin) { o.infos++ }) // after the answer: a counted poll has been answered
		return
	}
	if status == http.StatusBadGateway {
		// A proxy's error page: no version header.
		w.WriteHeader(status)
		return
	}
	w.Header().Set("X-App-Version", v)
	w.WriteHeader(max(status, 200))
}

// probeOnce does what the prober hands the exporter: one GET, its result.
func probeOnce(t *testing.T, target *config.Target) *probe.Result {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return &probe.Result{Target: target.Name, Start: start, StatusCode: resp.StatusCode, Header: resp.Header}
}

func detected(m *Manager, service string) []Event {
	var out []Event
	for _, ev := range m.List(service, 0) {
		if ev.Source == SourceDetected {
			out = append(out, ev)
		}
	}
	return out
}

func TestVersionHeaderDetection(t *testing.T) {
	o := &origin{version: "1.0.0"}
	srv := httptest.NewServer(o)
	defer srv.Close()
	dir := t.TempDir()
	target := &config.Target{Name: "web", Service: "shop", URL: srv.URL, VersionHeader: "x-app-version"}
	m, logs := openManager(t, dir, Options{})
	m.SetTargets([]*config.Target{target})

	probeN := func(n int) {
		for range n {
			m.Observe(target, probeOnce(t, target))
		}
	}
	settle := func() { m.bg.Wait() } // detected deploys are stored in the background

	probeN(3)
	settle()
	if evs := detected(m, "shop"); len(evs) != 0 {
		t.Fatalf("first sighting recorded a deploy: %+v", evs)
	}

	o.set(func(o *origin) { o.version = "1.1.0" })
	probeN(3)
	settle()
	evs := detected(m, "shop")
	if len(evs) != 1 {
		t.Fatalf("after one change: %d deploys", len(evs))
	}
	if ev := evs[0]; ev.Version != "1.1.0" || ev.PreviousVersion != "1.0.0" || ev.Target != "web" || ev.Service != "shop" || ev.Seq != 1 {
		t.Errorf("detected %+v", ev)
	}

	// A proxy error page without the header says nothing; the version stays.
	o.set(func(o *origin) { o.status = http.StatusBadGateway })
	probeN(2)
	o.set(func(o *origin) { o.status = 0 })
	probeN(1)
	// A value that cannot be a label is ignored (and logged once).
	o.set(func(o *origin) { o.version = strings.Repeat("9", MaxLabelLen+1) })
	probeN(2)
	settle()
	if n := len(detected(m, "shop")); n != 1 {
		t.Errorf("proxy error or invalid value recorded a deploy: %d", n)
	}
	if c := strings.Count(logs.String(), "cannot be a label value"); c != 1 {
		t.Errorf("invalid value logged %d times", c)
	}

	// A reload with the same target keeps the baseline.
	o.set(func(o *origin) { o.version = "1.1.0" })
	m.SetTargets([]*config.Target{{Name: "web", Service: "shop", URL: srv.URL, VersionHeader: "x-app-version"}})
	probeN(1)
	o.set(func(o *origin) { o.version = "1.2.0" })
	probeN(1)
	settle()
	if got := versions(detected(m, "shop")); got != "1.2.0,1.1.0" {
		t.Errorf("detected %q", got)
	}
	if ev, _ := m.Latest("shop"); ev.Version != "1.2.0" {
		t.Errorf("current version %q", ev.Version)
	}
	m.Close()

	// After a restart the first sighting is a baseline again, even when the
	// version changed meanwhile.
	o.set(func(o *origin) { o.version = "1.3.0" })
	m, _ = openManager(t, dir, Options{})
	probeN(2)
	settle()
	if got := versions(detected(m, "shop")); got != "1.2.0,1.1.0" {
		t.Errorf("after restart: %q", got)
	}
}

// Probes of one target can overlap (an on-demand /probe next to the
// schedule) and report out of order: an answer that is older than the last
// one seen is stale and must not record a deploy back to the old version
// (and then another one forward again).
func TestStaleVersionSightingIsIgnored(t *testing.T) {
	m, _ := openManager(t, t.TempDir(), Options{})
	target := &config.Target{Name: "web", Service: "shop", URL: "http://origin.test/", VersionHeader: "X-App-Version"}
	m.SetTargets([]*config.Target{target})
	answer := func(start time.Time, took time.Duration, version string) *probe.Result {
		return &probe.Result{Target: "web", Start: start, Duration: took, StatusCode: 200,
			Header: http.Header{"X-App-Version": {version}}}
	}
	t0 := testNow
	m.Observe(target, answer(t0, 10*time.Millisecond, "1.0")) // baseline
	// A slow probe starts at t0+1s and sees 1.0 at about t0+1s; the deploy
	// happens; a fast probe started at t0+2s sees 2.0 and reports first.
	m.Observe(target, answer(t0.Add(2*time.Second), 10*time.Millisecond, "2.0"))
	m.Observe(target, answer(t0.Add(time.Second), 100*time.Millisecond, "1.0"))
	// The next scheduled probe sees 2.0 again.
	m.Observe(target, answer(t0.Add(3*time.Second), 10*time.Millisecond, "2.0"))
	m.bg.Wait()
	if got := versions(detected(m, "shop")); got != "2.0" {
		t.Errorf("detected %q, want the one deploy 2.0", got)
	}
}

func TestObserveWithoutVersionHeaderIsANoop(t *testing.T) {
	m, _ := openManager(t, t.TempDir(), Options{})
	target := &config.Target{Name: "web"}
	r := &probe.Result{Header: http.Header{"X-App-Version": {"1"}}}
	m.Observe(target, r)
	m.Observe(nil, r)
	m.Observe(&config.Target{Name: "web", VersionHeader: "X-App-Version"}, nil)
	if allocs := testing.AllocsPerRun(100, func() { m.Observe(target, r) }); allocs != 0 {
		t.Errorf("Observe without version_header allocates %v times", allocs)
	}
	if len(m.seen) != 0 {
		t.Errorf("state kept for a target without version_header: %v", m.seen)
	}
}

func TestVersionURLDetection(t *testing.T) {
	o := &origin{version: "1.0.0", info: `{"build":{"version":"%s","time":"x"},"items":[1]}`}
	srv := httptest.NewServer(o)
	defer srv.Close()
	target := &config.Target{
		Name: "api", Service: "api-svc", URL: srv.URL,
		VersionURL: srv.URL + "/info", VersionField: "build.version",
		Interval: model.Duration(20 * time.Millisecond), Timeout: model.Duration(time.Second),
	}
	m, logs := openManager(t, t.TempDir(), Options{})
	m.SetTargets([]*config.Target{target})
	baseline := func() string {
		m.dmu.Lock()
		defer m.dmu.Unlock()
		if s := m.seen[sightingKey{"api", kindURL}]; s != nil {
			return s.version
		}
		return ""
	}
	waitFor(t, hangAfter, "the baseline", func() bool { return baseline() == "1.0.0" })
	morePolls(t, o, 3) // of the same version
	if evs := detected(m, "api-svc"); len(evs) != 0 {
		t.Fatalf("first sighting recorded a deploy: %+v", evs)
	}

	o.set(func(o *origin) { o.version = "1.1.0" })
	waitFor(t, hangAfter, "the detected deploy", func() bool { return len(detected(m, "api-svc")) == 1 })
	if ev := detected(m, "api-svc")[0]; ev.Version != "1.1.0" || ev.PreviousVersion != "1.0.0" || ev.Target != "api" {
		t.Errorf("detected %+v", ev)
	}

	// Broken documents are logged, not recorded.
	o.set(func(o *origin) { o.info = `{"build":{}}%.0s` })
	waitFor(t, hangAfter, "the warning", func() bool { return strings.Contains(logs.String(), "version_url unreadable") })
	o.set(func(o *origin) { o.info = `{"build":{"version":"%s"}}` })
	morePolls(t, o, 3) // of the good document again
	if n := len(detected(m, "api-svc")); n != 1 {
		t.Errorf("a broken document recorded a deploy: %d", n)
	}

	// A removed target stops being polled.
	m.SetTargets(nil)
	m.dmu.Lock()
	np := len(m.pollers)
	m.dmu.Unlock()
	if np != 0 {
		t.Fatalf("%d pollers after removing the target", np)
	}
	o.set(func(o *origin) { o.version = "9.9.9" })
	time.Sleep(100 * time.Millisecond)
	if n := len(detected(m, "api-svc")); n != 1 {
		t.Errorf("a removed target recorded a deploy: %d", n)
	}
}

func TestVersionURLBounds(t *testing.T) {
	slow := make(chan struct{})
	defer close(slow)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/huge":
			fmt.Fprintf(w, `{"version":"1","pad":"%s"}`, strings.Repeat("x", int(config.VersionBodySizeLimit)))
		case "/slow":
			select {
			case <-slow:
			case <-r.Context().Done():
			}
		case "/500":
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	field, err := selector.ParseField("version")
	if err != nil {
		t.Fatal(err)
	}
	// Only /slow may reach its deadline (the server holds it until then);
	// the others get a timeout no loaded machine reaches, so they fail on
	// the bound they test.
	for _, tc := range []struct {
		path, want string
		timeout    time.Duration
	}{
		{"/huge", "over", time.Minute},
		{"/slow", "deadline", 200 * time.Millisecond},
		{"/500", "HTTP 500", time.Minute},
	} {
		poll := config.VersionPoll{Interval: time.Second, Timeout: tc.timeout, BodySizeLimit: config.VersionBodySizeLimit}
		target := &config.Target{Name: "x", VersionURL: srv.URL + tc.path}
		c, err := fetch.New(target, fetch.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = fetchVersion(t.Context(), c, target, field, poll)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.path, err, tc.want)
		}
	}
}

func TestJSONField(t *testing.T) {
	for _, tc := range []struct{ doc, path, want, err string }{
		{`{"version":"1.2.3"}`, "version", "1.2.3", ""},
		{`{"version":" 1.2.3 "}`, "version", "1.2.3", ""},
		{`{"build":{"version":"abc"}}`, "build.version", "abc", ""},
		{`{"items":[{"v":"x"},{"v":"y"}]}`, "items.1.v", "y", ""},
		{`{"build":{"number":1234567890123}}`, "build.number", "1234567890123", ""},
		{`{"version":1.5}`, "version", "1.5", ""},
		{`{"version":null}`, "version", "", "null"},
		{`{"version":""}`, "version", "", "empty"},
		{`{"version":true}`, "version", "", "not a string or number"},
		{`{"version":{"a":1}}`, "version", "", "not a string or number"},
		// The walk is selector.Field.Lookup's, with its wording.
		{`{"build":{}}`, "build.version", "", `no "build.version"`},
		{`{"items":[1]}`, "items.3", "", `"3" is no index`},
		{`{"version":"1"}`, "version.major", "", `"version" is not an object or array`},
		{`<html>`, "version", "", "not JSON"},
	} {
		field, err := selector.ParseField(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := versionIn([]byte(tc.doc), field)
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("%s %s: %q %v, want %q", tc.doc, tc.path, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s %s: %v, want an error containing %q", tc.doc, tc.path, err, tc.err)
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	m, _ := openManager(b, b.TempDir(), Options{})
	r := &probe.Result{Start: time.Now(), Header: http.Header{"X-App-Version": {"1.0.0"}}}
	b.Run("no version_header", func(b *testing.B) {
		t := &config.Target{Name: "web"}
		for b.Loop() {
			m.Observe(t, r)
		}
	})
	b.Run("unchanged version", func(b *testing.B) {
		t := &config.Target{Name: "web", VersionHeader: "X-App-Version"}
		for b.Loop() {
			m.Observe(t, r)
		}
	})
}

// version_url is read with the exporter's User-Agent and through the
// target's proxy_url, as probes are (collector/fetch holds the rule and its
// tests); a target Load would have refused is logged, not polled.
func TestVersionURLUsesTheTargetsClient(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{} // request URL -> User-Agent
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.String()] = r.Header.Get("User-Agent")
		mu.Unlock()
		fmt.Fprint(w, `{"build":{"version":"7.0"}}`)
	}))
	defer proxy.Close()
	m, logs := openManager(t, t.TempDir(), Options{Version: "9.9.9"})
	loaded := func(name string) *config.Target {
		tg := config.NewTarget(name, "http://version.test/")
		tg.VersionURL, tg.VersionField = "http://version.test/info", "build.version"
		if err := tg.SetProxyURL(proxy.URL); err != nil {
			t.Fatal(err)
		}
		return &tg
	}
	badField := loaded("bad-field")
	badField.VersionField = "build..version"
	noInterval := loaded("no-interval")
	noInterval.Interval = 0
	m.SetTargets([]*config.Target{loaded("api"), badField, noInterval})
	waitFor(t, hangAfter, "the baseline through the proxy", func() bool {
		m.dmu.Lock()
		defer m.dmu.Unlock()
		s := m.seen[sightingKey{"api", kindURL}]
		return s != nil && s.version == "7.0"
	})
	mu.Lock()
	ua, ok := seen["http://version.test/info"]
	mu.Unlock()
	if !ok || ua != "http5xx_exporter/9.9.9" {
		t.Errorf("proxy asked: %v, User-Agent %q; want http5xx_exporter/9.9.9", ok, ua)
	}
	if c := strings.Count(logs.String(), "cannot poll version_url"); c != 2 {
		t.Errorf("%d targets refused, want 2:\n%s", c, logs)
	}
}

// morePolls waits until the version poller has taken n more answers of
// o's /info into account: it polls one at a time, so once the server has
// answered one poll beyond them, those n were taken in.
func morePolls(t *testing.T, o *origin, n int) {
	t.Helper()
	want := o.infoPolls() + n + 1
	waitFor(t, hangAfter, fmt.Sprintf("%d more version polls", n), func() bool { return o.infoPolls() >= want })
}
