// Package schedule runs each target's probe on its own interval, at a
// deterministic offset within the interval, under a global concurrency limit,
// and never runs two probes of one target at once.
package schedule

import (
	"context"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// Job is one target's recurring work.
type Job struct {
	Name     string
	Interval time.Duration
	// Run does one probe; it must return once ctx is done.
	Run func(ctx context.Context)
}

// Hooks receive the scheduler's own measurements. Any may be nil.
type Hooks struct {
	Lag      func(d time.Duration)                    // how late a probe started versus its slot
	Skipped  func(name string, r contract.SkipReason) // a slot that was not used
	Inflight func(delta int)                          // +1 when a probe starts, -1 when it ends
}

// Options configure a Scheduler.
type Options struct {
	MaxConcurrent int // 0 means unlimited
	Logger        *slog.Logger
	Hooks         Hooks
	// Now is for tests; nil means the real clock.
	Now func() time.Time
}

// Scheduler owns one goroutine per job.
type Scheduler struct {
	opts Options
	sem  chan struct{}
	ctx  context.Context
	stop context.CancelFunc

	mu   sync.Mutex
	jobs map[string]*runner
	wg   sync.WaitGroup // job loops and running probes
}

// New returns a running scheduler with no jobs.
func New(opts Options) *Scheduler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Scheduler{opts: opts, jobs: map[string]*runner{}}
	if opts.MaxConcurrent > 0 {
		s.sem = make(chan struct{}, opts.MaxConcurrent)
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	return s
}

// Offset is the job's deterministic start offset within its interval: the
// same name and interval give the same offset in every exporter, so all
// locations probe a target at the same moments, and different targets spread.
func Offset(name string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(interval))
}

// nextSlot returns the first slot strictly after now for a job with this
// interval and offset. Slots are aligned to the Unix epoch.
func nextSlot(now time.Time, interval, offset time.Duration) time.Time {
	n := now.UnixNano() - int64(offset)
	k := n / int64(interval)
	if n < 0 {
		k-- // floor for times before the epoch
	}
	return time.Unix(0, (k+1)*int64(interval)+int64(offset))
}

// Update replaces the set of jobs. A job whose name and interval did not
// change keeps its timer (and only swaps its Run); others start or stop.
func (s *Scheduler) Update(jobs []Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	seen := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		seen[j.Name] = true
		b := &busy{}
		if r, ok := s.jobs[j.Name]; ok {
			if r.interval == j.Interval {
				r.setRun(j.Run)
				continue
			}
			r.cancel()
			delete(s.jobs, j.Name)
			b = r.busy // its cancelled probe may still be unwinding
		}
		s.start(j, b)
	}
	for name, r := range s.jobs {
		if !seen[name] {
			r.cancel()
			delete(s.jobs, name)
		}
	}
}

// Stop stops every job and waits for running probes to end.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	s.stop()
	s.jobs = map[string]*runner{}
	s.mu.Unlock()
	s.wg.Wait()
}

// StopWithin stops every job and waits at most grace for running probes to
// end (they see their context cancelled). It returns the names of the jobs
// whose probe was still running when it gave up: those goroutines are
// abandoned and end, if ever, on their own.
func (s *Scheduler) StopWithin(grace time.Duration) (abandoned []string) {
	s.mu.Lock()
	s.stop()
	runners := make([]*runner, 0, len(s.jobs))
	for _, r := range s.jobs {
		runners = append(runners, r)
	}
	s.jobs = map[string]*runner{}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
	}
	for _, r := range runners {
		if r.busy.isRunning() {
			abandoned = append(abandoned, r.name)
		}
	}
	slices.Sort(abandoned)
	return abandoned
}

// Acquire takes a token of the concurrency limit for a probe outside the
// schedule (/probe), so on-demand probes count against the same limit. It
// waits until ctx ends; release returns the token. Without a limit it
// always succeeds.
func (s *Scheduler) Acquire(ctx context.Context) (release func(), ok bool) {
	var deadline time.Time
	if d, has := ctx.Deadline(); has {
		deadline = d
	} else {
		deadline = s.opts.Now().Add(24 * time.Hour)
	}
	if !s.acquire(ctx, deadline) {
		return nil, false
	}
	if h := s.opts.Hooks.Inflight; h != nil {
		h(1)
	}
	return func() {
		if h := s.opts.Hooks.Inflight; h != nil {
			h(-1)
		}
		s.release()
	}, true
}

func (s *Scheduler) start(j Job, b *busy) {
	ctx, cancel := context.WithCancel(s.ctx)
	r := &runner{name: j.Name, interval: j.Interval, offset: Offset(j.Name, j.Interval), run: j.Run, cancel: cancel, busy: b}
	s.jobs[j.Name] = r
	s.wg.Add(1)
	go s.loop(ctx, r)
}

type runner struct {
	name     string
	interval time.Duration
	offset   time.Duration
	cancel   context.CancelFunc
	busy     *busy

	mu  sync.Mutex
	run func(context.Context)
}

// busy says whether a job's probe runs. A runner that replaces another (a
// new interval) shares it, so the cancelled probe of the old one counts
// until it has returned.
type busy struct {
	mu      sync.Mutex
	running bool
}

func (r *runner) setRun(f func(context.Context)) {
	r.mu.Lock()
	r.run = f
	r.mu.Unlock()
}

// begin marks the runner busy; it returns false when a probe still runs.
func (r *runner) begin() (func(context.Context), bool) {
	r.busy.mu.Lock()
	defer r.busy.mu.Unlock()
	if r.busy.running {
		return nil, false
	}
	r.busy.running = true
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.run, true
}

func (b *busy) isRunning() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running
}

func (r *runner) end() {
	r.busy.mu.Lock()
	r.busy.running = false
	r.busy.mu.Unlock()
}

func (s *Scheduler) loop(ctx context.Context, r *runner) {
	defer s.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	var last time.Time
	for {
		now := s.opts.Now()
		slot := nextSlot(now, r.interval, r.offset)
		// A clock stepped back (or a timer that woke early by the clock)
		// would give the slot just fired again.
		if !last.IsZero() && !slot.After(last) {
			slot = last.Add(r.interval)
		}
		timer.Reset(slot.Sub(now))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		s.fire(ctx, r, slot)
		last = slot
	}
}

// fire starts one probe for slot, or counts why it could not.
func (s *Scheduler) fire(ctx context.Context, r *runner, slot time.Time) {
	run, ok := r.begin()
	if !ok {
		s.skipped(r.name, contract.SkipOverlap)
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer r.end()
		if !s.acquire(ctx, slot.Add(r.interval/2)) {
			if ctx.Err() == nil {
				s.skipped(r.name, contract.SkipConcurrency)
			}
			return
		}
		defer s.release()
		if h := s.opts.Hooks.Lag; h != nil {
			lag := s.opts.Now().Sub(slot)
			if lag < 0 {
				lag = 0
			}
			h(lag)
		}
		if h := s.opts.Hooks.Inflight; h != nil {
			h(1)
			defer h(-1)
		}
		run(ctx)
	}()
}

// acquire waits for a concurrency token until deadline.
func (s *Scheduler) acquire(ctx context.Context, deadline time.Time) bool {
	if s.sem == nil {
		return ctx.Err() == nil
	}
	select {
	case s.sem <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(deadline.Sub(s.opts.Now()))
	defer t.Stop()
	select {
	case s.sem <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (s *Scheduler) release() {
	if s.sem != nil {
		<-s.sem
	}
}

func (s *Scheduler) skipped(name string, r contract.SkipReason) {
	s.opts.Logger.Debug("probe skipped", "target", name, "reason", string(r))
	if h := s.opts.Hooks.Skipped; h != nil {
		h(name, r)
	}
}
