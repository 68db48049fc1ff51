package triage

import (
	"slices"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

func TestClassifierCode(t *testing.T) {
	t.Parallel()
	c := mustFinisher(config.DefaultClasses())
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
	c := mustFinisher(config.DefaultClasses())
	for _, tc := range []struct {
		reason       contract.Reason
		class, owner string
	}{
		{contract.ReasonDNS, "network", "network"},
		{contract.ReasonConnectRefused, "gateway", "app-infra"},
		{contract.ReasonConnectTimeout, "timeout", "db-api-owners"},
		{contract.ReasonTLS, "network", "network"},
		{contract.ReasonTimeout, "timeout", "db-api-owners"},
		{contract.ReasonReset, "gateway", "app-infra"},
		{contract.ReasonMalformed, "gateway", "app-infra"},
		{contract.ReasonTooLarge, "app", "app-team"},
		{contract.ReasonRedirectLoop, "app", "app-team"},
		{contract.ReasonNone, "unknown", ""},
		{contract.NumReasons, "unknown", ""},
		{contract.NumReasons + 7, "unknown", ""},
	} {
		class, owner := c.Reason(tc.reason)
		if class != tc.class || owner != tc.owner {
			t.Errorf("Reason(%v) = %q, %q; want %q, %q", tc.reason, class, owner, tc.class, tc.owner)
		}
	}
	if got := mustFinisher(nil); !slices.Equal(got.Classes(), []string{}) {
		t.Errorf("empty classifier has classes %q", got.Classes())
	}
	if class, owner := mustFinisher(nil).Reason(contract.ReasonDNS); class != "unknown" || owner != "" {
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
		if got, _ := mustFinisher(tc.classes).Code(tc.code); got != tc.want {
			t.Errorf("%s: Code(%d) = %q, want %q", tc.name, tc.code, got, tc.want)
		}
	}
	c := mustFinisher([]config.Class{{Name: "a", Reasons: []string{"dns", "no_such_reason"}}, {Name: "b", Reasons: []string{"dns"}}})
	if got, _ := c.Reason(contract.ReasonDNS); got != "a" {
		t.Errorf("first class claiming dns: got %q, want a", got)
	}
}

func TestClassifierAllocs(t *testing.T) {
	c := mustFinisher(config.DefaultClasses())
	allocs := testing.AllocsPerRun(100, func() {
		c.Code(503)
		c.Code(200)
		c.Reason(contract.ReasonTimeout)
	})
	if allocs != 0 {
		t.Errorf("lookups allocate %v times, want 0", allocs)
	}
}

// A user's table replaces the default one: a listed code beats a range that
// covers it, and without a table codes fall to their hundred.
func TestCustomTable(t *testing.T) {
	t.Parallel()
	custom := []config.Class{
		{Name: "app", Codes: config.StatusCodes{{Lo: 500, Hi: 599}}, Owner: "app-team"},
		{Name: "capacity", Codes: config.StatusCodes{{Lo: 503, Hi: 503}, {Lo: 429, Hi: 429}}, Owner: "sre"},
	}
	for _, tc := range []struct {
		classes      []config.Class
		code         int
		class, owner string
	}{
		{custom, 429, "capacity", "sre"},
		{custom, 503, "capacity", "sre"}, // the single code beats app's range
		{custom, 502, "app", "app-team"},
		{custom, 520, "app", "app-team"},
		{nil, 502, "5xx", ""},
		{nil, 200, "2xx", ""},
	} {
		if class, owner := mustFinisher(tc.classes).Code(tc.code); class != tc.class || owner != tc.owner {
			t.Errorf("Code(%d) = %q, %q; want %q, %q", tc.code, class, owner, tc.class, tc.owner)
		}
	}
}

func mustFinisher(classes []config.Class) *Finisher {
	f, err := New(classes, nil)
	if err != nil {
		panic(err)
	}
	return f
}
