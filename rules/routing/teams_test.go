package routing_test

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/http5xx/http5xx_exporter/rules/rulepack"
)

// exampleConfigs are the exporter configurations the examples ship, whose
// teams the example routing must page.
var exampleConfigs = []string{"../../examples/http5xx.yml", "../../examples/multi-location/http5xx.yml"}

// exampleConfig is what an example configuration says about who is paged:
// a target's owner (its whole-target alerts), its owners and its
// service's owners (class -> team).
type exampleConfig struct {
	Services []struct {
		Name   string            `yaml:"name"`
		Owners map[string]string `yaml:"owners"`
	} `yaml:"services"`
	Targets []struct {
		Name    string            `yaml:"name"`
		Service string            `yaml:"service"`
		Owner   string            `yaml:"owner"`
		Owners  map[string]string `yaml:"owners"`
	} `yaml:"targets"`
}

func loadExample(t *testing.T, path string) exampleConfig {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg exampleConfig
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cfg
}

// goldenDefaultOwners is the default class table's owner per class, as the
// exporter exports it (http5xx_responses_total in its golden /metrics).
func goldenDefaultOwners(t *testing.T) map[string]string {
	t.Helper()
	golden, err := os.ReadFile("../../collector/testdata/metrics.golden")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^http5xx_responses_total\{class="([^"]+)",code="[^"]+",(?:location="[^"]*",)?owner="([^"]+)"`).FindAllSubmatch(golden, -1) {
		out[string(m[1])] = string(m[2])
	}
	if len(out) < 3 {
		t.Fatalf("found only the default owners %v in metrics.golden", out)
	}
	return out
}

// routeCase is one alert as Alertmanager receives it and where it must go.
type routeCase struct {
	alert, severity, owner, class string
	why                           string
}

// TestExampleTeamsRoute pages, for every target of the example
// configurations, the team each of its alerts names: the whole-target alerts
// (error budget burn, errors after a deploy) its owner, and every alert of
// a class (including the quorum page) its team for that class, which is the
// default owner unless the target or its service names another. At least one
// example target overrides a default owner, so the override's page is
// covered.
func TestExampleTeamsRoute(t *testing.T) {
	bin := amtool(t)
	defaultOwners := goldenDefaultOwners(t)
	rules, err := rulepack.Load("..")
	if err != nil {
		t.Fatal(err)
	}

	// The pack's alerts by what they page: error_class "all" is the
	// target's owner; a class's alerts without an owner of their own
	// carry the team from the series.
	type rule struct{ alert, severity string }
	var wholeTarget []rule
	byClass := map[string][]rule{}
	for _, r := range rules.Alerts() {
		ec, static := r.Labels["error_class"], r.Labels["owner"]
		switch {
		case static != "":
		case ec == "all":
			wholeTarget = append(wholeTarget, rule{r.Alert, r.Labels["severity"]})
		case defaultOwners[ec] != "":
			byClass[ec] = append(byClass[ec], rule{r.Alert, r.Labels["severity"]})
		case r.Alert == "HTTP5xxFailingEverywhere":
			for class := range defaultOwners {
				byClass[class] = append(byClass[class], rule{r.Alert, r.Labels["severity"]})
			}
		}
	}
	if len(wholeTarget) == 0 || len(byClass["app"]) == 0 {
		t.Fatalf("the pack has whole-target alerts %v and app alerts %v; want both", wholeTarget, byClass["app"])
	}

	seen := map[routeCase]bool{}
	var cases []routeCase
	add := func(c routeCase) {
		key := c
		key.why = ""
		if !seen[key] {
			seen[key] = true
			cases = append(cases, c)
		}
	}
	overrides := 0
	for _, path := range exampleConfigs {
		cfg := loadExample(t, path)
		services := map[string]map[string]string{}
		for _, s := range cfg.Services {
			services[s.Name] = s.Owners
		}
		for _, tg := range cfg.Targets {
			if tg.Owner != "" {
				for _, r := range wholeTarget {
					add(routeCase{r.alert, r.severity, tg.Owner, "", path + ": owner of target " + tg.Name})
				}
			}
			service := tg.Service
			if service == "" {
				service = tg.Name
			}
			for class, defaultOwner := range defaultOwners {
				team := tg.Owners[class]
				if team == "" {
					team = services[service][class]
				}
				why := path + ": target " + tg.Name + "'s team for " + class
				if team == "" {
					team, why = defaultOwner, "the default owner of "+class
				} else if team != defaultOwner {
					overrides++
				}
				for _, r := range byClass[class] {
					add(routeCase{r.alert, r.severity, team, class, why})
				}
			}
		}
	}
	if overrides == 0 {
		t.Fatalf("no example target names a team other than the default owner (owners:); the override's route is not covered")
	}
	sort.Slice(cases, func(i, j int) bool {
		a, b := cases[i], cases[j]
		return a.owner+a.alert+a.severity+a.class < b.owner+b.alert+b.severity+b.class
	})
	for _, c := range cases {
		ls := map[string]string{"alertname": c.alert, "severity": c.severity, "owner": c.owner, "target": "t", "service": "s"}
		if c.class != "" {
			ls["class"], ls["error_class"] = c.class, c.class
		} else {
			ls["error_class"] = "all"
		}
		want := c.owner + "-chat"
		if c.severity == "critical" {
			want = c.owner + "-pager"
		}
		routesTo(t, bin, ls, want)
		if t.Failed() {
			t.Logf("%s %s to %s: %s", c.alert, c.severity, c.owner, c.why)
			return
		}
	}
	// The example's override is the one this test was written for: the
	// checkout team's 500s page it, not app-team.
	if !slices.ContainsFunc(cases, func(c routeCase) bool {
		return c.owner == "checkout-team" && c.class == "app" && c.alert == "HTTP5xxAppErrors" && c.severity == "critical"
	}) {
		t.Error("no case pages checkout-team for class app: examples/http5xx.yml lost its owners: {app: checkout-team}")
	}
}
