package probe

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// loopback6 reports whether the kernel has an IPv6 loopback. Without one
// the ::1 cases are skipped loudly, and fail under CI=true, where the
// runner is expected to have it.
func loopback6(t *testing.T) bool {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err == nil {
		ln.Close()
		return true
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no IPv6 loopback (%v): CI must run the ::1 cases", err)
	}
	t.Logf("!!! NO IPv6 LOOPBACK (%v): THE ::1 CASES ARE SKIPPED !!!", err)
	return false
}

// Server modes of serveOn.
const (
	plainH1  = iota // HTTP/1.1 over plain TCP
	tlsH2           // HTTPS with HTTP/2 on offer
	tlsH1           // HTTPS, HTTP/1.1 only
	plainH2C        // plain HTTP/1.1 that also speaks HTTP/2 with prior knowledge
)

// serveOn serves 200 from a listener on addr ("127.0.0.1:0", "[::1]:0").
func serveOn(t *testing.T, addr string, mode int) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}}
	switch mode {
	case tlsH2:
		srv.EnableHTTP2 = true
		srv.StartTLS()
	case tlsH1:
		srv.StartTLS()
	case plainH2C:
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		srv.Config.Protocols = &p
		srv.Start()
	default:
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestProbeProtocolAndFamily: http2 and ip_family decide how the probe
// connects, the result says what was used, and the phases are measured
// whatever the protocol.
func TestProbeProtocolAndFamily(t *testing.T) {
	has6 := loopback6(t)
	v4 := serveOn(t, "127.0.0.1:0", plainH1)
	v4tls := serveOn(t, "127.0.0.1:0", tlsH2)
	v4tlsH1 := serveOn(t, "127.0.0.1:0", tlsH1)
	v4h2c := serveOn(t, "127.0.0.1:0", plainH2C)
	var v6, v6tls string
	if has6 {
		v6 = serveOn(t, "[::1]:0", plainH1)
		v6tls = serveOn(t, "[::1]:0", tlsH2)
	}
	_, v4port, _ := net.SplitHostPort(strings.TrimPrefix(v4, "http://"))

	for _, tc := range []struct {
		name     string
		url      string
		http2    bool
		family   string
		needs6   bool
		proto    string
		gotFam   string
		reason   contract.Reason
		tlsPhase bool
	}{
		{name: "default: HTTP/1.1 over ip4", url: v4, family: "any", proto: contract.ProtocolHTTP11, gotFam: contract.FamilyIP4},
		{name: "TLS server offering h2, http2 off: HTTP/1.1", url: v4tls, family: "any", proto: contract.ProtocolHTTP11, gotFam: contract.FamilyIP4, tlsPhase: true},
		{name: "http2 over TLS: h2 by ALPN", url: v4tls, http2: true, family: "any", proto: contract.ProtocolHTTP2, gotFam: contract.FamilyIP4, tlsPhase: true},
		{name: "http2 to an HTTP/1.1-only TLS server: HTTP/1.1", url: v4tlsH1, http2: true, family: "ip4", proto: contract.ProtocolHTTP11, gotFam: contract.FamilyIP4, tlsPhase: true},
		{name: "http2 over http://: h2c", url: v4h2c, http2: true, family: "any", proto: contract.ProtocolHTTP2, gotFam: contract.FamilyIP4},
		{name: "h2c server, http2 off: HTTP/1.1", url: v4h2c, family: "any", proto: contract.ProtocolHTTP11, gotFam: contract.FamilyIP4},
		{name: "http2 over http:// to an HTTP/1.1 server: malformed", url: v4, http2: true, family: "any", reason: contract.ReasonMalformed, gotFam: contract.FamilyIP4},
		{name: "ip4 on an ip4 literal", url: v4, family: "ip4", proto: contract.ProtocolHTTP11, gotFam: contract.FamilyIP4},
		{name: "ip4 by name", url: "http://localhost:" + v4port, family: "ip4", proto: contract.ProtocolHTTP11, gotFam: contract.FamilyIP4},
		{name: "ip6 by a name with no IPv6 address: dns", url: "http://localhost:" + v4port, family: "ip6", reason: contract.ReasonDNS},
		{name: "ip4 on an ip6 literal: dns", url: "http://[::1]:" + v4port, family: "ip4", reason: contract.ReasonDNS},
		{name: "ip6 on ::1", url: v6, family: "ip6", needs6: true, proto: contract.ProtocolHTTP11, gotFam: contract.FamilyIP6},
		{name: "any on ::1", url: v6, family: "any", needs6: true, proto: contract.ProtocolHTTP11, gotFam: contract.FamilyIP6},
		{name: "http2 over TLS on ::1", url: v6tls, http2: true, family: "ip6", needs6: true, proto: contract.ProtocolHTTP2, gotFam: contract.FamilyIP6, tlsPhase: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needs6 && !has6 {
				t.Skip("!!! no IPv6 loopback !!!")
			}
			tgt := testTarget(tc.url)
			tgt.HTTP2, tgt.IPFamily = tc.http2, tc.family
			tgt.TLS.InsecureSkipVerify = true
			res := probeOnce(t, tgt)
			if res.Reason != tc.reason || res.Conn.Protocol != tc.proto {
				t.Fatalf("reason %q protocol %q, want %q %q (err %v)", res.Reason, res.Conn.Protocol, tc.reason, tc.proto, res.Err)
			}
			if res.Conn.IPFamily != tc.gotFam {
				t.Errorf("ip family %q, want %q (remote %s)", res.Conn.IPFamily, tc.gotFam, res.RemoteAddr)
			}
			if tc.reason != contract.ReasonNone {
				return
			}
			for _, ph := range []contract.Phase{contract.PhaseConnect, contract.PhaseProcessing, contract.PhaseTransfer} {
				if !res.PhaseSeen[ph] {
					t.Errorf("phase %s not measured", ph)
				}
			}
			if res.PhaseSeen[contract.PhaseTLS] != tc.tlsPhase {
				t.Errorf("tls phase seen %v, want %v", res.PhaseSeen[contract.PhaseTLS], tc.tlsPhase)
			}
		})
	}
}
