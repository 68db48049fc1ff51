package fetch

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// recorder is a loopback HTTP server that counts the requests it gets and
// answers each with its own name, so a test sees which server answered.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newRecorder(t *testing.T, name string) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Clone(context.Background()))
		r.mu.Unlock()
		fmt.Fprint(w, name)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *recorder) last() *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		return nil
	}
	return r.reqs[len(r.reqs)-1]
}

func newClient(t *testing.T, tg *config.Target, o Options) *Client {
	t.Helper()
	c, err := New(tg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func get(c *Client, url string) ([]byte, error) {
	return c.Get(context.Background(), Request{URL: url, Timeout: 5 * time.Second, Limit: 1 << 20})
}

// The side channels take the prober's proxy policy: a proxy from the
// environment is never used, proxy_url always is.
func TestGetProxyPolicy(t *testing.T) {
	origin := newRecorder(t, "origin")
	envProxy := newRecorder(t, "environment proxy")
	configured := newRecorder(t, "configured proxy")
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(k, envProxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	// Loopback addresses never go through a proxy from the environment, so
	// the side channel names a host that only this test's dialer knows.
	const url = "http://origin.test/status"
	originAddr := origin.Listener.Addr().String()
	dial := (&net.Dialer{Timeout: time.Second}).DialContext
	redirectDial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "origin.test:80" {
			addr = originAddr
		}
		return dial(ctx, network, addr)
	}

	// Control: the environment is in effect, a transport that honours it
	// goes through the recorder. net/http reads the environment once per
	// process, so the control only runs when this test set it first.
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if u, _ := http.ProxyFromEnvironment(req); u != nil && "http://"+u.Host == envProxy.URL {
		resp, err := (&http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if envProxy.count() != 1 {
			t.Fatalf("control: the environment proxy got %d requests, want 1", envProxy.count())
		}
	} else {
		t.Log("the environment proxy was read before this test; control skipped")
	}
	for _, tc := range []struct {
		name     string
		proxyURL string
		want     string
		via      *recorder
	}{
		{"no proxy_url: direct, the environment ignored", "", "origin", origin},
		{"proxy_url: through it", configured.URL, "configured proxy", configured},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := config.NewTarget("a", "http://origin.test/")
			if err := tg.SetProxyURL(tc.proxyURL); err != nil {
				t.Fatal(err)
			}
			c := newClient(t, &tg, Options{})
			c.transport.DialContext = redirectDial
			before, envBefore := tc.via.count(), envProxy.count()
			body, err := get(c, url)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tc.want {
				t.Errorf("answered by %q, want %q", body, tc.want)
			}
			if n := tc.via.count() - before; n != 1 {
				t.Errorf("%s got %d requests, want 1", tc.want, n)
			}
			if tc.via == configured {
				if r := configured.last(); r.URL.String() != url {
					t.Errorf("the proxy was asked for %q, want %q", r.URL, url)
				}
			}
			if n := envProxy.count() - envBefore; n != 0 {
				t.Errorf("the environment proxy got %d requests", n)
			}
		})
	}
}

// The side channels identify as the exporter, as the prober does; the
// request's own headers may replace that, and set Host.
func TestGetHeaders(t *testing.T) {
	srv := newRecorder(t, "ok")
	tg := config.NewTarget("a", srv.URL)
	for _, tc := range []struct {
		name       string
		opts       Options
		header     map[string]string
		accept     string
		wantUA     string
		wantHost   string
		wantAccept string
	}{
		{name: "version", opts: Options{Version: "1.2.3"}, wantUA: "http5xx_exporter/1.2.3"},
		{name: "accept", opts: Options{Version: "1.2.3"}, accept: "application/json", wantUA: "http5xx_exporter/1.2.3", wantAccept: "application/json"},
		{name: "header replaces the user agent", opts: Options{Version: "1.2.3"}, header: map[string]string{"user-agent": "waf-friendly"}, wantUA: "waf-friendly"},
		{name: "host header", opts: Options{Version: "1.2.3"}, header: map[string]string{"Host": "shop.example"}, wantUA: "http5xx_exporter/1.2.3", wantHost: "shop.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, &tg, tc.opts)
			if _, err := c.Get(t.Context(), Request{URL: srv.URL, Accept: tc.accept, Header: tc.header, Timeout: time.Second, Limit: 64}); err != nil {
				t.Fatal(err)
			}
			r := srv.last()
			if got := r.Header.Get("User-Agent"); got != tc.wantUA {
				t.Errorf("User-Agent %q, want %q", got, tc.wantUA)
			}
			if got := r.Header.Get("Accept"); got != tc.wantAccept {
				t.Errorf("Accept %q, want %q", got, tc.wantAccept)
			}
			wantHost := tc.wantHost
			if wantHost == "" {
				wantHost = srv.Listener.Addr().String()
			}
			if r.Host != wantHost {
				t.Errorf("Host %q, want %q", r.Host, wantHost)
			}
		})
	}
}

// A body over the limit is an error, whether announced or streamed; a
// body of exactly the limit is read whole.
func TestGetBodyLimit(t *testing.T) {
	const limit = 1 << 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		if r.URL.Query().Has("declared") {
			w.Header().Set("Content-Length", fmt.Sprint(n))
		} else {
			w.(http.Flusher).Flush() // chunked: no length announced
		}
		_, _ = w.Write([]byte(strings.Repeat("x", n)))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, &config.Target{Name: "a"}, Options{})
	for _, tc := range []struct {
		query   string
		wantLen int
		wantErr string
	}{
		{query: "n=1024", wantLen: limit},
		{query: "n=1024&declared", wantLen: limit},
		{query: "n=1025", wantErr: "body over the size limit: more than 1024 bytes"},
		{query: "n=1048576", wantErr: "body over the size limit: more than 1024 bytes"},
		{query: "n=1025&declared", wantErr: "body over the size limit: 1025 bytes announced, the limit is 1024"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			body, err := c.Get(t.Context(), Request{URL: srv.URL + "/?" + tc.query, Timeout: 5 * time.Second, Limit: limit})
			if tc.wantErr != "" {
				if !errors.Is(err, ErrTooLarge) || err.Error() != tc.wantErr {
					t.Fatalf("got %d bytes, %v; want %q", len(body), err, tc.wantErr)
				}
				return
			}
			if err != nil || len(body) != tc.wantLen {
				t.Fatalf("got %d bytes, %v; want %d", len(body), err, tc.wantLen)
			}
		})
	}
}

// hangAfter is no performance bound: it only turns a call that ignores its
// deadline into a failure instead of a hung test, with a huge margin over
// every timeout here.
const hangAfter = time.Minute

// returns runs call and fails the test if it never returns.
func returns[T any](t *testing.T, what string, call func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- call() }()
	select {
	case v := <-done:
		return v
	case <-time.After(hangAfter):
		t.Fatalf("%s still running after %v: it ignores its deadline", what, hangAfter)
		panic("unreachable")
	}
}

// The timeout bounds the whole request: a server that answers at once but
// trickles its body is cut off as surely as one that never answers. Both
// hold on until the test ends, so the deadline's error proves the bound.
func TestGetTimeout(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/trickle":
			w.Header().Set("Content-Length", "1000000")
			for {
				if _, err := w.Write([]byte("x")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-stop:
					return
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		case "/hang":
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	c := newClient(t, &config.Target{Name: "a"}, Options{})
	const timeout = 300 * time.Millisecond
	for _, path := range []string{"/trickle", "/hang"} {
		t.Run(path, func(t *testing.T) {
			start := time.Now()
			err := returns(t, "Get", func() error {
				_, err := c.Get(t.Context(), Request{URL: srv.URL + path, Timeout: timeout, Limit: 1 << 20})
				return err
			})
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no complete answer within 300ms") {
				t.Fatalf("%v; want a timeout", err)
			}
			if took := time.Since(start); took < timeout {
				t.Errorf("took %s with a %s timeout", took, timeout)
			}
		})
	}

	// The caller's cancellation is not the fetch's timeout.
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Get(ctx, Request{URL: srv.URL + "/hang", Timeout: time.Minute, Limit: 1})
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "no complete answer") {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func TestGetStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/"), &code)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "page")
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, &config.Target{Name: "a"}, Options{})
	for _, tc := range []struct {
		code    int
		wantErr string
	}{
		{200, ""},
		{204, ""},
		{404, "HTTP 404 Not Found"},
		{500, "HTTP 500 Internal Server Error"},
		{503, "HTTP 503 Service Unavailable"},
	} {
		_, err := get(c, fmt.Sprintf("%s/%d", srv.URL, tc.code))
		var se *StatusError
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%d: %v", tc.code, err)
		case tc.wantErr != "" && (!errors.As(err, &se) || se.Code != tc.code || err.Error() != tc.wantErr):
			t.Errorf("%d: %v, want a StatusError %q", tc.code, err, tc.wantErr)
		}
	}
}

// The target's tls settings apply: its CA makes a server trusted that the
// system roots do not know.
func TestNewTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	for _, tc := range []struct {
		name    string
		mod     func(*config.Target)
		newErr  string
		wantErr string
	}{
		{name: "target CA", mod: func(tg *config.Target) { tg.TLS.CA = ca }},
		{name: "insecure_skip_verify", mod: func(tg *config.Target) { tg.TLS.InsecureSkipVerify = true }},
		{name: "system roots", mod: func(*config.Target) {}, wantErr: "certificate"},
		{name: "unusable CA", mod: func(tg *config.Target) { tg.TLS.CA = "nope" }, newErr: `target "a": tls: unable to use specified CA cert`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := config.NewTarget("a", srv.URL)
			tc.mod(&tg)
			c, err := New(&tg, Options{})
			if tc.newErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.newErr) {
					t.Fatalf("New: %v, want %q", err, tc.newErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			body, err := get(c, srv.URL)
			switch {
			case tc.wantErr == "" && (err != nil || string(body) != "ok"):
				t.Errorf("got %q, %v", body, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// A Get without bounds is refused, not run unbounded.
func TestGetNeedsBounds(t *testing.T) {
	srv := newRecorder(t, "ok")
	c := newClient(t, &config.Target{Name: "a"}, Options{})
	for _, r := range []Request{
		{URL: srv.URL, Limit: 1},
		{URL: srv.URL, Timeout: time.Second},
	} {
		if _, err := c.Get(t.Context(), r); err == nil {
			t.Errorf("%+v: no error", r)
		}
	}
	if n := srv.count(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// The side channels send the target's credentials to the target's own
// origin only: a version_url beside the target gets them, a saturation
// source elsewhere (another port is another origin) never does.
func TestGetCredentialsOnlyToTheTargetsOrigin(t *testing.T) {
	own := newRecorder(t, "own origin")
	other := newRecorder(t, "other origin")
	tg := config.NewTarget("a", own.URL+"/health")
	tg.Authorization = &commoncfg.Authorization{Type: "Bearer", Credentials: "s3cret"}
	c, err := New(&tg, Options{Version: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	for _, tc := range []struct {
		via  *recorder
		want string
	}{
		{own, "Bearer s3cret"},
		{other, ""},
	} {
		if _, err := c.Get(context.Background(), Request{URL: tc.via.URL + "/version", Timeout: 5 * time.Second, Limit: 1 << 10}); err != nil {
			t.Fatal(err)
		}
		if got := tc.via.last().Header.Get("Authorization"); got != tc.want {
			t.Errorf("%s got Authorization %q, want %q", tc.via.URL, got, tc.want)
		}
	}
}

// The side channels dial within the target's ip_family, as the prober does:
// only that family, and no address of it is a DNS error.
func TestGetIPFamily(t *testing.T) {
	v4 := newRecorder(t, "v4")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(v4.URL, "http://"))
	for _, tc := range []struct {
		family, url string
		wantDNS     bool
	}{
		{"any", v4.URL, false},
		{"ip4", "http://localhost:" + port, false},
		{"ip6", v4.URL, true},
	} {
		tg := config.NewTarget("a", "http://example.invalid/")
		tg.IPFamily = tc.family
		c, err := New(&tg, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Get(context.Background(), Request{URL: tc.url, Timeout: 5 * time.Second, Limit: 1 << 10})
		c.Close()
		var dnsErr *net.DNSError
		if got := errors.As(err, &dnsErr); got != tc.wantDNS || (!tc.wantDNS && err != nil) {
			t.Errorf("ip_family %s, %s: err %v, want a DNS error: %v", tc.family, tc.url, err, tc.wantDNS)
		}
	}
}
