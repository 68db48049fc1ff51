package probe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// bothPaths builds tgt's prober twice: on the lean path and, with
// probe_path: net/http, on net/http's client.
func bothPaths(t testing.TB, tgt *config.Target) (lean, std *Prober) {
	t.Helper()
	lean = newProber(t, tgt)
	forced := *tgt
	forced.ProbePath = config.ProbePathNetHTTP
	std = newProber(t, &forced)
	if lean.Path() != PathLean || std.Path() != PathNetHTTP {
		t.Fatalf("paths %q and %q, want %q and %q", lean.Path(), std.Path(), PathLean, PathNetHTTP)
	}
	return lean, std
}

// sameVerdict reports how two results of the same answer differ in what
// the exporter makes of them; "" when they agree. phases: compare which
// phases were seen too.
func sameVerdict(a, b *Result, phases bool) string {
	var diffs []string
	add := func(what string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			diffs = append(diffs, fmt.Sprintf("%s %v vs %v", what, x, y))
		}
	}
	add("reason", a.Reason, b.Reason)
	add("code", a.StatusCode, b.StatusCode)
	add("phrase", a.Phrase, b.Phrase)
	add("class", a.Class, b.Class)
	add("owner", a.Owner, b.Owner)
	add("cause", a.Cause, b.Cause)
	add("success", a.Success, b.Success)
	add("retry-after", a.RetryAfter, b.RetryAfter)
	// How much of a body the deadline cut off depends on timing.
	if a.Reason != contract.ReasonTimeout || b.Reason != contract.ReasonTimeout {
		add("body bytes", a.BodyBytes, b.BodyBytes)
		add("body prefix", string(a.BodyPrefix), string(b.BodyPrefix))
	}
	// Date is the server's clock: two probes that straddle a second differ.
	add("header", withoutDate(a.Header), withoutDate(b.Header))
	add("protocol", a.Conn.Protocol, b.Conn.Protocol)
	add("error or not", a.Err == nil, b.Err == nil)
	if phases {
		add("phases seen", a.PhaseSeen, b.PhaseSeen)
	}
	return strings.Join(diffs, "; ")
}

func withoutDate(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	h = h.Clone()
	h.Del("Date")
	return h
}

// serveBytes plays a server that reads the request and answers raw, then
// closes (hold: keeps the connection open until the test ends).
func serveBytes(raw string, hold bool) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, raw)
		if hold {
			<-done
		}
	}
}

// TestLeanAgreesWithNetHTTP probes the same hostile and broken servers on
// real loopback sockets on both paths and wants the same verdict: reason,
// code, class, owner, success, body bytes and the phases seen.
func TestLeanAgreesWithNetHTTP(t *testing.T) {
	t.Parallel()
	drip := func(head string, every time.Duration) func(net.Conn, <-chan struct{}) {
		return func(c net.Conn, done <-chan struct{}) {
			readRequest(c)
			io.WriteString(c, head)
			for {
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
				select {
				case <-done:
					return
				case <-time.After(every):
				}
			}
		}
	}
	filler := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "X-Filler-%d: %s\r\n", i, strings.Repeat("f", 1000))
		}
		return b.String()
	}
	cases := []struct {
		name    string
		serve   func(net.Conn, <-chan struct{})
		timeout bool // the verdict is the deadline's: hostileTimeout, not patientTimeout
		mod     func(*config.Target)
	}{
		{name: "200", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false)},
		{name: "503 with Retry-After", serve: serveBytes("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 5\r\n\r\nbusy\n", false)},
		{name: "nginx 502 page", serve: serveBytes("HTTP/1.1 502 Bad Gateway\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 150\r\n\r\n"+
			"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", false)},
		{name: "HTTP/1.0 close-delimited", serve: serveBytes("HTTP/1.0 200 OK\r\n\r\nuntil the end", false)},
		{name: "HTTP/1.1 without length, close-delimited", serve: serveBytes("HTTP/1.1 500 Internal Server Error\r\n\r\nbroken", false)},
		{name: "chunked with trailer", serve: serveBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", true)},
		{name: "chunked and Content-Length", serve: serveBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n2\r\nok\r\n0\r\n\r\n", true)},
		{name: "chunked cut short", serve: serveBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", false)},
		{name: "bad chunk size", serve: serveBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false)},
		{name: "unknown transfer encoding", serve: serveBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", false)},
		{name: "two equal Content-Lengths", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", false)},
		{name: "two Content-Lengths", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nabcdefg", false)},
		{name: "negative Content-Length", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc", false)},
		{name: "Content-Length not a number", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\nabc", false)},
		{name: "obs-fold", serve: serveBytes("HTTP/1.1 503 Service Unavailable\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n", false)},
		{name: "header without a colon", serve: serveBytes("HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 0\r\n\r\n", false)},
		{name: "space before the colon", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", false)},
		{name: "bare LF line ends", serve: serveBytes("HTTP/1.1 404 Not Found\nContent-Length: 3\n\nno\n", false)},
		{name: "no reason phrase", serve: serveBytes("HTTP/1.1 504\r\nContent-Length: 0\r\n\r\n", false)},
		{name: "two-digit status", serve: serveBytes("HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", false)},
		{name: "status code below 100", serve: serveBytes("HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n", false)},
		{name: "status 999", serve: serveBytes("HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n", false)},
		{name: "HTTP/2.0 status line", serve: serveBytes("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", false)},
		{name: "HTTP/0.9", serve: serveBytes("<html>hello from 1991</html>\n", false)},
		{name: "SSH banner", serve: serveBytes("SSH-2.0-OpenSSH_9.6\r\n\r\n", false)},
		{name: "204 with a body", serve: serveBytes("HTTP/1.1 204 No Content\r\n\r\nstray bytes", true)},
		{name: "100 then 200", serve: serveBytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false)},
		{name: "103 then 503", serve: serveBytes("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false)},
		{name: "nine 1xx", serve: serveBytes(strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", 9)+"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false)},
		{name: "101 switch", serve: serveBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", true)},
		{name: "headers just under the limit", serve: serveBytes("HTTP/1.1 200 OK\r\n"+filler(60)+"Content-Length: 0\r\n\r\n", false)},
		{name: "headers over the limit", serve: serveBytes("HTTP/1.1 200 OK\r\n"+filler(70)+"Content-Length: 0\r\n\r\n", false)},
		{name: "1xx headers each under the limit", serve: serveBytes("HTTP/1.1 103 Early Hints\r\n"+filler(40)+"\r\n"+"HTTP/1.1 200 OK\r\n"+filler(40)+"Content-Length: 0\r\n\r\n", false)},
		{name: "body over the limit", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n"+strings.Repeat("b", 4096), false),
			mod: func(tgt *config.Target) { tgt.BodySizeLimit = 1024 }},
		{name: "5xx body over the limit", serve: serveBytes("HTTP/1.1 500 Internal Server Error\r\n\r\n"+strings.Repeat("e", 4096), false),
			mod: func(tgt *config.Target) { tgt.BodySizeLimit = 100 }},
		{name: "soft error by expect", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\nFatal error: boom", false),
			mod: func(tgt *config.Target) { tgt.Expect = []config.Condition{{BodyNotContains: "Fatal error"}} }},
		{name: "error page served with 200", serve: serveBytes("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 150\r\n\r\n"+
			"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", false)},
		{name: "half-close before the answer", serve: func(c net.Conn, done <-chan struct{}) {
			readRequest(c)
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, c)
		}},
		{name: "half-close in the headers", serve: func(c net.Conn, done <-chan struct{}) {
			readRequest(c)
			io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/")
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, c)
		}},
		{name: "reset", serve: func(c net.Conn, done <-chan struct{}) {
			readRequest(c)
			c.(*net.TCPConn).SetLinger(0)
		}},
		{name: "closed before the answer", serve: func(c net.Conn, done <-chan struct{}) { readRequest(c) }},
		{name: "shorter than Content-Length, then close", serve: serveBytes("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 100\r\n\r\nonly this", false)},
		{name: "longer than Content-Length", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello and more", true)},
		{name: "silence after the request", serve: func(c net.Conn, done <-chan struct{}) { readRequest(c); <-done }, timeout: true},
		{name: "slowloris headers", serve: drip("HTTP/1.1 200 OK\r\n", 50*time.Millisecond), timeout: true},
		{name: "slowloris body", serve: drip("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\n", 50*time.Millisecond), timeout: true},
		{name: "shorter than Content-Length, then silence", serve: serveBytes("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 100\r\n\r\nonly this", true), timeout: true},
		{name: "huge chunk never sent", serve: serveBytes("HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\nabc", true), timeout: true},
		{name: "never reads the request body", serve: func(c net.Conn, done <-chan struct{}) { <-done }, timeout: true,
			mod: func(tgt *config.Target) { tgt.Method, tgt.Body = http.MethodPost, strings.Repeat("b", 32<<20) }},
		{name: "POST answered", serve: serveBytes("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", false),
			mod: func(tgt *config.Target) { tgt.Method, tgt.Body = http.MethodPost, `{"ping":true}` }},
		{name: "HEAD with a Content-Length", serve: serveBytes("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", true),
			mod: func(tgt *config.Target) { tgt.Method = http.MethodHead }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tgt := testTarget("http://" + rawServer(t, c.serve) + "/health")
			tgt.Timeout = model.Duration(patientTimeout)
			if c.timeout {
				tgt.Timeout = model.Duration(hostileTimeout)
			}
			if c.mod != nil {
				c.mod(tgt)
			}
			lean, std := bothPaths(t, tgt)
			results := make([]Result, 2)
			done := make(chan struct{})
			for i, p := range []*Prober{lean, std} {
				go func() { results[i] = probeReturns(t, p); done <- struct{}{} }()
			}
			<-done
			<-done
			a, b := &results[0], &results[1]
			if d := sameVerdict(a, b, true); d != "" {
				t.Errorf("lean and net/http disagree: %s\n lean:     %v\n net/http: %v", d, a.Err, b.Err)
			}
			if a.Conn.Path != PathLean || b.Conn.Path != PathNetHTTP {
				t.Errorf("Conn.Path %q and %q", a.Conn.Path, b.Conn.Path)
			}
			if c.timeout != (a.Reason == contract.ReasonTimeout) {
				t.Errorf("reason %q: the case's timeout is wrong", a.Reason)
			}
			t.Logf("%s %d %s: lean %v / net/http %v", a.Reason, a.StatusCode, a.Class, a.Err, b.Err)
		})
	}
}

// TestLeanAgreesBeforeTheAnswer: resolve and connect failures, and a name
// that resolves, on both paths.
func TestLeanAgreesBeforeTheAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, tc := range []struct{ name, url string }{
		{"dns", "http://http5xx-probe-test.invalid/"},
		{"connect_refused", "http://" + refusedAddr(t) + "/"},
		{"a name", "http://localhost:" + port + "/"},
		{"ip4 only", "http://localhost:" + port + "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := testTarget(tc.url)
			if tc.name == "ip4 only" {
				tgt.IPFamily = contract.FamilyIP4
			}
			lean, std := bothPaths(t, tgt)
			a, b := probeReturns(t, lean), probeReturns(t, std)
			if d := sameVerdict(&a, &b, true); d != "" {
				t.Errorf("lean and net/http disagree: %s\n lean:     %v\n net/http: %v", d, a.Err, b.Err)
			}
			if a.Conn.IPFamily != b.Conn.IPFamily {
				t.Errorf("ip family %q vs %q", a.Conn.IPFamily, b.Conn.IPFamily)
			}
			t.Logf("%s: lean %v / net/http %v", a.Reason, a.Err, b.Err)
		})
	}
}

// TestLeanPath: which targets take the lean path.
func TestLeanPath(t *testing.T) {
	t.Parallel()
	follow := true
	for _, tc := range []struct {
		name string
		mod  func(*config.Target)
		want string
	}{
		{"default", func(*config.Target) {}, PathLean},
		{"probe_path auto", func(tgt *config.Target) { tgt.ProbePath = config.ProbePathAuto }, PathLean},
		{"probe_path net/http", func(tgt *config.Target) { tgt.ProbePath = config.ProbePathNetHTTP }, PathNetHTTP},
		{"https", func(tgt *config.Target) { tgt.URL = "https://127.0.0.1/" }, PathNetHTTP},
		{"http2", func(tgt *config.Target) { tgt.HTTP2 = true }, PathNetHTTP},
		{"keep_alive", func(tgt *config.Target) { tgt.KeepAlive = true }, PathNetHTTP},
		{"follow_redirects, until a redirect", func(tgt *config.Target) { tgt.FollowRedirects = &follow }, PathLean},
		{"proxy_url", func(tgt *config.Target) { tgt.SetProxyURL("http://127.0.0.1:3128") }, PathNetHTTP},
		{"proxy_from_environment", func(tgt *config.Target) { tgt.ProxyFromEnvironment = true }, PathNetHTTP},
		{"basic_auth", func(tgt *config.Target) { tgt.BasicAuth = &commoncfg.BasicAuth{Username: "u", Password: "p"} }, PathNetHTTP},
		{"credentials in the URL", func(tgt *config.Target) { tgt.URL = "http://probe:secret@127.0.0.1/" }, PathNetHTTP},
		{"CONNECT", func(tgt *config.Target) { tgt.Method = http.MethodConnect }, PathNetHTTP},
		{"a name that is not ASCII", func(tgt *config.Target) { tgt.URL = "http://bücher.example/" }, PathNetHTTP},
	} {
		tgt := testTarget("http://127.0.0.1/")
		tc.mod(tgt)
		if got := newProber(t, tgt).Path(); got != tc.want {
			t.Errorf("%s: path %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestLeanSendsWhatNetHTTPSends: the request on the wire is the same on
// both paths, but for the order of the headers.
func TestLeanSendsWhatNetHTTPSends(t *testing.T) {
	t.Parallel()
	got := make(chan []string, 2)
	addr := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		br := bufio.NewReader(c)
		var lines []string
		for {
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
			lines = append(lines, l)
		}
		body := make([]byte, len(`{"ping":true}`))
		io.ReadFull(br, body)
		got <- append(lines, string(body))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	})
	tgt := testTarget("http://" + addr + "/health?x=1")
	tgt.Method, tgt.Body = http.MethodPost, `{"ping":true}`
	tgt.Headers = map[string]string{"Content-Type": "application/json", "Host": "shop.example"}
	lean, std := bothPaths(t, tgt)
	var wire [2][]string
	for i, p := range []*Prober{lean, std} {
		if res := p.Probe(context.Background()); res.StatusCode != 200 {
			t.Fatalf("%s: code %d err %v", p.Path(), res.StatusCode, res.Err)
		}
		wire[i] = <-got
	}
	sortHeaders := func(l []string) []string {
		out := append([]string{l[0]}, l[1:len(l)-1]...)
		h := out[1:]
		for i := range h {
			for j := i + 1; j < len(h); j++ {
				if h[j] < h[i] {
					h[i], h[j] = h[j], h[i]
				}
			}
		}
		return append(out, l[len(l)-1])
	}
	if a, b := sortHeaders(wire[0]), sortHeaders(wire[1]); !reflect.DeepEqual(a, b) {
		t.Errorf("requests differ:\n lean:     %q\n net/http: %q", a, b)
	}
}

// TestLeanHandsRedirectsToNetHTTP: a target that follows redirects starts
// on the lean path; its first redirect to follow is made again on net/http,
// with the same verdict as net/http alone, and so is every later probe. A
// target that does not follow keeps the 3xx as its answer on the lean path.
func TestLeanHandsRedirectsToNetHTTP(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/end", http.StatusFound) })
	mux.HandleFunc("/end", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		path   string
		follow bool
		want   contract.Reason
		code   int
	}{
		{"/start", true, contract.ReasonNone, 200},
		{"/loop", true, contract.ReasonRedirectLoop, 302},
		{"/end", true, contract.ReasonNone, 200},
		{"/start", false, contract.ReasonNone, 302},
	} {
		tgt := testTarget(srv.URL + tc.path)
		tgt.FollowRedirects = &tc.follow
		lean, std := bothPaths(t, tgt)
		b := probeReturns(t, std)
		for i := range 2 {
			a := probeReturns(t, lean)
			if d := sameVerdict(&a, &b, true); d != "" || a.Reason != tc.want || a.StatusCode != tc.code || a.Redirects != b.Redirects {
				t.Errorf("%s follow %v, probe %d: %s; reason %q code %d redirects %d (err %v)", tc.path, tc.follow, i, d, a.Reason, a.StatusCode, a.Redirects, a.Err)
			}
			redirected := tc.follow && tc.path != "/end"
			if want := map[bool]string{true: PathNetHTTP, false: PathLean}[redirected]; a.Conn.Path != want || lean.Path() != want {
				t.Errorf("%s follow %v, probe %d: path %q, prober %q; want %q", tc.path, tc.follow, i, a.Conn.Path, lean.Path(), want)
			}
		}
	}
}

// BenchmarkProbePaths compares one probe on each path with the cheapest
// equivalent request (a bare http.Client GET on a fresh connection) against
// the same loopback server in a child process: allocations and CPU per
// probe, and time and CPU as x-baseline and x-baseline-cpu.
//
//	go test -run '^$' -bench 'ProbePaths' -benchmem ./collector/probe/
func BenchmarkProbePaths(b *testing.B) {
	url := benchOrigin(b)
	baseline := benchBaseline(b, url)
	lean, std := bothPaths(b, testTarget(url))
	for _, p := range []*Prober{std, lean} {
		b.Run(strings.ReplaceAll(p.Path(), "/", "-"), func(b *testing.B) { benchProber(b, p, baseline) })
	}
}

// TestRemoteAddr wants the lean path's remote address to read exactly as
// the connection's own RemoteAddr().String(), whether or not it matches
// the address dialled.
func TestRemoteAddr(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		ln, err := net.Listen(network, map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network])
		if err != nil {
			t.Logf("%s: %v (no such loopback here)", network, err)
			continue
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		addr := ln.Addr().String()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		want := c.RemoteAddr().String()
		for _, dialled := range []string{addr, "localhost:80", "[::ffff:127.0.0.1]:" + strings.Split(addr, ":")[len(strings.Split(addr, ":"))-1], ""} {
			if got := remoteAddr(c, dialled); got != want {
				t.Errorf("%s dialled as %q: remote %q, want %q", network, dialled, got, want)
			}
		}
		c.Close()
	}
}
