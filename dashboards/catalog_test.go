package dashboards

import (
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"
)

// goldenPath is the exporter's golden /metrics. The flag lets you check the
// dashboards against another exposition, such as a live exporter's output.
var goldenPath = flag.String("metrics", filepath.Join("..", "collector", "testdata", "metrics.golden"),
	"Prometheus text exposition listing every metric the exporter exports")

var rulesGlob = filepath.Join("..", "rules", "*.yml")

// catalog is what Prometheus can hold: the exporter's metric families with
// the labels they carry, the series the recording rules write, and the alerts.
type catalog struct {
	families map[string]*dto.MetricFamily
	labels   map[string]map[string]bool // family → label names
	recorded map[string]bool
	alerts   []string
}

func loadCatalog(t *testing.T) catalog {
	t.Helper()
	f, err := os.Open(*goldenPath)
	if err != nil {
		t.Fatalf("golden /metrics: %v", err)
	}
	defer f.Close()
	tp := expfmt.NewTextParser(model.UTF8Validation)
	families, err := tp.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s: %v", *goldenPath, err)
	}
	cat := catalog{families: families, labels: map[string]map[string]bool{}, recorded: map[string]bool{}}
	for name, mf := range families {
		cat.labels[name] = map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				cat.labels[name][lp.GetName()] = true
			}
		}
	}

	files, err := filepath.Glob(rulesGlob)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		content, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// rules/ also holds promtool unit tests; only rule files have groups.
		var top map[string]any
		if err := yaml.Unmarshal(content, &top); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if _, ok := top["groups"]; !ok {
			continue
		}
		groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, promParser, slog.New(slog.DiscardHandler))
		for _, err := range errs {
			t.Errorf("%s: %v", file, err)
		}
		if groups == nil {
			continue
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					cat.recorded[r.Record] = true
				}
				if r.Alert != "" {
					cat.alerts = append(cat.alerts, r.Alert)
				}
			}
		}
	}
	slices.Sort(cat.alerts)
	return cat
}

// family resolves a selector's metric name to an exported family: the name
// itself, or a classic histogram's (or summary's) _bucket, _sum and _count.
func (c catalog) family(name string) (string, bool) {
	if _, ok := c.families[name]; ok {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		mf, ok := c.families[base]
		if !ok {
			continue
		}
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			return base, true
		case dto.MetricType_SUMMARY:
			return base, suffix != "_bucket"
		}
	}
	return "", false
}

// filterLabels are the labels a selector of family must filter on with the
// variable of the same name: job and instance, which Prometheus adds to
// every series; service and target where the family has them; and location
// on per-target families (those with a target label). Location is a
// per-target label in the contract: the exporter may stamp it on other series
// too, but a deploy or the exporter's own state is not per location.
func (c catalog) filterLabels(family string, vars []variable) []string {
	has := c.labels[family]
	var out []string
	for _, v := range vars {
		switch v.Name {
		case "job", "instance":
			out = append(out, v.Name)
		case "service", "target":
			if has[v.Name] {
				out = append(out, v.Name)
			}
		case "location":
			if has["target"] {
				out = append(out, v.Name)
			}
		}
	}
	return out
}
