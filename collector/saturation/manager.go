// Package saturation polls each target's optional saturation source (nginx
// stub_status, php-fpm status, a JSON document, a Prometheus exposition) on
// its own schedule and exposes the reading as a 0..1 ratio, so a 503 can be
// read next to how full the origin was.
//
// A reading is one bounded GET of collector/fetch, with the target's proxy
// and tls settings, and the block's timeout and body limit as config.Load
// applied them. A failed reading is counted by reason and logged, never
// fatal, and no ratio outlives it: the series is gone until the next good
// reading, unless the source was refused or timed out while the target's
// last probe failed too. A server too full to answer its own status page is
// saturated, so the ratio reads 1 then. The manager learns how the probes
// went as one of the engine's result sinks (Observe).
package saturation

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
	"github.com/http5xx/http5xx_exporter/collector/probe"
)

// logEvery rate-limits the failure log of one source.
const logEvery = time.Minute

// Options are fixed for the manager's lifetime.
type Options struct {
	// Location becomes the location label of every series; none when empty.
	Location string
	Logger   *slog.Logger
	// Version goes into the User-Agent of the readings.
	Version string
}

// Manager runs one poller per target with a saturation block.
type Manager struct {
	log   *slog.Logger
	fetch fetch.Options
	descs descs

	setMu sync.Mutex // serialises SetTargets and Close

	mu      sync.Mutex
	pollers map[string]*poller // by target name
	errors  map[errorKey]float64
	closed  bool
}

// seriesKey is the label values of one target's ratio series.
type seriesKey struct{ target, service, source string }

// errorKey is the label values of one error counter.
type errorKey struct {
	seriesKey
	reason contract.SaturationReason
}

// spec is everything a poller depends on, as config.Load handed it over
// (defaults applied); a change in any field restarts the target's poller.
type spec struct {
	target, service string
	typ, url        string
	interval        time.Duration
	timeout         time.Duration
	max             float64
	field, metric   string
	limit           int64
	// The target's settings the source is fetched with.
	tls   commoncfg.TLSConfig
	proxy commoncfg.ProxyConfig
}

func specOf(t *config.Target) spec {
	s := t.Saturation
	return spec{
		target: t.Name, service: t.Service,
		typ: s.Type, url: s.URL,
		interval: time.Duration(s.Interval), timeout: time.Duration(s.Timeout),
		max: s.Max, field: s.Field, metric: s.Metric,
		limit: int64(s.BodySizeLimit),
		tls:   t.TLS, proxy: t.ProxyConfig,
	}
}

func (s spec) key() seriesKey { return seriesKey{s.target, s.service, s.typ} }

// poller reads one target's source until its context ends.
type poller struct {
	spec   spec
	src    source
	client *fetch.Client
	srcErr error // a source or client that cannot be built; the one reading fails with it
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// Guarded by Manager.mu.
	ratio    float64
	have     bool // the last reading succeeded
	busy     bool // the last reading failed as a full server fails: refused, reset, timeout, gateway
	down     bool // the target's last probe failed
	failures int  // readings in a row

	// Owned by the poller's goroutine.
	lastLog    time.Time
	suppressed int
}

// NewManager returns a manager with no targets; SetTargets starts pollers.
func NewManager(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		log:     o.Logger,
		fetch:   fetch.Options{Version: o.Version},
		descs:   newDescs(o.Location),
		pollers: map[string]*poller{},
		errors:  map[errorKey]float64{},
	}
}

// SetTargets makes the pollers follow ts: targets that gained a saturation
// block or whose block (or service) changed get a fresh poller, targets that
// lost theirs or are gone stop, unchanged ones keep running with their
// last reading. It returns once stopped pollers have finished.
func (m *Manager) SetTargets(ts []*config.Target) {
	m.setMu.Lock()
	defer m.setMu.Unlock()

	want := map[string]spec{}
	for _, t := range ts {
		if t != nil && t.Saturation != nil {
			want[t.Name] = specOf(t)
		}
	}

	var stop, start []*poller
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	for name, p := range m.pollers {
		if sp, ok := want[name]; !ok || !reflect.DeepEqual(sp, p.spec) {
			stop = append(stop, p)
			delete(m.pollers, name)
		}
	}
	keep := map[seriesKey]bool{}
	for name, sp := range want {
		keep[sp.key()] = true
		if _, running := m.pollers[name]; running {
			continue
		}
		p := m.newPoller(sp)
		m.pollers[name] = p
		start = append(start, p)
	}
	// A restarted poller with the same labels keeps its error counts.
	for k := range m.errors {
		if !keep[k.seriesKey] {
			delete(m.errors, k)
		}
	}
	m.mu.Unlock()

	stopAll(stop)
	for _, p := range start {
		go m.run(p)
	}
}

// newPoller builds a poller for sp. Config validation makes its source and
// client buildable; one that is not anyway is a poller whose only reading
// fails with why.
func (m *Manager) newPoller(sp spec) *poller {
	p := &poller{spec: sp, done: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	src, err := newSource(&config.Saturation{
		Type: sp.typ, URL: sp.url, Max: sp.max, Field: sp.field, Metric: sp.metric,
	})
	if err != nil {
		p.srcErr = fmt.Errorf("invalid saturation source: %w", err)
		return p
	}
	client, err := fetch.New(&config.Target{Name: sp.target, TLS: sp.tls, HTTPClient: config.HTTPClient{ProxyConfig: sp.proxy}}, m.fetch)
	if err != nil {
		p.srcErr = fmt.Errorf("saturation source client: %w", err)
		return p
	}
	p.src, p.client = src, client
	return p
}

// stopAll stops the pollers, waits for them, and closes their clients'
// connections: kept-alive connections to every source, and their
// goroutines, must not outlive the poller until the idle timeout.
func stopAll(ps []*poller) {
	for _, p := range ps {
		p.cancel()
	}
	for _, p := range ps {
		<-p.done
		if p.client != nil {
			p.client.Close()
		}
	}
}

// Get returns a target's current ratio and its source type; ok is false
// when the target has no source or no current reading.
func (m *Manager) Get(target string) (ratio float64, source string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pollers[target]
	if p == nil {
		return 0, "", false
	}
	ratio, ok = p.current()
	if !ok {
		return 0, "", false
	}
	return ratio, p.spec.typ, true
}

// current is the ratio to export: the last reading's, or 1 when the last
// reading failed the way a full server fails while the target's last probe
// failed too; none otherwise. Guarded by Manager.mu.
func (p *poller) current() (float64, bool) {
	switch {
	case p.have:
		return p.ratio, true
	case p.busy && p.down:
		return 1, true
	}
	return 0, false
}

// Observe takes a probe result of t (the manager is one of the engine's
// result sinks): whether the target is failing decides what a refused or
// timed-out reading means. It runs on the probe's goroutine and only sets a
// flag.
func (m *Manager) Observe(t *config.Target, r *probe.Result) {
	if t == nil || r == nil {
		return
	}
	m.mu.Lock()
	if p := m.pollers[t.Name]; p != nil && p.spec.service == t.Service {
		p.down = !r.Success
	}
	m.mu.Unlock()
}

// Close stops every poller, waits for them and closes their connections.
// The manager exports nothing afterwards and ignores SetTargets.
func (m *Manager) Close() {
	m.setMu.Lock()
	defer m.setMu.Unlock()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	ps := make([]*poller, 0, len(m.pollers))
	for _, p := range m.pollers {
		ps = append(ps, p)
	}
	clear(m.pollers)
	clear(m.errors)
	m.mu.Unlock()
	stopAll(ps)
}
