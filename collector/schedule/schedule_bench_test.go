package schedule

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// BenchmarkSchedule runs n jobs whose probe does nothing and reports what
// the scheduler itself costs per scheduled probe: allocations, goroutines
// while it runs, lag p50/p99 and skips. One op is one probe. The interval is
// chosen so the whole set asks for 20,000 probes a second.
func BenchmarkSchedule(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) { benchSchedule(b, n) })
	}
}

func benchSchedule(b *testing.B, n int) {
	interval := time.Duration(n) * time.Second / 20_000
	var (
		mu   sync.Mutex
		lags = make([]time.Duration, 0, 1<<16)
	)
	var probes, skips, limitSkips atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	var target atomic.Int64
	target.Store(int64(b.N))
	s := New(Options{MaxConcurrent: 64, Hooks: Hooks{
		Lag: func(d time.Duration) {
			mu.Lock()
			if len(lags) < cap(lags) {
				lags = append(lags, d)
			}
			mu.Unlock()
		},
		Skipped: func(_ string, r contract.SkipReason) {
			skips.Add(1)
			if r == contract.SkipLimit {
				limitSkips.Add(1)
			}
		},
	}})
	defer s.Stop()
	run := func(context.Context) {
		if probes.Add(1) == target.Load() {
			once.Do(func() { close(done) })
		}
	}
	jobs := make([]Job, n)
	for i := range jobs {
		jobs[i] = Job{Name: fmt.Sprintf("target-%05d", i), Interval: interval, Run: run}
	}
	s.Update(jobs)
	// Settle: every job armed, before the measured window.
	for probes.Load() < int64(n) && probes.Load() < target.Load() {
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	lags = lags[:0]
	mu.Unlock()
	skips.Store(0)
	limitSkips.Store(0)
	start := probes.Load()
	target.Store(start + int64(b.N))
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	b.ResetTimer()
	if probes.Load() < target.Load() {
		goroutines := runtime.NumGoroutine()
		<-done
		b.ReportMetric(float64(goroutines), "goroutines")
	} else {
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&ms1)
	got := probes.Load() - start
	b.ReportMetric(float64(cpu.Microseconds())/float64(max(got, 1)), "cpu-us/probe")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(max(got, 1)), "allocs/probe")
	mu.Lock()
	slices.Sort(lags)
	if len(lags) > 0 {
		b.ReportMetric(float64(lags[len(lags)/2])/1e6, "lag-p50-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100])/1e6, "lag-p99-ms")
	}
	mu.Unlock()
	b.ReportMetric(float64(skips.Load()), "skips")
	b.ReportMetric(float64(limitSkips.Load()), "limit-skips")
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
