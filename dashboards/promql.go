package dashboards

import (
	"fmt"
	"strings"
)

// matchers is the label filter a dashboard's variables put on a selector,
// without braces. Every selector of an exporter metric starts from one of
// these so that no panel silently ignores a variable (the tests check it).
type matchers string

const (
	// perTarget filters series that carry target, service and location.
	perTarget matchers = `job=~"$job", location=~"$location", service=~"$service", target=~"$target"`
	// perService filters the deploy series, which carry service only.
	perService matchers = `job=~"$job", service=~"$service"`
	// perExporter filters the exporter's own series.
	perExporter matchers = `job=~"$job", instance=~"$instance"`
)

// of renders metric{matchers, extra...}.
func (m matchers) of(metric string, extra ...string) string {
	return metric + "{" + strings.Join(append([]string{string(m)}, extra...), ", ") + "}"
}

// rate renders rate(metric{...}[$__rate_interval]).
func (m matchers) rate(metric string, extra ...string) string {
	return "rate(" + m.of(metric, extra...) + "[" + rateWindow + "])"
}

// sum renders "sum" or "sum by (labels) " ahead of its parenthesised argument.
func sum(labels ...string) string {
	if len(labels) == 0 {
		return "sum"
	}
	return "sum by (" + strings.Join(labels, ", ") + ") "
}

// errorClass keeps the answers whose class is an error class. 2xx, 3xx and 4xx
// answers keep class="2xx" and so on (docs/architecture.md), so anything else is an error,
// including a 429 that the configuration puts in the capacity class and a 5xx
// code that a custom class table leaves to class="5xx". The same matcher as
// the rule pack's, so the panels count what the alerts count.
const errorClass = `class!~"[1-4]xx"`

// errorRate is errors per second: HTTP answers in an error class plus probes
// that got no answer. The two sides never share a label set (code versus
// reason), so "or" is a union and the sum adds them up.
func (m matchers) errorRate(window string, labels ...string) string {
	return fmt.Sprintf("%s(%s(%s[%s]) or %s(%s[%s]))",
		sum(labels...),
		counterFunc(window), m.of("http5xx_responses_total", errorClass), window,
		counterFunc(window), m.of("http5xx_failures_total"), window)
}

// probeRate is probes per second (or per window for $__range).
func (m matchers) probeRate(window string, labels ...string) string {
	return fmt.Sprintf("%s(%s(%s[%s]))", sum(labels...), counterFunc(window), m.of("http5xx_probes_total"), window)
}

// errorRatio is the share of probes that ended in an error class.
func (m matchers) errorRatio(window string, labels ...string) string {
	return m.errorRate(window, labels...) + "\n/\n" + m.probeRate(window, labels...)
}

// counterFunc is rate for the per-step window and increase for the whole
// dashboard range (instant tables), which reads as "how many in this range".
func counterFunc(window string) string {
	if window == rangeWindow {
		return "increase"
	}
	return "rate"
}

// Windows Grafana fills in; the tests substitute them before parsing.
const (
	rateWindow  = "$__rate_interval"
	rangeWindow = "$__range"
)

// quantile is the q-quantile of a histogram from its classic buckets, falling
// back to the native histogram when Prometheus ingests only that.
func (m matchers) quantile(q float64, metric string, labels ...string) string {
	classic := fmt.Sprintf("histogram_quantile(%g, %s(%s))", q, sum(append(append([]string{}, labels...), "le")...), m.rate(metric+"_bucket"))
	native := fmt.Sprintf("histogram_quantile(%g, %s(%s))", q, sum(labels...), m.rate(metric))
	return classic + "\nor\n" + native
}

// mean is the average observation of a histogram from _sum and _count,
// falling back to the native histogram when Prometheus ingests only that.
func (m matchers) mean(metric string, labels ...string) string {
	classic := fmt.Sprintf("%s(%s)\n/\n%s(%s)", sum(labels...), m.rate(metric+"_sum"), sum(labels...), m.rate(metric+"_count"))
	native := fmt.Sprintf("histogram_avg(%s(%s))", sum(labels...), m.rate(metric))
	return classic + "\nor\n" + native
}

// deploys is the deploy time in milliseconds per service and version, one
// constant value per deploy: the annotation uses the value as the event time,
// so it marks exactly the deploy moments. scope, when set, restricts the
// services (the target dashboard keeps those of the selected target).
// Version and time are joined per exporter on every label but version:
// job and instance alone repeat when every location scrapes its exporter
// under the same address, and only the location label tells them apart.
// The version side is the "many" side, so even two current versions of
// one exporter cannot make the query fail.
func deploys(scope string) string {
	joined := "(" + perService.of("http5xx_deploy_info") + " == 1)" +
		"\n  * ignoring (version) group_left\n  " +
		perService.of("http5xx_deploy_timestamp_seconds")
	if scope != "" {
		joined = "(\n  " + joined + "\n)\nand on (service)\n" + scope
	}
	return "max by (service, version) (\n  " + joined + "\n) * 1000"
}

// maintenance is 1 per service while any exporter has it inside a
// maintenance window (the rule pack reads the same gauge the same way);
// consecutive samples make one shaded region per window. scope, when set,
// restricts the services, as for deploys.
func maintenance(scope string) string {
	expr := "max by (service) (" + perService.of("http5xx_maintenance_active") + ") == 1"
	if scope != "" {
		expr = "(\n  " + expr + "\n)\nand on (service)\n" + scope
	}
	return expr
}

// alertPrefix selects the alerts of the rule pack in rules/.
const alertPrefix = "HTTP5xx.*"

// firingAlerts selects the pack's firing alerts; extra narrows them.
func firingAlerts(extra ...string) string {
	return "ALERTS{" + strings.Join(append([]string{`alertname=~"` + alertPrefix + `"`, `alertstate="firing"`}, extra...), ", ") + "}"
}
