package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckCommand(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/busy":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/nginx":
			w.Header().Set("Server", "nginx/1.25.3")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>"))
		case "/haproxy":
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"))
		case "/varnish":
			w.Header().Set("Server", "Varnish")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("<h1>Error 503 Backend fetch failed</h1><p>Backend fetch failed</p><h3>Guru Meditation:</h3><p>XID: 5</p>"))
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/tenant":
			if r.Header.Get("X-Tenant") != "acme" || r.Host != "shop.example" {
				w.WriteHeader(http.StatusBadRequest)
			}
		}
	}))
	defer origin.Close()
	secure := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	secure.EnableHTTP2 = true
	secure.StartTLS()
	defer secure.Close()
	expiry := secure.Certificate().NotAfter.UTC().Format(time.DateOnly)

	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"ok", []string{origin.URL + "/ok"}, 0, []string{"OK: 200"}},
		{"connection", []string{origin.URL + "/ok"}, 0, []string{"connection HTTP/1.1 over ip4, lean client\n"}},
		{"http2 over TLS", []string{"--insecure", "--http2", secure.URL}, 0, []string{"connection HTTP/2.0 over ip4, TLS 1.3"}},
		{"ip6 only on an IPv4 address: dns", []string{"--ip-family=ip6", origin.URL + "/ok"}, 1, []string{"no answer (dns)", "no IPv6 address (ip_family)"}},
		{"bad ip family", []string{"--ip-family=ipv6", origin.URL + "/ok"}, 2, []string{"must be one of any,ip4,ip6"}},
		{"certificate", []string{"--insecure", secure.URL}, 0, []string{"connection HTTP/1.1 over ip4, TLS 1.3", "certificate O=Acme Co (issuer O=Acme Co) expires " + expiry, "; not verified"}},
		{"unverified certificate: tls, and its expiry", []string{secure.URL}, 1, []string{"no answer (tls)", "certificate O=Acme Co (issuer O=Acme Co) expires " + expiry}},
		{"capacity", []string{origin.URL + "/busy"}, 1, []string{"class capacity", "owner sre-oncall", "retry-after 2m0s", "CAPACITY: HTTP 503"}},
		{"gateway from nginx", []string{origin.URL + "/nginx"}, 1, []string{"GATEWAY: HTTP 502 from the proxy layer (nginx)", "owner app-infra"}},
		// The page proves a dead backend: the 503 pages app-infra, not capacity.
		{"haproxy without a server", []string{origin.URL + "/haproxy"}, 1, []string{"class gateway", "owner app-infra", "GATEWAY: HTTP 503 from the load balancer layer (haproxy): haproxy has no server", "the code alone says capacity"}},
		{"varnish's canned Retry-After", []string{origin.URL + "/varnish"}, 1, []string{"GATEWAY: HTTP 503 from the proxy layer (varnish)", "not a maintenance window"}},
		{"404 valid when listed", []string{"--valid-status-codes=200-299,404", origin.URL + "/missing"}, 0, []string{"OK: 404"}},
		{"one bad of two", []string{origin.URL + "/ok", origin.URL + "/busy"}, 1, []string{"OK: 200", "CAPACITY"}},
		{"closed port", []string{"--timeout=2s", "http://127.0.0.1:1/"}, 1, []string{"connect_refused", "GATEWAY: no answer (connect_refused)"}},
		{"not a URL", []string{"ftp://x"}, 2, []string{"not an http or https URL"}},
		{"bad codes flag", []string{"--valid-status-codes=abc", origin.URL}, 2, []string{"--valid-status-codes"}},
		{"headers sent", []string{"--header", "X-Tenant=acme", "--header", "Host=shop.example", origin.URL + "/tenant"}, 0, []string{"OK: 200"}},
		{"bad method is a usage error", []string{"--method", "GE T", origin.URL + "/ok"}, 2, []string{"method"}},
		{"bad header name is a usage error", []string{"--header", "X Tenant=acme", origin.URL + "/ok"}, 2, []string{"header"}},
		{"no URL", nil, 2, []string{"required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), append([]string{"check"}, tt.args...), &out, &out)
			if code != tt.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, tt.code, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGatewayTimeout)
	}))
	defer origin.Close()
	var out bytes.Buffer
	if code := run(context.Background(), []string{"check", "-o", "json", origin.URL}, &out, &out); code != 1 {
		t.Fatalf("exit %d, want 1; %s", code, out.String())
	}
	var reps []checkReport
	if err := json.Unmarshal(out.Bytes(), &reps); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if len(reps) != 1 || reps[0].Code != 504 || reps[0].Class != "timeout" || reps[0].Owner != "db-api-owners" || reps[0].OK {
		t.Errorf("report = %+v", reps)
	}
	if _, ok := reps[0].Phases["processing"]; !ok {
		t.Errorf("no processing phase in %v", reps[0].Phases)
	}
}

func TestHelpExitsZero(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &out); code != 0 || !strings.Contains(out.String(), "check") {
		t.Errorf("--help: exit %d, output %q", code, out.String())
	}
}

// TestCheckSoftErrors: check fails a 200 that is an error page, and with
// --config.file judges a URL by its target's expect conditions (else by
// global.expect), printing the condition and the bytes that failed it.
func TestCheckSoftErrors(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/php":
			w.Write([]byte("<br />\n<b>Fatal error</b>:  Uncaught Error in <b>/srv/a.php</b> on line <b>3</b><br />"))
		case "/shop":
			w.Write([]byte("<h1>Back soon: down for maintenance</h1> token=hunter2"))
		case "/api":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status":"DEGRADED"}`))
		}
	}))
	defer origin.Close()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "http5xx.yml")
	cfg := "global:\n  expect:\n    - body_not_contains: maintenance\n" +
		"targets:\n  - name: api\n    url: " + origin.URL + "/api\n    expect:\n      - json: status\n        equals: UP\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"error page without config", []string{origin.URL + "/php"}, []string{"code 200 (soft_error)", "class app", "owner app-team", "APP: HTTP 200 is an error all the same (soft_error)", "PHP printed a fatal error"}, nil},
		{"global expect", []string{"--config.file", cfgFile, origin.URL + "/shop"}, []string{`expect[0] failed: body does not contain "maintenance"; got "<h1>Back soon: down for maintenance</h1> token=xxxxx"`}, []string{"hunter2"}},
		{"the target's own expect", []string{"--config.file", cfgFile, origin.URL + "/api"}, []string{`expect[0] failed: json status equals "UP"; got "DEGRADED"`}, nil},
		{"output json", []string{"-o", "json", "--config.file", cfgFile, origin.URL + "/api"}, []string{`"reason": "soft_error"`, `"code": 200`, `"class": "app"`, `json status equals \"UP\"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkFails(t, tt.args, tt.want, tt.not) })
	}
}

// TestCheckNamesTheTargetsTeam: with --config.file, a URL that is a
// configured target names the target's team for the class, and the class
// owner it replaces; any other URL names the default owner.
func TestCheckNamesTheTargetsTeam(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer origin.Close()
	cfgFile := filepath.Join(t.TempDir(), "http5xx.yml")
	cfg := "services:\n  - name: shop\n    owners:\n      timeout: shop-team\n" +
		"targets:\n  - name: checkout\n    url: " + origin.URL + "/checkout\n    service: shop\n    owner: web-team\n    owners:\n      app: checkout-team\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"configured target", []string{"--config.file", cfgFile, origin.URL + "/checkout"},
			[]string{"class app  owner checkout-team (class default app-team)", "APP: HTTP 500; owner checkout-team (class default app-team); first move:"}, []string{"web-team"}},
		{"json", []string{"-o", "json", "--config.file", cfgFile, origin.URL + "/checkout"},
			[]string{`"owner": "checkout-team"`, `"default_owner": "app-team"`}, nil},
		{"another URL", []string{"--config.file", cfgFile, origin.URL + "/other"},
			[]string{"class app  owner app-team  layer", "APP: HTTP 500; owner app-team; first move:"}, []string{"checkout-team", "class default"}},
		{"another URL, json", []string{"-o", "json", "--config.file", cfgFile, origin.URL + "/other"},
			[]string{`"owner": "app-team"`}, []string{"default_owner"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkFails(t, tt.args, tt.want, tt.not) })
	}
}

// checkFails runs check with args, which must exit 1 with an output that
// contains every string of want and none of not.
func checkFails(t *testing.T, args, want, not []string) {
	t.Helper()
	var out bytes.Buffer
	if code := run(context.Background(), append([]string{"check"}, args...), &out, &out); code != 1 {
		t.Errorf("exit %d, want 1; output:\n%s", code, out.String())
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	for _, n := range not {
		if strings.Contains(out.String(), n) {
			t.Errorf("output shows %q:\n%s", n, out.String())
		}
	}
}
