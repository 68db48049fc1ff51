package dashboards

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Values substituted for Grafana's built-in variables. They are odd on purpose
// so that the window check below can tell $__rate_interval from a window
// someone typed by hand.
var builtins = map[string]string{
	"__rate_interval": "4m7s",
	"__interval":      "1m3s",
	"__interval_ms":   "63000",
	"__range":         "3h11s",
	"__range_s":       "10811",
	"__range_ms":      "10811000",
}

var rateInterval, rangeInterval = mustDuration(builtins["__rate_interval"]), mustDuration(builtins["__range"])

// varRef matches $var, ${var}, ${var:format} and the deprecated [[var]].
var varRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]`)

// sentinels are the values the PromQL tests give each dashboard variable: a
// regex alternation for multi-value variables (what Grafana sends), one value
// otherwise. The check of label filters recognises them.
func sentinels(vars []variable) map[string]string {
	out := map[string]string{}
	for _, v := range vars {
		value := "__" + v.Name + "_a"
		if v.Multi || v.IncludeAll {
			value += "|__" + v.Name + "_b"
		}
		out[v.Name] = value
	}
	return out
}

// substitute replaces every variable reference the way Grafana would before
// the query reaches Prometheus; an unknown variable is an error.
func substitute(expr string, values map[string]string) (string, error) {
	var unknown []string
	out := varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if v, ok := builtins[name]; ok {
			return v
		}
		if v, ok := values[name]; ok {
			return v
		}
		unknown = append(unknown, ref)
		return ref
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown variables %v (only earlier variables and Grafana's built-ins may be used)", unknown)
	}
	return out, nil
}

// promParser is a stock Prometheus parser: no experimental functions, since
// a stock Prometheus server rejects them.
var promParser = parser.NewParser(parser.Options{})

// parsed is one dashboard expression as Prometheus sees it.
type parsed struct {
	expression
	board board
	ast   parser.Expr
}

// parseAll parses every expression of every dashboard after substituting the
// sentinels; failures are TestPromQLParses' to report, the other tests check
// what parsed.
func parseAll(t *testing.T) ([]parsed, []error) {
	t.Helper()
	var out []parsed
	var errs []error
	for file, d := range loadBoards(t) {
		for _, e := range d.expressions(t) {
			src, err := substitute(e.expr, sentinels(e.vars))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", file, e.where, err))
				continue
			}
			ast, err := promParser.ParseExpr(src)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w\n%s", file, e.where, err, src))
				continue
			}
			out = append(out, parsed{expression: e, board: d, ast: ast})
		}
	}
	return out, errs
}

func TestPromQLParses(t *testing.T) {
	ok, errs := parseAll(t)
	for _, err := range errs {
		t.Error(err)
	}
	if len(ok) == 0 {
		t.Fatal("no PromQL expressions found")
	}
}

// parsedOnly is parseAll for the tests that check what parsed.
func parsedOnly(t *testing.T) []parsed {
	t.Helper()
	ok, _ := parseAll(t)
	return ok
}

// TestRangeWindows: every range is $__rate_interval, so a panel neither
// misses samples at a short scrape interval nor smears a spike at a long
// one. An instant table may count over the whole dashboard range ($__range).
func TestRangeWindows(t *testing.T) {
	for _, p := range parsedOnly(t) {
		parser.Inspect(p.ast, func(node parser.Node, _ []parser.Node) error {
			switch n := node.(type) {
			case *parser.MatrixSelector:
				r := n.Range
				if r == rateInterval || (r == rangeInterval && p.instant) {
					return nil
				}
				t.Errorf("%s %s: range [%s] in %s; use [$__rate_interval] (or [$__range] in an instant query)", p.board.UID, p.where, r, n)
			case *parser.SubqueryExpr:
				t.Errorf("%s %s: subquery %s; dashboards use plain range selectors", p.board.UID, p.where, n)
			}
			return nil
		})
	}
}

// TestSelectorsHonourVariables: every selector of an exporter metric filters
// on each variable whose label the metric carries, with that variable, so no
// panel silently ignores the location or target someone picked.
func TestSelectorsHonourVariables(t *testing.T) {
	cat := loadCatalog(t)
	for _, p := range parsedOnly(t) {
		values := sentinels(p.vars)
		parser.Inspect(p.ast, func(node parser.Node, _ []parser.Node) error {
			vs, ok := node.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			family, ok := cat.family(vs.Name)
			if !ok {
				return nil // a recording rule or ALERTS: TestMetricsExist covers it
			}
			for _, label := range cat.filterLabels(family, p.vars) {
				if !hasVariableMatcher(vs.LabelMatchers, label, values[label]) {
					t.Errorf("%s %s: %s does not filter %s=~\"$%s\"", p.board.UID, p.where, vs, label, label)
				}
			}
			return nil
		})
	}
}

func hasVariableMatcher(ms []*labels.Matcher, label, value string) bool {
	for _, m := range ms {
		if m.Name != label || m.Value != value {
			continue
		}
		if m.Type == labels.MatchRegexp || (m.Type == labels.MatchEqual && !strings.Contains(value, "|")) {
			return true
		}
	}
	return false
}

// TestMetricsExist: every metric a dashboard names is exported by the
// exporter (the golden /metrics) or recorded by a rule in rules/.
func TestMetricsExist(t *testing.T) {
	cat := loadCatalog(t)
	used := map[string][]string{}
	for _, p := range parsedOnly(t) {
		parser.Inspect(p.ast, func(node parser.Node, _ []parser.Node) error {
			vs, ok := node.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			where := p.board.UID + " " + p.where
			if vs.Name == "" {
				t.Errorf("%s: %s has no metric name", where, vs)
				return nil
			}
			used[vs.Name] = append(used[vs.Name], where)
			if vs.Name == "ALERTS" {
				checkAlertSelector(t, cat, where, vs)
				return nil
			}
			if _, ok := cat.family(vs.Name); ok {
				return nil
			}
			if cat.recorded[vs.Name] {
				return nil
			}
			t.Errorf("%s: metric %s is neither in %s nor recorded by a rule in %s", where, vs.Name, *goldenPath, rulesGlob)
			return nil
		})
	}
	if testing.Verbose() {
		var names []string
		for n := range used {
			names = append(names, n)
		}
		slices.Sort(names)
		t.Logf("metrics the dashboards depend on:\n%s", strings.Join(names, "\n"))
	}
}

// checkAlertSelector: ALERTS is written by Prometheus for the alerting rules,
// so the alertname filter must match at least one alert of the rule pack.
func checkAlertSelector(t *testing.T, cat catalog, where string, vs *parser.VectorSelector) {
	t.Helper()
	for _, m := range vs.LabelMatchers {
		if m.Name != "alertname" {
			continue
		}
		if !slices.ContainsFunc(cat.alerts, m.Matches) {
			t.Errorf("%s: %s matches none of the alerts in %s (%v)", where, m, rulesGlob, cat.alerts)
		}
		return
	}
	t.Errorf("%s: %s selects every alert, not those of the rule pack", where, vs)
}

func mustDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}
