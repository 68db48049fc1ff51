package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// teamsConfig is one target answering 500 and 502 by path, with a team for
// the app class (its own or its service's) and none for gateway.
func teamsConfig(url, owners, services string) string {
	return fmt.Sprintf(`global:
  interval: 1h
  timeout: 50m
%s
targets:
  - name: checkout
    url: %s/500
    service: shop
    owner: checkout-team
%s
  - name: cart
    url: %s/502
    service: shop
`, services, url, owners, url)
}

// The series a real exporter exports carry the target's team for the class
// as owner, and a reload that changes the team moves them; the target's
// owner stays the whole-target team of http5xx_target_info.
func TestSeriesCarryTheTargetsTeam(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := 500
		if strings.HasSuffix(r.URL.Path, "/502") {
			code = 502
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(origin.Close)

	reg := prometheus.NewPedanticRegistry()
	e, err := New(Options{Registerer: reg}, loadConfig(t, teamsConfig(origin.URL, "    owners:\n      app: checkout-team", "")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	probe := func() {
		t.Helper()
		for _, name := range []string{"checkout", "cart"} {
			if _, err := e.ProbeNow(context.Background(), name); err != nil {
				t.Fatal(err)
			}
		}
	}
	probe()
	exp := exposition(t, reg)
	for _, want := range []string{
		`http5xx_responses_total{class="app",code="500",owner="checkout-team",service="shop",target="checkout"} 1`,
		// The target names no team for gateway: the default owner.
		`http5xx_responses_total{class="gateway",code="502",owner="app-infra",service="shop",target="checkout"} 0`,
		`http5xx_responses_total{class="gateway",code="502",owner="app-infra",service="shop",target="cart"} 1`,
		`http5xx_responses_total{class="app",code="500",owner="app-team",service="shop",target="cart"} 0`,
		`owner="checkout-team",service="shop",target="checkout",url=`,
	} {
		if !strings.Contains(exp, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(exp, `code="500",owner="app-team",service="shop",target="checkout"`) {
		t.Error("checkout's 500 is still exported under the default owner")
	}

	// The service names the team now, for both targets; the target's own
	// owners are gone.
	services := "services:\n  - name: shop\n    owners:\n      app: shop-team\n      gateway: shop-infra"
	if err := e.Apply(loadConfig(t, teamsConfig(origin.URL, "", services))); err != nil {
		t.Fatal(err)
	}
	probe()
	exp = exposition(t, reg)
	for _, want := range []string{
		`http5xx_responses_total{class="app",code="500",owner="shop-team",service="shop",target="checkout"} 1`,
		`http5xx_responses_total{class="gateway",code="502",owner="shop-infra",service="shop",target="cart"} 1`,
	} {
		if !strings.Contains(exp, want) {
			t.Errorf("/metrics lacks %s after the reload", want)
		}
	}
	if strings.Contains(exp, `owner="checkout-team",service="shop",target="checkout"}`) {
		t.Error("a series under the old team is still exported after the reload")
	}
}
