package dashboards

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the checked-in dashboard JSON from the Go definitions")

// The tests read the checked-in JSON, not the Go values: that is what Grafana
// imports. TestCheckedInJSONIsGenerated ties the two together.

type board struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Panels        []panel
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []annotation `json:"list"`
	} `json:"annotations"`
	Links []struct {
		Title       string `json:"title"`
		Type        string `json:"type"`
		URL         string `json:"url"`
		IncludeVars bool   `json:"includeVars"`
		KeepTime    bool   `json:"keepTime"`
	} `json:"links"`
}

type panel struct {
	ID          int                      `json:"id"`
	Type        string                   `json:"type"`
	Title       string                   `json:"title"`
	Description string                   `json:"description"`
	Datasource  *dsRef                   `json:"datasource"`
	Targets     []jsonQuery              `json:"targets"`
	Panels      []panel                  `json:"panels"` // a collapsed row's panels
	GridPos     struct{ X, Y, W, H int } `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

type jsonQuery struct {
	RefID      string `json:"refId"`
	Expr       string `json:"expr"`
	Instant    bool   `json:"instant"`
	Datasource *dsRef `json:"datasource"`
}

type variable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Query      any    `json:"query"`
	Multi      bool   `json:"multi"`
	IncludeAll bool   `json:"includeAll"`
	AllValue   string `json:"allValue"`
	Datasource *dsRef `json:"datasource"`
}

type annotation struct {
	Name            string     `json:"name"`
	Enable          bool       `json:"enable"`
	Datasource      *dsRef     `json:"datasource"`
	Target          *jsonQuery `json:"target"`
	UseValueForTime bool       `json:"useValueForTime"`
	TitleFormat     string     `json:"titleFormat"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// loadBoards reads every checked-in dashboard.
func loadBoards(t *testing.T) map[string]board {
	t.Helper()
	out := map[string]board{}
	for _, b := range Boards(packSettings(t)) {
		raw, err := os.ReadFile(b.File)
		if err != nil {
			t.Fatalf("%s: %v (run `make dashboards`)", b.File, err)
		}
		var d board
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", b.File, err)
		}
		out[b.File] = d
	}
	return out
}

// leaves are the panels that show data: everything but rows, including the
// panels inside collapsed rows.
func (d board) leaves() []panel {
	var out []panel
	for _, p := range d.Panels {
		if p.Type == "row" {
			out = append(out, p.Panels...)
			continue
		}
		out = append(out, p)
	}
	return out
}

func (d board) variable(name string) (variable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return variable{}, false
}

// expression is one PromQL expression of a dashboard and where it sits.
type expression struct {
	where   string
	expr    string
	instant bool
	// vars are the variables the expression may use: all of them for panels
	// and annotations, only the earlier ones for a variable's own query.
	vars []variable
}

// labelValues matches the Prometheus datasource's label_values(selector, label).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// expressions lists every PromQL expression of the dashboard: panel queries,
// annotation queries and the selectors inside variable queries.
func (d board) expressions(t *testing.T) []expression {
	t.Helper()
	var out []expression
	all := d.Templating.List
	for _, p := range d.leaves() {
		for _, q := range p.Targets {
			out = append(out, expression{where: fmt.Sprintf("panel %q query %s", p.Title, q.RefID), expr: q.Expr, instant: q.Instant, vars: all})
		}
	}
	for _, a := range d.Annotations.List {
		if a.Target != nil {
			out = append(out, expression{where: fmt.Sprintf("annotation %q", a.Name), expr: a.Target.Expr, vars: all})
		}
	}
	for i, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		m := labelValues.FindStringSubmatch(strings.TrimSpace(q))
		if m == nil {
			t.Errorf("%s: variable %q: query %q is not label_values(metric{...}, label)", d.UID, v.Name, q)
			continue
		}
		out = append(out, expression{where: fmt.Sprintf("variable %q", v.Name), expr: m[1], instant: true, vars: all[:i]})
	}
	return out
}
