package fingerprint

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// loadAnswer reads one recorded-shape answer from testdata/: a raw HTTP/1.1
// response, status line and headers, a blank line, the body.
func loadAnswer(t testing.TB, name string) *Answer {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		t.Fatalf("%s: no blank line after the headers", name)
	}
	// Only the head goes through the HTTP parser, so fixtures need no exact
	// Content-Length.
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(append(head, "\n\n"...))), nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	_, phrase, _ := strings.Cut(resp.Status, " ")
	return &Answer{Code: resp.StatusCode, Phrase: phrase, Header: resp.Header, Body: body}
}

func TestBuiltinFixtures(t *testing.T) {
	tests := []struct {
		file           string
		layer, product string
	}{
		{"nginx-502.http", contract.LayerProxy, "nginx"},
		{"nginx-504-server-tokens-off.http", contract.LayerProxy, "nginx"},
		{"openresty-503.http", contract.LayerProxy, "nginx"},
		// The origin's nginx wrote the page; the CDN only carried it.
		{"nginx-502-behind-cloudflare.http", contract.LayerProxy, "nginx"},
		{"nginx-504-behind-cloudfront.http", contract.LayerProxy, "nginx"},
		{"apache-502-proxy-error.http", contract.LayerProxy, "apache"},
		{"apache-503-signature-off.http", contract.LayerProxy, "apache"},
		{"apache-500.http", contract.LayerOrigin, "apache"},
		{"envoy-503-upstream-connect.http", contract.LayerProxy, "envoy"},
		{"envoy-503-no-healthy-upstream.http", contract.LayerProxy, "envoy"},
		{"envoy-504-upstream-timeout.http", contract.LayerProxy, "envoy"},
		{"kong-502.http", contract.LayerProxy, "kong"},
		{"varnish-503.http", contract.LayerProxy, "varnish"},
		{"haproxy-503.http", contract.LayerLoadBalancer, "haproxy"},
		{"haproxy-504.http", contract.LayerLoadBalancer, "haproxy"},
		{"aws-alb-502.http", contract.LayerLoadBalancer, "aws_elb"},
		{"aws-alb-503.http", contract.LayerLoadBalancer, "aws_elb"},
		{"gfe-502.http", contract.LayerLoadBalancer, "gfe"},
		{"cloudflare-522.http", contract.LayerCDN, "cloudflare"},
		{"cloudflare-502-edge.http", contract.LayerCDN, "cloudflare"},
		{"cloudflare-521-plain.http", contract.LayerCDN, "cloudflare"},
		{"cloudflare-524-head.http", contract.LayerCDN, "cloudflare"},
		{"cloudfront-502.http", contract.LayerCDN, "cloudfront"},
		{"fastly-503.http", contract.LayerCDN, "fastly"},
		{"fastly-503-no-details.http", contract.LayerCDN, "fastly"},
		{"akamai-503.http", contract.LayerCDN, "akamai"},
		{"akamai-504-no-server.http", contract.LayerCDN, "akamai"},
		{"origin-500-php-behind-cloudflare.http", contract.LayerOrigin, "app"},
		{"origin-500-spring.http", contract.LayerOrigin, "app"},
		{"origin-503-gunicorn.http", contract.LayerOrigin, "app"},
		// A JSON error document is the application's: CDNs and proxies write
		// HTML or text, and edge code (Workers, Lambda@Edge) is the
		// application's own code anyway.
		{"origin-500-json-behind-cloudfront.http", contract.LayerOrigin, "app"},
		{"origin-500-json-behind-fastly.http", contract.LayerOrigin, "app"},
		{"origin-500-json-error-code-behind-cloudflare.http", contract.LayerOrigin, "app"},
		// Passed through a CDN or proxy with a body nobody can vouch for:
		// blaming the hop that carried it would page the wrong team.
		{"ambiguous-500-behind-cloudflare.http", contract.LayerUnknown, contract.ProductUnknown},
		{"ambiguous-502-behind-envoy.http", contract.LayerUnknown, contract.ProductUnknown},
		{"ambiguous-500-google-frontend.http", contract.LayerUnknown, contract.ProductUnknown},
		{"ambiguous-502-server-nginx-no-body.http", contract.LayerUnknown, contract.ProductUnknown},
		{"ambiguous-503-plain.http", contract.LayerUnknown, contract.ProductUnknown},
		{"ambiguous-504-empty.http", contract.LayerUnknown, contract.ProductUnknown},
		{"ambiguous-520-without-cloudflare.http", contract.LayerUnknown, contract.ProductUnknown},
		{"ambiguous-500-mentions-nginx.http", contract.LayerUnknown, contract.ProductUnknown},
		{"ambiguous-502-conflicting-claims.http", contract.LayerUnknown, contract.ProductUnknown},
		// An origin's own text that happens to say "error code: N" is not
		// Cloudflare's plain-text answer, which says that and nothing else.
		{"ambiguous-503-error-code-text-behind-cloudflare.http", contract.LayerUnknown, contract.ProductUnknown},
		// CloudFront's heading is plain English; without CloudFront on the
		// path an origin that writes it is not CloudFront.
		{"ambiguous-500-request-not-satisfied.http", contract.LayerUnknown, contract.ProductUnknown},
	}
	m, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(strings.TrimSuffix(tt.file, ".http"), func(t *testing.T) {
			a := loadAnswer(t, tt.file)
			if a.Code < 500 {
				t.Fatalf("fixture has code %d, want a 5xx", a.Code)
			}
			layer, product := lp(m.Match(a))
			if layer != tt.layer || product != tt.product {
				t.Errorf("Match = %s/%s, want %s/%s", layer, product, tt.layer, tt.product)
			}
			if !slices.Contains(contract.Layers(), layer) || !slices.Contains(m.Products(), product) {
				t.Errorf("%s/%s is outside Layers() or Products()", layer, product)
			}
		})
	}
	// Every fixture is in the table, so none silently stops being checked.
	files, _ := filepath.Glob(filepath.Join("testdata", "*.http"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("testdata/%s has no row in the table", filepath.Base(f))
		}
	}
}

func TestBoundedBody(t *testing.T) {
	m, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := loadAnswer(t, "cloudflare-522.http")
	if i := bytes.Index(a.Body, []byte("Cloudflare Ray ID")); i < MaxBody {
		t.Fatalf("fixture should put the Ray ID past the inspected prefix, it is at %d", i)
	}
	// Past MaxBody nothing counts: a signature there is ignored.
	far := append(bytes.Repeat([]byte("x"), MaxBody), "upstream connect error or disconnect/reset before headers"...)
	if l, p := lp(m.Match(&Answer{Code: 503, Header: nil, Body: far})); l != contract.LayerUnknown || p != contract.ProductUnknown {
		t.Errorf("signature past MaxBody: got %s/%s, want unknown", l, p)
	}
	// A prefix too short for the page still has Cloudflare's own code.
	if l, p := lp(m.Match(&Answer{Code: a.Code, Header: a.Header, Body: a.Body[:64]})); l != contract.LayerCDN || p != "cloudflare" {
		t.Errorf("522 with a short prefix: got %s/%s, want cdn/cloudflare", l, p)
	}
	// Without its code the page's head is still enough.
	if l, p := lp(m.Match(&Answer{Code: 502, Header: a.Header, Body: a.Body[:1024]})); l != contract.LayerCDN || p != "cloudflare" {
		t.Errorf("branded page head: got %s/%s, want cdn/cloudflare", l, p)
	}
}

func TestUserRules(t *testing.T) {
	rules := []config.FingerprintRule{
		{Header: "x-edge-error", Match: "^edge-", Layer: "cdn", Product: "acme_edge"},
		{Header: "X-LB", Layer: "load_balancer", Product: "f5"},
		{Body: `<center>Acme Platform</center>`, Layer: "proxy", Product: "acme_router"},
		{Header: "Server", Match: "(?i)^nginx", Body: "502 Bad Gateway", Layer: "load_balancer", Product: "ingress"},
	}
	m, err := New(rules)
	if err != nil {
		t.Fatal(err)
	}
	nginx := loadAnswer(t, "nginx-502.http")
	tests := []struct {
		name           string
		code           int
		header         http.Header
		body           string
		layer, product string
	}{
		{"header regexp", 502, http.Header{"X-Edge-Error": {"edge-timeout"}}, "", contract.LayerCDN, "acme_edge"},
		{"header regexp, second value", 502, http.Header{"X-Edge-Error": {"none", "edge-down"}}, "", contract.LayerCDN, "acme_edge"},
		{"header regexp misses", 502, http.Header{"X-Edge-Error": {"origin"}}, "", contract.LayerUnknown, contract.ProductUnknown},
		{"header presence", 503, http.Header{"X-Lb": {""}}, "", contract.LayerLoadBalancer, "f5"},
		{"body", 500, nil, "<hr><center>Acme Platform</center>", contract.LayerProxy, "acme_router"},
		{"header and body, user rule wins over built-in", 502, nginx.Header, string(nginx.Body), contract.LayerLoadBalancer, "ingress"},
		{"header without body falls through to built-ins", 504, http.Header{"Server": {"nginx"}}, "<hr><center>nginx</center>", contract.LayerProxy, "nginx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			layer, product := lp(m.Match(&Answer{Code: tt.code, Header: tt.header, Body: []byte(tt.body)}))
			if layer != tt.layer || product != tt.product {
				t.Errorf("Match = %s/%s, want %s/%s", layer, product, tt.layer, tt.product)
			}
		})
	}
	for _, p := range []string{"acme_edge", "f5", "acme_router", "ingress", "nginx", contract.ProductUnknown} {
		if !slices.Contains(m.Products(), p) {
			t.Errorf("Products() lacks %q: %v", p, m.Products())
		}
	}
	if !slices.IsSorted(m.Products()) {
		t.Errorf("Products() not sorted: %v", m.Products())
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		rule config.FingerprintRule
		want string
	}{
		{"bad layer", config.FingerprintRule{Header: "Server", Layer: "edge", Product: "x"}, `layer "edge"`},
		{"no pattern", config.FingerprintRule{Layer: "cdn", Product: "x"}, "neither header nor body"},
		{"match without header", config.FingerprintRule{Match: "x", Body: "y", Layer: "cdn", Product: "x"}, "needs a header"},
		{"bad match", config.FingerprintRule{Header: "Server", Match: "(", Layer: "cdn", Product: "x"}, "match: error parsing regexp"},
		{"bad body", config.FingerprintRule{Body: "[", Layer: "cdn", Product: "x"}, "body: error parsing regexp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := config.FingerprintRule{Header: "X-Ok", Layer: "proxy", Product: "ok"}
			_, err := New([]config.FingerprintRule{ok, tt.rule})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "fingerprints[1]: ") {
				t.Errorf("New: got %v, want fingerprints[1]: ...%s...", err, tt.want)
			}
		})
	}
}

func TestMatchAllocatesNothing(t *testing.T) {
	m, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.http"))
	for _, f := range files {
		a := loadAnswer(t, filepath.Base(f))
		if n := testing.AllocsPerRun(20, func() { m.Match(a) }); n != 0 {
			t.Errorf("%s: %v allocations per Match", filepath.Base(f), n)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	m, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{
		"nginx-502.http",                       // typical: a small page, late in the rule order
		"cloudflare-522.http",                  // first rule, big page
		"ambiguous-500-behind-cloudflare.http", // no match: every rule runs
	} {
		a := loadAnswer(b, name)
		b.Run(strings.TrimSuffix(name, ".http"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(a)
			}
		})
	}
	// Worst case: a full MaxBody of text that matches nothing.
	worst := bytes.Repeat([]byte("<div>Guru <center> error code <html><body><h1>x</h1></body></html></div>\n"), MaxBody/70+1)[:MaxBody]
	h := http.Header{"Server": {"cloudflare"}}
	b.Run("unknown-4KiB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Match(&Answer{Code: 500, Header: h, Body: worst})
		}
	})
}

// lp is a Match's layer and product.
func lp(m Match) (layer, product string) { return m.Layer, m.Product }
