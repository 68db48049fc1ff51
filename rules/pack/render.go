package pack

import (
	"bytes"
	"strings"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// File is one generated rule file.
type File struct {
	Name    string // relative to rules/
	Comment string // the file's head comment
	Groups  []Group
}

// Group is one rule group.
type Group struct {
	Name     string
	Comment  string         // written above the group
	Interval model.Duration // 0: Prometheus' global evaluation_interval
	Rules    []Rule
}

// Rule is one recording rule (Record set) or alerting rule (Alert set).
type Rule struct {
	Comment       string // written above the rule
	Record        string
	Alert         string
	Expr          string
	For           model.Duration
	KeepFiringFor model.Duration
	Labels        []KV
	Annotations   []KV
}

// KV is one label or annotation, in the order it is written.
type KV struct{ Key, Value string }

// YAML renders the file as Prometheus loads it, comments included.
func (f File) YAML() ([]byte, error) {
	groups := &yaml.Node{Kind: yaml.SequenceNode}
	for _, g := range f.Groups {
		groups.Content = append(groups.Content, g.node())
	}
	root := mapping(kv("groups", groups))
	root.HeadComment = f.Comment
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (g Group) node() *yaml.Node {
	fields := []pair{kv("name", str(g.Name))}
	if g.Interval > 0 {
		fields = append(fields, kv("interval", str(g.Interval.String())))
	}
	rules := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range g.Rules {
		rules.Content = append(rules.Content, r.node())
	}
	fields = append(fields, kv("rules", rules))
	n := mapping(fields...)
	n.HeadComment = g.Comment
	return n
}

func (r Rule) node() *yaml.Node {
	var fields []pair
	if r.Record != "" {
		fields = append(fields, kv("record", str(r.Record)))
	} else {
		fields = append(fields, kv("alert", str(r.Alert)))
	}
	expr := str(r.Expr)
	if strings.Contains(r.Expr, "\n") {
		expr.Value = strings.TrimRight(r.Expr, "\n") + "\n"
		expr.Style = yaml.LiteralStyle
	}
	fields = append(fields, kv("expr", expr))
	if r.For > 0 {
		fields = append(fields, kv("for", str(r.For.String())))
	}
	if r.KeepFiringFor > 0 {
		fields = append(fields, kv("keep_firing_for", str(r.KeepFiringFor.String())))
	}
	if len(r.Labels) > 0 {
		fields = append(fields, kv("labels", kvs(r.Labels)))
	}
	if len(r.Annotations) > 0 {
		fields = append(fields, kv("annotations", kvs(r.Annotations)))
	}
	n := mapping(fields...)
	n.HeadComment = r.Comment
	return n
}

// kvs renders labels or annotations in their order.
func kvs(list []KV) *yaml.Node {
	var fields []pair
	for _, e := range list {
		fields = append(fields, kv(e.Key, str(e.Value)))
	}
	return mapping(fields...)
}

type pair struct {
	key   string
	value *yaml.Node
}

func kv(k string, v *yaml.Node) pair { return pair{k, v} }

func str(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

func mapping(fields ...pair) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range fields {
		m.Content = append(m.Content, str(f.key), f.value)
	}
	return m
}
