package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/http5xx/http5xx_exporter/collector/deploy"
)

// maintenanceRun parses args the way main does and runs the maintenance
// command with short backoffs.
func maintenanceRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	app := kingpin.New("http5xx_exporter", "")
	app.Terminate(nil)
	app.UsageWriter(io.Discard)
	app.ErrorWriter(io.Discard)
	c := newMaintenanceCommand(app)
	c.backoff = 5 * time.Millisecond
	cmd, err := app.Parse(append([]string{"maintenance"}, args...))
	if err != nil {
		return 2, "", err.Error()
	}
	if cmd != c.FullCommand() {
		t.Fatalf("parsed command %q", cmd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangAfter)
	defer cancel()
	var out, errb bytes.Buffer
	code = c.run(ctx, &out, &errb)
	return code, out.String(), errb.String()
}

// maintenanceServer serves a real deploy.Manager's maintenance API on
// loopback; the first failures answers are 503 (a restarting exporter).
func maintenanceServer(t *testing.T, o deploy.Options, failures int64) (*deploy.Manager, *httptest.Server) {
	t.Helper()
	o.StoragePath = t.TempDir()
	m, err := deploy.NewManager(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h := m.MaintenanceHandler()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != deploy.MaintenancePath {
			http.NotFound(w, r)
			return
		}
		if n.Add(1) <= failures {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return m, srv
}

func TestMaintenanceCommand(t *testing.T) {
	tok := deployTokenFile(t, deployCLIToken+"\n")
	auth := deploy.Options{TokenFile: tok}
	for _, tc := range []struct {
		name     string
		opts     deploy.Options
		failures int64
		first    [][]string // runs that must succeed first
		args     []string   // {URL} and {URL2}: the two exporters
		code     int
		out, err string
		kept     int // windows listed (with ended) by each exporter afterwards
	}{
		{name: "open for 30m", opts: auth,
			args: []string{"--url", "{URL}", "--token-file", tok, "--service", "checkout", "--duration", "30m", "--reason", "db upgrade"},
			out:  "maintenance window opened: service checkout from ", kept: 1},
		{name: "open in two exporters under one id", opts: auth,
			args: []string{"--url", "{URL}", "--url", "{URL2}", "--token-file", tok, "--service", "checkout", "--duration", "1h", "--reason", "r", "--id", "chg-1"},
			out:  "id chg-1: r", kept: 1},
		{name: "retried after 503s", opts: auth, failures: 2,
			args: []string{"--url", "{URL}", "--token-file", tok, "--service", "checkout", "--duration", "1h", "--reason", "r"},
			out:  "maintenance window opened", err: "retrying", kept: 1},
		{name: "same id again: already opened", opts: auth,
			first: [][]string{{"--url", "{URL}", "--token-file", tok, "--service", "a", "--duration", "1h", "--reason", "r", "--id", "w"}},
			args:  []string{"--url", "{URL}", "--token-file", tok, "--service", "a", "--duration", "1h", "--reason", "r", "--id", "w"},
			out:   "already opened", kept: 1},
		{name: "end now", opts: auth,
			first: [][]string{{"--url", "{URL}", "--token-file", tok, "--service", "a", "--duration", "1h", "--reason", "r", "--id", "w"}},
			args:  []string{"--url", "{URL}", "--token-file", tok, "--end-now", "--id", "w"},
			out:   "maintenance window ended: service a", kept: 1},
		{name: "list", opts: auth,
			first: [][]string{{"--url", "{URL}", "--token-file", tok, "--service", "a", "--duration", "1h", "--reason", "r", "--id", "w"}},
			args:  []string{"--url", "{URL}", "--list"},
			out:   "maintenance window: service a from ", kept: 1},
		{name: "list of none", opts: auth, args: []string{"--url", "{URL}", "--list"}, out: "no current or upcoming maintenance window"},
		{name: "no token: 1", opts: auth,
			args: []string{"--url", "{URL}", "--service", "a", "--duration", "1h", "--reason", "r"},
			code: 1, err: "missing bearer token"},
		{name: "end now of an unknown id: 1", opts: auth,
			args: []string{"--url", "{URL}", "--token-file", tok, "--end-now", "--id", "nope"}, code: 1, err: "HTTP 404"},
		{name: "no reason: 2", opts: auth, args: []string{"--url", "{URL}", "--service", "a", "--duration", "1h"}, code: 2, err: "--reason: required"},
		{name: "no end: 2", opts: auth, args: []string{"--url", "{URL}", "--service", "a", "--reason", "r"}, code: 2, err: "--end: required (or --duration)"},
		{name: "end before start: 2", opts: auth,
			args: []string{"--url", "{URL}", "--service", "a", "--reason", "r", "--start", "2099-01-02T00:00:00Z", "--end", "2099-01-01T00:00:00Z"}, code: 2, err: "--start"},
		{name: "too long: 2", opts: auth, args: []string{"--url", "{URL}", "--service", "a", "--reason", "r", "--duration", "200h"}, code: 2, err: "--duration"},
		{name: "end-now without id: 2", opts: auth, args: []string{"--url", "{URL}", "--end-now"}, code: 2, err: "--end-now needs --id"},
		{name: "list with a service: 2", opts: auth, args: []string{"--url", "{URL}", "--list", "--service", "a"}, code: 2, err: "--list takes no other"},
		{name: "no url: 2", opts: auth, args: []string{"--service", "a", "--duration", "1h", "--reason", "r"}, code: 2, err: "--url is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m1, srv1 := maintenanceServer(t, tc.opts, tc.failures)
			m2, srv2 := maintenanceServer(t, tc.opts, 0)
			expand := func(args []string) []string {
				out := make([]string, len(args))
				for i, a := range args {
					out[i] = strings.NewReplacer("{URL2}", srv2.URL, "{URL}", srv1.URL).Replace(a)
				}
				return out
			}
			for _, f := range tc.first {
				if code, _, stderr := maintenanceRun(t, expand(f)...); code != 0 {
					t.Fatalf("first run %v: %d %s", f, code, stderr)
				}
			}
			code, stdout, stderr := maintenanceRun(t, expand(tc.args)...)
			if code != tc.code || !strings.Contains(stdout, tc.out) || !strings.Contains(stderr, tc.err) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tc.code, tc.out, tc.err)
			}
			if got := len(m1.Windows(true)); got != tc.kept {
				t.Errorf("exporter 1 keeps %d windows, want %d", got, tc.kept)
			}
			if strings.Contains(strings.Join(tc.args, " "), "{URL2}") && len(m2.Windows(true)) != tc.kept {
				t.Errorf("exporter 2 keeps %d windows, want %d", len(m2.Windows(true)), tc.kept)
			}
			if strings.Contains(stdout+stderr, deployCLIToken) {
				t.Error("the token is in the output")
			}
		})
	}
}
