package saturation

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// promSource reads a Prometheus text exposition, sums the series a selector
// picks and divides the sum by max: 'busy_workers{pool="web"}' with max 32,
// or 'active_connections' summed over every instance label. Samples are the
// exposition's series as Prometheus would ingest them, so the _sum, _count
// and _bucket series of summaries and histograms are selectable too. A
// selector that picks no series is an error, not a zero: a renamed metric
// must not read as an idle server.
type promSource struct {
	sel selector
	max float64
}

func (promSource) accept() string {
	return "text/plain;version=0.0.4;q=0.9,*/*;q=0.1"
}

func (s promSource) ratio(body []byte) (float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("exposition: %w", err)
	}
	// Only the families that can hold the series are expanded.
	name := s.sel.name
	for _, suffix := range []string{"_sum", "_count", "_bucket"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && families[name] == nil {
			name = base
		}
	}
	mf, ok := families[name]
	if !ok {
		return 0, fmt.Errorf("exposition has no metric %q", s.sel.name)
	}
	samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, mf)
	if err != nil {
		return 0, fmt.Errorf("metric %q: %w", s.sel.name, err)
	}
	var sum float64
	var n int
	for _, smp := range samples {
		if string(smp.Metric[model.MetricNameLabel]) == s.sel.name && s.sel.matches(smp.Metric) {
			sum += float64(smp.Value)
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("no series matches %s", s.sel)
	}
	return divide(s.sel.String(), sum, s.max)
}

// selector is a PromQL-style instant vector selector without functions:
// a metric name and optional label matchers (=, !=, =~, !~). Regexps are
// anchored, as in PromQL; a missing label matches as "".
type selector struct {
	name     string
	matchers []matcher
	text     string
}

type matcher struct {
	label string
	op    string
	value string
	re    *regexp.Regexp // for =~ and !~
}

func (s selector) String() string { return s.text }

func (s selector) matches(labels model.Metric) bool {
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

// parseSelector parses `name` or `name{label="v", other=~"a|b"}`. Values are
// double-quoted Go/PromQL strings.
func parseSelector(text string) (selector, error) {
	s := selector{text: strings.TrimSpace(text)}
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
	s.name, in = in[:i], strings.TrimSpace(in[i:])
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
