package probe

import (
	"slices"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

func TestClassifierCode(t *testing.T) {
	t.Parallel()
	c := NewClassifier(config.DefaultClasses())
	for _, tc := range []struct {
		code         int
		class, owner string
	}{
		{100, "1xx", ""},
		{200, "2xx", ""},
		{204, "2xx", ""},
		{301, "3xx", ""},
		{404, "4xx", ""},
		{429, "4xx", ""},
		{500, "app", "app-team"},
		{501, "app", "app-team"},
		{502, "gateway", "app-infra"},
		{503, "capacity", "sre-oncall"},
		{504, "timeout", "db-api-owners"},
		{505, "app", "app-team"},
		{520, "gateway", "app-infra"}, // listed beats app's 505-599
		{521, "gateway", "app-infra"},
		{522, "timeout", "db-api-owners"},
		{523, "network", "network"},
		{524, "timeout", "db-api-owners"},
		{525, "network", "network"},
		{527, "gateway", "app-infra"},
		{530, "app", "app-team"},
		{599, "app", "app-team"},
		{600, "6xx", ""},
		{999, "9xx", ""},
		{99, "unknown", ""},
		{0, "unknown", ""},
		{1000, "unknown", ""},
	} {
		class, owner := c.Code(tc.code)
		if class != tc.class || owner != tc.owner {
			t.Errorf("Code(%d) = %q, %q; want %q, %q", tc.code, class, owner, tc.class, tc.owner)
		}
	}
}

func TestClassifierReason(t *testing.T) {
	t.Parallel()
	c := NewClassifier(config.DefaultClasses())
	for _, tc := range []struct {
		reason       Reason
		class, owner string
	}{
		{ReasonDNS, "network", "network"},
		{ReasonConnectRefused, "gateway", "app-infra"},
		{ReasonConnectTimeout, "timeout", "db-api-owners"},
		{ReasonTLS, "network", "network"},
		{ReasonTimeout, "timeout", "db-api-owners"},
		{ReasonReset, "gateway", "app-infra"},
		{ReasonMalformed, "gateway", "app-infra"},
		{ReasonTooLarge, "app", "app-team"},
		{ReasonRedirectLoop, "app", "app-team"},
		{ReasonNone, "unknown", ""},
		{NumReasons, "unknown", ""},
		{-1, "unknown", ""},
	} {
		class, owner := c.Reason(tc.reason)
		if class != tc.class || owner != tc.owner {
			t.Errorf("Reason(%v) = %q, %q; want %q, %q", tc.reason, class, owner, tc.class, tc.owner)
		}
	}
	if got := NewClassifier(nil); !slices.Equal(got.Classes(), []string{}) {
		t.Errorf("empty classifier has classes %q", got.Classes())
	}
	if class, owner := NewClassifier(nil).Reason(ReasonDNS); class != "unknown" || owner != "" {
		t.Errorf("empty classifier: Reason(dns) = %q, %q", class, owner)
	}
	if want := []string{"app", "gateway", "capacity", "timeout", "network"}; !slices.Equal(c.Classes(), want) {
		t.Errorf("Classes() = %q, want %q", c.Classes(), want)
	}
}

func TestClassifierPrecedence(t *testing.T) {
	t.Parallel()
	r := func(lo, hi int) config.StatusCodes { return config.StatusCodes{{Lo: lo, Hi: hi}} }
	for _, tc := range []struct {
		name    string
		classes []config.Class
		code    int
		want    string
	}{
		{"listed after a range wins", []config.Class{{Name: "range", Codes: r(500, 599)}, {Name: "listed", Codes: r(503, 503)}}, 503, "listed"},
		{"listed before a range wins", []config.Class{{Name: "listed", Codes: r(503, 503)}, {Name: "range", Codes: r(500, 599)}}, 503, "listed"},
		{"first range wins", []config.Class{{Name: "a", Codes: r(500, 599)}, {Name: "b", Codes: r(500, 510)}}, 505, "a"},
		{"first listed wins", []config.Class{{Name: "a", Codes: r(429, 429)}, {Name: "b", Codes: r(429, 429)}}, 429, "a"},
		{"range keeps the rest", []config.Class{{Name: "range", Codes: r(500, 599)}, {Name: "listed", Codes: r(503, 503)}}, 504, "range"},
		{"range clipped to 100-999", []config.Class{{Name: "all", Codes: r(0, 5000)}}, 999, "all"},
	} {
		if got, _ := NewClassifier(tc.classes).Code(tc.code); got != tc.want {
			t.Errorf("%s: Code(%d) = %q, want %q", tc.name, tc.code, got, tc.want)
		}
	}
	c := NewClassifier([]config.Class{{Name: "a", Reasons: []string{"dns", "no_such_reason"}}, {Name: "b", Reasons: []string{"dns"}}})
	if got, _ := c.Reason(ReasonDNS); got != "a" {
		t.Errorf("first class claiming dns: got %q, want a", got)
	}
}

func TestClassifierAllocs(t *testing.T) {
	c := NewClassifier(config.DefaultClasses())
	allocs := testing.AllocsPerRun(100, func() {
		c.Code(503)
		c.Code(200)
		c.Reason(ReasonTimeout)
	})
	if allocs != 0 {
		t.Errorf("lookups allocate %v times, want 0", allocs)
	}
}

// TestClassifierAgreesWithConfig checks the lookup tables against the config
// package's reference functions (what `config check` and the docs show), so
// the two never disagree on the default table.
func TestClassifierAgreesWithConfig(t *testing.T) {
	t.Parallel()
	classes := config.DefaultClasses()
	c := NewClassifier(classes)
	for code := minCode; code <= maxCode; code++ {
		wantClass, wantOwner := config.CodeClass(classes, code)
		if class, owner := c.Code(code); class != wantClass || owner != wantOwner {
			t.Errorf("Code(%d) = %q, %q; config says %q, %q", code, class, owner, wantClass, wantOwner)
		}
	}
	var names []string
	for _, r := range Reasons() {
		names = append(names, r.String())
		wantClass, wantOwner := config.ReasonClass(classes, r.String())
		if wantClass == "" {
			wantClass = "unknown"
		}
		if class, owner := c.Reason(r); class != wantClass || owner != wantOwner {
			t.Errorf("Reason(%v) = %q, %q; config says %q, %q", r, class, owner, wantClass, wantOwner)
		}
	}
	if !slices.Equal(names, config.Reasons) {
		t.Errorf("probe reasons %q differ from config.Reasons %q", names, config.Reasons)
	}
}
