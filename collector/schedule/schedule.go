// Package schedule runs each target's probe on its own interval, at a
// deterministic offset within the interval, under a global concurrency limit,
// and never runs two probes of one target at once.
//
// One goroutine and one timer drive every target: a heap of the jobs by
// their next slot. A slot that is due goes to a bounded pool of workers,
// which are started on demand up to the limit and leave after a while idle;
// a slot that finds the limit full waits in a second heap, by its deadline,
// until a worker is free or the deadline passes. Nothing costs a goroutine
// or a timer per target (docs/architecture.md, "Scheduling").
package schedule

import (
	"context"
	"hash/fnv"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// Job is one target's recurring work.
type Job struct {
	Name     string
	Interval time.Duration
	// Timeout is how long one probe may take; it sizes the derived limit.
	Timeout time.Duration
	// Run does one probe; it must return once ctx is done.
	Run func(ctx context.Context)
}

// Hooks receive the scheduler's own measurements. Any may be nil. They are
// called without the scheduler's lock held and must not block.
type Hooks struct {
	Lag      func(d time.Duration)                    // how late a probe started versus its slot
	Skipped  func(name string, r contract.SkipReason) // a slot that was not used
	Inflight func(delta int)                          // +1 when a probe starts, -1 when it ends
	// Limit receives the effective in-flight limit whenever it changes.
	Limit func(n int)
}

// Options configure a Scheduler.
type Options struct {
	// MaxConcurrent fixes the in-flight limit; 0 derives it from the jobs
	// on every Update (DerivedLimit).
	MaxConcurrent int
	Logger        *slog.Logger
	Hooks         Hooks
	// Now is for tests; nil means the real clock.
	Now func() time.Time
}

// The derived limit: the probes expected in flight when every probe takes
// its whole timeout, times LimitHeadroom, and never below LimitFloor.
const (
	LimitHeadroom = 2
	LimitFloor    = 64
)

// idleWorker is how long a worker waits for work before it leaves.
const idleWorker = time.Minute

// DerivedLimit is the in-flight limit the schedule needs: the sum over jobs
// of timeout/interval (probes per second × seconds each may take) with
// LimitHeadroom, at least LimitFloor. A job without a timeout counts as
// taking its whole interval.
func DerivedLimit(jobs []Job) int {
	var inflight float64
	for _, j := range jobs {
		if j.Interval <= 0 {
			continue
		}
		t := j.Timeout
		if t <= 0 || t > j.Interval {
			t = j.Interval // a job never overlaps itself
		}
		inflight += float64(t) / float64(j.Interval)
	}
	return max(LimitFloor, int(math.Ceil(inflight*LimitHeadroom)))
}

// Scheduler runs jobs on their slots.
type Scheduler struct {
	opts Options
	ctx  context.Context
	stop context.CancelFunc
	wake chan struct{} // the dispatcher's heap or limit changed
	work chan task     // to idle workers
	wg   sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	jobs    map[string]*entry
	due     []dueSlot // min-heap by next slot
	pending []task    // min-heap by deadline: due slots waiting for the limit
	limit   int
	inUse   int       // tokens taken: running probes and Acquire callers
	waiters []*waiter // Acquire callers waiting for a token, oldest first
	workers int
	idle    int // workers committed to receive from work
}

// entry is one scheduled job.
type entry struct {
	name     string
	interval time.Duration
	timeout  time.Duration
	offset   time.Duration
	run      func(context.Context)
	ctx      context.Context
	cancel   context.CancelFunc
	busy     *busy
	next     time.Time // the slot it waits for
	last     time.Time // the slot it fired last
	index    int       // in due; -1 once removed
}

// dueSlot is an entry in the due heap with its next slot in Unix
// nanoseconds beside it, so that sifting compares keys held in the heap's
// own array rather than loading an entry from wherever it lies in memory.
type dueSlot struct {
	at int64
	e  *entry
}

// busy says whether a job's probe runs or waits for the limit. A job that
// replaces another (a new interval) shares it, so the cancelled probe of the
// old one counts until it has returned. Guarded by Scheduler.mu.
type busy struct {
	running bool // a worker runs it (not only pending)
	taken   bool // a slot of the job is pending or running
}

// task is one slot of one job on its way to a worker.
type task struct {
	e        *entry
	run      func(context.Context)
	slot     time.Time
	deadline time.Time // a pending task is skipped after this
}

type waiter struct {
	ch      chan struct{}
	granted bool
}

// New returns a running scheduler with no jobs.
func New(opts Options) *Scheduler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Scheduler{
		opts: opts,
		jobs: map[string]*entry{},
		wake: make(chan struct{}, 1),
		work: make(chan task),
	}
	s.limit = opts.MaxConcurrent
	if s.limit <= 0 {
		s.limit = LimitFloor
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	if h := opts.Hooks.Limit; h != nil {
		h(s.limit)
	}
	s.wg.Add(1)
	go s.dispatch()
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

// Limit is the effective in-flight limit.
func (s *Scheduler) Limit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limit
}

// Update replaces the set of jobs. A job whose name and interval did not
// change keeps its slot (and only swaps its Run); others start or stop. A
// derived limit is recomputed.
func (s *Scheduler) Update(jobs []Job) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	now := s.opts.Now()
	seen := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		seen[j.Name] = true
		b := &busy{}
		if e, ok := s.jobs[j.Name]; ok {
			if e.interval == j.Interval {
				e.run, e.timeout = j.Run, j.Timeout
				continue
			}
			s.remove(e)
			b = e.busy // its cancelled probe may still be unwinding
		}
		ctx, cancel := context.WithCancel(s.ctx)
		e := &entry{name: j.Name, interval: j.Interval, timeout: j.Timeout, offset: Offset(j.Name, j.Interval),
			run: j.Run, ctx: ctx, cancel: cancel, busy: b}
		e.next = nextSlot(now, e.interval, e.offset)
		s.jobs[j.Name] = e
		s.pushDue(e)
	}
	for name, e := range s.jobs {
		if !seen[name] {
			s.remove(e)
		}
	}
	limitChanged := false
	if s.opts.MaxConcurrent <= 0 {
		all := make([]Job, 0, len(s.jobs))
		for _, e := range s.jobs {
			all = append(all, Job{Interval: e.interval, Timeout: e.timeout})
		}
		if l := DerivedLimit(all); l != s.limit {
			s.limit, limitChanged = l, true
		}
	}
	limit := s.limit
	s.mu.Unlock()
	if limitChanged {
		s.opts.Logger.Info("probe concurrency limit derived from the schedule", "limit", limit)
		if h := s.opts.Hooks.Limit; h != nil {
			h(limit)
		}
	}
	s.nudge()
}

// remove stops scheduling e and cancels its running probe; s.mu is held.
// A slot of e still waiting for the limit is dropped when it comes up, and
// frees the job at once; a running probe keeps it busy until it returned.
func (s *Scheduler) remove(e *entry) {
	e.cancel()
	if !e.busy.running {
		e.busy.taken = false
	}
	delete(s.jobs, e.name)
	if e.index >= 0 {
		s.removeDue(e.index)
	}
}

func (s *Scheduler) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Stop stops every job and waits for running probes to end.
func (s *Scheduler) Stop() {
	s.halt()
	s.wg.Wait()
}

// StopWithin stops every job and waits at most grace for running probes to
// end (they see their context cancelled). It returns the names of the jobs
// whose probe was still running when it gave up: those goroutines are
// abandoned and end, if ever, on their own.
func (s *Scheduler) StopWithin(grace time.Duration) (abandoned []string) {
	entries := s.halt()
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
	s.mu.Lock()
	for _, e := range entries {
		if e.busy.running {
			abandoned = append(abandoned, e.name)
		}
	}
	s.mu.Unlock()
	slices.Sort(abandoned)
	return abandoned
}

// halt cancels everything and counts the slots that waited for the limit
// as skipped for shutdown. It returns the jobs it stopped.
func (s *Scheduler) halt() []*entry {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	s.stop()
	entries := make([]*entry, 0, len(s.jobs))
	for _, e := range s.jobs {
		entries = append(entries, e)
	}
	var skips []skip
	for _, t := range s.pending {
		if s.jobs[t.e.name] == t.e { // not a job removed earlier
			t.e.busy.taken = false
			skips = append(skips, skip{t.e.name, contract.SkipShutdown})
		}
	}
	s.pending = nil
	s.jobs = map[string]*entry{}
	s.due = nil
	s.mu.Unlock()
	s.emit(skips)
	s.nudge()
	return entries
}

// Acquire takes a token of the concurrency limit for a probe outside the
// schedule (/probe), so on-demand probes count against the same limit. It
// waits until ctx ends; release returns the token.
func (s *Scheduler) Acquire(ctx context.Context) (release func(), ok bool) {
	s.mu.Lock()
	if s.stopped || ctx.Err() != nil {
		s.mu.Unlock()
		return nil, false
	}
	if s.inUse < s.limit {
		s.inUse++
		s.mu.Unlock()
		return s.onDemand(), true
	}
	w := &waiter{ch: make(chan struct{})}
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	select {
	case <-w.ch:
		return s.onDemand(), true
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
	s.mu.Lock()
	if w.granted {
		s.mu.Unlock()
		s.release() // granted as it gave up: pass the token on
		return nil, false
	}
	if i := slices.Index(s.waiters, w); i >= 0 {
		s.waiters = slices.Delete(s.waiters, i, i+1)
	}
	s.mu.Unlock()
	return nil, false
}

// onDemand counts an acquired token as in flight until released.
func (s *Scheduler) onDemand() func() {
	if h := s.opts.Hooks.Inflight; h != nil {
		h(1)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if h := s.opts.Hooks.Inflight; h != nil {
				h(-1)
			}
			s.release()
		})
	}
}

// release returns a token taken by Acquire: to the oldest waiter, else to a
// pending slot (on a new worker or an idle one), else to the pool.
func (s *Scheduler) release() {
	s.mu.Lock()
	s.inUse--
	s.grantLocked()
	t, ok, skips := s.nextPendingLocked(s.opts.Now(), nil)
	spawn := false
	if ok {
		spawn = s.assignLocked()
	}
	s.mu.Unlock()
	s.emit(skips)
	if ok {
		s.start(t, spawn)
	}
}

// grantLocked gives free tokens to waiting Acquire callers, oldest first;
// s.mu is held.
func (s *Scheduler) grantLocked() {
	for s.inUse < s.limit && len(s.waiters) > 0 {
		w := s.waiters[0]
		s.waiters = slices.Delete(s.waiters, 0, 1)
		w.granted = true
		s.inUse++
		close(w.ch)
	}
}

// nextPendingLocked takes the next usable pending slot with a free token.
// Slots past their deadline are appended to skips; those of jobs removed
// meanwhile are dropped. s.mu is held.
func (s *Scheduler) nextPendingLocked(now time.Time, skips []skip) (task, bool, []skip) {
	for s.inUse < s.limit && len(s.pending) > 0 {
		t := s.popPending()
		if t.e.ctx.Err() != nil {
			continue // removed or replaced while it waited; remove cleared busy
		}
		if now.After(t.deadline) {
			t.e.busy.taken = false
			skips = append(skips, skip{t.e.name, contract.SkipLimit})
			continue
		}
		t.e.busy.running = true
		s.inUse++
		return t, true, skips
	}
	return task{}, false, skips
}

// assignLocked decides how a task with a token reaches a worker: true means
// a new worker, false an idle one (which is then committed); s.mu is held.
func (s *Scheduler) assignLocked() (spawn bool) {
	if s.idle > 0 {
		s.idle--
		return false
	}
	s.workers++
	s.wg.Add(1)
	return true
}

// start hands t to a worker, outside s.mu: an idle worker may need the lock
// to see it was committed.
func (s *Scheduler) start(t task, spawn bool) {
	if spawn {
		go s.worker(t)
		return
	}
	s.work <- t
}

// dispatch is the one goroutine that watches the clock: it fires due slots
// and expires pending ones, sleeping on one timer until the next of either.
func (s *Scheduler) dispatch() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var (
		armed  time.Time // what the timer was set for; zero when not set
		starts []task
		spawns []bool
		skips  []skip
	)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			armed = time.Time{}
		case <-timer.C:
		}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return
		}
		// A timer that fired reached its slot, whatever a clock stepped back
		// (or a clock that has not reached it by a hair) says.
		now := s.opts.Now()
		if armed.After(now) {
			now = armed
		}
		starts, spawns, skips = starts[:0], spawns[:0], skips[:0]
		// Tokens freed by a raised limit go to what waits first.
		s.grantLocked()
		for {
			t, ok, sk := s.nextPendingLocked(now, skips)
			skips = sk
			if !ok {
				break
			}
			starts = append(starts, t)
			spawns = append(spawns, s.assignLocked())
		}
		for len(s.due) > 0 && s.due[0].at <= now.UnixNano() {
			e := s.due[0].e
			slot := e.next
			e.last = slot
			next := nextSlot(now, e.interval, e.offset)
			if !next.After(e.last) {
				next = e.last.Add(e.interval)
			}
			e.next = next
			s.due[0].at = next.UnixNano()
			s.fixDue(0)
			switch {
			case e.busy.taken:
				skips = append(skips, skip{e.name, contract.SkipOverlap})
			case s.inUse < s.limit && len(s.pending) == 0:
				e.busy.taken, e.busy.running = true, true
				s.inUse++
				starts = append(starts, task{e: e, run: e.run, slot: slot})
				spawns = append(spawns, s.assignLocked())
			default:
				e.busy.taken = true
				s.pushPending(task{e: e, run: e.run, slot: slot, deadline: slot.Add(e.interval / 2)})
			}
		}
		for len(s.pending) > 0 && now.After(s.pending[0].deadline) {
			if t := s.popPending(); t.e.ctx.Err() == nil {
				t.e.busy.taken = false
				skips = append(skips, skip{t.e.name, contract.SkipLimit})
			}
		}
		var wait time.Time
		if len(s.due) > 0 {
			wait = s.due[0].e.next
		}
		if len(s.pending) > 0 && (wait.IsZero() || s.pending[0].deadline.Before(wait)) {
			wait = s.pending[0].deadline.Add(time.Nanosecond)
		}
		s.mu.Unlock()

		s.emit(skips)
		for i, t := range starts {
			s.start(t, spawns[i])
		}
		armed = wait
		if !wait.IsZero() {
			timer.Reset(max(wait.Sub(s.opts.Now()), 0))
		}
	}
}

type skip struct {
	name   string
	reason contract.SkipReason
}

// worker runs t, then whatever pending slot its token can take next, then
// waits for work; it leaves after idleWorker without any.
func (s *Scheduler) worker(t task) {
	defer s.wg.Done()
	idle := time.NewTimer(idleWorker)
	defer idle.Stop()
	for {
		s.runTask(t)
		s.mu.Lock()
		t.e.busy.running, t.e.busy.taken = false, false
		s.inUse--
		s.grantLocked()
		next, ok, skips := s.nextPendingLocked(s.opts.Now(), nil)
		if !ok {
			s.idle++
		}
		s.mu.Unlock()
		s.emit(skips)
		if ok {
			t = next
			continue
		}
		if !s.waitWork(&t, idle) {
			return
		}
	}
}

// waitWork waits as an idle worker; false means leave (stopped, or idle
// too long and not committed to a task meanwhile).
func (s *Scheduler) waitWork(t *task, idle *time.Timer) bool {
	idle.Reset(idleWorker)
	for {
		select {
		case *t = <-s.work:
			return true
		case <-s.ctx.Done():
		case <-idle.C:
		}
		s.mu.Lock()
		if s.idle > 0 { // not committed: leave
			s.idle--
			s.workers--
			s.mu.Unlock()
			return false
		}
		s.mu.Unlock()
		// Committed to a task already on its way: take it.
		*t = <-s.work
		return true
	}
}

func (s *Scheduler) runTask(t task) {
	if t.e.ctx.Err() != nil {
		return // removed, replaced or stopped after it was handed on
	}
	if h := s.opts.Hooks.Lag; h != nil {
		h(max(s.opts.Now().Sub(t.slot), 0))
	}
	if h := s.opts.Hooks.Inflight; h != nil {
		h(1)
		defer h(-1)
	}
	t.run(t.e.ctx)
}

func (s *Scheduler) emit(skips []skip) {
	for _, k := range skips {
		s.skipped(k.name, k.reason)
	}
}

func (s *Scheduler) skipped(name string, r contract.SkipReason) {
	s.opts.Logger.Debug("probe skipped", "target", name, "reason", string(r))
	if h := s.opts.Hooks.Skipped; h != nil {
		h(name, r)
	}
}

// The two heaps, typed so a probe costs no allocation (container/heap
// would box every task).

// dueArity is the due heap's fan-out: four children share a cache line or
// two, and the heap is half as deep as a binary one; each slot that fires
// sifts its entry from the top to near the bottom.
const dueArity = 4

func (s *Scheduler) pushDue(e *entry) {
	s.due = append(s.due, dueSlot{at: e.next.UnixNano(), e: e})
	s.upDue(len(s.due) - 1)
}

func (s *Scheduler) removeDue(i int) {
	last := len(s.due) - 1
	s.due[i].e.index = -1
	s.due[i] = s.due[last]
	s.due[last] = dueSlot{}
	s.due = s.due[:last]
	if i < last {
		s.fixDue(i)
	}
}

func (s *Scheduler) fixDue(i int) {
	if !s.downDue(i) {
		s.upDue(i)
	}
}

// upDue and downDue move the slot at i by shifting the others and write
// it once where it belongs, updating the index of every entry moved.
func (s *Scheduler) upDue(j int) {
	d := s.due
	x := d[j]
	for j > 0 {
		p := (j - 1) / dueArity
		if x.at >= d[p].at {
			break
		}
		d[j] = d[p]
		d[j].e.index = j
		j = p
	}
	d[j] = x
	x.e.index = j
}

func (s *Scheduler) downDue(i0 int) bool {
	d := s.due
	x := d[i0]
	i := i0
	for {
		c := dueArity*i + 1
		if c >= len(d) {
			break
		}
		m := c
		for k := c + 1; k < min(c+dueArity, len(d)); k++ {
			if d[k].at < d[m].at {
				m = k
			}
		}
		if d[m].at >= x.at {
			break
		}
		d[i] = d[m]
		d[i].e.index = i
		i = m
	}
	d[i] = x
	x.e.index = i
	return i > i0
}

func (s *Scheduler) pushPending(t task) {
	s.pending = append(s.pending, t)
	j := len(s.pending) - 1
	for j > 0 {
		i := (j - 1) / 2
		if !s.pending[j].deadline.Before(s.pending[i].deadline) {
			break
		}
		s.pending[i], s.pending[j] = s.pending[j], s.pending[i]
		j = i
	}
}

func (s *Scheduler) popPending() task {
	p := s.pending
	top := p[0]
	last := len(p) - 1
	p[0] = p[last]
	p[last] = task{}
	p = p[:last]
	for i := 0; ; {
		j := 2*i + 1
		if j >= len(p) {
			break
		}
		if r := j + 1; r < len(p) && p[r].deadline.Before(p[j].deadline) {
			j = r
		}
		if !p[j].deadline.Before(p[i].deadline) {
			break
		}
		p[i], p[j] = p[j], p[i]
		i = j
	}
	s.pending = p
	return top
}
