package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeConfig writes files (name -> text) into a temporary directory and
// returns the path of main.yml.
func writeConfig(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "main.yml")
}

// TestTeams resolves the team per target and class: the target's owners,
// else its service's, else the default owner; a target's owner is the
// whole-target team and changes no class's team.
func TestTeams(t *testing.T) {
	path := writeConfig(t, map[string]string{
		"main.yml": `
services:
  - name: shop
    owners: {app: shop-team, timeout: shop-team}
target_files: [targets.d/*.yml]
targets:
  - name: checkout
    url: http://127.0.0.1:1/
    service: shop
    owner: checkout-team
    owners: {app: checkout-team}
  - name: cart
    url: http://127.0.0.1:1/cart
    service: shop
  - name: blog
    url: http://127.0.0.1:1/blog
    owner: web-team
`,
		"targets.d/edge.yml": `
targets:
  - name: edge
    url: http://127.0.0.1:1/edge
    owners: {gateway: edge-team, network: network}
`,
	})
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]ClassTeam{
		"checkout": {{"app", "checkout-team", "app-team"}, {"timeout", "shop-team", "db-api-owners"}},
		"cart":     {{"app", "shop-team", "app-team"}, {"timeout", "shop-team", "db-api-owners"}},
		"blog":     nil,                                     // its owner is the whole-target team only
		"edge":     {{"gateway", "edge-team", "app-infra"}}, // network is the default owner already
	}
	for i := range cfg.Targets {
		tg := &cfg.Targets[i]
		if !reflect.DeepEqual(tg.Teams, want[tg.Name]) {
			t.Errorf("%s: teams %+v, want %+v", tg.Name, tg.Teams, want[tg.Name])
		}
	}
	checkout := &cfg.Targets[0]
	for _, c := range []struct{ class, team, defaultOwner string }{
		{"app", "checkout-team", "app-team"},
		{"timeout", "shop-team", "db-api-owners"},
		{"gateway", "", ""},
	} {
		team, owner, ok := checkout.Team(c.class)
		if team != c.team || owner != c.defaultOwner || ok != (c.team != "") {
			t.Errorf("checkout.Team(%s) = %q, %q, %v; want %q, %q", c.class, team, owner, ok, c.team, c.defaultOwner)
		}
	}
}

// TestTeamsDiscovered: discovered targets are checked against the class
// table like configured ones and pick up their service's teams.
func TestTeamsDiscovered(t *testing.T) {
	cfg, err := Load(writeConfig(t, map[string]string{"main.yml": `
services:
  - name: shop
    owners: {capacity: shop-oncall}
`}))
	if err != nil {
		t.Fatal(err)
	}
	out, err := WithDiscovered(cfg, []Discovered{
		{Target: Target{Name: "a", URL: "http://127.0.0.1:1/a", Service: "shop", Owners: map[string]string{"app": "a-team"}}, Source: "sd.json", Path: "[0].targets[0]"},
		{Target: Target{Name: "b", URL: "http://127.0.0.1:1/b"}, Source: "sd.json", Path: "[0].targets[1]"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []ClassTeam{{"app", "a-team", "app-team"}, {"capacity", "shop-oncall", "sre-oncall"}}
	if got := out.Targets[0].Teams; !reflect.DeepEqual(got, want) {
		t.Errorf("a: teams %+v, want %+v", got, want)
	}
	if got := out.Targets[1].Teams; got != nil {
		t.Errorf("b: teams %+v, want none", got)
	}

	_, err = WithDiscovered(cfg, []Discovered{
		{Target: Target{Name: "c", URL: "http://127.0.0.1:1/c", Owners: map[string]string{"gatway": "x", "app": ""}}, Source: "sd.json", Path: "[1].targets[0]"},
	})
	for _, w := range []string{
		`sd.json: [1].targets[0].owners.app: must name a team`,
		`sd.json: [1].targets[0].owners.gatway: "gatway" is not a class of the class table`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v, want it to say %s", err, w)
		}
	}
}
