package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// target is one target in depth: which code, which layer, where the time
// goes, how full it is, what was deployed, and how each location sees it.
func target(s Settings) *dashboard.DashboardBuilder {
	t := perTarget
	// The deploy series carry service only: keep the selected target's services.
	ownServices := t.of("http5xx_target_info")
	deployed := func(metric string) string {
		return "(" + perService.of(metric) + ")\nand on (service)\n" + ownServices
	}

	b := newDashboard(uidTarget, "http5xx / Target",
		"One target from every location: status codes and the layer that produced them, probe phases, saturation and Retry-After, deploys with versions.", s)
	b = withVariables(b, targetChain(s, true)).
		Annotation(deployAnnotation(deploys(ownServices))).
		Annotation(maintenanceAnnotation(maintenance(ownServices))).
		Annotation(alertAnnotation(firingAlerts(`target=~"$target|"`))).
		Link(dashboardLink("Overview", uidOverview, "Back to the fleet, same variables and time range")).
		Link(dashboardLink("Exporter", uidExporter, "Is the exporter itself healthy?"))

	b = b.WithRow(dashboard.NewRowBuilder("Now")).
		WithPanel(statPanel("Locations up",
			"Locations whose last probe of the target met valid_status_codes, next to the number of locations probing it.",
			unitCount,
			query("sum("+t.of("http5xx_target_up")+")", "up"),
			query("count("+t.of("http5xx_target_up")+")", "probing")).
			TextMode(common.BigValueTextModeValueAndName)).
		WithPanel(statPanel("Last status code",
			"Status code of the last answer per location; 0 means the last probe got no answer at all.",
			unitNone, query("max by (location) ("+t.of("http5xx_last_status_code")+")", "{{location}}")).
			Thresholds(thresholds(threshold{400, "orange"}, threshold{500, "red"})).
			Mappings(states(state{"0", "no answer", "red"})).
			ColorMode(common.BigValueColorModeBackground).
			GraphMode(common.BigValueGraphModeNone)).
		WithPanel(statPanel("Error ratio",
			"Share of probes that ended in an error class over the last rate window, across the selected locations.",
			unitRatio, query(t.errorRatio(rateWindow), "error ratio")).
			Thresholds(thresholds(errorRatioThresholds...)).
			ColorMode(common.BigValueColorModeBackground)).
		WithPanel(statPanel("p99 latency",
			"99th percentile of the whole probe duration across the selected locations.",
			unitSeconds, query(t.quantile(0.99, "http5xx_request_duration_seconds"), "p99"))).
		WithPanel(statPanel("Retry-After",
			"Longest Retry-After the target sent with its last 503 or 429, 0 when it sent none: the target's own estimate of how long it stays unavailable.",
			unitSeconds, query("max("+t.of("http5xx_retry_after_seconds")+")", "Retry-After"))).
		WithPanel(statPanel("Since last deploy",
			"Time since the last recorded deploy of the target's service. Minutes here and errors above: look at the deploy first.",
			unitSeconds, query("time() - max(\n"+deployed("http5xx_deploy_timestamp_seconds")+"\n)", "since deploy")).
			GraphMode(common.BigValueGraphModeNone))

	b = b.WithRow(dashboard.NewRowBuilder("Codes: which code, which layer")).
		WithPanel(stacked(timeSeries("Answers by status code",
			"Every HTTP answer per second by exact status code, stacked, so a 5xx band shows its share of all traffic.",
			unitPerSec, query("sum by (code) ("+t.rate("http5xx_responses_total")+")", "{{code}}")))).
		WithPanel(stacked(timeSeries("Errors by class and owner",
			"Share of probes per error class (5xx answers and probes with no answer), labelled with the owner the class routes to.",
			unitRatio, query(t.errorRate(rateWindow, "class", "owner")+"\n/ ignoring (class, owner) group_left\n"+t.probeRate(rateWindow), "{{class}} → {{owner}}")))).
		WithPanel(stacked(timeSeries("5xx by layer and product",
			"5xx answers per second by the layer that produced them (cdn, load_balancer, proxy, origin, unknown) and the product recognised from the answer. A 502 from the load balancer means its origin is down; a 500 from the origin is the application.",
			unitPerSec, query("sum by (layer, product) ("+t.rate("http5xx_error_layer_total")+")", "{{layer}} ({{product}})")))).
		WithPanel(stacked(timeSeries("Failed probes by reason",
			"Probes that failed per second, by reason and class: no HTTP answer at all (dns and tls point at the network, connect_refused and reset at a dead backend, timeout at a slow one), or soft_error: an answer that came but failed the target's expect conditions or is an error page served as 2xx.",
			unitPerSec, query("sum by (reason, class) ("+t.rate("http5xx_failures_total")+")", "{{reason}} ({{class}})"))))

	b = b.WithRow(dashboard.NewRowBuilder("Latency: where the time goes")).
		WithPanel(stacked(timeSeries("Probe phases (mean)",
			"Mean time per phase of the probe, stacked to the whole: resolve (DNS), connect (TCP), tls (handshake), processing (until the first byte: the server thinking), transfer (the body).",
			unitSeconds, query(t.mean("http5xx_phase_duration_seconds", "phase"), "{{phase}}"))).
			Span(8)).
		WithPanel(heatmapPanel("Latency heatmap",
			"Distribution of the whole probe duration over time from the classic histogram buckets; a second band appearing is a slow path.",
			unitSeconds, query("sum by (le) ("+t.rate("http5xx_request_duration_seconds_bucket")+")", "{{le}}").
				Format(prometheus.PromQueryFormatHeatmap))).
		WithPanel(timeSeries("Latency percentiles",
			"Median, 90th and 99th percentile of the whole probe duration across the selected locations.",
			unitSeconds,
			query(t.quantile(0.5, "http5xx_request_duration_seconds"), "p50"),
			query(t.quantile(0.9, "http5xx_request_duration_seconds"), "p90"),
			query(t.quantile(0.99, "http5xx_request_duration_seconds"), "p99")).
			Span(8))

	b = b.WithRow(dashboard.NewRowBuilder("Saturation: is it full?")).
		WithPanel(timeSeries("Saturation",
			"Saturation of the target from its configured source, 0 to 100 %, per location. High saturation with 503s is capacity: take load off (caching, rate limiting) rather than debugging code.",
			unitRatio, query("max by (location, source) ("+t.of("http5xx_saturation_ratio")+")", "{{location}} ({{source}})")).
			Span(8).
			Max(1).
			Thresholds(thresholds(saturationThresholds...)).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))).
		WithPanel(timeSeries("Retry-After",
			"Retry-After of the last 503 or 429 per location, 0 when none was sent: a planned maintenance usually announces itself here.",
			unitSeconds, query("max by (location) ("+t.of("http5xx_retry_after_seconds")+")", "{{location}}")).
			Span(8)).
		WithPanel(timeSeries("Saturation source errors",
			"Failed readings of the saturation source per second, by reason. After one the saturation graph has a gap, never a stale value; it reads 100 % instead when the source was refused, reset, timed out or a proxy in front of it answered 502/503/504 while the target's probes failed: a server too full to answer its own status page.",
			unitOpsSec, query("sum by (location, source, reason) ("+t.rate("http5xx_saturation_errors_total")+")", "{{location}} ({{source}}: {{reason}})")).
			Span(8))

	b = b.WithRow(dashboard.NewRowBuilder("Deploys: what changed")).
		WithPanel(stateTimeline("Deployed version",
			"Which version of the target's service was live when; a band starts at each deploy. Deploy moments are also marked on every graph.",
			unitNone, query("max by (service, version) (\n"+deployed("http5xx_deploy_info")+" == 1\n)", "{{service}} {{version}}"))).
		WithPanel(tablePanel("Current versions",
			"Current version of the target's service and when it was deployed.",
			unitDateTime, instant(deploys(ownServices))).
			WithTransformation(organize("deployed at", "Time")).
			Span(8)).
		WithPanel(statPanel("Deploys in range",
			"Deploys of the target's service recorded during the selected time range.",
			unitCount, query("sum(max by (service) (\n"+
				"increase("+perService.of("http5xx_deploys_total")+"["+rangeWindow+"])\nand on (service)\n"+ownServices+"\n))", "deploys").Instant()).
			GraphMode(common.BigValueGraphModeNone).
			Height(8))

	b = b.WithRow(dashboard.NewRowBuilder("Certificates: how long until they expire?")).
		WithPanel(timeSeries("Certificate expiry",
			"Days until the certificate expires, per location, for the leaf (cert=leaf) and the earliest certificate of its verified chain (cert=chain); at 0 it has expired (the axis stops there). Orange and red at the thresholds of HTTP5xxCertificateExpiring (warning and page). Empty for plain-HTTP targets.",
			unitDays, query("(\n  min by (location, cert) ("+t.of("http5xx_tls_cert_not_after_timestamp_seconds")+")\n  - time()\n) / 86400", "{{location}} {{cert}}")).
			Span(24).
			Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
				{Color: "red"},
				{Value: cog.ToPtr(s.CertCriticalDays), Color: "orange"},
				{Value: cog.ToPtr(s.CertWarningDays), Color: "green"},
			})).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)))

	b = b.WithRow(dashboard.NewRowBuilder("Locations: everywhere or just here?")).
		WithPanel(timeSeries("Error ratio by location",
			"Share of probes that ended in an error class, per location. One location alone points at its network or ISP; all of them is the target.",
			unitRatio, query(t.errorRatio(rateWindow, "location"), "{{location}}")).
			Span(8).
			Thresholds(thresholds(errorRatioThresholds...)).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))).
		WithPanel(timeSeries("p99 latency by location",
			"99th percentile of the whole probe duration per location.",
			unitSeconds, query(t.quantile(0.99, "http5xx_request_duration_seconds", "location"), "{{location}}")).
			Span(8)).
		WithPanel(statusHistory("Up by location",
			"Whether the target met valid_status_codes from each location over time.",
			unitNone, query("min by (location) ("+t.of("http5xx_target_up")+")", "{{location}}")).
			Span(8).
			Mappings(upDown))

	return b
}
