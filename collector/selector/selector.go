// Package selector parses the two ways a configuration points at one value
// in a document another server serves: a Prometheus series selector
// (saturation metric) and a dotted JSON path (saturation field,
// version_field). The config loader validates with these parsers and the
// readers read with them, so a value that passes `config check` is one
// they can use.
package selector

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// Metric is a PromQL-style instant vector selector without functions:
// a metric name and optional label matchers (=, !=, =~, !~). Regexps are
// anchored, as in PromQL; a missing label matches as "".
type Metric struct {
	Name     string
	matchers []matcher
	text     string
}

type matcher struct {
	label string
	op    string
	value string
	re    *regexp.Regexp // for =~ and !~
}

func (s Metric) String() string { return s.text }

// Matches reports whether a series with these labels is selected; the
// caller compares the name.
func (s Metric) Matches(labels model.Metric) bool {
	for _, m := range s.matchers {
		v := string(labels[model.LabelName(m.label)])
		var ok bool
		switch m.op {
		case "=":
			ok = v == m.value
		case "!=":
			ok = v != m.value
		case "=~":
			ok = m.re.MatchString(v)
		case "!~":
			ok = !m.re.MatchString(v)
		}
		if !ok {
			return false
		}
	}
	return true
}

// ParseMetric parses `name` or `name{label="v", other=~"a|b"}`. Values are
// double-quoted Go/PromQL strings.
func ParseMetric(text string) (Metric, error) {
	s := Metric{text: strings.TrimSpace(text)}
	in := s.text
	if in == "" {
		return s, errors.New("type prometheus needs metric, a selector like name{label=\"value\"}")
	}
	i := 0
	for i < len(in) && isNameByte(in[i], i == 0) {
		i++
	}
	if i == 0 {
		return s, errors.New("want a metric name first")
	}
	s.Name, in = in[:i], strings.TrimSpace(in[i:])
	if in == "" {
		return s, nil
	}
	if in[0] != '{' || in[len(in)-1] != '}' {
		return s, fmt.Errorf("unexpected %q after the metric name", in)
	}
	in = strings.TrimSpace(in[1 : len(in)-1])
	for in != "" {
		var m matcher
		j := 0
		for j < len(in) && isNameByte(in[j], j == 0) && in[j] != ':' {
			j++
		}
		if j == 0 {
			return s, fmt.Errorf("want a label name at %q", in)
		}
		m.label, in = in[:j], strings.TrimSpace(in[j:])
		for _, op := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(in, op) {
				m.op, in = op, strings.TrimSpace(in[len(op):])
				break
			}
		}
		if m.op == "" {
			return s, fmt.Errorf("label %s: want =, !=, =~ or !~", m.label)
		}
		q, err := strconv.QuotedPrefix(in)
		if err != nil || q[0] != '"' {
			return s, fmt.Errorf("label %s: want a double-quoted value at %q", m.label, in)
		}
		m.value, _ = strconv.Unquote(q)
		in = strings.TrimSpace(in[len(q):])
		if m.op == "=~" || m.op == "!~" {
			if m.re, err = regexp.Compile("^(?:" + m.value + ")$"); err != nil {
				return s, fmt.Errorf("label %s: %w", m.label, err)
			}
		}
		s.matchers = append(s.matchers, m)
		if in != "" {
			if in[0] != ',' {
				return s, fmt.Errorf("want , or } at %q", in)
			}
			in = strings.TrimSpace(in[1:])
		}
	}
	return s, nil
}

func isNameByte(b byte, first bool) bool {
	return b == '_' || b == ':' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || !first && b >= '0' && b <= '9'
}
