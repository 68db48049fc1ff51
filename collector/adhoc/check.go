// Package adhoc runs one-off checks of URLs that are not configured
// targets, for `check URL --from` on another machine: "is it down from
// there too?". It is off unless the operator enables it, and every URL,
// every redirect hop and every address it resolves to passes the Guard
// before a connection is made.
//
// DNS rebinding is defeated by pinning: a host name is resolved once per
// hop, every address is checked, and the probe then connects to the checked
// address itself (the URL's host stays in the Host header and TLS server
// name), so no second lookup can swap in another address.
package adhoc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// Path is where Handler serves checks: GET /api/v1/check?url=URL.
const Path = "/api/v1/check"

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure ad-hoc checks. The zero value is off.
type Options struct {
	// Enabled turns the endpoint on (--adhoc.enable); off, it answers 404.
	Enabled bool
	// Allow is the allow-list (--adhoc.allow, repeatable), see NewGuard.
	// It must not be empty when Enabled.
	Allow []string
	// Timeout bounds one whole check, redirects included; 0 means 10s.
	// A caller may ask for less with ?timeout=.
	Timeout time.Duration
	// MaxRedirects is how many redirects a check follows; 0 means 10.
	MaxRedirects int
	// Every and Burst limit the checks this exporter runs for others: a
	// burst of Burst, then one per Every. 0 means 1s and 5.
	Every time.Duration
	Burst int
	// Location and Version go into the probe's headers and the report.
	Location, Version string
	// Config returns the running configuration, for its error classes and
	// fingerprint rules; nil uses the defaults.
	Config func() *config.Config
	// Resolver is nil for net.DefaultResolver.
	Resolver Resolver
	Logger   *slog.Logger
	// Now is the clock of the rate limit; nil means time.Now.
	Now func() time.Time
}

// Checker runs ad-hoc checks.
type Checker struct {
	o      Options
	guard  *Guard
	bucket *bucket
}

// New checks o. With Enabled false it returns a Checker whose handler
// answers 404, so the route can be registered unconditionally.
func New(o Options) (*Checker, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = config.DefaultMaxRedirects
	}
	if o.Every <= 0 {
		o.Every = time.Second
	}
	if o.Burst <= 0 {
		o.Burst = 5
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Checker{o: o, bucket: newBucket(o.Burst, o.Every, o.Now)}
	if !o.Enabled {
		return c, nil
	}
	g, err := NewGuard(o.Allow)
	if err != nil {
		return nil, err
	}
	c.guard = g
	return c, nil
}

// Report is the outcome of one check. Its JSON names match the check
// command's --output json, plus location, first_move, redirects and
// address.
type Report struct {
	URL       string `json:"url"`
	Location  string `json:"location,omitempty"`
	Code      int    `json:"code"`
	Reason    string `json:"reason,omitempty"`
	Class     string `json:"class"`
	Owner     string `json:"owner,omitempty"`
	FirstMove string `json:"first_move,omitempty"`
	Layer     string `json:"layer,omitempty"`
	Product   string `json:"product,omitempty"`
	// Cause says what the answer's page proves beyond its code; when it
	// proves another cause, CodeClass is the class the code alone has.
	Cause      string             `json:"cause,omitempty"`
	CodeClass  string             `json:"code_class,omitempty"`
	OK         bool               `json:"ok"`
	Seconds    float64            `json:"duration_seconds"`
	Phases     map[string]float64 `json:"phases_seconds"`
	RetryAfter float64            `json:"retry_after_seconds,omitempty"`
	Redirects  int                `json:"redirects,omitempty"`
	// Address is the IP address the final hop connected to.
	Address string `json:"address,omitempty"`
	// Connection is what the probe saw of the connection: protocol, IP
	// family, TLS version and certificates.
	Connection *probe.ConnReport `json:"connection,omitempty"`
	Error      string            `json:"error,omitempty"`
}

// Check probes raw once, following redirects itself so that each hop passes
// the guard. A refusal is a *RefusedError; every other outcome, failures of
// the target included, is a Report.
func (c *Checker) Check(ctx context.Context, raw string, valid config.StatusCodes, timeout time.Duration) (Report, error) {
	if c.guard == nil {
		return Report{}, errors.New("ad-hoc checks are disabled")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return Report{}, &RefusedError{URL: raw, Reason: "not an absolute http or https URL"}
	}
	u.Fragment, u.RawFragment = "", ""
	if err := c.guard.CheckURL(u); err != nil {
		return Report{}, err
	}
	if timeout <= 0 || timeout > c.o.Timeout {
		timeout = c.o.Timeout
	}
	if len(valid) == 0 {
		valid = config.StatusCodes{{Lo: 200, Hi: 399}}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	finisher := triage.Default()
	if c.o.Config != nil {
		if cfg := c.o.Config(); cfg != nil {
			f, err := triage.ForConfig(cfg)
			if err != nil {
				return Report{}, err // the running configuration always builds one
			}
			finisher = f
		}
	}

	var (
		res      probe.Result
		start    = time.Now()
		visited  = map[string]bool{}
		addr     netip.Addr
		hops     int
		finalErr error
	)
	for {
		visited[u.String()] = true
		var resolve time.Duration
		addr, resolve, err = c.resolve(ctx, u)
		if err != nil {
			var refused *RefusedError
			if errors.As(err, &refused) {
				return Report{}, err
			}
			// The name did not resolve: that is the dns outcome of a probe.
			res = probe.Result{Reason: contract.ReasonDNS, Err: err}
			res.Verdict = finisher.Verdict(contract.ReasonDNS, nil)
			res.Phases[contract.PhaseResolve], res.PhaseSeen[contract.PhaseResolve] = resolve, true
			break
		}
		res, err = c.probeHop(ctx, u, addr, valid, finisher)
		if err != nil {
			return Report{}, err
		}
		if resolve > 0 {
			res.Phases[contract.PhaseResolve], res.PhaseSeen[contract.PhaseResolve] = resolve, true
		}
		loc := res.Header.Get("Location")
		if res.Reason != contract.ReasonNone || !isRedirect(res.StatusCode) || loc == "" {
			break
		}
		next, err := u.Parse(loc)
		if err != nil {
			finalErr = fmt.Errorf("redirect to an unparsable Location %q", loc)
			break
		}
		next.Fragment, next.RawFragment = "", ""
		if err := c.guard.CheckURL(next); err != nil {
			return Report{}, fmt.Errorf("redirect %d from %s: %w", hops+1, u.Redacted(), err)
		}
		if hops == c.o.MaxRedirects || visited[next.String()] {
			res.Reason, res.Success = contract.ReasonRedirectLoop, false
			res.Verdict = finisher.Verdict(res.Reason, nil) // a reason: the answer does not matter
			finalErr = fmt.Errorf("redirect loop: more than %d redirects or %s visited twice", c.o.MaxRedirects, next.Redacted())
			break
		}
		hops++
		u = next
	}
	res.Duration = time.Since(start)
	res.Redirects = hops
	if finalErr != nil {
		res.Err = finalErr
	}
	rep := NewReport(raw, c.o.Location, &res)
	if addr.IsValid() {
		rep.Address = addr.String()
	}
	return rep, nil
}

// resolve returns the address to connect to for u's host, after checking
// every address the host resolves to, and how long the lookup took.
func (c *Checker) resolve(ctx context.Context, u *url.URL) (netip.Addr, time.Duration, error) {
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap(), 0, nil // CheckURL checked the literal
	}
	start := time.Now()
	addrs, err := c.o.Resolver.LookupNetIP(ctx, "ip", host)
	took := time.Since(start)
	if err != nil {
		return netip.Addr{}, took, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, took, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	for _, a := range addrs {
		if err := c.guard.CheckAddr(a); err != nil {
			return netip.Addr{}, took, &RefusedError{URL: u.Redacted(), Reason: fmt.Sprintf("%s resolves to %v", host, err)}
		}
	}
	// Prefer IPv4: an exporter without IPv6 routes would report a v6-only
	// failure for a host that works.
	i := slices.IndexFunc(addrs, func(a netip.Addr) bool { return a.Unmap().Is4() })
	return addrs[max(i, 0)].Unmap(), took, nil
}

// probeHop probes one hop with the connection pinned to addr.
func (c *Checker) probeHop(ctx context.Context, u *url.URL, addr netip.Addr, valid config.StatusCodes, f *triage.Finisher) (probe.Result, error) {
	pinned := *u
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	n, _ := strconv.ParseUint(port, 10, 16) // CheckURL checked it
	pinned.Host = netip.AddrPortFrom(addr, uint16(n)).String()
	remaining := time.Until(deadline(ctx))
	t := config.NewTarget("adhoc", pinned.String())
	t.Service = "adhoc"
	t.Headers = map[string]string{"Host": u.Host}
	t.ValidStatusCodes = valid
	t.Timeout = model.Duration(max(remaining, time.Millisecond))
	t.Interval = t.Timeout
	noFollow := false
	t.FollowRedirects = &noFollow // each hop is checked here, not by the prober
	if _, err := netip.ParseAddr(u.Hostname()); err != nil {
		t.TLS.ServerName = u.Hostname()
	}
	p, err := probe.New(&t, probe.Options{Location: c.o.Location, Version: c.o.Version, Finisher: f})
	if err != nil {
		return probe.Result{}, err
	}
	defer p.Close()
	return p.Probe(ctx), nil
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline() // Check always sets one
	return d
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// NewReport turns one probe result into a Report (the check command's
// local reports are made the same way).
func NewReport(u, location string, r *probe.Result) Report {
	rep := Report{
		URL: u, Location: location, Code: r.StatusCode, Class: r.Class, Owner: r.Owner, OK: r.Success,
		FirstMove: r.FirstMove, Layer: r.Layer, Product: r.Product, Cause: r.Cause, CodeClass: r.CodeClass,
		Seconds: r.Duration.Seconds(),
		Phases:  probe.PhasesSeconds(&r.Phases, &r.PhaseSeen), RetryAfter: r.RetryAfter.Seconds(), Redirects: r.Redirects,
		Connection: r.Conn.Report(),
	}
	if r.Reason != contract.ReasonNone {
		rep.Reason = r.Reason.String()
	}
	if r.Err != nil {
		rep.Error = r.Err.Error()
	}
	return rep
}
