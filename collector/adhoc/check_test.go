package adhoc

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/api"
)

// resolver answers from a table and counts lookups; a name with two
// answers gives the first on the first lookup and the second afterwards
// (DNS rebinding).
type resolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	lookups map[string]int
}

func newResolver(answers map[string][]string) *resolver {
	r := &resolver{answers: map[string][][]netip.Addr{}, lookups: map[string]int{}}
	for name, as := range answers {
		for _, group := range as {
			var addrs []netip.Addr
			for _, a := range strings.Split(group, ",") {
				addrs = append(addrs, netip.MustParseAddr(a))
			}
			r.answers[name] = append(r.answers[name], addrs)
		}
	}
	return r
}

func (r *resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.lookups[host]
	r.lookups[host]++
	as := r.answers[host]
	if len(as) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return as[min(n, len(as)-1)], nil
}

func (r *resolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[host]
}

// origin is a loopback server that records what reached it.
type origin struct {
	*httptest.Server
	hits  atomic.Int64
	mu    sync.Mutex
	hosts []string
}

func newOrigin(t *testing.T) *origin {
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.hosts = append(o.hosts, r.Host)
		o.mu.Unlock()
		switch {
		case r.URL.Path == "/bad":
			w.WriteHeader(http.StatusBadGateway)
		case r.URL.Path == "/ok":
		case strings.HasPrefix(r.URL.Path, "/to/"):
			// /to/ESCAPED-URL redirects there.
			next, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/to/"))
			http.Redirect(w, r, next, http.StatusFound)
		case r.URL.Path == "/a":
			http.Redirect(w, r, "/b", http.StatusMovedPermanently)
		case r.URL.Path == "/b":
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
		case r.URL.Path == "/loop1":
			http.Redirect(w, r, "/loop2", http.StatusFound)
		case r.URL.Path == "/loop2":
			http.Redirect(w, r, "/loop1", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) port() string {
	_, p, _ := net.SplitHostPort(o.Listener.Addr().String())
	return p
}

func newChecker(t *testing.T, allow []string, r Resolver) *Checker {
	t.Helper()
	c, err := New(Options{Enabled: true, Allow: allow, Resolver: r, Location: "eu", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckPinsTheCheckedAddress(t *testing.T) {
	o := newOrigin(t)
	res := newResolver(map[string][]string{"shop.test": {"127.0.0.1"}})
	c := newChecker(t, []string{"shop.test", "127.0.0.1"}, res)

	u := "http://shop.test:" + o.port() + "/bad"
	rep, err := c.Check(context.Background(), u, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Code != 502 || rep.Class != "gateway" || rep.Owner != "app-infra" || rep.OK || rep.Address != "127.0.0.1" ||
		rep.Location != "eu" || rep.URL != u || rep.FirstMove == "" {
		t.Errorf("report %+v, want 502 gateway app-infra from 127.0.0.1", rep)
	}
	for _, ph := range []string{"resolve", "connect", "processing"} {
		if _, ok := rep.Phases[ph]; !ok {
			t.Errorf("phases %v lack %s", rep.Phases, ph)
		}
	}
	if n := res.count("shop.test"); n != 1 {
		t.Errorf("shop.test looked up %d times, want once: the probe must connect to the checked address", n)
	}
	if len(o.hosts) != 1 || o.hosts[0] != "shop.test:"+o.port() {
		t.Errorf("origin saw Host %v, want the URL's host", o.hosts)
	}
}

func TestCheckRefusals(t *testing.T) {
	o := newOrigin(t)
	lit := "http://127.0.0.1:" + o.port()
	to := func(next string) string { return lit + "/to/" + url.PathEscape(next) }
	tests := []struct {
		name    string
		url     string
		allow   []string
		answers map[string][]string
		refusal string
	}{
		{"loopback literal without allow", lit + "/ok", []string{"*"}, nil, "127.0.0.1 is a loopback address"},
		{"name resolving to loopback", "http://evil.test:" + o.port() + "/ok", []string{"*"},
			map[string][]string{"evil.test": {"127.0.0.1"}}, "evil.test resolves to 127.0.0.1 is a loopback address"},
		{"one of the addresses is private", "http://mixed.test:" + o.port() + "/ok", []string{"*", "127.0.0.1"},
			map[string][]string{"mixed.test": {"127.0.0.1,10.0.0.1"}}, "10.0.0.1 is a private address"},
		{"name resolving to IPv4-mapped metadata", "http://meta.test/", []string{"*"},
			map[string][]string{"meta.test": {"::ffff:169.254.169.254"}}, "IPv4-mapped 169.254.169.254 is a cloud metadata address"},
		{"redirect to metadata", to("http://169.254.169.254/latest/meta-data/"), []string{"*", "127.0.0.1"}, nil,
			"redirect 1 from " + lit + "/to/"},
		{"redirect to IPv6 metadata", to("http://[fd00:ec2::254]/latest/meta-data/"), []string{"*", "127.0.0.1"}, nil, "cloud metadata"},
		{"redirect to localhost", to("http://localhost:" + o.port() + "/ok"), []string{"*", "127.0.0.1"}, nil, "loopback"},
		{"redirect to a mapped private address", to("http://[::ffff:10.0.0.1]/"), []string{"*", "127.0.0.1"}, nil, "IPv4-mapped 10.0.0.1"},
		{"redirect to a legacy notation", to("http://2130706433/"), []string{"*", "127.0.0.1"}, nil, "legacy notation"},
		{"redirect to another scheme", to("file:///etc/passwd"), []string{"*", "127.0.0.1"}, nil, "only http and https"},
		{"redirect off the allow-list", to("http://elsewhere.test/"), []string{"127.0.0.1"}, nil, "not in the allow-list"},
		// The second hop's lookup rebinds the name to a private address.
		{"rebinding between hops", "http://rebind.test:" + o.port() + "/a", []string{"rebind.test", "127.0.0.1"},
			map[string][]string{"rebind.test": {"127.0.0.1", "10.0.0.1"}}, "rebind.test resolves to 10.0.0.1 is a private address"},
	}
	for _, tt := range tests {
		c := newChecker(t, tt.allow, newResolver(tt.answers))
		before := o.hits.Load()
		_, err := c.Check(context.Background(), tt.url, nil, 0)
		var refused *RefusedError
		if !errors.As(err, &refused) || !strings.Contains(err.Error(), tt.refusal) {
			t.Errorf("%s: %v, want a refusal mentioning %q", tt.name, err, tt.refusal)
		}
		if strings.HasPrefix(tt.name, "redirect") || strings.HasPrefix(tt.name, "rebinding") {
			if o.hits.Load() != before+1 {
				t.Errorf("%s: origin hit %d times, want only the first hop", tt.name, o.hits.Load()-before)
			}
		} else if o.hits.Load() != before {
			t.Errorf("%s: the refused check reached the origin", tt.name)
		}
	}
}

func TestCheckOutcomes(t *testing.T) {
	o := newOrigin(t)
	lit := "http://127.0.0.1:" + o.port()
	res := newResolver(map[string][]string{"shop.test": {"127.0.0.1"}})
	c := newChecker(t, []string{"shop.test", "nx.test", "127.0.0.1"}, res)
	tests := []struct {
		url       string
		code      int
		reason    string
		class     string
		ok        bool
		redirects int
	}{
		{lit + "/ok", 200, "", "2xx", true, 0},
		{lit + "/a", 200, "", "2xx", true, 2},
		{"http://shop.test:" + o.port() + "/a", 200, "", "2xx", true, 2},
		{lit + "/loop1", 302, "redirect_loop", "app", false, 1},
		{lit + "/nothing", 404, "", "4xx", false, 0},
		{"http://nx.test/", 0, "dns", "network", false, 0},
		{"http://127.0.0.1:1/", 0, "connect_refused", "gateway", false, 0},
	}
	for _, tt := range tests {
		rep, err := c.Check(context.Background(), tt.url+"#frag", nil, 0)
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if rep.Code != tt.code || rep.Reason != tt.reason || rep.Class != tt.class || rep.OK != tt.ok || rep.Redirects != tt.redirects {
			t.Errorf("%s: code %d reason %q class %q ok %v redirects %d; want %d %q %q %v %d (%s)",
				tt.url, rep.Code, rep.Reason, rep.Class, rep.OK, rep.Redirects, tt.code, tt.reason, tt.class, tt.ok, tt.redirects, rep.Error)
		}
	}
}

func TestCheckKeepsTheHostNameForTLS(t *testing.T) {
	// httptest's certificate is for example.com and 127.0.0.1; an unknown
	// authority (not a name mismatch) shows the name went into the handshake.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	c := newChecker(t, []string{"example.com", "127.0.0.1"}, newResolver(map[string][]string{"example.com": {"127.0.0.1"}}))
	rep, err := c.Check(context.Background(), "https://example.com:"+port+"/", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reason != "tls" || !strings.Contains(rep.Error, "unknown authority") {
		t.Errorf("reason %q error %q, want tls with an unknown authority", rep.Reason, rep.Error)
	}
}

func TestHandler(t *testing.T) {
	o := newOrigin(t)
	lit := "http://127.0.0.1:" + o.port()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, err := New(Options{Enabled: true, Allow: []string{"127.0.0.1"}, Burst: 3, Every: 2 * time.Second, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	off, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, c)
	mux.Handle("/off"+Path, off)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(method, path string) (int, http.Header, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	q := func(u string) string { return Path + "?url=" + url.QueryEscape(u) }

	// Every answer is the api envelope: the report as data, or the error
	// type and message.
	steps := []struct {
		method, path string
		code         int
		errType      api.ErrorType // "" for a success
		msg          string        // substring of the error
		check        func(Report) bool
	}{
		{"GET", "/off" + q(lit+"/ok"), 404, api.ErrNotFound, "ad-hoc checks are off", nil},
		{"GET", Path, 400, api.ErrBadData, "url parameter is missing", nil},
		{"GET", q(lit+"/ok") + "&valid_status_codes=abc", 400, api.ErrBadData, "valid_status_codes", nil},
		{"GET", q(lit+"/ok") + "&timeout=-1s", 400, api.ErrBadData, "timeout", nil},
		{"POST", q(lit + "/ok"), 405, api.ErrBadData, "use GET", nil},
		{"GET", q("http://169.254.169.254/"), 403, api.ErrBadData, "cloud metadata", nil},                                   // token 1
		{"GET", q(lit + "/bad"), 200, "", "", func(r Report) bool { return r.Code == 502 && !r.OK }},                        // token 2
		{"GET", q(lit+"/nothing") + "&valid_status_codes=404&timeout=2s", 200, "", "", func(r Report) bool { return r.OK }}, // token 3
		{"GET", q(lit + "/ok"), 429, api.ErrUnavailable, "too many", nil},
	}
	for i, s := range steps {
		code, h, body := get(s.method, s.path)
		if code != s.code {
			t.Errorf("step %d %s %s = %d %q, want %d", i, s.method, s.path, code, body, s.code)
			continue
		}
		if ct := h.Get("Content-Type"); ct != "application/json" {
			t.Errorf("step %d: Content-Type %q", i, ct)
		}
		if code == 429 && h.Get("Retry-After") != "2" {
			t.Errorf("429 with Retry-After %q, want 2", h.Get("Retry-After"))
		}
		var rep Report
		_, err := api.Decode(code, []byte(body), &rep)
		var ae *api.Error
		switch {
		case s.errType == "" && (err != nil || !s.check(rep)):
			t.Errorf("step %d: %v, report %+v", i, err, rep)
		case s.errType != "" && (!errors.As(err, &ae) || ae.Type != s.errType || !strings.Contains(ae.Msg, s.msg)):
			t.Errorf("step %d: %v (body %q), want %s containing %q", i, err, body, s.errType, s.msg)
		}
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	code, _, body := get("GET", q(lit+"/ok"))
	var rep Report
	if _, err := api.Decode(code, []byte(body), &rep); code != 200 || err != nil || rep.Code != 200 || !rep.OK {
		t.Errorf("after the refill: %d %s", code, body)
	}
}
