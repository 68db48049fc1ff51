package selector

import (
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

func TestParseMetric(t *testing.T) {
	for _, tc := range []struct{ in, wantName, wantErr string }{
		{"app_busy_workers", "app_busy_workers", ""},
		{`x{a="1",b=~"c|d",}`, "x", ""},
		{` ns:x { a = "1" , e!="", f!~"g" } `, "ns:x", ""},
		{"", "", "type prometheus needs metric"},
		{`{a="b"}`, "", "want a metric name first"},
		{`x{a="b"`, "", `unexpected "{a=\"b\"" after the metric name`},
		{`x{a>"b"}`, "", "label a: want =, !=, =~ or !~"},
		{`x{a=b}`, "", `label a: want a double-quoted value at "b"`},
		{`x{a='b'}`, "", "label a: want a double-quoted value"},
		{`x{a="b" c="d"}`, "", `want , or } at "c=\"d\""`},
		{`x{a=~"("}`, "", "label a: error parsing regexp"},
		{`x{a:b="c"}`, "", "label a: want =, !=, =~ or !~"},
		{`x{="c"}`, "", "want a label name"},
	} {
		m, err := ParseMetric(tc.in)
		switch {
		case tc.wantErr == "" && (err != nil || m.Name != tc.wantName):
			t.Errorf("ParseMetric(%q) = %q, %v; want name %q", tc.in, m.Name, err, tc.wantName)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseMetric(%q): %v, want an error containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestMetricMatches(t *testing.T) {
	sel, err := ParseMetric(`x{pool=~"we.|jobs", instance!="a", zone="", tier!~"cold"}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		labels model.Metric
		want   bool
	}{
		{model.Metric{"pool": "web", "instance": "b"}, true},
		{model.Metric{"pool": "jobs"}, true},
		{model.Metric{"pool": "webs", "instance": "b"}, false}, // regexps are anchored
		{model.Metric{"pool": "web", "instance": "a"}, false},
		{model.Metric{"pool": "web", "zone": "eu"}, false}, // a missing label is ""
		{model.Metric{"pool": "web", "tier": "cold"}, false},
	} {
		if got := sel.Matches(tc.labels); got != tc.want {
			t.Errorf("%s matches %v = %v, want %v", sel, tc.labels, got, tc.want)
		}
	}
}
