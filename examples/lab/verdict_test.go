package lab

import (
	"net/http"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// TestVerdicts triages every recorded answer the way the prober does, with
// the default class table, and checks what the exporter says against the
// table: the truth, or the documented verdict where the answer cannot show
// it. The lab (make lab) checks the same through a real probe.
func TestVerdicts(t *testing.T) {
	f := triage.Default()
	var right, chosen, unknown int
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			resp, body := readFixture(t, sc.Name)
			_, phrase, _ := strings.Cut(resp.Status, " ")
			v := f.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: resp.StatusCode, Phrase: phrase, Header: resp.Header, Body: body})
			checkVerdict(t, sc, v, resp.Header.Get("Retry-After"))
		})
		switch want := sc.expected(); {
		case want.Layer == contract.LayerUnknown:
			unknown++
		case want.Class != sc.Truth.Class:
			chosen++
		default:
			right++
		}
	}
	t.Logf("%d scenarios: %d right, %d where one page stands for two causes (the documented owner), %d with the writer unknown (class right)", len(scenarios), right, chosen, unknown)
}

// checkVerdict compares the exporter's verdict on sc's answer with the
// table. retryAfter is the answer's header, "" when absent.
func checkVerdict(t *testing.T, sc scenario, v triage.Verdict, retryAfter string) {
	t.Helper()
	want := sc.expected()
	if v.Class != want.Class || v.Owner != defaultOwner(want.Class) || v.Layer != want.Layer || v.Product != want.Product {
		t.Errorf("exporter says %s (owner %s) from %s/%s, want %s (owner %s) from %s/%s; cause %q",
			v.Class, v.Owner, v.Layer, v.Product, want.Class, defaultOwner(want.Class), want.Layer, want.Product, v.Cause)
	}
	if v.CodeClass != "" && v.Cause == "" {
		t.Errorf("class %s instead of the code's %s, but no cause says why", v.Class, v.CodeClass)
	}
	// A Retry-After is a maintenance window only on a capacity answer; the
	// exporter must not export the others' as one.
	if canned := retryAfter != "" && sc.Truth.Class != "capacity"; v.CannedRetryAfter != canned {
		t.Errorf("Retry-After %q taken as the product's default: %v, want %v", retryAfter, v.CannedRetryAfter, canned)
	}
}

func defaultOwner(class string) string {
	for _, c := range config.DefaultClasses() {
		if c.Name == class {
			return c.Owner
		}
	}
	return ""
}

// The table's documented verdicts are never a guess at another hop: a
// verdict either keeps the truth's writer or says unknown.
func TestVerdictsNeverNameAnotherHop(t *testing.T) {
	for _, sc := range scenarios {
		w := sc.expected()
		if w.Layer != sc.Truth.Layer && w.Layer != contract.LayerUnknown {
			t.Errorf("%s: the exporter is to name layer %s where %s wrote the answer", sc.Name, w.Layer, sc.Truth.Layer)
		}
		if (w.Class != sc.Truth.Class || w.Layer != sc.Truth.Layer) && sc.Verdict.Why == "" {
			t.Errorf("%s: a verdict other than the truth without a why", sc.Name)
		}
		if w.Class != sc.Truth.Class && sc.Truth.CauseShown {
			t.Errorf("%s: the answer shows the cause %s, yet the exporter is to say %s", sc.Name, sc.Truth.Class, w.Class)
		}
		if sc.Code < http.StatusInternalServerError {
			t.Errorf("%s: not a 5xx", sc.Name)
		}
	}
}
