package reload_test

import (
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
// at the default --config.watch-interval of 5s.
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

	windowed := false // the idle window runs once, not for every b.N round
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
			if mode == "stat" && !windowed {
				windowed = true
				idleWindow(b, tick)
			}
		})
	}
}

// idleWindow prints the whole process's CPU over a fixed window in which
// the idle exporter's watcher ticks 20 times a second (100 times the
// default rate): what an idle exporter costs, watching included.
func idleWindow(b *testing.B, tick func()) {
	const window, every = 5 * time.Second, 50 * time.Millisecond
	t := time.NewTicker(every)
	defer t.Stop()
	cpu0 := procCPU(b)
	end := time.Now().Add(window)
	ticks := 0
	for time.Now().Before(end) {
		<-t.C
		tick()
		ticks++
	}
	cpu := procCPU(b) - cpu0
	b.Logf("idle exporter with 50000 targets: %v process CPU over %v with %d watcher ticks (%.2f%% of a core)",
		cpu, window, ticks, 100*cpu.Seconds()/window.Seconds())
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
