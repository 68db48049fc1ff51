// Package contract is the exporter's metric contract (DESIGN.md, v1) in one
// place: every metric name, its help text and its labels. Packages that
// export series take their names from here, and tests check the rules and
// dashboards against it.
package contract

// Namespace prefixes every metric.
const Namespace = "http5xx"

// Label names.
const (
	LabelTarget   = "target"
	LabelService  = "service"
	LabelLocation = "location"
	LabelCode     = "code"
	LabelClass    = "class"
	LabelOwner    = "owner"
	LabelReason   = "reason"
	LabelPhase    = "phase"
	LabelSource   = "source"
	LabelVersion  = "version"
	LabelURL      = "url"
	LabelLayer    = "layer"
	LabelProduct  = "product"
)

// Metric is one row of the contract. Labels are the labels beyond the
// per-target ones (target, service and, when set, location).
type Metric struct {
	Name   string
	Type   string // counter, gauge, histogram
	Help   string
	Labels []string
	// PerTarget is false for series that carry no target label.
	PerTarget bool
}

// The metrics, in the order of DESIGN.md's table.
var (
	ProbesTotal = Metric{"http5xx_probes_total", "counter",
		"Probes attempted.", nil, true}
	ResponsesTotal = Metric{"http5xx_responses_total", "counter",
		"HTTP answers by exact status code, with the error class and owner of that code.", []string{LabelCode, LabelClass, LabelOwner}, true}
	FailuresTotal = Metric{"http5xx_failures_total", "counter",
		"Probes that got no HTTP answer, by reason, with the error class and owner of that reason.", []string{LabelReason, LabelClass, LabelOwner}, true}
	RequestDuration = Metric{"http5xx_request_duration_seconds", "histogram",
		"Duration of the whole probe.", nil, true}
	PhaseDuration = Metric{"http5xx_phase_duration_seconds", "histogram",
		"Duration of each phase of the probe: resolve, connect, tls, processing (to first byte), transfer.", []string{LabelPhase}, true}
	TargetUp = Metric{"http5xx_target_up", "gauge",
		"1 when the last probe met the target's valid_status_codes, else 0.", nil, true}
	LastStatusCode = Metric{"http5xx_last_status_code", "gauge",
		"Status code of the last probe's answer, 0 when there was no answer.", nil, true}
	LastProbeTimestamp = Metric{"http5xx_last_probe_timestamp_seconds", "gauge",
		"Unix time the last probe finished.", nil, true}
	RetryAfter = Metric{"http5xx_retry_after_seconds", "gauge",
		"Retry-After of the last 503 or 429 answer in seconds, 0 otherwise.", nil, true}
	SaturationRatio = Metric{"http5xx_saturation_ratio", "gauge",
		"Saturation of the target between 0 and 1, from its configured saturation source.", []string{LabelSource}, true}
	SaturationErrorsTotal = Metric{"http5xx_saturation_errors_total", "counter",
		"Saturation readings that failed (unreachable, slow, too large or unparsable source).", []string{LabelSource}, true}
	ErrorLayerTotal = Metric{"http5xx_error_layer_total", "counter",
		"5xx answers by the layer (cdn, load_balancer, proxy, origin, unknown) and product that produced them.", []string{LabelCode, LabelLayer, LabelProduct}, true}
	DeployTimestamp = Metric{"http5xx_deploy_timestamp_seconds", "gauge",
		"Unix time of the last deploy of the service.", []string{LabelService}, false}
	DeploysTotal = Metric{"http5xx_deploys_total", "counter",
		"Deploys recorded for the service.", []string{LabelService}, false}
	DeployInfo = Metric{"http5xx_deploy_info", "gauge",
		"1 for the service's current version.", []string{LabelService, LabelVersion}, false}
	TargetInfo = Metric{"http5xx_target_info", "gauge",
		"1 per configured target, with its URL and owner.", []string{LabelURL, LabelOwner}, true}
	InflightProbes = Metric{"http5xx_inflight_probes", "gauge",
		"Probes running right now (the exporter's own saturation).", nil, false}
	ScheduleLag = Metric{"http5xx_schedule_lag_seconds", "histogram",
		"How late probes start compared with their slot.", nil, false}
	SkippedProbesTotal = Metric{"http5xx_skipped_probes_total", "counter",
		"Probes not started, by reason: overlap (the previous probe of the target still runs) or concurrency (the global limit was reached).", []string{LabelReason}, true}
	ConfigLastReloadSuccessful = Metric{"http5xx_config_last_reload_successful", "gauge",
		"1 when the last configuration reload succeeded.", nil, false}
	ConfigLastReloadSuccessTimestamp = Metric{"http5xx_config_last_reload_success_timestamp_seconds", "gauge",
		"Unix time of the last successful configuration reload.", nil, false}
	BuildInfo = Metric{"http5xx_exporter_build_info", "gauge",
		"A metric with a constant '1' value labeled by version, revision, branch, goversion, goos and goarch from which the exporter was built.", nil, false}
)

// All lists the contract, for documentation and consistency tests.
func All() []Metric {
	return []Metric{
		ProbesTotal, ResponsesTotal, FailuresTotal, RequestDuration, PhaseDuration,
		TargetUp, LastStatusCode, LastProbeTimestamp, RetryAfter, SaturationRatio, SaturationErrorsTotal,
		ErrorLayerTotal, DeployTimestamp, DeploysTotal, DeployInfo, TargetInfo,
		InflightProbes, ScheduleLag, SkippedProbesTotal, ConfigLastReloadSuccessful,
		ConfigLastReloadSuccessTimestamp, BuildInfo,
	}
}
