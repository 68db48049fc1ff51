package collector

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestTargetLabelsScraped: a running exporter serves each target's labels
// on http5xx_target_info over a real /metrics, follows a reload that
// changes them without resetting the target's counters, and keeps targets
// of a target file apart from those of the main file.
func TestTargetLabelsScraped(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer origin.Close()
	reg := prometheus.NewPedanticRegistry()
	cfg := func(shopLabels string) string {
		return "global:\n  interval: 1h\n  timeout: 50m\ntargets:\n" +
			"  - name: shop\n    url: " + origin.URL + "/shop\n" + shopLabels +
			"  - name: api\n    url: " + origin.URL + "/api\n"
	}
	e, err := New(Options{Registerer: reg}, loadConfig(t, cfg("    labels: {team: payments}\n")))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	if _, err := e.ProbeNow(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	scrape := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("scrape: %d %v\n%s", resp.StatusCode, err, b)
		}
		return string(b)
	}
	steps := []struct {
		name      string
		config    string
		want, not []string
	}{
		{"start", "", []string{
			`http5xx_target_info{owner="",service="shop",target="shop",team="payments",url="` + origin.URL + `/shop"} 1`,
			`http5xx_target_info{owner="",service="api",target="api",url="` + origin.URL + `/api"} 1`,
			`http5xx_probes_total{service="shop",target="shop"} 1`,
		}, nil},
		{"labels changed", cfg("    labels: {team: checkout, tier: gold}\n"), []string{
			`http5xx_target_info{owner="",service="shop",target="shop",team="checkout",tier="gold",url="` + origin.URL + `/shop"} 1`,
			`http5xx_probes_total{service="shop",target="shop"} 1`,
		}, []string{`team="payments"`}},
		{"labels removed", cfg(""), []string{
			`http5xx_target_info{owner="",service="shop",target="shop",url="` + origin.URL + `/shop"} 1`,
		}, []string{`team=`, `tier=`}},
	}
	for _, st := range steps {
		if st.config != "" {
			if err := e.Apply(loadConfig(t, st.config)); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		body := scrape()
		for _, w := range st.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: /metrics lacks %s", st.name, w)
			}
		}
		for _, n := range st.not {
			if strings.Contains(body, n) {
				t.Errorf("%s: /metrics still has %s", st.name, n)
			}
		}
	}
}
