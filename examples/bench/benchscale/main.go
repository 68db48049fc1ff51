// Command benchscale measures the exporter at scale against Debian's
// blackbox_exporter, a bare net/http client of our own and the floor (the
// same GETs with raw blocking syscalls), in the same run and alternating, on a loopback nginx origin: CPU µs per probe (utime+stime
// from /proc/PID/stat over a fixed window after a warm-up), RSS, goroutines,
// /metrics size and scrape time, schedule lag and skips, with and without a
// CPU hog beside them. make bench-scale runs it; every load loop is bounded
// in count and time, and everything stays on loopback.
//
//	benchscale [flags]            the comparison (default)
//	benchscale bare [flags]       the bare-client baseline (started by the comparison)
//	benchscale floor [flags]      the raw-syscall floor (started by the comparison)
//	benchscale hog -for D         a busy loop for D (started by the comparison)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/loopback"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "bare":
			os.Exit(bare(os.Args[2:]))
		case "floor":
			os.Exit(floor(os.Args[2:]))
		case "hog":
			os.Exit(hog(os.Args[2:]))
		}
	}
	os.Exit(compare(os.Args[1:]))
}

// originPorts: nginx listens on several loopback ports so fresh connections
// at hundreds a second do not run out of (address, port) pairs in TIME_WAIT.
const originPorts = 8

type settings struct {
	exporter, blackbox, nginx string
	origin                    string // demo-origin, for the accuracy run
	exporterArgs              []string
	sizes                     []int
	warmup, window            time.Duration
	interval, timeout         time.Duration
	hogs                      []bool
	systems                   []string
	out                       string
	self                      string
	idle, accuracy            bool
}

// Result is one system measured at one size, with or without the hog.
type Result struct {
	System     string  `json:"system"`
	Targets    int     `json:"targets"`
	Hog        bool    `json:"hog"`
	Probes     int64   `json:"probes"`
	ProbesPerS float64 `json:"probes_per_second"`
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPerProb float64 `json:"cpu_us_per_probe"`
	RSSMiB     float64 `json:"rss_mib"`
	Goroutines int     `json:"goroutines"`
	// The exporter's own figures; zero for the others.
	MetricsBytes      int     `json:"metrics_text_bytes,omitempty"`
	ScrapeSeconds     float64 `json:"metrics_text_scrape_seconds,omitempty"`
	ProtoBytes        int     `json:"metrics_protobuf_bytes,omitempty"`
	ProtoScrapeSecond float64 `json:"metrics_protobuf_scrape_seconds,omitempty"`
	LagP50            float64 `json:"lag_p50_seconds"`
	LagP99            float64 `json:"lag_p99_seconds"`
	// LagScrapedP99 is the lag p99 across back-to-back scrapes of
	// /metrics (text and protobuf, gzip on) right after the window: what
	// a scrape does to the probes' schedule.
	LagScrapedP99 float64 `json:"lag_scraped_p99_seconds,omitempty"`
	Skips         float64 `json:"skips"`
	// CorePercent is CPU over the window as a share of one core (the
	// idle run's figure).
	CorePercent float64 `json:"cpu_core_percent"`
	Err         string  `json:"error,omitempty"`
}

// Accuracy is the accuracy run at one injected origin delay.
type Accuracy struct {
	DelaySeconds float64 `json:"delay_seconds"`
	Probes       int     `json:"probes"`
	// ErrP99 is the p99 of |duration - delay| over the probes' durations
	// in the status history; TrueP99 the p99 of the durations themselves.
	ErrP50Seconds  float64 `json:"duration_error_p50_seconds"`
	ErrP99Seconds  float64 `json:"duration_error_p99_seconds"`
	TrueP99Seconds float64 `json:"duration_p99_seconds"`
	// BareErr is the same error of a bare net/http client of our own
	// timing GETs of the same URLs in the same minute (fresh connections):
	// the floor the machine's scheduling sets.
	BareProbes        int     `json:"bare_probes"`
	BareErrP50Seconds float64 `json:"bare_duration_error_p50_seconds"`
	BareErrP99Seconds float64 `json:"bare_duration_error_p99_seconds"`
	// FloorErr is the same error of the floor: raw blocking syscalls on a
	// locked OS thread, the clock stopped at the answer's last byte. No
	// client on this machine and origin can do better.
	FloorProbes        int     `json:"floor_probes"`
	FloorErrP50Seconds float64 `json:"floor_duration_error_p50_seconds"`
	FloorErrP99Seconds float64 `json:"floor_duration_error_p99_seconds"`
	// ClassicP99 and NativeP99 are what histogram_quantile(0.99, ...)
	// makes of the exported http5xx_request_duration_seconds summed over
	// the targets, from its classic and its native buckets;
	// ClassicLow/High the classic bucket the p99 falls in, NativeWidth the
	// native bucket's relative width.
	ClassicP99Seconds float64 `json:"classic_p99_seconds"`
	ClassicLowSeconds float64 `json:"classic_bucket_low_seconds"`
	ClassicHiSeconds  float64 `json:"classic_bucket_high_seconds"`
	NativeP99Seconds  float64 `json:"native_p99_seconds"`
	NativeWidth       float64 `json:"native_bucket_relative_width"`
	Err               string  `json:"error,omitempty"`
}

// Ratios compare the systems measured at one size and hog setting; zero
// where one of the two was not measured.
type Ratios struct {
	Targets int  `json:"targets"`
	Hog     bool `json:"hog"`
	// CPU per probe: the exporter against blackbox, bare and floor, and
	// bare against floor (what net/http costs above the kernel's floor).
	CPUExporterBlackbox float64 `json:"cpu_exporter_vs_blackbox,omitempty"`
	CPUExporterBare     float64 `json:"cpu_exporter_vs_bare,omitempty"`
	CPUExporterFloor    float64 `json:"cpu_exporter_vs_floor,omitempty"`
	CPUBareFloor        float64 `json:"cpu_bare_vs_floor,omitempty"`
	RSSExporterBlackbox float64 `json:"rss_exporter_vs_blackbox,omitempty"`
	RSSExporterBare     float64 `json:"rss_exporter_vs_bare,omitempty"`
}

// Report is the JSON the comparison writes.
type Report struct {
	Results  []Result   `json:"results"`
	Ratios   []Ratios   `json:"ratios,omitempty"`
	Accuracy []Accuracy `json:"accuracy,omitempty"`
}

func compare(args []string) int {
	fs := flag.NewFlagSet("benchscale", flag.ExitOnError)
	var s settings
	var sizes, hogs string
	var large bool
	fs.StringVar(&s.exporter, "exporter", ".bin/http5xx_exporter", "the exporter binary")
	fs.StringVar(&s.blackbox, "blackbox", "prometheus-blackbox-exporter", "blackbox_exporter (Debian's package)")
	fs.StringVar(&s.nginx, "nginx", "nginx", "nginx, the loopback origin")
	fs.StringVar(&sizes, "targets", "1000,10000", "target counts")
	fs.BoolVar(&large, "large", false, "add 50000 targets")
	fs.DurationVar(&s.warmup, "warmup", 20*time.Second, "time before the window")
	fs.DurationVar(&s.window, "window", 30*time.Second, "the measured window")
	fs.DurationVar(&s.interval, "interval", 15*time.Second, "probe interval of every target")
	fs.DurationVar(&s.timeout, "timeout", 5*time.Second, "probe timeout")
	fs.StringVar(&hogs, "hog", "off,on", "runs without and with a CPU hog")
	var systems string
	fs.StringVar(&systems, "systems", "exporter,blackbox,bare,floor", "the systems compared")
	fs.StringVar(&s.out, "out", ".data/bench-scale.json", "where the JSON goes")
	fs.StringVar(&s.origin, "origin", ".bin/demo-origin", "demo-origin, the delaying origin of the accuracy run")
	var exporterArgs string
	fs.StringVar(&exporterArgs, "exporter-args", "", "extra exporter flags, space-separated (e.g. --no-metrics.phase-histograms)")
	fs.BoolVar(&s.idle, "idle", true, "measure the exporter idle at the largest size: every target at a 24h interval, under a probe a second")
	fs.BoolVar(&s.accuracy, "accuracy", true, "measure duration accuracy against origin delays of 50 ms and 200 ms")
	_ = fs.Parse(args)
	s.exporterArgs = strings.Fields(exporterArgs)
	if systems != "" { // empty: none, for the idle or accuracy runs alone
		s.systems = strings.Split(systems, ",")
	}
	for _, f := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bad -targets %q\n", sizes)
			return 2
		}
		s.sizes = append(s.sizes, n)
	}
	if large {
		s.sizes = append(s.sizes, 50_000)
	}
	for _, h := range strings.Split(hogs, ",") {
		s.hogs = append(s.hogs, strings.TrimSpace(h) == "on")
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s.self = self
	for _, bin := range []*string{&s.exporter, &s.blackbox, &s.nginx, &s.origin} {
		p, err := exec.LookPath(*bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s not found: make bench-scale builds the exporter and demo-origin and installs Debian's nginx-light and prometheus-blackbox-exporter\n", *bin)
			return 1
		}
		*bin = p
	}
	dir, err := os.MkdirTemp("", "bench-scale")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	stopOrigin, urls, err := startOrigin(s.nginx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "origin:", err)
		return 1
	}
	defer stopOrigin()

	var results []Result
	for _, n := range s.sizes {
		for _, h := range s.hogs {
			// Alternating: the systems back to back under the same
			// conditions, so the machine's load drifts alike for all.
			for _, sys := range s.systems {
				fmt.Fprintf(os.Stderr, "%s, %d targets, hog %v: %v warm-up, %v window\n", sys, n, h, s.warmup, s.window)
				r := run(s, dir, sys, n, h, urls)
				if r.Err != "" {
					fmt.Fprintf(os.Stderr, "  %s\n", r.Err)
				}
				results = append(results, r)
			}
		}
	}
	if s.idle {
		n := slices.Max(s.sizes)
		fmt.Fprintf(os.Stderr, "exporter idle, %d targets at a 24h interval: %v warm-up, %v window\n", n, s.warmup, s.window)
		idle := s
		idle.interval = 24 * time.Hour
		r := run(idle, dir, "exporter", n, false, urls)
		r.System = "exporter-idle"
		if r.Err != "" {
			fmt.Fprintf(os.Stderr, "  %s\n", r.Err)
		}
		results = append(results, r)
	}
	var acc []Accuracy
	if s.accuracy {
		acc = accuracy(s, dir)
	}
	ratios := ratiosOf(results)
	printTable(os.Stdout, results, ratios)
	printAccuracy(os.Stdout, acc)
	if err := os.MkdirAll(filepath.Dir(s.out), 0o755); err == nil {
		b, _ := json.MarshalIndent(Report{Results: results, Ratios: ratios, Accuracy: acc}, "", "  ")
		if err := os.WriteFile(s.out, append(b, '\n'), 0o644); err == nil {
			fmt.Printf("\nJSON: %s\n", s.out)
		}
	}
	return 0
}

// freePort returns a loopback port below the ephemeral range that was free
// just now, for a process this benchmark starts (0 if there is none: the
// process then fails to listen and says so).
func freePort() int {
	p, err := loopback.Port()
	if err != nil {
		return 0
	}
	return p
}

// freePorts returns n distinct such ports, held together until all are
// chosen so that no two are the same.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		ln, err := loopback.Listen()
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startOrigin runs nginx on loopback answering 200 "ok" on every path and
// closing each connection, as the probes use fresh ones.
func startOrigin(nginx, dir string) (stop func(), urls []string, err error) {
	odir := filepath.Join(dir, "nginx")
	if err := os.MkdirAll(filepath.Join(odir, "logs"), 0o755); err != nil {
		return nil, nil, err
	}
	var listen strings.Builder
	ports, err := freePorts(originPorts + 1)
	if err != nil {
		return nil, nil, err
	}
	statusPort := ports[0]
	for _, p := range ports[1:] {
		fmt.Fprintf(&listen, "    listen 127.0.0.1:%d backlog=4096;\n", p)
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", p))
	}
	conf := fmt.Sprintf(`worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_timeout 0;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
%[2]s    location / { return 200 "ok\n"; }
  }
  server {
    listen 127.0.0.1:%[3]d;
    location / { stub_status; }
  }
}
`, odir, listen.String(), statusPort)
	cf := filepath.Join(odir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(nginx, "-p", odir, "-c", cf)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop = func() { _ = cmd.Process.Signal(syscall.SIGQUIT); _ = cmd.Wait() }
	if err := waitHTTP(urls[0]+"/", 10*time.Second); err != nil {
		stop()
		return nil, nil, err
	}
	statusURL = fmt.Sprintf("http://127.0.0.1:%d/", statusPort)
	return stop, urls, nil
}

// statusURL is nginx's stub_status: its request count is the probes that
// reached the origin, counted the same way for every system and without
// touching the system measured.
var statusURL string

func originRequests() (int64, error) {
	resp, err := http.Get(statusURL)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return 0, err
	}
	// "Active connections: N \nserver accepts handled requests\n A H R \n..."
	lines := strings.Split(string(b), "\n")
	if len(lines) < 3 {
		return 0, fmt.Errorf("stub_status: %q", b)
	}
	f := strings.Fields(lines[2])
	if len(f) < 3 {
		return 0, fmt.Errorf("stub_status: %q", b)
	}
	return strconv.ParseInt(f[2], 10, 64)
}

func waitHTTP(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within %v", url, within)
}

// run starts one system, waits out the warm-up, measures the window and
// stops it again.
func run(s settings, dir, sys string, n int, withHog bool, urls []string) Result {
	r := Result{System: sys, Targets: n, Hog: withHog}
	port := freePort()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	var cmd *exec.Cmd
	var drive func(ctx context.Context) *driver
	switch sys {
	case "exporter":
		cf := filepath.Join(dir, "http5xx.yml")
		var b strings.Builder
		fmt.Fprintf(&b, "global:\n  interval: %s\n  timeout: %s\ntargets:\n", model.Duration(s.interval), model.Duration(s.timeout))
		for i := range n {
			fmt.Fprintf(&b, "  - name: t%d\n    url: %s/t%d\n", i, urls[i%len(urls)], i)
		}
		if err := os.WriteFile(cf, []byte(b.String()), 0o644); err != nil {
			r.Err = err.Error()
			return r
		}
		store := filepath.Join(dir, "store")
		_ = os.MkdirAll(store, 0o755)
		// The status history is pre-filled: RSS is that of full histories
		// (--status.history probes per target), not of a warm-up's few.
		args := append([]string{"--config.file=" + cf, "--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
			"--storage.path=" + store, "--log.level=warn", "--status.prefill-history"}, s.exporterArgs...)
		cmd = exec.Command(s.exporter, args...)
	case "blackbox":
		cf := filepath.Join(dir, "blackbox.yml")
		conf := fmt.Sprintf("modules:\n  http_2xx:\n    prober: http\n    timeout: %s\n    http:\n      method: GET\n", model.Duration(s.timeout))
		if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
			r.Err = err.Error()
			return r
		}
		cmd = exec.Command(s.blackbox, "--config.file="+cf, "--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--log.level=warn")
		drive = func(ctx context.Context) *driver {
			return startDriver(ctx, n, s.interval, s.timeout+time.Second, func(i int) string {
				return fmt.Sprintf("%s/probe?module=http_2xx&target=%s/t%d", base, urls[i%len(urls)], i)
			}, true)
		}
	case "bare":
		cmd = exec.Command(s.self, "bare", "-targets", strconv.Itoa(n), "-interval", s.interval.String(),
			"-timeout", s.timeout.String(), "-listen", "127.0.0.1:"+strconv.Itoa(port), "-origins", strings.Join(urls, ","))
	case "floor":
		cmd = exec.Command(s.self, "floor", "-targets", strconv.Itoa(n), "-interval", s.interval.String(),
			"-listen", "127.0.0.1:"+strconv.Itoa(port), "-origins", strings.Join(urls, ","))
	default:
		r.Err = "unknown system " + sys
		return r
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		r.Err = err.Error()
		return r
	}
	total := s.warmup + s.window + 2*time.Minute // a bound for everything below
	ctx, cancel := context.WithTimeout(context.Background(), total)
	defer cancel()
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); waitOrKill(cmd, 10*time.Second) }()
	ready := base + "/-/ready"
	if sys == "bare" || sys == "floor" {
		ready = base + "/stats"
	} else if sys == "blackbox" {
		ready = base + "/-/healthy"
	}
	if err := waitHTTP(ready, time.Minute); err != nil {
		r.Err = err.Error()
		return r
	}
	var d *driver
	if drive != nil {
		d = drive(ctx)
		defer d.stop()
	}
	if withHog {
		h := exec.Command(s.self, "hog", "-for", (s.warmup + s.window).String())
		if err := h.Start(); err == nil {
			defer waitOrKill(h, s.warmup+s.window+10*time.Second)
		}
	}
	time.Sleep(s.warmup)

	before, err := snapshot(sys, base, d)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	// The window is bounded by reads of the origin's count and the
	// process's CPU alone: the snapshots (a /metrics scrape of seconds at
	// 10k targets) stay outside it.
	req0, err0 := originRequests()
	cpu0 := procCPU(cmd.Process.Pid)
	start := time.Now()
	time.Sleep(s.window)
	cpu1 := procCPU(cmd.Process.Pid)
	req1, err1 := originRequests()
	elapsed := time.Since(start)
	if err := errors.Join(err0, err1); err != nil {
		r.Err = err.Error()
		return r
	}
	r.RSSMiB = float64(procRSS(cmd.Process.Pid)) / (1 << 20)
	after, err := snapshot(sys, base, d)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.Probes = req1 - req0
	r.ProbesPerS = float64(r.Probes) / elapsed.Seconds()
	r.CPUSeconds = (cpu1 - cpu0).Seconds()
	r.CorePercent = 100 * r.CPUSeconds / elapsed.Seconds()
	if r.Probes > 0 {
		r.CPUPerProb = float64((cpu1 - cpu0).Microseconds()) / float64(r.Probes)
	}
	r.Goroutines = after.goroutines
	r.Skips = after.skips - before.skips
	r.LagP50 = quantile(0.5, before.lag, after.lag)
	r.LagP99 = quantile(0.99, before.lag, after.lag)
	if sys == "exporter" {
		r.MetricsBytes, r.ScrapeSeconds = scrape(base+"/metrics", "text/plain;version=0.0.4")
		r.ProtoBytes, r.ProtoScrapeSecond = scrape(base+"/metrics", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
		if scraped, err := snapshot(sys, base, d); err == nil {
			r.LagScrapedP99 = quantile(0.99, after.lag, scraped.lag)
		}
	}
	return r
}

func waitOrKill(cmd *exec.Cmd, within time.Duration) {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		_ = cmd.Process.Kill()
		<-done
	}
}

// state is what a system says of itself at one moment.
type state struct {
	probes     float64
	skips      float64
	goroutines int
	lag        map[float64]float64 // cumulative bucket counts by upper bound
}

func snapshot(sys, base string, d *driver) (state, error) {
	switch sys {
	case "bare", "floor":
		resp, err := http.Get(base + "/stats")
		if err != nil {
			return state{}, err
		}
		defer resp.Body.Close()
		var st struct{ Probes, Skips, Goroutines int64 }
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&st); err != nil {
			return state{}, err
		}
		return state{probes: float64(st.Probes), skips: float64(st.Skips), goroutines: int(st.Goroutines)}, nil
	case "blackbox":
		mfs, err := gather(base + "/metrics")
		if err != nil {
			return state{}, err
		}
		return state{probes: float64(d.done.Load()), skips: float64(d.skips.Load()), goroutines: int(sum(mfs["go_goroutines"]))}, nil
	}
	mfs, err := gather(base + "/metrics")
	if err != nil {
		return state{}, err
	}
	st := state{probes: sum(mfs["http5xx_probes_total"]), skips: sum(mfs["http5xx_skipped_probes_total"]),
		goroutines: int(sum(mfs["go_goroutines"])), lag: map[float64]float64{}}
	if mf := mfs["http5xx_schedule_lag_seconds"]; mf != nil {
		for _, m := range mf.GetMetric() {
			// The text format's +Inf bucket is the sample count.
			st.lag[math.Inf(1)] += float64(m.GetHistogram().GetSampleCount())
			for _, b := range m.GetHistogram().GetBucket() {
				if !math.IsInf(b.GetUpperBound(), 1) {
					st.lag[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return st, nil
}

func gather(url string) (map[string]*dto.MetricFamily, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(bufio.NewReader(io.LimitReader(resp.Body, 1<<30)))
}

func sum(mf *dto.MetricFamily) float64 {
	var s float64
	for _, m := range mf.GetMetric() {
		s += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
	}
	return s
}

// quantile is histogram_quantile over the increase of cumulative buckets.
func quantile(q float64, before, after map[float64]float64) float64 {
	if after == nil {
		return 0
	}
	bounds := make([]float64, 0, len(after))
	for b := range after {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	total := after[math.Inf(1)] - before[math.Inf(1)]
	if total <= 0 {
		return 0
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for _, b := range bounds {
		c := after[b] - before[b]
		if c >= rank {
			if math.IsInf(b, 1) {
				return prevBound
			}
			return prevBound + (b-prevBound)*(rank-prevCount)/math.Max(c-prevCount, 1e-9)
		}
		prevBound, prevCount = b, c
	}
	return prevBound
}

func scrape(url, accept string) (int, float64) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", accept)
	start := time.Now()
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<31))
	return int(n), time.Since(start).Seconds()
}

// procCPU is utime+stime of pid from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 || i+2 > len(data) {
		return 0
	}
	f := strings.Fields(string(data[i+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// procRSS is VmRSS of pid in bytes.
func procRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// driver sends n targets' requests at n/interval a second, spread evenly,
// each on its own goroutine, at most maxInflight at once (further ones are
// counted as skips). It stops with ctx.
type driver struct {
	done, skips atomic.Int64
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

const maxInflight = 20_000

func startDriver(parent context.Context, n int, interval, timeout time.Duration, url func(i int) string, keepAlive bool) *driver {
	ctx, cancel := context.WithCancel(parent)
	d := &driver{cancel: cancel}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{
		DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 1024, DisableCompression: true,
	}}
	sem := make(chan struct{}, maxInflight)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		every := interval / time.Duration(n)
		next := time.Now()
		for i := 0; ; i = (i + 1) % n {
			next = next.Add(every)
			if w := time.Until(next); w > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(w):
				}
			} else if ctx.Err() != nil {
				return
			}
			select {
			case sem <- struct{}{}:
			default:
				d.skips.Add(1)
				continue
			}
			d.wg.Add(1)
			go func(u string) {
				defer d.wg.Done()
				defer func() { <-sem }()
				req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
					resp.Body.Close()
				}
				if !errors.Is(ctx.Err(), context.Canceled) {
					d.done.Add(1)
				}
			}(url(i))
		}
	}()
	return d
}

func (d *driver) stop() {
	d.cancel()
	d.wg.Wait()
}

// bare is the baseline: the same fresh-connection GETs at the same rate
// with net/http and nothing else, its counts on /stats.
func bare(args []string) int {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	n := fs.Int("targets", 1000, "targets")
	interval := fs.Duration("interval", 15*time.Second, "interval")
	timeout := fs.Duration("timeout", 5*time.Second, "timeout")
	listen := fs.String("listen", "127.0.0.1:0", "where /stats answers")
	origins := fs.String("origins", "", "comma-separated origin base URLs")
	limit := fs.Duration("for", 30*time.Minute, "stop after this long")
	_ = fs.Parse(args)
	urls := strings.Split(*origins, ",")
	ctx, cancel := context.WithTimeout(context.Background(), *limit)
	defer cancel()
	d := startDriver(ctx, *n, *interval, *timeout, func(i int) string { return fmt.Sprintf("%s/t%d", urls[i%len(urls)], i) }, false)
	serveStats(ctx, *listen, func() map[string]int64 {
		return map[string]int64{"Probes": d.done.Load(), "Skips": d.skips.Load(), "Goroutines": int64(runtimeGoroutines())}
	})
	d.stop()
	return 0
}

// serveStats answers /stats at listen with what stats reports, as JSON,
// until a signal or the end of ctx.
func serveStats(ctx context.Context, listen string, stats func() map[string]int64) {
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(stats())
	})
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signalNotify(sig)
		select {
		case <-sig:
		case <-ctx.Done():
		}
		_ = srv.Close()
	}()
	_ = srv.ListenAndServe()
}

// hog spins one goroutine for a bounded time: a CPU hog beside the system
// measured.
func hog(args []string) int {
	fs := flag.NewFlagSet("hog", flag.ExitOnError)
	d := fs.Duration("for", time.Minute, "how long")
	_ = fs.Parse(args)
	end := time.Now().Add(min(*d, 30*time.Minute))
	x := 0
	for time.Now().Before(end) {
		for i := range 1_000_000 {
			x += i
		}
	}
	return x & 0
}

func printTable(w io.Writer, rs []Result, ratios []Ratios) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\ttargets\thog\tprobes/s\tCPU µs/probe\tCPU % core\tRSS MiB\tgoroutines\t/metrics MB\tscrape s\tproto MB\tproto s\tlag p50 ms\tlag p99 ms\tp99 scraped ms\tskips\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%.0f\t%.0f\t%.1f\t%.0f\t%d\t%.1f\t%.2f\t%.1f\t%.2f\t%.1f\t%.1f\t%.1f\t%.0f\t\n",
			r.System, r.Targets, r.Hog, r.ProbesPerS, r.CPUPerProb, r.CorePercent, r.RSSMiB, r.Goroutines,
			float64(r.MetricsBytes)/1e6, r.ScrapeSeconds, float64(r.ProtoBytes)/1e6, r.ProtoScrapeSecond,
			r.LagP50*1e3, r.LagP99*1e3, r.LagScrapedP99*1e3, r.Skips)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nratios of CPU per probe (exporter / blackbox, bare, floor; bare / floor) and of RSS:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "targets\thog\tCPU/probe vs blackbox\tCPU/probe vs bare\tCPU/probe vs floor\tbare vs floor\tRSS vs blackbox\tRSS vs bare\t")
	for _, r := range ratios {
		fmt.Fprintf(tw, "%d\t%v\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Targets, r.Hog,
			ratioText(r.CPUExporterBlackbox), ratioText(r.CPUExporterBare), ratioText(r.CPUExporterFloor),
			ratioText(r.CPUBareFloor), ratioText(r.RSSExporterBlackbox), ratioText(r.RSSExporterBare))
	}
	_ = tw.Flush()
}

// ratiosOf pairs the systems measured at the same size and hog setting, one
// line for each such setting, in the order measured.
func ratiosOf(rs []Result) []Ratios {
	var out []Ratios
	for _, e := range rs {
		if e.System == "exporter-idle" || slices.ContainsFunc(out, func(r Ratios) bool { return r.Targets == e.Targets && r.Hog == e.Hog }) {
			continue
		}
		by := map[string]Result{}
		for _, o := range rs {
			if o.Targets == e.Targets && o.Hog == e.Hog && o.Err == "" {
				by[o.System] = o
			}
		}
		ex, bb, br, fl := by["exporter"], by["blackbox"], by["bare"], by["floor"]
		out = append(out, Ratios{Targets: e.Targets, Hog: e.Hog,
			CPUExporterBlackbox: ratio(ex.CPUPerProb, bb.CPUPerProb), CPUExporterBare: ratio(ex.CPUPerProb, br.CPUPerProb),
			CPUExporterFloor: ratio(ex.CPUPerProb, fl.CPUPerProb), CPUBareFloor: ratio(br.CPUPerProb, fl.CPUPerProb),
			RSSExporterBlackbox: ratio(ex.RSSMiB, bb.RSSMiB), RSSExporterBare: ratio(ex.RSSMiB, br.RSSMiB)})
	}
	return out
}

// ratio is a/b rounded to two decimals, 0 when either is unknown.
func ratio(a, b float64) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	return math.Round(a/b*100) / 100
}

func ratioText(r float64) string {
	if r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", r)
}
