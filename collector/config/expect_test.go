package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestExpectInheritance: a target without expect takes global's, a written
// list replaces it, and "expect: []" drops it; equals keeps any scalar's
// text.
func TestExpectInheritance(t *testing.T) {
	const file = `
global:
  expect:
    - body_not_contains: Fatal error
targets:
  - name: inherits
    url: http://a.example/
  - name: replaces
    url: http://b.example/
    expect:
      - json: build.number
        equals: 200
      - json: ok
        equals: true
  - name: drops
    url: http://c.example/
    expect: []
`
	path := filepath.Join(t.TempDir(), "http5xx.yml")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	two, yes := "200", "true"
	tests := []struct {
		target string
		want   []Condition
	}{
		{"inherits", []Condition{{BodyNotContains: "Fatal error"}}},
		{"replaces", []Condition{{JSON: "build.number", Equals: &two}, {JSON: "ok", Equals: &yes}}},
		{"drops", []Condition{}},
	}
	for i, tt := range tests {
		got := cfg.Targets[i]
		if got.Name != tt.target {
			t.Fatalf("target %d is %q, want %q", i, got.Name, tt.target)
		}
		if len(got.Expect) != len(tt.want) || len(tt.want) > 0 && !reflect.DeepEqual(got.Expect, tt.want) {
			t.Errorf("%s: expect = %+v, want %+v", tt.target, got.Expect, tt.want)
		}
	}
	// The copy is the target's own.
	cfg.Targets[0].Expect[0].BodyNotContains = "changed"
	if cfg.Global.Expect[0].BodyNotContains != "Fatal error" {
		t.Error("a target's inherited conditions share global's list")
	}
}
