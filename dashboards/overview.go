package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// overview is the fleet: the screen a 5xx page opens first.
func overview(s Settings) *dashboard.DashboardBuilder {
	t := perTarget
	b := newDashboard(uidOverview, "http5xx / Overview",
		"Every probed target: which error class, whose pager, since when, what changed, and whether it fails from every location.", s)
	b = withVariables(b, targetChain(s, false)).
		Annotation(deployAnnotation(deploys(""))).
		Annotation(maintenanceAnnotation(maintenance(""))).
		Annotation(alertAnnotation(firingAlerts())).
		Link(dashboardLink("Target", uidTarget, "One target: phases, codes, layer, saturation, deploys, locations")).
		Link(dashboardLink("Exporter", uidExporter, "Is the exporter itself healthy?"))

	b = b.WithRow(dashboard.NewRowBuilder("Now: how bad and how wide")).
		WithPanel(statPanel("Error ratio",
			"Share of probes that ended in an error class (5xx answers and probes with no answer) over the last rate window, across the selection.",
			unitRatio, query(t.errorRatio(rateWindow), "error ratio")).
			Thresholds(thresholds(errorRatioThresholds...)).
			ColorMode(common.BigValueColorModeBackground)).
		WithPanel(statPanel("Targets down",
			"Target and location pairs whose last probe did not meet valid_status_codes.",
			unitCount, query("count("+t.of("http5xx_target_up")+" == 0) or vector(0)", "down")).
			Thresholds(thresholds(threshold{1, "red"})).
			ColorMode(common.BigValueColorModeBackground)).
		WithPanel(statPanel("Locations seeing failures",
			"How many probing locations have at least one target down, out of all locations probing the selection. One of many points at that location's network; all of them is a real outage.",
			unitCount,
			query("count(count by (location) ("+t.of("http5xx_target_up")+" == 0)) or vector(0)", "failing"),
			query("count(count by (location) ("+t.of("http5xx_target_up")+"))", "probing")).
			TextMode(common.BigValueTextModeValueAndName)).
		WithPanel(statPanel("Firing alerts",
			"Alerts of the http5xx rule pack firing now; their time spans are shaded on every graph.",
			unitCount, query("count("+firingAlerts()+") or vector(0)", "firing")).
			Thresholds(thresholds(threshold{1, "red"})).
			ColorMode(common.BigValueColorModeBackground)).
		WithPanel(statPanel("p99 latency",
			"99th percentile of the whole probe duration across the selection.",
			unitSeconds, query(t.quantile(0.99, "http5xx_request_duration_seconds"), "p99"))).
		WithPanel(statPanel("Highest saturation",
			"The most saturated target in the selection, from its configured saturation source (0 to 100 %).",
			unitRatio, query("max("+t.of("http5xx_saturation_ratio")+")", "max")).
			Thresholds(thresholds(saturationThresholds...)).
			Min(0).Max(1))

	b = b.WithRow(dashboard.NewRowBuilder("Errors: which class, whose pager")).
		WithPanel(stacked(timeSeries("Error ratio by class and owner",
			"Share of probes per error class, labelled with the owner the class routes to. Classes do not overlap, so the stack is the total error ratio. app → application logs, gateway → is the backend up, capacity → saturation, timeout → slow path, network → resolver and certificates.",
			unitRatio, query(t.errorRate(rateWindow, "class", "owner")+"\n/ ignoring (class, owner) group_left\n"+t.probeRate(rateWindow), "{{class}} → {{owner}}")))).
		WithPanel(tablePanel("Top failing targets",
			"The ten target and location pairs with the highest error ratio over the whole time range. Click a row to open it in the target dashboard.",
			unitRatio, instant("topk(10,\n"+t.errorRatio(rangeWindow, "service", "target", "location")+"\n) > 0")).
			WithTransformation(organize("error ratio", "Time")).
			WithTransformation(transformation("sortBy", map[string]any{"sort": []map[string]any{{"field": "error ratio", "desc": true}}})).
			Thresholds(thresholds(errorRatioThresholds...)).
			OverrideByFieldType("number", colorBackground).
			DataLinks([]cog.Builder[dashboard.DashboardLink]{dataLink("Open ${__data.fields.target} from ${__data.fields.location}", targetDashboardURL)})).
		WithPanel(stacked(timeSeries("5xx answers by code",
			"HTTP 5xx answers per second by exact status code, stacked. 500: the application failed; 502: a proxy got a bad answer from the origin; 503: overloaded or in maintenance; 504: a proxy gave up waiting.",
			unitPerSec, query("sum by (code) ("+t.rate("http5xx_responses_total", `code=~"5.."`)+")", "{{code}}")))).
		WithPanel(stacked(timeSeries("Failed probes by reason",
			"Probes that failed per second, by reason with the class it maps to: no HTTP answer at all (dns, connect_refused, connect_timeout, tls, timeout, reset, …), or soft_error, an answer that came but failed its target's expect conditions.",
			unitPerSec, query("sum by (reason, class) ("+t.rate("http5xx_failures_total")+")", "{{reason}} ({{class}})"))))

	b = b.WithRow(dashboard.NewRowBuilder("Latency and saturation: slow or full?")).
		WithPanel(timeSeries("Latency p50 / p99",
			"Median and 99th percentile of the whole probe duration across the selection. A p99 climbing toward the probe timeout comes before 504s.",
			unitSeconds,
			query(t.quantile(0.5, "http5xx_request_duration_seconds"), "p50"),
			query(t.quantile(0.99, "http5xx_request_duration_seconds"), "p99")).
			Span(8)).
		WithPanel(timeSeries("p99 latency by target",
			"99th percentile of the whole probe duration per target and location, to find the slow one.",
			unitSeconds, query(t.quantile(0.99, "http5xx_request_duration_seconds", "target", "location"), "{{target}} @ {{location}}")).
			Span(8)).
		WithPanel(timeSeries("Saturation by target",
			"Saturation per target from its configured source (Retry-After, nginx, php-fpm, JSON, Prometheus text), 0 to 100 %. Saturation near 100 % next to 503s means capacity, not a bug.",
			unitRatio, query("max by (target, location, source) ("+t.of("http5xx_saturation_ratio")+")", "{{target}} @ {{location}} ({{source}})")).
			Span(8).
			Max(1).
			Thresholds(thresholds(saturationThresholds...)).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)))

	b = b.WithRow(dashboard.NewRowBuilder("Where: everywhere or one location?")).
		WithPanel(tablePanel("Error ratio: target × location",
			"Error ratio over the last rate window with one row per target and one column per location. A red column is a location problem (its network or ISP); a red row is the target itself. Click a cell to open that target from that location.",
			unitRatio, instant(t.errorRatio(rateWindow, "target", "location"))).
			Height(10).
			WithTransformation(transformation("groupingToMatrix", map[string]any{
				"rowField": "target", "columnField": "location", "valueField": "Value", "emptyValue": "null",
			})).
			Thresholds(thresholds(errorRatioThresholds...)).
			OverrideByFieldType("number", colorBackground).
			DataLinks([]cog.Builder[dashboard.DashboardLink]{dataLink("Open ${__data.fields[0]} from ${__field.name}",
				"/d/"+uidTarget+"/"+uidTarget+"?${__url_time_range}&${datasource:queryparam}&${job:queryparam}&var-target=${__data.fields[0]}&var-location=${__field.name}")})).
		WithPanel(statusHistory("Up: target @ location",
			"Whether each target met valid_status_codes, per location, over time: since when it fails and from where.",
			unitNone, query("min by (target, location) ("+t.of("http5xx_target_up")+")", "{{target}} @ {{location}}")).
			Height(10).
			Mappings(upDown))

	return b
}
