package status

import (
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/shard"
)

// Document is the data of GET /api/v1/status, inside the api envelope.
// Field names are stable within v1: fields may be added, none renamed or
// removed. README.md in this directory documents every field.
type Document struct {
	// Location is the exporter's probing location ("" when unset).
	Location    string    `json:"location"`
	GeneratedAt time.Time `json:"generated_at"`
	// Shard says which shard this exporter is and how many configured
	// targets other shards probe; omitted when the exporter does not say.
	Shard *shard.Status `json:"shard,omitempty"`
	// LastReload is the outcome of the last configuration reload; omitted
	// when the exporter does not report it.
	LastReload *ReloadStatus  `json:"last_reload,omitempty"`
	Targets    []TargetStatus `json:"targets"`
}

// ReloadStatus is the last configuration reload: the record the
// http5xx_config_last_reload_* gauges are set from.
type ReloadStatus struct {
	Success bool `json:"success"`
	// Time is the last attempt; LastSuccess the last successful one, whose
	// configuration is the running one.
	Time        time.Time `json:"time"`
	LastSuccess time.Time `json:"last_success"`
	// Error says why the last attempt failed (file:line: field: message).
	Error string `json:"error,omitempty"`
}

// The values of TargetStatus.State.
const (
	StatePending  = "pending"  // not probed yet
	StateUp       = "up"       // the last probe succeeded, and every probe of the window did
	StateDegraded = "degraded" // the last probe succeeded, but one in the window failed or saturation is high
	StateDown     = "down"     // the last probe failed
)

// SaturationHigh is the saturation ratio from which a target whose probes
// succeed is degraded: it answers, with little room left.
const SaturationHigh = 0.8

// TargetStatus is one configured target.
type TargetStatus struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Service string `json:"service"`
	// Owner is the team that owns the target as a whole, paged by its
	// whole-target alerts (error budget burn, errors after a deploy).
	// The team paged for the last probe's class is LastProbe.Owner.
	Owner string `json:"owner,omitempty"`
	// Owners are the target's teams by class where they are not the class
	// owner (its own owners, else its service's); omitted when every class
	// pages its default owner.
	Owners          map[string]string `json:"owners,omitempty"`
	IntervalSeconds float64           `json:"interval_seconds"`
	State           string            `json:"state"`
	// Up is the last probe's success; false while pending.
	Up         bool          `json:"up"`
	LastProbe  *ProbeStatus  `json:"last_probe"`
	Window     WindowStatus  `json:"window"`
	LastDeploy *DeployStatus `json:"last_deploy,omitempty"`
	// Maintenance is the service's current maintenance window; omitted
	// outside one.
	Maintenance *MaintenanceStatus `json:"maintenance,omitempty"`
	Saturation  *SaturationStatus  `json:"saturation,omitempty"`
	// Connection is what the probes saw of the connection: protocol, IP
	// family, TLS version and certificates; omitted before the first
	// connection.
	Connection *probe.ConnReport `json:"connection,omitempty"`
	// LastSkip is the last slot the scheduler skipped; omitted when none.
	LastSkip *SkipStatus `json:"last_skip,omitempty"`
	// History holds the kept probes, newest first; only with ?target=NAME.
	History []ProbeStatus `json:"history,omitempty"`
}

// SkipStatus is the last skipped slot of a target: why (the reason label of
// http5xx_skipped_probes_total), when, and how many so far.
type SkipStatus struct {
	Reason contract.SkipReason `json:"reason"`
	Time   time.Time           `json:"time"`
	Count  uint64              `json:"count"`
}

// ProbeStatus is one probe.
type ProbeStatus struct {
	// Time is when the probe started.
	Time            time.Time `json:"time"`
	DurationSeconds float64   `json:"duration_seconds"`
	// Code is the HTTP status code, 0 when there was no answer.
	Code int `json:"code"`
	// Reason says why there was no (complete) answer: dns,
	// connect_refused, connect_timeout, tls, timeout, reset, malformed,
	// too_large, redirect_loop, redirect_refused, or soft_error (an answer
	// that met the valid codes but failed an expect condition; Code is
	// kept). Omitted when the probe got a good answer.
	Reason string `json:"reason,omitempty"`
	Class  string `json:"class"`
	// Owner is the team paged for Class on this target: the target's team
	// for the class, else the default owner. DefaultOwner is the default owner
	// it replaces, omitted when Owner is the default owner.
	Owner        string `json:"owner,omitempty"`
	DefaultOwner string `json:"default_owner,omitempty"`
	Success      bool   `json:"success"`
	// Layer and Product name the hop that produced a 5xx answer, when the
	// fingerprint rules recognised it.
	Layer   string `json:"layer,omitempty"`
	Product string `json:"product,omitempty"`
	// Cause says what the answer's page proves beyond its code; when it
	// proves another cause, CodeClass is the class the code alone has.
	Cause     string `json:"cause,omitempty"`
	CodeClass string `json:"code_class,omitempty"`
	// FirstMove is the first move of Class.
	FirstMove         string  `json:"first_move,omitempty"`
	RetryAfterSeconds float64 `json:"retry_after_seconds"`
	// PhasesSeconds holds the phases the probe went through: resolve,
	// connect, tls, processing, transfer.
	PhasesSeconds map[string]float64 `json:"phases_seconds"`
	Error         string             `json:"error,omitempty"`
}

// WindowStatus summarises the probes of the last WindowSeconds that the
// history still holds.
type WindowStatus struct {
	Seconds    float64 `json:"seconds"`
	Probes     int     `json:"probes"`
	Failures   int     `json:"failures"`
	P50Seconds float64 `json:"p50_seconds"`
	P99Seconds float64 `json:"p99_seconds"`
}

// DeployStatus is the service's last recorded deploy.
type DeployStatus struct {
	Version string    `json:"version"`
	Time    time.Time `json:"time"`
}

// MaintenanceStatus is the maintenance window the target's service is in.
type MaintenanceStatus struct {
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

// SaturationStatus is the target's last saturation reading.
type SaturationStatus struct {
	Ratio  float64 `json:"ratio"`
	Source string  `json:"source"`
}

// state names a snapshot's state as of the window summary w and the
// target's saturation reading (nil without one).
func state(last *Sample, w Window, sat *SaturationStatus) string {
	switch {
	case last == nil:
		return StatePending
	case !last.Success:
		return StateDown
	case w.Failures > 0 || sat != nil && sat.Ratio >= SaturationHigh:
		return StateDegraded
	default:
		return StateUp
	}
}

// teams is the Owners map of a target's Teams, nil without any.
func teams(ts []config.ClassTeam) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[string]string, len(ts))
	for _, ct := range ts {
		m[ct.Class] = ct.Team
	}
	return m
}

func probeStatus(s *Sample) ProbeStatus {
	p := ProbeStatus{
		Time:              s.Start.UTC(),
		DurationSeconds:   s.Duration.Seconds(),
		Code:              s.StatusCode,
		Class:             s.Class,
		Owner:             s.Owner,
		Success:           s.Success,
		Layer:             s.Layer,
		Product:           s.Product,
		Cause:             s.Cause,
		CodeClass:         s.CodeClass,
		FirstMove:         s.FirstMove,
		RetryAfterSeconds: s.RetryAfter.Seconds(),
		PhasesSeconds:     probe.PhasesSeconds(&s.Phases, &s.PhaseSeen),
	}
	if s.Reason != contract.ReasonNone {
		p.Reason = s.Reason.String()
	}
	p.Error = s.Error
	return p
}
