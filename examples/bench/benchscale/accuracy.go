package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Accuracy run: demo-origin answers after a fixed delay, the exporter
// probes accuracyTargets targets per delay for accuracyWindow, and the
// durations it keeps (status history) and exports (classic and native
// buckets of http5xx_request_duration_seconds) are compared with the delay.
const (
	accuracyTargets  = 50
	accuracyInterval = 5 * time.Second
	accuracyWindow   = time.Minute
)

var accuracyDelays = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond}

func accuracy(s settings, dir string) []Accuracy {
	fmt.Fprintf(os.Stderr, "accuracy: %d targets per delay %v, every %v, for %v\n", accuracyTargets, accuracyDelays, accuracyInterval, accuracyWindow)
	fail := func(err error) []Accuracy {
		fmt.Fprintf(os.Stderr, "  accuracy: %v\n", err)
		return []Accuracy{{Err: err.Error()}}
	}
	originPort := freePort()
	origin := exec.Command(s.origin, "--web.listen-address=127.0.0.1:"+strconv.Itoa(originPort))
	origin.Stderr = os.Stderr
	if err := origin.Start(); err != nil {
		return fail(err)
	}
	defer func() { _ = origin.Process.Signal(syscall.SIGTERM); waitOrKill(origin, 10*time.Second) }()
	originURL := fmt.Sprintf("http://127.0.0.1:%d", originPort)
	if err := waitHTTP(originURL+"/", 10*time.Second); err != nil {
		return fail(err)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  interval: %s\n  timeout: 2s\ntargets:\n", model.Duration(accuracyInterval))
	for _, d := range accuracyDelays {
		for i := range accuracyTargets {
			fmt.Fprintf(&b, "  - name: d%d-%d\n    service: d%d\n    url: %s/delay/%s\n", d.Milliseconds(), i, d.Milliseconds(), originURL, d)
		}
	}
	cf := filepath.Join(dir, "accuracy.yml")
	if err := os.WriteFile(cf, []byte(b.String()), 0o644); err != nil {
		return fail(err)
	}
	port := freePort()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	store := filepath.Join(dir, "store-accuracy")
	_ = os.MkdirAll(store, 0o755)
	exp := exec.Command(s.exporter, append([]string{"--config.file=" + cf, "--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
		"--storage.path=" + store, "--log.level=warn"}, s.exporterArgs...)...)
	exp.Stderr = os.Stderr
	if err := exp.Start(); err != nil {
		return fail(err)
	}
	defer func() { _ = exp.Process.Signal(syscall.SIGTERM); waitOrKill(exp, 10*time.Second) }()
	if err := waitHTTP(base+"/-/ready", time.Minute); err != nil {
		return fail(err)
	}
	bare := make([]chan []float64, len(accuracyDelays))
	floors := make([]chan []float64, len(accuracyDelays))
	for i, d := range accuracyDelays {
		bare[i], floors[i] = make(chan []float64, 1), make(chan []float64, 1)
		go func() { bare[i] <- bareTimings(fmt.Sprintf("%s/delay/%s", originURL, d), accuracyWindow) }()
		go func() { floors[i] <- floorTimings(originPort, "/delay/"+d.String(), accuracyWindow) }()
	}
	time.Sleep(accuracyWindow + accuracyInterval)

	mfs, err := gatherProto(base + "/metrics")
	if err != nil {
		return fail(err)
	}
	var out []Accuracy
	for _, d := range accuracyDelays {
		a := Accuracy{DelaySeconds: d.Seconds()}
		var durs []float64
		for i := range accuracyTargets {
			ds, err := historyDurations(base, fmt.Sprintf("d%d-%d", d.Milliseconds(), i))
			if err != nil {
				a.Err = err.Error()
				break
			}
			durs = append(durs, ds...)
		}
		a.Probes = len(durs)
		if len(durs) > 0 {
			errs := absErrors(durs, d)
			a.ErrP50Seconds, a.ErrP99Seconds = nearestRank(errs, 0.5), nearestRank(errs, 0.99)
			a.TrueP99Seconds = nearestRank(durs, 0.99)
		}
		if bd := <-bare[slices.Index(accuracyDelays, d)]; len(bd) > 0 {
			errs := absErrors(bd, d)
			a.BareProbes, a.BareErrP50Seconds, a.BareErrP99Seconds = len(bd), nearestRank(errs, 0.5), nearestRank(errs, 0.99)
		}
		if fd := <-floors[slices.Index(accuracyDelays, d)]; len(fd) > 0 {
			errs := absErrors(fd, d)
			a.FloorProbes, a.FloorErrP50Seconds, a.FloorErrP99Seconds = len(fd), nearestRank(errs, 0.5), nearestRank(errs, 0.99)
		}
		service := fmt.Sprintf("d%d", d.Milliseconds())
		a.ClassicP99Seconds, a.ClassicLowSeconds, a.ClassicHiSeconds = classicQuantile(0.99, mfs["http5xx_request_duration_seconds"], service)
		a.NativeP99Seconds, a.NativeWidth = nativeQuantile(0.99, mfs["http5xx_request_duration_seconds"], service)
		out = append(out, a)
	}
	return out
}

func absErrors(durs []float64, d time.Duration) []float64 {
	errs := make([]float64, len(durs))
	for i, v := range durs {
		errs[i] = math.Abs(v - d.Seconds())
	}
	return errs
}

// bareTimings times GETs of url on fresh connections, ten a second, for
// window: the baseline of the accuracy run.
func bareTimings(url string, window time.Duration) []float64 {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var ds []float64
	end := time.Now().Add(window)
	for t := time.NewTicker(100 * time.Millisecond); time.Now().Before(end); <-t.C {
		start := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		ds = append(ds, time.Since(start).Seconds())
	}
	return ds
}

// floorTimings times GETs of path on 127.0.0.1:port as the floor system
// makes them (raw blocking syscalls on one locked OS thread, no netpoller,
// no parser), ten a second for window, the clock stopped when the answer's
// last byte is read (its Content-Length), not when the origin closes.
func floorTimings(port int, path string, window time.Duration) []float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sa := &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + strconv.Itoa(port) + "\r\nUser-Agent: benchscale-floor\r\nConnection: close\r\n\r\n")
	buf := make([]byte, 64<<10)
	var ds []float64
	end := time.Now().Add(window)
	for t := time.NewTicker(100 * time.Millisecond); time.Now().Before(end); <-t.C {
		start := time.Now()
		if floorAnswer(sa, req, buf) {
			ds = append(ds, time.Since(start).Seconds())
		}
	}
	return ds
}

// floorAnswer makes one GET on a fresh blocking connection and returns
// once the whole answer of status 200 is read, by its Content-Length.
func floorAnswer(sa *syscall.SockaddrInet4, req, buf []byte) bool {
	return floorExchange(sa, req, func(fd int) bool { return floorUntilLength(fd, buf) })
}

// floorUntilLength reads fd until the answer's Content-Length is in:
// whether it was a whole answer of status 200.
func floorUntilLength(fd int, buf []byte) bool {
	seen := 0
	for seen < len(buf) {
		m, err := syscall.Read(fd, buf[seen:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil || m == 0 {
			return false
		}
		seen += m
		head, body, ok := strings.Cut(string(buf[:seen]), "\r\n\r\n")
		if !ok {
			continue
		}
		if !strings.HasPrefix(head, "HTTP/1.1 200") {
			return false
		}
		for _, line := range strings.Split(head, "\r\n") {
			if name, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "Content-Length") {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					return false
				}
				if len(body) >= n {
					return true
				}
			}
		}
	}
	return false
}

func nearestRank(vs []float64, q float64) float64 {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	i := int(math.Ceil(q*float64(len(vs)))) - 1
	return vs[max(0, min(i, len(vs)-1))]
}

// historyDurations are the durations of a target's kept probes.
func historyDurations(base, target string) ([]float64, error) {
	resp, err := http.Get(base + "/api/v1/status?target=" + target)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var doc struct {
		Data struct {
			Targets []struct {
				History []struct {
					Duration float64 `json:"duration_seconds"`
					Success  bool    `json:"success"`
				} `json:"history"`
			} `json:"targets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<24)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	var ds []float64
	for _, t := range doc.Data.Targets {
		for _, h := range t.History {
			if !h.Success {
				return nil, fmt.Errorf("%s: a probe failed", target)
			}
			ds = append(ds, h.Duration)
		}
	}
	return ds, nil
}

func gatherProto(url string) (map[string]*dto.MetricFamily, error) {
	req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	mfs := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			return mfs, nil
		} else if err != nil {
			return nil, err
		}
		mfs[mf.GetName()] = &mf
	}
}

func serviceOf(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "service" {
			return l.GetValue()
		}
	}
	return ""
}

// classicQuantile is histogram_quantile(q, sum by (le) (...)) over the
// classic buckets of service's series, and the bucket it falls in.
func classicQuantile(q float64, mf *dto.MetricFamily, service string) (v, lo, hi float64) {
	cum := map[float64]float64{}
	var total float64
	for _, m := range mf.GetMetric() {
		if serviceOf(m) != service {
			continue
		}
		total += float64(m.GetHistogram().GetSampleCount())
		for _, b := range m.GetHistogram().GetBucket() {
			cum[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
	}
	if total == 0 {
		return 0, 0, 0
	}
	bounds := make([]float64, 0, len(cum))
	for b := range cum {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	rank := q * total
	prevB, prevC := 0.0, 0.0
	for _, b := range bounds {
		if c := cum[b]; c >= rank {
			return prevB + (b-prevB)*(rank-prevC)/(c-prevC), prevB, b
		}
		prevB, prevC = b, cum[b]
	}
	return prevB, prevB, math.Inf(1) // in +Inf: Prometheus answers the highest bound
}

// nativeQuantile is histogram_quantile(q, sum(...)) over the native
// buckets of service's series (one schema assumed; the exporter's
// histograms start at schema 3 and only leave it past 100 buckets), with
// linear interpolation inside the bucket, and that bucket's relative width.
func nativeQuantile(q float64, mf *dto.MetricFamily, service string) (v, width float64) {
	counts := map[int]float64{}
	var total float64
	schema := int32(math.MaxInt32)
	for _, m := range mf.GetMetric() {
		if serviceOf(m) != service {
			continue
		}
		h := m.GetHistogram()
		if schema == math.MaxInt32 {
			schema = h.GetSchema()
		} else if schema != h.GetSchema() {
			return math.NaN(), 0
		}
		total += float64(h.GetZeroCount())
		key, count := 0, int64(0)
		d := 0
		for _, sp := range h.GetPositiveSpan() {
			key += int(sp.GetOffset())
			for range sp.GetLength() {
				count += h.GetPositiveDelta()[d]
				d++
				counts[key] += float64(count)
				total += float64(count)
				key++
			}
		}
	}
	if total == 0 {
		return 0, 0
	}
	base := math.Pow(2, math.Pow(2, -float64(schema)))
	keys := make([]int, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rank := q * total
	var cum float64
	for _, k := range keys {
		c := counts[k]
		if cum+c >= rank {
			lo, hi := math.Pow(base, float64(k-1)), math.Pow(base, float64(k))
			return lo + (hi-lo)*(rank-cum)/c, base - 1
		}
		cum += c
	}
	return 0, base - 1
}

func printAccuracy(w io.Writer, as []Accuracy) {
	if len(as) == 0 {
		return
	}
	fmt.Fprintln(w, "\naccuracy (http5xx_request_duration_seconds and the status history against the origin's delay):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "delay ms\tprobes\t|duration-delay| p50/p99 ms\tbare client p50/p99 ms\tfloor p50/p99 ms\tduration p99 ms\tclassic p99 ms\tclassic bucket ms\tnative p99 ms\tnative bucket width\t")
	for _, a := range as {
		if a.Err != "" {
			fmt.Fprintf(tw, "%.0f\t%s\t\t\t\t\t\t\t\t\t\n", a.DelaySeconds*1e3, a.Err)
			continue
		}
		fmt.Fprintf(tw, "%.0f\t%d\t%.2f / %.2f\t%.2f / %.2f\t%.2f / %.2f\t%.2f\t%.1f\t(%.0f, %.0f]\t%.1f\t%.1f%%\t\n", a.DelaySeconds*1e3, a.Probes,
			a.ErrP50Seconds*1e3, a.ErrP99Seconds*1e3, a.BareErrP50Seconds*1e3, a.BareErrP99Seconds*1e3, a.FloorErrP50Seconds*1e3, a.FloorErrP99Seconds*1e3,
			a.TrueP99Seconds*1e3, a.ClassicP99Seconds*1e3, a.ClassicLowSeconds*1e3, a.ClassicHiSeconds*1e3, a.NativeP99Seconds*1e3, a.NativeWidth*100)
	}
	_ = tw.Flush()
}
