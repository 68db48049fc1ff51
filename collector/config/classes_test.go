package config

import (
	"reflect"
	"slices"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

func TestDefaultClasses(t *testing.T) {
	type row struct {
		codes   string
		reasons []string
		owner   string
	}
	want := map[string]row{
		"app":      {"500,501,505-599", []string{"too_large", "redirect_loop", "redirect_refused", "soft_error"}, "app-team"},
		"gateway":  {"502,520,521,527", []string{"connect_refused", "reset", "malformed"}, "app-infra"},
		"capacity": {"503", nil, "sre-oncall"},
		"timeout":  {"504,522,524", []string{"timeout", "connect_timeout"}, "db-api-owners"},
		"network":  {"523,525,526", []string{"dns", "tls"}, "network"},
	}
	classes := DefaultClasses()
	if len(classes) != len(want) {
		t.Fatalf("got %d classes, want %d", len(classes), len(want))
	}
	var reasons []string
	for _, c := range classes {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("unexpected class %q", c.Name)
			continue
		}
		if got := (row{c.Codes.String(), c.Reasons, c.Owner}); !reflect.DeepEqual(got, w) {
			t.Errorf("class %s = %+v, want %+v", c.Name, got, w)
		}
		if c.FirstMove == "" {
			t.Errorf("class %s has no first_move", c.Name)
		}
		reasons = append(reasons, c.Reasons...)
	}
	// Every no-answer reason has exactly one class.
	slices.Sort(reasons)
	all := slices.Sorted(slices.Values(contract.ReasonNames()))
	if !slices.Equal(reasons, all) {
		t.Errorf("default classes cover reasons %v, want each of %v once", reasons, all)
	}

	// The table passes the same validation as a user's.
	l := &loader{}
	report{l: l, src: &source{file: "defaults", lines: map[string]int{}}}.validateClasses(classes)
	for _, e := range l.errs {
		t.Errorf("default table: %v", e)
	}

	classes[0].Codes[0] = StatusRange{599, 599}
	if DefaultClasses()[0].Codes[0] != (StatusRange{500, 500}) {
		t.Error("DefaultClasses shares state between calls")
	}
}
