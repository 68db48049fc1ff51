package dashboards

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// classValues are class labels the exporter can put on http5xx_responses_total:
// the configured classes, and for a code no class claims its hundred's
// pseudo-class (a custom class table may leave 5xx codes unclaimed: they
// answer with class="5xx" and no owner) or "unknown" outside 100-999.
var classValues = []string{
	"app", "gateway", "capacity", "timeout", "network", "unknown",
	"1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "9xx",
}

// classMatchers returns the class matchers of every http5xx_responses_total
// selector in expr.
func classMatchers(t *testing.T, expr parser.Expr) []*labels.Matcher {
	t.Helper()
	var out []*labels.Matcher
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok || vs.Name != "http5xx_responses_total" {
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == "class" {
				out = append(out, m)
			}
		}
		return nil
	})
	return out
}

// TestErrorClassesMatchTheRulePack: a panel that counts errors counts the
// same answers as the alerts (rules/http5xx-recording.yml). Otherwise an
// on-call engineer paged for an SLO burn of 5xx answers opens a dashboard
// that shows no error at all.
func TestErrorClassesMatchTheRulePack(t *testing.T) {
	path := filepath.Join("..", "rules", "http5xx-recording.yml")
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, promParser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", path, errs)
	}
	var rule *labels.Matcher
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Record != "target_location_class:http5xx_errors:ratio_rate5m" {
				continue
			}
			expr, err := promParser.ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: %v", r.Record, err)
			}
			if ms := classMatchers(t, expr); len(ms) == 1 {
				rule = ms[0]
			}
		}
	}
	if rule == nil {
		t.Fatalf("%s: no class matcher on http5xx_responses_total in target_location_class:http5xx_errors:ratio_rate5m", path)
	}

	checked := 0
	for _, p := range parsedOnly(t) {
		for _, m := range classMatchers(t, p.ast) {
			checked++
			for _, class := range classValues {
				if got, want := m.Matches(class), rule.Matches(class); got != want {
					t.Errorf("%s %s: %s counts class=%q as an error: %v; the rule pack (%s): %v",
						p.board.UID, p.where, m, class, got, rule, want)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no dashboard query selects http5xx_responses_total by class")
	}
}
