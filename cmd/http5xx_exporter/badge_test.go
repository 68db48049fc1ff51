package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadgeGuardedLikeTheStatusPage: with basic auth in --web.config.file
// the badge, like the status page, answers 401 without credentials and the
// badge with them, on a real listener.
func TestBadgeGuardedLikeTheStatusPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	origin := srv.URL
	dir := t.TempDir()
	cfg := filepath.Join(dir, "http5xx.yml")
	writeConfig(t, cfg, targetsYAML(origin, "alpha"))
	web := filepath.Join(dir, "web.yml")
	// bcrypt of "s3cret" (cost 4).
	if err := os.WriteFile(web, []byte("basic_auth_users:\n  prom: $2a$04$vtqjEpYvabj/Q4oyZGR/m.2.0HGHiiIBMym.uUwVODjITwDXWDIiC\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	logs := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"--web.listen-address=" + addr, "--config.file=" + cfg, "--config.watch-interval=0",
			"--web.config.file=" + web, "--storage.path=" + t.TempDir()}, io.Discard, logs)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("exporter did not stop within 15s")
		}
		if t.Failed() {
			t.Logf("exporter log:\n%s", logs.String())
		}
	}()
	get := func(path string, auth bool) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.SetBasicAuth("prom", "s3cret")
		}
		return codeAndBody(http.DefaultClient.Do(req))
	}
	deadline := time.Now().Add(30 * time.Second)
	for code, _ := get("/-/healthy", true); code != 200; code, _ = get("/-/healthy", true) {
		if time.Now().After(deadline) {
			t.Fatalf("the exporter did not come up: %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tests := []struct {
		path string
		auth bool
		code int
		body string
	}{
		{"/", false, 401, ""},
		{"/badge/alpha.svg", false, 401, ""},
		{"/badge/nope.svg", false, 401, ""},
		{"/", true, 200, "alpha"},
		{"/badge/alpha.svg", true, 200, "<title>alpha: "},
	}
	for _, tt := range tests {
		code, body := get(tt.path, tt.auth)
		if code != tt.code || !strings.Contains(body, tt.body) || (code == 401 && strings.Contains(body, "<svg")) {
			t.Errorf("GET %s (auth %v) = %d %.120q, want %d with %q", tt.path, tt.auth, code, body, tt.code, tt.body)
		}
	}
}
