package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
)

// errRedirectLoop is wrapped by the redirect policy's errors.
var errRedirectLoop = errors.New("redirect loop")

// errBodyTooLarge is returned when the body exceeds the target's limit.
var errBodyTooLarge = errors.New("body exceeds body_size_limit")

// reasonFor decides why a probe got no (complete) answer. err is the error
// of the round trip or of the body read, hop what the final hop got through,
// and expired whether the probe's own deadline (or its parent's
// cancellation) is what stopped it. The order matters:
//
//   - the exporter's own shortage (file descriptors, memory, local ports)
//     and credentials it could not get (a secret file it cannot read, an
//     OAuth2 token endpoint that failed) first: they say nothing about the
//     target;
//   - redirect policy, the redirect guard and size limits next: they are
//     our own verdicts;
//   - a resolver error is dns, whatever else it says (timeouts included);
//   - a deadline is judged by how far the hop got: during the lookup → dns,
//     before the connection was up (TCP connect or TLS handshake) →
//     connect_timeout, after → timeout;
//   - a failed TLS handshake → tls; any other failure before the connection
//     was up is the network or host refusing it → connect_refused;
//   - the peer closing or resetting → reset; anything else the HTTP parser
//     rejected (a 101 or other 1xx as the final answer, too many 1xx
//     answers included) → malformed.
func reasonFor(err error, hop hopState, expired bool) contract.Reason {
	var (
		dnsErr     *net.DNSError
		interimErr *fetch.InterimError
	)
	switch {
	case isExporterShortage(err), errors.Is(err, fetch.ErrCredentials):
		return contract.ReasonExporter
	case errors.Is(err, errRedirectLoop):
		return contract.ReasonRedirectLoop
	case errors.Is(err, errRedirectRefused):
		return contract.ReasonRedirectRefused
	case errors.As(err, &interimErr), errors.Is(err, errTooMany1xx):
		return contract.ReasonMalformed
	case errors.Is(err, errBodyTooLarge), errors.Is(err, errHeadersTooLarge), isHeaderTooLarge(err):
		return contract.ReasonTooLarge
	case errors.As(err, &dnsErr):
		return contract.ReasonDNS
	case expired || isTimeout(err):
		switch {
		case hop.dnsStarted && !hop.dnsOK:
			return contract.ReasonDNS
		case !hop.gotConn:
			return contract.ReasonConnectTimeout
		default:
			return contract.ReasonTimeout
		}
	// net/http turns a plain-HTTP answer to the ClientHello into an error
	// of no TLS type; the hop state still says the handshake failed.
	case isTLSError(err), hop.tlsStarted && !hop.tlsOK && !hop.gotConn:
		return contract.ReasonTLS
	case errors.Is(err, syscall.ECONNREFUSED), !hop.gotConn:
		return contract.ReasonConnectRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		isServerClosedIdle(err):
		return contract.ReasonReset
	default:
		return contract.ReasonMalformed
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLSError(err error) bool {
	var (
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		verifyErr  *tls.CertificateVerificationError
		authErr    x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	return errors.As(err, &recordErr) || errors.As(err, &alertErr) ||
		errors.As(err, &verifyErr) || errors.As(err, &authErr) ||
		errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}

// isExporterShortage reports the errors of the exporter's own resources:
// out of file descriptors (per process or system-wide), socket buffers,
// memory or local ports. A probe that met one never reached the target.
func isExporterShortage(err error) bool {
	for _, e := range [...]syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.EADDRNOTAVAIL} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// isServerClosedIdle matches net/http's error for a connection the server
// closed before any byte of the answer (it has no exported value): the
// peer closing, as io.EOF is.
func isServerClosedIdle(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server closed idle connection")
}

// isHeaderTooLarge matches net/http's error for a response whose headers
// exceed Transport.MaxResponseHeaderBytes; it has no exported type.
func isHeaderTooLarge(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server response headers exceeded")
}
