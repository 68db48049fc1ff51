// Package pack generates the http5xx rule pack (recording and alerting rules)
// from one small configuration, the way a monitoring mixin does: the job
// selector, the SLO objectives, the links the alerts carry, the thresholds,
// the `for` durations and the quorum of the fast outage page. The rule files
// checked in under rules/ are its output for Default().
package pack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Config is the pack's configuration (rules/pack.yml). Every field has a
// default; a file sets only what it changes.
type Config struct {
	// JobSelector selects the exporters' series, as PromQL label matchers
	// without braces: every raw metric the rules read carries it.
	JobSelector string `yaml:"job_selector"`
	// GrafanaURL is where the dashboards live; alerts link to the target
	// dashboard below it.
	GrafanaURL string `yaml:"grafana_url"`
	// RunbookURL is rules/runbooks.md as a browser opens it; each alert
	// links to its section.
	RunbookURL string `yaml:"runbook_url"`
	// EvaluationInterval, when set, is written as every group's interval;
	// unset, Prometheus' global evaluation_interval applies.
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	// ProbeInterval is the exporters' probe interval (global.interval):
	// the quorum page counts probes over a window derived from it.
	ProbeInterval model.Duration `yaml:"probe_interval"`

	SLO         SLO         `yaml:"slo"`
	Quorum      Quorum      `yaml:"quorum"`
	MinProbes   int         `yaml:"min_probes"`
	Classes     Escalation  `yaml:"classes"`
	Locally     Escalation  `yaml:"failing_locally"`
	Latency     Escalation  `yaml:"latency"`
	Saturation  Escalation  `yaml:"saturation"`
	BurnRate    BurnRate    `yaml:"burn_rate"`
	AfterDeploy AfterDeploy `yaml:"after_deploy"`
	Certificate Certificate `yaml:"certificate_expiry"`
	Maintenance Maintenance `yaml:"maintenance"`
}

// Maintenance is how the pack treats a service's maintenance windows
// (http5xx_maintenance_active, http5xx_maintenance_end_timestamp_seconds):
// its capacity alerts are held back inside a window and for Grace after
// it, and capacity errors after the window page as
// HTTP5xxMaintenanceOverran.
type Maintenance struct {
	// Grace after a window's end: capacity errors in it are the
	// maintenance's (HTTP5xxMaintenanceOverran), not a capacity incident.
	Grace model.Duration `yaml:"grace"`
	// OverranFor: how long capacity errors must go on after the end. At
	// least one minute (the alert's window), so that only errors after the
	// end count.
	OverranFor model.Duration `yaml:"overran_for"`
}

// SLO is the 5xx objective, by default and per service.
type SLO struct {
	Objective float64            `yaml:"objective"`
	Services  map[string]float64 `yaml:"services"`
}

// Quorum is the fast page for a target that is down from most locations.
type Quorum struct {
	// MinLocations failing locations at least, and more than half of those
	// that probe the target.
	MinLocations int `yaml:"min_locations"`
	// FailedProbes in a row, from each of those locations: one more than a
	// blip that must stay silent (4 probes = a 60 s blip at 15 s probes).
	FailedProbes int `yaml:"failed_probes"`
	// EvaluationInterval of the quorum's own rule group: the page waits at
	// most this long after the deciding scrape.
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	// KeepFiringFor outlasts the per-class alerts the page mutes.
	KeepFiringFor model.Duration `yaml:"keep_firing_for"`
}

// Escalation is a threshold with a warning and a longer critical `for`.
type Escalation struct {
	Threshold   float64        `yaml:"threshold"`
	WarningFor  model.Duration `yaml:"warning_for"`
	CriticalFor model.Duration `yaml:"critical_for"`
}

// BurnRate tunes the fast page of the multi-window burn-rate alerts.
type BurnRate struct {
	// PageFor is the `for` of the 1h/5m page: a flap or a blip that burns
	// budget for less than this pages nobody.
	PageFor model.Duration `yaml:"page_for"`
	// StillFailing: the 1h/5m page also needs an error in this window, so a
	// blip that is over stops it before PageFor.
	StillFailing model.Duration `yaml:"still_failing"`
}

// Certificate is the certificate-expiry alert: how long before NotAfter it
// warns and pages, and how long the condition must hold.
type Certificate struct {
	Warning  model.Duration `yaml:"warning"`
	Critical model.Duration `yaml:"critical"`
	For      model.Duration `yaml:"for"`
}

// AfterDeploy is the errors-after-deploy warning.
type AfterDeploy struct {
	Threshold float64        `yaml:"threshold"`
	Window    model.Duration `yaml:"window"`
	For       model.Duration `yaml:"for"`
}

// Default is the configuration the checked-in rule files are generated from.
func Default() Config {
	return Config{
		JobSelector:   `job="http5xx"`,
		GrafanaURL:    "https://grafana.example.com",
		RunbookURL:    "https://github.com/http5xx/http5xx_exporter/blob/main/rules/runbooks.md",
		ProbeInterval: dur(15 * time.Second),
		SLO:           SLO{Objective: 0.999},
		Quorum: Quorum{
			MinLocations:       2,
			FailedProbes:       5,
			EvaluationInterval: dur(5 * time.Second),
			KeepFiringFor:      dur(5 * time.Minute),
		},
		MinProbes:   5,
		Classes:     Escalation{Threshold: 0.1, WarningFor: dur(6 * time.Minute), CriticalFor: dur(15 * time.Minute)},
		Locally:     Escalation{Threshold: 0.5, WarningFor: dur(5 * time.Minute), CriticalFor: dur(30 * time.Minute)},
		Latency:     Escalation{Threshold: 2, WarningFor: dur(10 * time.Minute), CriticalFor: dur(30 * time.Minute)},
		Saturation:  Escalation{Threshold: 0.9, WarningFor: dur(10 * time.Minute), CriticalFor: dur(30 * time.Minute)},
		BurnRate:    BurnRate{PageFor: dur(5 * time.Minute), StillFailing: dur(2 * time.Minute)},
		AfterDeploy: AfterDeploy{Threshold: 0.05, Window: dur(30 * time.Minute), For: dur(5 * time.Minute)},
		Certificate: Certificate{Warning: dur(14 * 24 * time.Hour), Critical: dur(3 * 24 * time.Hour), For: dur(15 * time.Minute)},
		Maintenance: Maintenance{Grace: dur(time.Hour), OverranFor: dur(time.Minute)},
	}
}

func dur(d time.Duration) model.Duration { return model.Duration(d) }

// QuorumWindow is how far back the quorum page counts probes: one probe
// interval per failed probe it needs.
func (c Config) QuorumWindow() model.Duration {
	return model.Duration(time.Duration(c.ProbeInterval) * time.Duration(c.Quorum.FailedProbes))
}

// Load reads a configuration file over the defaults. Unknown fields are
// errors; every error names the file, the line and the field.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return Parse(path, b)
}

// Parse is Load on the file's content; name is used in errors.
func Parse(name string, b []byte) (Config, error) {
	c := Default()
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file changes nothing
		// A value its type refused (a duration) comes without a line: find it.
		if field, at := quotedValue(&root, "", err.Error()); at > 0 {
			return Config{}, fmt.Errorf("%s:%d: %s: %w", name, at, field, err)
		}
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(c.SLO.Services) == 0 {
		c.SLO.Services = nil // "services: {}" says the same as leaving it out
	}
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", name, line(&root, p.field), p.field, p.msg))
	}
	return c, errors.Join(errs...)
}

type problem struct{ field, msg string }

// problems lists what makes the configuration unusable, by dotted field.
func (c Config) problems() []problem {
	var out []problem
	add := func(field, format string, args ...any) {
		out = append(out, problem{field, fmt.Sprintf(format, args...)})
	}
	if ms, err := parser.NewParser(parser.Options{}).ParseMetricSelector("{" + c.JobSelector + "}"); err != nil || len(ms) == 0 {
		add("job_selector", "%q is no list of label matchers such as job=\"http5xx\"", c.JobSelector)
	} else if slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return m.Name == labels.MetricName }) {
		add("job_selector", "must not match on the metric name")
	}
	for _, u := range []struct{ field, v string }{{"grafana_url", c.GrafanaURL}, {"runbook_url", c.RunbookURL}} {
		if !strings.HasPrefix(u.v, "https://") && !strings.HasPrefix(u.v, "http://") {
			add(u.field, "%q is no http(s) URL", u.v)
		}
	}
	if c.ProbeInterval <= 0 {
		add("probe_interval", "must be positive")
	}
	objective := func(field string, v float64) {
		if v <= 0 || v >= 1 {
			add(field, "%v: an objective is a ratio between 0 and 1, such as 0.999", v)
		}
	}
	objective("slo.objective", c.SLO.Objective)
	for _, s := range sortedKeys(c.SLO.Services) {
		objective("slo.services."+s, c.SLO.Services[s])
	}
	if c.Quorum.MinLocations < 2 {
		add("quorum.min_locations", "%d: one location cannot tell an outage from its own network; at least 2", c.Quorum.MinLocations)
	}
	if c.Quorum.FailedProbes < 2 {
		add("quorum.failed_probes", "%d: at least 2", c.Quorum.FailedProbes)
	}
	if c.Quorum.EvaluationInterval <= 0 {
		add("quorum.evaluation_interval", "must be positive")
	}
	if c.MinProbes < 1 {
		add("min_probes", "%d: at least 1", c.MinProbes)
	}
	for _, e := range []struct {
		field string
		e     Escalation
	}{{"classes", c.Classes}, {"failing_locally", c.Locally}, {"latency", c.Latency}, {"saturation", c.Saturation}} {
		if e.e.Threshold <= 0 {
			add(e.field+".threshold", "must be positive")
		}
		if e.e.WarningFor <= 0 {
			add(e.field+".warning_for", "must be positive")
		}
		if e.e.CriticalFor <= e.e.WarningFor {
			add(e.field+".critical_for", "%v must be longer than warning_for %v", e.e.CriticalFor, e.e.WarningFor)
		}
	}
	if c.BurnRate.PageFor <= 0 {
		add("burn_rate.page_for", "must be positive")
	}
	if c.BurnRate.StillFailing <= 0 {
		add("burn_rate.still_failing", "must be positive")
	}
	if c.Certificate.Critical <= 0 || c.Certificate.For <= 0 {
		add("certificate_expiry", "critical and for must be positive")
	}
	if c.Certificate.Warning <= c.Certificate.Critical {
		add("certificate_expiry.warning", "%v must be longer than critical %v", c.Certificate.Warning, c.Certificate.Critical)
	}
	if c.AfterDeploy.Threshold <= 0 || c.AfterDeploy.Window <= 0 || c.AfterDeploy.For <= 0 {
		add("after_deploy", "threshold, window and for must be positive")
	}
	if c.Maintenance.Grace < c.Maintenance.OverranFor+dur(time.Minute) {
		add("maintenance.grace", "%v must be at least overran_for plus 1m (%v)", c.Maintenance.Grace, c.Maintenance.OverranFor+dur(time.Minute))
	}
	if c.Maintenance.OverranFor < dur(time.Minute) {
		add("maintenance.overran_for", "%v: at least 1m, the window over which errors after the end are counted", c.Maintenance.OverranFor)
	}
	return out
}

// quotedValue finds the first scalar whose quoted value the message names,
// returning its dotted field and line.
func quotedValue(n *yaml.Node, path, msg string) (string, int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if f, at := quotedValue(c, path, msg); at > 0 {
				return f, at
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := strings.TrimPrefix(path+"."+n.Content[i].Value, ".")
			v := n.Content[i+1]
			if v.Kind == yaml.ScalarNode && strings.Contains(msg, strconv.Quote(v.Value)) {
				return p, v.Line
			}
			if f, at := quotedValue(v, p, msg); at > 0 {
				return f, at
			}
		}
	}
	return "", 0
}

// line finds the line of a dotted field in the document, or of the nearest
// parent that is there (0 when the file does not set it at all).
func line(doc *yaml.Node, field string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	at := 0
	for _, key := range strings.Split(field, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				at, next = n.Content[i].Line, n.Content[i+1]
			}
		}
		n = next
	}
	return at
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
