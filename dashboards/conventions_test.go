package dashboards

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// conventions is what issue 6 asks of each dashboard beyond its panels.
var conventions = map[string]struct {
	uid    string
	chain  []string // chained query variables, in order, after datasource
	single []string // variables that take exactly one value
	links  []string // UIDs the dashboard links to, keeping variables and time
	panels []string // titles that must exist (what the README promises)
	alerts bool     // firing alerts as an annotation
	deploy bool     // deploy markers as an annotation
}{
	"http5xx-overview.json": {
		uid:   "http5xx-overview",
		chain: []string{"job", "location", "service", "target"},
		links: []string{"http5xx-target", "http5xx-exporter"},
		panels: []string{
			"Error ratio by class and owner", "Top failing targets", "5xx answers by code",
			"Latency p50 / p99", "Saturation by target", "Error ratio: target × location",
		},
		alerts: true, deploy: true,
	},
	"http5xx-target.json": {
		uid:    "http5xx-target",
		chain:  []string{"job", "location", "service", "target"},
		single: []string{"target"},
		links:  []string{"http5xx-overview", "http5xx-exporter"},
		panels: []string{
			"Probe phases (mean)", "Answers by status code", "Latency heatmap", "Retry-After",
			"Saturation", "5xx by layer and product", "Deployed version", "Current versions",
			"Error ratio by location", "p99 latency by location",
		},
		alerts: true, deploy: true,
	},
	"http5xx-exporter.json": {
		uid:   "http5xx-exporter",
		chain: []string{"job", "instance"},
		links: []string{"http5xx-overview"},
		panels: []string{
			"Probes per second", "Schedule lag p50 / p99", "Skipped probes", "In-flight probes",
			"Configuration reloads", "Last reload", "Build info",
		},
		alerts: true,
	},
}

const datasourceUID = "${datasource}"

func TestConventions(t *testing.T) {
	boards := loadBoards(t)
	if len(boards) != len(conventions) {
		t.Fatalf("%d dashboards, conventions for %d", len(boards), len(conventions))
	}
	uids := map[string]string{}
	for file, d := range boards {
		want, ok := conventions[file]
		if !ok {
			t.Errorf("%s: no conventions listed for it", file)
			continue
		}
		t.Run(want.uid, func(t *testing.T) {
			if d.UID != want.uid {
				t.Errorf("uid %q, want %q", d.UID, want.uid)
			}
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %q also used by %s", d.UID, other)
			}
			uids[d.UID] = file
			if d.SchemaVersion != SchemaVersion {
				t.Errorf("schemaVersion %d, want the pinned %d", d.SchemaVersion, SchemaVersion)
			}
			checkVariables(t, d, want.chain, want.single)
			checkPanels(t, d)
			checkLinks(t, d, want.links)
			checkAnnotations(t, d, want.alerts, want.deploy)
			for _, title := range want.panels {
				if !slices.ContainsFunc(d.leaves(), func(p panel) bool { return p.Title == title }) {
					t.Errorf("no panel %q", title)
				}
			}
		})
	}
}

func checkVariables(t *testing.T, d board, chain, single []string) {
	t.Helper()
	vars := d.Templating.List
	if len(vars) != 1+len(chain) {
		t.Fatalf("variables %v, want datasource then %v", names(vars), chain)
	}
	ds := vars[0]
	if ds.Name != "datasource" || ds.Type != "datasource" || ds.Query != "prometheus" {
		t.Errorf("first variable %q (type %s, query %v), want datasource of type datasource for prometheus", ds.Name, ds.Type, ds.Query)
	}
	for i, name := range chain {
		v := vars[i+1]
		if v.Name != name {
			t.Errorf("variable %d is %q, want %q (chain %v)", i+1, v.Name, name, chain)
			continue
		}
		if v.Type != "query" || v.Datasource == nil || v.Datasource.UID != datasourceUID {
			t.Errorf("variable %q: type %s, datasource %v; want a query on %s", name, v.Type, v.Datasource, datasourceUID)
		}
		// The chain: each variable's values are filtered by every earlier one
		// (the PromQL test checks the matchers are real ones).
		q, _ := v.Query.(string)
		for _, prev := range chain[:i] {
			if !strings.Contains(q, fmt.Sprintf(`%s=~"$%s"`, prev, prev)) {
				t.Errorf("variable %q: query %q does not filter on $%s", name, q, prev)
			}
		}
		if slices.Contains(single, name) {
			if v.Multi || v.IncludeAll {
				t.Errorf("variable %q must take exactly one value", name)
			}
		} else if !v.Multi || !v.IncludeAll || v.AllValue != ".*" {
			// ".*" also matches series without the label; Grafana's default
			// "All" is the list of values, which does not.
			t.Errorf("variable %q: multi %v, includeAll %v, allValue %q; want multi with All = \".*\"", name, v.Multi, v.IncludeAll, v.AllValue)
		}
	}
}

func checkPanels(t *testing.T, d board) {
	t.Helper()
	ids := map[int]string{}
	for _, p := range d.Panels {
		for _, q := range append([]panel{p}, p.Panels...) {
			if q.ID == 0 {
				t.Errorf("panel %q has no id", q.Title)
			} else if other, dup := ids[q.ID]; dup {
				t.Errorf("panel %q reuses id %d of %q", q.Title, q.ID, other)
			}
			ids[q.ID] = q.Title
			if q.GridPos.W < 1 || q.GridPos.X+q.GridPos.W > 24 || q.GridPos.H < 1 {
				t.Errorf("panel %q: gridPos %+v does not fit the 24-column grid", q.Title, q.GridPos)
			}
		}
	}
	leaves := d.leaves()
	if len(leaves) == 0 {
		t.Fatal("no panels")
	}
	for _, p := range leaves {
		if strings.TrimSpace(p.Title) == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if strings.TrimSpace(p.Description) == "" {
			t.Errorf("panel %q has no description", p.Title)
		}
		if p.FieldConfig.Defaults.Unit == "" {
			t.Errorf("panel %q has no unit", p.Title)
		}
		if p.Datasource == nil || p.Datasource.UID != datasourceUID {
			t.Errorf("panel %q: datasource %v, want %s", p.Title, p.Datasource, datasourceUID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		refs := map[string]bool{}
		for _, q := range p.Targets {
			if q.RefID == "" || refs[q.RefID] {
				t.Errorf("panel %q: query refId %q missing or repeated", p.Title, q.RefID)
			}
			refs[q.RefID] = true
			if strings.TrimSpace(q.Expr) == "" {
				t.Errorf("panel %q query %s has no expression", p.Title, q.RefID)
			}
			if q.Datasource == nil || q.Datasource.UID != datasourceUID {
				t.Errorf("panel %q query %s: datasource %v, want %s", p.Title, q.RefID, q.Datasource, datasourceUID)
			}
		}
	}
}

func checkLinks(t *testing.T, d board, to []string) {
	t.Helper()
	for _, uid := range to {
		found := false
		for _, l := range d.Links {
			if strings.HasPrefix(l.URL, "/d/"+uid+"/") {
				found = true
				if !l.IncludeVars || !l.KeepTime {
					t.Errorf("link %q to %s must keep variables and time (includeVars %v, keepTime %v)", l.Title, uid, l.IncludeVars, l.KeepTime)
				}
			}
		}
		if !found {
			t.Errorf("no link to %s", uid)
		}
	}
}

func checkAnnotations(t *testing.T, d board, alerts, deploy bool) {
	t.Helper()
	byName := map[string]annotation{}
	for _, a := range d.Annotations.List {
		byName[a.Name] = a
		if a.Datasource == nil || a.Datasource.UID != datasourceUID {
			t.Errorf("annotation %q: datasource %v, want %s", a.Name, a.Datasource, datasourceUID)
		}
		if a.Target == nil || strings.TrimSpace(a.Target.Expr) == "" {
			t.Errorf("annotation %q has no query", a.Name)
		}
		if !a.Enable {
			t.Errorf("annotation %q is off by default", a.Name)
		}
	}
	if a, ok := byName["Firing alerts"]; alerts && (!ok || a.Target == nil || !strings.Contains(a.Target.Expr, "ALERTS{")) {
		t.Errorf("no firing alerts annotation over ALERTS")
	}
	if deploy {
		a, ok := byName["Deploys"]
		if !ok {
			t.Fatal("no Deploys annotation")
		}
		// Deploy moments come from the value (the deploy time), not from the
		// sample times; TestDeployAnnotationMarksDeployMoments runs it.
		if !a.UseValueForTime {
			t.Errorf("Deploys annotation must use the series value as the event time")
		}
	}
}

func names(vars []variable) []string {
	var out []string
	for _, v := range vars {
		out = append(out, v.Name)
	}
	return out
}
