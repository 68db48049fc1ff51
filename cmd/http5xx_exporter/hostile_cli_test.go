package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// switchServer answers every request with 101 Switching Protocols, then
// holds the switched connection open and silent until the test ends.
func switchServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					io.Copy(io.Discard, req.Body)
				}
				io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
				<-done
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); close(done); wg.Wait() })
	return "http://" + ln.Addr().String()
}

// The switch tests give the command a timeout longer than any answer
// takes on a loaded machine, and the peer holds the switched connection
// until the test ends: a verdict naming the 101 before that timeout can
// only come from refusing the switch, not from reading it until something
// lets go. hangAfter turns a command that waits anyway into a failure.
const (
	patientTimeout = "30s"
	hangAfter      = time.Minute
)

// runReturns runs the command line and fails the test if it never returns.
func runReturns(t *testing.T, args []string, stdout, stderr io.Writer) int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, stdout, stderr) }()
	select {
	case code := <-done:
		return code
	case <-time.After(hangAfter):
		cancel()
		<-done // its output buffers are the caller's
		t.Fatalf("%v still running after %v", args, hangAfter)
		return 0
	}
}

// TestHostileCheckSwitchingProtocols: `check` against a 101 refuses the
// switch at once with a malformed verdict.
func TestHostileCheckSwitchingProtocols(t *testing.T) {
	url := switchServer(t)
	var out bytes.Buffer
	code := runReturns(t, []string{"check", "--timeout=" + patientTimeout, url + "/"}, &out, &out)
	if code != 1 || !strings.Contains(out.String(), "no answer (malformed)") || !strings.Contains(out.String(), "101 Switching Protocols") {
		t.Errorf("exit %d, output:\n%s\nwant 1 and a malformed verdict naming the 101", code, out.String())
	}
}

// TestHostileDeploySwitchingProtocols: `deploy --url` at a server that
// switches protocols refuses the switch in each attempt, then gives up.
func TestHostileDeploySwitchingProtocols(t *testing.T) {
	url := switchServer(t)
	code, _, stderr := deployRun(t, "--url", url, "--service", "shop", "--version", "1.0", "--timeout", patientTimeout, "--retries", "1")
	if code != 1 || !strings.Contains(stderr, "not recorded after 2 attempts") || !strings.Contains(stderr, "101 Switching Protocols") {
		t.Errorf("exit %d, stderr:\n%s\nwant 1 and the 101 named", code, stderr)
	}
}

// TestHostileCLIShowsNoSecret: `check` (text and JSON), `deploy` and
// `config check` never print a password or a secret query parameter.
func TestHostileCLIShowsNoSecret(t *testing.T) {
	const secret = "pl4nted-s3cret"
	closed := refusedAddr(t)
	urls := []string{
		"http://" + closed + "/health?api_key=" + secret + "&page=1",
		"http://user:" + secret + "@" + closed + "/health",
		"http://" + closed + "/x?Token=" + secret,
	}
	for _, args := range [][]string{
		append([]string{"check", "--timeout=1s"}, urls...),
		append([]string{"check", "--timeout=1s", "-o", "json"}, urls...),
	} {
		var out bytes.Buffer
		run(context.Background(), args, &out, &out)
		if strings.Contains(out.String(), secret) {
			t.Errorf("%v shows the secret:\n%s", args[:3], out.String())
		}
		if !strings.Contains(out.String(), "page=1") {
			t.Errorf("%v lost the query that is no secret:\n%s", args[:3], out.String())
		}
	}
	_, stdout, stderr := deployRun(t, "--url", urls[0], "--service", "shop", "--version", "1.0", "--timeout", "300ms", "--retries", "0")
	if strings.Contains(stdout+stderr, secret) {
		t.Errorf("deploy shows the secret:\n%s%s", stdout, stderr)
	}
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	os.WriteFile(cfg, []byte("targets:\n  - name: a\n    url: "+urls[0]+"\n  - name: b\n    url: "+urls[1]+"\n"), 0o600)
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("targets:\n  - name: a\n    url: ftp://h/?api_key="+secret+"\n"), 0o600)
	// Credentials in a config that fails: the messages name fields, never values.
	badAuth := filepath.Join(t.TempDir(), "bad-auth.yml")
	os.WriteFile(badAuth, []byte(`targets:
  - name: a
    url: http://h/
    basic_auth: {username: u, password: `+secret+`, password_file: /nonexistent}
  - name: b
    url: http://h/
    authorization: {type: Basic, credentials: `+secret+`}
  - name: c
    url: http://h/
    oauth2: {client_id: c, client_secret: `+secret+`, token_url: "ftp://h/?token=`+secret+`"}
`), 0o600)
	badSecret := filepath.Join(t.TempDir(), "bad-secret.yml")
	os.WriteFile(badSecret, []byte("targets:\n  - name: d\n    url: http://h/\n    basic_auth: {username: u, password: ["+secret+"]}\n"), 0o600)
	for _, f := range []string{cfg, bad, badAuth, badSecret} {
		var out bytes.Buffer
		run(context.Background(), []string{"config", "check", f}, &out, &out)
		if strings.Contains(out.String(), secret) {
			t.Errorf("config check %s shows the secret:\n%s", filepath.Base(f), out.String())
		}
	}
}

// TestHostileNoSecretLeaves plants a password and secret query parameters
// in target, redirect, version and saturation URLs, and as basic_auth
// password, authorization credentials and oauth2 client secret, and greps
// every output
// surface for them: /metrics, /probe, the status page, every target page,
// /api/v1/status (whole and per target) and the log at debug level.
func TestHostileNoSecretLeaves(t *testing.T) {
	const secret = "pl4nted-s3cret"
	closed := refusedAddr(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "http://"+closed+"/next?signature="+secret, http.StatusFound)
		case "/fail":
			w.WriteHeader(http.StatusBadGateway)
		case "/token":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"t","token_type":"Bearer","expires_in":3600}`)
		}
	}))
	t.Cleanup(origin.Close)
	host := strings.TrimPrefix(origin.URL, "http://")
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, fmt.Sprintf(`global:
  interval: 1s
  timeout: 500ms
targets:
  - name: apikey
    url: http://%[1]s/health?api_key=%[2]s&page=1
    version_url: http://%[3]s/version?token=%[2]s
    version_field: version
  - name: refused
    url: http://%[3]s/health?access_token=%[2]s
    saturation:
      type: json
      url: http://%[3]s/stats?apikey=%[2]s
      field: busy
      max: 10
  - name: password
    url: http://user:%[2]s@%[1]s/fail
  - name: redirect
    url: http://%[1]s/redirect
    follow_redirects: true
  - name: custom
    url: http://%[3]s/x?session=%[2]s
    redact_query_params: [session]
  - name: basicauth
    url: http://%[1]s/fail
    basic_auth:
      username: probe
      password: %[2]s
  - name: bearer
    url: http://%[1]s/fail
    authorization:
      credentials: %[2]s
  - name: oauth
    url: http://%[1]s/fail
    oauth2:
      client_id: http5xx
      client_secret: %[2]s
      token_url: http://%[1]s/token
`, host, secret, closed))
	e := startExporter(t, "--config.file="+cfg)
	names := []string{"apikey", "refused", "password", "redirect", "custom", "basicauth", "bearer", "oauth"}
	e.waitFor("every target probed twice", func() bool {
		for _, n := range names {
			if e.metric(probes(n)) < 2 {
				return false
			}
		}
		return true
	})
	paths := []string{"/metrics", "/", "/api/v1/status"}
	for _, n := range names {
		paths = append(paths, "/probe?target="+n, "/targets/"+n, "/api/v1/status?target="+n)
	}
	for _, p := range paths {
		code, body := e.get(p)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", p, code)
		}
		if strings.Contains(body, secret) {
			i := strings.Index(body, secret)
			t.Errorf("GET %s shows the secret: ...%s...", p, body[max(0, i-200):min(len(body), i+50)])
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, secret) {
		for line := range strings.Lines(logs) {
			if strings.Contains(line, secret) {
				t.Errorf("log line shows the secret: %s", line)
			}
		}
	}
	// The surfaces still say which URL: redacted, not dropped.
	if _, body := e.get("/api/v1/status"); !strings.Contains(body, "api_key=xxxxx") || !strings.Contains(body, "session=xxxxx") {
		t.Errorf("/api/v1/status lacks the redacted URLs")
	}
}

// TestHostileRemoteSwitchingProtocols: `status --from` and `check --from`
// at a remote that switches protocols refuse the switch with an error,
// instead of reading the switched connection for ever.
func TestHostileRemoteSwitchingProtocols(t *testing.T) {
	url := switchServer(t)
	for _, args := range [][]string{
		{"status", "--from", "eu=" + url, "--timeout=" + patientTimeout},
		{"check", "--from", "eu=" + url, "--remote.timeout=" + patientTimeout, "http://127.0.0.1:1/"},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out bytes.Buffer
			code := runReturns(t, args, &out, &out)
			if code == 0 || !strings.Contains(out.String(), "101 Switching Protocols") {
				t.Errorf("exit %d, output:\n%s\nwant a failure naming the 101", code, out.String())
			}
		})
	}
}
