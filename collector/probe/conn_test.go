package probe

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// genCert is a certificate made for a test, and its key.
type genCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// newCert makes a certificate valid until notAfter, signed by parent (self
// signed when nil); ca makes it a CA.
func newCert(t *testing.T, cn string, notAfter time.Time, parent *genCert, ca bool) *genCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"http5xx test"}},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		IsCA:                  ca,
	}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
		tmpl.DNSNames = []string{"localhost"}
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &genCert{cert: cert, key: key}
}

func (c *genCert) pem() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw}))
}

// tlsServer serves 200 over TLS on loopback with leaf and the chain after it.
func certServer(t *testing.T, leaf *genCert, chain ...*genCert) string {
	t.Helper()
	c := tls.Certificate{Certificate: [][]byte{leaf.cert.Raw}, PrivateKey: leaf.key, Leaf: leaf.cert}
	for _, ca := range chain {
		c.Certificate = append(c.Certificate, ca.cert.Raw)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{c}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestProbeCertificates: the probe reads the leaf's and the chain's
// expiry, the TLS version and the leaf's names from real TLS loopback
// servers with certificates made for the test, also from a certificate
// that failed verification because it expired.
func TestProbeCertificates(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	day := 24 * time.Hour
	root := newCert(t, "http5xx test root", now.Add(365*day), nil, true)
	inter := newCert(t, "http5xx test intermediate", now.Add(5*day), root, true)
	longLeaf := newCert(t, "shop.test", now.Add(20*day), inter, false)
	nearLeaf := newCert(t, "soon.test", now.Add(2*day), root, false)
	expired := newCert(t, "expired.test", now.Add(-time.Hour), root, false)
	selfSigned := newCert(t, "self.test", now.Add(3*day), nil, false)
	longName := newCert(t, strings.Repeat("ü", 200), now.Add(20*day), root, false)

	for _, tc := range []struct {
		name           string
		url            string
		skipVerify     bool
		reason         contract.Reason
		version        string
		leaf, chain    time.Time
		subject        string
		verified       bool
		wantNoTLSState bool
	}{
		{name: "intermediate expires first", url: certServer(t, longLeaf, inter), version: contract.TLS13,
			leaf: now.Add(20 * day), chain: now.Add(5 * day), subject: "CN=shop.test,O=http5xx test", verified: true},
		{name: "leaf expires first", url: certServer(t, nearLeaf), version: contract.TLS13,
			leaf: now.Add(2 * day), chain: now.Add(2 * day), subject: "CN=soon.test,O=http5xx test", verified: true},
		{name: "expired: a tls failure that still tells the date", url: certServer(t, expired), reason: contract.ReasonTLS,
			leaf: now.Add(-time.Hour), chain: now.Add(-time.Hour), subject: "CN=expired.test,O=http5xx test"},
		{name: "insecure_skip_verify: the certificates sent", url: certServer(t, selfSigned), skipVerify: true, version: contract.TLS13,
			leaf: now.Add(3 * day), chain: now.Add(3 * day), subject: "CN=self.test,O=http5xx test"},
		{name: "plain HTTP: no TLS", url: codeServer(t, 200, nil), wantNoTLSState: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := testTarget(tc.url)
			tgt.TLS.CA = root.pem()
			tgt.TLS.InsecureSkipVerify = tc.skipVerify
			res := probeOnce(t, tgt)
			if res.Reason != tc.reason {
				t.Fatalf("reason %q, want %q (err %v)", res.Reason, tc.reason, res.Err)
			}
			st := res.Conn.TLS
			if tc.wantNoTLSState {
				if st != (TLSState{}) {
					t.Errorf("TLS state %+v over plain HTTP", st)
				}
				return
			}
			if !st.LeafNotAfter.Equal(tc.leaf) || !st.ChainNotAfter.Equal(tc.chain) {
				t.Errorf("leaf %v chain %v, want %v and %v", st.LeafNotAfter, st.ChainNotAfter, tc.leaf, tc.chain)
			}
			if st.Version != tc.version || st.Subject != tc.subject || st.Verified != tc.verified {
				t.Errorf("version %q subject %q verified %v, want %q %q %v", st.Version, st.Subject, st.Verified, tc.version, tc.subject, tc.verified)
			}
			if !strings.HasPrefix(st.Issuer, "CN=http5xx test") && !strings.HasPrefix(st.Issuer, "CN=self.test") {
				t.Errorf("issuer %q", st.Issuer)
			}
		})
	}
	t.Run("a long subject is cut", func(t *testing.T) {
		tgt := testTarget(certServer(t, longName))
		tgt.TLS.CA = root.pem()
		res := probeOnce(t, tgt)
		if s := res.Conn.TLS.Subject; len(s) > contract.MaxCertName || !strings.HasSuffix(s, "…") || !strings.HasPrefix(s, "CN=üü") {
			t.Errorf("subject %q (%d bytes), want at most %d ending in …", s, len(s), contract.MaxCertName)
		}
	})
}

// The connection of every answer names its protocol and IP family.
func TestProbeConnection(t *testing.T) {
	res := probeOnce(t, testTarget(codeServer(t, 200, nil)))
	if got := res.Conn; got.Protocol != contract.ProtocolHTTP11 || got.IPFamily != contract.FamilyIP4 {
		t.Errorf("conn %+v, want HTTP/1.1 over ip4", got)
	}
}
