package fetch

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// InterimError is the error of a round trip whose final answer is a 1xx
// (101 Switching Protocols above all) or a status code below 100, which no
// request of the exporter asks for. After a 101, net/http hands back the raw
// connection as the body and no request deadline applies to it any more, so
// reading it could block for ever: RefuseInterim closes it instead.
type InterimError struct {
	Code   int
	Status string // "101 Switching Protocols"
}

func (e *InterimError) Error() string {
	if e.Code < 100 {
		return fmt.Sprintf("status %q is not a valid HTTP status code; connection closed", e.Status)
	}
	return fmt.Sprintf("final answer %q: an interim or protocol-switching answer no request asked for; connection closed unread", e.Status)
}

// RefuseInterim wraps rt so that a final answer below 200 is an
// *InterimError and its connection is closed unread. Every client of the
// exporter (probes, side channels, the CLI's remote calls) uses it: none
// asks to switch protocols.
func RefuseInterim(rt http.RoundTripper) http.RoundTripper { return refuseInterim{rt} }

type refuseInterim struct{ rt http.RoundTripper }

func (r refuseInterim) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err != nil || resp.StatusCode >= 200 {
		return resp, err
	}
	resp.Body.Close() // after a 101 this closes the connection itself
	return nil, &InterimError{Code: resp.StatusCode, Status: resp.Status}
}

// CloseIdleConnections passes on to the wrapped transport, so
// http.Client.CloseIdleConnections reaches it.
func (r refuseInterim) CloseIdleConnections() {
	if c, ok := r.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// BoundedClient returns a client for the exporter's own remote calls
// (`status --from`, `check --from`, `deploy`): tr wrapped in RefuseInterim,
// and every request, body read included, bounded by timeout even when the
// caller's context has no deadline. checkRedirect may be nil.
func BoundedClient(tr *http.Transport, timeout time.Duration, checkRedirect func(*http.Request, []*http.Request) error) *http.Client {
	return &http.Client{Transport: RefuseInterim(tr), Timeout: timeout, CheckRedirect: checkRedirect}
}

// ReadLimited reads r to its end, at most limit bytes; a longer body is an
// error wrapping ErrTooLarge. With a client from BoundedClient the read ends
// within the client's timeout whatever the peer does.
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}
