package adhoc

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Guard decides which URLs and addresses an ad-hoc check may reach. It is
// immutable after NewGuard and safe for concurrent use.
type Guard struct {
	anyHost bool // "*": any host name, any public IP literal
	exact   map[string]bool
	suffix  []string       // ".example.com" for "*.example.com"
	nets    []netip.Prefix // open refused ranges and admit IP literals
}

// RefusedError says why the guard refused a URL or an address.
type RefusedError struct {
	URL    string // the URL (or redirect hop) refused
	Reason string
}

func (e *RefusedError) Error() string { return fmt.Sprintf("refused %s: %s", e.URL, e.Reason) }

// NewGuard parses the allow-list. Entries are:
//
//   - any host name and any public IP address
//     example.com     that host name exactly
//     *.example.com   any name below example.com (not example.com itself)
//     203.0.113.7     that address (like /32 or /128)
//     10.0.0.0/8      that network, also where it is normally refused
//
// An empty list is an error: enabling ad-hoc checks must say what for.
func NewGuard(allow []string) (*Guard, error) {
	if len(allow) == 0 {
		return nil, errors.New("ad-hoc checks need an allow-list: host names, *.domain patterns, networks, or * for any public host")
	}
	g := &Guard{exact: map[string]bool{}}
	for _, raw := range allow {
		e := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case e == "*":
			g.anyHost = true
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("allow-list entry %q: %w", raw, err)
			}
			g.nets = append(g.nets, unmapPrefix(p).Masked())
		default:
			if a, err := netip.ParseAddr(e); err == nil {
				a = a.Unmap()
				g.nets = append(g.nets, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
			name, wild := strings.CutPrefix(strings.TrimSuffix(e, "."), "*.")
			if !validName(name) {
				return nil, fmt.Errorf("allow-list entry %q is not *, a host name, *.domain, an IP address or a network", raw)
			}
			if wild {
				g.suffix = append(g.suffix, "."+name)
			} else {
				g.exact[name] = true
			}
		}
	}
	return g, nil
}

// unmapPrefix turns ::ffff:10.0.0.0/104 into 10.0.0.0/8, so an IPv4
// network written either way matches the unmapped addresses it is
// compared with.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// CheckURL refuses what must never be fetched whatever it resolves to:
// other schemes, credentials, localhost names, IPv4 addresses written in
// legacy notations, and hosts the allow-list does not admit. IP literals
// are checked with CheckAddr as well; names are checked again, address by
// address, once resolved.
func (g *Guard) CheckURL(u *url.URL) error {
	refuse := func(format string, args ...any) error {
		return &RefusedError{URL: u.Redacted(), Reason: fmt.Sprintf(format, args...)}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("only http and https URLs can be checked")
	}
	if u.User != nil {
		return refuse("URLs with credentials are not checked")
	}
	if u.Opaque != "" {
		return refuse("not a hierarchical URL")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return refuse("no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return refuse("port %q is not 1-65535", p)
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if err := g.CheckAddr(a); err != nil {
			return refuse("%v", err)
		}
		if !g.anyHost && !g.inNets(a.Unmap()) {
			return refuse("%s is not in the allow-list", a)
		}
		return nil
	}
	host = strings.TrimSuffix(host, ".")
	if isNumericHost(host) {
		if a, ok := parseLegacyIPv4(host); ok {
			return refuse("%q is the IPv4 address %s in a legacy notation; write it as %s", u.Hostname(), a, a)
		}
		return refuse("%q is neither a host name nor an IP address", u.Hostname())
	}
	if !validName(host) {
		return refuse("%q is not a valid host name", u.Hostname())
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "localhost.localdomain" ||
		host == "ip6-localhost" || host == "ip6-loopback" {
		return refuse("%s names this machine (loopback)", host)
	}
	if !g.admitsName(host) {
		return refuse("host %s is not in the allow-list", host)
	}
	return nil
}

func (g *Guard) admitsName(host string) bool {
	if g.anyHost || g.exact[host] {
		return true
	}
	for _, s := range g.suffix {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

func (g *Guard) inNets(a netip.Addr) bool {
	for _, p := range g.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// The ranges refused unless an allow-list network covers the address.
var refused = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified (this-network) address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved or broadcast address"},
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// metadata are the cloud instance-metadata endpoints: refused always, the
// allow-list cannot open them.
var metadata = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, OpenStack, DigitalOcean, ...
	netip.MustParseAddr("169.254.170.2"):   true, // AWS ECS task metadata
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud
	netip.MustParseAddr("192.0.0.192"):     true, // Oracle Cloud
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS over IPv6
}

// Prefixes whose addresses carry an IPv4 address that is what gets reached.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	v4compat  = netip.MustParsePrefix("::/96") // deprecated IPv4-compatible form
)

// CheckAddr refuses an address the check must not connect to: cloud
// metadata always; loopback, private, link-local, unspecified, multicast and
// other special ranges unless an allow-list network covers them. IPv4
// addresses hidden in IPv6 forms (IPv4-mapped, IPv4-compatible, NAT64,
// 6to4) are judged as the IPv4 address they reach.
func (g *Guard) CheckAddr(a netip.Addr) error {
	if a.Zone() != "" {
		a = a.WithZone("")
	}
	form := ""
	switch {
	case a.Is4In6():
		a, form = a.Unmap(), "IPv4-mapped "
	case nat64.Contains(a):
		a, form = embedded(a, 12), "NAT64 "
	case sixToFour.Contains(a):
		a, form = embedded(a, 2), "6to4 "
	case v4compat.Contains(a) && a != netip.IPv6Unspecified() && a != netip.IPv6Loopback():
		a, form = embedded(a, 12), "IPv4-compatible "
	}
	if metadata[a] {
		return fmt.Errorf("%s%s is a cloud metadata address", form, a)
	}
	if g.inNets(a) {
		return nil
	}
	for _, r := range refused {
		if r.prefix.Contains(a) {
			return fmt.Errorf("%s%s is %s", form, a, r.what)
		}
	}
	return nil
}

func embedded(a netip.Addr, at int) netip.Addr {
	b := a.As16()
	return netip.AddrFrom4([4]byte(b[at : at+4]))
}

// isNumericHost reports whether host's last label is a number (decimal
// digits, or 0x and hex digits), which the URL standard and inet_aton read
// as an IPv4 address: "2130706433", "0x7f.1", "127.1", "1.2.3.08".
func isNumericHost(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	digits := "0123456789"
	if len(last) >= 2 && (last[:2] == "0x" || last[:2] == "0X") {
		last, digits = last[2:], "0123456789abcdefABCDEF"
		if last == "" {
			return true
		}
	}
	return last != "" && strings.Trim(last, digits) == ""
}

// parseLegacyIPv4 reads the notations inet_aton accepts and netip refuses:
// 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last part
// fills the remaining bytes.
func parseLegacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, err := parseNumber(p)
		if err != nil {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(4-i)) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseNumber(p string) (uint64, error) {
	switch {
	case p == "":
		return 0, strconv.ErrSyntax
	case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
		if len(p) == 2 {
			return 0, nil // "0x" alone is 0 for inet_aton
		}
		return strconv.ParseUint(p[2:], 16, 32)
	case len(p) > 1 && p[0] == '0':
		return strconv.ParseUint(p[1:], 8, 32)
	default:
		return strconv.ParseUint(p, 10, 32)
	}
}
