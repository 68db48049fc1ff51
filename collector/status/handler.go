// Package status answers "is it up, and if not, whose problem is it?" for
// people and for other exporters: it keeps the recent probes of every
// target (Store) and serves the status page, the per-target history,
// /api/v1/status and the on-demand /probe endpoint (Handler).
package status

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/api"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/shard"
	"github.com/prometheus/client_golang/prometheus"
)

// Exporter is what the handlers need of a collector.Exporter.
type Exporter interface {
	Location() string
	Config() *config.Config
	// ProbeNow probes a configured target now and records the result like a
	// scheduled probe (metrics and every sink, this package's Store too).
	ProbeNow(ctx context.Context, name string) (probe.Result, error)
	// Gatherer holds the per-target series of one result alone, under the
	// same names, labels and buckets as the scheduled probes' (for /probe).
	Gatherer(r *probe.Result) (prometheus.Gatherer, error)
}

// DeployLookup finds a service's last deploy.
type DeployLookup interface {
	LatestDeploy(service string) (version string, at time.Time, ok bool)
}

// DeployLookupFunc adapts a function to DeployLookup.
type DeployLookupFunc func(service string) (version string, at time.Time, ok bool)

// LatestDeploy calls f.
func (f DeployLookupFunc) LatestDeploy(service string) (string, time.Time, bool) { return f(service) }

// MaintenanceLookup finds the maintenance window a service is in now.
type MaintenanceLookup interface {
	ActiveMaintenance(service string) (until time.Time, reason string, ok bool)
}

// MaintenanceLookupFunc adapts a function to MaintenanceLookup.
type MaintenanceLookupFunc func(service string) (until time.Time, reason string, ok bool)

// ActiveMaintenance calls f.
func (f MaintenanceLookupFunc) ActiveMaintenance(service string) (time.Time, string, bool) {
	return f(service)
}

// SaturationLookup reads a target's last saturation ratio (0..1) and the
// type of its source.
type SaturationLookup interface {
	Get(target string) (ratio float64, source string, ok bool)
}

// Link is an entry of the pages' navigation.
type Link struct {
	Path string // absolute path on this exporter, e.g. /metrics
	Text string
}

// Options configure a Handler.
type Options struct {
	Store    *Store
	Exporter Exporter
	// Deploys and Saturation are optional; without them the columns show a
	// dash.
	Deploys    DeployLookup
	Saturation SaturationLookup
	// Maintenance, optional, marks targets whose service is in a
	// maintenance window.
	Maintenance MaintenanceLookup
	// Refresh is the pages' meta refresh interval; 0 means 10s, negative
	// turns it off. Readers can pause it with ?refresh=0.
	Refresh time.Duration
	// ProbeMinInterval is the least time between two /probe runs of one
	// target; 0 means 1s. Faster requests get 429 with Retry-After.
	ProbeMinInterval time.Duration
	// Links are shown on every page; nil means /metrics, /api/v1/status and
	// /-/healthy.
	Links []Link
	// Shard, optional, tells which shard this exporter is and how many
	// configured targets it leaves to the other shards.
	Shard func() shard.Status
	// Reload reports the last configuration reload (optional): after a
	// failed one every page shows a banner.
	Reload func() ReloadStatus
	// Checker, optional, configures the global status checker page
	// (CheckPath); nil, or without peers or ad-hoc checks, it answers 404.
	Checker *Checker
	// Version is shown in the footer.
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves the status page, the target pages, /api/v1/status and
// /probe.
type Handler struct {
	o       Options
	pages   *template.Template
	probes  *limiter
	refresh int // seconds, 0 for none
}

// The paths Register serves. Target pages are TargetPathPrefix + name.
const (
	StatusPath       = "/"
	TargetPathPrefix = "/targets/"
	APIPath          = "/api/v1/status"
	ProbePath        = "/probe"
)

// NewHandler checks o and builds the handler.
func NewHandler(o Options) (*Handler, error) {
	if o.Store == nil || o.Exporter == nil {
		return nil, errors.New("status: Store and Exporter are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Refresh == 0 {
		o.Refresh = 10 * time.Second
	}
	if o.ProbeMinInterval <= 0 {
		o.ProbeMinInterval = time.Second
	}
	if o.Links == nil {
		o.Links = []Link{{"/metrics", "Metrics"}, {APIPath, "Status API (JSON)"}, {"/-/healthy", "Health"}}
	}
	t, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{o: o, pages: t, probes: newLimiter(o.ProbeMinInterval, o.Now)}
	if o.Refresh > 0 {
		h.refresh = max(1, int(o.Refresh.Round(time.Second)/time.Second))
	}
	return h, nil
}

// Register adds every route to mux. The status page takes "GET /{$}", so
// only the exact root; other unknown paths stay 404 (or whatever else mux
// serves).
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.serveIndex)
	mux.HandleFunc("GET "+TargetPathPrefix+"{name}", h.serveTarget)
	mux.HandleFunc("GET "+APIPath, h.serveAPI)
	mux.HandleFunc("GET "+ProbePath, h.serveProbe)
	mux.HandleFunc("GET "+CheckPath, h.serveCheck)
	mux.HandleFunc("GET "+BadgePathPrefix+"{file}", h.serveBadge)
}

// Index, Target, API and Probe are the handlers Register mounts, for a
// handler tree that mounts every route itself: Index at "GET /{$}", Target
// at "GET "+TargetPathPrefix+"{name}" (it reads the name wildcard), API at
// "GET "+APIPath and Probe at "GET "+ProbePath.
func (h *Handler) Index() http.Handler  { return http.HandlerFunc(h.serveIndex) }
func (h *Handler) Target() http.Handler { return http.HandlerFunc(h.serveTarget) }
func (h *Handler) API() http.Handler    { return http.HandlerFunc(h.serveAPI) }
func (h *Handler) Probe() http.Handler  { return http.HandlerFunc(h.serveProbe) }

// document builds the status of the given snapshots as of now.
func (h *Handler) document(snaps []Snapshot, now time.Time, withHistory bool) Document {
	d := Document{Location: h.o.Exporter.Location(), GeneratedAt: now.UTC(), Targets: make([]TargetStatus, len(snaps))}
	if h.o.Shard != nil {
		s := h.o.Shard()
		d.Shard = &s
	}
	if h.o.Reload != nil {
		rs := h.o.Reload()
		rs.Time, rs.LastSuccess = rs.Time.UTC(), rs.LastSuccess.UTC()
		d.LastReload = &rs
	}
	for i := range snaps {
		d.Targets[i] = h.targetStatus(&snaps[i], now, withHistory)
	}
	return d
}

func (h *Handler) targetStatus(s *Snapshot, now time.Time, withHistory bool) TargetStatus {
	w := s.Window(now)
	last := s.Last()
	ts := TargetStatus{
		Name: s.Info.Name, URL: s.Info.URL, Service: s.Info.Service, Owner: s.Info.Owner,
		Owners:          teams(s.Info.Teams),
		IntervalSeconds: s.Info.Interval.Seconds(),
		Up:              last != nil && last.Success,
		Window: WindowStatus{
			Seconds: LatencyWindow.Seconds(), Probes: w.Probes, Failures: w.Failures,
			P50Seconds: w.P50.Seconds(), P99Seconds: w.P99.Seconds(),
		},
	}
	if last != nil {
		p := probeStatus(last)
		p.DefaultOwner = s.Info.defaultOwner(last)
		ts.LastProbe = &p
	}
	ts.Connection = s.Conn.Report()
	if s.Skip.Reason != "" {
		ts.LastSkip = &SkipStatus{Reason: s.Skip.Reason, Time: s.Skip.At.UTC(), Count: s.Skip.Count}
	}
	if h.o.Deploys != nil {
		if v, at, ok := h.o.Deploys.LatestDeploy(s.Info.Service); ok {
			ts.LastDeploy = &DeployStatus{Version: v, Time: at.UTC()}
		}
	}
	if h.o.Maintenance != nil {
		if until, reason, ok := h.o.Maintenance.ActiveMaintenance(s.Info.Service); ok {
			ts.Maintenance = &MaintenanceStatus{Until: until.UTC(), Reason: reason}
		}
	}
	if h.o.Saturation != nil {
		if r, src, ok := h.o.Saturation.Get(s.Info.Name); ok {
			ts.Saturation = &SaturationStatus{Ratio: r, Source: src}
		}
	}
	ts.State = state(last, w, ts.Saturation)
	if withHistory {
		ts.History = make([]ProbeStatus, len(s.History))
		for i := range s.History {
			ts.History[i] = probeStatus(&s.History[i])
			ts.History[i].DefaultOwner = s.Info.defaultOwner(&s.History[i])
		}
	}
	return ts
}

// serveAPI answers the Document in the api envelope: every target, or with
// ?target=NAME that target alone with its history.
func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request) {
	now := h.o.Now()
	var d Document
	if name := r.URL.Query().Get("target"); name != "" {
		snap, ok := h.o.Store.Snapshot(name)
		if !ok {
			api.WriteError(w, http.StatusNotFound, api.ErrNotFound, fmt.Sprintf("no configured target %q", name))
			return
		}
		d = h.document([]Snapshot{snap}, now, true)
	} else {
		d = h.document(h.o.Store.Snapshots(now.Add(-LatencyWindow)), now, false)
	}
	api.WriteData(w, http.StatusOK, d)
}

// retryAfterSeconds renders d for a Retry-After header, rounded up.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
