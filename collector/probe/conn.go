package probe

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// Conn is what a probe learnt about the connection of its final hop. Its
// strings are values of the contract or bounded copies: it holds no
// pointer into what the target sent.
type Conn struct {
	// Protocol is the HTTP version of the answer (contract.ProtocolOf), ""
	// without an answer.
	Protocol string
	// IPFamily is the family of the address that answered
	// (contract.FamilyIP4 or FamilyIP6; through a proxy, the proxy's), ""
	// when no connection was made.
	IPFamily string
	// TLS is the handshake's outcome; zero over plain HTTP.
	TLS TLSState
	// Path is the client that made the probe: PathLean or PathNetHTTP.
	Path string
}

// TLSState is what a TLS handshake showed of the target's certificates.
type TLSState struct {
	// Version is the negotiated version (contract.TLS13 ...), "" when the
	// handshake did not complete.
	Version string
	// Subject and Issuer are the leaf certificate's, at most
	// contract.MaxCertName bytes each.
	Subject, Issuer string
	// LeafNotAfter is the leaf's expiry; ChainNotAfter the earliest
	// NotAfter along the verified chain, leaf included (when several chains
	// verify, the one lasting longest: a client may pick it). Without a
	// verified chain (insecure_skip_verify, or verification failed) it is
	// the earliest of the certificates the server sent.
	LeafNotAfter, ChainNotAfter time.Time
	// Verified is true when the chain verified against the target's roots.
	Verified bool
}

// HasCert reports whether a certificate was seen.
func (s *TLSState) HasCert() bool { return !s.LeafNotAfter.IsZero() }

// tlsStateOf reads a completed handshake.
func tlsStateOf(cs *tls.ConnectionState) TLSState {
	st := certState(cs.PeerCertificates, cs.VerifiedChains)
	st.Version = tls.VersionName(cs.Version)
	return st
}

// certState reads the certificates of a handshake; chains are the verified
// ones (none when verification was skipped or failed).
func certState(peer []*x509.Certificate, chains [][]*x509.Certificate) TLSState {
	if len(peer) == 0 {
		return TLSState{}
	}
	leaf := peer[0]
	st := TLSState{
		Subject:      certName(leaf.Subject.String()),
		Issuer:       certName(leaf.Issuer.String()),
		LeafNotAfter: leaf.NotAfter,
		Verified:     len(chains) > 0,
	}
	if len(chains) == 0 {
		st.ChainNotAfter = earliest(peer)
		return st
	}
	for _, c := range chains {
		if e := earliest(c); e.After(st.ChainNotAfter) {
			st.ChainNotAfter = e
		}
	}
	return st
}

func earliest(certs []*x509.Certificate) time.Time {
	var t time.Time
	for _, c := range certs {
		if t.IsZero() || c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t
}

// certName bounds a certificate name for a label: valid UTF-8, at most
// contract.MaxCertName bytes, in a string of its own.
func certName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= contract.MaxCertName {
		return strings.Clone(s)
	}
	const ellipsis = "…"
	cut := contract.MaxCertName - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// familyOf is the IP family of a remote address, "" when it is not one.
func familyOf(remote string) string {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return ""
	}
	if ap.Addr().Unmap().Is4() {
		return contract.FamilyIP4
	}
	return contract.FamilyIP6
}

// ConnReport is Conn as the JSON answers (/api/v1/status, /api/v1/check)
// and the check command show it.
type ConnReport struct {
	Protocol    string `json:"protocol,omitempty"`
	IPFamily    string `json:"ip_family,omitempty"`
	TLSVersion  string `json:"tls_version,omitempty"`
	CertSubject string `json:"cert_subject,omitempty"`
	CertIssuer  string `json:"cert_issuer,omitempty"`
	// CertNotAfter is the leaf's expiry, ChainNotAfter the earliest along
	// the verified chain; CertVerified whether the chain verified.
	CertNotAfter  *time.Time `json:"cert_not_after,omitempty"`
	ChainNotAfter *time.Time `json:"chain_not_after,omitempty"`
	CertVerified  bool       `json:"cert_verified,omitempty"`
	// Path is the client that made the probe: lean or net/http.
	Path string `json:"path,omitempty"`
}

// Report is c for the JSON answers; nil when nothing is known.
func (c *Conn) Report() *ConnReport {
	if c.Protocol == "" && c.IPFamily == "" && !c.TLS.HasCert() && c.TLS.Version == "" {
		return nil
	}
	r := &ConnReport{
		Protocol: c.Protocol, IPFamily: c.IPFamily, TLSVersion: c.TLS.Version,
		CertSubject: c.TLS.Subject, CertIssuer: c.TLS.Issuer, CertVerified: c.TLS.Verified,
		Path: c.Path,
	}
	if c.TLS.HasCert() {
		leaf, chain := c.TLS.LeafNotAfter.UTC(), c.TLS.ChainNotAfter.UTC()
		r.CertNotAfter, r.ChainNotAfter = &leaf, &chain
	}
	return r
}

// Merge is what is known of a target's connection after a probe that saw
// next: an answer replaces it all; a certificate seen without an answer
// (one that failed verification) replaces the certificate; a probe that saw
// less changes nothing, since a timeout says nothing new about the
// certificate.
func (c Conn) Merge(next Conn) Conn {
	if next.Path != "" {
		c.Path = next.Path // the latest probe's, whatever it saw
	}
	switch {
	case next.Protocol != "":
		return next
	case next.TLS.HasCert():
		c.TLS = next.TLS
	}
	return c
}

// Summary is c in one line for people: "HTTP/2.0 over ip6, TLS 1.3,
// net/http client".
func (r *ConnReport) Summary() string {
	if r == nil {
		return ""
	}
	var parts []string
	if r.Protocol != "" {
		s := r.Protocol
		if r.IPFamily != "" {
			s += " over " + r.IPFamily
		}
		parts = append(parts, s)
	}
	if r.TLSVersion != "" {
		parts = append(parts, r.TLSVersion)
	}
	if r.Path != "" {
		parts = append(parts, r.Path+" client")
	}
	return strings.Join(parts, ", ")
}

// CertSummary says when the certificates expire, as of now: "CN=x (issuer
// CN=y) expires 2026-12-26 (in 20d); chain 2026-12-11 (in 5d)"; "" without
// a certificate.
func (r *ConnReport) CertSummary(now time.Time) string {
	if r == nil || r.CertNotAfter == nil {
		return ""
	}
	s := fmt.Sprintf("%s (issuer %s) expires %s", r.CertSubject, r.CertIssuer, whenText(*r.CertNotAfter, now))
	if !r.ChainNotAfter.Equal(*r.CertNotAfter) {
		s += "; chain " + whenText(*r.ChainNotAfter, now)
	}
	if !r.CertVerified {
		s += "; not verified"
	}
	return s
}

func whenText(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d < 0:
		return fmt.Sprintf("%s (expired %s ago)", t.Format(time.DateOnly), daysText(-d))
	default:
		return fmt.Sprintf("%s (in %s)", t.Format(time.DateOnly), daysText(d))
	}
}

func daysText(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}
