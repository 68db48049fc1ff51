package pack

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Files returns the pack's rule files in the order Prometheus loads them:
// recording rules first.
func (c Config) Files() []File {
	return []File{c.recordingFile(), c.alertsFile()}
}

// errorClasses are the classes with an alert each, in the order of the
// exporter's default class table.
var errorClasses = []struct {
	class, alert string
	summary      string
	description  string // after "{target} (service {service}) "
}{
	{"app", "HTTP5xxAppErrors", "Target answers with application errors (500 or soft errors).",
		"answered {{ $value | humanizePercentage }} of the probes of the last 5 minutes{{ with $labels.location }} from {{ . }}{{ end }} " +
			"with an application error: a 500, another unlisted 5xx, or a soft error (an answer that failed the target's expect conditions or is an error page served as 2xx). Read the application's error log first."},
	{"gateway", "HTTP5xxGatewayErrors", "Proxy in front of the target gets no valid answer from the backend (502).",
		"failed {{ $value | humanizePercentage }} of the probes of the last 5 minutes{{ with $labels.location }} from {{ . }}{{ end }} " +
			"with 502 Bad Gateway, a refused or reset connection, or a malformed answer. Check first whether the backend process is running."},
	{"capacity", "HTTP5xxCapacityErrors", "Target refuses requests as overloaded or in maintenance (503).",
		"answered {{ $value | humanizePercentage }} of the probes of the last 5 minutes{{ with $labels.location }} from {{ . }}{{ end }} " +
			"with 503 Service Unavailable. Check CPU and memory saturation and whether a maintenance flag is on."},
	{"timeout", "HTTP5xxTimeoutErrors", "Target is too slow to answer in time (504 or probe timeout).",
		"timed out on {{ $value | humanizePercentage }} of the probes of the last 5 minutes{{ with $labels.location }} from {{ . }}{{ end }} " +
			"(504 Gateway Timeout or no answer in time). Look for slow queries and hung third-party calls before raising any timeout."},
	{"network", "HTTP5xxNetworkErrors", "Probes fail on name resolution or TLS.",
		"could not be reached on {{ $value | humanizePercentage }} of the probes of the last 5 minutes{{ with $labels.location }} from {{ . }}{{ end }} " +
			"because DNS resolution or the TLS handshake failed. Check the resolver and the certificate."},
}

// ratioWindows are the windows of the error ratios: 5m for the alerts, the
// rest for the burn rates.
var ratioWindows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// burnRates are the multi-window, multi-burn-rate alerts on the SLO.
var burnRates = []struct {
	long, short string
	factor      float64
	severity    string
	forCfg      bool   // `for` is burn_rate.page_for
	forFixed    string // otherwise this
	lasts       string
}{
	{"1h", "5m", 14.4, "critical", true, "", "about 2 days"},
	{"6h", "30m", 6, "critical", false, "15m", "5 days"},
	{"1d", "2h", 3, "warning", false, "1h", "10 days"},
	{"3d", "6h", 1, "warning", false, "3h", "30 days"},
}

// sel is a raw metric of the exporters, with the job selector and extra
// matchers.
func (c Config) sel(metric string, matchers ...string) string {
	return metric + "{" + strings.Join(append([]string{c.JobSelector}, matchers...), ", ") + "}"
}

// diff is a counter's exact difference to its sample `window` ago, a
// series that did not exist then counting from 0, as the alternatives of
// an `or`: no extrapolation, so a count of probes stays a whole number,
// and a missed scrape in between changes nothing.
func diff(series, window string) []string {
	return []string{
		fmt.Sprintf("%[1]s - %[1]s offset %[2]s", series, window),
		fmt.Sprintf("%[1]s unless %[1]s offset %[2]s", series, window),
	}
}

// sumOr sums the alternatives of an `or` by the labels in by.
func sumOr(by string, alternatives ...string) string {
	return fmt.Sprintf("sum by (%s) (\n    %s\n)", by, strings.Join(alternatives, "\n  or\n    "))
}

// inWindow selects the services inside a maintenance window by any
// exporter. last_over_time bridges a missed scrape: the gauge keeps its
// last value for a minute instead of vanishing with a stale marker.
func (c Config) inWindow() string {
	return fmt.Sprintf("max by (service) (last_over_time(%s[1m])) == 1", c.sel("http5xx_maintenance_active"))
}

// maintenanceSpan selects the services inside a maintenance window or
// within the grace after its end (the current window's end lies ahead,
// so time() - end is negative inside it): their capacity errors are the
// maintenance's, held back from the capacity alerts and paged, after the
// end, by HTTP5xxMaintenanceOverran.
func (c Config) maintenanceSpan() string {
	return fmt.Sprintf(`(
    %s
  or
    time() - max by (service) (last_over_time(%s[1m])) < %s
)`, c.inWindow(), c.sel("http5xx_maintenance_end_timestamp_seconds"), secs(c.Maintenance.Grace))
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func secs(d model.Duration) string { return num(time.Duration(d).Seconds()) }

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

func (c Config) runbook(alert string) KV {
	return KV{"runbook_url", c.RunbookURL + "#" + strings.ToLower(alert)}
}

func (c Config) dashboard() KV {
	return KV{"dashboard_url", strings.TrimRight(c.GrafanaURL, "/") + "/d/http5xx-target/http5xx-target?var-target={{ $labels.target | urlquery }}"}
}

// annotations are the summary, description and links of an alert; target
// alerts link to the target's dashboard.
func (c Config) annotations(alert, summary, description string, aboutTarget bool) []KV {
	out := []KV{{"summary", summary}, {"description", description}, c.runbook(alert)}
	if aboutTarget {
		out = append(out, c.dashboard())
	}
	return out
}

// escalate returns the warning and the critical rule of one alert.
func escalate(r Rule, warningFor, criticalFor model.Duration) []Rule {
	warning, critical := r, r
	warning.For, critical.For = warningFor, criticalFor
	warning.Labels = append([]KV{{"severity", "warning"}}, r.Labels...)
	critical.Labels = append([]KV{{"severity", "critical"}}, r.Labels...)
	critical.Comment = ""
	return []Rule{warning, critical}
}

func (c Config) recordingFile() File {
	return File{
		Name: "http5xx-recording.yml",
		Comment: `Recording rules of the http5xx_exporter rule pack, named level:metric:operations.
GENERATED by rules/cmd/gen from rules/pack.yml: change that file (or the
generator in rules/pack) and run ` + "`make rules-generate`" + `.

Levels: "target" keeps target and service, "location" adds the probing
location, "class" the error class with its owner. Every per-target rule
aggregates job and instance away: target, service and location identify a
series; replicas of one location are taken once (max), never added up.

Error classes are every class except the 1xx-4xx pseudo-classes: app,
gateway, capacity, timeout, network by default (docs/architecture.md). An error is an
HTTP answer of an error class (http5xx_responses_total) or a probe without
an answer (http5xx_failures_total). The error ratio is errors / probes.`,
		Groups: []Group{c.sloRecording(), c.errorsRecording(), c.locationsRecording(), c.latencyRecording(), c.ownersRecording()},
	}
}

func (c Config) interval() model.Duration { return c.EvaluationInterval }

func (c Config) sloRecording() Group {
	g := Group{
		Name:     "http5xx-slo.rules",
		Interval: c.interval(),
		Comment: `The 5xx SLO. The objectives live here and nowhere else: the burn-rate
alerts read them through target:http5xx_slo_error_budget:ratio.`,
		Rules: []Rule{{Record: "global:http5xx_slo_objective:ratio", Expr: fmt.Sprintf("vector(%s)", num(c.SLO.Objective))}},
	}
	services := sortedKeys(c.SLO.Services)
	for i, s := range services {
		r := Rule{Record: "service:http5xx_slo_objective:ratio", Expr: fmt.Sprintf("vector(%s)", num(c.SLO.Services[s])), Labels: []KV{{"service", s}}}
		if i == 0 {
			r.Comment = "Services with their own objective."
		}
		g.Rules = append(g.Rules, r)
	}
	g.Rules = append(g.Rules, Rule{Record: "global:http5xx_slo_error_budget:ratio", Expr: "1 - global:http5xx_slo_objective:ratio"})
	probed := fmt.Sprintf("group by (target, service) (%s)", c.sel("http5xx_probes_total"))
	objective := probed + " * scalar(global:http5xx_slo_objective:ratio)"
	if len(services) > 0 {
		objective = fmt.Sprintf("  %s * on (service) group_left service:http5xx_slo_objective:ratio\nor on (target, service)\n  %s", probed, objective)
	}
	g.Rules = append(g.Rules, Rule{
		Comment: "The error budget of each probed target: its service's objective, or the default.",
		Record:  "target:http5xx_slo_error_budget:ratio",
		Expr:    "1 - (\n" + indent(objective, "  ") + "\n)",
	})
	return g
}

// errorRatio is the error ratio per target, location and class over w.
func (c Config) errorRatio(by, per, w string) string {
	return fmt.Sprintf(`sum by (%[1]s) (
    rate(%[3]s[%[4]s])
  or
    rate(%[5]s[%[4]s])
)
/ on (%[2]s) group_left
sum by (%[2]s) (rate(%[6]s[%[4]s]))`, by, per,
		c.sel("http5xx_responses_total", `class!~"[1-4]xx"`), w, c.sel("http5xx_failures_total"), c.sel("http5xx_probes_total"))
}

func (c Config) errorsRecording() Group {
	g := Group{
		Name:     "http5xx-errors.rules",
		Interval: c.interval(),
		Rules: []Rule{
			{
				Comment: fmt.Sprintf(`Probes per location in the last 5m: the minimum-probe guard of every
ratio alert (a ratio over a handful of probes is noise). Replicas of one
location probe independently: the busiest one counts, they never add up.`),
				Record: "target_location:http5xx_probes:increase5m",
				Expr:   fmt.Sprintf("max by (target, service, location) (increase(%s[5m]))", c.sel("http5xx_probes_total")),
			},
			{
				Comment: "The same for the target as a whole: the median location.",
				Record:  "target:http5xx_probes:increase5m",
				Expr:    "quantile by (target, service) (0.5, target_location:http5xx_probes:increase5m)",
			},
			{
				Comment: `Probe success ratio: the share of the last 5m in which the last probe
met the target's valid_status_codes.`,
				Record: "target_location:http5xx_target_up:avg_over_time5m",
				Expr:   fmt.Sprintf("max by (target, service, location) (avg_over_time(%s[5m]))", c.sel("http5xx_target_up")),
			},
		},
	}
	for i, w := range ratioWindows {
		classRule := Rule{
			Record: "target_location_class:http5xx_errors:ratio_rate" + w,
			Expr:   c.errorRatio("target, service, location, class, owner", "target, service, location", w),
		}
		if i == 0 {
			classRule.Comment = `Error ratio per target, location and class (target_location_class),
per target and location over all classes (target_location), and per
target (target): the median location, so that one location's broken
network neither burns nor hides the SLO.`
		}
		g.Rules = append(g.Rules, classRule,
			Rule{Record: "target_location:http5xx_errors:ratio_rate" + w, Expr: "sum by (target, service, location) (target_location_class:http5xx_errors:ratio_rate" + w + ")"},
			Rule{Record: "target:http5xx_errors:ratio_rate" + w, Expr: "quantile by (target, service) (0.5, target_location:http5xx_errors:ratio_rate" + w + ")"},
		)
	}
	g.Rules = append(g.Rules, Rule{
		Comment: `Error ratio per target and class over all locations together, for
"which classes fail everywhere".`,
		Record: "target_class:http5xx_errors:ratio_rate5m",
		Expr:   c.errorRatio("target, service, class, owner", "target, service", "5m"),
	})
	return g
}

func (c Config) locationsRecording() Group {
	min := strconv.Itoa(c.MinProbes)
	return Group{
		Name:     "http5xx-locations.rules",
		Interval: c.interval(),
		Comment: fmt.Sprintf(`"Is it down or is it me?": how many locations probe a target and how many
of them see it failing. A location fails a target when at least %s of
its probes in the last 5m were errors, over at least %s probes.`, num(c.Locally.Threshold*100)+"%", min),
		Rules: []Rule{
			{Record: "target:http5xx_locations:count", Expr: "count by (target, service) (target_location:http5xx_probes:increase5m >= " + min + ")"},
			{Record: "target:http5xx_locations_failing:count5m", Expr: fmt.Sprintf(`sum by (target, service) (
    target_location:http5xx_errors:ratio_rate5m >= bool %s
  and on (target, service, location)
    target_location:http5xx_probes:increase5m >= %s
)`, num(c.Locally.Threshold), min)},
			{Record: "target:http5xx_locations_failing:ratio5m", Expr: "target:http5xx_locations_failing:count5m / target:http5xx_locations:count"},
		},
	}
}

func (c Config) latencyRecording() Group {
	g := Group{
		Name:     "http5xx-latency.rules",
		Interval: c.interval(),
		Comment: "Latency of the whole probe: from the native histogram where Prometheus ingests it\n" +
			"(scrape_native_histograms), within 9% of the true value; else from the classic\n" +
			"buckets, as fine as the bucket the quantile falls in (README, Resolution).",
		Rules: []Rule{{
			Record: "target_location_le:http5xx_request_duration_seconds_bucket:rate5m",
			Expr:   fmt.Sprintf("sum by (target, service, location, le) (rate(%s[5m]))", c.sel("http5xx_request_duration_seconds_bucket")),
		}},
	}
	for _, q := range []string{"0.5", "0.9", "0.99"} {
		g.Rules = append(g.Rules, Rule{
			Record: "target_location_quantile:http5xx_request_duration_seconds:histogram_quantile5m",
			Expr: "histogram_quantile(" + q + ", sum by (target, service, location) (rate(" + c.sel("http5xx_request_duration_seconds") + "[5m])))\n" +
				"or\nhistogram_quantile(" + q + ", target_location_le:http5xx_request_duration_seconds_bucket:rate5m)",
			Labels: []KV{{"quantile", q}},
		})
	}
	return g
}

func (c Config) ownersRecording() Group {
	return Group{
		Name:     "http5xx-owners.rules",
		Interval: c.interval(),
		Comment: `Who owns what, taken from the data so that routing follows the exporter's
class table and target config rather than a copy of them in the rules.`,
		Rules: []Rule{
			{
				Comment: `The team that owns each error class, per target and location, from
the pre-created response series (500, 502, 503, 504 exist from the
start): exactly one series per target, location and class, so that
joining on it never fails, even while the replicas of a location
disagree on the team (a config rollout that has reached one of them).`,
				Record: "target_location_class:http5xx_class_owner:group",
				Expr: fmt.Sprintf(`topk by (target, service, location, class) (1,
  group by (target, service, location, class, owner) (
    %s or %s
  )
)`, c.sel("http5xx_responses_total", `class!~"[1-4]xx"`), c.sel("http5xx_failures_total")),
			},
			{
				Comment: `The configured owner of each probed target: exactly one series per
target, even when locations disagree or http5xx_target_info is dropped
(then without owner), so that joining on it never loses an alert. A
location that exports the target without an owner (a config rollout
that has not reached it) never beats one that knows the owner.`,
				Record: "target:http5xx_target_owner:group",
				Expr: fmt.Sprintf(`topk by (target, service) (1, group by (target, service, owner) (%s))
or on (target, service)
group by (target, service) (%s)`, c.sel("http5xx_target_info", `owner!=""`), c.sel("http5xx_probes_total")),
			},
		},
	}
}

func (c Config) alertsFile() File {
	return File{
		Name: "http5xx-alerts.yml",
		Comment: `Alerting rules of the http5xx_exporter rule pack. Runbooks: rules/runbooks.md.
GENERATED by rules/cmd/gen from rules/pack.yml: change that file (or the
generator in rules/pack) and run ` + "`make rules-generate`" + `.

Every alert carries severity (warning: chat, critical: pager), error_class
and owner, the team to page; Alertmanager routes on owner
(examples/alertmanager.yml). Owners come from the data: a class's alerts
carry the target's team for the class (its owners, else the class's
default owner), the whole-target alerts the target's owner; the exporter's
own alerts go to sre-oncall.
Where an incident lasts, a second rule with a longer ` + "`for`" + ` raises the same
alert from warning to critical.

The quorum group also holds the recording rules its page reads, so that the
page never depends on when another group was last evaluated.`,
		Groups: []Group{c.quorumGroup(), c.classesGroup(), c.sloGroup(), c.deploysGroup(), c.maintenanceGroup(), c.locationsGroup(), c.contextGroup(), c.exporterGroup()},
	}
}

// quorumGroup is the fast page: a target whose every probe of the last
// FailedProbes intervals failed, from a quorum of the locations probing it.
func (c Config) quorumGroup() Group {
	w := c.QuorumWindow().String()
	n := strconv.Itoa(c.Quorum.FailedProbes)
	errorsPerInstance := sumOr("instance, target, service, location, class, owner",
		append(diff(c.sel("http5xx_responses_total", `class!~"[1-4]xx"`), w), diff(c.sel("http5xx_failures_total"), w)...)...)
	probes := sumOr("instance, target, service, location", diff(c.sel("http5xx_probes_total"), w)...)
	errs := fmt.Sprintf("sum by (instance, target, service, location) (\n%s\n)", indent(errorsPerInstance, "  "))
	failed := "target_location:http5xx_all_probes_failed:diff" + w
	classErrors := "target_location_class:http5xx_errors:diff" + w
	min := strconv.Itoa(c.Quorum.MinLocations)
	return Group{
		Name:     "http5xx-quorum",
		Interval: c.Quorum.EvaluationInterval,
		Comment: fmt.Sprintf(`The fast page for a hard outage: every one of at least %[1]s probes of the
last %[2]s failed, from at least %[3]s locations and more than half of those
probing the target. Counter differences to the sample %[2]s ago are exact
(no extrapolation) and a missed scrape in between changes nothing. A
failure of %[4]d probes or fewer (a blip, each half of a flap) never pages.
Evaluated every %[5]s: worst-case detection is scrape interval + %[6]s
(the %[1]sth failed probe) + %[5]s; rules/runbooks.md has the arithmetic.`,
			n, w, min, c.Quorum.FailedProbes-1, c.Quorum.EvaluationInterval,
			model.Duration(time.Duration(c.ProbeInterval)*time.Duration(c.Quorum.FailedProbes-1))),
		Rules: []Rule{
			{
				Comment: fmt.Sprintf("Errors per location and class since %s ago (the busiest replica).", w),
				Record:  classErrors,
				Expr:    "max by (target, service, location, class, owner) (\n" + indent(errorsPerInstance, "  ") + "\n)",
			},
			{
				Comment: fmt.Sprintf(`1 when at least %s probes since %s ago all failed, 0 otherwise, per
location: every replica of the location must agree (min).`, n, w),
				Record: failed,
				Expr: fmt.Sprintf(`min by (target, service, location) (
    (
%[1]s
      >= bool %[2]s
    )
  *
    (
%[3]s
      >= bool
%[1]s
    )
)`, indent(probes, "      "), n, indent(errs, "      ")),
			},
			{
				Alert: "HTTP5xxFailingEverywhere",
				Comment: fmt.Sprintf(`One alert per class seen failing there, paging that class's owner. No
`+"`for`"+`: the expression already spans %s probes. keep_firing_for outlasts
the per-class alerts Alertmanager mutes with it (their 5m ratios stay
above threshold for up to 4m30s after the errors stop). Capacity errors
of a service inside a maintenance window or its grace page nobody here:
HTTP5xxMaintenanceOverran pages those after the window.`, n),
				Expr: fmt.Sprintf(`count by (target, service, class, owner) (
    %[1]s > 0
  and on (target, service, location)
    %[2]s == 1
)
and on (target, service)
(
    sum by (target, service) (%[2]s) >= %[3]s
  and
    sum by (target, service) (%[2]s)
    / count by (target, service) (%[2]s) > 0.5
)
unless on (service, class)
  label_replace(
%[4]s,
    "class", "capacity", "", ""
  )`, classErrors, failed, min, indent(c.maintenanceSpan(), "    ")),
				KeepFiringFor: c.Quorum.KeepFiringFor,
				Labels:        []KV{{"severity", "critical"}, {"error_class", "{{ $labels.class }}"}},
				Annotations: c.annotations("HTTP5xxFailingEverywhere", "Target fails from most probing locations - a real outage.",
					fmt.Sprintf("{{ $labels.target }} (service {{ $labels.service }}) failed every probe of the last %s from "+
						"{{ $value | humanize }} of {{ with printf `count(%s{target=%%q})` $labels.target | query }}{{ . | first | value }}{{ end }} "+
						"locations, with {{ $labels.class }} errors: a real outage, not one location's network.", w, failed), true),
			},
		},
	}
}

func (c Config) classesGroup() Group {
	g := Group{
		Name:     "http5xx-classes",
		Interval: c.interval(),
		Comment: fmt.Sprintf(`One alert per error class, per target and location: at least %s of the
probes of the last 5m (and at least %d probes) ended in that class. A class
seen by one location only, while others probe the target, is that
location's business (HTTP5xxFailingLocally), not the class owner's.`, num(c.Classes.Threshold*100)+"%", c.MinProbes),
	}
	for _, ec := range errorClasses {
		ratio := fmt.Sprintf(`target_location_class:http5xx_errors:ratio_rate5m{class="%s"} >= %s`, ec.class, num(c.Classes.Threshold))
		r := Rule{
			Alert: ec.alert,
			Expr: fmt.Sprintf(`%[1]s
and on (target, service, location)
target_location:http5xx_probes:increase5m >= %[2]d
unless on (target, service, class)
(
    count by (target, service, class) (%[1]s) == 1
  and on (target, service)
    target:http5xx_locations:count >= 2
)`, ratio, c.MinProbes),
			Labels:      []KV{{"error_class", ec.class}},
			Annotations: c.annotations(ec.alert, ec.summary, "{{ $labels.target }} (service {{ $labels.service }}) "+ec.description, true),
		}
		if ec.class == "capacity" {
			r.Comment = "Not for a service inside a maintenance window or its grace after it:\nplanned 503s page nobody, and HTTP5xxMaintenanceOverran pages those after it."
			r.Expr += "\nunless on (service)\n" + indent(c.maintenanceSpan(), "  ")
		}
		g.Rules = append(g.Rules, escalate(r, c.Classes.WarningFor, c.Classes.CriticalFor)...)
	}
	return g
}

func (c Config) sloGroup() Group {
	g := Group{
		Name:     "http5xx-slo",
		Interval: c.interval(),
		Comment: fmt.Sprintf(`Multi-window, multi-burn-rate alerts on the 5xx SLO (all error classes,
the median location). Page: 2%% of a 30-day budget in 1h or 5%% in 6h.
Ticket: 10%% in 3 days or the budget burning at exactly the SLO rate.
The 1h page waits %s and needs an error within the last %s: a hard
outage pages through the quorum already, a blip or a flap pages nobody.
A service that was inside a maintenance window during the long window is
judged without its capacity errors (planned 503s burn no budget worth a
page; HTTP5xxMaintenanceOverran pages those after the window).`, c.BurnRate.PageFor, c.BurnRate.StillFailing),
	}
	for _, b := range burnRates {
		f := num(b.factor)
		forD, _ := model.ParseDuration(b.forFixed)
		if b.forCfg {
			forD = c.BurnRate.PageFor
		}
		// burns is the condition over the error classes that ratio reads,
		// from the target ratio of the window given.
		burns := func(ratio func(w string) string, classes string) string {
			guard := ""
			if b.forCfg {
				sf := c.BurnRate.StillFailing.String()
				guard = fmt.Sprintf(`
  and on (target, service)
    max by (target, service) (
      increase(%s[%s]) or increase(%s[%s])
    ) > 0`, c.sel("http5xx_responses_total", `class!~"`+classes+`"`), sf, c.sel("http5xx_failures_total", `class!~"`+classes+`"`), sf)
			}
			return fmt.Sprintf(`    %[1]s > on (target, service) (%[3]s * target:http5xx_slo_error_budget:ratio)
  and
    %[2]s > on (target, service) (%[3]s * target:http5xx_slo_error_budget:ratio)
  and
    target:http5xx_probes:increase5m >= %[4]d%[5]s`, ratio(b.long), ratio(b.short), f, c.MinProbes, guard)
		}
		all := func(w string) string { return "target:http5xx_errors:ratio_rate" + w }
		// The median location's ratio without the capacity class.
		unplanned := func(w string) string {
			return `quantile by (target, service) (0.5, sum by (target, service, location) (target_location_class:http5xx_errors:ratio_rate` + w + `{class!="capacity"}))`
		}
		g.Rules = append(g.Rules, Rule{
			Alert: "HTTP5xxErrorBudgetBurn",
			Expr: fmt.Sprintf(`(
  (
%[1]s
  )
  unless on (service)
    max by (service) (max_over_time(%[2]s[%[3]s])) == 1
or
  (
%[4]s
  )
)
* on (target, service) group_left (owner) target:http5xx_target_owner:group`,
				indent(burns(all, "[1-4]xx"), "  "), c.sel("http5xx_maintenance_active"), b.long,
				indent(burns(unplanned, "[1-4]xx|capacity"), "  ")),
			For:    forD,
			Labels: []KV{{"severity", b.severity}, {"error_class", "all"}, {"long_window", b.long}, {"short_window", b.short}},
			Annotations: c.annotations("HTTP5xxErrorBudgetBurn", "Target burns its 5xx error budget too fast.",
				fmt.Sprintf("{{ $labels.target }} (service {{ $labels.service }}) failed {{ $value | humanizePercentage }} of its probes "+
					"over the last %s (median location) and keeps failing over the last %s: at this rate the 30-day error budget is gone in %s.",
					b.long, b.short, b.lasts), true),
		})
	}
	return g
}

func (c Config) deploysGroup() Group {
	w := c.AfterDeploy.Window.String()
	return Group{
		Name:     "http5xx-deploys",
		Interval: c.interval(),
		Rules: []Rule{{
			Comment: fmt.Sprintf(`Within %s of a deploy of the service, the target's error ratio
(median location) is at least %s and more than twice what it was in
the hour before (a target without that history counts as rising).
The version is that of the newest deploy over all exporters: one that
missed the deploy still reports the version before it.`, w, num(c.AfterDeploy.Threshold*100)+"%"),
			Alert: "HTTP5xxErrorsAfterDeploy",
			Expr: fmt.Sprintf(`(
    target:http5xx_errors:ratio_rate5m >= %[1]s
  and
    target:http5xx_probes:increase5m >= %[2]d
  and on (service)
    time() - max by (service) (%[3]s) < %[4]s
  unless
    (target:http5xx_errors:ratio_rate1h offset %[5]s) * 2 >= target:http5xx_errors:ratio_rate5m
)
* on (service) group_left (version)
  group by (service, version) (
    topk by (service) (1,
      max by (service, version) (
          (%[6]s == 1)
        * ignoring (version) group_left
          %[3]s
      )
    )
  )
* on (target, service) group_left (owner)
  target:http5xx_target_owner:group`, num(c.AfterDeploy.Threshold), c.MinProbes, c.sel("http5xx_deploy_timestamp_seconds"),
				secs(c.AfterDeploy.Window), w, c.sel("http5xx_deploy_info")),
			For:    c.AfterDeploy.For,
			Labels: []KV{{"severity", "warning"}, {"error_class", "all"}},
			Annotations: c.annotations("HTTP5xxErrorsAfterDeploy", "5xx errors rose right after a deploy.",
				fmt.Sprintf("{{ $labels.service }} was deployed less than %s ago (now at version {{ $labels.version }}) and "+
					"{{ $labels.target }} failed {{ $value | humanizePercentage }} of its probes over the last 5 minutes, "+
					"more than twice as many as before the deploy. Consider rolling back first and debugging second.", humanMinutes(c.AfterDeploy.Window)), true),
		}},
	}
}

// maintenanceGroup pages when capacity errors go on after a service's
// maintenance window ended: the window overran, or a maintenance flag was
// left on.
func (c Config) maintenanceGroup() Group {
	grace := c.Maintenance.Grace.String()
	return Group{
		Name:     "http5xx-maintenance",
		Interval: c.interval(),
		Comment: fmt.Sprintf(`Maintenance windows (the exporter's /api/v1/maintenance). Inside a
window and for %[1]s after it, a service's capacity errors page nobody
through the capacity, quorum and burn-rate alerts; if they go on after
the window, this pages once, with the window's end in the text.`, grace),
		Rules: []Rule{{
			Alert: "HTTP5xxMaintenanceOverran",
			Comment: fmt.Sprintf(`At least %[1]s of the service's probes over the last minute (every
location, every target) got a capacity error, at every evaluation for
%[2]s, while no exporter has the service in a window, within %[3]s of the
window's end. Counted over one minute and held for at least one, only
errors after the end can fire it; a missed scrape leaves enough samples
in the minute, and last_over_time keeps the gauges across it.`, num(c.Classes.Threshold*100)+"%", c.Maintenance.OverranFor, grace),
			Expr: fmt.Sprintf(`(
    sum by (service) (increase(%[1]s[1m]))
  /
    sum by (service) (increase(%[2]s[1m]))
) >= %[3]s
unless on (service)
  %[4]s
and on (service)
  time() - max by (service) (last_over_time(%[5]s[1m])) < %[6]s`,
				c.sel("http5xx_responses_total", `class="capacity"`), c.sel("http5xx_probes_total"), num(c.Classes.Threshold),
				c.inWindow(), c.sel("http5xx_maintenance_end_timestamp_seconds"), secs(c.Maintenance.Grace)),
			For:    c.Maintenance.OverranFor,
			Labels: []KV{{"severity", "critical"}, {"error_class", "capacity"}, {"owner", "sre-oncall"}},
			Annotations: c.annotations("HTTP5xxMaintenanceOverran", "Service still answers 503 after its maintenance window ended.",
				"The maintenance window of {{ $labels.service }} ended "+
					"{{ with printf `time() - max(http5xx_maintenance_end_timestamp_seconds{"+strings.ReplaceAll(c.JobSelector, "%", "%%")+", service=%q})` $labels.service | query }}"+
					"{{ . | first | value | humanizeDuration }} ago{{ end }}, and {{ $value | humanizePercentage }} of its probes over the last minute "+
					"still got a 503: the maintenance overran, or a maintenance flag was left on. Finish it and switch the flag off, "+
					"or open a new window if the work goes on.", false),
		}},
	}
}

// days writes a duration of whole days as "14 days".
func days(d model.Duration) string {
	if n := time.Duration(d) / (24 * time.Hour); n > 0 && time.Duration(n)*24*time.Hour == time.Duration(d) {
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

// secondsExpr writes a duration as PromQL seconds, "14 * 86400" for days.
func secondsExpr(d model.Duration) string {
	if n := time.Duration(d) / (24 * time.Hour); n > 0 && time.Duration(n)*24*time.Hour == time.Duration(d) {
		return fmt.Sprintf("%d * 86400", n)
	}
	return secs(d)
}

// humanMinutes writes a duration of whole minutes as "30 minutes".
func humanMinutes(d model.Duration) string {
	m := time.Duration(d) / time.Minute
	if time.Duration(m)*time.Minute == time.Duration(d) {
		return fmt.Sprintf("%d minutes", m)
	}
	return d.String()
}

func (c Config) locationsGroup() Group {
	r := Rule{
		Alert: "HTTP5xxFailingLocally",
		Comment: `Not shorter: a blip from one location must stay quiet, as must the
first minutes of a real outage while the other locations catch up. It
mutes the per-class critical alerts of its location in Alertmanager.`,
		Expr: fmt.Sprintf(`(
    target_location:http5xx_errors:ratio_rate5m >= %[1]s
  and on (target, service, location)
    target_location:http5xx_probes:increase5m >= %[2]d
)
and on (target, service)
  target:http5xx_locations_failing:ratio5m <= 0.5`, num(c.Locally.Threshold), c.MinProbes),
		KeepFiringFor: dur(5 * time.Minute),
		Labels:        []KV{{"error_class", "network"}, {"owner", "network"}},
		Annotations: c.annotations("HTTP5xxFailingLocally", "Target fails from one location only - is it that location's network?",
			"{{ $labels.target }} (service {{ $labels.service }}) failed {{ $value | humanizePercentage }} of the probes of the last 5 minutes "+
				"from {{ $labels.location }}, while most other locations reach it. Suspect that location's network, resolver or ISP before the target.", true),
	}
	return Group{
		Name:     "http5xx-locations",
		Interval: c.interval(),
		Comment: fmt.Sprintf(`Failing locally: a location fails the target (at least %s of its probes
over 5m) while at most half of the locations do, so at least one other
location probes it and gets answers. Failing everywhere is the quorum
page above.`, num(c.Locally.Threshold*100)+"%"),
		Rules: escalate(r, c.Locally.WarningFor, c.Locally.CriticalFor),
	}
}

// classOwner joins the owner of a class onto a per-location expression.
const classOwner = `* on (target, service, location) group_left (owner)
  target_location_class:http5xx_class_owner:group{class="%s"}`

func (c Config) contextGroup() Group {
	latency := Rule{
		Alert: "HTTP5xxLatencyHigh",
		Comment: fmt.Sprintf(`p90 of the whole probe above %ss, while the target still answers
(a failing target is the error alerts' business).`, num(c.Latency.Threshold)),
		Expr: fmt.Sprintf(`(
    target_location_quantile:http5xx_request_duration_seconds:histogram_quantile5m{quantile="0.9"} > %s
  and on (target, service, location)
    target_location:http5xx_probes:increase5m >= %d
  unless on (target, service, location)
    target_location:http5xx_errors:ratio_rate5m >= 0.5
)
`+classOwner, num(c.Latency.Threshold), c.MinProbes, "timeout"),
		Labels: []KV{{"error_class", "timeout"}},
		Annotations: c.annotations("HTTP5xxLatencyHigh", "Target answers slowly.",
			"The 90th percentile of probes to {{ $labels.target }} (service {{ $labels.service }}){{ with $labels.location }} from {{ . }}{{ end }} took "+
				"{{ $value | humanizeDuration }} over the last 5 minutes. Slow answers turn into 504s: profile the slow path.", true),
	}
	saturation := Rule{
		Alert:   "HTTP5xxSaturationHigh",
		Comment: fmt.Sprintf("The target's saturation source reads above %s on average over 5m.", num(c.Saturation.Threshold*100)+"%"),
		Expr: fmt.Sprintf(`(
  max by (target, service, location, source) (avg_over_time(%s[5m])) > %s
)
`+classOwner, c.sel("http5xx_saturation_ratio"), num(c.Saturation.Threshold), "capacity"),
		Labels: []KV{{"error_class", "capacity"}},
		Annotations: c.annotations("HTTP5xxSaturationHigh", "Target is close to its capacity.",
			"{{ $labels.target }} (service {{ $labels.service }}) reports a saturation of {{ $value | humanizePercentage }} from its "+
				"{{ $labels.source }} source{{ with $labels.location }} (read from {{ . }}){{ end }}. "+
				"Next come 503s: take load off (caching, rate limiting) or add capacity.", true),
	}
	rules := escalate(latency, c.Latency.WarningFor, c.Latency.CriticalFor)
	rules = append(rules, escalate(saturation, c.Saturation.WarningFor, c.Saturation.CriticalFor)...)
	rules = append(rules, Rule{
		Alert: "HTTP5xxRetryAfterSustained",
		Comment: `Every probe of the last 15 minutes got a 503/429 with Retry-After: the
5m minimum is above 0 at every evaluation for 15m. Not inside a
maintenance window or its grace.`,
		Expr: fmt.Sprintf(`(
    max by (target, service, location) (min_over_time(%s[5m])) > 0
  unless on (service)
%s
)
`+classOwner, c.sel("http5xx_retry_after_seconds"), indent(c.maintenanceSpan(), "    "), "capacity"),
		For:    dur(15 * time.Minute),
		Labels: []KV{{"severity", "warning"}, {"error_class", "capacity"}},
		Annotations: c.annotations("HTTP5xxRetryAfterSustained", "Target keeps asking clients to come back later (Retry-After).",
			"{{ $labels.target }} (service {{ $labels.service }}) has answered every probe{{ with $labels.location }} from {{ . }}{{ end }} "+
				"for at least 15 minutes with a Retry-After of at least {{ $value | humanizeDuration }}. "+
				"A maintenance flag left on, or rate limiting that never lets go?", true),
	})
	cert := Rule{
		Alert: "HTTP5xxCertificateExpiring",
		Comment: fmt.Sprintf(`A certificate of an HTTPS target expires within %s (warning) or
%s (critical), or has expired: the earliest NotAfter of the leaf
and the verified chain, from each location. The network class owns
certificates (the class table's default owner "network": change the
owner label here if yours names another).`, days(c.Certificate.Warning), days(c.Certificate.Critical)),
		For:    c.Certificate.For,
		Labels: []KV{{"error_class", "network"}, {"owner", "network"}},
		Annotations: c.annotations("HTTP5xxCertificateExpiring", "A certificate of the target expires soon.",
			"The earliest certificate in the chain of {{ $labels.target }} (service {{ $labels.service }})"+
				"{{ with $labels.location }}, as seen from {{ . }},{{ end }} expires in {{ $value | humanizeDuration }} "+
				"(negative: it has expired, and probes fail with reason tls). Renew it, or the intermediate the server sends.", true),
	}
	notAfter := fmt.Sprintf("min by (target, service, location) (%s) - time() < ", c.sel("http5xx_tls_cert_not_after_timestamp_seconds"))
	warning, critical := cert, cert
	warning.Expr, critical.Expr = notAfter+secondsExpr(c.Certificate.Warning), notAfter+secondsExpr(c.Certificate.Critical)
	warning.Labels = append([]KV{{"severity", "warning"}}, cert.Labels...)
	critical.Labels = append([]KV{{"severity", "critical"}}, cert.Labels...)
	critical.Comment = ""
	rules = append(rules, warning, critical)
	return Group{
		Name:     "http5xx-context",
		Interval: c.interval(),
		Comment: `Early signs of the classes above: slow answers lead to 504s, saturation
and Retry-After to 503s. They go to the owners of those classes.`,
		Rules: rules,
	}
}

func (c Config) exporterGroup() Group {
	exporter := []KV{{"error_class", "exporter"}, {"owner", "sre-oncall"}}
	withSev := func(sev string) []KV { return append([]KV{{"severity", sev}}, exporter...) }
	shards := "instance:http5xx_shard:info"
	replicaDown := Rule{
		Alert: "HTTP5xxExporterDown",
		Comment: `One replica of a shard cannot be scraped: the other replicas of its
shard still probe its targets, so this is chat, not a page.`,
		Expr: fmt.Sprintf(`(up{%s} == 0)
* on (job, instance, location) group_left (shard, shards)
  %s`, c.JobSelector, shards),
		For:    dur(5 * time.Minute),
		Labels: withSev("warning"),
		Annotations: c.annotations("HTTP5xxExporterDown", "Prometheus cannot scrape an http5xx exporter.",
			"The http5xx exporter {{ $labels.instance }}{{ with $labels.location }} in {{ . }}{{ end }}{{ with $labels.shard }} (shard {{ . }}){{ end }} "+
				"has not been scraped successfully for 5 minutes or more. Its shard's other replicas keep probing; "+
				"a page follows when none of them is left.", false),
	}
	shardDown := Rule{
		Alert: "HTTP5xxExporterDown",
		Comment: `No replica of a shard of a location can be scraped: nothing that shard
probes is watched from there. Replicas are counted, never their probes.`,
		Expr: fmt.Sprintf(`sum by (location, shard, shards) (
    up{%s}
  * on (job, instance, location) group_left (shard, shards)
    %s
) == 0`, c.JobSelector, shards),
		For:    dur(5 * time.Minute),
		Labels: withSev("critical"),
		Annotations: c.annotations("HTTP5xxExporterDown", "No replica of an http5xx exporter shard is up.",
			"No http5xx exporter{{ with $labels.location }} in {{ . }}{{ end }}{{ with $labels.shard }} of shard {{ . }}{{ end }} "+
				"has been scraped successfully for 5 minutes or more: the targets it probes are not watched from there.", false),
	}
	exhausted := Rule{
		Alert: "HTTP5xxExporterResourcesExhausted",
		Comment: `The exporter ran out of its own resources (file descriptors, memory,
local ports, or on demand its concurrency limit): those probes are
counted as skipped with reason exporter, never as the target's
failures, so no target owner is paged for them; this pages the
exporter's operator instead.`,
		Expr:   fmt.Sprintf("sum by (instance, location) (increase(%s[10m])) > 0", c.sel("http5xx_skipped_probes_total", `reason="exporter"`)),
		Labels: exporter,
		Annotations: c.annotations("HTTP5xxExporterResourcesExhausted", "The exporter is short of its own resources and cannot probe.",
			"The http5xx exporter {{ $labels.instance }}{{ with $labels.location }} in {{ . }}{{ end }} could not make {{ $value | humanize }} "+
				"probes in the last 10 minutes because it ran out of file descriptors, memory, local ports or its concurrency limit. "+
				"The targets are not at fault: raise the exporter's limits or spread its targets.", false),
	}
	rules := []Rule{
		{
			Comment: `The shard of every exporter (job, instance, location: instances may
repeat across locations), remembered for a day so that a dead exporter
keeps its shard: the live series first, then one series per exporter.
Exporters that never said (older versions), or whose up lacks the
location label, form shard "" of their location.`,
			Record: shards,
			Expr: fmt.Sprintf(`topk by (job, instance, location) (1,
    max by (job, instance, location, shard, shards) (%[1]s)
  or on (job, instance, location)
    max by (job, instance, location, shard, shards) (last_over_time(%[1]s[1d]))
)
or on (job, instance, location)
  group by (job, instance, location) (up{%[2]s})`, c.sel("http5xx_shard_info"), c.JobSelector),
		},
		replicaDown, shardDown,
	}
	rules = append(rules,
		Rule{
			Alert: "HTTP5xxExporterAbsent",
			Comment: `No exporter reports at all, or a location that reported within the
last day no longer does (its exporter and its Prometheus are gone,
so HTTP5xxExporterDown cannot fire for it). When only the exporter is
gone, this fires as well and Alertmanager mutes it with
HTTP5xxExporterDown of the location (examples/alertmanager.yml).`,
			Expr: fmt.Sprintf(`absent(%[1]s)
or
(
    group by (location) (max_over_time(%[2]s[1d]))
  unless
    group by (location) (%[1]s)
)`, c.sel("http5xx_exporter_build_info"), c.sel("http5xx_exporter_build_info", `location!=""`)),
			For:    dur(15 * time.Minute),
			Labels: withSev("critical"),
			Annotations: c.annotations("HTTP5xxExporterAbsent", "http5xx exporters stopped reporting to Prometheus.",
				"No http5xx exporter has reported {{ with $labels.location }}from location {{ . }}{{ else }}at all{{ end }} for 15 minutes: "+
					"nothing is probed from there. Check the exporters' deployment and the scraping (and federation) of their series.", false),
		},
		Rule{
			Alert:  "HTTP5xxConfigReloadFailed",
			Expr:   c.sel("http5xx_config_last_reload_successful") + " == 0",
			For:    dur(10 * time.Minute),
			Labels: withSev("warning"),
			Annotations: c.annotations("HTTP5xxConfigReloadFailed", "The exporter runs on an old configuration since a reload failed.",
				"The last configuration reload of the http5xx exporter {{ $labels.instance }} failed; it keeps probing with the configuration "+
					"it loaded successfully {{ with printf `time() - http5xx_config_last_reload_success_timestamp_seconds{instance=%q,location=%q}` "+
					"$labels.instance $labels.location | query }}{{ . | first | value | humanizeDuration }} ago{{ end }}.", false),
		},
		Rule{
			Alert:  "HTTP5xxProbesSkipped",
			Expr:   fmt.Sprintf("sum by (target, service, location, reason) (increase(%s[10m])) > 0", c.sel("http5xx_skipped_probes_total", `reason!~"exporter|shutdown"`)),
			For:    dur(15 * time.Minute),
			Labels: withSev("warning"),
			Annotations: c.annotations("HTTP5xxProbesSkipped", "The exporter skips probes of a target.",
				"The exporter{{ with $labels.location }} in {{ . }}{{ end }} skipped {{ $value | humanize }} probes of {{ $labels.target }} "+
					"in the last 10 minutes (reason {{ $labels.reason }}) and has kept skipping for 15 minutes: the target is watched less often than configured.", true),
		},
	)
	rules = append(rules, Rule{
		Alert: "HTTP5xxDiscoveryFailing",
		Comment: `A service discovery source (file_sd, http_sd) kept failing its
refreshes: a failure in every 10m window for 20 minutes, so failures
spread over at least 10 minutes (Prometheus' own mixin does the same for
its discovery). The exporter keeps the source's last good targets:
nothing is unprobed, but inventory changes no longer reach it.`,
		Expr:   fmt.Sprintf("increase(%s[10m]) > 0", c.sel("http5xx_sd_refresh_failures_total")),
		For:    dur(20 * time.Minute),
		Labels: withSev("warning"),
		Annotations: c.annotations("HTTP5xxDiscoveryFailing", "The exporter's service discovery keeps failing.",
			"The {{ $labels.mechanism }} service discovery of the http5xx exporter {{ $labels.instance }}{{ with $labels.location }} in {{ . }}{{ end }} "+
				"failed {{ $value | humanize }} refreshes in the last 10 minutes and has kept failing for 20 minutes: "+
				"it probes the last good list of targets, and changes to the inventory do not reach it.", false),
	})
	probed := fmt.Sprintf("count by (location) (max by (target, service, location) (increase(%s[10m])) > 0)", c.sel("http5xx_probes_total"))
	configured := fmt.Sprintf("max by (location) (%s)", c.sel("http5xx_configured_targets"))
	rules = append(rules, Rule{
		Alert: "HTTP5xxTargetsUnprobed",
		Comment: `Fewer targets probed from a location in the last 10m than it has
configured: configured targets are counted before sharding, so every
replica of every shard reports the whole list (max, never a sum), and
the probed targets are counted once over all shards and replicas. A
shard without a live replica, or a shard index nobody runs
(--shard.count larger than the shards deployed), leaves targets out.`,
		Expr: fmt.Sprintf(`%[1]s
- (
    %[2]s
  or on (location)
    0 * %[1]s
) > 0`, configured, probed),
		For:    dur(15 * time.Minute),
		Labels: withSev("warning"),
		Annotations: c.annotations("HTTP5xxTargetsUnprobed", "Configured targets are not probed from a location.",
			"{{ $value | humanize }} of the targets configured{{ with $labels.location }} in {{ . }}{{ end }} had no probe in the last 10 minutes: "+
				"a shard has no live replica, or the exporters disagree on --shard.count, or those targets never get a probe slot.", false),
	})
	rules = append(rules, escalate(exhausted, dur(5*time.Minute), dur(30*time.Minute))...)
	rules = append(rules, Rule{
		Alert: "HTTP5xxProbesLagging",
		Expr: fmt.Sprintf("rate(%s[10m]) / rate(%s[10m]) > 1",
			c.sel("http5xx_schedule_lag_seconds_sum"), c.sel("http5xx_schedule_lag_seconds_count")),
		For:    dur(15 * time.Minute),
		Labels: withSev("warning"),
		Annotations: c.annotations("HTTP5xxProbesLagging", "The exporter starts probes late.",
			"Probes of the http5xx exporter {{ $labels.instance }} started on average {{ $value | humanizeDuration }} after their slot "+
				"over the last 10 minutes: the exporter is short of CPU or of its concurrency limit.", false),
	})
	return Group{
		Name:     "http5xx-exporter",
		Interval: c.interval(),
		Comment:  "The exporter itself. Blind spots are sre-oncall's.",
		Rules:    rules,
	}
}

// AlertNames lists the pack's alerts once each, in file order.
func (c Config) AlertNames() []string {
	var out []string
	for _, f := range c.Files() {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" && !slices.Contains(out, r.Alert) {
					out = append(out, r.Alert)
				}
			}
		}
	}
	return out
}
