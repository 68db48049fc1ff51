// Package fetch reads a target's side channels (its saturation source, its
// version_url): one client per target, built the way the prober builds its
// own, and one bounded GET.
//
// The client follows the prober's rules: no proxy, not even one from the
// environment, unless the target sets proxy_url; the target's tls settings;
// the exporter's User-Agent. A Get is bounded in time (the whole request,
// body included) and in size (a longer body is an error, never silently
// cut).
package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// Transport bounds that do not depend on a request.
const (
	dialTimeout            = 10 * time.Second
	tlsHandshakeTimeout    = 10 * time.Second
	idleConnTimeout        = 2 * time.Minute
	maxResponseHeaderBytes = 64 << 10
)

// ErrTooLarge is wrapped by Get's error for a body over the limit.
var ErrTooLarge = errors.New("body over the size limit")

// StatusError is Get's error for an answer that is not 2xx.
type StatusError struct {
	Code   int
	Status string // "503 Service Unavailable"
}

func (e *StatusError) Error() string { return "HTTP " + e.Status }

// Options are the exporter-wide inputs of a Client.
type Options struct {
	// Version goes into the User-Agent.
	Version string
}

// Shared is what a target's prober and its side channels build alike: the
// TLS configuration, the proxy policy and the User-Agent.
type Shared struct {
	TLS *tls.Config
	// Proxy is the target's proxy_url, or nil: no proxy, not even one from
	// the environment (a probe measures the path to the target, not to a
	// proxy the exporter's host happens to have set).
	Proxy     func(*http.Request) (*url.URL, error)
	UserAgent string
}

// SharedFor builds t's TLS configuration and proxy policy and the exporter's
// User-Agent for version.
func SharedFor(t *config.Target, version string) (Shared, error) {
	tlsSettings := t.TLS // NewTLSConfig keeps a pointer for client certificates
	tlsConfig, err := commoncfg.NewTLSConfig(&tlsSettings)
	if err != nil {
		return Shared{}, fmt.Errorf("target %q: tls: %w", t.Name, err)
	}
	s := Shared{TLS: tlsConfig, UserAgent: UserAgent(version)}
	if t.ProxyURL != "" {
		pu, err := url.Parse(t.ProxyURL)
		if err != nil {
			return Shared{}, fmt.Errorf("target %q: proxy_url: %w", t.Name, err)
		}
		s.Proxy = http.ProxyURL(pu)
	}
	return s, nil
}

// UserAgent is the User-Agent of every request the exporter makes.
func UserAgent(version string) string {
	if version == "" {
		version = "unknown"
	}
	return "http5xx_exporter/" + version
}

// Client fetches one target's side channels. It is safe for concurrent use.
type Client struct {
	transport *http.Transport
	client    *http.Client
	userAgent string
	redact    []string // the target's redact_query_params
}

// New builds the client of t's side channels, with t's proxy_url and tls
// settings (defaults applied, as config.Load hands them over).
func New(t *config.Target, o Options) (*Client, error) {
	sh, err := SharedFor(t, o.Version)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy: sh.Proxy,
		// A Get's context bounds the dial, but net/http lets a dial outlive
		// the request it was for; the dialer's own timeout bounds it.
		DialContext:            (&net.Dialer{Timeout: dialTimeout}).DialContext,
		TLSClientConfig:        sh.TLS,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConnsPerHost:    1, // one URL per channel, read one at a time
		IdleConnTimeout:        idleConnTimeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	return &Client{
		transport: tr,
		client:    &http.Client{Transport: RefuseInterim(tr)},
		userAgent: sh.UserAgent,
		redact:    t.RedactQueryParams,
	}, nil
}

// Close closes the client's idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Request is one GET.
type Request struct {
	URL    string
	Accept string
	// Header is sent as it is; it may replace the User-Agent, and "Host"
	// sets the Host header.
	Header map[string]string
	// Timeout bounds the whole request: connecting, the answer and reading
	// its body.
	Timeout time.Duration
	// Limit is the most body bytes read; a longer body is ErrTooLarge.
	Limit int64
}

// errTimeout is the cause of a Get's own deadline, told apart from the end
// of the caller's context.
var errTimeout = errors.New("fetch timeout")

// Get reads r.URL and returns the body of a 2xx answer. Another answer is a
// *StatusError; a body over r.Limit wraps ErrTooLarge.
func (c *Client) Get(ctx context.Context, r Request) ([]byte, error) {
	if r.Timeout <= 0 || r.Limit <= 0 {
		return nil, fmt.Errorf("a fetch needs a timeout and a body size limit (got %s, %d)", r.Timeout, r.Limit)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, r.Timeout, errTimeout)
	defer cancel()
	body, err := c.get(ctx, r)
	if err != nil && context.Cause(ctx) == errTimeout {
		return nil, fmt.Errorf("no complete answer within %s: %w", r.Timeout, context.DeadlineExceeded)
	}
	return body, RedactError(err, c.redact)
}

// RedactError returns err with the URL of a *url.Error (the error of every
// http.Client call, which names the URL) redacted by config.RedactURL, so
// no password or secret query parameter reaches a log line or a page.
func RedactError(err error, params []string) error {
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) {
		return err
	}
	safe := &url.Error{Op: ue.Op, URL: config.RedactURL(ue.URL, params), Err: ue.Err}
	if ue == err {
		return safe
	}
	// Wrapped further: keep the chain, show the redacted text.
	return &redactedError{msg: strings.Replace(err.Error(), ue.Error(), safe.Error(), 1), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (c *Client) get(ctx context.Context, r Request) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.userAgent)
	if r.Accept != "" {
		req.Header.Set("Accept", r.Accept)
	}
	for k, v := range r.Header {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		// A little of the body, so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, &StatusError{Code: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength > r.Limit {
		return nil, fmt.Errorf("%w: %d bytes announced, the limit is %d", ErrTooLarge, resp.ContentLength, r.Limit)
	}
	body, err := ReadLimited(resp.Body, r.Limit)
	if err != nil && !errors.Is(err, ErrTooLarge) {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	return body, err
}
