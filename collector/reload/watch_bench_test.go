package reload_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/reload"
)

// BenchmarkIdleWatch: an exporter with 50,000 configured targets (ten
// target files; an interval of a day, so nearly nothing is probed) and a
// watcher ticking over files that do not change. "stat" is the watcher,
// "digest" what it did before (read and hash every file on every tick).
// One op is one tick; the process CPU over the window comes from
// /proc/self/stat and is printed, with the share of a core it would cost
// at the default --config.watch-interval of 5s. "watch-poll" and
// "watch-events" run the whole watcher over a window.
func BenchmarkIdleWatch(b *testing.B) {
	const targets, files = 50_000, 10
	dir := b.TempDir()
	main := filepath.Join(dir, "http5xx.yml")
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write(main, "global:\n  interval: 24h\n  timeout: 5s\ntarget_files: [targets/*.yml]\n")
	for f := range files {
		var sb strings.Builder
		sb.WriteString("targets:\n")
		for i := range targets / files {
			// A closed loopback port: the few probes a day's interval fires
			// in the window fail at once.
			fmt.Fprintf(&sb, "  - name: t%d-%d\n    url: http://127.0.0.1:1/%d\n", f, i, i)
		}
		write(filepath.Join(dir, "targets", fmt.Sprintf("f%d.yml", f)), sb.String())
	}
	src := reload.Source{Path: main}
	first, err := src.Load()
	if err != nil {
		b.Fatal(err)
	}
	exp, err := collector.New(collector.Options{}, first.Config)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(exp.Stop)
	rl := reload.New(reload.Options{Source: src, Engine: exp, Running: first})
	reload.SetClock(rl, func() time.Time { return time.Now().Add(time.Hour) }) // the files are settled
	rl.ReloadIfChanged()                                                       // the first tick digests

	for _, mode := range []string{"stat", "digest"} {
		b.Run(mode, func(b *testing.B) {
			tick := rl.ReloadIfChanged
			if mode == "digest" {
				tick = func() {
					if _, err := config.Digest(main); err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu0 := procCPU(b)
			b.ResetTimer()
			for range b.N {
				tick()
			}
			b.StopTimer()
			cpu := procCPU(b) - cpu0
			perTick := cpu / time.Duration(b.N)
			b.ReportMetric(float64(perTick.Microseconds()), "cpu-us/tick")
			b.ReportMetric(100*perTick.Seconds()/5, "core-%-at-5s")
			b.Logf("%d targets, %d ticks: %v process CPU (/proc/self/stat), %v a tick, %.4f%% of a core at one tick every 5s",
				targets, b.N, cpu, perTick, 100*perTick.Seconds()/5)
		})
	}
	// The whole idle exporter, watching included, with Watch running at 100
	// times the default rate: polling only, as without file events, and
	// with events, where the stat poll is the slow safety net.
	for _, mode := range []string{"watch-poll", "watch-events"} {
		b.Run(mode, func(b *testing.B) {
			open := reload.NewFsnotify
			if mode == "watch-poll" {
				open = func() (reload.FileEvents, error) { return nil, errors.New("events off") }
			}
			reload.SetEvents(rl, open)
			for range b.N {
				idleWindow(b, rl)
			}
		})
	}
}

// idleWindow runs Watch at an interval of 50ms (100 times the default
// rate) over a fixed window and reports the checks it made and the whole
// process's CPU: what an idle exporter costs, watching included.
func idleWindow(b *testing.B, rl *reload.Reloader) {
	const window, interval, rate = 3 * time.Second, 50 * time.Millisecond, 100
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rl.Watch(ctx, interval)
	}()
	defer func() { cancel(); <-done }()
	for reload.PollEvery(rl) == 0 {
		time.Sleep(time.Millisecond)
	}
	checks0, cpu0 := reload.Checks(rl), procCPU(b)
	time.Sleep(window)
	checks, cpu := reload.Checks(rl)-checks0, procCPU(b)-cpu0
	perMinute := float64(checks) / rate * float64(time.Minute) / float64(window)
	b.ReportMetric(100*cpu.Seconds()/window.Seconds(), "core-%")
	b.ReportMetric(perMinute, "checks/min-at-5s")
	b.Logf("idle exporter with 50000 targets, watch interval %v: %d checks (poll every %v) and %v process CPU over %v (%.2f%% of a core); at the default 5s: %.1f checks a minute",
		interval, checks, reload.PollEvery(rl), cpu, window, 100*cpu.Seconds()/window.Seconds(), perMinute)
}

// procCPU is utime+stime of this process from /proc/self/stat (Linux).
func procCPU(b *testing.B) time.Duration {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		b.Skip("no /proc/self/stat on this platform")
	}
	// Fields after the command (which may hold spaces) start at state.
	rest := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.ParseInt(rest[11], 10, 64)
	st, _ := strconv.ParseInt(rest[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}
