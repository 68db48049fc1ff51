package probe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
	"github.com/http5xx/http5xx_exporter/collector/triage"
	"github.com/http5xx/http5xx_exporter/examples/loopback"
)

// testTarget returns a target with the defaults config.Load would apply.
func testTarget(url string) *config.Target {
	follow := false
	return &config.Target{
		Name:             "web",
		URL:              url,
		Method:           http.MethodGet,
		Interval:         model.Duration(15 * time.Second),
		Timeout:          model.Duration(3 * time.Second),
		ValidStatusCodes: config.StatusCodes{{Lo: 200, Hi: 299}},
		FollowRedirects:  &follow,
		MaxRedirects:     10,
		BodySizeLimit:    1 << 20,
	}
}

func newProber(t testing.TB, tgt *config.Target) *Prober {
	t.Helper()
	p, err := New(tgt, Options{Location: "fra1", Version: "1.2.3", Finisher: triage.Default()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// hangAfter is no performance bound: it only turns a probe that ignores
// its deadline into a failure instead of a hung test, so its margin over
// any timeout here is huge on purpose.
const hangAfter = time.Minute

// probeReturns runs one probe and fails the test if it never returns.
func probeReturns(t *testing.T, p *Prober) Result {
	t.Helper()
	done := make(chan Result, 1)
	go func() { done <- p.Probe(context.Background()) }()
	select {
	case res := <-done:
		return res
	case <-time.After(hangAfter):
		t.Fatalf("probe still running after %v: it ignores its deadline", hangAfter)
		return Result{}
	}
}

// probeOnce runs one probe of a new Prober. That a slow peer cannot hold
// it is proven by the reason (the deadline's or a limit's, while the peer
// still holds on), never by how long it took.
func probeOnce(t *testing.T, tgt *config.Target) Result {
	t.Helper()
	start := time.Now()
	res := probeReturns(t, newProber(t, tgt))
	if took := time.Since(start); res.Duration <= 0 || res.Duration > took {
		t.Errorf("Duration = %v, outside (0, %v]", res.Duration, took)
	}
	return res
}

// rawServer accepts loopback connections and hands each to serve, which
// plays a hostile or broken server. A peer holds on until the test ends:
// done closes then and every connection is closed, so a probe that
// returns before that was ended by its own deadline or limit.
func rawServer(t *testing.T, serve func(c net.Conn, done <-chan struct{})) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c, done)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(done)
		mu.Lock()
		for _, c := range conns {
			c.Close() // unblocks a serve that waits on the probe
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// refusedAddr is a loopback address that refuses connections until the
// test ends (examples/loopback).
func refusedAddr(t *testing.T) string { return loopback.Refused(t) }

// readRequest consumes the request head so the client is waiting for an
// answer.
func readRequest(c net.Conn) *bufio.Reader {
	br := bufio.NewReader(c)
	if req, err := http.ReadRequest(br); err == nil {
		io.Copy(io.Discard, req.Body)
	}
	return br
}

// codeServer answers every request with code, after set adds headers.
func codeServer(t *testing.T, code int, set func(h http.Header)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if set != nil {
			set(w.Header())
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "answer %d\n", code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestProbeStatusClasses(t *testing.T) {
	t.Parallel()
	serverDate := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC) // far from now: only the Date header can make this 90s
	for _, tc := range []struct {
		name         string
		code         int
		set          func(h http.Header)
		class, owner string
		success      bool
		retryAfter   time.Duration
	}{
		{name: "200", code: 200, class: "2xx", success: true},
		{name: "301 not followed", code: 301, set: func(h http.Header) { h.Set("Location", "/elsewhere") }, class: "3xx"},
		{name: "404", code: 404, class: "4xx"},
		{name: "429 with Retry-After", code: 429, set: func(h http.Header) { h.Set("Retry-After", "7") }, class: "4xx", retryAfter: 7 * time.Second},
		{name: "500", code: 500, class: "app", owner: "app-team"},
		{name: "502", code: 502, class: "gateway", owner: "app-infra"},
		{name: "503 Retry-After seconds", code: 503, set: func(h http.Header) { h.Set("Retry-After", "120") },
			class: "capacity", owner: "sre-oncall", retryAfter: 2 * time.Minute},
		{name: "503 Retry-After date", code: 503, set: func(h http.Header) {
			h.Set("Date", serverDate.Format(http.TimeFormat))
			h.Set("Retry-After", serverDate.Add(90*time.Second).Format(http.TimeFormat))
		}, class: "capacity", owner: "sre-oncall", retryAfter: 90 * time.Second},
		{name: "503 Retry-After malformed", code: 503, set: func(h http.Header) { h.Set("Retry-After", "in a bit") },
			class: "capacity", owner: "sre-oncall"},
		{name: "504", code: 504, class: "timeout", owner: "db-api-owners"},
		{name: "520", code: 520, class: "gateway", owner: "app-infra"},
		{name: "599", code: 599, class: "app", owner: "app-team"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := probeOnce(t, testTarget(codeServer(t, tc.code, tc.set)))
			if res.Err != nil || res.Reason != contract.ReasonNone {
				t.Fatalf("Err = %v, Reason = %v; want an answer", res.Err, res.Reason)
			}
			if res.StatusCode != tc.code || res.Class != tc.class || res.Owner != tc.owner || res.Success != tc.success {
				t.Errorf("got code %d class %q owner %q success %v; want %d %q %q %v",
					res.StatusCode, res.Class, res.Owner, res.Success, tc.code, tc.class, tc.owner, tc.success)
			}
			if res.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", res.RetryAfter, tc.retryAfter)
			}
			if res.Header.Get("Content-Type") == "" {
				t.Errorf("Header not kept: %v", res.Header)
			}
			if !strings.HasPrefix(res.RemoteAddr, "127.0.0.1:") {
				t.Errorf("RemoteAddr = %q", res.RemoteAddr)
			}
			wantBody := fmt.Sprintf("answer %d\n", tc.code)
			if res.BodyBytes != int64(len(wantBody)) {
				t.Errorf("BodyBytes = %d, want %d", res.BodyBytes, len(wantBody))
			}
			if is5xx := tc.code >= 500; is5xx != (res.BodyPrefix != nil) || (is5xx && string(res.BodyPrefix) != wantBody) {
				t.Errorf("BodyPrefix = %q", res.BodyPrefix)
			}
			if res.Target != "web" || res.Start.IsZero() {
				t.Errorf("Target = %q, Start = %v", res.Target, res.Start)
			}
		})
	}
}

func TestProbeReasons(t *testing.T) {
	t.Parallel()
	closedPort := refusedAddr(t)

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(plain.Close)
	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)

	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 4096))
	})
	mux.HandleFunc("/trickle", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for { // until the probe gives up: only its deadline can end this
			w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/b", http.StatusFound) })
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/a", http.StatusFound) })
	mux.HandleFunc("/hops/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		http.Redirect(w, r, fmt.Sprintf("/hops/%d", n+1), http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	hang := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		<-done
	})
	reset := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		c.(*net.TCPConn).SetLinger(0) // close sends RST
	})
	closeEarly := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
	})
	silentTLS := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		<-done // accepts the TCP connection, never answers the ClientHello
	})
	garbage := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
	})
	badChunks := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n")
	})
	cutShort := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 100\r\n\r\nonly this")
	})
	hugeHeaders := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		for i := range 100 { // 100 x 1 KiB, past the 64 KiB limit
			fmt.Fprintf(c, "X-Filler-%d: %s\r\n", i, strings.Repeat("f", 1024))
		}
		io.WriteString(c, "Content-Length: 0\r\n\r\n")
	})

	follow := func(tgt *config.Target) { f := true; tgt.FollowRedirects = &f }
	for _, tc := range []struct {
		name    string
		url     string
		mod     func(*config.Target)
		want    contract.Reason
		code    int // status code kept alongside the reason
		class   string
		timeout time.Duration
	}{
		{name: "dns", url: "http://http5xx-probe-test.invalid/", want: contract.ReasonDNS, class: "network"},
		{name: "connect_refused", url: "http://" + closedPort + "/", want: contract.ReasonConnectRefused, class: "gateway"},
		{name: "tls against plain http", url: strings.Replace(plain.URL, "http://", "https://", 1), want: contract.ReasonTLS, class: "network"},
		{name: "tls unknown authority", url: untrusted.URL, want: contract.ReasonTLS, class: "network"},
		{name: "connect_timeout in the TLS handshake", url: "https://" + silentTLS + "/", want: contract.ReasonConnectTimeout, class: "timeout", timeout: 300 * time.Millisecond},
		// Long enough for a loaded machine to connect (and read the 200) before
		// the deadline: the phase it fires in decides the reason.
		{name: "timeout waiting for headers", url: "http://" + hang + "/", want: contract.ReasonTimeout, class: "timeout", timeout: 3 * time.Second},
		{name: "timeout in a trickling body", url: srv.URL + "/trickle", want: contract.ReasonTimeout, code: 200, class: "timeout", timeout: 3 * time.Second},
		{name: "reset", url: "http://" + reset + "/", want: contract.ReasonReset, class: "gateway"},
		{name: "closed before answer", url: "http://" + closeEarly + "/", want: contract.ReasonReset, class: "gateway"},
		{name: "body cut short", url: "http://" + cutShort + "/", want: contract.ReasonReset, code: 502, class: "gateway"},
		{name: "garbage", url: "http://" + garbage + "/", want: contract.ReasonMalformed, class: "gateway"},
		{name: "broken chunking", url: "http://" + badChunks + "/", want: contract.ReasonMalformed, code: 200, class: "gateway"},
		{name: "body over the limit", url: srv.URL + "/big", mod: func(tgt *config.Target) { tgt.BodySizeLimit = 1024 },
			want: contract.ReasonTooLarge, code: 200, class: "app"},
		{name: "headers over the limit", url: "http://" + hugeHeaders + "/", want: contract.ReasonTooLarge, class: "app"},
		{name: "redirect loop", url: srv.URL + "/loop/a", mod: follow, want: contract.ReasonRedirectLoop, code: 302, class: "app"},
		{name: "too many redirects", url: srv.URL + "/hops/0", mod: func(tgt *config.Target) { follow(tgt); tgt.MaxRedirects = 3 },
			want: contract.ReasonRedirectLoop, code: 301, class: "app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := testTarget(tc.url)
			if tc.timeout != 0 {
				tgt.Timeout = model.Duration(tc.timeout)
			}
			if tc.mod != nil {
				tc.mod(tgt)
			}
			res := probeOnce(t, tgt)
			if res.Reason != tc.want {
				t.Fatalf("Reason = %v, want %v (err: %v)", res.Reason, tc.want, res.Err)
			}
			if res.Err == nil {
				t.Error("Err is nil")
			}
			t.Logf("%v after %v: %v", res.Reason, res.Duration, res.Err)
			if res.StatusCode != tc.code || res.Class != tc.class || res.Success {
				t.Errorf("code %d class %q success %v; want %d %q false", res.StatusCode, res.Class, res.Success, tc.code, tc.class)
			}
			if tc.timeout != 0 && res.Duration < tc.timeout {
				t.Errorf("Duration %v shorter than the timeout %v", res.Duration, tc.timeout)
			}
		})
	}
}

func TestProbeBodyLimits(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/err", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(bytes.Repeat([]byte("e"), 3*fingerprint.MaxBody))
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("o"), 3*fingerprint.MaxBody))
	})
	mux.HandleFunc("/exact", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write(bytes.Repeat([]byte("g"), 100))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name       string
		path       string
		limit      config.ByteSize
		reason     contract.Reason
		bodyBytes  int64
		prefixSize int
	}{
		{"5xx prefix bounded", "/err", 1 << 20, contract.ReasonNone, 3 * fingerprint.MaxBody, fingerprint.MaxBody},
		{"no prefix for 2xx", "/ok", 1 << 20, contract.ReasonNone, 3 * fingerprint.MaxBody, 0},
		{"prefix within a small limit", "/err", 100, contract.ReasonTooLarge, 100, 100},
		{"body exactly at the limit", "/exact", 100, contract.ReasonNone, 100, 100},
		{"one byte over the limit", "/exact", 99, contract.ReasonTooLarge, 99, 99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := testTarget(srv.URL + tc.path)
			tgt.BodySizeLimit = tc.limit
			res := probeOnce(t, tgt)
			if res.Reason != tc.reason || res.BodyBytes != tc.bodyBytes || len(res.BodyPrefix) != tc.prefixSize {
				t.Errorf("Reason %v BodyBytes %d prefix %d; want %v %d %d (err: %v)",
					res.Reason, res.BodyBytes, len(res.BodyPrefix), tc.reason, tc.bodyBytes, tc.prefixSize, res.Err)
			}
			if res.StatusCode == 0 {
				t.Error("StatusCode not kept")
			}
		})
	}
}

func TestProbeFollowsRedirects(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/middle", http.StatusFound) })
	mux.HandleFunc("/middle", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/end", http.StatusMovedPermanently) })
	mux.HandleFunc("/end", func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Final", "yes") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tgt := testTarget(srv.URL + "/start")
	f := true
	tgt.FollowRedirects = &f
	tgt.MaxRedirects = 2 // exactly enough
	res := probeOnce(t, tgt)
	if res.StatusCode != 200 || !res.Success || res.Redirects != 2 || res.Header.Get("X-Final") != "yes" {
		t.Errorf("code %d success %v redirects %d X-Final %q (err %v); want 200 true 2 yes",
			res.StatusCode, res.Success, res.Redirects, res.Header.Get("X-Final"), res.Err)
	}
	// With keep-alives off, each hop has its own connection: the final hop's
	// phases are complete.
	if !res.PhaseSeen[contract.PhaseConnect] || !res.PhaseSeen[contract.PhaseTransfer] {
		t.Errorf("final hop phases not seen: %v", res.PhaseSeen)
	}
}

func TestProbeSendsHeaders(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 4)
	bodies := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- string(b)
	}))
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name     string
		location string
		marker   string
		ua       string // a User-Agent the target sets
		wantUA   string
	}{
		{"with location", "fra1", "fra1/web", "", "http5xx_exporter/1.2.3"},
		{"without location", "", "web", "", "http5xx_exporter/1.2.3"},
		{"target's User-Agent wins", "fra1", "fra1/web", "Mozilla/5.0 (probe)", "Mozilla/5.0 (probe)"},
	} {
		tgt := testTarget(srv.URL + "/health")
		tgt.Method = http.MethodPost
		tgt.Body = `{"ping":true}`
		tgt.Headers = map[string]string{"Content-Type": "application/json", "x-tenant": "acme", "Host": "shop.example", "x-http5xx-probe": "spoofed"}
		if tc.ua != "" {
			tgt.Headers["user-agent"] = tc.ua
		}
		p, err := New(tgt, Options{Location: tc.location, Version: "1.2.3"})
		if err != nil {
			t.Fatal(err)
		}
		res := p.Probe(context.Background())
		p.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s: code %d err %v", tc.name, res.StatusCode, res.Err)
		}
		r, body := <-got, <-bodies
		for _, h := range []struct{ name, got, want string }{
			{"User-Agent", r.Header.Get("User-Agent"), tc.wantUA},
			{"X-Http5xx-Probe", r.Header.Get("X-Http5xx-Probe"), tc.marker},
			{"X-Tenant", r.Header.Get("X-Tenant"), "acme"},
			{"Content-Type", r.Header.Get("Content-Type"), "application/json"},
			{"Accept-Encoding", r.Header.Get("Accept-Encoding"), ""},
			{"Host", r.Host, "shop.example"},
			{"method", r.Method, http.MethodPost},
			{"body", body, `{"ping":true}`},
		} {
			if h.got != h.want {
				t.Errorf("%s: %s = %q, want %q", tc.name, h.name, h.got, h.want)
			}
		}
	}
}

func TestProbeConnectionReuse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		keepAlive bool
		wantConns int64
	}{
		{"fresh connection per probe", false, 3},
		{"keep_alive reuses one", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			t.Cleanup(srv.Close)
			tgt := testTarget(srv.URL)
			tgt.KeepAlive = tc.keepAlive
			p := newProber(t, tgt)
			for i := range 3 {
				res := p.Probe(context.Background())
				if res.StatusCode != 200 {
					t.Fatalf("probe %d: code %d err %v", i, res.StatusCode, res.Err)
				}
				// A reused connection has no connect phase.
				if wantConnect := !tc.keepAlive || i == 0; res.PhaseSeen[contract.PhaseConnect] != wantConnect {
					t.Errorf("probe %d: connect seen %v, want %v", i, res.PhaseSeen[contract.PhaseConnect], wantConnect)
				}
			}
			if got := conns.Load(); got != tc.wantConns {
				t.Errorf("server accepted %d connections, want %d", got, tc.wantConns)
			}
		})
	}
}

func TestProbePhases(t *testing.T) {
	t.Parallel()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(handler)
	t.Cleanup(secure.Close)

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw})
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	_, securePort, _ := net.SplitHostPort(secure.Listener.Addr().String())

	all := func(seen ...contract.Phase) (out [contract.NumPhases]bool) {
		for _, p := range seen {
			out[p] = true
		}
		return out
	}
	for _, tc := range []struct {
		name string
		url  string
		want [contract.NumPhases]bool
	}{
		{"http to an IP", plain.URL, all(contract.PhaseConnect, contract.PhaseProcessing, contract.PhaseTransfer)},
		{"https to an IP", secure.URL, all(contract.PhaseConnect, contract.PhaseTLS, contract.PhaseProcessing, contract.PhaseTransfer)},
		// httptest's certificate names example.com; localhost comes from the
		// hosts file, so this resolves without leaving the machine.
		{"https to a name", "https://localhost:" + securePort, all(contract.PhaseResolve, contract.PhaseConnect, contract.PhaseTLS, contract.PhaseProcessing, contract.PhaseTransfer)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := testTarget(tc.url)
			tgt.TLS.CAFile = caFile
			if strings.Contains(tc.url, "localhost") {
				tgt.TLS.ServerName = "example.com"
			}
			res := probeOnce(t, tgt)
			if res.StatusCode != 200 || !res.Success {
				t.Fatalf("code %d err %v", res.StatusCode, res.Err)
			}
			if res.PhaseSeen != tc.want {
				t.Errorf("PhaseSeen = %v, want %v", res.PhaseSeen, tc.want)
			}
			var sum time.Duration
			for p := range contract.NumPhases {
				if res.PhaseSeen[p] != (res.Phases[p] > 0) {
					t.Errorf("phase %v: seen %v, duration %v", p, res.PhaseSeen[p], res.Phases[p])
				}
				sum += res.Phases[p]
			}
			if sum > res.Duration {
				t.Errorf("phases add up to %v, more than the probe's %v", sum, res.Duration)
			}
		})
	}
}

func TestProbeThroughProxy(t *testing.T) {
	t.Parallel()
	var asked atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Store(r.URL.String()) // a proxy sees the absolute URL
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(proxy.Close)
	// The origin's name does not resolve: only the proxy may look it up.
	tgt := testTarget("http://origin.invalid/health")
	if err := tgt.SetProxyURL(proxy.URL); err != nil {
		t.Fatal(err)
	}
	res := probeOnce(t, tgt)
	if res.StatusCode != 502 || res.Class != "gateway" || asked.Load() != "http://origin.invalid/health" {
		t.Errorf("code %d class %q, proxy asked for %v (err %v)", res.StatusCode, res.Class, asked.Load(), res.Err)
	}
	if res.PhaseSeen[contract.PhaseResolve] {
		t.Error("resolved a name although the proxy was to do it")
	}
}

// TestProbeConcurrent runs probes of one Prober in parallel (under -race
// this checks the shared client and header are only read).
func TestProbeConcurrent(t *testing.T) {
	t.Parallel()
	p := newProber(t, testTarget(codeServer(t, 503, func(h http.Header) { h.Set("Retry-After", "1") })))
	var wg sync.WaitGroup
	results := make([]Result, 8)
	for i := range results {
		wg.Go(func() { results[i] = p.Probe(context.Background()) })
	}
	wg.Wait()
	for i, res := range results {
		if res.StatusCode != 503 || res.RetryAfter != time.Second || res.Class != "capacity" {
			t.Errorf("probe %d: code %d retry-after %v class %q err %v", i, res.StatusCode, res.RetryAfter, res.Class, res.Err)
		}
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		mod  func(*config.Target)
	}{
		{"no timeout", func(tgt *config.Target) { tgt.Timeout = 0 }},
		{"bad scheme", func(tgt *config.Target) { tgt.URL = "ftp://127.0.0.1/" }},
		{"bad url", func(tgt *config.Target) { tgt.URL = "http://[::1" }},
		{"missing ca file", func(tgt *config.Target) { tgt.TLS.CAFile = filepath.Join(t.TempDir(), "missing.pem") }},
		// Not the target's fault: without these checks the probe fails as
		// malformed or connect_refused and pages the wrong team.
		{"method with a space", func(tgt *config.Target) { tgt.Method = "GE T" }},
		{"header name with a space", func(tgt *config.Target) { tgt.Headers = map[string]string{"X Tenant": "acme"} }},
		{"header value with a newline", func(tgt *config.Target) { tgt.Headers = map[string]string{"X-Tenant": "acme\r\nX-Evil: 1"} }},
	} {
		tgt := testTarget("http://127.0.0.1/")
		tc.mod(tgt)
		if _, err := New(tgt, Options{}); err == nil {
			t.Errorf("%s: New accepted it", tc.name)
		} else if !strings.Contains(err.Error(), `"web"`) {
			t.Errorf("%s: error %q does not name the target", tc.name, err)
		}
	}
}
