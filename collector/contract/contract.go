// Package contract is the exporter's metric contract (v1) in one place:
// every metric name, its help text and its labels (this file), and every
// label value the exporter emits (values.go). Packages that export series
// take their names and values from here; config validation takes the values
// it accepts from here; tests check the rules and dashboards against it.
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
	LabelShard    = "shard"
	LabelShards   = "shards"
	// LabelMechanism is the service discovery mechanism (SDMechanisms).
	LabelMechanism = "mechanism"
)

// Label names of the connection a probe saw.
const (
	// LabelCert is the certificate a NotAfter belongs to (CertLeaf, CertChain).
	LabelCert        = "cert"
	LabelProtocol    = "protocol"
	LabelIPFamily    = "ip_family"
	LabelTLSVersion  = "tls_version"
	LabelCertSubject = "cert_subject"
	LabelCertIssuer  = "cert_issuer"
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

// The metrics, in the order of the README's metrics table.
var (
	ProbesTotal = Metric{
		Name: "http5xx_probes_total", Type: "counter",
		Help:      "Probes attempted.",
		PerTarget: true,
	}
	ResponsesTotal = Metric{
		Name: "http5xx_responses_total", Type: "counter",
		Help:      "HTTP answers by exact status code, with the error class of that code and the team it pages for this target (owner).",
		Labels:    []string{LabelCode, LabelClass, LabelOwner},
		PerTarget: true,
	}
	FailuresTotal = Metric{
		Name: "http5xx_failures_total", Type: "counter",
		Help:      "Probes that got no HTTP answer, or one that fails all the same (reason soft_error: an expect condition or an error page served as 2xx), by reason, with the error class of that reason and the team it pages for this target (owner).",
		Labels:    []string{LabelReason, LabelClass, LabelOwner},
		PerTarget: true,
	}
	RequestDuration = Metric{
		Name: "http5xx_request_duration_seconds", Type: "histogram",
		Help:      "Duration of the whole probe.",
		PerTarget: true,
	}
	PhaseDuration = Metric{
		Name: "http5xx_phase_duration_seconds", Type: "histogram",
		Help:      "Duration of each phase of the probe: resolve, connect, tls, processing (to first byte), transfer.",
		Labels:    []string{LabelPhase},
		PerTarget: true,
	}
	TargetUp = Metric{
		Name: "http5xx_target_up", Type: "gauge",
		Help:      "1 when the last probe met the target's valid_status_codes, else 0.",
		PerTarget: true,
	}
	LastStatusCode = Metric{
		Name: "http5xx_last_status_code", Type: "gauge",
		Help:      "Status code of the last probe's answer, 0 when there was no answer.",
		PerTarget: true,
	}
	LastProbeTimestamp = Metric{
		Name: "http5xx_last_probe_timestamp_seconds", Type: "gauge",
		Help:      "Unix time the last probe finished.",
		PerTarget: true,
	}
	RetryAfter = Metric{
		Name: "http5xx_retry_after_seconds", Type: "gauge",
		Help:      "Retry-After of the last 503 or 429 answer in seconds, 0 otherwise.",
		PerTarget: true,
	}
	SaturationRatio = Metric{
		Name: "http5xx_saturation_ratio", Type: "gauge",
		Help:      "Saturation of the target between 0 and 1 from its last reading; 1 while the target fails and its source is refused or times out; absent after any other failed reading.",
		Labels:    []string{LabelSource},
		PerTarget: true,
	}
	SaturationErrorsTotal = Metric{
		Name: "http5xx_saturation_errors_total", Type: "counter",
		Help:      "Saturation readings that failed, by why the source could not be read.",
		Labels:    []string{LabelSource, LabelReason},
		PerTarget: true,
	}
	ErrorLayerTotal = Metric{
		Name: "http5xx_error_layer_total", Type: "counter",
		Help:      "5xx answers by the layer (cdn, load_balancer, proxy, origin, unknown) and product that produced them.",
		Labels:    []string{LabelCode, LabelLayer, LabelProduct},
		PerTarget: true,
	}
	DeployTimestamp = Metric{
		Name: "http5xx_deploy_timestamp_seconds", Type: "gauge",
		Help:   "Unix time of the last deploy of the service.",
		Labels: []string{LabelService},
	}
	DeploysTotal = Metric{
		Name: "http5xx_deploys_total", Type: "counter",
		Help:   "Deploys recorded for the service.",
		Labels: []string{LabelService},
	}
	DeployInfo = Metric{
		Name: "http5xx_deploy_info", Type: "gauge",
		Help:   "1 for the service's current version.",
		Labels: []string{LabelService, LabelVersion},
	}
	DeployTokenFileOK = Metric{
		Name: "http5xx_deploy_token_file_ok", Type: "gauge",
		Help: "0 while --deploy.token-file cannot be read and every deploy POST is refused; 1 otherwise (also when no token file is set).",
	}
	MaintenanceActive = Metric{
		Name: "http5xx_maintenance_active", Type: "gauge",
		Help:   "1 while the service is inside a maintenance window, 0 otherwise (exported while a window is current, upcoming or ended within 24h).",
		Labels: []string{LabelService},
	}
	MaintenanceEndTimestamp = Metric{
		Name: "http5xx_maintenance_end_timestamp_seconds", Type: "gauge",
		Help:   "Unix time the service's current maintenance window ends, or its last one ended (kept 24h).",
		Labels: []string{LabelService},
	}
	TargetInfo = Metric{
		Name: "http5xx_target_info", Type: "gauge",
		Help:      "1 per configured target, with its URL, its owner (the team of its whole-target alerts) and the target's own labels (labels:).",
		Labels:    []string{LabelURL, LabelOwner},
		PerTarget: true,
	}
	TLSCertNotAfter = Metric{
		Name: "http5xx_tls_cert_not_after_timestamp_seconds", Type: "gauge",
		Help:      "NotAfter of an HTTPS target's certificates as Unix time, from the last probe that saw them: cert=\"leaf\" is the server's own, cert=\"chain\" the earliest along the verified chain.",
		Labels:    []string{LabelCert},
		PerTarget: true,
	}
	ConnectionInfo = Metric{
		Name: "http5xx_connection_info", Type: "gauge",
		Help:      "1 for the connection of the target's last answer: HTTP protocol, IP family and, over HTTPS, TLS version and the leaf certificate's subject and issuer (at most 128 bytes each). Replaced when any of them changes.",
		Labels:    []string{LabelProtocol, LabelIPFamily, LabelTLSVersion, LabelCertSubject, LabelCertIssuer},
		PerTarget: true,
	}
	InflightProbes = Metric{
		Name: "http5xx_inflight_probes", Type: "gauge",
		Help: "Probes running right now (the exporter's own saturation).",
	}
	ProbeConcurrencyLimit = Metric{
		Name: "http5xx_probe_concurrency_limit", Type: "gauge",
		Help: "The effective limit of probes in flight: --probe.max-concurrent when set, else derived from the schedule (twice the sum over targets of timeout/interval, at least 64).",
	}
	ScheduleLag = Metric{
		Name: "http5xx_schedule_lag_seconds", Type: "histogram",
		Help: "How late probes start compared with their slot.",
	}
	SkippedProbesTotal = Metric{
		Name: "http5xx_skipped_probes_total", Type: "counter",
		Help:      "Probes not started or not counted, by reason: overlap (the previous probe of the target still runs), limit (the in-flight limit stayed full for half the interval), shutdown (the exporter stopped while the probe waited for the limit) or exporter (the exporter itself ran out of file descriptors, memory or probe slots).",
		Labels:    []string{LabelReason},
		PerTarget: true,
	}
	ConfigLastReloadSuccessful = Metric{
		Name: "http5xx_config_last_reload_successful", Type: "gauge",
		Help: "1 when the last configuration reload succeeded.",
	}
	ConfigLastReloadSuccessTimestamp = Metric{
		Name: "http5xx_config_last_reload_success_timestamp_seconds", Type: "gauge",
		Help: "Unix time of the last successful configuration reload.",
	}
	ShardInfo = Metric{
		Name: "http5xx_shard_info", Type: "gauge",
		Help:   "1, labelled with this exporter's shard (--shard.index) and the number of shards (--shard.count).",
		Labels: []string{LabelShard, LabelShards},
	}
	ConfiguredTargets = Metric{
		Name: "http5xx_configured_targets", Type: "gauge",
		Help: "Targets in the running configuration before sharding; this shard probes those with an http5xx_target_info series.",
	}
	SDRefreshFailuresTotal = Metric{
		Name: "http5xx_sd_refresh_failures_total", Type: "counter",
		Help:   "Refreshes of a discovery source (a file_sd file, an http_sd URL) that failed; the source keeps its last good targets.",
		Labels: []string{LabelMechanism},
	}
	BuildInfo = Metric{
		Name: "http5xx_exporter_build_info", Type: "gauge",
		Help: "A metric with a constant '1' value labeled by version, revision, branch, goversion, goos and goarch from which the exporter was built.",
	}
)

// ReservedLabels are the label names a target's labels may not use: the
// exporter's own labels, those Prometheus and the rule pack set, and the
// histogram and summary labels.
func ReservedLabels() []string {
	return []string{
		LabelTarget, LabelService, LabelLocation, LabelCode, LabelClass, LabelOwner, LabelReason,
		LabelPhase, LabelSource, LabelVersion, LabelURL, LabelLayer, LabelProduct,
		"job", "instance", "le", "quantile", "alertname", "severity", "error_class",
	}
}

// All lists the contract, for documentation and consistency tests.
func All() []Metric {
	return []Metric{
		ProbesTotal, ResponsesTotal, FailuresTotal, RequestDuration, PhaseDuration,
		TargetUp, LastStatusCode, LastProbeTimestamp, RetryAfter, SaturationRatio, SaturationErrorsTotal,
		ErrorLayerTotal, DeployTimestamp, DeploysTotal, DeployInfo, DeployTokenFileOK,
		MaintenanceActive, MaintenanceEndTimestamp, TargetInfo,
		TLSCertNotAfter, ConnectionInfo,
		InflightProbes, ProbeConcurrencyLimit, ScheduleLag, SkippedProbesTotal, ConfigLastReloadSuccessful,
		ConfigLastReloadSuccessTimestamp, ShardInfo, ConfiguredTargets, SDRefreshFailuresTotal, BuildInfo,
	}
}
