package discovery

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	many := `[{"targets": [` + strings.TrimSuffix(strings.Repeat(`"a",`, MaxTargets+1), ",") + `]}]`
	tests := []struct {
		name, data string
		yaml       bool
		groups     int
		err        string // "" when valid
	}{
		{"json", `[{"targets": ["a:1", "b:2"], "labels": {"x": "y"}}, {"targets": []}]`, false, 2, ""},
		{"yaml", "- targets: [a:1]\n  labels: {x: y}\n", true, 1, ""},
		{"empty yaml", "", true, 0, ""},
		{"json object", `{"targets": ["a"]}`, false, 0, "not a JSON list"},
		{"trailing data", `[] []`, false, 0, "data after the list"},
		{"unknown field", `[{"targets": ["a"], "lables": {}}]`, false, 0, `unknown field "lables"`},
		{"unknown yaml field", "- targets: [a]\n  lables: {}\n", true, 0, "field lables not found"},
		{"empty address", `[{"targets": [""]}]`, false, 0, `[0].targets[0]: "" is not an address`},
		{"empty label name", `[{"targets": ["a"], "labels": {"": "x"}}]`, false, 0, `[0].labels: "" is not a label name`},
		{"at the limit", `[{"targets": [` + strings.TrimSuffix(strings.Repeat(`"a",`, MaxTargets), ",") + `]}]`, false, 1, ""},
		{"over the limit", many, false, 0, "more than 200000 targets"},
	}
	for _, tt := range tests {
		parse := parseJSON
		if tt.yaml {
			parse = parseYAML
		}
		gs, err := parse([]byte(tt.data))
		switch {
		case tt.err == "" && (err != nil || len(gs) != tt.groups):
			t.Errorf("%s: %d groups, %v; want %d", tt.name, len(gs), err, tt.groups)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
		}
	}
}
