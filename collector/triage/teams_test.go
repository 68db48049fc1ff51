package triage

import (
	"net/http"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
)

// A target's Finisher names its team for the classes it overrides, in
// every path a class is decided by (code, reason, cause), and the class
// owner for the rest; the configuration's Finisher is left as it was.
func TestForTarget(t *testing.T) {
	f := Default()
	tg := &config.Target{Name: "checkout", Teams: []config.ClassTeam{
		{Class: "app", Team: "checkout-team", DefaultOwner: "app-team"},
		{Class: "gateway", Team: "edge-team", DefaultOwner: "app-infra"},
	}}
	g := f.ForTarget(tg)
	haproxy := &fingerprint.Answer{Code: 503, Body: []byte("<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"),
		Header: http.Header{"Content-Type": {"text/html"}}}
	for _, c := range []struct {
		what        string
		v           Verdict
		class, team string
	}{
		{"500", g.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 500}), "app", "checkout-team"},
		{"502", g.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 502}), "gateway", "edge-team"},
		{"reset", g.Verdict(contract.ReasonReset, nil), "gateway", "edge-team"},
		{"haproxy's 503 (gateway by cause)", g.Verdict(contract.ReasonNone, haproxy), "gateway", "edge-team"},
		{"503", g.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 503}), "capacity", "sre-oncall"},
		{"timeout", g.Verdict(contract.ReasonTimeout, nil), "timeout", "db-api-owners"},
		{"404", g.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 404}), "4xx", ""},
		{"the configuration's 500", f.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 500}), "app", "app-team"},
	} {
		if c.v.Class != c.class || c.v.Owner != c.team {
			t.Errorf("%s: class %q owner %q, want %q %q", c.what, c.v.Class, c.v.Owner, c.class, c.team)
		}
	}
	for _, c := range []struct {
		code        int
		class, team string
	}{{500, "app", "checkout-team"}, {502, "gateway", "edge-team"}, {504, "timeout", "db-api-owners"}} {
		if class, team := g.Code(c.code); class != c.class || team != c.team {
			t.Errorf("Code(%d) = %s %s, want %s %s", c.code, class, team, c.class, c.team)
		}
	}
	if class, team := g.Reason(contract.ReasonConnectRefused); class != "gateway" || team != "edge-team" {
		t.Errorf("Reason(connect_refused) = %s %s", class, team)
	}
	if f.ForTarget(&config.Target{Name: "plain"}) != f {
		t.Error("a target without teams got a Finisher of its own")
	}
	same := &config.Target{Teams: []config.ClassTeam{{Class: "nope", Team: "x"}}}
	if f.ForTarget(same) != f {
		t.Error("teams of classes the table lacks changed the Finisher")
	}
	if n := testing.AllocsPerRun(100, func() { g.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 500}) }); n != 0 {
		t.Errorf("a target's Verdict allocates %v times", n)
	}
}
