package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// exporter is the exporter itself: is it probing on time, and is it the
// build and configuration we think it is? Every panel answers per instance
// and location: when every location scrapes its exporter under the same
// address, location is what tells the exporters apart.
func exporter(s Settings) *dashboard.DashboardBuilder {
	e := perExporter
	b := newDashboard(uidExporter, "http5xx / Exporter",
		"The exporters themselves: probe throughput, schedule lag, skipped and in-flight probes, configuration reloads and build versions.", s)
	b = withVariables(b, exporterChain(s)).
		Annotation(alertAnnotation(firingAlerts())).
		Link(dashboardLink("Overview", uidOverview, "The fleet of probed targets"))

	b = b.WithRow(dashboard.NewRowBuilder("Build and configuration: is it what we think it runs?")).
		WithPanel(tablePanel("Build info",
			"Version, revision, branch and Go version each exporter was built from. Two versions side by side explain different answers from different locations.",
			unitNone, instant("max by (instance, location, version, revision, branch, goversion) ("+e.of("http5xx_exporter_build_info")+")")).
			WithTransformation(organize("", "Time", "Value")).
			Height(6)).
		WithPanel(statPanel("Last reload",
			"Whether each exporter's last configuration reload succeeded. After a failed reload it keeps running the previous configuration.",
			unitNone, query("min by (instance, location) ("+e.of("http5xx_config_last_reload_successful")+")", "{{instance}} {{location}}")).
			Mappings(okFailed).
			ColorMode(common.BigValueColorModeBackground).
			GraphMode(common.BigValueGraphModeNone).
			Height(6).
			Span(6)).
		WithPanel(statPanel("Since last good reload",
			"Time since each exporter last loaded its configuration successfully.",
			unitSeconds, query("time() - max by (instance, location) ("+e.of("http5xx_config_last_reload_success_timestamp_seconds")+")", "{{instance}} {{location}}")).
			GraphMode(common.BigValueGraphModeNone).
			Height(6).
			Span(6))

	b = b.WithRow(dashboard.NewRowBuilder("Throughput: is it probing?")).
		WithPanel(timeSeries("Probes per second",
			"Probes started per second by each exporter and location. A drop without a configuration change means probes are being skipped or stuck.",
			unitOpsSec, query("sum by (instance, location) ("+e.rate("http5xx_probes_total")+")", "{{instance}} {{location}}"))).
		WithPanel(stacked(timeSeries("Skipped probes",
			"Probes not started per second, by reason: overlap (the previous probe of the target still runs, so its timeout is longer than its interval), limit (the in-flight limit stayed full), shutdown (the exporter stopped while the probe waited) or exporter (the exporter ran out of its own file descriptors, memory, ports or probe slots).",
			unitOpsSec, query("sum by (instance, location, reason) ("+e.rate("http5xx_skipped_probes_total")+")", "{{instance}} {{location}} {{reason}}"))))

	b = b.WithRow(dashboard.NewRowBuilder("Scheduling: is it on time?")).
		WithPanel(timeSeries("Schedule lag p50 / p99",
			"How late probes start compared with their slot. Lag growing with in-flight probes means the exporter is saturated: raise the concurrency limit or add an exporter.",
			unitSeconds,
			query(e.quantile(0.5, "http5xx_schedule_lag_seconds", "instance", "location"), "p50 {{instance}} {{location}}"),
			query(e.quantile(0.99, "http5xx_schedule_lag_seconds", "instance", "location"), "p99 {{instance}} {{location}}")).
			Span(8)).
		WithPanel(timeSeries("In-flight probes",
			"Probes running right now in each exporter: its own saturation.",
			unitCount, query("max by (instance, location) ("+e.of("http5xx_inflight_probes")+")", "{{instance}} {{location}}")).
			Span(8)).
		WithPanel(timeSeries("Configuration reloads",
			"Successful reloads per rate window (bars) and whether the last reload succeeded (1) or failed (0).",
			unitCount,
			query("sum by (instance, location) (changes("+e.of("http5xx_config_last_reload_success_timestamp_seconds")+"["+rateWindow+"]))", "reloads {{instance}} {{location}}"),
			query("min by (instance, location) ("+e.of("http5xx_config_last_reload_successful")+")", "last reload ok {{instance}} {{location}}")).
			Span(8).
			DrawStyle(common.GraphDrawStyleBars).
			OverrideByQuery("B", []dashboard.DynamicConfigValue{{Id: "custom.drawStyle", Value: "line"}}))

	return b
}
