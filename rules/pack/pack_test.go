package pack_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/http5xx/http5xx_exporter/rules/pack"
	"github.com/http5xx/http5xx_exporter/rules/rulepack"
)

// TestShippedPackIsTheDefault: rules/pack.yml spells out the defaults, so a
// user copies a file that already says everything it can change.
func TestShippedPackIsTheDefault(t *testing.T) {
	got, err := pack.Load("../pack.yml")
	if err != nil {
		t.Fatal(err)
	}
	if want := pack.Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("rules/pack.yml differs from pack.Default():\n got  %+v\n want %+v", got, want)
	}
	empty, err := pack.Parse("empty.yml", nil)
	if err != nil || !reflect.DeepEqual(empty, pack.Default()) {
		t.Errorf("an empty file must mean the defaults: %+v, %v", empty, err)
	}
}

// TestCheckedInFilesAreGenerated: the rule files in rules/ are the output of
// the defaults (make rules-test checks the PrometheusRule too).
func TestCheckedInFilesAreGenerated(t *testing.T) {
	for _, f := range pack.Default().Files() {
		want, err := f.YAML()
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("rules/%s is not what rules/pack.yml generates: run make rules-generate", f.Name)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown field", "job: http5xx\n", "bad.yml: yaml: unmarshal errors:\n  line 1: field job not found in type pack.Config"},
		{"bad selector", "probe_interval: 15s\njob_selector: 'job=http5xx'\n", `bad.yml:2: job_selector: "job=http5xx" is no list of label matchers such as job="http5xx"`},
		{"metric name in selector", "job_selector: '__name__=\"up\"'\n", "bad.yml:1: job_selector: must not match on the metric name"},
		{"relative url", "grafana_url: grafana/\n", `bad.yml:1: grafana_url: "grafana/" is no http(s) URL`},
		{"objective of 99.9", "slo:\n  objective: 99.9\n", "bad.yml:2: slo.objective: 99.9: an objective is a ratio between 0 and 1, such as 0.999"},
		{"service objective", "slo:\n  services:\n    checkout: 1\n", "bad.yml:3: slo.services.checkout: 1: an objective is a ratio between 0 and 1, such as 0.999"},
		{"quorum of one", "quorum: {min_locations: 1}\n", "bad.yml:1: quorum.min_locations: 1: one location cannot tell an outage from its own network; at least 2"},
		{"critical before warning", "classes:\n  warning_for: 20m\n", "bad.yml:1: classes.critical_for: 15m must be longer than warning_for 20m"},
		{"bad duration", "slo: {objective: 0.99}\nquorum:\n  keep_firing_for: soon\n", `bad.yml:3: quorum.keep_firing_for: not a valid duration string: "soon"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pack.Parse("bad.yml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n  %s\nwant\n  %s", err, tc.want)
			}
		})
	}
}

// exporterMetric reports whether a selector reads one of the exporter's own
// series (or up), which the job selector must narrow.
func exporterMetric(name string) bool {
	return name == "up" || strings.HasPrefix(name, "http5xx_")
}

// TestOwnValues regenerates the pack with a user's values: every link and
// every raw selector follows them, nothing of the defaults remains, and
// Prometheus loads the result.
func TestOwnValues(t *testing.T) {
	cfg, err := pack.Parse("mine.yml", []byte(`
job_selector: job="probes", env="prod"
grafana_url: https://grafana.corp.invalid/
runbook_url: https://wiki.corp.invalid/http5xx
evaluation_interval: 30s
slo:
  objective: 0.99
  services: {checkout: 0.9995}
quorum: {failed_probes: 4, evaluation_interval: 10s}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cfg.Files() {
		b, err := f.YAML()
		if err != nil {
			t.Fatal(err)
		}
		for _, stale := range []string{`job="http5xx"`, "grafana.example.com", "github.com/http5xx", "0.999)"} {
			if bytes.Contains(b, []byte(stale)) {
				t.Errorf("%s still holds %q", f.Name, stale)
			}
		}
		groups, errs := rulefmt.Parse(b, false, model.UTF8Validation, parser.NewParser(parser.Options{}), promslog.NewNopLogger())
		if len(errs) > 0 {
			t.Fatalf("%s: %v", f.Name, errs)
		}
		for _, g := range groups.Groups {
			want := "30s"
			if g.Name == "http5xx-quorum" {
				want = "10s"
			}
			if got := g.Interval.String(); got != want {
				t.Errorf("group %s: interval %s, want %s", g.Name, got, want)
			}
			for _, r := range g.Rules {
				e, err := rulepack.Analyze(r.Expr)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range e.Selectors {
					if exporterMetric(s.Metric) && !(contains(s.Labels, "job") && contains(s.Labels, "env")) {
						t.Errorf("%s%s reads %s without the job selector", r.Record, r.Alert, s.Metric)
					}
				}
				for k, v := range r.Annotations {
					if strings.HasSuffix(k, "_url") && !strings.HasPrefix(v, "https://grafana.corp.invalid/d/") && !strings.HasPrefix(v, "https://wiki.corp.invalid/http5xx#") {
						t.Errorf("%s: %s %q follows neither configured base URL", r.Alert, k, v)
					}
				}
			}
		}
	}
	rec, _ := cfg.Files()[0].YAML()
	for _, want := range []string{"vector(0.99)", "vector(0.9995)", "service: checkout", "offset 1m"} {
		if !bytes.Contains(rec, []byte(want)) && !bytes.Contains(mustYAML(t, cfg.Files()[1]), []byte(want)) {
			t.Errorf("the generated rules do not hold %q", want)
		}
	}
}

func mustYAML(t *testing.T, f pack.File) []byte {
	t.Helper()
	b, err := f.YAML()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestNoHardCodedSettings: outside the pack's configuration, its generated
// output and the tests that pin that output, nothing in rules/, dashboards/
// or examples/ names the default job, Grafana or the repository's URL.
func TestNoHardCodedSettings(t *testing.T) {
	generated := map[string]bool{
		"rules/pack.yml": true, "rules/pack/config.go": true,
		"rules/http5xx-recording.yml": true, "rules/http5xx-alerts.yml": true,
		"examples/kubernetes/prometheusrule.yaml": true, "examples/helm/http5xx-exporter/files/prometheusrule.yaml": true,
	}
	for _, dir := range []string{"rules", "dashboards", "examples"} {
		err := filepath.WalkDir(filepath.Join("..", "..", dir), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), path)
			rel = filepath.ToSlash(rel)
			// A Prometheus configuration defines (and federates) the job the
			// selector matches; it is the source, not a copy.
			if d.IsDir() || generated[rel] || isPrometheusConfig(path) || strings.HasSuffix(rel, "_test.go") || strings.HasPrefix(rel, "rules/tests/") ||
				strings.HasPrefix(rel, "dashboards/") && strings.HasSuffix(rel, ".json") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, s := range []string{`job="http5xx"`, "grafana.example.com", "github.com/http5xx/http5xx_exporter/blob"} {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s names %s: take it from rules/pack.yml", rel, s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func isPrometheusConfig(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.HasSuffix(path, ".yml") && bytes.Contains(b, []byte("\nscrape_configs:"))
}
