package schedule

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

func TestOffsetIsDeterministicAndWithinInterval(t *testing.T) {
	for _, name := range []string{"shop", "checkout", "a", ""} {
		for _, iv := range []time.Duration{time.Second, 15 * time.Second, time.Minute} {
			o := Offset(name, iv)
			if o < 0 || o >= iv {
				t.Errorf("Offset(%q,%v)=%v outside [0,%v)", name, iv, o, iv)
			}
			if o2 := Offset(name, iv); o2 != o {
				t.Errorf("Offset(%q,%v) not deterministic: %v then %v", name, iv, o, o2)
			}
		}
	}
	if Offset("shop", time.Minute) == Offset("checkout", time.Minute) {
		t.Errorf("two targets got the same offset; hash does not spread")
	}
}

func TestNextSlot(t *testing.T) {
	base := time.Unix(1_000_000, 0)
	tests := []struct {
		now              time.Time
		interval, offset time.Duration
		want             time.Time
	}{
		{base, 10 * time.Second, 0, base.Add(10 * time.Second)},
		{base.Add(time.Nanosecond), 10 * time.Second, 0, base.Add(10 * time.Second)},
		{base, 10 * time.Second, 3 * time.Second, base.Add(3 * time.Second)},
		{base.Add(3 * time.Second), 10 * time.Second, 3 * time.Second, base.Add(13 * time.Second)},
		{base.Add(9 * time.Second), 10 * time.Second, 3 * time.Second, base.Add(13 * time.Second)},
		{time.Unix(-5, 0), 10 * time.Second, 0, time.Unix(0, 0)},
	}
	for _, tt := range tests {
		if got := nextSlot(tt.now, tt.interval, tt.offset); !got.Equal(tt.want) {
			t.Errorf("nextSlot(%v,%v,%v)=%v, want %v", tt.now.Unix(), tt.interval, tt.offset, got.Unix(), tt.want.Unix())
		}
	}
}

// waitFor polls cond for up to 10s; the bound keeps a broken scheduler from hanging the test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestJobsRunRepeatedly(t *testing.T) {
	s := New(Options{})
	defer s.Stop()
	var a, b atomic.Int64
	s.Update([]Job{
		{Name: "a", Interval: 20 * time.Millisecond, Run: func(context.Context) { a.Add(1) }},
		{Name: "b", Interval: 30 * time.Millisecond, Run: func(context.Context) { b.Add(1) }},
	})
	waitFor(t, "both jobs to run 3 times", func() bool { return a.Load() >= 3 && b.Load() >= 3 })
}

func TestOverlapIsSkippedAndCounted(t *testing.T) {
	var mu sync.Mutex
	skips := map[contract.SkipReason]int{}
	release := make(chan struct{})
	var running, maxRunning atomic.Int64
	s := New(Options{Hooks: Hooks{Skipped: func(name string, r contract.SkipReason) {
		mu.Lock()
		skips[r]++
		mu.Unlock()
	}}})
	s.Update([]Job{{Name: "slow", Interval: 10 * time.Millisecond, Run: func(ctx context.Context) {
		n := running.Add(1)
		if n > maxRunning.Load() {
			maxRunning.Store(n)
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		running.Add(-1)
	}}})
	waitFor(t, "an overlap skip", func() bool { mu.Lock(); defer mu.Unlock(); return skips[contract.SkipOverlap] >= 2 })
	close(release)
	s.Stop()
	if m := maxRunning.Load(); m != 1 {
		t.Errorf("%d probes of one target ran at once, want 1", m)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	var mu sync.Mutex
	skips := map[string]int{}
	var inflight, maxInflight atomic.Int64
	var lags atomic.Int64
	block := make(chan struct{})
	s := New(Options{MaxConcurrent: 1, Hooks: Hooks{
		Skipped: func(name string, r contract.SkipReason) {
			if r == contract.SkipLimit {
				mu.Lock()
				skips[name]++
				mu.Unlock()
			}
		},
		Inflight: func(d int) {
			n := inflight.Add(int64(d))
			if n > maxInflight.Load() {
				maxInflight.Store(n)
			}
		},
		Lag: func(time.Duration) { lags.Add(1) },
	}})
	run := func(ctx context.Context) {
		select {
		case <-block:
		case <-ctx.Done():
		}
	}
	s.Update([]Job{
		{Name: "x", Interval: 20 * time.Millisecond, Run: run},
		{Name: "y", Interval: 20 * time.Millisecond, Run: run},
	})
	waitFor(t, "a concurrency skip", func() bool { mu.Lock(); defer mu.Unlock(); return skips["x"]+skips["y"] >= 1 })
	close(block)
	s.Stop()
	if m := maxInflight.Load(); m != 1 {
		t.Errorf("max in-flight %d, want 1 with MaxConcurrent=1", m)
	}
	if inflight.Load() != 0 {
		t.Errorf("in-flight %d after Stop, want 0", inflight.Load())
	}
	if lags.Load() == 0 {
		t.Errorf("no lag observed")
	}
}

func TestUpdateKeepsSwapsAndRemoves(t *testing.T) {
	s := New(Options{})
	defer s.Stop()
	var old, repl, gone atomic.Int64
	s.Update([]Job{
		{Name: "keep", Interval: 10 * time.Millisecond, Run: func(context.Context) { old.Add(1) }},
		{Name: "gone", Interval: 10 * time.Millisecond, Run: func(context.Context) { gone.Add(1) }},
	})
	waitFor(t, "first runs", func() bool { return old.Load() > 0 && gone.Load() > 0 })
	s.Update([]Job{{Name: "keep", Interval: 10 * time.Millisecond, Run: func(context.Context) { repl.Add(1) }}})
	if got := s.names(); len(got) != 1 || got[0] != "keep" {
		t.Fatalf("jobs after update = %v, want [keep]", got)
	}
	waitFor(t, "the swapped Run", func() bool { return repl.Load() >= 2 })
	g := gone.Load()
	o := old.Load()
	time.Sleep(50 * time.Millisecond)
	if gone.Load() > g+1 { // at most one run that had already started
		t.Errorf("removed job still runs: %d -> %d", g, gone.Load())
	}
	if old.Load() > o+1 {
		t.Errorf("replaced Run still called: %d -> %d", o, old.Load())
	}
}

func TestStopCancelsRunningProbes(t *testing.T) {
	s := New(Options{})
	started := make(chan struct{}, 1)
	var ended atomic.Bool
	s.Update([]Job{{Name: "hang", Interval: 10 * time.Millisecond, Run: func(ctx context.Context) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		ended.Store(true)
	}}})
	<-started
	s.Stop()
	if !ended.Load() {
		t.Fatal("Stop returned before the running probe ended")
	}
	s.Update([]Job{{Name: "late", Interval: 10 * time.Millisecond, Run: func(context.Context) { t.Error("job ran after Stop") }}})
	time.Sleep(30 * time.Millisecond)
}

// Each slot is used once, whatever the wall clock does: here the clock
// stands still just before a slot (as after a step backwards), and the
// scheduler must wait for the next slot by its own clock rather than
// firing the slot it just fired again.
func TestSlotFiresOnce(t *testing.T) {
	const interval = time.Hour
	off := Offset("once", interval)
	slot := nextSlot(time.Now(), interval, off).Add(-interval) // the latest slot, in the past
	now := slot.Add(-time.Millisecond)
	var mu sync.Mutex
	var skips []contract.SkipReason
	s := New(Options{
		Now: func() time.Time { return now },
		Hooks: Hooks{Skipped: func(_ string, r contract.SkipReason) {
			mu.Lock()
			skips = append(skips, r)
			mu.Unlock()
		}},
	})
	defer s.Stop()
	runs := make(chan struct{}, 100)
	s.Update([]Job{{Name: "once", Interval: interval, Run: func(context.Context) { runs <- struct{}{} }}})
	select {
	case <-runs:
	case <-time.After(10 * time.Second):
		t.Fatal("the slot 1ms ahead by the scheduler's clock did not fire within 10s")
	}
	// A second run or skip would follow at once; the next slot is an hour
	// away, so anything within this window is the same slot again.
	select {
	case <-runs:
		t.Fatal("the same slot fired twice")
	case <-time.After(200 * time.Millisecond):
	}
	mu.Lock()
	defer mu.Unlock()
	if len(skips) != 0 {
		t.Errorf("skips %v for a slot that ran", skips)
	}
}

// A new interval restarts the job's timer and cancels its running probe, but
// that probe may take a moment to unwind: the job's next probe must not
// start before it ended.
func TestIntervalChangeDoesNotOverlapTheRunningProbe(t *testing.T) {
	skipped := make(chan contract.SkipReason, 100)
	s := New(Options{Hooks: Hooks{Skipped: func(_ string, r contract.SkipReason) {
		select {
		case skipped <- r:
		default:
		}
	}}})
	defer s.Stop()
	var running, overlaps atomic.Int64
	oldStarted, unwind := make(chan struct{}), make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(unwind) }) }
	defer release() // before Stop, which waits for the old probe
	s.Update([]Job{{Name: "j", Interval: 10 * time.Millisecond, Run: func(ctx context.Context) {
		running.Add(1)
		defer running.Add(-1)
		select {
		case oldStarted <- struct{}{}:
		default:
		}
		<-ctx.Done()
		<-unwind // cancelled, but still busy for a while
	}}})
	select {
	case <-oldStarted:
	case <-time.After(10 * time.Second):
		t.Fatal("the first probe did not start within 10s")
	}
	newRan := make(chan struct{}, 100)
	s.Update([]Job{{Name: "j", Interval: 20 * time.Millisecond, Run: func(ctx context.Context) {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		running.Add(-1)
		newRan <- struct{}{}
	}}})
	select {
	case r := <-skipped:
		if r != contract.SkipOverlap {
			t.Errorf("skip reason %q while the old probe unwinds, want %q", r, contract.SkipOverlap)
		}
	case <-newRan:
		t.Error("a probe with the new interval started while the old one still ran")
	case <-time.After(10 * time.Second):
		t.Fatal("no slot of the new interval within 10s")
	}
	release()
	select {
	case <-newRan:
	case <-time.After(10 * time.Second):
		t.Fatal("the new interval's probes did not start within 10s after the old probe ended")
	}
	if n := overlaps.Load(); n != 0 {
		t.Errorf("%d probes of the job overlapped", n)
	}
}

// A probe that ignores its cancelled context cannot hold StopWithin up past
// the grace period; it is named as abandoned.
func TestHostileStopWithinAbandonsStuckProbes(t *testing.T) {
	started := make(chan struct{}, 1)
	forever := make(chan struct{})
	t.Cleanup(func() { close(forever) })
	s := New(Options{})
	s.Update([]Job{
		{Name: "stuck", Interval: 10 * time.Millisecond, Run: func(context.Context) {
			select {
			case started <- struct{}{}:
			default:
			}
			<-forever // ignores ctx
		}},
		{Name: "polite", Interval: 10 * time.Millisecond, Run: func(ctx context.Context) { <-ctx.Done() }},
	})
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the stuck job never ran")
	}
	const grace = 100 * time.Millisecond
	start := time.Now()
	abandoned := s.StopWithin(grace)
	if took := time.Since(start); took > grace+time.Second {
		t.Errorf("StopWithin took %v, bound %v", took, grace+time.Second)
	}
	if len(abandoned) != 1 || abandoned[0] != "stuck" {
		t.Errorf("abandoned %v, want [stuck]", abandoned)
	}
}

// Acquire shares the in-flight limit with scheduled probes and gives up
// when its context ends.
func TestAcquireSharesTheLimit(t *testing.T) {
	var inflight atomic.Int64
	s := New(Options{MaxConcurrent: 1, Hooks: Hooks{Inflight: func(d int) { inflight.Add(int64(d)) }}})
	defer s.Stop()
	release, ok := s.Acquire(context.Background())
	if !ok || inflight.Load() != 1 {
		t.Fatalf("first Acquire ok %v in-flight %d, want true 1", ok, inflight.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, ok := s.Acquire(ctx); ok {
		t.Error("second Acquire got a token while the limit of 1 was taken")
	}
	release()
	if inflight.Load() != 0 {
		t.Errorf("in-flight %d after release, want 0", inflight.Load())
	}
	release2, ok := s.Acquire(context.Background())
	if !ok {
		t.Fatal("Acquire after release failed")
	}
	release2()
}

func TestDerivedLimit(t *testing.T) {
	job := func(interval, timeout time.Duration) Job { return Job{Interval: interval, Timeout: timeout} }
	many := func(n int, j Job) []Job {
		out := make([]Job, n)
		for i := range out {
			out[i] = j
		}
		return out
	}
	tests := []struct {
		name string
		jobs []Job
		want int
	}{
		{"no jobs: the floor", nil, LimitFloor},
		{"few jobs: the floor", many(10, job(15*time.Second, 5*time.Second)), LimitFloor},
		// 10k targets every 15s with 5s timeouts: 3,333.3 in flight, twice that.
		{"10k targets", many(10_000, job(15*time.Second, 5*time.Second)), 6667},
		{"timeout beyond the interval counts as the interval", many(100, job(time.Second, time.Minute)), 200},
		{"no timeout counts as the interval", many(100, job(time.Second, 0)), 200},
		{"no interval counts nothing", many(100, job(0, time.Second)), LimitFloor},
		{"mixed", append(many(60, job(time.Second, 500*time.Millisecond)), many(30, job(10*time.Second, 10*time.Second))...), 120},
	}
	for _, tt := range tests {
		if got := DerivedLimit(tt.jobs); got != tt.want {
			t.Errorf("%s: DerivedLimit = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// The limit follows the schedule on every Update unless it is fixed, and the
// Limit hook hears every change.
func TestLimitFollowsTheSchedule(t *testing.T) {
	jobs := func(n int) []Job {
		out := make([]Job, n)
		for i := range out {
			out[i] = Job{Name: fmt.Sprintf("t%d", i), Interval: time.Hour, Timeout: time.Hour, Run: func(context.Context) {}}
		}
		return out
	}
	tests := []struct {
		name  string
		fixed int
		sizes []int
		want  []int // Limit() after each Update
		heard []int // what the hook heard, the first at New
	}{
		{"derived", 0, []int{10, 100, 40}, []int{LimitFloor, 200, 80}, []int{LimitFloor, 200, 80}},
		{"fixed", 7, []int{10, 100}, []int{7, 7}, []int{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var heard []int
			s := New(Options{MaxConcurrent: tt.fixed, Hooks: Hooks{Limit: func(n int) {
				mu.Lock()
				heard = append(heard, n)
				mu.Unlock()
			}}})
			defer s.Stop()
			for i, n := range tt.sizes {
				s.Update(jobs(n))
				if got := s.Limit(); got != tt.want[i] {
					t.Errorf("after %d jobs Limit() = %d, want %d", n, got, tt.want[i])
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(heard, tt.heard) {
				t.Errorf("hook heard %v, want %v", heard, tt.heard)
			}
		})
	}
}

// The scheduler's goroutines do not grow with the number of jobs: one
// dispatcher, and workers only for probes that run.
func TestNoGoroutinePerJob(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New(Options{})
	defer s.Stop()
	jobs := make([]Job, 5000)
	for i := range jobs {
		jobs[i] = Job{Name: fmt.Sprintf("t%d", i), Interval: time.Hour, Timeout: time.Second, Run: func(context.Context) {}}
	}
	s.Update(jobs)
	// Slots within the next hour start a handful of short-lived workers at
	// most; 5000 jobs with a goroutine each would show here.
	if d := runtime.NumGoroutine() - before; d > 100 {
		t.Errorf("%d goroutines for %d jobs, want a dispatcher and a few workers", d, len(jobs))
	}
}

// fakeClock is a clock the test moves; a Scheduler on it fires a slot once
// the clock reached it and something woke the dispatcher.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// pastEverySlot moves clock past the next slot of every job, then wakes s
// (an Update with the same jobs changes nothing else).
func pastEverySlot(s *Scheduler, clock *fakeClock, jobs []Job) {
	latest := clock.Now()
	for _, j := range jobs {
		if n := nextSlot(clock.Now(), j.Interval, Offset(j.Name, j.Interval)); n.After(latest) {
			latest = n
		}
	}
	clock.Set(latest)
	s.Update(jobs)
}

// A slot waiting for the limit when the scheduler stops is a skip for
// shutdown; the probe holding the limit is cancelled and not counted.
func TestStopCountsWaitingSlotsAsShutdown(t *testing.T) {
	var mu sync.Mutex
	skips := map[string][]contract.SkipReason{}
	started := make(chan string, 10)
	clock := &fakeClock{}
	clock.Set(time.Unix(1_000_000, 0))
	s := New(Options{MaxConcurrent: 1, Now: clock.Now, Hooks: Hooks{Skipped: func(name string, r contract.SkipReason) {
		mu.Lock()
		skips[name] = append(skips[name], r)
		mu.Unlock()
	}}})
	hold := func(name string) func(context.Context) {
		return func(ctx context.Context) {
			started <- name
			<-ctx.Done()
		}
	}
	// An hour's interval: the waiting slot's deadline (half of it) is far.
	jobs := []Job{
		{Name: "a", Interval: time.Hour, Run: hold("a")},
		{Name: "b", Interval: time.Hour, Run: hold("b")},
	}
	s.Update(jobs)
	pastEverySlot(s, clock, jobs)
	var first string
	select {
	case first = <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no slot fired within 10s of the clock passing both")
	}
	other := map[string]string{"a": "b", "b": "a"}[first]
	waitFor(t, "the other slot to wait for the limit", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.pending) == 1
	})
	s.Stop()
	mu.Lock()
	defer mu.Unlock()
	if got := skips[other]; !slices.Equal(got, []contract.SkipReason{contract.SkipShutdown}) {
		t.Errorf("skips of the waiting job %q = %v, want [shutdown]", other, got)
	}
	if got := skips[first]; len(got) != 0 {
		t.Errorf("skips of the running job %q = %v, want none", first, got)
	}
}

// A slot that waited for the limit past half its interval is skipped for
// the limit, and its job is free for its next slot.
func TestWaitingSlotExpiresAsLimit(t *testing.T) {
	skipped := make(chan string, 10)
	clock := &fakeClock{}
	clock.Set(time.Unix(1_000_000, 0))
	s := New(Options{MaxConcurrent: 1, Now: clock.Now, Hooks: Hooks{Skipped: func(name string, r contract.SkipReason) {
		if r == contract.SkipLimit {
			skipped <- name
		}
	}}})
	defer s.Stop()
	started := make(chan string, 10)
	jobs := []Job{
		{Name: "a", Interval: time.Hour, Run: func(ctx context.Context) { started <- "a"; <-ctx.Done() }},
		{Name: "b", Interval: time.Hour, Run: func(ctx context.Context) { started <- "b"; <-ctx.Done() }},
	}
	s.Update(jobs)
	pastEverySlot(s, clock, jobs)
	first := <-started
	waitFor(t, "the other slot to wait", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.pending) == 1
	})
	clock.Add(31 * time.Minute) // past the waiting slot's deadline
	s.Update(jobs)
	select {
	case name := <-skipped:
		if name == first {
			t.Errorf("the running job %q was skipped for the limit", name)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting slot was not skipped within 10s of its deadline")
	}
}

// Raising the limit (a reload that derives a larger one) starts the slots
// that waited for it, before their deadline.
func TestRaisedLimitStartsWaitingSlots(t *testing.T) {
	var mu sync.Mutex
	var skips []contract.SkipReason
	clock := &fakeClock{}
	clock.Set(time.Unix(1_000_000, 0))
	s := New(Options{Now: clock.Now, Hooks: Hooks{Skipped: func(_ string, r contract.SkipReason) {
		mu.Lock()
		skips = append(skips, r)
		mu.Unlock()
	}}})
	defer s.Stop()
	var running atomic.Int64
	run := func(ctx context.Context) {
		running.Add(1)
		<-ctx.Done()
	}
	// 100 jobs with short timeouts derive the floor, 64: 36 slots wait.
	jobs := make([]Job, 100)
	for i := range jobs {
		jobs[i] = Job{Name: fmt.Sprintf("t%d", i), Interval: time.Hour, Timeout: time.Millisecond, Run: run}
	}
	s.Update(jobs)
	pastEverySlot(s, clock, jobs)
	waitFor(t, "the limit to fill", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return running.Load() == LimitFloor && len(s.pending) == 100-LimitFloor
	})
	// Same names and intervals, timeouts that derive 200.
	for i := range jobs {
		jobs[i].Timeout = time.Hour
	}
	s.Update(jobs)
	waitFor(t, "every job to run", func() bool { return running.Load() == 100 })
	mu.Lock()
	defer mu.Unlock()
	if len(skips) != 0 {
		t.Errorf("skips %v, want none", skips)
	}
}
