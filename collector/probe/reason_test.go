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

	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
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
		want    contract.Reason
	}{
		{"nxdomain", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}), resolving, false, contract.ReasonDNS},
		{"resolver timeout", urlErr(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "i/o timeout", IsTimeout: true}}), resolving, false, contract.ReasonDNS},
		{"deadline during lookup", urlErr(context.DeadlineExceeded), resolving, true, contract.ReasonDNS},
		{"deadline during connect", urlErr(context.DeadlineExceeded), connecting, true, contract.ReasonConnectTimeout},
		{"dialer timeout", dialErr(syscall.ETIMEDOUT), connecting, false, contract.ReasonConnectTimeout},
		{"deadline during handshake", urlErr(context.DeadlineExceeded), handshake, true, contract.ReasonConnectTimeout},
		{"deadline waiting for headers", urlErr(context.DeadlineExceeded), connected, true, contract.ReasonTimeout},
		{"deadline reading body", context.DeadlineExceeded, connTLS, true, contract.ReasonTimeout},
		{"parent canceled", urlErr(context.Canceled), connected, true, contract.ReasonTimeout},
		{"refused", dialErr(syscall.ECONNREFUSED), connecting, false, contract.ReasonConnectRefused},
		{"host unreachable", dialErr(syscall.EHOSTUNREACH), connecting, false, contract.ReasonConnectRefused},
		{"network unreachable", dialErr(syscall.ENETUNREACH), connecting, false, contract.ReasonConnectRefused},
		{"plain server", urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), handshake, false, contract.ReasonTLS},
		{"unknown authority", urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), handshake, false, contract.ReasonTLS},
		{"alert", urlErr(tls.AlertError(40)), handshake, false, contract.ReasonTLS},
		{"closed during handshake", urlErr(io.EOF), handshake, false, contract.ReasonTLS},
		{"reset during handshake", urlErr(syscall.ECONNRESET), handshake, false, contract.ReasonTLS},
		{"reset", urlErr(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), connected, false, contract.ReasonReset},
		{"broken pipe", urlErr(&net.OpError{Op: "write", Err: os.NewSyscallError("write", syscall.EPIPE)}), connected, false, contract.ReasonReset},
		{"closed before answer", urlErr(io.EOF), connected, false, contract.ReasonReset},
		{"body cut short", io.ErrUnexpectedEOF, connTLS, false, contract.ReasonReset},
		{"garbage", urlErr(errors.New(`malformed HTTP response "SSH-2.0-OpenSSH_9.6"`)), connected, false, contract.ReasonMalformed},
		{"bad chunking", errors.New("invalid byte in chunk length"), connected, false, contract.ReasonMalformed},
		{"headers too large", urlErr(errors.New("net/http: server response headers exceeded 65536 bytes; aborted")), connected, false, contract.ReasonTooLarge},
		{"body too large", fmt.Errorf("%w (1024 bytes)", errBodyTooLarge), connected, false, contract.ReasonTooLarge},
		{"redirect loop", urlErr(fmt.Errorf("%w: http://x/ visited twice", errRedirectLoop)), connected, false, contract.ReasonRedirectLoop},
		// A server that closes at once loses the race with net/http's idle
		// check now and then: the same peer, the same reason.
		{"server closed idle connection", urlErr(errors.New("http: server closed idle connection")), connected, false, contract.ReasonReset},
		{"redirect refused", urlErr(fmt.Errorf("%w: 169.254.169.254 is a cloud metadata address", errRedirectRefused)), connected, false, contract.ReasonRedirectRefused},
		{"redirect refused at dial", dialErr(fmt.Errorf("%w: 127.0.0.1 is a loopback address", errRedirectRefused)), connecting, false, contract.ReasonRedirectRefused},
		{"101 switching protocols", urlErr(&fetch.InterimError{Code: 101, Status: "101 Switching Protocols"}), connected, false, contract.ReasonMalformed},
		{"1xx storm", urlErr(errTooMany1xx), connected, false, contract.ReasonMalformed},
		{"out of file descriptors", urlErr(&net.OpError{Op: "dial", Err: os.NewSyscallError("socket", syscall.EMFILE)}), connecting, false, contract.ReasonExporter},
		{"system out of file descriptors", dialErr(syscall.ENFILE), connecting, false, contract.ReasonExporter},
		{"out of socket buffers", dialErr(syscall.ENOBUFS), connecting, false, contract.ReasonExporter},
		{"out of local ports", dialErr(syscall.EADDRNOTAVAIL), connecting, false, contract.ReasonExporter},
		{"out of memory", dialErr(syscall.ENOMEM), connecting, true, contract.ReasonExporter},
	} {
		if got := reasonFor(tc.err, tc.hop, tc.expired); got != tc.want {
			t.Errorf("%s: reasonFor(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
