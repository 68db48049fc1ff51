package routing_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/config"
	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/http5xx/http5xx_exporter/rules/pack"
	"github.com/http5xx/http5xx_exporter/rules/routing"
	"github.com/http5xx/http5xx_exporter/rules/rulepack"
)

const alertmanagerConfig = "../../examples/alertmanager.yml"

// receiverOwners are the owners examples/alertmanager.yml has receivers
// for: the part of each receiver name before -chat or -pager. Routing must
// send each to its own (TestEveryOwnerRoutesToItsReceivers).
func receiverOwners(t *testing.T) []string {
	t.Helper()
	cfg, err := config.LoadFile(alertmanagerConfig)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range cfg.Receivers {
		for _, suffix := range []string{"-chat", "-pager"} {
			if o, ok := strings.CutSuffix(r.Name, suffix); ok && !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no <owner>-chat or <owner>-pager receivers", alertmanagerConfig)
	}
	return out
}

// receiver is where an alert with these labels must go.
func receiver(owners []string, ls map[string]string) string {
	owner := ls["owner"]
	if !slices.Contains(owners, owner) {
		owner = "sre-oncall"
	}
	if ls["severity"] == "critical" {
		return owner + "-pager"
	}
	return owner + "-chat"
}

// amtool returns the pinned amtool the Makefile builds (AMTOOL overrides).
func amtool(t *testing.T) string {
	t.Helper()
	path := os.Getenv("AMTOOL")
	if path == "" {
		path = "../../.bin/amtool"
	}
	path, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("amtool not found (%v): run `make rules-test`, which builds it, or set AMTOOL", err)
	}
	return path
}

// routesTo runs amtool config routes test and fails t unless the labels
// route to want and to nothing else.
func routesTo(t *testing.T, bin string, ls map[string]string, want string) {
	t.Helper()
	args := []string{"config", "routes", "test", "--config.file=" + alertmanagerConfig, "--verify.receivers=" + want}
	names := make([]string, 0, len(ls))
	for k := range ls {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, k+"="+ls[k])
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Errorf("%v routes to %s, want %s (%v)", ls, strings.TrimSpace(string(out)), want, err)
	}
}

// TestRoutes is the routing table: one case per owner and severity, plus
// the alerts nobody owns.
func TestRoutes(t *testing.T) {
	bin := amtool(t)
	owners := receiverOwners(t)
	type tc struct {
		labels   map[string]string
		receiver string
	}
	var cases []tc
	for _, o := range owners {
		for _, sev := range []string{"warning", "critical"} {
			want := o + "-chat"
			if sev == "critical" {
				want = o + "-pager"
			}
			cases = append(cases, tc{map[string]string{"alertname": "HTTP5xxAppErrors", "owner": o, "severity": sev, "target": "checkout"}, want})
		}
	}
	cases = append(cases,
		tc{map[string]string{"alertname": "HTTP5xxErrorBudgetBurn", "severity": "warning", "target": "checkout"}, "sre-oncall-chat"},
		tc{map[string]string{"alertname": "HTTP5xxErrorBudgetBurn", "severity": "critical", "target": "checkout"}, "sre-oncall-pager"},
		tc{map[string]string{"alertname": "HTTP5xxErrorBudgetBurn", "owner": "payments", "severity": "warning"}, "sre-oncall-chat"},
		tc{map[string]string{"alertname": "HTTP5xxErrorBudgetBurn", "owner": "payments", "severity": "critical"}, "sre-oncall-pager"},
		tc{map[string]string{"alertname": "SomethingElse"}, "sre-oncall-chat"},
		// 503s after a maintenance window: sre-oncall's pager, whoever owns
		// the capacity class.
		tc{map[string]string{"alertname": "HTTP5xxMaintenanceOverran", "error_class": "capacity", "owner": "sre-oncall", "severity": "critical", "service": "shop"}, "sre-oncall-pager"},
		// The exporter's own alerts reach its operator even with a target's
		// owner on them.
		tc{map[string]string{"alertname": "HTTP5xxExporterResourcesExhausted", "error_class": "exporter", "owner": "app-infra", "severity": "warning"}, "sre-oncall-chat"},
		tc{map[string]string{"alertname": "HTTP5xxExporterResourcesExhausted", "error_class": "exporter", "owner": "app-infra", "severity": "critical"}, "sre-oncall-pager"},
	)
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.labels["owner"], c.labels["severity"]), func(t *testing.T) {
			routesTo(t, bin, c.labels, c.receiver)
		})
	}
}

// testAlerts returns every alert the promtool tests expect to fire, as
// Alertmanager receives them, without duplicates.
func testAlerts(t *testing.T) []model.LabelSet {
	t.Helper()
	tests, err := rulepack.LoadTests("../tests/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[model.Fingerprint]bool{}
	var out []model.LabelSet
	for _, tf := range tests {
		for _, g := range tf.Groups {
			for _, at := range g.AlertTests {
				for _, e := range at.ExpAlerts {
					ls := model.LabelSet{"alertname": model.LabelValue(at.Alertname)}
					for k, v := range e.Labels {
						ls[model.LabelName(k)] = model.LabelValue(v)
					}
					if fp := ls.Fingerprint(); !seen[fp] {
						seen[fp] = true
						out = append(out, ls)
					}
				}
			}
		}
	}
	return out
}

// TestPackAlertsRouteToTheirOwner routes every alert the promtool tests
// expect, with its exact labels.
func TestPackAlertsRouteToTheirOwner(t *testing.T) {
	bin := amtool(t)
	owners := receiverOwners(t)
	for _, a := range testAlerts(t) {
		ls := map[string]string{}
		for k, v := range a {
			ls[string(k)] = string(v)
		}
		routesTo(t, bin, ls, receiver(owners, ls))
	}
}

func loadInhibitRules(t *testing.T) []amcommoncfg.InhibitRule {
	t.Helper()
	cfg, err := config.LoadFile(alertmanagerConfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.InhibitRules
}

func alert(kv ...string) model.LabelSet {
	ls := model.LabelSet{}
	for i := 0; i+1 < len(kv); i += 2 {
		ls[model.LabelName(kv[i])] = model.LabelValue(kv[i+1])
	}
	return ls
}

// with returns a copy of ls with the labels in kv set (an empty value
// removes the label).
func with(ls model.LabelSet, kv ...string) model.LabelSet {
	out := ls.Clone()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, model.LabelName(kv[i]))
			continue
		}
		out[model.LabelName(kv[i])] = model.LabelValue(kv[i+1])
	}
	return out
}

func TestInhibition(t *testing.T) {
	rules := loadInhibitRules(t)

	app := alert("alertname", "HTTP5xxAppErrors", "severity", "warning", "error_class", "app", "class", "app", "owner", "app-team",
		"target", "checkout", "service", "shop", "location", "fra")
	appCritical := with(app, "severity", "critical")
	appIad := with(app, "location", "iad")
	appCart := with(app, "target", "cart")
	gateway := with(app, "alertname", "HTTP5xxGatewayErrors", "error_class", "gateway", "class", "gateway", "owner", "app-infra")
	latency := with(app, "alertname", "HTTP5xxLatencyHigh", "error_class", "timeout", "class", "", "owner", "db-api-owners", "quantile", "0.9")
	everywhere := alert("alertname", "HTTP5xxFailingEverywhere", "severity", "critical", "error_class", "gateway", "class", "gateway",
		"owner", "app-infra", "target", "checkout", "service", "shop")
	locally := alert("alertname", "HTTP5xxFailingLocally", "severity", "warning", "error_class", "network", "owner", "network",
		"target", "checkout", "service", "shop", "location", "fra")
	page := alert("alertname", "HTTP5xxErrorBudgetBurn", "severity", "critical", "error_class", "all", "owner", "app-team",
		"target", "checkout", "service", "shop", "long_window", "1h", "short_window", "5m")
	ticket := with(page, "severity", "warning", "long_window", "1d", "short_window", "2h")
	ticketCart := with(ticket, "target", "cart")
	deploy := alert("alertname", "HTTP5xxErrorsAfterDeploy", "severity", "warning", "error_class", "all", "owner", "app-team",
		"target", "checkout", "service", "shop", "version", "1.5.0")
	down := alert("alertname", "HTTP5xxExporterDown", "severity", "warning", "error_class", "exporter", "owner", "sre-oncall",
		"job", "http5xx", "instance", "exporter-fra:10505", "location", "fra")
	downCritical := with(down, "severity", "critical")
	replicaDown := with(down, "shard", "1", "shards", "2")
	shardDown := with(replicaDown, "severity", "critical", "instance", "", "job", "")
	downNoLocation := with(down, "location", "", "instance", "exporter:10505")
	appNoLocation := with(app, "location", "")
	reload := alert("alertname", "HTTP5xxConfigReloadFailed", "severity", "warning", "error_class", "exporter", "owner", "sre-oncall",
		"job", "http5xx", "instance", "exporter-fra:10505", "location", "fra")
	absent := alert("alertname", "HTTP5xxExporterAbsent", "severity", "critical", "error_class", "exporter", "owner", "sre-oncall")
	absentFra := with(absent, "location", "fra")
	absentIad := with(absent, "location", "iad")
	gatewayCritical := with(gateway, "severity", "critical")
	networkCritical := with(app, "alertname", "HTTP5xxNetworkErrors", "error_class", "network", "class", "network", "owner", "network",
		"severity", "critical")
	latencyCritical := with(latency, "severity", "critical")
	appCriticalIad := with(appCritical, "location", "iad")
	appCriticalCart := with(appCritical, "target", "cart")
	appCriticalNoLocation := with(appCritical, "location", "")
	locallyCritical := with(locally, "severity", "critical")
	locallyNoLocation := with(locally, "location", "")
	// The end-to-end test's regional outage: 502s for probes from ap only.
	storefrontLocally := with(locally, "target", "storefront", "location", "ap")
	storefrontGatewayCritical := with(gatewayCritical, "target", "storefront", "location", "ap")
	overran := alert("alertname", "HTTP5xxMaintenanceOverran", "severity", "critical", "error_class", "capacity", "owner", "sre-oncall",
		"service", "shop")
	capacity := with(app, "alertname", "HTTP5xxCapacityErrors", "error_class", "capacity", "class", "capacity", "owner", "sre-oncall")

	for _, tc := range []struct {
		name   string
		firing model.LabelSet
		alert  model.LabelSet
		muted  bool
	}{
		{"critical mutes its warning", appCritical, app, true},
		{"critical leaves other locations", appCritical, appIad, false},
		{"critical leaves other alerts", appCritical, gateway, false},
		{"page mutes the ticket", page, ticket, true},
		{"page leaves other targets' tickets", page, ticketCart, false},
		{"exporter critical mutes its warning", downCritical, down, true},

		{"everywhere mutes the per-class warning", everywhere, app, true},
		{"everywhere mutes the per-class critical", everywhere, appCritical, true},
		{"everywhere mutes other classes of the target", everywhere, gateway, true},
		{"everywhere mutes failing locally", everywhere, locally, true},
		{"everywhere leaves other targets", everywhere, appCart, false},
		{"everywhere leaves the SLO", everywhere, ticket, false},
		{"everywhere leaves the deploy alert", everywhere, deploy, false},
		{"everywhere leaves latency", everywhere, latency, false},
		{"everywhere does not mute itself", everywhere, everywhere, false},

		// The local verdict wins: the class's team is not paged for one
		// location's problem. Only the per-class critical alerts are muted:
		// they always fire after failing locally, the warnings may not
		// (TestVerdictsFireFirstAndResolveLast).
		{"failing locally mutes the per-class critical of its target and location", locally, appCritical, true},
		{"failing locally mutes every class's critical there", locally, gatewayCritical, true},
		{"failing locally mutes the network class's critical there", locally, networkCritical, true},
		{"failing locally as critical mutes them too", locallyCritical, gatewayCritical, true},
		{"failing locally from ap mutes the gateway page of ap", storefrontLocally, storefrontGatewayCritical, true},
		{"failing locally leaves the per-class warning", locally, app, false},
		{"failing locally leaves other locations", locally, appCriticalIad, false},
		{"failing locally leaves other targets", locally, appCriticalCart, false},
		{"failing locally from ap leaves checkout's gateway page there", storefrontLocally, with(gatewayCritical, "location", "ap"), false},
		{"failing locally leaves latency", locally, latencyCritical, false},
		{"failing locally leaves the SLO", locally, page, false},
		{"failing locally leaves the deploy alert", locally, deploy, false},
		{"failing locally leaves failing everywhere", locally, everywhere, false},
		{"failing locally leaves its own critical", locally, locallyCritical, false},
		{"failing locally without location mutes nothing", locallyNoLocation, appCriticalNoLocation, false},

		{"shard down mutes its location", downCritical, app, true},
		{"shard down mutes latency there", downCritical, latency, true},
		{"shard down mutes failing locally there", downCritical, locally, true},
		{"one replica down leaves its location", down, app, false},
		{"one replica down leaves failing locally there", down, locally, false},
		{"shard down mutes its replicas' warnings", shardDown, replicaDown, true},
		{"shard down leaves other shards' replicas", shardDown, with(replicaDown, "shard", "0"), false},
		{"shard down leaves other locations' replicas", shardDown, with(replicaDown, "location", "iad"), false},
		{"replica down does not mute its shard", replicaDown, shardDown, false},
		{"exporter down leaves other locations", down, appIad, false},
		{"exporter down leaves target-wide alerts", down, page, false},
		{"exporter down leaves failing everywhere", down, everywhere, false},
		{"exporter down leaves the deploy alert", down, deploy, false},
		{"exporter down leaves the exporter's alerts", down, reload, false},
		{"exporter down leaves absent", down, absent, false},
		// A location whose exporter is down stops reporting too: absent
		// would page sre-oncall a second time for the same cause.
		{"exporter down mutes absent of its location", down, absentFra, true},
		{"exporter down as critical mutes absent of its location", downCritical, absentFra, true},
		{"exporter down leaves absent of other locations", down, absentIad, false},
		{"exporter down without location leaves absent without location", downNoLocation, absent, false},
		{"absent does not mute exporter down", absentFra, down, false},
		{"exporter down does not mute itself", down, down, false},
		{"exporter down without location mutes nothing", downNoLocation, appNoLocation, false},
		{"exporter down without location leaves the SLO", downNoLocation, ticket, false},

		// The page for a maintenance that overran is about a service, with
		// no target or location: no verdict mutes it, and it mutes nothing
		// (the rules hold the service's capacity alerts back themselves).
		{"shard down leaves maintenance overran", downCritical, overran, false},
		{"everywhere leaves maintenance overran", everywhere, overran, false},
		{"page leaves maintenance overran", page, overran, false},
		{"maintenance overran mutes no capacity alert", overran, capacity, false},
		{"maintenance overran mutes no page", overran, with(everywhere, "error_class", "capacity", "class", "capacity", "owner", "sre-oncall"), false},
	} {
		if _, got := routing.Inhibited(rules, []model.LabelSet{tc.firing}, tc.alert); got != tc.muted {
			t.Errorf("%s: muted %v, want %v\n  firing %v\n  alert  %v", tc.name, got, tc.muted, tc.firing, tc.alert)
		}
	}
}

// TestInhibitRulesAvoidTheTraps checks the rules against every alert the
// pack's tests expect: every rule names equal labels and uses matchers
// only, no alert sits on both sides of a rule (it could not mute its peers),
// and no alert mutes another only because both lack every equal label.
func TestInhibitRulesAvoidTheTraps(t *testing.T) {
	rules := loadInhibitRules(t)
	alerts := testAlerts(t)
	for i, r := range rules {
		if len(r.Equal) == 0 {
			t.Errorf("inhibit rule %d: no equal labels: a source alert would mute every target alert", i)
		}
		if len(r.SourceMatch)+len(r.SourceMatchRE)+len(r.TargetMatch)+len(r.TargetMatchRE) > 0 {
			t.Errorf("inhibit rule %d: use source_matchers and target_matchers", i)
		}
		source, target := labels.Matchers(r.SourceMatchers), labels.Matchers(r.TargetMatchers)
		for _, a := range alerts {
			if source.Matches(a) && target.Matches(a) {
				t.Errorf("inhibit rule %d: %v matches both sides", i, a)
			}
		}
		for _, s := range alerts {
			for _, a := range alerts {
				if s.Equal(a) {
					continue
				}
				j, muted := routing.Inhibited(rules[i:i+1], []model.LabelSet{s}, a)
				if !muted || j != 0 {
					continue
				}
				shared := false
				for _, n := range r.Equal {
					if s[model.LabelName(n)] != "" {
						shared = true
					}
				}
				if !shared {
					t.Errorf("inhibit rule %d: %v mutes %v although both lack every label of %v", i, s, a, r.Equal)
				}
			}
		}
	}
}

// onsetThreshold is the 5m error ratio at which an alert's condition starts
// to hold, for the alerts that Alertmanager mutes with a verdict or uses as
// one: a location fails a target at 50% of its probes
// (http5xx-locations.rules), a class alerts at 10% (http5xx-classes).
var onsetThreshold = map[string]float64{
	"HTTP5xxFailingLocally": 0.5,
	"HTTP5xxAppErrors":      0.1,
	"HTTP5xxGatewayErrors":  0.1,
	"HTTP5xxCapacityErrors": 0.1,
	"HTTP5xxTimeoutErrors":  0.1,
	"HTTP5xxNetworkErrors":  0.1,
}

// window is the range of the ratios those conditions read.
const window = 5 * time.Minute

// onset is when an alert's condition starts to hold in a full outage: the
// quorum page once its last failed probe is in (it counts probes, not a
// ratio), the others once their 5m ratio reaches its threshold.
func onset(alert string) (time.Duration, bool) {
	if alert == "HTTP5xxFailingEverywhere" {
		cfg := pack.Default()
		return time.Duration(cfg.ProbeInterval) * time.Duration(cfg.Quorum.FailedProbes-1), true
	}
	t, ok := onsetThreshold[alert]
	return time.Duration(t * float64(window)), ok
}

// TestVerdictsFireFirstAndResolveLast checks the timing that makes the
// inhibit rules with a verdict as source work (rules/runbooks.md, "Which
// alert comes first"). Alertmanager can mute only an alert whose verdict it
// already has, and sends no resolved notification for an alert that is
// muted when it resolves. So for every alert a rule mutes, the earliest of
// its sources must fire before it, and keep firing until it has resolved.
// In a full outage (every probe fails from one moment on) a 5m ratio reaches
// threshold t after t*5m; once the errors stop it stays at or above t for
// (1-t)*5m, while the source's own condition may clear at once.
func TestVerdictsFireFirstAndResolveLast(t *testing.T) {
	pack, err := rulepack.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	rules := loadInhibitRules(t)
	dur := func(d model.Duration) time.Duration { return time.Duration(d) }
	checked := 0
	for i, r := range rules {
		source, target := labels.Matchers(r.SourceMatchers), labels.Matchers(r.TargetMatchers)
		for _, tr := range pack.Alerts() {
			tt, ok := onsetThreshold[tr.Alert]
			tOnset, _ := onset(tr.Alert)
			if !ok || !target.Matches(ruleLabels(tr, r.Equal)) {
				continue
			}
			// The source that fires first, among the other alerts.
			var first *rulefmt.Rule
			var firstAt time.Duration
			for _, sr := range pack.Alerts() {
				st, ok := onset(sr.Alert)
				if !ok || sr.Alert == tr.Alert || !source.Matches(ruleLabels(sr, r.Equal)) {
					continue
				}
				at := st + dur(sr.For)
				if first == nil || at < firstAt {
					first, firstAt = &sr, at
				}
			}
			if first == nil {
				continue
			}
			checked++
			where := fmt.Sprintf("inhibit rule %d: %s (%s) mutes %s (%s)", i, first.Alert, first.Labels["severity"], tr.Alert, tr.Labels["severity"])
			if fires := tOnset + dur(tr.For); firstAt >= fires {
				t.Errorf("%s: in a full outage the source fires after %v, the alert it mutes after %v: the alert goes out before its verdict", where, firstAt, fires)
			}
			if holds := time.Duration((1 - tt) * float64(window)); dur(first.KeepFiringFor) < holds {
				t.Errorf("%s: keep_firing_for %v, but the muted alert may fire for %v after the source's condition clears: it would go out after the incident", where, first.KeepFiringFor, holds)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no inhibit rule with a verdict as source")
	}
}

// ruleLabels is an alert of the rule as Alertmanager would see it: its name
// and static labels, and some value for the labels only the data sets.
func ruleLabels(r rulefmt.Rule, equal []string) model.LabelSet {
	ls := model.LabelSet{"alertname": model.LabelValue(r.Alert)}
	for _, n := range append([]string{"target", "service", "location"}, equal...) {
		ls[model.LabelName(n)] = "x"
	}
	for k, v := range r.Labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// TestExporterDownComesBeforeAbsent checks the timing the inhibit rule from
// HTTP5xxExporterDown to HTTP5xxExporterAbsent relies on: an exporter that
// cannot be scraped makes both conditions true at the same scrape, so the
// mute only works when ExporterDown fires (and reaches Alertmanager) first.
func TestExporterDownComesBeforeAbsent(t *testing.T) {
	pack, err := rulepack.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	var down, absent []time.Duration
	for _, r := range pack.Alerts() {
		switch r.Alert {
		case "HTTP5xxExporterDown":
			down = append(down, time.Duration(r.For))
		case "HTTP5xxExporterAbsent":
			absent = append(absent, time.Duration(r.For))
		}
	}
	if len(down) == 0 || len(absent) == 0 {
		t.Fatalf("ExporterDown for %v, ExporterAbsent for %v: both alerts must exist", down, absent)
	}
	if slices.Min(down) >= slices.Min(absent) {
		t.Errorf("HTTP5xxExporterDown fires after %v, HTTP5xxExporterAbsent after %v: absent would page before the alert that mutes it", slices.Min(down), slices.Min(absent))
	}
	rules := loadInhibitRules(t)
	downFra := model.LabelSet{"alertname": "HTTP5xxExporterDown", "severity": "warning", "location": "fra", "error_class": "exporter"}
	absentFra := model.LabelSet{"alertname": "HTTP5xxExporterAbsent", "severity": "critical", "location": "fra", "error_class": "exporter"}
	if _, muted := routing.Inhibited(rules, []model.LabelSet{downFra}, absentFra); !muted {
		t.Error("HTTP5xxExporterDown does not mute HTTP5xxExporterAbsent of its location")
	}
}

// exampleOwners are the teams the example configurations name: every
// target's owner and every team of its owners (and its service's) in the
// exporter's example configs, and every default owner of the default class
// table as the exporter exports it (the owner label of its golden /metrics).
func exampleOwners(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{} // owner -> where it is named
	for _, path := range exampleConfigs {
		cfg := loadExample(t, path)
		for _, s := range cfg.Services {
			for class, team := range s.Owners {
				out[team] = fmt.Sprintf("%s: service %s, class %s", path, s.Name, class)
			}
		}
		for _, tg := range cfg.Targets {
			if tg.Owner != "" {
				out[tg.Owner] = fmt.Sprintf("%s: target %s", path, tg.Name)
			}
			for class, team := range tg.Owners {
				out[team] = fmt.Sprintf("%s: target %s, class %s", path, tg.Name, class)
			}
		}
	}
	golden, err := os.ReadFile("../../collector/testdata/metrics.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`[{,]owner="([^"]+)"`).FindAllSubmatch(golden, -1) {
		out[string(m[1])] = "the default class table (metrics.golden)"
	}
	if len(out) < 2 {
		t.Fatalf("found only the owners %v in the example configurations", out)
	}
	return out
}

// TestEveryOwnerRoutesToItsReceivers pages every team the examples name on
// receivers of its own: the target-owned alerts (burn rate, errors after a
// deploy) carry the target's owner, the per-class alerts the class's owner,
// and none of them may fall through to sre-oncall.
func TestEveryOwnerRoutesToItsReceivers(t *testing.T) {
	bin := amtool(t)
	for owner, where := range exampleOwners(t) {
		t.Run(owner, func(t *testing.T) {
			for _, a := range []map[string]string{
				{"alertname": "HTTP5xxErrorBudgetBurn", "severity": "critical", "error_class": "all", "long_window": "1h", "short_window": "5m"},
				{"alertname": "HTTP5xxErrorBudgetBurn", "severity": "warning", "error_class": "all", "long_window": "1d", "short_window": "2h"},
				{"alertname": "HTTP5xxErrorsAfterDeploy", "severity": "warning", "error_class": "all", "version": "1.2.3"},
				{"alertname": "HTTP5xxFailingEverywhere", "severity": "critical", "error_class": "gateway", "class": "gateway"},
			} {
				a["owner"], a["target"], a["service"] = owner, "checkout", "checkout"
				want := owner + "-chat"
				if a["severity"] == "critical" {
					want = owner + "-pager"
				}
				routesTo(t, bin, a, want)
			}
			if t.Failed() {
				t.Logf("%s is named by %s", owner, where)
			}
		})
	}
}

// TestPagesWaitBriefly checks the route of every page: the quorum page must
// reach a pager within 90s of the first failed probe, and group_wait is part
// of that time (rules/runbooks.md, "Time to page").
func TestPagesWaitBriefly(t *testing.T) {
	cfg, err := config.LoadFile(alertmanagerConfig)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 5 * time.Second
	for owner := range exampleOwners(t) {
		ls := model.LabelSet{"alertname": "HTTP5xxFailingEverywhere", "severity": "critical", "owner": model.LabelValue(owner), "target": "checkout"}
		for _, r := range dispatch.NewRoute(cfg.Route, nil).Match(ls) {
			if r.RouteOpts.GroupWait > limit {
				t.Errorf("%s's page waits %v (group_wait of the route to %s), want at most %v", owner, r.RouteOpts.GroupWait, r.RouteOpts.Receiver, limit)
			}
		}
	}
}
