package status

import (
	"context"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/http5xx/http5xx_exporter/collector/config"
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
	reg, err := h.o.Exporter.Gatherer(&res)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
