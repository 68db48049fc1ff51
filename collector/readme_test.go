package collector

import (
	"os"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// TestREADMEMetricsTable: every metric of the contract has a row in the
// README's metrics table, and the table names nothing else.
func TestREADMEMetricsTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "\n## Metrics\n")
	if !ok {
		t.Fatal("README.md has no Metrics section")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	rows := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		if name, rest, ok := strings.Cut(strings.TrimPrefix(line, "| `"), "` | "); ok && strings.HasPrefix(line, "| `http5xx_") {
			rows[name] = rest
		}
	}
	known := map[string]bool{}
	for _, m := range contract.All() {
		known[m.Name] = true
		row, ok := rows[m.Name]
		if !ok {
			t.Errorf("README metrics table has no row for %s", m.Name)
			continue
		}
		if typ, _, _ := strings.Cut(row, " |"); typ != m.Type {
			t.Errorf("README says %s is a %s, the contract says %s", m.Name, typ, m.Type)
		}
	}
	for name := range rows {
		if !known[name] {
			t.Errorf("README metrics table lists %s, which the exporter does not export", name)
		}
	}
}
