package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/loopback"
)

// syncBuffer collects a server's log output across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr returns a loopback address that is free now, below the
// kernel's ephemeral range (examples/loopback says why).
func freeAddr(t *testing.T) string {
	t.Helper()
	p, err := loopback.Port()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", p)
}

// exporterUnderTest runs the real serve command in-process on loopback.
type exporterUnderTest struct {
	t    *testing.T
	addr string
	logs *syncBuffer
	done chan int
	stop context.CancelFunc
}

func startExporter(t *testing.T, args ...string) *exporterUnderTest {
	t.Helper()
	e := &exporterUnderTest{t: t, addr: freeAddr(t), logs: &syncBuffer{}, done: make(chan int, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	args = append([]string{"--web.listen-address=" + e.addr, "--log.level=debug"}, args...)
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--storage.path") }) {
		args = append(args, "--storage.path="+t.TempDir())
	}
	go func() { e.done <- run(ctx, args, io.Discard, e.logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-e.done:
		case <-time.After(hangAfter):
			t.Errorf("exporter did not stop within %v", hangAfter)
		}
		if t.Failed() {
			t.Logf("exporter log:\n%s", e.logs.String())
		}
	})
	e.waitFor("the web server", func() bool { code, _ := e.get("/-/healthy"); return code == 200 })
	return e
}

func (e *exporterUnderTest) get(path string) (int, string) {
	return codeAndBody(http.Get("http://" + e.addr + path))
}

func (e *exporterUnderTest) post(path string) (int, string) {
	return codeAndBody(http.Post("http://"+e.addr+path, "text/plain", nil))
}

// codeAndBody reads a response to the end: its code and body, or 0 and the error.
func codeAndBody(resp *http.Response, err error) (int, string) {
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of the series matching re's first group, or -1.
func (e *exporterUnderTest) metric(series string) float64 {
	_, body := e.get("/metrics")
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func (e *exporterUnderTest) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(hangAfter)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s", what)
}

func writeConfig(t *testing.T, path, body string) {
	t.Helper()
	// Write then rename so a watcher never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func targetsYAML(origin string, names ...string) string {
	var b strings.Builder
	b.WriteString("global:\n  interval: 1s\n  timeout: 500ms\ntargets:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s/%s\n", n, origin, n)
	}
	return b.String()
}

func probes(name string) string {
	return fmt.Sprintf(`http5xx_probes_total{service=%q,target=%q}`, name, name)
}

func TestReloadKeepsCountersAndRunningConfig(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer origin.Close()
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, targetsYAML(origin.URL, "alpha"))
	e := startExporter(t, "--config.file="+cfg, "--config.watch-interval=0")

	if code, _ := e.get("/-/ready"); code != 200 {
		t.Fatalf("/-/ready = %d after the first config, want 200", code)
	}
	e.waitFor("alpha to be probed twice", func() bool { return e.metric(probes("alpha")) >= 2 })
	if v := e.metric("http5xx_config_last_reload_successful"); v != 1 {
		t.Errorf("reload gauge = %v at start, want 1", v)
	}

	// Add a target: alpha's counter survives, beta appears.
	before := e.metric(probes("alpha"))
	writeConfig(t, cfg, targetsYAML(origin.URL, "alpha", "beta"))
	if code, body := e.post("/-/reload"); code != 200 {
		t.Fatalf("reload = %d %s", code, body)
	}
	if after := e.metric(probes("alpha")); after < before {
		t.Errorf("alpha's counter went from %v to %v across a reload", before, after)
	}
	e.waitFor("beta to be probed", func() bool { return e.metric(probes("beta")) >= 1 })

	// Break the file: the reload fails with file and line, everything stays.
	writeConfig(t, cfg, targetsYAML(origin.URL, "alpha", "beta")+"  - name: gamma\n    ur1: x\n")
	code, body := e.post("/-/reload")
	if code != 500 || !strings.Contains(body, cfg+":") || !strings.Contains(body, "ur1") {
		t.Errorf("broken reload = %d %q, want 500 naming %s:LINE and field ur1", code, body, cfg)
	}
	if v := e.metric("http5xx_config_last_reload_successful"); v != 0 {
		t.Errorf("reload gauge = %v after a bad reload, want 0", v)
	}
	if code, _ := e.get("/-/ready"); code != 200 {
		t.Errorf("/-/ready = %d after a bad reload, want 200 (the running config stays)", code)
	}
	n := e.metric(probes("beta"))
	e.waitFor("beta to keep being probed", func() bool { return e.metric(probes("beta")) > n })

	// Fix it, dropping alpha: alpha's series go, the gauge recovers.
	writeConfig(t, cfg, targetsYAML(origin.URL, "beta"))
	if code, body := e.post("/-/reload"); code != 200 {
		t.Fatalf("reload after fix = %d %s", code, body)
	}
	if v := e.metric("http5xx_config_last_reload_successful"); v != 1 {
		t.Errorf("reload gauge = %v after a good reload, want 1", v)
	}
	if v := e.metric(probes("alpha")); v != -1 {
		t.Errorf("removed target alpha still exported (%v)", v)
	}
	if code, _ := e.get("/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload = %d, want 405", code)
	}
}

func TestReloadOnFileChangeAndSIGHUP(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer origin.Close()
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, targetsYAML(origin.URL, "one"))
	e := startExporter(t, "--config.file="+cfg, "--config.watch-interval=50ms")
	e.waitFor("one to be probed", func() bool { return e.metric(probes("one")) >= 1 })

	writeConfig(t, cfg, targetsYAML(origin.URL, "one", "two"))
	e.waitFor("the watcher to pick up two", func() bool { return e.metric(probes("two")) >= 1 })

	// SIGHUP is caught by the exporter (signal.Notify), so it is safe to send to ourselves.
	e2 := startExporter(t, "--config.file="+cfg, "--config.watch-interval=0")
	writeConfig(t, cfg, targetsYAML(origin.URL, "one", "two", "three"))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	e2.waitFor("SIGHUP to load three", func() bool { return e2.metric(probes("three")) >= 1 })
}

func TestConfigCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	writeConfig(t, good, targetsYAML("http://127.0.0.1:1", "a"))
	writeConfig(t, bad, "targets:\n  - name: a\n    url: ftp://x\n")
	sd := filepath.Join(dir, "sd.yml")
	writeConfig(t, sd, targetsYAML("http://127.0.0.1:1", "a")+"file_sd_configs:\n  - files: [sd/*.json]\n")
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"config", "check", good}, 0, "OK"},
		{[]string{"config", "check", sd}, 0, "OK, 1 targets from 1 files and 1 discovery config(s) (read when serving)"},
		{[]string{"config", "check", bad}, 2, bad + ":3"},
		{[]string{"--config.check", "--config.file=" + good}, 0, "OK"},
		{[]string{"--config.check", "--config.file=" + bad}, 2, "targets[0].url"},
		{[]string{"config", "check"}, 2, "required"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		code := run(context.Background(), tt.args, &out, &out)
		if code != tt.code || !strings.Contains(out.String(), tt.out) {
			t.Errorf("%v: exit %d, output %q; want exit %d containing %q", tt.args, code, out.String(), tt.code, tt.out)
		}
	}
}

// TestRoutes walks the handler tree: every route answers the methods it
// serves, and another method on its path gets 405 with Allow.
func TestRoutes(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer origin.Close()
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, targetsYAML(origin.URL, "alpha"))
	e := startExporter(t, "--config.file="+cfg, "--config.watch-interval=0")

	tests := []struct {
		method, path string
		code         int
		body         string // a part of the body; "" checks nothing
		allow        string // the Allow header of a 405
	}{
		{"GET", "/metrics", 200, "http5xx_probes_total", ""},
		{"HEAD", "/metrics", 200, "", ""},
		{"GET", "/-/healthy", 200, "Healthy.", ""},
		{"GET", "/-/ready", 200, "Ready.", ""},
		{"POST", "/-/reload", 200, "Reloaded.", ""},
		{"PUT", "/-/reload", 200, "Reloaded.", ""},
		{"GET", "/-/reload", 405, "", "POST, PUT"},
		{"DELETE", "/-/reload", 405, "", "POST, PUT"},
		{"GET", "/", 200, "alpha", ""},
		{"GET", "/targets/alpha", 200, "alpha", ""},
		{"GET", "/api/v1/status", 200, `"alpha"`, ""},
		{"GET", "/badge/alpha.svg", 200, `<svg xmlns="http://www.w3.org/2000/svg"`, ""},
		{"HEAD", "/badge/alpha.svg", 200, "", ""},
		{"GET", "/badge/nope.svg", 404, "unknown target", ""},
		{"POST", "/badge/alpha.svg", 405, "", "GET, HEAD"},
		{"GET", "/probe?target=alpha", 200, "http5xx_probes_total", ""},
		{"POST", "/probe?target=alpha", 405, "", "GET, HEAD"},
		{"GET", "/about", 200, "http5xx_exporter", ""},
		{"GET", "/api/v1/deploys", 200, "", ""},
		{"POST", "/api/v1/deploys", 403, "", ""}, // reaches the API: no auth is configured
		{"DELETE", "/api/v1/deploys", 405, `"errorType": "bad_data"`, "GET, HEAD, POST"},
		{"POST", "/api/v1/status", 405, `"status": "error"`, "GET, HEAD"},
		{"GET", "/api/v1/check?url=http://example.com/", 404, "adhoc.enable", ""},
		{"POST", "/api/v1/check", 405, `"errorType": "bad_data"`, "GET, HEAD"},
		{"GET", "/check?url=http://example.com/", 404, "the global status checker is off", ""},
		{"POST", "/check", 405, "", "GET, HEAD"},
		{"GET", "/nope", 404, "", ""},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, "http://"+e.addr+tt.path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.body) {
			t.Errorf("%s %s = %d %.200q, want %d containing %q", tt.method, tt.path, resp.StatusCode, b, tt.code, tt.body)
		}
		if got := resp.Header.Get("Allow"); tt.allow != "" && got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}

// TestAdhocPeersNeedAdhocChecks: the global checker's peers are refused at
// start without ad-hoc checks, or with this location's own name.
func TestAdhocPeersNeedAdhocChecks(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, targetsYAML("http://127.0.0.1:1", "a"))
	tests := []struct {
		args []string
		log  string
	}{
		{[]string{"--adhoc.peer=us=http://127.0.0.1:1"}, "--adhoc.peer and --adhoc.peers.file need --adhoc.enable"},
		{[]string{"--adhoc.enable", "--adhoc.allow=*", "--location=eu", "--adhoc.peer=eu=http://127.0.0.1:1"}, `peer \"eu\" has this exporter's own location name`},
		{[]string{"--adhoc.enable", "--adhoc.allow=*", "--adhoc.peer=us"}, `location \"us\": want NAME=URL`},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		args := append([]string{"--config.file=" + cfg, "--web.listen-address=127.0.0.1:0", "--storage.path=" + t.TempDir()}, tt.args...)
		if code := run(context.Background(), args, &out, &out); code != 1 || !strings.Contains(out.String(), tt.log) {
			t.Errorf("%v: exit %d, want 1 and %q in:\n%s", tt.args, code, tt.log, out.String())
		}
	}
}

// TestHelpListsServingFlags: the top-level help shows how to run the
// exporter, not only the commands; subcommands keep their own flags.
func TestHelpListsServingFlags(t *testing.T) {
	serving := []string{"--config.file", "--web.listen-address", "--web.config.file", "--log.level", "--storage.path"}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"serve", "--help"}} {
		var out bytes.Buffer
		if code := run(context.Background(), args, &out, &out); code != 0 {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
		for _, f := range serving {
			if !strings.Contains(out.String(), f+"=") && !strings.Contains(out.String(), f+" ") {
				t.Errorf("%v does not list %s:\n%s", args, f, out.String())
			}
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"check", "--help"}, &out, &out); code != 0 || strings.Contains(out.String(), "--storage.path") {
		t.Errorf("check --help: exit %d, want 0 and check's flags alone:\n%s", code, out.String())
	}
}
