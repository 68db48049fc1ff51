package selector

import (
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

// FuzzParseField: a parsed path has no empty element, prints as it was
// written, and looks up in any document without panicking.
func FuzzParseField(f *testing.F) {
	for _, s := range []string{"pools.web.busy", "workers.0.busy", "a", "", ".", "a..b", "a.", ".a", "é.ü"} {
		f.Add(s)
	}
	doc := map[string]any{"pools": map[string]any{"web": map[string]any{"busy": 3.0}}, "workers": []any{map[string]any{"busy": 1.0}}}
	f.Fuzz(func(t *testing.T, text string) {
		field, err := ParseField(text)
		if err != nil {
			return
		}
		if field.String() != text {
			t.Errorf("ParseField(%q).String() = %q", text, field.String())
		}
		if strings.Contains("."+text+".", "..") {
			t.Errorf("ParseField(%q) accepted an empty element", text)
		}
		_, _ = field.Lookup(doc)
		_, _ = field.Lookup(nil)
	})
}

// FuzzParseMetric: any selector text either fails or gives a selector
// whose name is a metric name and that can match any labels without
// panicking.
func FuzzParseMetric(f *testing.F) {
	for _, s := range []string{
		"busy_workers", `busy_workers{pool="web"}`, `x{a="1", b!="2", c=~"a|b", d!~"z.*"}`, `x{a="\"q\""}`,
		"", "{}", "x{", "x{a}", "x{a=web}", `x{a="1",}`, `x{a=~"("}`, "1x", "x y", `x{a="1" b="2"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			t.Skip() // regexps compile in linear time; long inputs only slow the search
		}
		m, err := ParseMetric(text)
		if err != nil {
			return
		}
		if !model.LegacyValidation.IsValidMetricName(m.Name) {
			t.Errorf("ParseMetric(%q) gave the name %q", text, m.Name)
		}
		m.Matches(model.Metric{"a": "1", "pool": "web"})
		m.Matches(nil)
	})
}
