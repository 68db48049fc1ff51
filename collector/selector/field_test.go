package selector

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseField(t *testing.T) {
	for _, tc := range []struct{ in, wantErr string }{
		{"version", ""},
		{"pools.web.busy", ""},
		{"workers.0.busy", ""},
		{"", "empty path"},
		{"a..b", "empty path element"},
		{"a.", "empty path element"},
		{".a", "empty path element"},
	} {
		f, err := ParseField(tc.in)
		switch {
		case tc.wantErr == "" && (err != nil || f.String() != tc.in):
			t.Errorf("ParseField(%q) = %q, %v", tc.in, f, err)
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("ParseField(%q): %v, want %q", tc.in, err, tc.wantErr)
		}
	}
}

// One walk serves the saturation json source and version_field.
func TestFieldLookup(t *testing.T) {
	const status = `{"pools":{"web":{"busy":48},"jobs":{"busy":"3"}},"workers":[{"queue":1},{"queue":7}],
		"version":"1.2.3","draining":false,"build":{"version":"abc","number":1234567890123},"nothing":null}`
	for _, tc := range []struct {
		doc, field string
		want       any
		wantErr    string
	}{
		{status, "pools.web.busy", json.Number("48"), ""},
		{status, "pools.jobs.busy", "3", ""},
		{status, "workers.1.queue", json.Number("7"), ""},
		{status, "build.version", "abc", ""},
		{status, "build.number", json.Number("1234567890123"), ""},
		{status, "draining", false, ""},
		{status, "nothing", nil, ""},
		{status, "pools", map[string]any{}, ""}, // objects come back as they are
		{`[{"v":"x"},{"v":"y"}]`, "1.v", "y", ""},

		{status, "pools.api.busy", nil, `no "pools.api"`},
		{status, "missing", nil, `no "missing"`},
		{status, "workers.2.queue", nil, `"workers" is an array of 2, "2" is no index in it`},
		{status, "workers.-1.queue", nil, `"-1" is no index`},
		{status, "workers.first", nil, `"first" is no index`},
		{status, "version.major", nil, `"version" is not an object or array`},
		{status, "build.version.x", nil, `"build.version" is not an object or array`},
		{`"just a string"`, "a", nil, "the document is not an object or array"},
		{`[1]`, "3", nil, "the document is an array of 1"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			f, err := ParseField(tc.field)
			if err != nil {
				t.Fatal(err)
			}
			d := json.NewDecoder(strings.NewReader(tc.doc))
			d.UseNumber()
			var doc any
			if err := d.Decode(&doc); err != nil {
				t.Fatal(err)
			}
			got, err := f.Lookup(doc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Lookup = %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m, ok := tc.want.(map[string]any); ok {
				if _, isMap := got.(map[string]any); !isMap || len(m) != 0 {
					t.Errorf("Lookup = %#v, want an object", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("Lookup = %#v, want %#v", got, tc.want)
			}
		})
	}
	if _, err := (Field{}).Lookup(map[string]any{}); err == nil {
		t.Error("the zero Field looked something up")
	}
}
