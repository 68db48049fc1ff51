package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/expect"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// maxResponseHeaderBytes bounds the response headers; more is too_large.
// Reverse proxies refuse far less (nginx's proxy_buffer_size is 4-8 KiB).
const maxResponseHeaderBytes = 64 << 10

// Options are the exporter-wide inputs of a Prober.
type Options struct {
	// Location names this exporter's probing location; it goes into the
	// X-Http5xx-Probe header.
	Location string
	// Version goes into the User-Agent.
	Version string
	// Finisher triages every outcome (class, owner, layer, product, first
	// move); nil uses the default class table and the built-in fingerprints.
	// The prober uses its target's view of it (Finisher.ForTarget), so a
	// result's owner is the target's team for its class.
	Finisher *triage.Finisher
	// Clients shares what probers with the same client settings can share;
	// nil shares nothing.
	Clients *Clients
}

// Prober probes one target. It is safe for concurrent use; the HTTP client
// is built once and reused by every probe.
type Prober struct {
	name      string
	method    string
	url       string
	host      string // Host header override, "" for the URL's host
	body      string
	header    http.Header // read-only after New, shared by every request
	timeout   time.Duration
	bodyLimit int64
	valid     config.StatusCodes
	follow    bool
	maxHops   int
	finisher  *triage.Finisher
	guard     redirectGuard
	redact    []string // the target's redact_query_params
	expect    *expect.Conditions
	// prefixes recycles the buffers the first bytes of 2xx bodies are read
	// into for the error-page fingerprints (*[]byte of fingerprint.MaxBody).
	prefixes  *sync.Pool
	transport *http.Transport
	client    *http.Client
	// lean, when the target is eligible (leanEligible), makes the probes
	// instead of client, until redirects says the target answered with a
	// redirect to follow.
	lean      *leanClient
	redirects atomic.Bool
}

// New builds the prober of t, whose defaults must already be applied.
func New(t *config.Target, opts Options) (*Prober, error) {
	timeout := t.TimeoutDuration()
	if timeout <= 0 {
		return nil, fmt.Errorf("target %q: timeout must be positive", t.Name)
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", t.Name, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: url %q: scheme must be http or https", t.Name, t.URL)
	}
	sc, ck, sharable, err := opts.Clients.sharedFor(t, opts.Version)
	if err != nil {
		return nil, err
	}
	shared := sc.Shared
	p := &Prober{
		name:      t.Name,
		method:    t.Method,
		url:       t.URL,
		body:      t.Body,
		header:    make(http.Header, len(t.Headers)+2),
		timeout:   timeout,
		bodyLimit: int64(t.BodySizeLimit),
		valid:     t.ValidStatusCodes,
		follow:    t.Follows(),
		maxHops:   t.MaxRedirects,
		finisher:  opts.Finisher,
		guard:     newRedirectGuard(t.GuardsRedirects(), t.Proxied(), u),
		redact:    t.RedactQueryParams,
	}
	if p.method == "" {
		p.method = http.MethodGet
	}
	if p.expect, err = expect.Compile(t.Expect, t.RedactQueryParams); err != nil {
		return nil, fmt.Errorf("target %q: %w", t.Name, err)
	}
	p.prefixes = opts.Clients.prefixPool()
	// net/http would refuse these on every probe, and the refusal would be
	// classified as the target's failure.
	if !config.IsToken(p.method) {
		return nil, fmt.Errorf("target %q: %q is not a valid HTTP method", t.Name, p.method)
	}
	for k, v := range t.Headers {
		if !config.IsToken(k) {
			return nil, fmt.Errorf("target %q: %q is not a valid header name", t.Name, k)
		}
		if !config.ValidHeaderValue(v) {
			return nil, fmt.Errorf("target %q: header %s: value holds a control character", t.Name, k)
		}
	}
	if p.bodyLimit <= 0 {
		p.bodyLimit = math.MaxInt64 - 1 // no limit; the timeout still bounds the read
	}
	if p.finisher == nil {
		p.finisher = triage.Default()
	}
	p.finisher = p.finisher.ForTarget(t)
	// The target's headers may replace the User-Agent (some WAFs insist),
	// never the probe marker.
	p.header.Set("User-Agent", shared.UserAgent)
	for k, v := range t.Headers {
		if strings.EqualFold(k, "Host") {
			p.host = v
			continue
		}
		p.header.Set(k, v)
	}
	marker := t.Name
	if opts.Location != "" {
		marker = opts.Location + "/" + t.Name
	}
	p.header.Set("X-Http5xx-Probe", marker)

	protocols := protocolsFor(t.HTTP2, u.Scheme)
	p.transport = &http.Transport{
		Proxy:              shared.Proxy,
		ProxyConnectHeader: shared.ProxyConnectHeader,
		// The probe's context bounds the dial, but net/http lets a dial
		// outlive the request it was for; the dialer's own timeout bounds it.
		// Its control is the redirect guard, on the address dialled.
		DialContext:         shared.Dial(p.guard.dialer(timeout)),
		TLSClientConfig:     shared.TLS,
		TLSHandshakeTimeout: timeout,
		// A fresh connection per probe measures what a new visitor gets
		// (resolve, connect, tls); keep_alive measures a pooled client.
		DisableKeepAlives:   !t.KeepAlive,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     max(90*time.Second, 2*t.IntervalDuration()),
		// No Accept-Encoding: bodies arrive as sent, so sizes are real.
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		// HTTP/1.1 unless http2: the phases and errors mean the same on
		// every target that does not ask for more.
		Protocols: protocols,
	}
	// Without keep-alives a transport keeps no connections: the targets of
	// one transportKey share the first one's (its dial reads that guard).
	tk := transportKey{ck, timeout, p.guard.on, p.guard.viaProxy, p.guard.loopbackTarget}
	p.transport = opts.Clients.transport(tk, sharable && !t.KeepAlive, p.transport)
	// A 101 (or another 1xx as the final answer) ends the probe as
	// malformed: after a protocol switch no deadline applies to the
	// connection any more, so it is closed unread.
	p.client = &http.Client{Transport: fetch.RefuseInterim(shared.Authenticate(p.transport)), CheckRedirect: p.checkRedirect}
	if leanEligible(t, u, &shared) {
		// A request net/http could not write stays on net/http, whose
		// error then says why on every probe.
		p.lean, _ = newLeanClient(p, u, sc.leanDial, opts.Clients.request(p.method))
	}
	return p, nil
}

// Path is the client path the probes take: PathLean or PathNetHTTP.
func (p *Prober) Path() string {
	if p.lean != nil && !p.redirects.Load() {
		return PathLean
	}
	return PathNetHTTP
}

// isRedirect reports an answer net/http's client follows: 301, 302, 303,
// 307 or 308 with a Location (the request body, if any, can be sent again).
func isRedirect(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return resp.Header.Get("Location") != ""
	}
	return false
}

// protocolsFor is what a prober speaks: HTTP/1.1 only by default; with
// http2, HTTP/2 offered by ALPN over TLS (HTTP/1.1 when the server declines)
// and, for an http:// URL, HTTP/2 with prior knowledge (h2c), which a
// server that speaks only HTTP/1.1 answers as malformed.
func protocolsFor(http2 bool, scheme string) *http.Protocols {
	var p http.Protocols
	switch {
	case !http2:
		p.SetHTTP1(true)
	case scheme == "http":
		// net/http uses h2c for http:// only when HTTP/1 is not allowed;
		// a redirect to https:// then needs h2 too.
		p.SetUnencryptedHTTP2(true)
		p.SetHTTP2(true)
	default:
		p.SetHTTP1(true)
		p.SetHTTP2(true)
	}
	return &p
}

// Close releases idle connections (only kept with keep_alive).
func (p *Prober) Close() { p.transport.CloseIdleConnections() }

// checkRedirect follows at most maxHops redirects and never the same URL
// twice, and has the redirect guard check the next hop; when the target
// does not follow, the 3xx is the answer.
func (p *Prober) checkRedirect(req *http.Request, via []*http.Request) error {
	if !p.follow {
		return http.ErrUseLastResponse
	}
	if len(via) > p.maxHops {
		return fmt.Errorf("%w: more than %d redirects", errRedirectLoop, p.maxHops)
	}
	next := req.URL.String()
	for _, r := range via {
		if r.URL.String() == next {
			return fmt.Errorf("%w: %s visited twice", errRedirectLoop, config.RedactURL(next, p.redact))
		}
	}
	h := hopsOf(req.Context())
	if h != nil {
		h.redirected.Store(true)
	}
	if err := p.guard.checkLocation(h, req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", config.RedactURL(next, p.redact), err)
	}
	return nil
}

// Probe runs one probe. It returns within the target's timeout (plus the
// time to notice it) whatever the target does, and never returns an error:
// every outcome is a Result. Phases are those of the final hop.
func (p *Prober) Probe(ctx context.Context) Result {
	if p.lean != nil && !p.redirects.Load() {
		if res, ok := p.probe(ctx, true); ok {
			return res
		}
		// A redirect to follow: net/http makes this probe again and
		// follows it, and makes every later probe, so the first URL is
		// asked twice only once.
		p.redirects.Store(true)
	}
	res, _ := p.probe(ctx, false)
	return res
}

// probe runs one probe on the lean client or on net/http's. On the lean
// path, an answer that net/http would follow as a redirect (the target
// follows them) is dropped: ok is false and the probe is to be made again
// on net/http.
func (p *Prober) probe(ctx context.Context, lean bool) (res Result, ok bool) {
	res = Result{Target: p.name, Start: time.Now(), Conn: Conn{Path: PathNetHTTP}}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	tr := &tracer{}
	var (
		resp *http.Response
		err  error
	)
	if lean {
		res.Conn.Path = PathLean
		resp, err = p.lean.roundTrip(ctx, parent, tr)
		if err == nil && p.follow && isRedirect(resp) {
			resp.Body.Close()
			return res, false
		}
	} else {
		h := &hops{}
		ctx = context.WithValue(ctx, hopsKey{}, h)
		tr.firstHop = func(remote string) { p.guard.firstHop(h, remote) }
		ctx = httptrace.WithClientTrace(ctx, tr.clientTrace())
		var body io.Reader
		if p.body != "" {
			body = strings.NewReader(p.body)
		}
		var req *http.Request
		req, err = http.NewRequestWithContext(ctx, p.method, p.url, body)
		if err != nil { // New parsed the URL; only a broken method gets here
			res.Err = err
			p.finish(&res, tr, contract.ReasonMalformed, nil)
			return res, true
		}
		req.Header = p.header
		req.Host = p.host
		resp, err = p.client.Do(req)
	}
	if resp != nil {
		// Answered, or a redirect the policy refused: keep what was seen.
		res.StatusCode = resp.StatusCode
		res.Phrase = phrase(resp.Status)
		res.Header = resp.Header
		res.RetryAfter = retryAfter(resp.StatusCode, resp.Header, time.Now())
		for r := resp.Request; r != nil && r.Response != nil; r = r.Response.Request {
			res.Redirects++
		}
		res.Conn.Protocol = contract.ProtocolOf(resp.ProtoMajor, resp.ProtoMinor)
		if resp.TLS != nil {
			res.Conn.TLS = tlsStateOf(resp.TLS)
		}
	}
	// A certificate that failed verification (expired, above all) still
	// says when it expires.
	if ve := (*tls.CertificateVerificationError)(nil); errors.As(err, &ve) {
		res.Conn.TLS = certState(ve.UnverifiedCertificates, nil)
	}
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		res.Err = fetch.RedactError(err, p.redact)
		p.finish(&res, tr, reasonFor(err, tr.state(), ctx.Err() != nil), nil)
		return res, true
	}

	// What the judges read: the first bytes of a 5xx (fingerprints, kept in
	// the Result) or of a valid 2xx (error-page fingerprints), or the whole
	// body when an expect condition reads it (bounded by body_size_limit).
	code, valid := resp.StatusCode, p.valid.Contains(resp.StatusCode)
	var prefix []byte
	var pooled *[]byte
	whole := false
	is5xx := code >= 500 && code <= 599
	switch {
	case valid && p.expect.ReadsBody():
		whole = true // also a 5xx listed as valid: its conditions see it all
	case is5xx:
		prefix = make([]byte, min(fingerprint.MaxBody, p.bodyLimit))
	case valid && code >= 200 && code <= 299:
		pooled = p.prefixes.Get().(*[]byte)
		prefix = (*pooled)[:min(fingerprint.MaxBody, p.bodyLimit)]
	}
	var kept []byte
	res.BodyBytes, kept, err = p.readBody(resp, prefix, whole)
	resp.Body.Close()
	switch {
	case prefix != nil && pooled == nil:
		res.BodyPrefix = kept
	case whole && is5xx:
		res.BodyPrefix = bytes.Clone(kept[:min(len(kept), fingerprint.MaxBody)])
	}
	reason := contract.ReasonNone
	if err != nil {
		res.Err = fmt.Errorf("reading body of %d answer: %w", resp.StatusCode, err)
		reason = reasonFor(err, tr.state(), ctx.Err() != nil)
	} else if valid {
		reason = p.judge(&res, kept)
	}
	p.finish(&res, tr, reason, kept)
	if pooled != nil {
		p.prefixes.Put(pooled)
	}
	return res, true
}

// readBody reads and discards the body up to the limit, keeping the first
// len(prefix) bytes in prefix, or with whole all of it.
func (p *Prober) readBody(resp *http.Response, prefix []byte, whole bool) (n int64, kept []byte, err error) {
	if whole {
		var b bytes.Buffer
		n, err = b.ReadFrom(io.LimitReader(resp.Body, p.bodyLimit+1))
		if err == nil && n > p.bodyLimit {
			return p.bodyLimit, nil, fmt.Errorf("%w (%d bytes)", errBodyTooLarge, p.bodyLimit)
		}
		return n, b.Bytes(), err
	}
	if len(prefix) > 0 {
		var m int
		for m < len(prefix) && err == nil {
			var k int
			k, err = resp.Body.Read(prefix[m:])
			m += k
		}
		prefix, n = prefix[:m], int64(m)
		if err == io.EOF {
			return n, prefix, nil
		}
		if err != nil {
			return n, prefix, err
		}
	}
	// One byte past the limit tells "exactly at the limit" from "over".
	k, err := io.Copy(io.Discard, io.LimitReader(resp.Body, p.bodyLimit-n+1))
	n += k
	if err == nil && n > p.bodyLimit {
		return p.bodyLimit, prefix, fmt.Errorf("%w (%d bytes)", errBodyTooLarge, p.bodyLimit)
	}
	return n, prefix, err
}

// judge returns contract.ReasonSoftError, with the probe's error saying why,
// when an answer that met the valid codes fails an expect condition or its
// page is an error page served with a 2xx (the built-in fingerprints).
func (p *Prober) judge(res *Result, body []byte) contract.Reason {
	if f := p.expect.Check(res.StatusCode, res.Header, body); f != nil {
		res.Err = f
		return contract.ReasonSoftError
	}
	a := fingerprint.Answer{Code: res.StatusCode, Phrase: res.Phrase, Header: res.Header, Body: body}
	if cause, ok := p.finisher.ErrorPage(&a); ok {
		res.Err = errors.New("the page is an error page: " + cause)
		return contract.ReasonSoftError
	}
	return contract.ReasonNone
}

// finish records the phases and duration, judges success and has the
// finisher triage the outcome.
// body is what was kept of the body for the fingerprints.
func (p *Prober) finish(res *Result, tr *tracer, reason contract.Reason, body []byte) {
	now := time.Now()
	tr.finish(res, now)
	res.Conn.IPFamily = familyOf(res.RemoteAddr)
	res.Duration = now.Sub(res.Start)
	res.Reason = reason
	res.Success = reason == contract.ReasonNone && p.valid.Contains(res.StatusCode)
	var a *fingerprint.Answer
	if res.StatusCode != 0 {
		a = &fingerprint.Answer{Code: res.StatusCode, Phrase: res.Phrase, Header: res.Header, Body: body}
	}
	res.Verdict = p.finisher.Verdict(reason, a)
	if res.CannedRetryAfter {
		res.RetryAfter = 0 // the product's default, not a maintenance window
	}
}

// maxPhrase bounds Result.Phrase.
const maxPhrase = 64

// phrase is the reason phrase of a status ("503 Service Unavailable").
func phrase(status string) string {
	_, p, _ := strings.Cut(status, " ")
	if len(p) > maxPhrase {
		cut := maxPhrase
		for cut > 0 && !utf8.RuneStart(p[cut]) {
			cut-- // never half a character
		}
		p = strings.Clone(p[:cut]) // not a slice of the whole status line
	}
	return p
}
