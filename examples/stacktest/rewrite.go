package stacktest

// The mechanical rewrites the end-to-end tests apply to their temporary
// copies of the example configurations, the rule pack and the Alertmanager
// configuration (examples/multi-location/README.md). Nothing else in those
// files changes.

import (
	"bytes"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// durationKeys are the YAML keys whose value is a duration that tunes how
// fast the stack reacts, in any of the files the test copies: rule files
// (for, keep_firing_for, a group's interval), Prometheus (scrape and
// evaluation intervals, how long remote write waits to fill a batch), the
// exporter (probe interval and timeout, also of a saturation source) and
// Alertmanager (its grouping timers).
var durationKeys = map[string]bool{
	"for":                 true,
	"keep_firing_for":     true,
	"interval":            true,
	"timeout":             true,
	"scrape_interval":     true,
	"scrape_timeout":      true,
	"evaluation_interval": true,
	"group_wait":          true,
	"group_interval":      true,
	"repeat_interval":     true,
	"resolve_timeout":     true,
	"batch_send_deadline": true,
}

// opaqueKeys hold free-form maps whose values are never durations to rewrite,
// even when a label happens to be called "interval".
var opaqueKeys = map[string]bool{
	"labels":          true,
	"annotations":     true,
	"external_labels": true,
	"params":          true,
	"headers":         true,
}

// CompressTime runs a YAML document on a clock factor times faster: every
// value of a key in durationKeys, and every duration inside a PromQL `expr`
// (range selectors [5m], subqueries [30m:1m], offset 30m), is divided by
// factor and rounded up to the millisecond. Numbers that are not written as
// durations (time() - x < 1800) stay as they are, as do names that merely
// contain one (ratio_rate5m). A duration it cannot parse is an error, never
// silently left alone.
func CompressTime(src []byte, factor int) ([]byte, error) {
	if factor < 1 {
		return nil, fmt.Errorf("factor %d: want 1 or more", factor)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	c := compressor{factor: factor, done: map[*yaml.Node]bool{}}
	if err := c.walk(&doc, ""); err != nil {
		return nil, err
	}
	return encodeYAML(&doc)
}

type compressor struct {
	factor int
	done   map[*yaml.Node]bool // scalars already rewritten, reached again through an alias
}

func (c compressor) walk(n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, child := range n.Content {
			if err := c.walk(child, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			p := strings.TrimPrefix(path+"."+key, ".")
			if val.Kind == yaml.AliasNode {
				val = val.Alias
			}
			switch {
			case opaqueKeys[key]:
			case key == "expr" && val.Kind == yaml.ScalarNode:
				if err := c.rewrite(val, p, func(s string) (string, error) { return compressPromQL(s, c.factor) }); err != nil {
					return err
				}
			case durationKeys[key] && val.Kind == yaml.ScalarNode:
				if err := c.rewrite(val, p, func(s string) (string, error) { return CompressDuration(s, c.factor) }); err != nil {
					return err
				}
			default:
				if err := c.walk(n.Content[i+1], p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c compressor) rewrite(n *yaml.Node, path string, f func(string) (string, error)) error {
	if c.done[n] {
		return nil
	}
	v, err := f(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %s: %w", n.Line, path, err)
	}
	n.Value = v
	c.done[n] = true
	return nil
}

// CompressDuration divides a Prometheus duration ("5m", "1h30m") by factor,
// rounded up to the millisecond: for the flags of a component (durations on
// its command line) as CompressTime does for its configuration file.
func CompressDuration(s string, factor int) (string, error) {
	d, err := model.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("duration %q: %w", s, err)
	}
	ms := math.Ceil(float64(time.Duration(d).Milliseconds()) / float64(factor))
	return model.Duration(time.Duration(max(ms, 1)) * time.Millisecond).String(), nil
}

// compressPromQL divides the durations of range selectors, subqueries and
// offsets in a PromQL expression by factor. It skips string literals (where
// "[1-4]xx" is a regexp) and comments.
func compressPromQL(expr string, factor int) (string, error) {
	var out strings.Builder
	for i := 0; i < len(expr); {
		switch ch := expr[i]; {
		case ch == '"' || ch == '\'' || ch == '`':
			j := stringEnd(expr, i)
			if j < 0 {
				return "", fmt.Errorf("unterminated string at offset %d", i)
			}
			out.WriteString(expr[i:j])
			i = j
		case ch == '#':
			j := strings.IndexByte(expr[i:], '\n')
			if j < 0 {
				j = len(expr) - i
			}
			out.WriteString(expr[i : i+j])
			i += j
		case ch == '[':
			j := strings.IndexByte(expr[i:], ']')
			if j < 0 {
				return "", fmt.Errorf("unterminated [ at offset %d", i)
			}
			rng, step, sub := strings.Cut(expr[i+1:i+j], ":")
			r, err := CompressDuration(rng, factor)
			if err != nil {
				return "", fmt.Errorf("range [%s]: %w", expr[i+1:i+j], err)
			}
			out.WriteString("[" + r)
			if sub {
				out.WriteByte(':')
				if strings.TrimSpace(step) != "" {
					s, err := CompressDuration(step, factor)
					if err != nil {
						return "", fmt.Errorf("subquery step [%s]: %w", expr[i+1:i+j], err)
					}
					out.WriteString(s)
				}
			}
			out.WriteByte(']')
			i += j + 1
		case isIdentByte(ch) && !isDigit(ch):
			j := i
			for j < len(expr) && isIdentByte(expr[j]) {
				j++
			}
			out.WriteString(expr[i:j])
			if expr[i:j] == "offset" {
				k := j
				for k < len(expr) && (expr[k] == ' ' || expr[k] == '\t' || expr[k] == '\n') {
					k++
				}
				if k < len(expr) && expr[k] == '-' {
					k++
				}
				if k < len(expr) && isDigit(expr[k]) {
					e := k
					for e < len(expr) && (isDigit(expr[e]) || strings.IndexByte("smhdwy", expr[e]) >= 0) {
						e++
					}
					d, err := CompressDuration(expr[k:e], factor)
					if err != nil {
						return "", fmt.Errorf("offset: %w", err)
					}
					out.WriteString(expr[j:k] + d)
					j = e
				}
			}
			i = j
		default:
			out.WriteByte(ch)
			i++
		}
	}
	return out.String(), nil
}

// stringEnd returns the index just after the string literal starting at i,
// or -1 when it does not end.
func stringEnd(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1
		}
	}
	return -1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentByte(c byte) bool {
	return c == '_' || c == ':' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// PointReceivers sends every notification of an Alertmanager configuration
// to base + "/" + receiver name: the URL of each webhook of each receiver is
// replaced, and nothing else. A receiver with another kind of integration
// (email, Slack, ...) is an error: the test could not see what it sends.
func PointReceivers(src []byte, base string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a YAML mapping")
	}
	receivers := mapValue(doc.Content[0], "receivers")
	if receivers == nil || receivers.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("no receivers")
	}
	for _, r := range receivers.Content {
		name := mapValue(r, "name")
		if name == nil {
			return nil, fmt.Errorf("line %d: receiver without a name", r.Line)
		}
		for i := 0; i+1 < len(r.Content); i += 2 {
			key, val := r.Content[i].Value, r.Content[i+1]
			switch {
			case key == "name":
			case key == "webhook_configs":
				for _, w := range val.Content {
					u := mapValue(w, "url")
					if u == nil {
						return nil, fmt.Errorf("line %d: receiver %q: webhook without url (url_file is not supported)", w.Line, name.Value)
					}
					u.Value = base + "/" + url.PathEscape(name.Value)
					u.Tag, u.Style = "!!str", 0
				}
			case strings.HasSuffix(key, "_configs"):
				return nil, fmt.Errorf("line %d: receiver %q: %s cannot be pointed at the recorder; use webhook_configs", val.Line, name.Value, key)
			}
		}
	}
	return encodeYAML(&doc)
}

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func encodeYAML(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
