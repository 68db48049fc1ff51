package discovery

import (
	"context"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// Options configure a Manager.
type Options struct {
	// Watch is how often file_sd files are looked at for changes
	// (--config.watch-interval); 0 leaves them to their refresh_interval.
	Watch     time.Duration
	UserAgent string
	Logger    *slog.Logger
}

// source is one discovery config with its last good targets.
type source interface {
	// snapshot returns the last good targets, relabelled with cfg.
	snapshot(cfg *config.Config) []config.Discovered
	// run refreshes until ctx ends, calling changed after every refresh
	// that changed the list.
	run(ctx context.Context, changed func())
}

// running is a source and the config it was started from.
type running struct {
	cfg    any // *config.FileSDConfig or *config.HTTPSDConfig
	src    source
	cancel context.CancelFunc
}

// Manager runs the discovery sources of the running configuration: one
// goroutine per source (never per target). It is safe for concurrent use.
type Manager struct {
	o        Options
	failures map[contract.SDMechanism]*atomic.Uint64
	changed  chan struct{}

	mu      sync.Mutex
	sources []*running
	wg      sync.WaitGroup
	closed  bool
}

// New returns a Manager without sources; Discover starts them.
func New(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{o: o, failures: map[contract.SDMechanism]*atomic.Uint64{}, changed: make(chan struct{}, 1)}
	for _, mech := range contract.SDMechanisms() {
		m.failures[mech] = &atomic.Uint64{}
	}
	return m
}

// Collector exports http5xx_sd_refresh_failures_total, labelled with
// location when it is set (the location is known once the first
// configuration, which discovery is part of, is loaded).
func (m *Manager) Collector(location string) prometheus.Collector {
	var constLabels prometheus.Labels
	if location != "" {
		constLabels = prometheus.Labels{contract.LabelLocation: location}
	}
	return &failures{m: m, desc: prometheus.NewDesc(contract.SDRefreshFailuresTotal.Name, contract.SDRefreshFailuresTotal.Help,
		contract.SDRefreshFailuresTotal.Labels, constLabels)}
}

type failures struct {
	m    *Manager
	desc *prometheus.Desc
}

func (f *failures) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }

func (f *failures) Collect(ch chan<- prometheus.Metric) {
	for _, mech := range contract.SDMechanisms() {
		ch <- prometheus.MustNewConstMetric(f.desc, prometheus.CounterValue, float64(f.m.failures[mech].Load()), string(mech))
	}
}

// Failures returns the failed refreshes of mech so far.
func (m *Manager) Failures(mech contract.SDMechanism) uint64 { return m.failures[mech].Load() }

// Changed receives after a refresh changed a source's targets; the run
// loop reloads then. Changes while a reload is pending coalesce.
func (m *Manager) Changed() <-chan struct{} { return m.changed }

func (m *Manager) signal() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// failed counts and logs a refresh that failed; the source's last good
// list stays.
func (m *Manager) failed(mech contract.SDMechanism, what string, err error) {
	m.failures[mech].Add(1)
	m.o.Logger.Warn("discovery refresh failed; the last good targets stay", "mechanism", mech, "source", what, "err", err)
}

// Discover is the load step's discovery: it runs the sources cfg
// configures (keeping those already running with the same settings, so
// their last good lists and timers stay; a new source is read once before
// Discover returns) and returns cfg with their targets appended, validated
// as configured targets are.
func (m *Manager) Discover(cfg *config.Config) (*config.Config, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return cfg, nil
	}
	var next []*running
	keep := map[*running]bool{}
	adopt := func(c any, start func() source) {
		for _, r := range m.sources {
			if !keep[r] && reflect.DeepEqual(r.cfg, c) {
				keep[r] = true
				next = append(next, r)
				return
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &running{cfg: c, src: start(), cancel: cancel}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			r.src.run(ctx, m.signal)
		}()
		next = append(next, r)
	}
	for i := range cfg.FileSDConfigs {
		c := cfg.FileSDConfigs[i]
		adopt(&c, func() source { return newFileSource(&c, m) })
	}
	for i := range cfg.HTTPSDConfigs {
		c := cfg.HTTPSDConfigs[i]
		adopt(&c, func() source { return newHTTPSource(&c, m) })
	}
	for _, r := range m.sources {
		if !keep[r] {
			r.cancel()
		}
	}
	m.sources = next

	var found []config.Discovered
	for _, r := range m.sources {
		found = append(found, r.src.snapshot(cfg)...)
	}
	return config.WithDiscovered(cfg, found)
}

// Close stops every source and waits for them.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	for _, r := range m.sources {
		r.cancel()
	}
	m.sources = nil
	m.mu.Unlock()
	m.wg.Wait()
}

// every calls f at each tick of d until ctx ends.
func every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
