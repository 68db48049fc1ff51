package dashboards

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/promqltest"
)

// TestExporterPanelsKeepLocationsApart runs every query of the exporter
// dashboard over two exporters that share an instance name, as they do when
// every location scrapes its exporter under the same address
// (localhost:10505, or one Service name per cluster): only location tells
// them apart. Each query must answer per exporter; one that aggregates
// location away merges them, and then the exporter whose reload failed in
// ams shows fra's fresh reload time, and one line stands for two exporters.
func TestExporterPanelsKeepLocationsApart(t *testing.T) {
	const minutes = 60
	var load strings.Builder
	load.WriteString("load 1m\n")
	locations := []string{"ams", "fra"}
	for _, loc := range locations {
		lbl := func(s string) string {
			out := fmt.Sprintf(`job="http5xx", instance="localhost:10505", location=%q`, loc)
			if s != "" {
				out += ", " + s
			}
			return "{" + out + "}"
		}
		series := func(name, labels, values string) {
			fmt.Fprintf(&load, "  %s%s %s\n", name, lbl(labels), values)
		}
		ok, ts := "1", "3000"
		if loc == "ams" {
			ok, ts = "0", "0" // ams' reloads have failed since its start
		}
		series("http5xx_exporter_build_info", `version="1.0.0", revision="abc", branch="main", goversion="go1.26.8"`, fmt.Sprintf("1x%d", minutes))
		series("http5xx_config_last_reload_successful", "", fmt.Sprintf("%sx%d", ok, minutes))
		series("http5xx_config_last_reload_success_timestamp_seconds", "", fmt.Sprintf("0x49 %sx%d", ts, minutes-50))
		series("http5xx_probes_total", `target="shop", service="shop"`, fmt.Sprintf("0+4x%d", minutes))
		series("http5xx_skipped_probes_total", `target="shop", service="shop", reason="overlap"`, fmt.Sprintf("0+1x%d", minutes))
		series("http5xx_inflight_probes", "", fmt.Sprintf("2x%d", minutes))
		for _, le := range []string{"0.1", "1", "+Inf"} {
			series("http5xx_schedule_lag_seconds_bucket", fmt.Sprintf("le=%q", le), fmt.Sprintf("0+4x%d", minutes))
		}
		series("http5xx_schedule_lag_seconds_sum", "", fmt.Sprintf("0+0.1x%d", minutes))
		series("http5xx_schedule_lag_seconds_count", "", fmt.Sprintf("0+4x%d", minutes))
	}
	storage := promqltest.LoadedStorage(t, load.String())
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	values := map[string]string{"job": ".*", "instance": ".*"}

	d := loadBoards(t)["http5xx-exporter.json"]
	checked := 0
	for _, p := range d.leaves() {
		for _, q := range p.Targets {
			where := fmt.Sprintf("panel %q query %s", p.Title, q.RefID)
			expr, err := substitute(q.Expr, values)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			query, err := engine.NewInstantQuery(t.Context(), storage, nil, expr, time.Unix(minutes*60, 0))
			if err != nil {
				t.Fatalf("%s: %v\n%s", where, err, expr)
			}
			res := query.Exec(t.Context())
			if res.Err != nil {
				t.Errorf("%s: %v\n%s", where, res.Err, expr)
				continue
			}
			v, err := res.Vector()
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			checked++
			var seen []string
			for _, s := range v {
				seen = append(seen, s.Metric.Get("location"))
			}
			slices.Sort(seen)
			if !slices.Equal(seen, locations) {
				t.Errorf("%s answers for locations %q, want one series per exporter %q: it merges exporters of different locations\n%s", where, seen, locations, expr)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no query of the exporter dashboard ran")
	}
}
