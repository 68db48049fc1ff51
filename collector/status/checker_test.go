package status

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/fanout"
)

// checkOrigin answers 502 on /bad, and on /ok?fail=LOC to the probes of
// location LOC; 200 otherwise.
func checkOrigin(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := r.URL.Query().Get("fail")
		if r.URL.Path == "/bad" || fail != "" && strings.HasPrefix(r.Header.Get("X-Http5xx-Probe"), fail+"/") {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// adhocPeer is another location's exporter, as far as the checker sees it:
// a real adhoc.Checker behind /api/v1/check on loopback.
func adhocPeer(t *testing.T, name string, o adhoc.Options) fanout.Checker {
	t.Helper()
	o.Location = name
	c, err := adhoc.New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+adhoc.Path, c)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	l, err := fanout.ParseLocation(name + "=" + srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &fanout.Remote{Loc: l, Client: srv.Client(), Wait: 5 * time.Second}
}

func TestCheckerPage(t *testing.T) {
	origin := checkOrigin(t)
	on := adhoc.Options{Enabled: true, Allow: []string{"127.0.0.1"}, Burst: 50}
	local := func(o adhoc.Options) *adhoc.Checker {
		o.Location = "eu"
		c, err := adhoc.New(o)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	peers := []fanout.Checker{adhocPeer(t, "us", on), adhocPeer(t, "ap", on), adhocPeer(t, "sa", adhoc.Options{})}
	tests := []struct {
		name    string
		checker *Checker
		query   string
		code    int
		want    []string
	}{
		{"no checker", nil, "", 404, []string{"the global status checker is off"}},
		{"ad-hoc checks off", &Checker{Adhoc: local(adhoc.Options{}), Local: "eu", Peers: peers}, "", 404, []string{"--adhoc.enable"}},
		{"no peers", &Checker{Adhoc: local(on), Local: "eu"}, "", 404, []string{"--adhoc.peer"}},
		{"the form", &Checker{Adhoc: local(on), Local: "eu", Peers: peers}, "", 200, []string{
			`<input id="url" name="url" type="url" required`, "(eu, us, ap, sa)", "Check from 4 locations",
		}},
		{"fails from one", &Checker{Adhoc: local(on), Local: "eu", Peers: peers}, "?url=" + url.QueryEscape(origin+"/ok?fail=us"), 200, []string{
			`<span class="badge badge-down">LOCAL</span> fails only from us, fine elsewhere`,
			`<tr data-location="eu" class="ok">`, `<tr data-location="us" class="failed">`,
			`<td data-label="Code" class="num code">502</td>`, `<td data-label="Owner">app-infra</td>`,
			`<tr data-location="sa" class="failed">`, "NO ANSWER", "HTTP 404 not_found: ad-hoc checks are off",
		}},
		{"fails everywhere", &Checker{Adhoc: local(on), Local: "eu", Peers: peers}, "?url=" + url.QueryEscape(origin+"/bad"), 200, []string{
			`<span class="badge badge-down">GLOBAL</span> fails from every location: a real outage (gateway, owner app-infra)`,
		}},
		{"valid codes", &Checker{Adhoc: local(on), Local: "eu", Peers: peers}, "?valid_status_codes=502&url=" + url.QueryEscape(origin+"/bad"), 200, []string{
			`<span class="badge badge-up">OK</span> OK from 3 locations`,
		}},
		// The page is guarded by this exporter's Admit, as /api/v1/check
		// is: nothing is asked of anyone for a refused URL.
		{"refused by the allow-list", &Checker{Adhoc: local(on), Local: "eu", Peers: peers}, "?url=" + url.QueryEscape("http://169.254.169.254/"), 403, []string{
			"Not checked: refused http://169.254.169.254/: 169.254.169.254 is a cloud metadata address",
		}},
		{"malformed valid codes", &Checker{Adhoc: local(on), Local: "eu", Peers: peers}, "?valid_status_codes=abc&url=" + url.QueryEscape(origin+"/ok"), 400, []string{
			"Not checked: valid_status_codes: ",
		}},
		{"over the rate limit", &Checker{Adhoc: local(adhoc.Options{Enabled: true, Allow: []string{"127.0.0.1"}, Burst: 1, Every: time.Hour}), Local: "eu", Peers: peers},
			"?url=" + url.QueryEscape(origin+"/ok"), 429, []string{"Not checked: too many ad-hoc checks; try again later"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.serve(Options{Checker: tt.checker})
			resp, body := f.get(CheckPath + tt.query)
			if tt.code == 429 { // the first check takes the only token
				resp, body = f.get(CheckPath + tt.query)
				if resp.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			}
			if resp.StatusCode != tt.code {
				t.Errorf("GET %s = %d, want %d", tt.query, resp.StatusCode, tt.code)
			}
			for _, want := range tt.want {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %s:\n%s", want, body)
				}
			}
			if strings.Contains(body, `http-equiv="refresh"`) {
				t.Error("the checker page reloads itself: every reload would run the check again")
			}
		})
	}
}
