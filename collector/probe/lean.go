package probe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
)

// The client paths a probe takes (Conn.Path).
const (
	// PathLean is the lean client: the probe's own goroutine dials, writes
	// the request and reads the answer, with deadlines on the connection.
	PathLean = "lean"
	// PathNetHTTP is net/http's client (TLS, HTTP/2, proxies, redirects,
	// credentials, keep_alive, or probe_path: net/http).
	PathNetHTTP = config.ProbePathNetHTTP
)

// leanEligible reports whether t's probe can take the lean path: plain
// http://, HTTP/1.1, a fresh connection, no proxy and no credentials (nor
// user:password@ in the URL, which net/http's client turns into basic
// auth), and probe_path not forcing net/http. Everything else needs what
// only net/http's client does; so does a redirect to follow (Prober.Probe).
func leanEligible(t *config.Target, u *url.URL, shared *fetch.Shared) bool {
	return t.ProbePath != config.ProbePathNetHTTP && u.Scheme == "http" && u.User == nil &&
		!t.HTTP2 && !t.KeepAlive && !t.Proxied() && t.Method != http.MethodConnect &&
		shared.Direct() && !shared.Authenticates() && isASCII(u.Host)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// leanClient makes the default probe's one HTTP/1.1 exchange on a fresh
// connection without net/http's transport: no connection pool, no read and
// write goroutines, no channels. The request never changes, so its bytes
// are written once, in New, by net/http's own request writer; the answer
// is parsed by net/http's own parser (http.ReadResponse), bounded the way
// the transport bounds it (the header limit counts the bytes read from the
// connection, reset after each 1xx), so both paths reach the same verdict
// on the same bytes. It is immutable after newLeanClient.
type leanClient struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	addr string // host:port, the port defaulted as net/http does
	// literal: the host is an IP address, so there is nothing to resolve
	// and one address to connect to; the connect phase is timed here,
	// without the trace hooks a lookup needs.
	literal bool
	head    []byte // request line and headers, "Connection: close" included
	body    []byte
	// req is what http.ReadResponse reads of the request (its method, for
	// HEAD) and what Response.Request points to; never written, and
	// shared by the targets of one method (Clients.request): no URL.
	req *http.Request
	// op and url make errors read as net/http's (`Get "http://...": ...`).
	op, url string
}

func newLeanClient(p *Prober, u *url.URL, dial func(ctx context.Context, network, addr string) (net.Conn, error), answered *http.Request) (*leanClient, error) {
	req := &http.Request{
		Method: p.method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: p.header, Host: p.host, Close: true, // keep-alives off: "Connection: close"
	}
	if p.body != "" {
		req.Body = io.NopCloser(strings.NewReader(p.body))
		req.ContentLength = int64(len(p.body))
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		return nil, err
	}
	head, ok := bytes.CutSuffix(wire.Bytes(), []byte(p.body))
	if !ok {
		return nil, errors.New("request body not written as given")
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	host := u.Hostname()
	_, err := netip.ParseAddr(host)
	return &leanClient{
		dial:    dial, // the probe's context bounds it (sharedClient.leanDial)
		addr:    net.JoinHostPort(host, port),
		literal: err == nil,
		head:    bytes.Clone(head),
		body:    []byte(p.body),
		req:     answered,
		op:      p.method[:1] + strings.ToLower(p.method[1:]),
		url:     u.Redacted(),
	}, nil
}

// headerReaders recycles the 4 KiB readers of the answers (net/http's own
// size), scratch space that carries nothing from one probe to the next.
var headerReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}

// errHeadersTooLarge is the lean path's error for headers over
// maxResponseHeaderBytes (the text is net/http's).
var errHeadersTooLarge = fmt.Errorf("server response headers exceeded %d bytes; aborted", maxResponseHeaderBytes)

// limitedConn is the connection as the parser reads it: at most limit bytes
// while limit counts down (the headers), as net/http's persistConn.Read.
type limitedConn struct {
	net.Conn
	limit int64
}

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.limit <= 0 {
		return 0, fmt.Errorf("read limit of %d bytes exhausted", maxResponseHeaderBytes)
	}
	if int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.Conn.Read(p)
	c.limit -= int64(n)
	return n, err
}

// leanBody is the answer's body; closing it closes the connection, unread:
// net/http's body would first drain what a hostile peer may never finish.
type leanBody struct {
	r    io.Reader
	ctx  context.Context
	lc   limitedConn // what br reads; one allocation with the body
	br   *bufio.Reader
	stop func() bool
	once sync.Once
}

func (b *leanBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = ended(b.ctx, err)
	}
	return n, err
}

func (b *leanBody) Close() error {
	b.once.Do(b.release)
	return nil
}

func (b *leanBody) release() {
	if b.stop != nil {
		b.stop()
	}
	b.lc.Conn.Close()
	b.br.Reset(nil)
	headerReaders.Put(b.br)
}

// roundTrip makes the exchange within ctx's deadline, recording its phases
// in tr; parent is the context ctx was derived from with the probe's
// timeout, whose cancellation (shutdown) ends the exchange at once. An
// answer's body must be closed; an error comes without one. Errors are
// *url.Error, as net/http's client returns them.
func (c *leanClient) roundTrip(ctx, parent context.Context, tr *tracer) (*http.Response, error) {
	resp, err := c.exchange(ctx, parent, tr)
	if err != nil {
		return nil, &url.Error{Op: c.op, URL: c.url, Err: ended(ctx, err)}
	}
	return resp, nil
}

// ended is err, or the context's error when the context is done (its
// deadline passed, or the caller cancelled): as net/http, a probe that ran
// out of time says so rather than what the cut-off read made of a partial
// line ("malformed MIME header", "malformed chunked encoding").
func ended(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	// The connection's deadline is the context's; its timer may fire first.
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}

func (c *leanClient) exchange(ctx, parent context.Context, tr *tracer) (*http.Response, error) {
	var (
		conn net.Conn
		err  error
	)
	if c.literal {
		tr.connectStart("", "")
		conn, err = c.dial(ctx, "tcp", c.addr)
		tr.connectDone("", "", err)
	} else {
		conn, err = c.dial(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			DNSStart: tr.dnsStart, DNSDone: tr.dnsDone, ConnectStart: tr.connectStart, ConnectDone: tr.connectDone,
		}), "tcp", c.addr)
	}
	if err != nil {
		return nil, err
	}
	tr.gotConnAddr(remoteAddr(conn, c.addr))
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// The deadline covers the probe's timeout; the caller's cancellation
	// (shutdown) reaches the connection through this. Registered on the
	// parent, whose context already tracks its children, rather than on
	// ctx: one set of allocations fewer per probe, and nothing at all
	// under a parent that is never cancelled.
	stop := context.AfterFunc(parent, func() { conn.SetDeadline(time.Unix(1, 0)) })

	br := headerReaders.Get().(*bufio.Reader)
	body := &leanBody{ctx: ctx, lc: limitedConn{Conn: conn, limit: maxResponseHeaderBytes}, br: br, stop: stop}
	br.Reset(&body.lc)
	resp, err := c.send(conn, &body.lc, br, tr)
	if err != nil {
		body.Close()
		return nil, err
	}
	body.r = resp.Body
	resp.Body = body
	return resp, nil
}

// remoteAddr is conn's remote address as its String method writes it, but
// without the two allocations when it reads as dialled, the address
// dialled: then the string returned is dialled itself. An IP literal
// target in canonical form, the usual lean target, always does.
func remoteAddr(conn net.Conn, dialled string) string {
	ra, ok := conn.RemoteAddr().(*net.TCPAddr)
	if !ok || ra.Zone != "" {
		return conn.RemoteAddr().String()
	}
	var a netip.Addr
	if ip4 := ra.IP.To4(); ip4 != nil {
		a = netip.AddrFrom4([4]byte(ip4))
	} else if len(ra.IP) == net.IPv6len {
		a = netip.AddrFrom16([16]byte(ra.IP))
	} else {
		return ra.String()
	}
	var buf [64]byte
	if b := netip.AddrPortFrom(a, uint16(ra.Port)).AppendTo(buf[:0]); string(b) == dialled {
		return dialled
	}
	return ra.String()
}

// send writes the request and reads the answer's head.
func (c *leanClient) send(conn net.Conn, lc *limitedConn, br *bufio.Reader, tr *tracer) (*http.Response, error) {
	_, werr := conn.Write(c.head)
	if werr == nil && len(c.body) > 0 {
		_, werr = conn.Write(c.body)
	}
	tr.wroteRequest(httptrace.WroteRequestInfo{Err: werr})
	if werr != nil {
		var ne net.Error
		if errors.As(werr, &ne) && ne.Timeout() {
			return nil, werr
		}
		// A peer may answer (413, 503) and close before it read the whole
		// request; net/http takes such an answer when it came first.
		if resp, err := readHead(br, lc, c.req, tr); err == nil {
			return resp, nil
		}
		return nil, werr
	}
	return readHead(br, lc, c.req, tr)
}

// readHead reads the answer's status line and headers from br, which reads
// lc, the way net/http's transport does: 1xx answers before the final one
// are skipped (at most max1xx, tr.got1xx counts them), each with the header
// limit afresh; a final answer below 200 (101 above all) is an
// *fetch.InterimError and nothing of it is kept. The header limit is lifted
// once the head is read.
func readHead(br *bufio.Reader, lc *limitedConn, req *http.Request, tr *tracer) (*http.Response, error) {
	if _, err := br.Peek(1); err != nil {
		return nil, err
	}
	tr.gotFirstResponseByte()
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			if lc.limit <= 0 {
				return nil, errHeadersTooLarge
			}
			return nil, err
		}
		if resp.StatusCode >= 100 && resp.StatusCode <= 199 && resp.StatusCode != http.StatusSwitchingProtocols {
			if err := tr.got1xx(resp.StatusCode, nil); err != nil {
				return nil, err
			}
			lc.limit = maxResponseHeaderBytes
			continue
		}
		lc.limit = math.MaxInt64
		if resp.StatusCode < 200 {
			return nil, &fetch.InterimError{Code: resp.StatusCode, Status: resp.Status}
		}
		return resp, nil
	}
}
