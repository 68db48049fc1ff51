package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"

	"github.com/http5xx/http5xx_exporter/collector"
	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/fanout"
	"github.com/http5xx/http5xx_exporter/collector/shard"
	"github.com/http5xx/http5xx_exporter/collector/status"
)

// statusOrigin answers 200 on /ok, 502 on /bad and 504 on /slow, and 502
// to probes from the location named in ?fail= (the X-Http5xx-Probe marker).
func statusOrigin(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := r.URL.Query().Get("fail"); f != "" && strings.HasPrefix(r.Header.Get("X-Http5xx-Probe"), f+"/") {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		switch r.URL.Path {
		case "/bad":
			w.WriteHeader(http.StatusBadGateway)
		case "/slow":
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// locationSpec is one exporter of a status test: its location and its
// targets as name=path pairs on the origin.
type locationSpec struct {
	location string
	targets  [][2]string
	adhoc    adhoc.Options
	wrap     func(http.Handler) http.Handler
	tls      bool
	// shard, when set, keeps that shard's targets and says so in the status.
	shard *shard.Shard
}

// startLocation runs a real exporter for spec, probes every target once and
// serves its status handlers (and /api/v1/check) on a loopback server.
func startLocation(t *testing.T, origin string, spec locationSpec) *httptest.Server {
	t.Helper()
	var yml strings.Builder
	yml.WriteString("global:\n  interval: 1h\n  timeout: 5s\ntargets:\n")
	for _, tg := range spec.targets {
		fmt.Fprintf(&yml, "  - name: %s\n    url: %s%s\n", tg[0], origin, tg[1])
	}
	path := filepath.Join(t.TempDir(), "http5xx.yml")
	if err := os.WriteFile(path, []byte(yml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	configured := len(cfg.Targets)
	if spec.shard != nil {
		cfg = spec.shard.Filter(cfg)
	}
	store := status.NewStore(0)
	exp, err := collector.New(collector.Options{
		Location: spec.location, Sinks: []collector.Sink{store}, Followers: []collector.TargetSetter{store},
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(exp.Stop)
	for _, tg := range cfg.Targets {
		if _, err := exp.ProbeNow(context.Background(), tg.Name); err != nil {
			t.Fatal(err)
		}
	}
	so := status.Options{Store: store, Exporter: exp}
	if sh := spec.shard; sh != nil {
		so.Shard = func() shard.Status {
			return shard.Status{Index: sh.Index, Count: sh.Count, Configured: configured, Skipped: configured - len(cfg.Targets)}
		}
	}
	h, err := status.NewHandler(so)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	spec.adhoc.Location, spec.adhoc.Config = spec.location, exp.Config
	checker, err := adhoc.New(spec.adhoc)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(adhoc.Path, checker)
	var handler http.Handler = mux
	if spec.wrap != nil {
		handler = spec.wrap(mux)
	}
	var srv *httptest.Server
	if spec.tls {
		srv = httptest.NewUnstartedServer(handler)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are part of the test
		srv.StartTLS()
	} else {
		srv = httptest.NewServer(handler)
	}
	t.Cleanup(srv.Close)
	return srv
}

// runStatus parses args as the status command and runs it.
func runStatus(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	app := kingpin.New("test", "")
	var stdout, stderr bytes.Buffer
	app.UsageWriter(&stderr)
	app.ErrorWriter(&stderr)
	app.Terminate(func(int) {})
	c := newStatusCommand(app)
	if _, err := app.Parse(append([]string{"status"}, args...)); err != nil {
		return 2, "", err.Error()
	}
	code := c.run(context.Background(), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// closedURL is the address of a server that is gone.
func closedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

func TestStatusMatrixAndVerdicts(t *testing.T) {
	origin := statusOrigin(t).URL
	common := [][2]string{{"shop", "/ok?fail=us"}, {"api", "/bad"}, {"blog", "/ok?fail=xx"}, {"docs", "/ok"}}
	eu := startLocation(t, origin, locationSpec{location: "eu", targets: append(common, [2]string{"only-eu", "/ok"})})
	us := startLocation(t, origin, locationSpec{location: "us", targets: common})
	ap := startLocation(t, origin, locationSpec{location: "ap", targets: [][2]string{
		{"shop", "/ok"}, {"api", "/bad"}, {"blog", "/ok"}, {"docs", "/ok"}}})
	xx := startLocation(t, origin, locationSpec{location: "xx", targets: [][2]string{
		{"shop", "/ok"}, {"api", "/bad"}, {"blog", "/ok?fail=xx"}, {"docs", "/ok"}}})
	gone := closedURL(t)

	args := []string{"--from=eu=" + eu.URL, "--from=us=" + us.URL, "--from=ap=" + ap.URL, "--from=xx=" + xx.URL, "--from=down=" + gone}
	code, out, errOut := runStatus(t, args...)
	if code != 1 {
		t.Errorf("exit %d, want 1 (not every target is OK); stderr %s", code, errOut)
	}
	for _, want := range []string{
		"TARGET   eu",
		"shop     up 200",
		"DOWN 502 gateway",
		"LOCAL: fails only from us, fine elsewhere: likely that location's network or ISP",
		"GLOBAL: fails from every location: a real outage (gateway, owner app-infra)",
		"LOCAL: fails only from xx",
		"OK from 4 locations",
		"only-eu  up 200            -                 -",
		"OK from 1 location\n",
		"down unreachable (not counted in the verdicts): ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runStatus(t, append(args, "--output=json")...)
	var m statusMatrix
	if err := json.Unmarshal([]byte(out), &m); err != nil || code != 1 {
		t.Fatalf("json: exit %d, %v\n%s", code, err, out)
	}
	want := map[string]struct {
		verdict string
		failing string
	}{
		"shop":    {fanout.VerdictLocal, "us"},
		"api":     {fanout.VerdictGlobal, "eu,us,ap,xx"},
		"blog":    {fanout.VerdictLocal, "xx"},
		"docs":    {fanout.VerdictOK, ""},
		"only-eu": {fanout.VerdictOK, ""},
	}
	if len(m.Targets) != len(want) || m.OK {
		t.Errorf("%d targets, ok %v; want %d, false", len(m.Targets), m.OK, len(want))
	}
	for _, mt := range m.Targets {
		w := want[mt.Name]
		if mt.Verdict != w.verdict || strings.Join(mt.Failing, ",") != w.failing {
			t.Errorf("%s: %s failing %v, want %s failing %s", mt.Name, mt.Verdict, mt.Failing, w.verdict, w.failing)
		}
		if last := mt.Results[len(mt.Results)-1]; last.State != cellUnreachable {
			t.Errorf("%s: the closed location is %q, want unreachable", mt.Name, last.State)
		}
	}
	if l := m.Locations[4]; l.Reachable || l.Error == "" || m.Locations[0].ExporterLocation != "eu" {
		t.Errorf("locations %+v", m.Locations)
	}
}

func TestStatusPartialAndAllOK(t *testing.T) {
	origin := statusOrigin(t).URL
	spec := func(loc string) locationSpec {
		return locationSpec{location: loc, targets: [][2]string{{"shop", "/ok?fail=" + loc}, {"docs", "/ok"}}}
	}
	eu, us, ap := startLocation(t, origin, spec("eu")), startLocation(t, origin, spec("us")), startLocation(t, origin, spec("ap"))
	code, out, _ := runStatus(t, "--from=eu="+eu.URL, "--from=us="+us.URL, "--from=ap="+ap.URL+"/")
	if code != 1 || !strings.Contains(out, "GLOBAL") {
		t.Errorf("exit %d, want 1 with GLOBAL for shop:\n%s", code, out)
	}
	ok := func(loc string) locationSpec {
		return locationSpec{location: loc, targets: [][2]string{{"shop", "/ok?fail=zz"}, {"docs", "/ok"}}}
	}
	eu, us = startLocation(t, origin, ok("eu")), startLocation(t, origin, ok("us"))
	if code, out, _ := runStatus(t, "--from=eu="+eu.URL, "--from=us="+us.URL); code != 0 || strings.Contains(out, "DOWN") {
		t.Errorf("all fine: exit %d, want 0:\n%s", code, out)
	}
	// An unreachable location alongside healthy ones does not fail the run.
	if code, _, _ := runStatus(t, "--from=eu="+eu.URL, "--from=gone="+closedURL(t)); code != 0 {
		t.Errorf("one healthy and one unreachable location: exit %d, want 0", code)
	}
	if code, out, _ := runStatus(t, "--from=gone="+closedURL(t)); code != 1 || !strings.Contains(out, "gone unreachable") {
		t.Errorf("only an unreachable location: exit %d, want 1:\n%s", code, out)
	}

	// Three locations, two failing: PARTIAL.
	p := func(loc string) locationSpec {
		return locationSpec{location: loc, targets: [][2]string{{"shop", "/ok?fail=" + map[string]string{"eu": "eu", "us": "us", "ap": "zz"}[loc]}}}
	}
	eu, us, ap = startLocation(t, origin, p("eu")), startLocation(t, origin, p("us")), startLocation(t, origin, p("ap"))
	code, out, _ = runStatus(t, "--from=eu="+eu.URL, "--from=us="+us.URL, "--from=ap="+ap.URL)
	if code != 1 || !strings.Contains(out, "PARTIAL: fails from eu, us, fine elsewhere") {
		t.Errorf("exit %d, want 1 with PARTIAL:\n%s", code, out)
	}
}

func TestStatusAuthAndTLS(t *testing.T) {
	origin := statusOrigin(t).URL
	targets := [][2]string{{"shop", "/ok"}}
	basic := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "prom" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="http5xx"`)
				http.Error(w, "Unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	authed := startLocation(t, origin, locationSpec{location: "eu", targets: targets, wrap: basic})
	tlsSrv := startLocation(t, origin, locationSpec{location: "us", targets: targets, tls: true})

	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	if err := os.WriteFile(ca, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	withUser := strings.Replace(authed.URL, "http://", "http://prom:s3cret@", 1)
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"no credentials", []string{"--from=eu=" + authed.URL}, 1, "eu unreachable (not counted in the verdicts): http://127.0.0.1"},
		{"no credentials, the answer", []string{"--from=eu=" + authed.URL}, 1, "/api/v1/status: HTTP 401, not an API answer: Unauthorized"},
		{"userinfo", []string{"--from=eu=" + withUser}, 0, "shop    up 200"},
		{"password file", []string{"--from=eu=" + authed.URL, "--auth.user=prom", "--auth.password-file=" + pw}, 0, "up 200"},
		{"wrong user", []string{"--from=eu=" + authed.URL, "--auth.user=nobody", "--auth.password-file=" + pw}, 1, "HTTP 401"},
		{"unknown CA", []string{"--from=us=" + tlsSrv.URL}, 1, "certificate"},
		{"CA file", []string{"--from=us=" + tlsSrv.URL, "--tls.ca-file=" + ca}, 0, "up 200"},
		{"insecure", []string{"--from=us=" + tlsSrv.URL, "--tls.insecure"}, 0, "up 200"},
	}
	for _, tt := range tests {
		code, out, errOut := runStatus(t, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.out) {
			t.Errorf("%s: exit %d, output %q %q; want %d containing %q", tt.name, code, out, errOut, tt.code, tt.out)
		}
		if strings.Contains(out, "s3cret") {
			t.Errorf("%s: the output shows the password", tt.name)
		}
	}
}

func TestStatusLocationsFile(t *testing.T) {
	origin := statusOrigin(t).URL
	eu := startLocation(t, origin, locationSpec{location: "eu", targets: [][2]string{{"shop", "/ok"}}})
	us := startLocation(t, origin, locationSpec{location: "us", targets: [][2]string{{"shop", "/bad"}}})
	dir := t.TempDir()
	files := map[string]string{
		"plain.txt":  "# the fleet\neu=" + eu.URL + "\n\n  us = " + us.URL + "  \n",
		"fleet.yml":  "eu: " + eu.URL + "\nus: '" + us.URL + "'\n",
		"shards.yml": "eu: [" + eu.URL + "]\nus:\n  - " + us.URL + "\n",
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runStatus(t, "--locations.file="+path)
		if code != 1 || !strings.Contains(out, "TARGET  eu      us") || !strings.Contains(out, "LOCAL: fails only from us") {
			t.Errorf("%s: exit %d:\n%s%s", name, code, out, errOut)
		}
	}
}

func TestStatusUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("eu=http://127.0.0.1:1\njust-a-name\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		msg  string
	}{
		{nil, "no locations"},
		{[]string{"--from=eu"}, "want NAME=URL"},
		{[]string{"--from==http://x"}, "want NAME=URL"},
		{[]string{"--from=e u=http://x"}, "location name"},
		{[]string{"--from=eu=ftp://x"}, "not an http or https URL"},
		{[]string{"--from=eu=http://a", "--from=eu=http://a/"}, `location "eu" lists http://a twice`},
		{[]string{"--from=eu=http://a", "--auth.password-file=" + bad}, "needs --auth.user"},
		{[]string{"--from=eu=http://a", "--tls.ca-file=" + bad}, "no PEM certificates"},
		{[]string{"--locations.file=" + bad}, bad + ":2: want NAME=URL"},
		{[]string{"--locations.file=" + filepath.Join(dir, "missing")}, "--locations.file"},
		{[]string{"--from=eu=http://a", "--output=xml"}, "xml"},
	}
	for _, tt := range tests {
		code, _, errOut := runStatus(t, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 mentioning %q", tt.args, code, errOut, tt.msg)
		}
	}
}

// hostileLocation serves body as every answer, like a broken or compromised
// exporter would.
func hostileLocation(t *testing.T, body []byte) string {
	t.Helper()
	return hostileAnswer(t, http.StatusOK, body)
}

// hostileAnswer serves code and body as every answer.
func hostileAnswer(t *testing.T, code int, body []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// envelope wraps data in a success answer of the api envelope.
func envelope(data []byte) []byte {
	return slices.Concat([]byte(`{"status":"success","data":`), data, []byte("}"))
}

// allocated is how many bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A location's answer is bounded in bytes; what it decodes to must stay
// bounded too: tiny JSON values that each become a large Go value (probes
// of a history, targets) must not blow a few MiB up into gigabytes.
func TestStatusBoundsWhatAHostileAnswerDecodesTo(t *testing.T) {
	const size = 2 << 20
	history := []byte(`{"location":"evil","targets":[{"name":"shop","state":"up","history":[{}`)
	for len(history) < size {
		history = append(history, ",{}"...)
	}
	history = envelope(append(history, "]}]}"...))
	targets := []byte(`{"location":"evil","targets":[{}`)
	for len(targets) < size {
		targets = append(targets, ",{}"...)
	}
	targets = envelope(append(targets, "]}"...))

	for _, tc := range []struct {
		name string
		body []byte
		out  string
	}{
		{"a long history", history, "OK from 1 location"},
		{"too many targets", targets, "evil unreachable (not counted in the verdicts): "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := hostileLocation(t, tc.body)
			var out string
			n := allocated(func() { _, out, _ = runStatus(t, "--from=evil="+url) })
			if !strings.Contains(out, tc.out) {
				t.Errorf("output lacks %q:\n%.500s", tc.out, out)
			}
			t.Logf("a %d MiB answer allocated %d MiB", size>>20, n>>20)
			if n > 32*size {
				t.Errorf("a %d MiB answer allocated %d MiB", size>>20, n>>20)
			}
		})
	}
}

// Target names, classes and errors come from other exporters; printed as
// they are they could drive the terminal (escape sequences) or forge lines
// of the matrix (newlines, carriage returns).
func TestStatusTextOutputEscapesRemoteText(t *testing.T) {
	url := hostileLocation(t, envelope([]byte(`{"location":"evil","targets":[
		{"name":"shop\n\u001b[2Jdocs\tup 200","state":"down","last_probe":{"code":502,"class":"gateway\u001b]0;pwned\u0007","owner":"x\r"}}]}`)))
	_, out, _ := runStatus(t, "--from=evil="+url)
	if strings.ContainsAny(out, "\x1b\x07\r") {
		t.Errorf("control characters reach the terminal:\n%q", out)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d lines, want the header and one target:\n%s", n, out)
	}
	if !strings.Contains(out, `shop\n\x1b[2Jdocs\tup 200`) {
		t.Errorf("the name is not shown escaped:\n%s", out)
	}
}

// TestStatusReadsTheEnvelope walks what a location may answer: only the
// data of a success envelope counts; anything else makes the location
// unreachable with a bounded message naming it and the answer's errorType
// and error.
func TestStatusReadsTheEnvelope(t *testing.T) {
	const unreachable = "evil unreachable (not counted in the verdicts): http://127.0.0.1:"
	for _, tc := range []struct {
		name string
		code int
		body []byte
		out  []string // substrings of the output
	}{
		{"success", 200, envelope([]byte(`{"location":"evil","targets":[{"name":"shop","state":"up","last_probe":{"code":200}}]}`)),
			[]string{"shop    up 200  OK from 1 location"}},
		{"error envelope", 404, []byte(`{"status":"error","errorType":"not_found","error":"no configured target \"x\""}`),
			[]string{unreachable, `/api/v1/status: HTTP 404 not_found: no configured target "x"` + "\n"}},
		{"error envelope with a 200", 200, []byte(`{"status":"error","errorType":"internal","error":"boom"}`),
			[]string{unreachable, "/api/v1/status: HTTP 200 internal: boom\n"}},
		{"error envelope with control characters", 400, []byte(`{"status":"error","errorType":"bad\u001b[2J","error":"x\n\rforged"}`),
			[]string{`/api/v1/status: HTTP 400 bad\x1b[2J: x\n\rforged` + "\n"}},
		{"a long error is cut", 500, []byte(`{"status":"error","errorType":"internal","error":"` + strings.Repeat("x", 1<<20) + `"}`),
			[]string{"/api/v1/status: HTTP 500 internal: " + strings.Repeat("x", 512) + "...\n"}},
		{"not JSON", 502, []byte("<html>\n<h1>502 Bad Gateway</h1>\n</html>"),
			[]string{unreachable, "/api/v1/status: HTTP 502, not an API answer: <html>\n"}},
		{"a bare document", 200, []byte(`{"location":"evil","targets":[]}`),
			[]string{unreachable, `/api/v1/status: HTTP 200, not an API answer: {"location":"evil","targets":[]}` + "\n"}},
		{"over 16 MiB", 200, envelope([]byte(`{"location":"evil","targets":[],"pad":"` + strings.Repeat("x", maxRemoteBody) + `"}`)),
			[]string{"evil unreachable (not counted in the verdicts): the answer of http://127.0.0.1:", "/api/v1/status is over 16777216 bytes\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := runStatus(t, "--from=evil="+hostileAnswer(t, tc.code, tc.body))
			want := 1
			if tc.name == "success" {
				want = 0
			}
			if code != want {
				t.Errorf("exit %d, want %d", code, want)
			}
			if strings.ContainsAny(out, "\x1b\r") {
				t.Errorf("control characters reach the terminal:\n%q", out)
			}
			for _, want := range tc.out {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%.1000s", want, out)
				}
			}
		})
	}
}

// TestStatusUnderstandsShards: a location given once per exporter (two
// shards, one of them with two replicas) shows every target once, from the
// shard that probes it; a shard that does not answer makes its targets
// unreachable there, not absent; and a target that fails where it is the
// only result is UNKNOWN, not GLOBAL.
func TestStatusUnderstandsShards(t *testing.T) {
	origin := statusOrigin(t).URL
	var targets [][2]string
	for i := range 8 {
		targets = append(targets, [2]string{fmt.Sprintf("t%d", i), "/ok"})
	}
	targets = append(targets, [2]string{"shop", "/ok?fail=eu"})
	start := func(loc string, index int) string {
		return startLocation(t, origin, locationSpec{location: loc, targets: targets, shard: &shard.Shard{Index: index, Count: 2}}).URL
	}
	eu := []string{start("eu", 0), start("eu", 0), start("eu", 1)} // shard 0 has two replicas
	us := []string{start("us", 0), start("us", 1)}
	args := []string{"--output=json"}
	for _, u := range eu {
		args = append(args, "--from=eu="+u)
	}
	withUS := append(slices.Clone(args), "--from=us="+us[0], "--from=us="+us[1])

	code, out, errOut := runStatus(t, withUS...)
	var m statusMatrix
	if err := json.Unmarshal([]byte(out), &m); err != nil || code != 1 {
		t.Fatalf("exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if len(m.Targets) != len(targets) || len(m.Locations) != 2 || len(m.Locations[0].Exporters) != 3 {
		t.Fatalf("%d targets in %d locations (%d exporters in eu), want %d in 2 (3)", len(m.Targets), len(m.Locations), len(m.Locations[0].Exporters), len(targets))
	}
	for _, mt := range m.Targets {
		want := fanout.VerdictOK
		if mt.Name == "shop" {
			want = fanout.VerdictLocal
		}
		if mt.Verdict != want || mt.Results[0].State == cellAbsent || mt.Results[1].State == cellAbsent {
			t.Errorf("%s: %s (%+v), want %s with a result from both locations", mt.Name, mt.Verdict, mt.Results, want)
		}
	}

	// The us shard that owns shop stops answering.
	owner := shard.Owner("shop", 2)
	partial := append(slices.Clone(args), "--from=us="+us[1-owner], "--from=us="+closedURL(t))
	code, out, errOut = runStatus(t, partial...)
	m = statusMatrix{}
	if err := json.Unmarshal([]byte(out), &m); err != nil || code != 1 {
		t.Fatalf("exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if !m.Locations[1].Reachable || m.Locations[1].Error == "" {
		t.Errorf("us: %+v, want reachable with the error of its silent exporter", m.Locations[1])
	}
	for _, mt := range m.Targets {
		us := mt.Results[1]
		wantUS := cellUnreachable
		if shard.Owner(mt.Name, 2) != owner {
			wantUS = status.StateUp
		}
		want := fanout.VerdictOK
		if mt.Name == "shop" {
			want = fanout.VerdictUnknown
		}
		if us.State != wantUS || mt.Verdict != want {
			t.Errorf("%s: us %s, verdict %s (%s); want us %s, verdict %s", mt.Name, us.State, mt.Verdict, mt.Summary, wantUS, want)
		}
	}
	_, text, _ := runStatus(t, partial[1:]...)
	for _, want := range []string{"UNKNOWN: fails from eu, the only location with a result", "us: an exporter did not answer"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}
