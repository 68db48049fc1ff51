package fingerprint

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// TestErrorPage: every 5xx fixture served with 200 instead, the extra
// shapes of testdata/soft/ (error pages that only exist served as 2xx) and
// ordinary pages (testdata/soft/ok-*) that mention errors, products and
// codes without being an error page. Product "" means unflagged.
func TestErrorPage(t *testing.T) {
	tests := []struct {
		file    string
		product string
		cause   string // a part of the cause
	}{
		{"nginx-502.http", "nginx", "502 error page"},
		{"nginx-504-server-tokens-off.http", "nginx", "504"},
		{"openresty-503.http", "nginx", "503"},
		{"nginx-502-behind-cloudflare.http", "nginx", "502"},
		{"nginx-504-behind-cloudfront.http", "nginx", "504"},
		{"apache-500.http", "apache", "500"},
		{"apache-502-proxy-error.http", "apache", "502"},
		{"apache-503-signature-off.http", "apache", "503"},
		{"envoy-503-upstream-connect.http", "envoy", "error page"},
		{"envoy-503-no-healthy-upstream.http", "envoy", "error page"},
		{"envoy-504-upstream-timeout.http", "envoy", "error page"},
		{"kong-502.http", "kong", "error page"},
		{"varnish-503.http", "varnish", "503"},
		{"haproxy-503.http", "haproxy", "503"},
		{"haproxy-504.http", "haproxy", "504"},
		{"gfe-502.http", "gfe", "502"},
		{"cloudflare-522.http", "cloudflare", "522"},
		{"cloudflare-502-edge.http", "cloudflare", "502"},
		{"cloudflare-521-plain.http", "cloudflare", "521"},
		{"cloudfront-502.http", "cloudfront", "502"},
		{"fastly-503.http", "fastly", "503"},
		{"fastly-503-no-details.http", "fastly", "503"},
		{"origin-500-spring.http", "app", "500"},
		// Shapes whose proof lies in headers or a HEAD answer's length,
		// which a 200 does not carry, or pages that state no code.
		{"aws-alb-502.http", "", ""},
		{"aws-alb-503.http", "", ""},
		{"cloudflare-524-head.http", "", ""},
		{"akamai-503.http", "", ""},
		{"akamai-504-no-server.http", "", ""},
		// An application's own error page or document: nothing a product
		// proves; an expect condition catches these.
		{"origin-500-php-behind-cloudflare.http", "", ""},
		{"origin-500-json-behind-cloudfront.http", "", ""},
		{"origin-500-json-behind-fastly.http", "", ""},
		{"origin-500-json-error-code-behind-cloudflare.http", "", ""},
		{"origin-503-gunicorn.http", "", ""},
		// Ambiguous stays unflagged, two claims included.
		{"ambiguous-500-behind-cloudflare.http", "", ""},
		{"ambiguous-500-google-frontend.http", "", ""},
		{"ambiguous-500-mentions-nginx.http", "", ""},
		{"ambiguous-500-request-not-satisfied.http", "", ""},
		{"ambiguous-502-behind-envoy.http", "", ""},
		{"ambiguous-502-conflicting-claims.http", "", ""},
		{"ambiguous-502-server-nginx-no-body.http", "", ""},
		{"ambiguous-503-error-code-text-behind-cloudflare.http", "", ""},
		{"ambiguous-503-plain.http", "", ""},
		{"ambiguous-504-empty.http", "", ""},
		{"ambiguous-520-without-cloudflare.http", "", ""},

		{"soft/nginx-50x-html.http", "nginx", "error page"},
		{"soft/php-fatal-display-errors.http", "app", "PHP printed a fatal error"},
		{"soft/php-parse-error.http", "app", "PHP printed a fatal error"},
		{"soft/spring-whitelabel-200.http", "app", "503"},
		{"soft/ok-nginx-welcome.http", "", ""},
		{"soft/ok-apache-it-works.http", "", ""},
		{"soft/ok-apache-index-of.http", "", ""},
		{"soft/ok-article-about-502.http", "", ""},
		{"soft/ok-status-page-incident.http", "", ""},
		{"soft/ok-json-health.http", "", ""},
		// Error pages of a 4xx served as 200 are not 5xx stories.
		{"soft/ok-nginx-404-page.http", "", ""},
		{"soft/ok-cloudflare-1020.http", "", ""},
		{"soft/ok-whitelabel-404.http", "", ""},
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
			a.Code, a.Phrase = 200, "OK"
			got := m.ErrorPage(a)
			if got.Product != tt.product || !strings.Contains(got.Cause, tt.cause) {
				t.Fatalf("ErrorPage = %q (%q), want %q (%q)", got.Product, got.Cause, tt.product, tt.cause)
			}
			if tt.product == "" {
				if got != (Match{}) {
					t.Errorf("unflagged, but Match = %+v", got)
				}
				return
			}
			if got.Layer == "" || got.Layer == contract.LayerUnknown || got.Layer != layerOf(got.Product, stated5xxOr(a.Body)) {
				t.Errorf("layer %q for product %s", got.Layer, got.Product)
			}
			// Any other code leaves the answer alone: 5xx go to Match, 3xx
			// and 4xx are no soft errors.
			for _, code := range []int{199, 302, 404, 500, 503} {
				a.Code = code
				if other := m.ErrorPage(a); other != (Match{}) {
					t.Errorf("code %d: ErrorPage = %+v, want nothing", code, other)
				}
			}
		})
	}
	for _, pattern := range []string{"*.http", "soft/*.http"} {
		files, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, f := range files {
			if rel, _ := filepath.Rel("testdata", f); !seen[filepath.ToSlash(rel)] {
				t.Errorf("testdata/%s has no row in the table", rel)
			}
		}
	}
}

func stated5xxOr(body []byte) int {
	if c := stated5xx(body); c != 0 {
		return c
	}
	return 502
}

// TestErrorPageBounded: a signature past MaxBody is not read.
func TestErrorPageBounded(t *testing.T) {
	m, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	body := append([]byte(strings.Repeat(" ", MaxBody)), "<h1>An error occurred.</h1> Faithfully yours, nginx."...)
	if got := m.ErrorPage(&Answer{Code: 200, Body: body}); got != (Match{}) {
		t.Errorf("a page past MaxBody was read: %+v", got)
	}
	if got := m.ErrorPage(&Answer{Code: 200, Body: body[MaxBody:]}); got.Product != "nginx" {
		t.Errorf("the same page within MaxBody: %+v", got)
	}
}
