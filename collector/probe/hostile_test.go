package probe

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// The hostile matrix proves a probe ends by its own deadline or limit
// through the reason, never through a wall-clock bound: every stalling peer
// holds on until the test ends. A case whose reason is a timeout gets
// hostileTimeout, long enough that a loaded machine still gets through
// the phases before the one the deadline must fire in. Every other case
// gets patientTimeout, so only the peer or a limit can end it: a limit
// that did not fire shows as a timeout, and a probe that ignores its
// deadline trips the hang detector (hangAfter).
const (
	hostileTimeout = 3 * time.Second
	patientTimeout = 30 * time.Second
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "http5xx hostile test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf issues a server certificate for names, valid from notBefore to
// notAfter.
func (ca *testCA) leaf(t testing.TB, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if a, err := netip.ParseAddr(n); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, a.AsSlice())
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// caFile writes the CA's certificate where a target's tls.ca_file can
// name it.
func (ca *testCA) caFile(t testing.TB) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// tlsServer serves 200 over TLS with cert.
func tlsServer(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// overshoot collects how far past their timeout the probes of a test ran.
type overshoot struct {
	mu  sync.Mutex
	max time.Duration
	of  string
}

func (o *overshoot) add(name string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d > o.max {
		o.max, o.of = d, name
	}
}

// TestHostileTargets is the matrix of hostile and broken servers on real
// loopback sockets: every probe returns, ended by its own deadline or limit
// while the peer still holds on, with the reason and class the triage
// promises.
func TestHostileTargets(t *testing.T) {
	var over overshoot
	t.Cleanup(func() { t.Logf("largest overshoot past the timeout: %v (%s)", over.max, over.of) })

	// 101 Switching Protocols to a request that asked for no upgrade, then
	// silence on the switched connection: net/http would hand the raw
	// connection over as the body, with no deadline.
	switched := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		<-done
	})
	// 101 and then a stream of bytes that never ends.
	switchedChatty := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
		for {
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	// Headers one byte at a time, for ever.
	slowHeaders := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		for {
			if _, err := c.Write([]byte("X")); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	// A body announced long, sent one byte at a time.
	slowBody := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\n")
		for {
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	// Interim answers without end, as fast as the socket takes them.
	storm1xx := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		for {
			if _, err := io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"); err != nil {
				return
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})
	// Interim answers, as many as allowed, then no final one: only the
	// deadline can end this.
	slow1xx := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		for range max1xx {
			if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
		<-done
	})
	// A final 1xx other than 101 is not possible in HTTP/1 (net/http waits
	// for more); a status code below 100 is refused.
	code099 := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n")
	})
	// HTTP/0.9: a body without a status line.
	http09 := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "<html><body>hello from 1991</body></html>\n")
	})
	// Half-close: the server shuts its sending side, keeps reading.
	halfClose := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	})
	// Half-close after a status line and part of the headers.
	halfCloseHeaders := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/")
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	})
	// A body shorter than its Content-Length, then silence.
	shortHang := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 100\r\n\r\nonly this")
		<-done
	})
	// A body shorter than its Content-Length, then the connection closes.
	shortClose := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
	})
	// A body longer than its Content-Length: the rest is never read.
	long := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello and a lot more than five bytes")
		<-done
	})
	// Chunked with a chunk size that is not hex.
	badChunks := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
	})
	// Chunked, a chunk announced far larger than what comes.
	chunkHang := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\nabc")
		<-done
	})
	// Both Content-Length and chunked, contradicting each other.
	smuggle := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		readRequest(c)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\nabcdefg")
	})
	// A gzip bomb sent although the probe asked for no encoding: the probe
	// reads the bytes on the wire, never the 16 MiB they expand to.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write(make([]byte, 16<<20))
	zw.Close()
	gzipBomb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "" {
			http.Error(w, "the probe asked for an encoding", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb.Bytes())
	}))
	t.Cleanup(gzipBomb.Close)
	// Certificates: expired, for another host, and a handshake that stalls.
	ca := newTestCA(t)
	expired := tlsServer(t, ca.leaf(t, []string{"127.0.0.1"}, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)))
	wrongHost := tlsServer(t, ca.leaf(t, []string{"shop.example.com"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
	goodTLS := tlsServer(t, ca.leaf(t, []string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
	stalledTLS := rawServer(t, func(c net.Conn, done <-chan struct{}) {
		io.ReadFull(c, make([]byte, 5)) // the ClientHello's record header, then nothing
		<-done
	})
	// A server that never reads the request body and never answers.
	neverReads := rawServer(t, func(c net.Conn, done <-chan struct{}) { <-done })
	// Redirects: a chain, a loop, and hops the guard refuses.
	var base string
	mux := http.NewServeMux()
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n == 3 {
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n+1), http.StatusFound)
	})
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/b", http.StatusFound) })
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/a", http.StatusFound) })
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.ReplaceAll(r.URL.Query().Get("u"), "BASE", base), http.StatusFound)
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {})
	redirects := httptest.NewServer(mux)
	t.Cleanup(redirects.Close)
	base = redirects.URL
	port := redirects.Listener.Addr().(*net.TCPAddr).Port
	to := func(u string) string { return redirects.URL + "/to?u=" + u }

	follow := func(tgt *config.Target) { f := true; tgt.FollowRedirects = &f }
	trust := func(tgt *config.Target) { tgt.TLS.CAFile = ca.caFile(t) }
	// notLoopback plays a target that is not on this machine: its
	// redirects to loopback are refused.
	notLoopback := func(p *Prober) {
		p.guard.loopbackTarget, p.guard.isLoopback = false, func(netip.Addr) bool { return false }
	}
	type tc struct {
		name   string
		url    string
		mod    func(*config.Target)
		prober func(*Prober)
		reason contract.Reason
		code   int
		class  string
		ok     bool
	}
	cases := []tc{
		{name: "101 switch then silence", url: "http://" + switched + "/", reason: contract.ReasonMalformed, class: "gateway"},
		{name: "101 switch then a stream", url: "http://" + switchedChatty + "/", reason: contract.ReasonMalformed, class: "gateway"},
		{name: "slowloris headers", url: "http://" + slowHeaders + "/", reason: contract.ReasonTimeout, class: "timeout"},
		{name: "slowloris body", url: "http://" + slowBody + "/", reason: contract.ReasonTimeout, code: 503, class: "timeout"},
		{name: "1xx storm", url: "http://" + storm1xx + "/", reason: contract.ReasonMalformed, class: "gateway"},
		{name: "slow 1xx", url: "http://" + slow1xx + "/", reason: contract.ReasonTimeout, class: "timeout"},
		{name: "status code below 100", url: "http://" + code099 + "/", reason: contract.ReasonMalformed, class: "gateway"},
		{name: "HTTP/0.9", url: "http://" + http09 + "/", reason: contract.ReasonMalformed, class: "gateway"},
		{name: "half-close before the answer", url: "http://" + halfClose + "/", reason: contract.ReasonReset, class: "gateway"},
		{name: "half-close in the headers", url: "http://" + halfCloseHeaders + "/", reason: contract.ReasonReset, class: "gateway"},
		{name: "shorter than Content-Length, then silence", url: "http://" + shortHang + "/", reason: contract.ReasonTimeout, code: 502, class: "timeout"},
		{name: "shorter than Content-Length, then close", url: "http://" + shortClose + "/", reason: contract.ReasonReset, code: 200, class: "gateway"},
		{name: "longer than Content-Length", url: "http://" + long + "/", reason: contract.ReasonNone, code: 200, class: "2xx", ok: true},
		{name: "bad chunk size", url: "http://" + badChunks + "/", reason: contract.ReasonMalformed, code: 200, class: "gateway"},
		{name: "huge chunk never sent", url: "http://" + chunkHang + "/", reason: contract.ReasonTimeout, code: 500, class: "timeout"},
		{name: "two Content-Lengths", url: "http://" + smuggle + "/", reason: contract.ReasonMalformed, class: "gateway"},
		{name: "gzip bomb read as sent", url: gzipBomb.URL, reason: contract.ReasonNone, code: 200, class: "2xx", ok: true},
		{name: "gzip bomb over the body limit", url: gzipBomb.URL, mod: func(tgt *config.Target) { tgt.BodySizeLimit = config.ByteSize(bomb.Len() / 2) },
			reason: contract.ReasonTooLarge, code: 200, class: "app"},
		{name: "TLS trusted (control)", url: goodTLS, mod: trust, reason: contract.ReasonNone, code: 200, class: "2xx", ok: true},
		{name: "TLS expired", url: expired, mod: trust, reason: contract.ReasonTLS, class: "network"},
		{name: "TLS wrong host", url: wrongHost, mod: trust, reason: contract.ReasonTLS, class: "network"},
		{name: "TLS stalled handshake", url: "https://" + stalledTLS + "/", reason: contract.ReasonConnectTimeout, class: "timeout"},
		{name: "never reads the request body", url: "http://" + neverReads + "/", mod: func(tgt *config.Target) {
			tgt.Method, tgt.Body = http.MethodPost, strings.Repeat("b", 32<<20)
		}, reason: contract.ReasonTimeout, class: "timeout"},
		{name: "redirect chain", url: redirects.URL + "/chain/0", mod: follow, reason: contract.ReasonNone, code: 200, class: "2xx", ok: true},
		{name: "redirect loop", url: redirects.URL + "/loop/a", mod: follow, reason: contract.ReasonRedirectLoop, code: 302, class: "app"},
		{name: "redirect chain over max_redirects", url: redirects.URL + "/chain/0", mod: func(tgt *config.Target) { follow(tgt); tgt.MaxRedirects = 2 },
			reason: contract.ReasonRedirectLoop, code: 302, class: "app"},
		{name: "redirect to the metadata address", url: to("http://169.254.169.254/latest/meta-data/"), mod: follow,
			reason: contract.ReasonRedirectRefused, code: 302, class: "app"},
		{name: "redirect to IPv4-mapped metadata", url: to("http://[::ffff:169.254.169.254]/"), mod: follow,
			reason: contract.ReasonRedirectRefused, code: 302, class: "app"},
		{name: "redirect to AWS IPv6 metadata", url: to("http://[fd00:ec2::254]/"), mod: follow,
			reason: contract.ReasonRedirectRefused, code: 302, class: "app"},
		{name: "redirect to Alibaba metadata", url: to("http://100.100.100.200/"), mod: follow,
			reason: contract.ReasonRedirectRefused, code: 302, class: "app"},
		{name: "redirect to the GCP metadata name", url: to("http://metadata.google.internal/"), mod: follow,
			reason: contract.ReasonRedirectRefused, code: 302, class: "app"},
		{name: "redirect to link-local", url: to("http://169.254.1.1/"), mod: follow,
			reason: contract.ReasonRedirectRefused, code: 302, class: "app"},
		{name: "redirect to IPv6 link-local", url: to("http://[fe80::1]/"), mod: follow,
			reason: contract.ReasonRedirectRefused, code: 302, class: "app"},
		{name: "loopback target may redirect to loopback", url: to("http://[::ffff:127.0.0.1]:" + fmt.Sprint(port) + "/ok"), mod: follow,
			reason: contract.ReasonNone, code: 200, class: "2xx", ok: true},
		{name: "redirect to IPv4-mapped loopback", url: to("http://[::ffff:127.0.0.1]:" + fmt.Sprint(port) + "/ok"), mod: follow, prober: notLoopback,
			reason: contract.ReasonRedirectRefused, code: 302, class: "app"},
		// A name is judged where it leads at dial time: localhost
		// resolves to loopback (DNS rebinding works the same way).
		// Refused in the next hop's dial: no answer of that hop.
		{name: "redirect to a name that resolves to loopback", url: to("http://localhost:" + fmt.Sprint(port) + "/ok"), mod: follow, prober: notLoopback,
			reason: contract.ReasonRedirectRefused, class: "app"},
		{name: "redirect_guard false follows it", url: to("http://[::ffff:127.0.0.1]:" + fmt.Sprint(port) + "/ok"), mod: func(tgt *config.Target) {
			follow(tgt)
			off := false
			tgt.RedirectGuard = &off
		}, prober: notLoopback, reason: contract.ReasonNone, code: 200, class: "2xx", ok: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tgt := testTarget(c.url)
			timeout := patientTimeout
			if c.reason == contract.ReasonTimeout || c.reason == contract.ReasonConnectTimeout {
				timeout = hostileTimeout
			}
			tgt.Timeout = model.Duration(timeout)
			if c.mod != nil {
				c.mod(tgt)
			}
			p := newProber(t, tgt)
			if c.prober != nil {
				c.prober(p)
			}
			res := probeReturns(t, p)
			if timeout == hostileTimeout {
				over.add(c.name, res.Duration-timeout)
				if res.Duration < timeout {
					t.Errorf("timed out after %v, before its %v deadline", res.Duration, timeout)
				}
			}
			if res.Reason != c.reason || res.StatusCode != c.code || res.Class != c.class || res.Success != c.ok {
				t.Errorf("reason %q code %d class %q success %v; want %q %d %q %v (err: %v)",
					res.Reason, res.StatusCode, res.Class, res.Success, c.reason, c.code, c.class, c.ok, res.Err)
			}
			if (res.Reason != contract.ReasonNone) != (res.Err != nil) {
				t.Errorf("reason %q with err %v", res.Reason, res.Err)
			}
			t.Logf("%q after %v: %v", res.Reason, res.Duration.Round(time.Millisecond), res.Err)
		})
	}
}

// TestHostileRedirectGuardDialsNothing: a refused hop is never connected
// to, whether refused by its literal address or at dial time.
func TestHostileRedirectGuardDialsNothing(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	t.Cleanup(trap.Close)
	port := trap.Listener.Addr().(*net.TCPAddr).Port
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	for _, u := range []string{
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port),
		fmt.Sprintf("http://localhost:%d/", port),
		fmt.Sprintf("http://0.0.0.0:%d/", port),
	} {
		tgt := testTarget(redirector.URL + "/?u=" + u)
		f := true
		tgt.FollowRedirects = &f
		p := newProber(t, tgt)
		p.guard.loopbackTarget, p.guard.isLoopback = false, func(netip.Addr) bool { return false }
		res := p.Probe(context.Background())
		if res.Reason != contract.ReasonRedirectRefused {
			t.Errorf("%s: reason %q (err %v), want redirect_refused", u, res.Reason, res.Err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Errorf("the refused address was fetched %d times", hits)
	}
}

func TestGuardedAddr(t *testing.T) {
	for _, tc := range []struct {
		addr          string
		allowLoopback bool
		refused       bool
	}{
		{"169.254.169.254", true, true},
		{"::ffff:169.254.169.254", true, true},
		{"::ffff:a9fe:a9fe", true, true},
		{"64:ff9b::a9fe:a9fe", true, true},
		{"::169.254.169.254", true, true},
		{"fd00:ec2::254", true, true},
		{"100.100.100.200", true, true},
		{"169.254.170.2", true, true},
		{"192.0.0.192", true, true},
		{"169.254.0.1", true, true},
		{"fe80::1%eth0", true, true},
		{"127.0.0.1", false, true},
		{"127.0.0.1", true, false},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"::ffff:7f00:1", false, true},
		{"0.0.0.0", false, true},
		{"::", false, true},
		{"203.0.113.7", false, false},
		{"10.1.2.3", false, false}, // private networks are where targets live
		{"2001:db8::1", false, false},
		{"100.100.100.201", false, false},
	} {
		why := guardedAddr(netip.MustParseAddr(tc.addr), tc.allowLoopback)
		if (why != "") != tc.refused {
			t.Errorf("guardedAddr(%s, loopback allowed %v) = %q, want refused %v", tc.addr, tc.allowLoopback, why, tc.refused)
		}
	}
}
