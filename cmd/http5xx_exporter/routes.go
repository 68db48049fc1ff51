package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/api"
	"github.com/http5xx/http5xx_exporter/collector/deploy"
	"github.com/http5xx/http5xx_exporter/collector/status"
)

// newHandler is the handler tree: every route the exporter serves, each
// mounted once as "METHOD /path". GET also answers HEAD; another method on
// a known path gets 405 with Allow. writeTimeout is the server's; the
// routes that wait for a probe get the probe's timeout on top.
func newHandler(p *parts, metricsPath string, writeTimeout time.Duration, logger *slog.Logger) (http.Handler, error) {
	// The per-target series are streamed from the targets' records; the
	// handler answers what promhttp.HandlerFor would, byte for byte.
	metrics := p.exporter.Metrics().MetricsHandler(p.registry, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
		Registry:          p.registry,
	})
	about, err := aboutPage(metricsPath)
	if err != nil {
		return nil, err
	}
	links := []status.Link{
		{Path: metricsPath, Text: "Metrics"},
		{Path: status.APIPath, Text: "Status API (JSON)"},
		{Path: "/-/healthy", Text: "Health"},
		{Path: "/about", Text: "About"},
	}
	checker := &status.Checker{Adhoc: p.adhoc, Local: p.local, Peers: p.peers, Timeout: adhocTimeout}
	if p.adhoc.Enabled() && len(p.peers) > 0 {
		links = append([]status.Link{{Path: status.CheckPath, Text: "Global check"}}, links...)
	}
	pages, err := status.NewHandler(status.Options{
		Store: p.store, Exporter: p.exporter, Saturation: p.saturation,
		Deploys: status.DeployLookupFunc(func(service string) (string, time.Time, bool) {
			ev, ok := p.deploys.Latest(service)
			return ev.Version, ev.Timestamp, ok
		}),
		Maintenance: status.MaintenanceLookupFunc(func(service string) (time.Time, string, bool) {
			w, ok := p.deploys.ServiceWindow(service)
			return w.EffectiveEnd(), w.Reason, ok
		}),
		Shard: p.shard.Status,
		// The banner reads the record the reload gauges are set from.
		Reload: func() status.ReloadStatus {
			r := p.exporter.LastReload()
			return status.ReloadStatus{Success: r.OK, Time: r.At, LastSuccess: r.LastSuccess, Error: r.Err}
		},
		Version: version.Version,
		Links:   links,
		Checker: checker,
	})
	if err != nil {
		return nil, fmt.Errorf("status pages: %w", err)
	}
	deploys := p.deploys.Handler()

	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, metrics)
	mux.Handle("GET /-/healthy", text("Healthy."))
	// The server starts only once the first configuration is loaded and
	// probing, so whenever it answers, the exporter is ready.
	mux.Handle("GET /-/ready", text("Ready."))
	mux.Handle("POST /-/reload", p.reloader)
	mux.Handle("PUT /-/reload", p.reloader)
	mux.Handle("GET /{$}", pages.Index())
	mux.Handle("GET "+status.TargetPathPrefix+"{name}", pages.Target())
	mux.Handle("GET "+status.APIPath, pages.API())
	mux.Handle("GET "+status.BadgePathPrefix+"{file}", pages.Badge())
	mux.Handle("GET "+status.ProbePath, extendWriteDeadline(pages.Probe(), writeTimeout, func(r *http.Request) time.Duration {
		name := r.URL.Query().Get("target")
		for _, t := range p.exporter.Config().Targets {
			if t.Name == name {
				return t.TimeoutDuration()
			}
		}
		return 0 // answered at once
	}))
	mux.Handle("GET "+status.CheckPath, extendWriteDeadline(pages.Check(), writeTimeout, func(*http.Request) time.Duration { return adhocTimeout + peerWait })) // 404 without ad-hoc checks and peers
	mux.Handle("GET /about", about)
	mux.Handle("GET /api/v1/deploys", deploys)
	mux.Handle("POST /api/v1/deploys", deploys)
	maintenance := p.deploys.MaintenanceHandler()
	mux.Handle("GET "+deploy.MaintenancePath, maintenance)
	mux.Handle("POST "+deploy.MaintenancePath, maintenance)
	mux.Handle("DELETE "+deploy.MaintenancePath, maintenance)
	mux.Handle("GET "+adhoc.Path, extendWriteDeadline(p.adhoc, writeTimeout, func(*http.Request) time.Duration { return adhocTimeout })) // 404 while ad-hoc checks are off
	// Other methods on an /api/v1 path get the 405 in the JSON envelope.
	mux.Handle(status.APIPath, api.MethodNotAllowed("GET", "HEAD"))
	mux.Handle("/api/v1/deploys", api.MethodNotAllowed("GET", "HEAD", "POST"))
	mux.Handle(deploy.MaintenancePath, api.MethodNotAllowed("GET", "HEAD", "POST", "DELETE"))
	mux.Handle(adhoc.Path, api.MethodNotAllowed("GET", "HEAD"))
	return mux, nil
}

// extendWriteDeadline gives a handler that waits for a probe the probe's
// timeout on top of the server's write timeout: a target may take up to its
// interval to answer, longer than any fixed write timeout.
func extendWriteDeadline(h http.Handler, writeTimeout time.Duration, probeTimeout func(*http.Request) time.Duration) http.Handler {
	if writeTimeout <= 0 {
		return h // no write timeout to extend
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := probeTimeout(r); d > 0 {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + writeTimeout))
		}
		h.ServeHTTP(w, r)
	})
}

// text answers 200 with msg.
func text(msg string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, msg) })
}

// aboutPage is exporter-toolkit's landing page. The status page owns /, so
// it moves to /about (it answers only its own route prefix, "/").
func aboutPage(metricsPath string) (http.Handler, error) {
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "http5xx_exporter",
		Description: "Probes HTTP targets and tells which 5xx, whose problem, and what changed.",
		Version:     version.Info(),
		Profiling:   "false",
		Links: []web.LandingLinks{
			{Address: "/", Text: "Status page"},
			{Address: status.APIPath, Text: "Status API (JSON)"},
			{Address: metricsPath, Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
			{Address: "/-/ready", Text: "Readiness"},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("landing page: %w", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.URL.Path = "/"
		landing.ServeHTTP(w, r)
	}), nil
}
