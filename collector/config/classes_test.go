package config

import (
	"reflect"
	"slices"
	"testing"
)

func TestDefaultClasses(t *testing.T) {
	type row struct {
		codes   string
		reasons []string
		owner   string
	}
	want := map[string]row{
		"app":      {"500,501,505-599", []string{"too_large", "redirect_loop"}, "app-team"},
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
	all := slices.Sorted(slices.Values(Reasons))
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

func TestCodeClass(t *testing.T) {
	defaults := DefaultClasses()
	custom := []Class{
		{Name: "app", Codes: StatusCodes{{500, 599}}, Owner: "app-team"},
		{Name: "capacity", Codes: StatusCodes{{503, 503}, {429, 429}}, Owner: "sre"},
	}
	for _, tc := range []struct {
		classes      []Class
		code         int
		class, owner string
	}{
		{defaults, 500, "app", "app-team"},
		{defaults, 501, "app", "app-team"},
		{defaults, 502, "gateway", "app-infra"},
		{defaults, 503, "capacity", "sre-oncall"},
		{defaults, 504, "timeout", "db-api-owners"},
		{defaults, 505, "app", "app-team"},
		{defaults, 520, "gateway", "app-infra"},
		{defaults, 521, "gateway", "app-infra"},
		{defaults, 522, "timeout", "db-api-owners"},
		{defaults, 523, "network", "network"},
		{defaults, 524, "timeout", "db-api-owners"},
		{defaults, 525, "network", "network"},
		{defaults, 526, "network", "network"},
		{defaults, 527, "gateway", "app-infra"},
		{defaults, 530, "app", "app-team"},
		{defaults, 599, "app", "app-team"},
		{defaults, 200, "2xx", ""},
		{defaults, 301, "3xx", ""},
		{defaults, 404, "4xx", ""},
		{defaults, 429, "4xx", ""}, // 4xx unless a class lists it
		{defaults, 499, "4xx", ""},
		{defaults, 600, "6xx", ""},
		{defaults, 0, "", ""},
		{custom, 429, "capacity", "sre"},
		{custom, 503, "capacity", "sre"}, // the single code beats app's range
		{custom, 502, "app", "app-team"},
		{nil, 502, "5xx", ""},
	} {
		class, owner := CodeClass(tc.classes, tc.code)
		if class != tc.class || owner != tc.owner {
			t.Errorf("CodeClass(%d) = %q, %q; want %q, %q", tc.code, class, owner, tc.class, tc.owner)
		}
	}
}

func TestReasonClass(t *testing.T) {
	for reason, want := range map[string]string{
		"dns": "network", "tls": "network", "connect_refused": "gateway", "reset": "gateway", "malformed": "gateway",
		"timeout": "timeout", "connect_timeout": "timeout", "too_large": "app", "redirect_loop": "app", "nonsense": "",
	} {
		if got, _ := ReasonClass(DefaultClasses(), reason); got != want {
			t.Errorf("ReasonClass(%q) = %q, want %q", reason, got, want)
		}
	}
}
