package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// TestReasonFor covers the decisions the loopback tests cannot provoke
// reliably (a connect that hangs, a resolver that times out, an unreachable
// network), with the errors net/http wraps them in.
func TestReasonFor(t *testing.T) {
	t.Parallel()
	urlErr := func(err error) error { return &url.Error{Op: "Get", URL: "http://x/", Err: err} }
	dialErr := func(err error) error {
		return urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)})
	}
	var (
		resolving  = hopState{dnsStarted: true}
		connecting = hopState{dnsStarted: true, dnsOK: true}
		handshake  = hopState{connectOK: true, tlsStarted: true}
		connected  = hopState{connectOK: true, gotConn: true}
		connTLS    = hopState{connectOK: true, tlsStarted: true, tlsOK: true, gotConn: true}
	)
	for _, tc := range []struct {
		name    string
		err     error
		hop     hopState
		expired bool
		want    Reason
	}{
		{"nxdomain", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}), resolving, false, ReasonDNS},
		{"resolver timeout", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "i/o timeout", IsTimeout: true}}), resolving, false, ReasonDNS},
		{"deadline during lookup", urlErr(context.DeadlineExceeded), resolving, true, ReasonDNS},
		{"deadline during connect", urlErr(context.DeadlineExceeded), connecting, true, ReasonConnectTimeout},
		{"dialer timeout", dialErr(syscall.ETIMEDOUT), connecting, false, ReasonConnectTimeout},
		{"deadline during handshake", urlErr(context.DeadlineExceeded), handshake, true, ReasonConnectTimeout},
		{"deadline waiting for headers", urlErr(context.DeadlineExceeded), connected, true, ReasonTimeout},
		{"deadline reading body", context.DeadlineExceeded, connTLS, true, ReasonTimeout},
		{"parent canceled", urlErr(context.Canceled), connected, true, ReasonTimeout},
		{"refused", dialErr(syscall.ECONNREFUSED), connecting, false, ReasonConnectRefused},
		{"host unreachable", dialErr(syscall.EHOSTUNREACH), connecting, false, ReasonConnectRefused},
		{"network unreachable", dialErr(syscall.ENETUNREACH), connecting, false, ReasonConnectRefused},
		{"plain server", urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), handshake, false, ReasonTLS},
		{"unknown authority", urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), handshake, false, ReasonTLS},
		{"alert", urlErr(tls.AlertError(40)), handshake, false, ReasonTLS},
		{"closed during handshake", urlErr(io.EOF), handshake, false, ReasonTLS},
		{"reset during handshake", urlErr(syscall.ECONNRESET), handshake, false, ReasonTLS},
		{"reset", urlErr(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), connected, false, ReasonReset},
		{"broken pipe", urlErr(&net.OpError{Op: "write", Err: os.NewSyscallError("write", syscall.EPIPE)}), connected, false, ReasonReset},
		{"closed before answer", urlErr(io.EOF), connected, false, ReasonReset},
		{"body cut short", io.ErrUnexpectedEOF, connTLS, false, ReasonReset},
		{"garbage", urlErr(errors.New(`malformed HTTP response "SSH-2.0-OpenSSH_9.6"`)), connected, false, ReasonMalformed},
		{"bad chunking", errors.New("invalid byte in chunk length"), connected, false, ReasonMalformed},
		{"headers too large", urlErr(errors.New("net/http: server response headers exceeded 65536 bytes; aborted")), connected, false, ReasonTooLarge},
		{"body too large", fmt.Errorf("%w (1024 bytes)", errBodyTooLarge), connected, false, ReasonTooLarge},
		{"redirect loop", urlErr(fmt.Errorf("%w: http://x/ visited twice", errRedirectLoop)), connected, false, ReasonRedirectLoop},
	} {
		if got := reasonFor(tc.err, tc.hop, tc.expired); got != tc.want {
			t.Errorf("%s: reasonFor(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
