package rulepack_test

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/http5xx/http5xx_exporter/rules/rulepack"
)

const (
	runbookBase   = "https://github.com/http5xx/http5xx_exporter/blob/main/rules/runbooks.md#"
	dashboardBase = "https://grafana.example.com/d/http5xx-target/http5xx-target?var-target="
)

func load(t *testing.T) (*rulepack.Pack, []rulepack.Test) {
	t.Helper()
	pack, err := rulepack.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	tests, err := rulepack.LoadTests("../tests/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	return pack, tests
}

// countsItsOwnFor are the alerts without a `for` because their expression
// already spans the time: the quorum page counts 5 failed probes in a row
// (an exact counter difference), and a `for` would only delay the page.
var countsItsOwnFor = map[string]bool{"HTTP5xxFailingEverywhere": true}

// humanized matches a template that prints $value through a humanize function.
var humanized = regexp.MustCompile(`\$value\s*\|\s*humanize`)

// TestAlertConventions checks what every alert of the pack carries: severity,
// error_class and owner, a `for`, a static summary, a templated description
// that humanizes $value, a runbook_url pointing to its section of runbooks.md and,
// for alerts about a target, a dashboard_url prefilled with it.
func TestAlertConventions(t *testing.T) {
	pack, tests := load(t)
	runbook, err := os.ReadFile("../runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## (HTTP5xx\w+)$`).FindAllStringSubmatch(string(runbook), -1) {
		sections[m[1]] = true
	}

	alertNames := map[string]bool{}
	for _, r := range pack.Alerts() {
		alertNames[r.Alert] = true
		where := fmt.Sprintf("%s (%s)", r.Alert, r.Labels["severity"])
		if !strings.HasPrefix(r.Alert, "HTTP5xx") {
			t.Errorf("%s: alert names start with HTTP5xx", where)
		}
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("%s: severity %q, want warning or critical", where, s)
		}
		if r.Labels["error_class"] == "" {
			t.Errorf("%s: no error_class label", where)
		}
		if r.For == 0 && !countsItsOwnFor[r.Alert] {
			t.Errorf("%s: no `for`: one bad evaluation would notify", where)
		}
		a := r.Annotations
		if a["summary"] == "" || strings.Contains(a["summary"], "{{") {
			t.Errorf("%s: summary must be static text, got %q", where, a["summary"])
		}
		if !strings.Contains(a["description"], "{{") {
			t.Errorf("%s: description must be templated", where)
		}
		if strings.Contains(a["description"], "$value") && !humanized.MatchString(a["description"]) {
			t.Errorf("%s: description prints $value without humanizing it", where)
		}
		if want := runbookBase + strings.ToLower(r.Alert); a["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", where, a["runbook_url"], want)
		}
		if !sections[r.Alert] {
			t.Errorf("%s: runbooks.md has no section \"## %s\"", where, r.Alert)
		}
	}
	for s := range sections {
		if !alertNames[s] {
			t.Errorf("runbooks.md has a section for %s, which is no alert of the pack", s)
		}
	}

	// The labels computed from the data show in what the tests expect.
	for _, tf := range tests {
		for _, g := range tf.Groups {
			for _, at := range g.AlertTests {
				for _, e := range at.ExpAlerts {
					where := fmt.Sprintf("%s, %q: %s", tf.File, g.Name, at.Alertname)
					for _, l := range []string{"severity", "error_class", "owner"} {
						if e.Labels[l] == "" {
							t.Errorf("%s: expected alert without %s", where, l)
						}
					}
					target := e.Labels["target"]
					dashboard, ok := e.Annotations["dashboard_url"]
					switch {
					case target != "" && dashboard != dashboardBase+url.QueryEscape(target):
						t.Errorf("%s: dashboard_url %q is not prefilled with target %q", where, dashboard, target)
					case target == "" && ok:
						t.Errorf("%s: dashboard_url on an alert without a target", where)
					}
				}
			}
		}
	}
}

// TestEveryAlertIsTested checks the promtool tests: every alert fires in a
// test at each of its severities, and stays quiet in at least two, one of
// them a blip shorter than its `for`.
func TestEveryAlertIsTested(t *testing.T) {
	pack, tests := load(t)
	fires := map[string]bool{} // alertname/severity
	quiet := map[string]int{}  // alertname -> quiet cases
	blip := map[string]bool{}  // alertname -> quiet on a blip
	for _, tf := range tests {
		for _, g := range tf.Groups {
			for _, at := range g.AlertTests {
				if len(at.ExpAlerts) == 0 {
					quiet[at.Alertname]++
					if strings.Contains(g.Name, "blip") {
						blip[at.Alertname] = true
					}
				}
				for _, e := range at.ExpAlerts {
					fires[at.Alertname+"/"+e.Labels["severity"]] = true
				}
			}
		}
	}
	for _, r := range pack.Alerts() {
		if key := r.Alert + "/" + r.Labels["severity"]; !fires[key] {
			t.Errorf("%s: no test where it fires", key)
		}
		if quiet[r.Alert] < 2 {
			t.Errorf("%s: %d tests where it stays quiet, want at least 2", r.Alert, quiet[r.Alert])
		}
		if !blip[r.Alert] {
			t.Errorf("%s: no test where it stays quiet on a blip shorter than its `for`", r.Alert)
		}
	}
}

// TestTestFilesLoadThePack checks that every test file loads the pack's rule
// files and evaluates its groups in file order: promtool otherwise orders
// groups at random, and an alert could read the previous evaluation's
// recording.
func TestTestFilesLoadThePack(t *testing.T) {
	pack, tests := load(t)
	var files []string
	for _, f := range rulepack.RuleFiles() {
		files = append(files, "../"+f)
	}
	for _, tf := range tests {
		if !slices.Equal(tf.RuleFiles, files) {
			t.Errorf("%s: rule_files %v, want %v", tf.File, tf.RuleFiles, files)
		}
		if !slices.Equal(tf.GroupEvalOrder, pack.GroupNames()) {
			t.Errorf("%s: group_eval_order %v, want the pack's groups in order %v", tf.File, tf.GroupEvalOrder, pack.GroupNames())
		}
	}
}

// TestPrometheusRule checks that the generated manifest holds exactly the
// pack's groups.
func TestPrometheusRule(t *testing.T) {
	pack, _ := load(t)
	b, err := rulepack.PrometheusRule("..", "http5xx-exporter")
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec yaml.Node `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.APIVersion != "monitoring.coreos.com/v1" || manifest.Kind != "PrometheusRule" || manifest.Metadata.Name != "http5xx-exporter" {
		t.Errorf("manifest header: %+v", manifest)
	}
	spec, err := yaml.Marshal(&manifest.Spec)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(spec, false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
	if len(errs) > 0 {
		t.Fatalf("spec of the manifest is no valid rule file: %v", errs)
	}
	if len(groups.Groups) != len(pack.Groups) {
		t.Fatalf("manifest has %d groups, the pack %d", len(groups.Groups), len(pack.Groups))
	}
	for i, g := range groups.Groups {
		want, err := yaml.Marshal(pack.Groups[i].RuleGroup)
		if err != nil {
			t.Fatal(err)
		}
		got, err := yaml.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("group %s differs from the rule files:\n%s\nwant:\n%s", g.Name, got, want)
		}
	}
	if bytes.Contains(b, []byte(": *")) || bytes.Contains(b, []byte(": &")) {
		t.Error("manifest still holds YAML anchors or aliases")
	}
}
