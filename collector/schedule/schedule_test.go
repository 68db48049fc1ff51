package schedule

import (
	"context"
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
			if r == contract.SkipConcurrency {
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
