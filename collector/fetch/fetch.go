// Package fetch reads a target's side channels (its saturation source, its
// version_url): one client per target, built the way the prober builds its
// own, and one bounded GET.
//
// The client follows the prober's rules: no proxy, not even one from the
// environment, unless the target sets proxy_url or proxy_from_environment;
// the target's tls settings; the exporter's User-Agent; the target's
// credentials, but only to the target's own origin (scheme, host and
// port). A Get is bounded in time (the whole request, body included) and in
// size (a longer body is an error, never silently cut).
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
	"sync/atomic"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
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
// TLS configuration, the proxy policy, the User-Agent and the credentials.
type Shared struct {
	TLS *tls.Config
	// Proxy follows proxy_url, no_proxy and proxy_from_environment, or is
	// nil: no proxy, not even one from the environment (a probe measures
	// the path to the target, not to a proxy the exporter's host happens
	// to have set).
	Proxy              func(*http.Request) (*url.URL, error)
	ProxyConnectHeader http.Header
	UserAgent          string
	// network is what the dialers dial: "tcp" for ip_family any, "tcp4"
	// or "tcp6" for that family only.
	network string
	// authenticate wraps a transport so that its requests carry the
	// target's credentials; nil when the target sends none. secrets are
	// those credentials, to scrub from the errors of getting them.
	authenticate func(http.RoundTripper) http.RoundTripper
	secrets      []commoncfg.SecretReader
}

// ErrCredentials is wrapped by the error of a request that never left
// because its credentials could not be had: a secret file that cannot be
// read, an OAuth2 token endpoint that failed. Nothing was learnt about the
// target.
var ErrCredentials = errors.New("the target's credentials could not be had")

// SharedFor builds t's TLS configuration, proxy policy and credentials and
// the exporter's User-Agent for version.
func SharedFor(t *config.Target, version string) (Shared, error) {
	tlsSettings := t.TLS // NewTLSConfig keeps a pointer for client certificates
	tlsConfig, err := commoncfg.NewTLSConfig(&tlsSettings)
	if err != nil {
		return Shared{}, fmt.Errorf("target %q: tls: %w", t.Name, err)
	}
	pc := t.ProxyConfig // Proxy caches its function in the value it is called on
	s := Shared{TLS: tlsConfig, UserAgent: UserAgent(version), Proxy: pc.Proxy(), ProxyConnectHeader: pc.GetProxyConnectHeader()}
	s.network = map[string]string{contract.FamilyIP4: "tcp4", contract.FamilyIP6: "tcp6"}[t.IPFamily]
	s.authenticate, s.secrets, err = authenticator(t)
	if err != nil {
		return Shared{}, fmt.Errorf("target %q: %w", t.Name, err)
	}
	return s, nil
}

// Dial is d's DialContext restricted to the target's ip_family: with ip4
// or ip6 only addresses of that family are tried, and a name without one
// fails as a DNS error (IsNotFound) does; with any, Go's own dual-stack
// dialing (RFC 6724 order, the other family after 300ms).
func (s Shared) Dial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if s.network == "" {
		return d.DialContext
	}
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, s.network, addr)
		var ae *net.AddrError
		if errors.As(err, &ae) && ae.Err == "no suitable address found" {
			host, _, _ := net.SplitHostPort(addr)
			return nil, &net.OpError{Op: "dial", Net: s.network, Err: &net.DNSError{
				Err: "no " + map[string]string{"tcp4": "IPv4", "tcp6": "IPv6"}[s.network] + " address (ip_family)", Name: host, IsNotFound: true}}
		}
		return c, err
	}
}

// Authenticate wraps rt so that every request carries the target's
// credentials (basic_auth, authorization or oauth2), read from their files
// at each request, the way prometheus/common/config does, so a rotated
// secret needs no reload. Credentials never follow a redirect to another
// host. A request that cannot get its credentials fails with an error
// wrapping ErrCredentials.
func (s Shared) Authenticate(rt http.RoundTripper) http.RoundTripper {
	if s.authenticate == nil {
		return rt
	}
	return credentialed{s.authenticate(reached{rt}), s.secrets}
}

// Authenticates reports whether requests carry credentials (basic_auth,
// authorization or oauth2), which only Authenticate's wrapping adds.
func (s Shared) Authenticates() bool { return s.authenticate != nil }

// Direct reports whether requests go straight to the target: no proxy,
// neither configured nor taken from the environment.
func (s Shared) Direct() bool { return s.Proxy == nil }

// authenticator returns the credential layer of t, nil without any.
// Config validation has made sure at most one kind is set and no *_ref
// (which needs a secret manager) is.
func authenticator(t *config.Target) (func(http.RoundTripper) http.RoundTripper, []commoncfg.SecretReader, error) {
	switch {
	case t.BasicAuth != nil:
		a := *t.BasicAuth
		user := secretOf(commoncfg.Secret(a.Username), a.UsernameFile)
		pass := secretOf(a.Password, a.PasswordFile)
		return func(rt http.RoundTripper) http.RoundTripper {
			return commoncfg.NewBasicAuthRoundTripper(user, pass, rt)
		}, []commoncfg.SecretReader{pass}, nil
	case t.Authorization != nil:
		a := *t.Authorization
		cred := secretOf(a.Credentials, a.CredentialsFile)
		kind := strings.TrimSpace(a.Type)
		if kind == "" {
			kind = "Bearer"
		}
		return func(rt http.RoundTripper) http.RoundTripper {
			return commoncfg.NewAuthorizationCredentialsRoundTripper(kind, cred, rt)
		}, []commoncfg.SecretReader{cred}, nil
	case t.OAuth2 != nil:
		o := *t.OAuth2
		cred := secretOf(o.ClientSecret, o.ClientSecretFile)
		if o.GrantType == "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			cred = secretOf(o.ClientCertificateKey, o.ClientCertificateKeyFile)
		}
		timeout := t.TimeoutDuration()
		return func(rt http.RoundTripper) http.RoundTripper {
			own := o // the round tripper caches its proxy in the value
			return commoncfg.NewOAuth2RoundTripper(cred, &own, rt,
				commoncfg.WithKeepAlivesDisabled(), commoncfg.WithDialContextFunc(tokenDial(timeout)))
		}, []commoncfg.SecretReader{cred}, nil
	}
	return nil, nil, nil
}

// secretOf is the inline secret, or the file read at each use.
func secretOf(inline commoncfg.Secret, file string) commoncfg.SecretReader {
	if file != "" {
		return commoncfg.NewFileSecret(file)
	}
	return commoncfg.NewInlineSecret(string(inline))
}

// tokenDial bounds every connection to an OAuth2 token endpoint to timeout
// (the target's): the oauth2 package asks for tokens without the probe's
// context, and keep-alives are off, so each token request gets a fresh
// connection with its own deadline.
func tokenDial(timeout time.Duration) commoncfg.DialContextFunc {
	if timeout <= 0 {
		timeout = dialTimeout
	}
	d := &net.Dialer{Timeout: timeout}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			err = c.SetDeadline(time.Now().Add(timeout))
		}
		return c, err
	}
}

// reachedKey holds the flag a request sets when it gets past its
// credential layer.
type reachedKey struct{}

// credentialed tells the credential layer's own failures (ErrCredentials)
// from the target's, and scrubs the secrets from their text: a token
// endpoint's answer, which the oauth2 package quotes, may echo one.
type credentialed struct {
	rt      http.RoundTripper
	secrets []commoncfg.SecretReader
}

func (c credentialed) RoundTrip(req *http.Request) (*http.Response, error) {
	var past atomic.Bool
	resp, err := c.rt.RoundTrip(req.WithContext(context.WithValue(req.Context(), reachedKey{}, &past)))
	if err != nil && !past.Load() {
		msg := err.Error()
		for _, s := range c.secrets {
			if v, ferr := s.Fetch(req.Context()); ferr == nil && len(v) >= 4 {
				msg = strings.ReplaceAll(msg, v, "xxxxx")
			}
		}
		return nil, &credentialsError{msg: ErrCredentials.Error() + ": " + msg, err: err}
	}
	return resp, err
}

// credentialsError is ErrCredentials with the scrubbed text of its cause.
type credentialsError struct {
	msg string
	err error
}

func (e *credentialsError) Error() string   { return e.msg }
func (e *credentialsError) Unwrap() []error { return []error{ErrCredentials, e.err} }

func (c credentialed) CloseIdleConnections() { closeIdle(c.rt) }

// reached is below the credential layer: a request that gets here has its
// credentials.
type reached struct{ rt http.RoundTripper }

func (r reached) RoundTrip(req *http.Request) (*http.Response, error) {
	if past, ok := req.Context().Value(reachedKey{}).(*atomic.Bool); ok {
		past.Store(true)
	}
	return r.rt.RoundTrip(req)
}

func (r reached) CloseIdleConnections() { closeIdle(r.rt) }

func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
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
		Proxy:              sh.Proxy,
		ProxyConnectHeader: sh.ProxyConnectHeader,
		// A Get's context bounds the dial, but net/http lets a dial outlive
		// the request it was for; the dialer's own timeout bounds it.
		DialContext:            sh.Dial(&net.Dialer{Timeout: dialTimeout}),
		TLSClientConfig:        sh.TLS,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConnsPerHost:    1, // one URL per channel, read one at a time
		IdleConnTimeout:        idleConnTimeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	var rt http.RoundTripper = tr
	if origin := originOf(t.URL); origin != "" {
		rt = sameOrigin{origin: origin, own: sh.Authenticate(tr), other: tr}
	}
	return &Client{
		transport: tr,
		client:    &http.Client{Transport: RefuseInterim(rt)},
		userAgent: sh.UserAgent,
		redact:    t.RedactQueryParams,
	}, nil
}

// originOf is the scheme://host:port of raw, "" when it does not parse.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// sameOrigin sends the target's credentials to the target's own origin
// only: a saturation or version URL elsewhere never sees them.
type sameOrigin struct {
	origin     string
	own, other http.RoundTripper
}

func (s sameOrigin) RoundTrip(req *http.Request) (*http.Response, error) {
	if originOf(req.URL.String()) == s.origin {
		return s.own.RoundTrip(req)
	}
	return s.other.RoundTrip(req)
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
