package adhoc

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestGuardCheckURL(t *testing.T) {
	anyHost := []string{"*"}
	tests := []struct {
		url   string
		allow []string
		// refusal is a fragment of the refusal reason; "" means admitted.
		refusal string
	}{
		// Public hosts with "*".
		{"http://example.com/", anyHost, ""},
		{"https://example.com:8443/path?q=1", anyHost, ""},
		{"http://EXAMPLE.com./", anyHost, ""},
		{"http://8.8.8.8/", anyHost, ""},
		{"http://[2001:4860:4860::8888]/", anyHost, ""},
		{"http://[::ffff:8.8.8.8]/", anyHost, ""},

		// Schemes, credentials, ports, junk.
		{"ftp://example.com/", anyHost, "only http and https"},
		{"file:///etc/passwd", anyHost, "only http and https"},
		{"gopher://127.0.0.1:6379/", anyHost, "only http and https"},
		{"http://user:pw@example.com/", anyHost, "credentials"},
		{"http://user@example.com/", anyHost, "credentials"},
		{"http:example.com", anyHost, "not a hierarchical URL"},
		{"http:///path", anyHost, "no host"},
		{"http://example.com:0/", anyHost, "not 1-65535"},
		{"http://example.com:70000/", anyHost, "not 1-65535"},
		{"http://exa_mple.com/", anyHost, ""},
		{"http://exa!mple.com/", anyHost, "not a valid host name"},

		// Loopback by name.
		{"http://localhost/", anyHost, "loopback"},
		{"http://LOCALHOST./", anyHost, "loopback"},
		{"http://localhost:10505/metrics", anyHost, "loopback"},
		{"http://api.localhost/", anyHost, "loopback"},
		{"http://localhost.localdomain/", anyHost, "loopback"},
		{"http://ip6-localhost/", anyHost, "loopback"},

		// Loopback, unspecified and private literals, IPv4 and IPv6.
		{"http://127.0.0.1/", anyHost, "127.0.0.1 is a loopback address"},
		{"http://127.1.2.3:8080/", anyHost, "loopback"},
		{"http://[::1]/", anyHost, "::1 is a loopback address"},
		{"http://0.0.0.0/", anyHost, "unspecified"},
		{"http://0.1.2.3/", anyHost, "unspecified"},
		{"http://[::]/", anyHost, "unspecified"},
		{"http://10.1.2.3/", anyHost, "private"},
		{"http://172.16.0.1/", anyHost, "private"},
		{"http://172.31.255.255/", anyHost, "private"},
		{"http://192.168.1.1/", anyHost, "private"},
		{"http://100.64.0.1/", anyHost, "carrier-grade NAT"},
		{"http://198.18.0.1/", anyHost, "benchmarking"},
		{"http://[fc00::1]/", anyHost, "unique local"},
		{"http://[fd12:3456::1]/", anyHost, "unique local"},
		{"http://224.0.0.1/", anyHost, "multicast"},
		{"http://[ff02::1]/", anyHost, "multicast"},
		{"http://255.255.255.255/", anyHost, "broadcast"},
		{"http://169.254.1.1/", anyHost, "link-local"},
		{"http://[fe80::1]/", anyHost, "link-local"},
		{"http://[fe80::1%25eth0]/", anyHost, "link-local"},

		// Cloud metadata in every spelling Go's URL parser lets through.
		{"http://169.254.169.254/latest/meta-data/", anyHost, "169.254.169.254 is a cloud metadata address"},
		{"http://169.254.170.2/v2/credentials", anyHost, "metadata"},
		{"http://100.100.100.200/", anyHost, "metadata"},
		{"http://192.0.0.192/", anyHost, "metadata"},
		{"http://[fd00:ec2::254]/", anyHost, "fd00:ec2::254 is a cloud metadata address"},
		{"http://[FD00:EC2:0:0:0:0:0:254]/", anyHost, "metadata"},
		{"http://[::ffff:169.254.169.254]/", anyHost, "IPv4-mapped 169.254.169.254 is a cloud metadata address"},
		{"http://[::ffff:a9fe:a9fe]/", anyHost, "IPv4-mapped 169.254.169.254"},
		{"http://[64:ff9b::a9fe:a9fe]/", anyHost, "NAT64 169.254.169.254"},
		{"http://[64:ff9b::169.254.169.254]/", anyHost, "NAT64 169.254.169.254"},

		// IPv4 hidden in IPv6.
		{"http://[::ffff:127.0.0.1]/", anyHost, "IPv4-mapped 127.0.0.1 is a loopback address"},
		{"http://[::ffff:7f00:1]/", anyHost, "IPv4-mapped 127.0.0.1"},
		{"http://[0:0:0:0:0:ffff:7f00:1]/", anyHost, "IPv4-mapped 127.0.0.1"},
		{"http://[::ffff:10.0.0.1]/", anyHost, "IPv4-mapped 10.0.0.1 is a private address"},
		{"http://[::ffff:0.0.0.0]/", anyHost, "unspecified"},
		{"http://[::127.0.0.1]/", anyHost, "IPv4-compatible 127.0.0.1"},
		{"http://[::7f00:1]/", anyHost, "IPv4-compatible 127.0.0.1"},
		{"http://[64:ff9b::7f00:1]/", anyHost, "NAT64 127.0.0.1"},
		{"http://[64:ff9b:1::1]/", anyHost, "local-use NAT64"},
		{"http://[2002:7f00:1::]/", anyHost, "6to4 127.0.0.1"},
		{"http://[2002:a9fe:a9fe::1]/", anyHost, "6to4 169.254.169.254 is a cloud metadata address"},

		// Legacy IPv4 notations: Go's URL parser passes them as host names,
		// inet_aton-style resolvers read them as addresses.
		{"http://2130706433/", anyHost, "IPv4 address 127.0.0.1 in a legacy notation"},
		{"http://0x7f000001/", anyHost, "127.0.0.1 in a legacy notation"},
		{"http://0X7F000001/", anyHost, "127.0.0.1 in a legacy notation"},
		{"http://0x7f.0.0.1/", anyHost, "127.0.0.1 in a legacy notation"},
		{"http://0x7f.1/", anyHost, "127.0.0.1 in a legacy notation"},
		{"http://0177.0.0.1/", anyHost, "127.0.0.1 in a legacy notation"},
		{"http://017700000001/", anyHost, "127.0.0.1 in a legacy notation"},
		{"http://127.1/", anyHost, "127.0.0.1 in a legacy notation"},
		{"http://127.0.1/", anyHost, "127.0.0.1 in a legacy notation"},
		{"http://127.000.000.001/", anyHost, "127.0.0.1 in a legacy notation"},
		{"http://0/", anyHost, "0.0.0.0 in a legacy notation"},
		{"http://0251.0376.0251.0376/", anyHost, "169.254.169.254 in a legacy notation"},
		{"http://2852039166/", anyHost, "169.254.169.254 in a legacy notation"},
		{"http://0xa9fea9fe/", anyHost, "169.254.169.254 in a legacy notation"},
		{"http://3232235777/", anyHost, "192.168.1.1 in a legacy notation"},
		{"http://134744072/", anyHost, "8.8.8.8 in a legacy notation"},
		{"http://1.2.3.08/", anyHost, "neither a host name nor an IP address"},
		{"http://1.2.3.4.5/", anyHost, "neither a host name nor an IP address"},
		{"http://4294967296/", anyHost, "neither a host name nor an IP address"},
		{"http://256.1.1.1/", anyHost, "neither a host name nor an IP address"},
		{"http://example.0x10/", anyHost, "neither a host name nor an IP address"},
		{"http://123.example.com/", anyHost, ""},

		// The allow-list: names, wildcards, networks.
		{"http://example.com/", []string{"example.com"}, ""},
		{"http://Example.COM./", []string{"example.com."}, ""},
		{"http://www.example.com/", []string{"example.com"}, "not in the allow-list"},
		{"http://8.8.8.8/", []string{"example.com"}, "not in the allow-list"},
		{"http://a.b.example.com/", []string{"*.example.com"}, ""},
		{"http://example.com/", []string{"*.example.com"}, "not in the allow-list"},
		{"http://badexample.com/", []string{"*.example.com"}, "not in the allow-list"},
		{"http://8.8.8.8/", []string{"8.8.8.0/24"}, ""},
		{"http://8.8.4.4/", []string{"8.8.8.0/24"}, "not in the allow-list"},
		{"http://127.0.0.1:8080/", []string{"127.0.0.1"}, ""},
		{"http://[::ffff:127.0.0.1]:8080/", []string{"127.0.0.1"}, ""},
		{"http://127.0.0.1/", []string{"::ffff:127.0.0.1"}, ""},
		{"http://127.0.0.2/", []string{"127.0.0.1"}, "loopback"},
		{"http://localhost/", []string{"127.0.0.1"}, "loopback"},
		{"http://example.com/", []string{"127.0.0.1"}, "not in the allow-list"},
		{"http://10.1.1.1/", []string{"*", "10.0.0.0/8"}, ""},
		{"http://192.168.1.1/", []string{"*", "10.0.0.0/8"}, "private"},
		{"http://169.254.1.1/", []string{"169.254.0.0/16"}, ""},
		{"http://169.254.169.254/", []string{"169.254.0.0/16"}, "metadata"},
		{"http://169.254.169.254/", []string{"169.254.169.254"}, "metadata"},
		{"http://[fd00:ec2::254]/", []string{"fd00::/8"}, "metadata"},
	}
	for _, tt := range tests {
		g, err := NewGuard(tt.allow)
		if err != nil {
			t.Fatalf("allow %v: %v", tt.allow, err)
		}
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Errorf("%s: url.Parse: %v (drop the case: Go refuses it before the guard)", tt.url, err)
			continue
		}
		err = g.CheckURL(u)
		var refused *RefusedError
		switch {
		case tt.refusal == "" && err != nil:
			t.Errorf("%s (allow %v): refused: %v", tt.url, tt.allow, err)
		case tt.refusal != "" && err == nil:
			t.Errorf("%s (allow %v): admitted, want refused for %q", tt.url, tt.allow, tt.refusal)
		case err != nil && (!errors.As(err, &refused) || !strings.Contains(refused.Reason, tt.refusal)):
			t.Errorf("%s (allow %v): %v, want a refusal mentioning %q", tt.url, tt.allow, err, tt.refusal)
		}
	}
}

func TestGuardCheckAddr(t *testing.T) {
	g, err := NewGuard([]string{"*", "192.168.10.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr    string
		refusal string
	}{
		{"93.184.215.14", ""},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", ""},
		{"192.168.10.7", ""},
		{"::ffff:192.168.10.7", ""},
		{"192.168.11.7", "private"},
		{"127.0.0.1", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1"},
		{"169.254.169.254", "metadata"},
		{"::ffff:169.254.169.254", "metadata"},
		{"fd00:ec2::254", "metadata"},
		{"fe80::1%eth0", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
	}
	for _, tt := range tests {
		err := g.CheckAddr(netip.MustParseAddr(tt.addr))
		if (err == nil) != (tt.refusal == "") || err != nil && !strings.Contains(err.Error(), tt.refusal) {
			t.Errorf("CheckAddr(%s) = %v, want %q", tt.addr, err, tt.refusal)
		}
	}
}

func TestNewGuardRejectsBadEntries(t *testing.T) {
	for _, allow := range [][]string{
		nil,
		{},
		{"10.0.0.0/33"},
		{"exa mple.com"},
		{"http://example.com"},
		{"*.*.example.com"},
		{"example.com/24"},
		{""},
	} {
		if _, err := NewGuard(allow); err == nil {
			t.Errorf("NewGuard(%q) accepted it", allow)
		}
	}
}

func TestParseLegacyIPv4(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for not an address
	}{
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0x7f.0x0.0x0.0x1", "127.0.0.1"},
		{"0177.0.0.01", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"10.0x10000", "10.1.0.0"},
		{"192.168.257", "192.168.1.1"},
		{"0x", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"256.1", ""},
		{"1.2.3.4.5", ""},
		{"1..2", ""},
		{"08", ""},
		{"0xg", ""},
		{"-1", ""},
		{"+1", ""},
	}
	for _, tt := range tests {
		a, ok := parseLegacyIPv4(tt.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("parseLegacyIPv4(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
