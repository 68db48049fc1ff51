package probe

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	commoncfg "github.com/prometheus/common/config"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
)

// authServer answers 200 to a request whose Authorization header is want
// and 401 to any other, and records what each request sent.
type authServer struct {
	*httptest.Server
	mu   sync.Mutex
	want string
	got  []string
}

func newAuthServer(t *testing.T, want string) *authServer {
	s := &authServer{want: want}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.got = append(s.got, r.Header.Get("Authorization"))
		ok := r.Header.Get("Authorization") == s.want
		s.mu.Unlock()
		if r.URL.Path == "/away" {
			// A redirect to another host name of the same machine.
			http.Redirect(w, r, strings.Replace(s.URL, "127.0.0.1", "localhost", 1)+"/", http.StatusFound)
			return
		}
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *authServer) setWant(v string) {
	s.mu.Lock()
	s.want = v
	s.mu.Unlock()
}

func (s *authServer) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// tokenServer is an OAuth2 token endpoint for client_credentials: it hands
// out token when the client authenticates as id/secret, and refuses any
// other client with 401, quoting the secret it got.
func tokenServer(t *testing.T, id, secret, token string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		if !ok {
			u, p = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		if u != id || p != secret {
			// A careless endpoint that echoes what it was sent.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "bad secret " + p})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(s.Close)
	return s
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func writeSecret(t *testing.T, path, v string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestProbeCredentials: every kind of credentials reaches the target, read
// from its file at each probe (a rotated secret needs no new prober), the
// phases are still measured, credentials never follow a redirect to another
// host, and credentials that cannot be had are the exporter's failure, not
// the target's.
func TestProbeCredentials(t *testing.T) {
	dir := t.TempDir()
	passFile := filepath.Join(dir, "password")
	credFile := filepath.Join(dir, "token")
	clientSecretFile := filepath.Join(dir, "client-secret")
	tokens := tokenServer(t, "http5xx", "client-s3cret", "t0ken")

	for _, tc := range []struct {
		name   string
		want   string // the Authorization header the target accepts
		set    func(*config.Target)
		before func() // runs before the probe, after the prober is built
		path   string
		follow bool
		// code and reason of the probe; sent is what the target got in
		// order, nil when no request may reach it.
		code   int
		reason contract.Reason
		sent   []string
	}{
		{name: "basic_auth inline", want: basic("probe", "inline-pw"),
			set: func(tg *config.Target) {
				tg.BasicAuth = &commoncfg.BasicAuth{Username: "probe", Password: "inline-pw"}
			},
			code: 200, sent: []string{basic("probe", "inline-pw")}},
		{name: "basic_auth password_file, rotated after New", want: basic("probe", "rotated"),
			set: func(tg *config.Target) {
				writeSecret(t, passFile, "first")
				tg.BasicAuth = &commoncfg.BasicAuth{Username: "probe", PasswordFile: passFile}
			},
			before: func() { writeSecret(t, passFile, "rotated") },
			code:   200, sent: []string{basic("probe", "rotated")}},
		{name: "wrong password: the target's 401", want: basic("probe", "right"),
			set: func(tg *config.Target) {
				tg.BasicAuth = &commoncfg.BasicAuth{Username: "probe", Password: "wrong"}
			},
			code: 401, sent: []string{basic("probe", "wrong")}},
		{name: "authorization inline, Bearer by default", want: "Bearer inline-token",
			set: func(tg *config.Target) {
				tg.Authorization = &commoncfg.Authorization{Credentials: "inline-token"}
			},
			code: 200, sent: []string{"Bearer inline-token"}},
		{name: "authorization credentials_file, own type", want: "Token file-token",
			set: func(tg *config.Target) {
				writeSecret(t, credFile, "file-token")
				tg.Authorization = &commoncfg.Authorization{Type: "Token", CredentialsFile: credFile}
			},
			code: 200, sent: []string{"Token file-token"}},
		{name: "oauth2 client_credentials", want: "Bearer t0ken",
			set: func(tg *config.Target) {
				writeSecret(t, clientSecretFile, "client-s3cret")
				tg.OAuth2 = &commoncfg.OAuth2{ClientID: "http5xx", ClientSecretFile: clientSecretFile, TokenURL: tokens.URL}
			},
			code: 200, sent: []string{"Bearer t0ken"}},
		{name: "redirect to another host: no credentials", want: "Bearer inline-token", path: "/away", follow: true,
			set: func(tg *config.Target) {
				tg.Authorization = &commoncfg.Authorization{Credentials: "inline-token"}
			},
			code: 401, sent: []string{"Bearer inline-token", ""}},
		{name: "password_file gone: exporter", want: "x",
			set: func(tg *config.Target) {
				writeSecret(t, passFile, "pw")
				tg.BasicAuth = &commoncfg.BasicAuth{Username: "probe", PasswordFile: passFile}
			},
			before: func() { os.Remove(passFile) },
			reason: contract.ReasonExporter},
		{name: "oauth2 token refused: exporter", want: "x",
			set: func(tg *config.Target) {
				tg.OAuth2 = &commoncfg.OAuth2{ClientID: "http5xx", ClientSecret: "s3cr3t-echoed", TokenURL: tokens.URL}
			},
			reason: contract.ReasonExporter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newAuthServer(t, tc.want)
			tgt := testTarget(srv.URL + tc.path)
			tgt.FollowRedirects = &tc.follow
			tc.set(tgt)
			p := newProber(t, tgt)
			if tc.before != nil {
				tc.before()
			}
			res := p.Probe(context.Background())
			if res.StatusCode != tc.code || res.Reason != tc.reason {
				t.Fatalf("code %d reason %q, want %d %q (err %v)", res.StatusCode, res.Reason, tc.code, tc.reason, res.Err)
			}
			if tc.reason == contract.ReasonExporter && !errors.Is(res.Err, fetch.ErrCredentials) {
				t.Errorf("err %v does not wrap fetch.ErrCredentials", res.Err)
			}
			if res.Err != nil && strings.Contains(res.Err.Error(), "s3cr3t-echoed") {
				t.Errorf("err shows the secret the token endpoint echoed: %v", res.Err)
			}
			if got := srv.sent(); strings.Join(got, "|") != strings.Join(tc.sent, "|") {
				t.Errorf("the target got Authorization %q, want %q", got, tc.sent)
			}
			if tc.code != 0 {
				for _, ph := range []contract.Phase{contract.PhaseConnect, contract.PhaseProcessing} {
					if !res.PhaseSeen[ph] {
						t.Errorf("phase %s not measured", ph)
					}
				}
			}
		})
	}
}
