// Package rulepack loads the http5xx rule pack (the rule files in rules/ and
// their promtool tests) for the checks and generators that promtool does not
// cover: which metrics the expressions read, whether every alert is tested,
// and the Kubernetes PrometheusRule built from the same files.
package rulepack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// RuleFiles returns the pack's rule files, relative to the rules directory,
// in the order Prometheus should load them: recording rules first.
func RuleFiles() []string {
	return []string{"http5xx-recording.yml", "http5xx-alerts.yml"}
}

// Group is one rule group and the file it came from.
type Group struct {
	File string
	rulefmt.RuleGroup
}

// Pack is the loaded rule pack.
type Pack struct {
	Groups []Group
}

// Load parses and validates the pack's rule files in dir, as Prometheus does.
func Load(dir string) (*Pack, error) {
	p := &Pack{}
	for _, name := range RuleFiles() {
		path := filepath.Join(dir, name)
		rgs, errs := rulefmt.ParseFile(path, false, model.UTF8Validation, newParser(), promslog.NewNopLogger())
		if len(errs) > 0 {
			return nil, fmt.Errorf("rule file %s: %w", path, errors.Join(errs...))
		}
		for _, g := range rgs.Groups {
			p.Groups = append(p.Groups, Group{File: name, RuleGroup: g})
		}
	}
	return p, nil
}

// Alerts returns the alerting rules in file order.
func (p *Pack) Alerts() []rulefmt.Rule {
	var out []rulefmt.Rule
	for _, g := range p.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// Recorded returns the set of metric names the recording rules produce.
func (p *Pack) Recorded() map[string]bool {
	out := map[string]bool{}
	for _, g := range p.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				out[r.Record] = true
			}
		}
	}
	return out
}

// GroupNames returns the names of all groups in file order.
func (p *Pack) GroupNames() []string {
	out := make([]string, 0, len(p.Groups))
	for _, g := range p.Groups {
		out = append(out, g.Name)
	}
	return out
}

// Selector is one series selector of an expression: the metric it reads
// and the labels its matchers name (without __name__).
type Selector struct {
	Metric string
	Labels []string
}

// Aggregation is an aggregation that keeps only the labels in By and whose
// argument reads the selectors in Reads (nested aggregations excluded).
type Aggregation struct {
	By    []string
	Reads []Selector
}

// Expr is what the checks need to know about a PromQL expression.
type Expr struct {
	Selectors    []Selector
	Aggregations []Aggregation
}

// Analyze parses a PromQL expression and lists its selectors and its
// "by" aggregations.
func Analyze(expr string) (Expr, error) {
	root, err := newParser().ParseExpr(expr)
	if err != nil {
		return Expr{}, err
	}
	var out Expr
	parser.Inspect(root, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			out.Selectors = append(out.Selectors, selector(n))
		case *parser.AggregateExpr:
			if !n.Without && len(n.Grouping) > 0 {
				out.Aggregations = append(out.Aggregations, Aggregation{By: n.Grouping, Reads: directSelectors(n.Expr)})
			}
		}
		return nil
	})
	return out, nil
}

// directSelectors lists the selectors under n that no nested aggregation
// hides: the series whose labels reach n.
func directSelectors(n parser.Node) []Selector {
	switch n := n.(type) {
	case *parser.AggregateExpr:
		return nil
	case *parser.VectorSelector:
		return []Selector{selector(n)}
	}
	var out []Selector
	for c := range parser.ChildrenIter(n) {
		out = append(out, directSelectors(c)...)
	}
	return out
}

func selector(vs *parser.VectorSelector) Selector {
	s := Selector{Metric: vs.Name}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName {
			if m.Type == labels.MatchEqual {
				s.Metric = m.Value
			}
			continue
		}
		if !slices.Contains(s.Labels, m.Name) {
			s.Labels = append(s.Labels, m.Name)
		}
	}
	return s
}

func newParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// Test is one promtool rule test file.
type Test struct {
	File           string      `yaml:"-"`
	RuleFiles      []string    `yaml:"rule_files"`
	GroupEvalOrder []string    `yaml:"group_eval_order"`
	Groups         []TestGroup `yaml:"tests"`
}

// TestGroup is one named group of input series and expectations.
type TestGroup struct {
	Name       string      `yaml:"name"`
	AlertTests []AlertTest `yaml:"alert_rule_test"`
}

// AlertTest expects the firing alerts of one alert name at one time; none
// for a quiet case.
type AlertTest struct {
	EvalTime  string          `yaml:"eval_time"`
	Alertname string          `yaml:"alertname"`
	ExpAlerts []ExpectedAlert `yaml:"exp_alerts"`
}

// ExpectedAlert is one alert a test expects to fire.
type ExpectedAlert struct {
	Labels      map[string]string `yaml:"exp_labels"`
	Annotations map[string]string `yaml:"exp_annotations"`
}

// LoadTests reads the promtool test files matching pattern. It reads only
// the fields the checks use; promtool itself validates the rest.
func LoadTests(pattern string) ([]Test, error) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no test files match %s", pattern)
	}
	var out []Test
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		t := Test{File: f}
		if err := yaml.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("test file %s: %w", f, err)
		}
		out = append(out, t)
	}
	return out, nil
}
