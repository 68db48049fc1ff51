package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/http5xx/http5xx_exporter/collector/deploy"
)

const deployCLIToken = "cli-test-token-0123456789"

// deployRun parses args the way main does (an app with its own --version
// flag) and runs the deploy command with short backoffs.
func deployRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	app := kingpin.New("http5xx_exporter", "")
	app.Terminate(nil)
	app.UsageWriter(io.Discard)
	app.ErrorWriter(io.Discard)
	app.Version("test")
	c := newDeployCommand(app)
	c.backoff = 5 * time.Millisecond
	cmd, err := app.Parse(deployArgs(append([]string{"deploy"}, args...)))
	if err != nil {
		return 2, "", err.Error() // main answers a parse error with 2
	}
	if cmd != c.FullCommand() {
		t.Fatalf("parsed command %q, want %q", cmd, c.FullCommand())
	}
	// No deadline of the test's own: an attempt's deadline error can only
	// be --timeout's. hangAfter turns a run that never ends into a failure.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- c.run(ctx, &out, &errb) }()
	select {
	case code = <-done:
	case <-time.After(hangAfter):
		cancel()
		<-done
		t.Fatalf("deploy %v still running after %v", args, hangAfter)
	}
	return code, out.String(), errb.String()
}

// deployAPIServer serves a real deploy.Manager, behind an optional fault
// injector that sees each request first.
func deployAPIServer(t *testing.T, o deploy.Options, fault func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool) (*deploy.Manager, *httptest.Server) {
	t.Helper()
	o.StoragePath = t.TempDir()
	m, err := deploy.NewManager(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h := m.Handler()
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/deploys", func(w http.ResponseWriter, r *http.Request) {
		if fault != nil && fault(w, r, n.Add(1), h) {
			return
		}
		h.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return m, srv
}

func deployTokenFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeployCommandExitCodes(t *testing.T) {
	tok := deployTokenFile(t, "# deploy token\n"+deployCLIToken+"\n")
	wrong := deployTokenFile(t, "wrong-token-0123456789\n")
	closed := "http://" + refusedAddr(t)
	for _, tc := range []struct {
		name    string
		opts    deploy.Options
		first   [][]string // deploy runs that must succeed first
		fault   func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool
		args    []string // {URL} is replaced by the server's URL, {AUTHURL} by it with user:password@
		code    int
		out     string // substring of stdout
		err     string // substring of stderr
		stored  int    // events the exporter holds afterwards (-1: no check)
		version string // version of the stored event
	}{
		{name: "recorded", opts: deploy.Options{TokenFile: tok},
			args: []string{"--url", "{URL}", "--service", "checkout", "--version", "1.2.3", "--token-file", tok},
			code: 0, out: "deploy recorded: service checkout version 1.2.3 id cli-", stored: 1, version: "1.2.3"},
		{name: "every flag", opts: deploy.Options{AllowUnauthenticated: true},
			args: []string{"--url", "{URL}/", "--service", "checkout", "--version", "v2", "--timestamp", "2026-01-02T03:04:05Z",
				"--environment", "production", "--author", "Jane Doe", "--id", "run-42", "--deploy-url", "https://ci.example/42", "--timeout", "5s", "--retries", "0"},
			code: 0, out: "id run-42", stored: 1, version: "v2"},
		{name: "full API path in --url", opts: deploy.Options{AllowUnauthenticated: true},
			args: []string{"--url", "{URL}/api/v1/deploys", "--service", "a", "--version", "1"}, code: 0, stored: 1},

		{name: "wrong token: refused", opts: deploy.Options{TokenFile: tok},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--token-file", wrong},
			code: 1, err: "/api/v1/deploys: HTTP 401 bad_data: invalid bearer token", stored: 0},
		{name: "no token: refused", opts: deploy.Options{TokenFile: tok},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1"},
			code: 1, err: "HTTP 401 bad_data: missing bearer token", stored: 0},
		{name: "POST disabled: refused", opts: deploy.Options{},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1"},
			code: 1, err: "HTTP 403 unavailable: recording deploys and maintenance windows is disabled", stored: 0},
		{name: "cardinality guard: refused", opts: deploy.Options{AllowUnauthenticated: true, MaxServices: 1},
			first: [][]string{{"--url", "{URL}", "--service", "a", "--version", "1"}},
			args:  []string{"--url", "{URL}", "--service", "b", "--version", "1"},
			code:  1, err: "HTTP 422 execution: service: new service \"b\" would pass the limit of 1 services", stored: 1},
		{name: "not the deploy API: refused", fault: func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
			w.Write([]byte("<html>welcome</html>"))
			return true
		}, opts: deploy.Options{AllowUnauthenticated: true},
			args: []string{"--url", "{AUTHURL}", "--service", "a", "--version", "1"},
			code: 1, err: "http://ci:xxxxx@127.0.0.1", stored: 0},
		{name: "a page instead of the API: not an API answer", fault: func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
			w.Write([]byte("<html>welcome</html>"))
			return true
		}, opts: deploy.Options{AllowUnauthenticated: true},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1"},
			code: 1, err: "/api/v1/deploys: HTTP 200, not an API answer: <html>welcome</html>; check --url", stored: 0},
		{name: "a bare event without the envelope: not an API answer", fault: func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"x","service":"a","version":"1"}`))
			return true
		}, opts: deploy.Options{AllowUnauthenticated: true},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1"},
			code: 1, err: `HTTP 201, not an API answer: {"id":"x"`, stored: 0},
		{name: "an oversized answer: not taken", fault: func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"status":"success","data":{"id":"x","service":"a","version":"1","author":"` + strings.Repeat("x", maxAnswerBytes) + `"}}`))
			return true
		}, opts: deploy.Options{AllowUnauthenticated: true},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1"},
			code: 1, err: "HTTP 201, an answer over 65536 bytes", stored: 0},
		{name: "an error envelope with control characters: escaped", fault: func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"no\u001b[2J\nforged line"}`))
			return true
		}, opts: deploy.Options{AllowUnauthenticated: true},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1"},
			code: 1, err: `HTTP 400 bad_data: no\x1b[2J\nforged line` + "\n", stored: 0},

		{name: "503 twice, then recorded", opts: deploy.Options{AllowUnauthenticated: true},
			fault: func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
				if n <= 2 {
					http.Error(w, "warming up", http.StatusServiceUnavailable)
					return true
				}
				return false
			},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--retries", "3"},
			code: 0, out: "deploy recorded", err: "/api/v1/deploys: HTTP 503, not an API answer: warming up); retrying", stored: 1},
		{name: "answer lost after storing: the retry is not recorded twice", opts: deploy.Options{AllowUnauthenticated: true},
			fault: func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
				if n == 1 {
					// Store, then lose the answer the way a proxy would.
					next.ServeHTTP(httptest.NewRecorder(), r)
					http.Error(w, "upstream timed out", http.StatusBadGateway)
					return true
				}
				return false
			},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--retries", "2"},
			code: 0, out: "deploy already recorded", err: "HTTP 502", stored: 1},
		{name: "5xx until retries run out", opts: deploy.Options{AllowUnauthenticated: true},
			fault: func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "boom", http.StatusInternalServerError)
				return true
			},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--retries", "2"},
			code: 1, err: "/api/v1/deploys: HTTP 500, not an API answer: boom\n", stored: 0}, // the last line
		{name: "attempt timeout, then retries run out", opts: deploy.Options{AllowUnauthenticated: true},
			fault: func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
				io.Copy(io.Discard, r.Body) // so the server notices the client hang up
				<-r.Context().Done()        // only the attempt's timeout ends this
				return true
			},
			args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--retries", "1", "--timeout", "100ms"},
			code: 1, err: "not recorded after 2 attempts", stored: 0},
		{name: "connection refused", args: []string{"--url", closed, "--service", "a", "--version", "1", "--retries", "2"},
			code: 1, err: "not recorded after 3 attempts", stored: -1},

		{name: "usage: no --url", args: []string{"--service", "a", "--version", "1"}, code: 2, err: "--url is required", stored: -1},
		{name: "usage: --url not http", args: []string{"--url", "exporter:10505", "--service", "a", "--version", "1"}, code: 2, err: "--url", stored: -1},
		{name: "usage: no --service", args: []string{"--url", "{URL}", "--version", "1"}, code: 2, err: "--service is required", stored: 0},
		{name: "usage: no --version", args: []string{"--url", "{URL}", "--service", "a"}, code: 2, err: "--version is required", stored: 0},
		{name: "usage: bad --timestamp", args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--timestamp", "yesterday"},
			code: 2, err: "--timestamp: not RFC 3339", stored: 0},
		{name: "usage: bad --version", args: []string{"--url", "{URL}", "--service", "a", "--version", "1.0\n"},
			code: 2, err: "--version: control character U+000A", stored: 0},
		{name: "usage: bad --deploy-url", args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--deploy-url", "ci/42"},
			code: 2, err: "--deploy-url", stored: 0},
		{name: "usage: bad --id", args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--id", "a b"},
			code: 2, err: "--id", stored: 0},
		{name: "usage: missing token file", args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--token-file", filepath.Join(t.TempDir(), "nope")},
			code: 2, err: "--token-file", stored: 0},
		{name: "usage: empty token file", args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--token-file", deployTokenFile(t, "# none yet\n")},
			code: 2, err: "holds no token", stored: 0},
		{name: "usage: negative --retries", args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--retries", "-1"},
			code: 2, err: "--retries", stored: 0},
		{name: "usage: unknown flag", args: []string{"--url", "{URL}", "--service", "a", "--version", "1", "--colour"},
			code: 2, err: "unknown long flag", stored: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, srv := deployAPIServer(t, tc.opts, tc.fault)
			expand := func(args []string) []string {
				out := make([]string, len(args))
				for i, a := range args {
					a = strings.ReplaceAll(a, "{AUTHURL}", "http://ci:s3cret@"+srv.Listener.Addr().String())
					out[i] = strings.ReplaceAll(a, "{URL}", srv.URL)
				}
				return out
			}
			for _, pre := range tc.first {
				if code, _, errOut := deployRun(t, expand(pre)...); code != 0 {
					t.Fatalf("setup: exit %d: %s", code, errOut)
				}
			}
			args := expand(tc.args)
			code, out, errOut := deployRun(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("stdout %q (want %q)\nstderr %q (want %q)", out, tc.out, errOut, tc.err)
			}
			if tc.stored >= 0 {
				evs := m.List("", 0)
				if len(evs) != tc.stored {
					t.Errorf("exporter holds %d deploys, want %d", len(evs), tc.stored)
				}
				if tc.version != "" && len(evs) > 0 && evs[0].Version != tc.version {
					t.Errorf("stored version %q", evs[0].Version)
				}
			}
		})
	}
}

func TestDeployCommandSendsEveryField(t *testing.T) {
	m, srv := deployAPIServer(t, deploy.Options{AllowUnauthenticated: true}, nil)
	code, _, errOut := deployRun(t, "--url", srv.URL, "--service", "checkout", "--version", "v2",
		"--timestamp", "2026-01-02T03:04:05+01:00", "--environment", "production", "--author", "Jane Doe",
		"--id", "run-42", "--deploy-url", "https://ci.example/42")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ev, ok := m.Latest("checkout")
	want := deploy.Event{ID: "run-42", Service: "checkout", Version: "v2", Environment: "production",
		Author: "Jane Doe", URL: "https://ci.example/42", Source: deploy.SourceAPI, Seq: 1}
	got := ev
	got.Timestamp, got.Recorded = time.Time{}, time.Time{}
	if !ok || got != want || ev.Timestamp.Format(time.RFC3339) != "2026-01-02T02:04:05Z" {
		t.Errorf("stored %+v", ev)
	}
	// Running the same pipeline step again changes nothing.
	code, out, _ := deployRun(t, "--url", srv.URL, "--service", "checkout", "--version", "v2",
		"--timestamp", "2026-01-02T03:04:05+01:00", "--environment", "production", "--author", "Jane Doe",
		"--id", "run-42", "--deploy-url", "https://ci.example/42")
	if code != 0 || !strings.Contains(out, "already recorded") || len(m.List("", 0)) != 1 {
		t.Errorf("rerun: exit %d, %q, %d deploys", code, out, len(m.List("", 0)))
	}
	// The same id for another version is a refusal.
	code, _, errOut = deployRun(t, "--url", srv.URL, "--service", "checkout", "--version", "v3", "--id", "run-42")
	if code != 1 || !strings.Contains(errOut, "HTTP 409") {
		t.Errorf("reused id: exit %d, %q", code, errOut)
	}
}

func TestDeployBackoff(t *testing.T) {
	c := &writeClient{backoff: 500 * time.Millisecond}
	for attempt, want := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, maxBackoff, maxBackoff} {
		for range 20 {
			if d := c.wait(attempt, 0); d < want/2 || d > want {
				t.Errorf("attempt %d: %s outside [%s, %s]", attempt, d, want/2, want)
			}
		}
	}
	if d := c.wait(0, 3*time.Second); d != 3*time.Second {
		t.Errorf("Retry-After not honoured: %s", d)
	}
	if d := c.wait(63, 0); d > maxBackoff {
		t.Errorf("overflowing shift: %s", d)
	}
}

func TestDeployArgs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"deploy --url U --service S --version V", "deploy --url U --service S --service-version V"},
		{"deploy --version=V --service S", "deploy --service-version=V --service S"},
		{"--log.level debug deploy --version V", "--log.level debug deploy --service-version V"},
		{"--version", "--version"},
		{"check --version http://x", "check --version http://x"},
		{"deploy --service S -- --version", "deploy --service S -- --version"},
		{"deploy --service-version V", "deploy --service-version V"},
	} {
		if got := strings.Join(deployArgs(strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDeployThroughMain runs the command as a pipeline does, through main's
// argument handling: `deploy --version V` must record V, not print the
// exporter's version and exit 0.
func TestDeployThroughMain(t *testing.T) {
	m, srv := deployAPIServer(t, deploy.Options{AllowUnauthenticated: true}, nil)
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, []string{"deploy", "--url", srv.URL, "--service", "checkout", "--version", "1.2.3", "--retries", "0"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, &out, &errb)
	}
	if ev, ok := m.Latest("checkout"); !ok || ev.Version != "1.2.3" {
		t.Fatalf("stored %+v, %v (stdout %q)", ev, ok, &out)
	}
	errb.Reset()
	if code := run(ctx, []string{"deploy", "--url", srv.URL, "--version", "1.2.3"}, &out, &errb); code != 2 {
		t.Errorf("missing --service: exit %d, want 2 (%s)", code, &errb)
	}
}

// net/http sends an explicitly set Authorization header along a redirect
// to any port and any scheme of the same host. The bearer token is for the
// exporter at --url: a redirect elsewhere (another service on the host,
// plain http) is reported, not followed with the token.
func TestDeployDoesNotFollowRedirectsWithTheToken(t *testing.T) {
	tok := deployTokenFile(t, deployCLIToken+"\n")
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()

	code, _, stderr := deployRun(t, "--url", redirect.URL, "--service", "checkout", "--version", "1", "--token-file", tok, "--retries", "0")
	if leaked.Load() {
		t.Error("the bearer token was sent to the redirect's target")
	}
	if code != 1 || !strings.Contains(stderr, "redirect") || !strings.Contains(stderr, other.URL) {
		t.Errorf("exit %d, stderr %q; want 1 naming the redirect", code, stderr)
	}

	// A redirect within the exporter itself (same scheme, host and port)
	// is still followed.
	_, srv := deployAPIServer(t, deploy.Options{TokenFile: tok}, func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
		if r.URL.Query().Has("moved") {
			return false
		}
		http.Redirect(w, r, r.URL.Path+"?moved=1", http.StatusTemporaryRedirect)
		return true
	})
	if code, _, stderr := deployRun(t, "--url", srv.URL, "--service", "checkout", "--version", "1", "--token-file", tok); code != 0 {
		t.Errorf("same-origin redirect: exit %d, stderr %q", code, stderr)
	}
}

// TestDeployToEveryExporter: with --url once per exporter (shards,
// replicas, locations) every exporter records the deploy under one id, each
// with its own retries; one that stays unreachable fails the run, says how
// many recorded it, and does not stop the others.
func TestDeployToEveryExporter(t *testing.T) {
	flaky := func(w http.ResponseWriter, r *http.Request, n int64, next http.Handler) bool {
		if n <= 2 { // the first two attempts meet a restarting exporter
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	open := deploy.Options{AllowUnauthenticated: true}
	m0, s0 := deployAPIServer(t, open, nil)
	m1, s1 := deployAPIServer(t, open, flaky)
	m2, s2 := deployAPIServer(t, open, nil)
	gone := closedURL(t)

	code, out, errOut := deployRun(t, "--url", s0.URL, "--url", s1.URL, "--url", s2.URL, "--service", "shop", "--version", "7", "--id", "run-7")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s%s", code, out, errOut)
	}
	for i, m := range []*deploy.Manager{m0, m1, m2} {
		ev, ok := m.Latest("shop")
		if !ok || ev.ID != "run-7" || ev.Version != "7" || len(m.List("shop", 10)) != 1 {
			t.Errorf("exporter %d holds %+v (%v), want one deploy run-7 of version 7", i, ev, ok)
		}
	}
	for _, s := range []*httptest.Server{s0, s1, s2} {
		if want := "deploy recorded at " + s.URL + "/api/v1/deploys: service shop version 7 id run-7\n"; !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = deployRun(t, "--url", s0.URL, "--url", gone, "--url", s2.URL, "--service", "shop", "--version", "8", "--id", "run-8", "--retries", "1")
	if code != 1 || !strings.Contains(errOut, "recorded by 2 of 3 exporters") || strings.Count(out, "deploy recorded at ") != 2 {
		t.Errorf("one exporter gone: exit %d, want 1 naming 2 of 3:\n%s%s", code, out, errOut)
	}
	if ev, _ := m2.Latest("shop"); ev.ID != "run-8" {
		t.Errorf("the exporter after the unreachable one holds %+v, want run-8", ev)
	}

	if code, _, errOut := deployRun(t, "--url", s0.URL, "--url", s0.URL+"/", "--service", "a", "--version", "1"); code != 2 || !strings.Contains(errOut, "is given twice") {
		t.Errorf("the same exporter twice: exit %d, %q; want 2", code, errOut)
	}
}
