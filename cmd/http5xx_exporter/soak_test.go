//go:build soak && linux

package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	soakDuration = flag.Duration("soak.duration", 30*time.Minute, "how long the soak probes (make soak SOAK_DURATION=)")
	soakTargets  = flag.Int("soak.targets", 500, "targets of the soak, healthy and hostile")
	soakInterval = flag.Duration("soak.interval", 15*time.Second, "probe interval of every target")
)

// soakPoint is the exporter process's use of resources at one report.
type soakPoint struct {
	at         time.Duration
	rss        int64 // kB, VmRSS
	goroutines float64
	fds        int
	probes     float64 // scheduled probes so far
	skipped    float64 // probes skipped so far
}

func (p soakPoint) String() string {
	return fmt.Sprintf("minute %4.1f: RSS %6.1f MiB  goroutines %4.0f  fds %4d",
		p.at.Minutes(), float64(p.rss)/1024, p.goroutines, p.fds)
}

// TestSoak (make soak) runs a real exporter binary against many healthy
// and hostile loopback targets (the kinds of TestHostileSoakBounds) for
// -soak.duration, and every minute prints the process's resident memory,
// goroutines, open descriptors and probes per second, then the first and
// the last minute and the growth between them. It fails when the exporter
// dies, stops probing, or its goroutines or descriptors keep growing.
// Ctrl-C ends the soak early, with the summary so far.
func TestSoak(t *testing.T) {
	interrupt, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(interrupt, *soakDuration)
	defer cancel()

	dir := t.TempDir()
	bin := filepath.Join(dir, "http5xx_exporter")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	targets := startSoakTargets(t, *soakTargets)
	cfg := filepath.Join(dir, "http5xx.yml")
	writeConfig(t, cfg, soakConfig(targets, *soakInterval, min(2*time.Second, *soakInterval)))
	logPath := filepath.Join(dir, "exporter.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	addr := freeAddr(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr, "--storage.path="+dir,
		"--config.watch-interval=0", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: Ctrl-C reaches the test, which stops the
	// exporter; and it dies with the test if the test is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stopExporter := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the exporter exited with %v on SIGTERM", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("the exporter did not stop within 15s of SIGTERM; killed")
			cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(func() {
		stopExporter()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("exporter log (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
		}
	})
	t.Logf("exporter %d on %s: %d targets every %v for %v; Ctrl-C ends it early", cmd.Process.Pid, addr, len(targets), *soakInterval, *soakDuration)

	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	var points []soakPoint
	report := time.NewTicker(time.Minute)
	defer report.Stop()
	scrape := time.NewTicker(*soakInterval) // as Prometheus would
	defer scrape.Stop()
	var last string // the latest /metrics page
	scrapeNow := func() {
		if code, body := codeAndBody(client.Get("http://" + addr + "/metrics")); code == 200 {
			last = body
		} else {
			t.Errorf("/metrics at %v: %d %.200s", time.Since(start).Round(time.Second), code, body)
		}
	}
	record := func() {
		scrapeNow()
		p := soakPoint{at: time.Since(start), rss: procRSS(t, cmd.Process.Pid), fds: procFDs(t, cmd.Process.Pid),
			goroutines: seriesValue(last, "go_goroutines"), probes: seriesSum(last, "http5xx_probes_total"),
			skipped: seriesSum(last, "http5xx_skipped_probes_total")}
		rate := p.probes / p.at.Seconds()
		if len(points) > 0 {
			prev := points[len(points)-1]
			rate = (p.probes - prev.probes) / (p.at - prev.at).Seconds()
		}
		points = append(points, p)
		t.Logf("%s  probes/s %5.1f  skipped %.0f", p, rate, p.skipped)
	}
loop:
	for {
		select {
		case <-ctx.Done():
			// The end is a report too, unless one was just taken.
			if len(points) == 0 || time.Since(start)-points[len(points)-1].at > 10*time.Second {
				record()
			}
			break loop
		case err := <-exited:
			stopped = true
			t.Fatalf("the exporter exited during the soak: %v", err)
		case <-scrape.C:
			scrapeNow()
		case <-report.C:
			record()
		}
	}
	stopExporter()
	if len(points) < 2 {
		t.Logf("%d report(s): too short for a summary", len(points))
		return
	}
	first, end := points[0], points[len(points)-1]
	perSecond := func(p soakPoint) float64 { return p.probes / p.at.Seconds() }
	how := "summary"
	if interrupt.Err() != nil {
		how = "summary (interrupted)"
	}
	t.Logf("%s over %v, %d targets every %v:", how, end.at.Round(time.Second), len(targets), *soakInterval)
	t.Logf("  first %s", first)
	t.Logf("  last  %s", end)
	t.Logf("  growth:            RSS %+6.1f MiB  goroutines %+4.0f  fds %+4d  probes/s %.1f on average, %.0f skipped",
		float64(end.rss-first.rss)/1024, end.goroutines-first.goroutines, end.fds-first.fds, perSecond(end), end.skipped)

	// The probes in flight make goroutines and descriptors swing by about
	// the number of hostile targets a probe timeout holds; a leak grows
	// without bound. RSS is reported, not judged: the runtime returns
	// memory to the system at its own pace.
	want := 0.5 * float64(len(targets)) / soakInterval.Seconds()
	if perSecond(end) < want {
		t.Errorf("%.1f probes/s on average, want at least %.1f", perSecond(end), want)
	}
	if slack := max(50, first.goroutines/4); end.goroutines > first.goroutines+slack {
		t.Errorf("goroutines grew from %.0f to %.0f (margin %.0f)", first.goroutines, end.goroutines, slack)
	}
	if slack := max(50, first.fds/4); end.fds > first.fds+slack {
		t.Errorf("open descriptors grew from %d to %d (margin %d)", first.fds, end.fds, slack)
	}
}

// procRSS is a process's resident memory in kB (VmRSS).
func procRSS(t *testing.T, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Errorf("RSS: %v", err)
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	t.Errorf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// procFDs counts a process's open descriptors.
func procFDs(t *testing.T, pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Errorf("descriptors: %v", err)
	}
	return len(ents)
}

// seriesValue is the value of a metric without labels, or -1.
func seriesValue(metrics, name string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(metrics)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}
