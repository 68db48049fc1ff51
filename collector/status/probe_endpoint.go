package status

import (
	"context"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/http5xx/http5xx_exporter/collector"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
)

// serveProbe runs one probe of a configured target and answers that probe's
// series alone, blackbox_exporter style, under the contract's names. It
// never fetches anything but a configured target: an unknown name is 400.
// The probe is also recorded like a scheduled one (metrics, status page).
func (h *Handler) serveProbe(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("target")
	if name == "" {
		http.Error(w, "target parameter is missing: /probe?target=NAME probes a configured target", http.StatusBadRequest)
		return
	}
	cfg := h.o.Exporter.Config()
	i := slices.IndexFunc(cfg.Targets, func(t config.Target) bool { return t.Name == name })
	if i < 0 {
		http.Error(w, "target must be the name of a configured target; /probe fetches nothing else", http.StatusBadRequest)
		return
	}
	if ok, wait := h.probes.allow(name); !ok {
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		http.Error(w, "target "+name+" was probed on demand less than "+h.o.ProbeMinInterval.String()+" ago", http.StatusTooManyRequests)
		return
	}
	// A scraper that gives up must not turn the probe into a recorded
	// failure: the probe runs to its own timeout whatever the client does.
	res, err := h.o.Exporter.ProbeNow(context.WithoutCancel(r.Context()), name)
	if err != nil { // removed by a reload since the lookup above
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	reg, err := probeRegistry(h.o.Exporter.Location(), cfg, &cfg.Targets[i], &res)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// probeRegistry holds the per-target series of one result, built with the
// same collectors as the scheduled probes so names, labels and buckets are
// identical.
func probeRegistry(location string, cfg *config.Config, t *config.Target, res *probe.Result) (prometheus.Gatherer, error) {
	m := collector.NewMetrics(collector.MetricsOptions{
		Location: location, Buckets: cfg.Global.Buckets, PhaseBuckets: cfg.Global.PhaseClassicBuckets,
	})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		return nil, err
	}
	m.SetTargets([]*config.Target{t}, probe.NewClassifier(cfg.Classes), true)
	m.Observe(res)
	// Exporter-wide series (inflight, lag, reload) mean nothing for one
	// probe; keep the families that carry the target label.
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := reg.Gather()
		return slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool { return !hasTargetLabel(mf) }), err
	}), nil
}

func hasTargetLabel(mf *dto.MetricFamily) bool {
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == contract.LabelTarget {
				return true
			}
		}
	}
	return false
}
