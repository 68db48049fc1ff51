package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// start serves a fresh origin on a loopback socket.
func start(t *testing.T) (*server, *httptest.Server) {
	t.Helper()
	s := newServer(options{Version: "1.0.0", Seed: 42})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// client does not follow redirects, so tests see each hop.
func client() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// call sends one request and returns the answer with its body read.
func call(t *testing.T, method, url, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, string(b)
}

func TestFixedPaths(t *testing.T) {
	_, ts := start(t)
	for _, tc := range []struct {
		path     string
		status   int
		header   map[string]string // "" wants the header absent
		contains []string          // in the body
	}{
		{"/", 200, map[string]string{"Retry-After": "", "Server": ""}, []string{"200 OK"}},
		{"/ok", 200, nil, []string{"200 OK"}},
		{"/status/200", 200, nil, nil},
		{"/status/404", 404, nil, nil},
		{"/status/500", 500, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, []string{"500 Internal Server Error"}},
		{"/status/502", 502, map[string]string{"Retry-After": ""}, []string{"502 Bad Gateway"}},
		{"/status/503", 503, map[string]string{"Retry-After": "30"}, []string{"503 Service Unavailable"}},
		{"/status/503?retry_after=120", 503, map[string]string{"Retry-After": "120"}, nil},
		{"/status/503?retry_after=", 503, map[string]string{"Retry-After": ""}, nil},
		{"/status/429", 429, map[string]string{"Retry-After": "30"}, nil},
		{"/status/504", 504, nil, []string{"504 Gateway Timeout"}},
		{"/status/799", 799, nil, nil},
		{"/status/103", 200, nil, []string{"200 OK"}}, // interim 103, then a final 200
		{"/status/99", 400, nil, []string{"between 100 and 999"}},
		{"/status/1000", 400, nil, nil},
		{"/status/abc", 400, nil, nil},
		{"/retry-after/120", 503, map[string]string{"Retry-After": "120"}, nil},
		{"/retry-after/Wed,%2021%20Oct%202015%2007:28:00%20GMT", 503, map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, nil},
		{"/retry-after/soon", 503, map[string]string{"Retry-After": "soon"}, nil},
		{"/delay/10ms", 200, nil, []string{"200 OK"}},
		{"/delay/0", 200, nil, nil},
		{"/delay/6m", 400, nil, []string{"at most 5m0s"}},
		{"/delay/-1s", 400, nil, nil},
		{"/delay/soon", 400, nil, nil},
		{"/delay/301", 400, nil, []string{"at most 5m0s"}},
		{"/delay/18446744074", 400, nil, nil}, // seconds that wrap around to 290ms
		{"/huge?bytes=1000", 200, map[string]string{"Content-Length": "1000"}, nil},
		{"/huge?bytes=1KiB", 200, map[string]string{"Content-Length": "1024"}, nil},
		{"/huge?bytes=-1", 400, nil, nil},
		{"/huge?bytes=1TiB", 400, nil, nil},
		{"/trickle?bytes=0", 200, map[string]string{"Content-Length": "0"}, nil},
		{"/trickle?bytes=9999", 400, nil, nil},
		{"/redirect-loop", 302, map[string]string{"Location": "/redirect-loop/a"}, nil},
		{"/redirect-loop/a", 302, map[string]string{"Location": "/redirect-loop/b"}, nil},
		{"/redirect-loop/b", 302, map[string]string{"Location": "/redirect-loop/a"}, nil},
		{"/redirect-loop/c", 404, nil, nil},
		{"/flaky", 200, nil, nil},
		{"/flaky?p500=1", 500, nil, nil},
		{"/flaky?p503=1", 503, map[string]string{"Retry-After": "30"}, nil},
		{"/flaky?p502=1&as=nginx", 502, map[string]string{"Server": "nginx"}, []string{"<hr><center>nginx</center>"}},
		{"/flaky?p500=0.7&p503=0.7", 400, nil, []string{"add up to 1.4"}},
		{"/flaky?p500=x", 400, nil, nil},
		{"/flaky?p5000=0.1", 400, nil, nil},
		{"/-/healthy", 200, nil, []string{"Healthy"}},
		{"/nope", 404, nil, nil},

		// Error pages of the products a 5xx can come from.
		{"/status/502?as=nginx", 502, map[string]string{"Server": "nginx", "Content-Type": "text/html"},
			[]string{"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>"}},
		{"/status/503?as=nginx", 503, map[string]string{"Server": "nginx", "Retry-After": "30"},
			[]string{"<h1>503 Service Temporarily Unavailable</h1>"}},
		{"/status/504?as=nginx", 504, nil, []string{"<h1>504 Gateway Time-out</h1>"}},
		{"/status/200?as=nginx", 200, map[string]string{"Server": "nginx"}, []string{"200 OK"}},
		{"/status/503?as=envoy", 503, map[string]string{"Server": "envoy", "Content-Type": "text/plain; charset=utf-8"},
			[]string{"upstream connect error or disconnect/reset before headers"}},
		{"/status/504?as=envoy", 504, map[string]string{"Server": "envoy"}, []string{"upstream request timeout"}},
		{"/status/522?as=cloudflare", 522, map[string]string{"Server": "cloudflare"},
			[]string{`<span class="cf-error-code">522</span>`, "Connection timed out", "Cloudflare Ray ID"}},
		{"/status/502?as=cloudflare", 502, map[string]string{"Server": "cloudflare"}, []string{"<hr><center>cloudflare</center>"}},
		{"/status/503?as=haproxy", 503, map[string]string{"Server": "", "Cache-Control": "no-cache"},
			[]string{"<h1>503 Service Unavailable</h1>\nNo server is available to handle this request."}},
		{"/status/500?as=iis", 400, nil, []string{"nginx, envoy, cloudflare, haproxy"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := call(t, http.MethodGet, ts.URL+tc.path, "", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %q", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("X-App-Version"); got != "1.0.0" {
				t.Errorf("X-App-Version = %q, want 1.0.0", got)
			}
			for k, want := range tc.header {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, want := range tc.contains {
				if !strings.Contains(body, want) {
					t.Errorf("body %q does not contain %q", body, want)
				}
			}
		})
	}
}

func TestCloudflareRay(t *testing.T) {
	_, ts := start(t)
	resp, body := call(t, http.MethodGet, ts.URL+"/status/521?as=cloudflare", "", nil)
	ray := resp.Header.Get("CF-RAY")
	id, _, _ := strings.Cut(ray, "-")
	if len(id) != 16 || !strings.Contains(body, id) {
		t.Errorf("CF-RAY %q should be 16 hex digits and a colo, and appear in the page %q", ray, body)
	}
}

func TestHugeBodyIsComplete(t *testing.T) {
	_, ts := start(t)
	resp, body := call(t, http.MethodGet, ts.URL+"/huge?bytes=100000", "", nil)
	if resp.StatusCode != 200 || len(body) != 100000 {
		t.Errorf("status %d, %d bytes; want 200 and 100000 bytes", resp.StatusCode, len(body))
	}
}

func TestTrickleSendsOneBytePerSecond(t *testing.T) {
	_, ts := start(t)
	begin := time.Now()
	resp, body := call(t, http.MethodGet, ts.URL+"/trickle?bytes=2", "", nil)
	if took := time.Since(begin); resp.StatusCode != 200 || body != ".." || took < 2*time.Second {
		t.Errorf("status %d, body %q after %s; want 200, %q after 2s or more", resp.StatusCode, body, took, "..")
	}
}

func TestFlakyFollowsSeedAndProbabilities(t *testing.T) {
	const n = 1000
	run := func() map[int]int {
		_, ts := start(t)
		c := client()
		counts := map[int]int{}
		for range n {
			resp, err := c.Get(ts.URL + "/flaky?p500=0.1&p503=0.2")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			counts[resp.StatusCode]++
		}
		return counts
	}
	first, second := run(), run()
	for code, want := range map[int]float64{200: 0.7, 500: 0.1, 503: 0.2} {
		if got := float64(first[code]) / n; got < want-0.05 || got > want+0.05 {
			t.Errorf("%d: share %.3f, want %.2f±0.05 (%v)", code, got, want, first)
		}
		if first[code] != second[code] {
			t.Errorf("%d: %d then %d answers with the same seed", code, first[code], second[code])
		}
	}
}

// watched wraps h to report each time a handler returns, so a test can tell
// that no goroutine is left behind.
func watched(h http.Handler) (http.Handler, <-chan string) {
	done := make(chan string, 16)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- r.URL.Path }()
		h.ServeHTTP(w, r)
	}), done
}

func TestHandlersReturnWhenTheClientLeaves(t *testing.T) {
	for _, tc := range []struct {
		path string
		read int // body bytes to read before leaving; -1 leaves before the headers
	}{
		{"/hang", -1},
		{"/delay/5m", -1},
		{"/trickle?bytes=3600", 0},
		{"/huge?bytes=16GiB", 1 << 20},
	} {
		t.Run(tc.path, func(t *testing.T) {
			h, done := watched(newServer(options{Seed: 1}))
			ts := httptest.NewServer(h)
			defer ts.Close()

			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+tc.path, nil)
			if tc.read < 0 {
				time.AfterFunc(200*time.Millisecond, cancel)
			}
			resp, err := http.DefaultClient.Do(req)
			switch {
			case tc.read < 0 && !errors.Is(err, context.Canceled):
				t.Fatalf("err = %v, want the request to wait until cancelled", err)
			case tc.read >= 0 && err != nil:
				t.Fatal(err)
			case tc.read >= 0:
				if _, err := io.CopyN(io.Discard, resp.Body, int64(tc.read)); err != nil {
					t.Fatal(err)
				}
				cancel()
				resp.Body.Close()
			}
			cancel()
			select {
			case <-done:
			case <-time.After(time.Minute): // a hang detector: every handler here would run for minutes
				t.Fatal("handler still running a minute after the client left")
			}
		})
	}
}

// rawGet sends a GET over a fresh connection and returns what came back
// before the connection ended, and how it ended.
func rawGet(t *testing.T, addr, path string, header string) ([]byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute)) // a hang detector, not a bound
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: demo\r\n"+header+"\r\n"); err != nil {
		t.Fatal(err)
	}
	return io.ReadAll(conn)
}

func TestResetSendsRST(t *testing.T) {
	_, ts := start(t)
	got, err := rawGet(t, ts.Listener.Addr().String(), "/reset", "")
	if !errors.Is(err, syscall.ECONNRESET) || len(got) != 0 {
		t.Errorf("read %q, %v; want nothing and a connection reset", got, err)
	}
	// And through an ordinary client, as a probe sees it.
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	_, err = c.Get(ts.URL + "/reset")
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client error = %v, want ECONNRESET", err)
	}
}

func TestGarbageIsNotHTTP(t *testing.T) {
	_, ts := start(t)
	got, err := rawGet(t, ts.Listener.Addr().String(), "/garbage", "")
	if err != nil || string(got) != garbage {
		t.Errorf("read %q, %v; want %q and a clean close", got, err, garbage)
	}
	if _, err := http.Get(ts.URL + "/garbage"); err == nil || !strings.Contains(err.Error(), "malformed HTTP") {
		t.Errorf("client error = %v, want a malformed HTTP response", err)
	}
}

// A final 101 is sent and the connection closed: no protocol follows, and
// neither the probe nor the origin is left holding the connection.
func TestSwitchingProtocolsClosesTheConnection(t *testing.T) {
	_, ts := start(t)
	got, err := rawGet(t, ts.Listener.Addr().String(), "/status/101", "")
	if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 101 Switching Protocols\r\n") || !strings.HasSuffix(string(got), "\r\n\r\n") {
		t.Errorf("read %q, %v; want the 101 header and a clean close", got, err)
	}
	// The same through a scenario.
	if resp, _ := call(t, http.MethodPut, ts.URL+"/-/control/upgrade", `{"status":101}`, nil); resp.StatusCode != 200 {
		t.Fatalf("PUT scenario: %d", resp.StatusCode)
	}
	got, err = rawGet(t, ts.Listener.Addr().String(), "/t/upgrade", "")
	if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 101 ") {
		t.Errorf("scenario: read %q, %v; want the 101 header and a clean close", got, err)
	}
}

func TestServeStopsWithHangingRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inner, done := watched(newServer(options{Seed: 1}))
	arrived := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang" {
			arrived <- struct{}{}
		}
		inner.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln, h, slog.New(slog.DiscardHandler)) }()

	base := "http://" + ln.Addr().String()
	if resp, _ := call(t, http.MethodGet, base+"/-/healthy", "", nil); resp.StatusCode != 200 {
		t.Fatalf("/-/healthy = %d", resp.StatusCode)
	}
	<-done
	hung := make(chan error, 1)
	go func() {
		_, err := http.Get(base + "/hang")
		hung <- err
	}()
	// Once /hang is in its handler, Shutdown must wait for it: serve
	// returning without an error (not its shutdown timeout's) proves the
	// handler ended with the context. The minute is only a hang detector.
	select {
	case <-arrived:
	case <-time.After(time.Minute):
		t.Fatal("/hang did not reach its handler within a minute")
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not return a minute after its context ended")
	}
	if err := <-hung; err == nil {
		t.Error("/hang answered; want the connection to end without an answer")
	}
}
