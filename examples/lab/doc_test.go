package lab

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// scenarios.md is written by hand around a part generated from the table.
const (
	docFile  = "scenarios.md"
	docBegin = "<!-- BEGIN scenarios: generated from scenarios_test.go by go test ./examples/lab -update -->\n"
	docEnd   = "<!-- END scenarios -->\n"
)

// renderTable writes the generated part of scenarios.md: a table a
// responder scans, then each scenario's reasoning.
func renderTable() []byte {
	var b bytes.Buffer
	b.WriteString("| scenario | request | code | Retry-After | class | layer | product | evidence | cause in the answer |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, sc := range scenarios {
		method := sc.Method
		if method == "" {
			method = "GET"
		}
		ra := sc.RetryAfter
		if ra == "" {
			ra = "—"
		}
		shown := "yes"
		if !sc.Truth.CauseShown {
			shown = "**no, log only**"
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s %s %s | %d | %s | %s | %s | %s | %s | %s |\n",
			sc.Name, sc.Name, sc.Front, method, sc.Path, sc.Code, ra,
			sc.Truth.Class, sc.Truth.Layer, sc.Truth.Product, sc.Truth.Evidence, shown)
	}
	for _, sc := range scenarios {
		fmt.Fprintf(&b, "\n### %s\n\n%s\n\n", sc.Name, sc.Truth.Why)
		var setup []string
		if sc.WaitFor.Pattern != "" {
			setup = append(setup, fmt.Sprintf("waits until the %s log has `%s`", sc.WaitFor.Source, sc.WaitFor.Pattern))
		}
		if sc.Before != "" {
			setup = append(setup, fmt.Sprintf("first requests `%s`", sc.Before))
		}
		if sc.Occupy != "" {
			setup = append(setup, fmt.Sprintf("holds `%s` in the background", sc.Occupy))
		}
		if len(setup) > 0 {
			fmt.Fprintf(&b, "- Setup: the lab %s.\n", strings.Join(setup, ", then "))
		}
		fmt.Fprintf(&b, "- Log (%s): `%s`\n", sc.Truth.Log.Source, sc.Truth.Log.Pattern)
		fmt.Fprintf(&b, "- Fixture: [%s.http](../../collector/fingerprint/testdata/lab/%s.http)\n", sc.Name, sc.Name)
	}
	return b.Bytes()
}

// TestScenariosDoc keeps the generated part of scenarios.md in step with
// the table; -update rewrites it.
func TestScenariosDoc(t *testing.T) {
	raw, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := bytes.Cut(raw, []byte(docBegin))
	if !ok {
		t.Fatalf("%s: no line %q", docFile, strings.TrimSpace(docBegin))
	}
	body, tail, ok := bytes.Cut(rest, []byte(docEnd))
	if !ok {
		t.Fatalf("%s: no line %q", docFile, strings.TrimSpace(docEnd))
	}
	want := renderTable()
	if bytes.Equal(body, want) {
		return
	}
	if !*update {
		t.Fatalf("%s is not generated from the table: go test ./examples/lab -update", docFile)
	}
	out := bytes.Join([][]byte{head, []byte(docBegin), want, []byte(docEnd), tail}, nil)
	if err := os.WriteFile(docFile, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
