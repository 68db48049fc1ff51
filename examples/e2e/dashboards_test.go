//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/stacktest"
)

// dashboardQuery is one PromQL expression of a dashboard: a panel target,
// an annotation or a variable.
type dashboardQuery struct {
	Dashboard, Where string
	Expr             string
	Instant          bool
}

// variable is a templating variable of a dashboard.
type variable struct {
	Name, Type, Query string
	IncludeAll        bool
	AllValue          string
}

type dashboard struct {
	Title     string
	Queries   []dashboardQuery // panels and annotations
	Variables []variable
}

// loadDashboard walks a dashboard's JSON: the targets of every panel (also
// inside rows), annotations and variables.
func loadDashboard(path string) (dashboard, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return dashboard{}, err
	}
	type target struct {
		Expr    string `json:"expr"`
		Instant bool   `json:"instant"`
		Range   bool   `json:"range"`
		RefID   string `json:"refId"`
	}
	type panel struct {
		Title   string            `json:"title"`
		Targets []target          `json:"targets"`
		Panels  []json.RawMessage `json:"panels"`
	}
	var doc struct {
		Title  string            `json:"title"`
		Panels []json.RawMessage `json:"panels"`
		// Annotations carry their query in "expr" or, as Grafana saves
		// them, in "target".
		Annotations struct {
			List []struct {
				Name   string `json:"name"`
				Expr   string `json:"expr"`
				Target target `json:"target"`
			} `json:"list"`
		} `json:"annotations"`
		Templating struct {
			List []struct {
				Name       string          `json:"name"`
				Type       string          `json:"type"`
				Query      json.RawMessage `json:"query"`
				IncludeAll bool            `json:"includeAll"`
				AllValue   string          `json:"allValue"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return dashboard{}, fmt.Errorf("%s: %w", path, err)
	}
	d := dashboard{Title: doc.Title}
	name := doc.Title
	if name == "" {
		name = filepath.Base(path)
	}
	var walk func([]json.RawMessage) error
	walk = func(ps []json.RawMessage) error {
		for _, r := range ps {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			for _, t := range p.Targets {
				if t.Expr != "" {
					d.Queries = append(d.Queries, dashboardQuery{name, "panel " + p.Title + " " + t.RefID, t.Expr, t.Instant && !t.Range})
				}
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(doc.Panels); err != nil {
		return dashboard{}, err
	}
	for _, a := range doc.Annotations.List {
		expr := a.Expr
		if expr == "" {
			expr = a.Target.Expr
		}
		if expr != "" {
			d.Queries = append(d.Queries, dashboardQuery{name, "annotation " + a.Name, expr, false})
		}
	}
	for _, v := range doc.Templating.List {
		q := string(v.Query)
		var s string
		if json.Unmarshal(v.Query, &s) == nil {
			q = s
		} else {
			var obj struct {
				Query string `json:"query"`
			}
			if json.Unmarshal(v.Query, &obj) == nil {
				q = obj.Query
			}
		}
		d.Variables = append(d.Variables, variable{v.Name, v.Type, q, v.IncludeAll, v.AllValue})
	}
	return d, nil
}

// grafanaVar matches $name, ${name}, ${name:format} and [[name]].
var grafanaVar = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// substitute replaces the variables of expr; an unknown one is an error, so
// that a new variable is not silently queried as a literal "$x".
func substitute(expr string, vals map[string]string) (string, error) {
	var missing []string
	out := grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		sm := grafanaVar.FindStringSubmatch(m)
		name := sm[1] + sm[2] + sm[3]
		v, ok := vals[name]
		if !ok && name[0] >= '0' && name[0] <= '9' {
			return m // $1 of label_replace, not a variable
		}
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("unknown variables %v in %q", missing, expr)
	}
	return out, nil
}

// labelValuesQuery is Grafana's label_values(selector, label).
var labelValuesQuery = regexp.MustCompile(`^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$`)

// dashboardCheck is the outcome of one query of a dashboard.
type dashboardCheck struct {
	Query   dashboardQuery
	Series  int    // most series any variable choice gave
	Choice  string // the choice of the single-value variable that gave them
	Problem string // why it has no data, when it has none
}

// checkDashboard runs every query of d against Prometheus over [start, end]
// as Grafana would: range queries for graphs and annotations, instant ones
// where the panel asks for them. Multi-value variables are "All" (their
// allValue, .*); a single-value variable (the target dashboard's target)
// takes each value its own query offers, and a query counts as having data
// when it has data for at least one of them.
func checkDashboard(ctx context.Context, prom stacktest.PromAPI, d dashboard, start, end time.Time) ([]dashboardCheck, error) {
	rng := end.Sub(start).Round(time.Second)
	vals := map[string]string{
		"__rate_interval": "10s", // 4 x the compressed scrape interval, with room
		"__interval":      "2s",
		"__interval_ms":   "2000",
		"__range":         fmt.Sprintf("%ds", int(rng.Seconds())),
		"__range_s":       fmt.Sprint(int(rng.Seconds())),
		"__range_ms":      fmt.Sprint(rng.Milliseconds()),
	}
	var checks []dashboardCheck
	var single string // the single-value variable, if any
	var choices []string
	for _, v := range d.Variables {
		switch {
		case v.Type == "datasource":
			vals[v.Name] = "prometheus"
			continue
		case v.Type != "query":
			return nil, fmt.Errorf("%s: variable %s: type %q is not supported here", d.Title, v.Name, v.Type)
		}
		m := labelValuesQuery.FindStringSubmatch(v.Query)
		if m == nil {
			return nil, fmt.Errorf("%s: variable %s: query %q is not label_values(...)", d.Title, v.Name, v.Query)
		}
		sel, err := substitute(m[1], vals)
		if err != nil {
			return nil, fmt.Errorf("%s: variable %s: %w", d.Title, v.Name, err)
		}
		var match []string
		if sel != "" {
			match = []string{sel}
		}
		got, err := prom.LabelValues(ctx, m[2], match, start, end)
		if err != nil {
			return nil, fmt.Errorf("%s: variable %s: %w", d.Title, v.Name, err)
		}
		c := dashboardCheck{Query: dashboardQuery{Dashboard: d.Title, Where: "variable " + v.Name, Expr: v.Query}, Series: len(got), Choice: strings.Join(got, ",")}
		if len(got) == 0 {
			c.Problem = "no values"
		}
		checks = append(checks, c)
		switch {
		case v.IncludeAll:
			all := v.AllValue
			if all == "" {
				all = ".*"
			}
			vals[v.Name] = all
		case single != "":
			return nil, fmt.Errorf("%s: more than one single-value variable (%s, %s)", d.Title, single, v.Name)
		default:
			single, choices = v.Name, got
			if len(got) > 0 {
				vals[v.Name] = got[0] // for the variables after it
			}
		}
	}
	if single == "" {
		choices = []string{""}
	}
	for _, q := range d.Queries {
		c := dashboardCheck{Query: q}
		for _, choice := range choices {
			if single != "" {
				vals[single] = regexp.QuoteMeta(choice)
			}
			expr, err := substitute(q.Expr, vals)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", d.Title, q.Where, err)
			}
			var r stacktest.QueryResult
			if q.Instant {
				r, err = prom.Query(ctx, expr, end)
			} else {
				r, err = prom.QueryRange(ctx, expr, start, end, 2*time.Second)
			}
			if err != nil {
				c.Problem = err.Error()
				break
			}
			n, err := r.Len()
			if err != nil {
				c.Problem = err.Error()
				break
			}
			if n > c.Series {
				c.Series, c.Choice = n, choice
			}
		}
		if c.Series == 0 && c.Problem == "" {
			c.Problem = "no data"
			if single != "" {
				c.Problem += " for any " + single + " of " + strings.Join(choices, ", ")
			}
		}
		checks = append(checks, c)
	}
	return checks, nil
}
