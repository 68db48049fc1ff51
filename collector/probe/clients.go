package probe

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
)

// Clients is what the probers of one configuration share: the TLS
// configuration, User-Agent and dialers of each distinct client setting,
// the transport of each distinct transport setting when it keeps no
// connections (keep_alive off), and the buffers 2xx bodies are read into.
// Ten thousand targets with the same settings then hold one of each, not
// ten thousand. The exporter makes one per configuration it applies; a nil
// Clients shares nothing. Safe for concurrent use.
type Clients struct {
	mu         sync.Mutex
	shared     map[clientKey]*sharedClient
	transports map[transportKey]*http.Transport
	requests   map[string]*http.Request // the lean path's, by method
	prefixes   sync.Pool
}

// NewClients returns an empty Clients.
func NewClients() *Clients {
	c := &Clients{shared: map[clientKey]*sharedClient{}, transports: map[transportKey]*http.Transport{}, requests: map[string]*http.Request{}}
	c.prefixes.New = newPrefix
	return c
}

// newPrefix is a buffer for the first bytes of a 2xx body.
func newPrefix() any { b := make([]byte, fingerprint.MaxBody); return &b }

// clientKey is all fetch.SharedFor reads of a target that has no proxy
// settings and no credentials. Targets with http2 share nothing: their
// transport writes the h2 protocol into its TLS configuration.
type clientKey struct {
	tls      commoncfg.TLSConfig
	ipFamily string
	version  string
}

// sharedClient is fetch.Shared and the lean path's dial of one clientKey.
type sharedClient struct {
	fetch.Shared
	// leanDial dials without TCP keep-alive: a probe's connection never
	// idles long enough for one, and the setsockopt calls that set it up
	// are a tenth of a lean probe's syscalls.
	leanDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// transportKey is all a transport without keep-alives is made of.
type transportKey struct {
	client                            clientKey
	timeout                           time.Duration
	guarded, viaProxy, loopbackTarget bool
}

// sharedFor returns t's shared client settings, the same value for every
// target of the same clientKey; sharable is false when t's are its own.
func (c *Clients) sharedFor(t *config.Target, version string) (s *sharedClient, key clientKey, sharable bool, err error) {
	key = clientKey{tls: t.TLS, ipFamily: t.IPFamily, version: version}
	sharable = c != nil && !t.HTTP2 && t.BasicAuth == nil && t.Authorization == nil && t.OAuth2 == nil &&
		t.ProxyURL.URL == nil && t.NoProxy == "" && !t.ProxyFromEnvironment && len(t.ProxyConnectHeader) == 0
	if sharable {
		c.mu.Lock()
		defer c.mu.Unlock()
		if s := c.shared[key]; s != nil {
			return s, key, true, nil
		}
	}
	fs, err := fetch.SharedFor(t, version)
	if err != nil {
		return nil, key, false, err
	}
	s = &sharedClient{Shared: fs, leanDial: fs.Dial(&net.Dialer{KeepAlive: -1})}
	if sharable {
		c.shared[key] = s
	}
	return s, key, sharable, nil
}

// transport returns the transport of key: tr, or the one given first for
// key; without sharable, tr.
func (c *Clients) transport(key transportKey, sharable bool, tr *http.Transport) *http.Transport {
	if !sharable {
		return tr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if first := c.transports[key]; first != nil {
		return first
	}
	c.transports[key] = tr
	return tr
}

// request is the request the lean path hands http.ReadResponse for an
// answer to method: net/http reads its method alone, so it has no URL and
// the targets of one method share it.
func (c *Clients) request(method string) *http.Request {
	if c == nil {
		return &http.Request{Method: method, Header: http.Header{}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.requests[method]
	if r == nil {
		r = &http.Request{Method: method, Header: http.Header{}}
		c.requests[method] = r
	}
	return r
}

// prefixPool is where a prober takes its 2xx body buffers from.
func (c *Clients) prefixPool() *sync.Pool {
	if c == nil {
		return &sync.Pool{New: newPrefix}
	}
	return &c.prefixes
}
