package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/schedule"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// Sink consumes every probe result after the metrics: the status store,
// deploy detection. Observe runs on the probe's goroutine and must be quick.
type Sink interface {
	Observe(t *config.Target, r *probe.Result)
}

// SkipSink is a Sink that also hears of the slots the scheduler skipped
// (the status store shows the last one). Skipped must be quick.
type SkipSink interface {
	Skipped(target string, r contract.SkipReason, at time.Time)
}

// TargetSetter is a part that follows the configured targets (saturation
// pollers, version pollers); it is told after every successful (re)load.
type TargetSetter interface {
	SetTargets(ts []*config.Target)
}

// Options are fixed for the exporter's lifetime.
type Options struct {
	// Location from --location; it wins over global.location.
	Location string
	Version  string
	// MaxConcurrent fixes the in-flight limit; 0 derives it from the
	// schedule on every (re)load (schedule.DerivedLimit).
	MaxConcurrent int
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	Sinks         []Sink
	Followers     []TargetSetter
	// StopGrace bounds how long Stop waits for running probes; 0 means
	// DefaultStopGrace.
	StopGrace time.Duration
	// NoPhaseHistograms drops http5xx_phase_duration_seconds
	// (--no-metrics.phase-histograms).
	NoPhaseHistograms bool
}

// DefaultStopGrace is how long Stop waits for running probes by default.
// Probes end within their timeout whatever a target does, and Stop cancels
// them; a probe still running after this is abandoned and logged, so a
// stuck one cannot hold up shutdown.
const DefaultStopGrace = 5 * time.Second

// Exporter owns the running configuration, the probers and the scheduler.
type Exporter struct {
	opts     Options
	location string
	metrics  *Metrics
	sched    *schedule.Scheduler

	// stopCtx ends on-demand probes when the exporter stops; onDemand
	// counts them so Stop can wait for them.
	stopCtx  context.Context
	stopAll  context.CancelFunc
	onDemand sync.WaitGroup
	// demanded counts the running on-demand probes by target, for Stop's
	// log of what it abandoned. demandMu also orders ProbeNow's Add against
	// Stop's setting of stopped, without e.mu, which a stuck sink may hold.
	demandMu sync.Mutex
	demanded map[string]int
	stopped  atomic.Bool

	mu       sync.RWMutex
	cfg      *config.Config
	targets  map[string]*probedTarget
	finisher *triage.Finisher

	reloadMu sync.Mutex
	reload   ReloadState
}

// ReloadState is the outcome of the last reload attempt, the record the
// reload gauges are set from; the status page's banner reads it too.
type ReloadState struct {
	OK          bool
	At          time.Time // the last attempt
	LastSuccess time.Time
	Err         string // why the last attempt failed; "" after a success
}

// errStopped is returned by what a stopped exporter no longer does.
var errStopped = errors.New("the exporter is stopped")

// probedTarget is a configured target with its prober.
type probedTarget struct {
	cfg    *config.Target
	prober *probe.Prober
	// state is the last outcome for logging transitions: 0 none, 1 up, 2 down.
	state atomic.Int32
}

// metricsOptions are the metric settings of o and cfg.
func metricsOptions(o Options, location string, cfg *config.Config) MetricsOptions {
	return MetricsOptions{
		Location: location, Buckets: cfg.Global.Buckets, PhaseBuckets: cfg.Global.PhaseClassicBuckets,
		NoPhaseHistograms: o.NoPhaseHistograms,
	}
}

// New builds an exporter from its first configuration and starts probing.
func New(o Options, cfg *config.Config) (*Exporter, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	loc := EffectiveLocation(o.Location, cfg)
	m := NewMetrics(metricsOptions(o, loc, cfg))
	if o.Registerer != nil {
		if err := m.Register(o.Registerer); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	if o.StopGrace <= 0 {
		o.StopGrace = DefaultStopGrace
	}
	e := &Exporter{opts: o, location: loc, metrics: m, targets: map[string]*probedTarget{}, demanded: map[string]int{}}
	e.stopCtx, e.stopAll = context.WithCancel(context.Background())
	e.sched = schedule.New(schedule.Options{
		MaxConcurrent: o.MaxConcurrent,
		Logger:        o.Logger,
		Hooks: schedule.Hooks{
			Lag: func(d time.Duration) { m.Lag.Observe(d.Seconds()) },
			Skipped: func(name string, r contract.SkipReason) {
				m.Skipped(name, r)
				now := time.Now()
				for _, s := range o.Sinks {
					if k, ok := s.(SkipSink); ok {
						k.Skipped(name, r, now)
					}
				}
			},
			Inflight: func(d int) { m.Inflight.Add(float64(d)) },
			Limit:    func(n int) { m.Limit.Set(float64(n)) },
		},
	})
	if err := e.Apply(cfg); err != nil {
		e.stopAll()
		e.sched.Stop()
		return nil, err
	}
	e.RecordReload(nil) // the first load counts as a successful one
	return e, nil
}

// EffectiveLocation is the probing location: the --location flag when set,
// else the config's global.location ("" when neither is).
func EffectiveLocation(flag string, cfg *config.Config) string {
	if flag != "" {
		return flag
	}
	return cfg.Global.Location
}

// Location is the effective probing location ("" when unset).
func (e *Exporter) Location() string { return e.location }

// Metrics returns the probe-path metrics (reload gauges live there).
func (e *Exporter) Metrics() *Metrics { return e.metrics }

// Config returns the running configuration.
func (e *Exporter) Config() *config.Config {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.cfg
}

// Apply switches to cfg. Everything that can fail is built first, so an
// error leaves the running configuration untouched.
func (e *Exporter) Apply(cfg *config.Config) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped.Load() {
		return errStopped
	}
	if old := e.cfg; old != nil {
		if EffectiveLocation(e.opts.Location, cfg) != e.location {
			return errors.New("global.location cannot change on reload; restart the exporter")
		}
		if !slices.Equal(cfg.Global.Buckets, old.Global.Buckets) || !slices.Equal(cfg.Global.PhaseClassicBuckets, old.Global.PhaseClassicBuckets) {
			return errors.New("global.buckets and global.phase_classic_buckets cannot change on reload; restart the exporter")
		}
	}
	finisher, err := triage.ForConfig(cfg)
	if err != nil {
		return err
	}
	// One Clients per configuration: its probers share what they can.
	popts := probe.Options{Location: e.location, Version: e.opts.Version, Finisher: finisher, Clients: probe.NewClients()}
	next := make(map[string]*probedTarget, len(cfg.Targets))
	ts := make([]*config.Target, 0, len(cfg.Targets))
	for i := range cfg.Targets {
		t := &cfg.Targets[i]
		p, err := probe.New(t, popts)
		if err != nil {
			for _, n := range next {
				n.prober.Close()
			}
			return err // probe.New names the target
		}
		tg := &probedTarget{cfg: t, prober: p}
		if prev := e.targets[t.Name]; prev != nil && prev.cfg.URL == t.URL {
			tg.state.Store(prev.state.Load()) // a reload is not a state change
		}
		next[t.Name] = tg
		ts = append(ts, t)
	}

	classesChanged := e.cfg == nil || !reflect.DeepEqual(e.cfg.Classes, cfg.Classes)
	e.metrics.SetTargets(ts, finisher, classesChanged)
	old := e.targets
	e.cfg, e.targets, e.finisher = cfg, next, finisher

	jobs := make([]schedule.Job, 0, len(ts))
	for _, t := range ts {
		tg := next[t.Name]
		jobs = append(jobs, schedule.Job{
			Name:     t.Name,
			Interval: t.IntervalDuration(),
			Timeout:  t.TimeoutDuration(),
			Run:      func(ctx context.Context) { e.run(ctx, tg) },
		})
	}
	e.sched.Update(jobs)
	for _, f := range e.opts.Followers {
		f.SetTargets(ts)
	}
	// Old probers only hold idle connections; a probe still running on one
	// finishes with it.
	for _, o := range old {
		o.prober.Close()
	}
	return nil
}

// run does one scheduled probe and hands the result on.
func (e *Exporter) run(ctx context.Context, tg *probedTarget) {
	r := tg.prober.Probe(ctx)
	if ctx.Err() != nil {
		return // shutdown or reload cancelled the probe: not a target failure
	}
	e.record(tg, &r)
}

// record hands a result to the metrics and sinks. It holds the read lock
// throughout, so a reload cannot slip in between: a result whose target a
// reload removed or pointed elsewhere (URL, service) was of another target
// and is dropped.
func (e *Exporter) record(tg *probedTarget, r *probe.Result) {
	t := tg.cfg
	e.mu.RLock()
	defer e.mu.RUnlock()
	if cur := e.targets[t.Name]; e.stopped.Load() || cur == nil || cur.cfg.URL != t.URL || cur.cfg.Service != t.Service {
		return // stopped: an abandoned probe that ended after all
	}
	e.metrics.Observe(r)
	if r.Reason == contract.ReasonExporter {
		// Nothing was learnt about the target: its history and deploy
		// detection stay as they were; the operator hears of it here, from
		// http5xx_skipped_probes_total{reason="exporter"} and as the
		// target's last skip on the status page.
		e.opts.Logger.Warn("the exporter could not probe: it is short of its own resources or of the target's credentials", "target", t.Name, "err", r.Err)
		for _, s := range e.opts.Sinks {
			if k, ok := s.(SkipSink); ok {
				k.Skipped(t.Name, contract.SkipExporter, r.Start)
			}
		}
		return
	}
	for _, s := range e.opts.Sinks {
		s.Observe(t, r)
	}
	// Every probe at debug; a change between up and down at info, so an
	// incident does not flood the log.
	next := int32(2)
	if r.Success {
		next = 1
	}
	msg, lvl := "probe", slog.LevelDebug
	if prev := tg.state.Swap(next); prev != next {
		msg, lvl = "target is up", slog.LevelInfo
		if next == 2 {
			msg = "target is down"
		}
	}
	e.opts.Logger.Log(context.Background(), lvl, msg, "target", t.Name, "code", r.StatusCode,
		"reason", r.Reason.String(), "class", r.Class, "owner", r.Owner, "duration", r.Duration, "err", r.Err)
}

// ProbeNow runs one probe of a configured target outside the schedule and
// records it like a scheduled one. Like a scheduled probe, one cut short by
// ctx or by Stop is not recorded; it returns the result and an error then.
func (e *Exporter) ProbeNow(ctx context.Context, name string) (probe.Result, error) {
	e.mu.RLock()
	tg := e.targets[name]
	e.mu.RUnlock()
	if tg == nil {
		if e.stopped.Load() {
			return probe.Result{}, errStopped
		}
		return probe.Result{}, fmt.Errorf("no configured target %q", name)
	}
	e.demandMu.Lock()
	if e.stopped.Load() {
		e.demandMu.Unlock()
		return probe.Result{}, errStopped
	}
	e.onDemand.Add(1) // under demandMu: Stop waits only after setting stopped
	e.demanded[name]++
	e.demandMu.Unlock()
	defer e.onDemand.Done()
	defer e.demand(name, -1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(e.stopCtx, cancel)()
	// An on-demand probe counts against --probe.max-concurrent like a
	// scheduled one; waiting for a token takes at most the target's timeout.
	actx, acancel := context.WithTimeout(ctx, tg.cfg.TimeoutDuration())
	release, ok := e.sched.Acquire(actx)
	acancel()
	if !ok {
		if e.stopCtx.Err() != nil {
			return probe.Result{}, errStopped
		}
		if err := ctx.Err(); err != nil {
			return probe.Result{}, fmt.Errorf("probe of %q cancelled: %w", name, err)
		}
		r := e.exporterFailure(tg, fmt.Errorf("the concurrency limit (--probe.max-concurrent) stayed full for %s", tg.cfg.TimeoutDuration()))
		e.record(tg, &r)
		return r, nil
	}
	defer release()
	r := tg.prober.Probe(ctx)
	if e.stopCtx.Err() != nil {
		return r, errStopped
	}
	if err := ctx.Err(); err != nil {
		return r, fmt.Errorf("probe of %q cancelled: %w", name, err)
	}
	e.record(tg, &r)
	return r, nil
}

// exporterFailure is the result of a probe the exporter could not make.
func (e *Exporter) exporterFailure(tg *probedTarget, err error) probe.Result {
	e.mu.RLock()
	f := e.finisher
	e.mu.RUnlock()
	r := probe.Result{Target: tg.cfg.Name, Start: time.Now(), Reason: contract.ReasonExporter, Err: err}
	r.Verdict = f.Verdict(r.Reason, nil)
	return r
}

func (e *Exporter) demand(name string, d int) {
	e.demandMu.Lock()
	defer e.demandMu.Unlock()
	if e.demanded[name] += d; e.demanded[name] <= 0 {
		delete(e.demanded, name)
	}
}

// Stop stops probing, scheduled and on-demand, and waits for running probes
// at most Options.StopGrace; a probe still running then is abandoned and
// logged with its target. Afterwards nothing writes to the sinks (record
// checks stopped). Later calls do nothing.
func (e *Exporter) Stop() {
	e.demandMu.Lock()
	already := e.stopped.Swap(true)
	e.demandMu.Unlock()
	if already {
		return
	}
	start := time.Now()
	e.stopAll()
	abandoned := e.sched.StopWithin(e.opts.StopGrace)
	done := make(chan struct{})
	go func() {
		e.onDemand.Wait()
		close(done)
	}()
	t := time.NewTimer(max(e.opts.StopGrace-time.Since(start), 0))
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		e.demandMu.Lock()
		for name := range e.demanded {
			abandoned = append(abandoned, name+" (on demand)")
		}
		e.demandMu.Unlock()
	}
	if len(abandoned) > 0 {
		slices.Sort(abandoned)
		e.opts.Logger.Error("stopped without waiting for probes that did not end within the grace period",
			"grace", e.opts.StopGrace, "targets", abandoned)
	}
	// Idle connections go; a sink that never returns holds e.mu, so this
	// waits no longer than the grace left either.
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		e.mu.RLock()
		defer e.mu.RUnlock()
		for _, t := range e.targets {
			t.prober.Close()
		}
	}()
	t.Reset(max(e.opts.StopGrace-time.Since(start), 10*time.Millisecond))
	select {
	case <-closed:
	case <-t.C:
	}
}

// RecordReload records the outcome of a reload attempt and sets the reload
// gauges from that record: 0 after a failure, 1 and the time after a
// success. Loading and filtering belong to the reloader (collector/reload);
// the engine only applies.
func (e *Exporter) RecordReload(err error) {
	now := time.Now()
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	e.reload.At, e.reload.OK, e.reload.Err = now, err == nil, ""
	if err != nil {
		e.reload.Err = err.Error()
		e.metrics.ReloadOK.Set(0)
		return
	}
	e.reload.LastSuccess = now
	e.metrics.ReloadOK.Set(1)
	e.metrics.ReloadTime.Set(float64(now.UnixNano()) / 1e9)
}

// LastReload returns the record of the last reload attempt (the first load
// counts as a successful one).
func (e *Exporter) LastReload() ReloadState {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	return e.reload
}

// Gatherer holds the per-target series of one result alone, under the same
// names, labels and buckets as the scheduled probes' (it serves /probe).
func (e *Exporter) Gatherer(r *probe.Result) (prometheus.Gatherer, error) {
	e.mu.RLock()
	cfg, tg, finisher := e.cfg, e.targets[r.Target], e.finisher
	e.mu.RUnlock()
	if tg == nil {
		return nil, fmt.Errorf("no configured target %q", r.Target)
	}
	return ResultGatherer(metricsOptions(e.opts, e.location, cfg), tg.cfg, finisher, r)
}
