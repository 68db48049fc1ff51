package rulepack_test

import (
	"flag"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/rules/rulepack"
)

// The exporter's golden /metrics output, written by its end-to-end test.
var golden = flag.String("golden", "../../collector/testdata/metrics.golden", "exporter /metrics output to check the rules against")

// Series Prometheus makes itself rather than scraping them from the exporter.
var synthesized = map[string]bool{"up": true}

// Labels a series may or may not carry: location is omitted when the
// exporter runs without --location, job and instance come from the scrape.
var optionalLabels = map[string]bool{"location": true, "job": true, "instance": true}

// exported reads the golden file into the set of sample names it holds
// (histograms as _bucket, _sum and _count, and under their own name as
// native histograms) and the label names of each.
func exported(t *testing.T) map[string]map[string]bool {
	t.Helper()
	f, err := os.Open(*golden)
	if err != nil {
		t.Fatalf("the rules are checked against the exporter's golden /metrics output: %v", err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s: %v", *golden, err)
	}
	out := map[string]map[string]bool{}
	add := func(name string, m map[string]bool) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for l := range m {
			out[name][l] = true
		}
	}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			ls := map[string]bool{}
			for _, lp := range m.GetLabel() {
				ls[lp.GetName()] = true
			}
			switch mf.GetType().String() {
			case "HISTOGRAM", "GAUGE_HISTOGRAM":
				// Its own name is the native histogram, which Prometheus
				// stores under it when it scrapes native histograms: the
				// text golden file cannot show native buckets, and the
				// collector's TestEveryHistogramIsNative checks that every
				// histogram has them.
				add(name, ls)
				add(name+"_bucket", union(ls, "le"))
				add(name+"_sum", ls)
				add(name+"_count", ls)
			case "SUMMARY":
				add(name, union(ls, "quantile"))
				add(name+"_sum", ls)
				add(name+"_count", ls)
			default:
				add(name, ls)
			}
		}
	}
	return out
}

func union(m map[string]bool, extra string) map[string]bool {
	out := map[string]bool{extra: true}
	for k := range m {
		out[k] = true
	}
	return out
}

// TestRulesReadExportedMetrics checks that every metric a rule reads is in
// the exporter's output or recorded by the pack, and that every label the
// rules match on or aggregate by exists on the metrics they read: a renamed
// metric or label would otherwise silence alerts without any error.
func TestRulesReadExportedMetrics(t *testing.T) {
	pack, err := rulepack.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	metrics := exported(t)
	recorded := pack.Recorded()

	for _, g := range pack.Groups {
		for _, r := range g.Rules {
			name := r.Record + r.Alert
			e, err := rulepack.Analyze(r.Expr)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			for _, s := range e.Selectors {
				if s.Metric == "" {
					t.Errorf("%s: selector without a metric name", name)
					continue
				}
				if recorded[s.Metric] || synthesized[s.Metric] {
					continue
				}
				have, ok := metrics[s.Metric]
				if !ok {
					t.Errorf("%s reads %s, which the exporter does not export (%s) and no rule records", name, s.Metric, *golden)
					continue
				}
				for _, l := range s.Labels {
					if !have[l] && !optionalLabels[l] {
						t.Errorf("%s matches %s on label %q, which it does not carry (it has %v)", name, s.Metric, l, keys(have))
					}
				}
			}
			for _, a := range e.Aggregations {
				for _, l := range a.By {
					if optionalLabels[l] || onSome(metrics, recorded, a.Reads, l) {
						continue
					}
					t.Errorf("%s aggregates by %q, which none of %v carries", name, l, a.Reads)
				}
			}
		}
	}
}

// onSome reports whether any selector reads a series with label l. Series
// the checks cannot see count as having it: recorded or synthesized ones
// (promtool's tests cover what the pack records), missing ones (reported
// already), and an aggregation over nested aggregations only.
func onSome(metrics map[string]map[string]bool, recorded map[string]bool, reads []rulepack.Selector, l string) bool {
	if len(reads) == 0 {
		return true
	}
	for _, s := range reads {
		have, exported := metrics[s.Metric]
		if recorded[s.Metric] || synthesized[s.Metric] || !exported || have[l] {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestAnalyze(t *testing.T) {
	for _, tc := range []struct {
		expr      string
		selectors []rulepack.Selector
		by        [][]string
	}{
		{
			expr:      `up{job="http5xx"} == 0`,
			selectors: []rulepack.Selector{{Metric: "up", Labels: []string{"job"}}},
		},
		{
			expr: `sum by (target, class) (rate(a_total{class!~"[1-4]xx"}[5m]) or rate(b_total[5m])) / on (target) group_left sum by (target) (rate(c_total[5m]))`,
			selectors: []rulepack.Selector{
				{Metric: "a_total", Labels: []string{"class"}},
				{Metric: "b_total"},
				{Metric: "c_total"},
			},
			by: [][]string{{"target", "class"}, {"target"}},
		},
		{
			// A nested aggregation hides its input from the outer one.
			expr:      `quantile by (target) (0.5, sum by (target, location) (x))`,
			selectors: []rulepack.Selector{{Metric: "x"}},
			by:        [][]string{{"target"}, {"target", "location"}},
		},
		{
			expr:      `{__name__="y", le="1"}`,
			selectors: []rulepack.Selector{{Metric: "y", Labels: []string{"le"}}},
		},
		{
			expr:      `sum without (instance) (z)`,
			selectors: []rulepack.Selector{{Metric: "z"}},
		},
	} {
		e, err := rulepack.Analyze(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if !slices.EqualFunc(e.Selectors, tc.selectors, func(a, b rulepack.Selector) bool {
			return a.Metric == b.Metric && slices.Equal(a.Labels, b.Labels)
		}) {
			t.Errorf("%s: selectors %v, want %v", tc.expr, e.Selectors, tc.selectors)
		}
		var by [][]string
		for _, a := range e.Aggregations {
			by = append(by, a.By)
		}
		if !slices.EqualFunc(by, tc.by, slices.Equal) {
			t.Errorf("%s: aggregations by %v, want %v", tc.expr, by, tc.by)
		}
	}
	if _, err := rulepack.Analyze(`sum(`); err == nil {
		t.Error("a broken expression parsed")
	}
	// The nested aggregation reads x, the outer one reads nothing directly.
	e, _ := rulepack.Analyze(`quantile by (target) (0.5, sum by (target, location) (x))`)
	if len(e.Aggregations[0].Reads) != 0 || len(e.Aggregations[1].Reads) != 1 {
		t.Errorf("nested aggregation reads: %+v", e.Aggregations)
	}
}
