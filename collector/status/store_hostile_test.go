package status

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/probe"
)

// bigChain makes a fresh certificate chain of n certificates of about size
// bytes each (an unknown, non-critical extension of random bytes), signed
// by nobody the prober trusts: a TLS error then carries the whole parsed
// chain.
func bigChain(t testing.TB, n, size int) tls.Certificate {
	var chain tls.Certificate
	for i := range n {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Error(err)
			return chain
		}
		filler := make([]byte, size)
		rand.Read(filler)
		tmpl := &x509.Certificate{
			SerialNumber:    big.NewInt(time.Now().UnixNano()),
			Subject:         pkix.Name{CommonName: fmt.Sprintf("hostile %d", i)},
			DNSNames:        []string{"127.0.0.1"},
			NotBefore:       time.Now().Add(-time.Hour),
			NotAfter:        time.Now().Add(time.Hour),
			ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}, Value: filler}},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Error(err)
			return chain
		}
		chain.Certificate = append(chain.Certificate, der)
		if i == 0 {
			chain.PrivateKey = key
		}
	}
	return chain
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestHostileHistoryMemoryIsBounded: what targets send does not grow the
// history. Two targets, one presenting a fresh 3 x 60 KB certificate chain
// on every handshake and one answering a 60 KB malformed status line, are
// probed three times the history's length; the heap grows by at most the
// documented TargetBytes(history) x targets (plus a fixed allowance for
// the runtime's own noise), where keeping the error values would keep
// every chain.
func TestHostileHistoryMemoryIsBounded(t *testing.T) {
	const (
		history   = 20
		targets   = 2
		chainLen  = 3
		certBytes = 60 << 10
		noise     = 1 << 20 // the GC's and transports' own variation
	)
	var (
		served     atomic.Int64 // chains served
		chainBytes atomic.Int64 // bytes of the last one
	)
	// A TLS listener of its own: httptest's would present its built-in
	// certificate to a client that sends no server name.
	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Listener.Close()
	tlsSrv.Listener = tls.NewListener(tlsLn, &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		c := bigChain(t, chainLen, certBytes)
		n := 0
		for _, der := range c.Certificate {
			n += len(der)
		}
		served.Add(1)
		chainBytes.Store(int64(n))
		return &c, nil
	}})
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.Start()
	t.Cleanup(tlsSrv.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
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
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					req.Body.Close()
				}
				// A status line net/http rejects, quoting all of it.
				io.WriteString(c, "HTTP/1.1 2"+strings.Repeat("x", 60<<10)+"\r\n\r\n")
			}()
		}
	}()

	mk := func(name, url string) *config.Target {
		follow := false
		return &config.Target{
			Name: name, URL: url, Method: http.MethodGet,
			Interval: model.Duration(time.Minute), Timeout: model.Duration(5 * time.Second),
			ValidStatusCodes: config.StatusCodes{{Lo: 200, Hi: 299}}, FollowRedirects: &follow, BodySizeLimit: 1 << 20,
		}
	}
	ts := []*config.Target{mk("certs", "https://"+tlsLn.Addr().String()+"/"), mk("garbage", "http://"+ln.Addr().String()+"/")}
	probers := make([]*probe.Prober, len(ts))
	for i, tgt := range ts {
		p, err := probe.New(tgt, probe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		probers[i] = p
	}
	// Warm up everything but the store: transports, TLS, the runtime.
	var errLen [targets]int
	for i, p := range probers {
		r := p.Probe(context.Background())
		if r.Err == nil {
			t.Fatalf("%s: the hostile target's probe did not fail", ts[i].Name)
		}
		errLen[i] = len(r.Err.Error())
	}

	before := heapAfterGC() // the rings are allocated whole by SetTargets
	s := NewStore(history)
	s.SetTargets(ts)
	for range 3 * history {
		for i, p := range probers {
			r := p.Probe(context.Background())
			s.Observe(ts[i], &r)
		}
	}
	after := heapAfterGC()
	growth := int64(after) - int64(before)
	bound := int64(TargetBytes(history) * targets)
	t.Logf("bytes per kept probe %d; history %d x %d targets: bound %d bytes; heap grew %d bytes (error texts %v bytes, cut to %d)",
		RecordBytes, history, targets, bound, growth, errLen, MaxErrorText)
	t.Logf("%d fresh chains of %d bytes served", served.Load(), chainBytes.Load())
	if served.Load() < 3*history {
		t.Errorf("%d chains served, want one per probe", served.Load())
	}
	if growth > bound+noise {
		t.Errorf("heap grew %d bytes over %d probes, bound %d + %d noise", growth, 3*history*targets, bound, noise)
	}
	// The history still says what happened, in bounded text.
	for _, snap := range s.Snapshots(time.Time{}) {
		last := snap.Last()
		if last == nil || last.Error == "" || len(last.Error) > MaxErrorText {
			t.Errorf("%s: last error %q, want a text of at most %d bytes", snap.Info.Name, last.Error, MaxErrorText)
		}
	}
	runtime.KeepAlive(s)
}
