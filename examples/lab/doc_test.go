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
	b.WriteString("| scenario | request | code | Retry-After | class | layer | product | evidence | cause in the answer | the exporter says |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
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
		fmt.Fprintf(&b, "| [%s](#%s) | %s %s %s | %d | %s | %s | %s | %s | %s | %s | %s |\n",
			sc.Name, sc.Name, sc.Front, method, sc.Path, sc.Code, ra,
			sc.Truth.Class, sc.Truth.Layer, sc.Truth.Product, sc.Truth.Evidence, shown, saysText(sc))
	}
	for _, sc := range scenarios {
		fmt.Fprintf(&b, "\n### %s\n\n%s\n\n", sc.Name, sc.Truth.Why)
		if sc.Verdict.Why != "" {
			fmt.Fprintf(&b, "- The exporter: %s\n", sc.Verdict.Why)
		}
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

// saysText is the exporter's verdict on a scenario, marked where it is not
// the truth.
func saysText(sc scenario) string {
	w := sc.expected()
	s := fmt.Sprintf("%s (%s), %s/%s", w.Class, defaultOwner(w.Class), w.Layer, w.Product)
	switch {
	case w.Layer == "unknown":
		return s + " — writer unknown"
	case w.Class != sc.Truth.Class:
		return s + " — one page, two causes"
	}
	return s + " ✓"
}

// readmeTable is the README's summary of the lab: per product and failure,
// what the exporter says.
func readmeTable() []byte {
	var b bytes.Buffer
	b.WriteString("| front | failure | code | the exporter says: class (owner), hop | |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, sc := range scenarios {
		w := sc.expected()
		mark := "✓ right"
		switch {
		case w.Layer == "unknown":
			mark = "writer unknown, class right"
		case w.Class != sc.Truth.Class:
			mark = "one page for two causes: the truth is " + sc.Truth.Class
		}
		failure := strings.TrimPrefix(sc.Name, sc.Front+"-")
		if i := strings.IndexByte(failure, '-'); i == 3 {
			failure = failure[i+1:] // the code
		}
		fmt.Fprintf(&b, "| %s | [%s](examples/lab/scenarios.md#%s) | %d | %s (%s), %s/%s | %s |\n",
			sc.Front, failure, sc.Name, sc.Code, w.Class, defaultOwner(w.Class), w.Layer, w.Product, mark)
	}
	return b.Bytes()
}

// TestReadmeLabTable keeps the README's lab table in step with the table;
// -update rewrites it.
func TestReadmeLabTable(t *testing.T) {
	syncGenerated(t, "../../README.md", "<!-- BEGIN lab: generated from examples/lab/scenarios_test.go by go test ./examples/lab -update -->\n", "<!-- END lab -->\n", readmeTable())
}

// syncGenerated checks that file holds want between the lines begin and
// end, and with -update writes it there.
func syncGenerated(t *testing.T, file, begin, end string, want []byte) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := bytes.Cut(raw, []byte(begin))
	if !ok {
		t.Fatalf("%s: no line %q", file, strings.TrimSpace(begin))
	}
	body, tail, ok := bytes.Cut(rest, []byte(end))
	if !ok {
		t.Fatalf("%s: no line %q", file, strings.TrimSpace(end))
	}
	if bytes.Equal(body, want) {
		return
	}
	if !*update {
		t.Fatalf("%s is not generated from the table: go test ./examples/lab -update", file)
	}
	out := bytes.Join([][]byte{head, []byte(begin), want, []byte(end), tail}, nil)
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestScenariosDoc keeps the generated part of scenarios.md in step with
// the table; -update rewrites it.
func TestScenariosDoc(t *testing.T) {
	syncGenerated(t, docFile, docBegin, docEnd, renderTable())
}
