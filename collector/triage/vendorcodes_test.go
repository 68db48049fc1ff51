package triage_test

import (
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// The vendor codes table in README.md, checked against the default class
// table through the prober's classifier.
func TestVendorCodes(t *testing.T) {
	tests := []struct {
		code  int
		class string
		why   string
	}{
		{520, "gateway", "Cloudflare: origin returned an empty, unknown or unexpected answer"},
		{521, "gateway", "Cloudflare: web server is down (refused the connection)"},
		{522, "timeout", "Cloudflare: connection to the origin timed out"},
		{523, "network", "Cloudflare: origin is unreachable (DNS, routing)"},
		{524, "timeout", "Cloudflare: origin accepted but did not answer in time"},
		{525, "network", "Cloudflare: TLS handshake with the origin failed"},
		{526, "network", "Cloudflare: invalid origin certificate"},
		{527, "gateway", "Cloudflare: Railgun connection to the origin failed"},
		{499, "4xx", "nginx: client closed the request; not a server error"},
		{429, "4xx", "too many requests; capacity only when a class lists it"},
		{530, "app", "other 5xx fall in app's 505-599"},
	}
	c := mustNew(t, config.DefaultClasses())
	for _, tt := range tests {
		if got, _ := c.Code(tt.code); got != tt.class {
			t.Errorf("%d (%s): class %q, want %q", tt.code, tt.why, got, tt.class)
		}
	}

	// Listing 429 under capacity moves it there, as the class table allows.
	classes := config.DefaultClasses()
	for i := range classes {
		if classes[i].Name == "capacity" {
			classes[i].Codes = append(classes[i].Codes, config.StatusRange{Lo: 429, Hi: 429})
		}
	}
	if got, owner := mustNew(t, classes).Code(429); got != "capacity" || owner != "sre-oncall" {
		t.Errorf("429 listed under capacity: %q/%q", got, owner)
	}
}

func mustNew(t *testing.T, classes []config.Class) *triage.Finisher {
	t.Helper()
	f, err := triage.New(classes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
