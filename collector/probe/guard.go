package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// errRedirectRefused is wrapped by the redirect guard's refusals.
var errRedirectRefused = errors.New("redirect refused")

// hops is what the redirect guard knows about one probe: whether a redirect
// was followed, and whether the first hop connected to a loopback address.
// It travels in the request's context, which net/http hands to the dial.
type hops struct {
	redirected    atomic.Bool
	firstLoopback atomic.Bool
}

type hopsKey struct{}

func hopsOf(ctx context.Context) *hops {
	h, _ := ctx.Value(hopsKey{}).(*hops)
	return h
}

// redirectGuard refuses redirect hops to addresses a target must never send
// the exporter to. It is immutable after New.
type redirectGuard struct {
	on bool
	// viaProxy: the dial reaches the proxy, not the hop; only literal
	// addresses in the Location can be checked.
	viaProxy bool
	// loopbackTarget: the configured URL itself names this machine, so
	// its redirects may stay on it.
	loopbackTarget bool
	// isLoopback decides whether the first hop's address is loopback; tests
	// replace it to play a target that is not.
	isLoopback func(netip.Addr) bool
}

func newRedirectGuard(on, viaProxy bool, target *url.URL) redirectGuard {
	g := redirectGuard{on: on, viaProxy: viaProxy, isLoopback: netip.Addr.IsLoopback}
	host := strings.ToLower(strings.TrimSuffix(target.Hostname(), "."))
	if a, err := netip.ParseAddr(host); err == nil {
		g.loopbackTarget = a.Unmap().IsLoopback()
	} else {
		g.loopbackTarget = host == "localhost" || strings.HasSuffix(host, ".localhost")
	}
	return g
}

// firstHop records where the first hop connected (a dial or a pooled
// connection), which decides whether later hops may reach loopback.
func (g *redirectGuard) firstHop(h *hops, remote string) {
	if h == nil || h.redirected.Load() {
		return
	}
	if ap, err := netip.ParseAddrPort(remote); err == nil && g.isLoopback(ap.Addr().Unmap()) {
		h.firstLoopback.Store(true)
	}
}

// checkLocation refuses a redirect to a literal address or a metadata name
// before anything is dialled; names are judged at dial time.
func (g *redirectGuard) checkLocation(h *hops, u *url.URL) error {
	if !g.on {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "metadata.google.internal" || host == "metadata" {
		return fmt.Errorf("%w: %s names a cloud metadata service", errRedirectRefused, host)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	return g.refuse(h, a)
}

// control is the dialer's ControlContext: it runs on the address actually
// being connected to, after any DNS lookup, so a name that resolves
// differently at dial time (DNS rebinding) is still judged by where it
// leads. The first hop (the configured URL) is not judged.
func (g *redirectGuard) control(ctx context.Context, _, address string, _ syscall.RawConn) error {
	h := hopsOf(ctx)
	if !g.on || g.viaProxy || h == nil {
		return nil
	}
	if !h.redirected.Load() {
		g.firstHop(h, address)
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil
	}
	return g.refuse(h, ap.Addr())
}

func (g *redirectGuard) refuse(h *hops, a netip.Addr) error {
	allowLoopback := g.loopbackTarget || (h != nil && h.firstLoopback.Load())
	if why := guardedAddr(a, allowLoopback); why != "" {
		return fmt.Errorf("%w: %s", errRedirectRefused, why)
	}
	return nil
}

// guardedAddr says why a redirect may not lead to a, "" when it may:
// cloud metadata and link-local addresses always, loopback (and the
// unspecified address, which reaches this machine) unless allowed. IPv4
// written inside IPv6 (IPv4-mapped, IPv4-compatible, NAT64) is judged as
// the IPv4 address it reaches.
func guardedAddr(a netip.Addr, allowLoopback bool) string {
	a = a.WithZone("")
	orig, form := a, ""
	b := a.As16()
	switch {
	case a.Is4In6():
		a, form = a.Unmap(), "IPv4-mapped "
	case a.Is6() && netip.MustParsePrefix("64:ff9b::/96").Contains(a):
		a, form = netip.AddrFrom4([4]byte(b[12:16])), "NAT64 "
	case a.Is6() && netip.MustParsePrefix("::/96").Contains(a) && a != netip.IPv6Unspecified() && a != netip.IPv6Loopback():
		a, form = netip.AddrFrom4([4]byte(b[12:16])), "IPv4-compatible "
	}
	what := ""
	switch {
	case isMetadata(a):
		what = "a cloud metadata address"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		what = "a link-local address"
	case (a.IsLoopback() || a.IsUnspecified()) && !allowLoopback:
		what = "a loopback address and the target is not"
	default:
		return ""
	}
	if form != "" {
		return fmt.Sprintf("%s is the %s%s, %s", orig, form, a, what)
	}
	return fmt.Sprintf("%s is %s", a, what)
}

// isMetadata reports the cloud instance-metadata endpoints.
func isMetadata(a netip.Addr) bool {
	for _, m := range [...]string{
		"169.254.169.254", // AWS, GCP, Azure, OpenStack, DigitalOcean, ...
		"169.254.170.2",   // AWS ECS task metadata
		"100.100.100.200", // Alibaba Cloud
		"192.0.0.192",     // Oracle Cloud
		"fd00:ec2::254",   // AWS over IPv6
	} {
		if a == netip.MustParseAddr(m) {
			return true
		}
	}
	return false
}

// dialer builds the prober's dialer: timeout bounds a dial that outlives
// its request, control is the redirect guard.
func (g *redirectGuard) dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, ControlContext: g.control}
}
