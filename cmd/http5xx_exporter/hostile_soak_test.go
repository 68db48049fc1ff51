package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/loopback"
)

// soakTarget is one configured target of the soak.
type soakTarget struct {
	name, url string
	extra     string // further YAML lines of the target, indented
}

// startSoakTargets starts one loopback server per behaviour (stopped by
// tb's cleanup) and returns n targets spread over them by weight.
func startSoakTargets(tb testing.TB, n int) []soakTarget {
	tb.Helper()
	// kinds are the behaviours of the soak's targets, healthy and hostile,
	// with how many of every 40 targets behave so. Every hostile server ends
	// its side of a connection once the prober has gone, so after the exporter
	// stops no goroutine of the servers is left either.
	kinds := []struct {
		name   string
		weight int
	}{
		{"ok", 6}, {"fail503", 1}, {"fail500", 1}, {"tls", 2},
		{"hang", 3}, {"trickle", 3}, {"trickle-headers", 2},
		{"switch", 3}, {"switch-stream", 2}, {"reset", 3}, {"garbage", 2}, {"http09", 1},
		{"huge-headers", 3}, {"redirect-loop", 3}, {"slow-tls", 3}, {"chunk-hang", 1}, {"refused", 1},
	}
	quiet := log.New(io.Discard, "", 0) // failed handshakes and hijacks are the point
	mux := http.NewServeMux()
	mux.HandleFunc("/ok/", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/fail503/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", 503) })
	mux.HandleFunc("/fail500/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/b", http.StatusFound) })
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/a", http.StatusFound) })
	origin := httptest.NewUnstartedServer(mux)
	origin.Config.ErrorLog = quiet
	origin.Start()
	tb.Cleanup(origin.Close)
	secure := httptest.NewUnstartedServer(mux)
	secure.Config.ErrorLog = quiet
	secure.StartTLS()
	tb.Cleanup(secure.Close)

	trickle := func(c net.Conn, head string, drip byte) {
		readRequest(c)
		if _, err := io.WriteString(c, head); err != nil {
			return
		}
		for {
			time.Sleep(50 * time.Millisecond)
			if _, err := c.Write([]byte{drip}); err != nil {
				return
			}
		}
	}
	raw := map[string]func(net.Conn){
		"hang": func(c net.Conn) { readRequest(c); untilClosed(c) },
		"trickle": func(c net.Conn) {
			trickle(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\n", 'x')
		},
		"trickle-headers": func(c net.Conn) { trickle(c, "HTTP/1.1 200 OK\r\n", 'X') },
		"switch": func(c net.Conn) {
			readRequest(c)
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			untilClosed(c)
		},
		"switch-stream": func(c net.Conn) {
			trickle(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", 'x')
		},
		"reset": func(c net.Conn) {
			readRequest(c)
			c.(*net.TCPConn).SetLinger(0) // close sends RST
		},
		"garbage":  func(c net.Conn) { readRequest(c); io.WriteString(c, "\x00\xff\xfeNOT HTTP AT ALL\r\n\r\n\x16\x03\x01") },
		"http09":   func(c net.Conn) { readRequest(c); io.WriteString(c, "<html>hello from 1991</html>\n") },
		"slow-tls": func(c net.Conn) { io.ReadFull(c, make([]byte, 5)); untilClosed(c) },
		"huge-headers": func(c net.Conn) {
			readRequest(c)
			w := bufio.NewWriter(c)
			w.WriteString("HTTP/1.1 200 OK\r\n")
			for i := range 2048 { // 128 KiB of headers, twice the prober's limit
				fmt.Fprintf(w, "X-Pad-%04d: %s\r\n", i, strings.Repeat("a", 50))
			}
			w.WriteString("\r\n")
			if w.Flush() == nil {
				untilClosed(c)
			}
		},
		"chunk-hang": func(c net.Conn) {
			readRequest(c)
			io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\nabc")
			untilClosed(c)
		},
	}
	base := map[string]string{
		"ok":            origin.URL + "/ok/",
		"fail503":       origin.URL + "/fail503/",
		"fail500":       origin.URL + "/fail500/",
		"redirect-loop": origin.URL + "/loop/a?",
		"tls":           secure.URL + "/ok/",
		"refused":       "http://" + refusedAddr(tb) + "/",
	}
	for name, serve := range raw {
		scheme := "http://"
		if name == "slow-tls" {
			scheme = "https://"
		}
		base[name] = scheme + soakListener(tb, serve) + "/"
	}
	var slots []string
	for _, k := range kinds {
		for range k.weight {
			slots = append(slots, k.name)
		}
	}
	targets := make([]soakTarget, n)
	for i := range targets {
		kind := slots[i%len(slots)]
		if _, ok := base[kind]; !ok {
			tb.Fatalf("soak kind %q has no server", kind)
		}
		t := soakTarget{name: fmt.Sprintf("%s-%03d", kind, i), url: base[kind] + strconv.Itoa(i)}
		switch kind {
		case "tls":
			t.extra = "    tls:\n      insecure_skip_verify: true\n"
		case "redirect-loop":
			t.url = base[kind] + "n=" + strconv.Itoa(i)
			t.extra = "    follow_redirects: true\n"
		}
		targets[i] = t
	}
	return targets
}

// soakConfig is the exporter's configuration for the targets.
func soakConfig(targets []soakTarget, interval, timeout time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  interval: %s\n  timeout: %s\ntargets:\n", interval, timeout)
	for _, t := range targets {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n%s", t.name, t.url, t.extra)
	}
	return b.String()
}

// refusedAddr is a loopback address that refuses connections until the
// test ends (examples/loopback).
func refusedAddr(tb testing.TB) string { return loopback.Refused(tb) }

// untilClosed reads and drops whatever comes until the peer closes.
func untilClosed(c net.Conn) { io.Copy(io.Discard, c) }

// readRequest reads one request, its body included.
func readRequest(c net.Conn) {
	if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
		io.Copy(io.Discard, req.Body)
	}
}

// soakListener serves every connection with serve on loopback; a
// connection lasts until serve returns, 10s at most. tb's cleanup closes
// the listener and every connection and waits for their goroutines.
func soakListener(tb testing.TB, serve func(net.Conn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				serve(c)
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// soakExporter is the serve command run in-process, as startExporter runs
// it but at log level info: the debug log's line per probe would grow the
// heap the test measures.
type soakExporter struct {
	addr    string
	logs    *syncBuffer
	done    chan int
	cancel  context.CancelFunc
	stopped bool
}

func startSoakExporter(t *testing.T, args ...string) *soakExporter {
	t.Helper()
	e := &soakExporter{addr: freeAddr(t), logs: &syncBuffer{}, done: make(chan int, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	args = append([]string{"--web.listen-address=" + e.addr, "--log.level=info", "--storage.path=" + t.TempDir()}, args...)
	go func() { e.done <- run(ctx, args, io.Discard, e.logs) }()
	t.Cleanup(func() {
		e.stop(t)
		if t.Failed() {
			t.Logf("exporter log:\n%s", e.logs.String())
		}
	})
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) { // a hang detector
		if code, _ := codeAndBody(http.Get("http://" + e.addr + "/-/healthy")); code == 200 {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter did not answer /-/healthy within a minute")
		}
	}
}

// stop ends the exporter and returns its exit code (-1 when it did not
// end within a minute, a hang detector); later calls return 0.
func (e *soakExporter) stop(t *testing.T) int {
	t.Helper()
	if e.stopped {
		return 0
	}
	e.stopped = true
	e.cancel()
	select {
	case code := <-e.done:
		return code
	case <-time.After(time.Minute):
		t.Error("the exporter did not stop within a minute")
		return -1
	}
}

// seriesSum adds up every series of a metric on a /metrics page.
func seriesSum(metrics, name string) float64 {
	var sum float64
	for _, m := range regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(name)+`(?:\{[^}]*\})? (\S+)$`).FindAllStringSubmatch(metrics, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		sum += v
	}
	return sum
}

// probedAtLeast tells whether n targets each have n or more probes on a
// /metrics page.
func probedAtLeast(metrics string, targets, n int) bool {
	m := regexp.MustCompile(`(?m)^http5xx_probes_total\{[^}]*\} (\S+)$`).FindAllStringSubmatch(metrics, -1)
	if len(m) < targets {
		return false
	}
	for _, s := range m {
		if v, _ := strconv.ParseFloat(s[1], 64); v < float64(n) {
			return false
		}
	}
	return true
}

// soakSample is the process's use of resources at one moment.
type soakSample struct {
	at         time.Duration
	goroutines int
	heap       uint64 // bytes in use after a GC
	fds        int
	probes     float64
}

func (s soakSample) String() string {
	return fmt.Sprintf("%5.1fs goroutines %4d heap %6.1f MiB fds %4d probes %6.0f",
		s.at.Seconds(), s.goroutines, float64(s.heap)/(1<<20), s.fds, s.probes)
}

// soakFloor is the smallest of each count over some samples: in-flight
// probes make every count swing, the steady part a leak raises is the floor.
type soakFloor struct {
	from, to   time.Duration
	goroutines int
	heap       uint64
	fds        int
}

func floor(samples []soakSample) soakFloor {
	f := soakFloor{from: samples[0].at, to: samples[len(samples)-1].at,
		goroutines: samples[0].goroutines, heap: samples[0].heap, fds: samples[0].fds}
	for _, s := range samples[1:] {
		f.goroutines, f.heap, f.fds = min(f.goroutines, s.goroutines), min(f.heap, s.heap), min(f.fds, s.fds)
	}
	return f
}

func (f soakFloor) String() string {
	return fmt.Sprintf("%.0f-%.0fs goroutines %d heap %.1f MiB fds %d", f.from.Seconds(), f.to.Seconds(), f.goroutines, float64(f.heap)/(1<<20), f.fds)
}

// TestHostileSoakBounds probes 40 healthy and hostile loopback targets
// (hangs, trickles, protocol switches, resets, garbage, huge headers,
// redirect loops, stalled TLS handshakes) every second, plus /probe
// requests as fast as two clients get answers, for about a minute (longer
// on a loaded machine: the warm-up and the measured span end on probe
// counts, not on the clock). After a warm-up the goroutines, the heap and
// the open descriptors stop growing:
// the floor of the last samples stays within a margin of the floor of the
// first ones (a leak of one goroutine or descriptor per probe adds about
// 40 a second). After the exporter stops, goroutines and descriptors are
// back at what they were before it started.
func TestHostileSoakBounds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	const (
		nTargets    = 40
		interval    = time.Second // the shortest the config accepts
		timeout     = 500 * time.Millisecond
		warmUp      = 12 * time.Second // at least; and every target probed history+1 times
		history     = 5
		measure     = 42 * time.Second // at least; and wantProbes scheduled probes
		wantProbes  = float64(nTargets*int(measure/interval)) / 2
		hangAfter   = 5 * time.Minute // a hang detector for the waits on counts
		sampleEvery = 3 * time.Second
		window      = 3 // samples in each floor
		probeFloods = 2 // clients of /probe
		maxFlood    = 20000
		// Margins on the floor's growth over the measured span, and on the
		// counts after the exporter stopped compared to before it started.
		goroutineSlack = 30
		fdSlack        = 15
		heapSlack      = 3 << 20
		afterSlackG    = 5 // signal.Notify's loop and other once-only goroutines
		afterSlackFD   = 2
	)
	targets := startSoakTargets(t, nTargets)
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, soakConfig(targets, interval, timeout))

	http.DefaultClient.CloseIdleConnections()
	settle()
	baseG, baseFD := runtime.NumGoroutine(), openFDs(t)
	t.Logf("before the exporter: goroutines %d fds %d", baseG, baseFD)

	e := startSoakExporter(t, "--config.file="+cfg, "--config.watch-interval=0", fmt.Sprintf("--status.history=%d", history))
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	metrics := func() string {
		_, body := codeAndBody(client.Get("http://" + e.addr + "/metrics"))
		return body
	}

	// /probe floods: bounded in count, and in time by the last sample.
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var floods sync.WaitGroup
	flooded := make([]int, probeFloods)
	for w := range probeFloods {
		floods.Add(1)
		go func() {
			defer floods.Done()
			for i := 0; i < maxFlood && ctx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+e.addr+"/probe?target="+targets[(i*probeFloods+w)%len(targets)].name, nil)
				codeAndBody(client.Do(req))
				flooded[w]++
			}
		}()
	}

	sample := func() soakSample {
		p := seriesSum(metrics(), "http5xx_probes_total")
		settle()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return soakSample{at: time.Since(start), goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc, fds: openFDs(t), probes: p}
	}
	time.Sleep(warmUp)
	for !probedAtLeast(metrics(), nTargets, history+1) {
		if time.Since(start) > hangAfter {
			t.Fatalf("not every target probed %d times after %v", history+1, hangAfter)
		}
		time.Sleep(time.Second)
	}
	var samples []soakSample
	for s := sample(); ; s = sample() {
		samples = append(samples, s)
		t.Logf("sample %s", s)
		span, done := s.at-samples[0].at, s.probes-samples[0].probes
		if (span >= measure-sampleEvery/2 && done >= wantProbes) || time.Since(start) > hangAfter {
			break
		}
		time.Sleep(sampleEvery)
	}
	cancel()
	floods.Wait()
	t.Logf("/probe requests: %v", flooded)

	first, last := floor(samples[:window]), floor(samples[len(samples)-window:])
	t.Logf("floor after the warm-up: %s", first)
	t.Logf("floor at the end:        %s", last)
	span := samples[len(samples)-1].at - samples[0].at
	if done := samples[len(samples)-1].probes - samples[0].probes; done < wantProbes {
		t.Errorf("%.0f scheduled probes in %v, want at least %.0f: the load did not run", done, span.Round(time.Second), wantProbes)
	}
	if last.goroutines > first.goroutines+goroutineSlack {
		t.Errorf("goroutines grew from %d to %d over %v (margin %d)", first.goroutines, last.goroutines, span.Round(time.Second), goroutineSlack)
	}
	if last.fds > first.fds+fdSlack {
		t.Errorf("open descriptors grew from %d to %d over %v (margin %d)", first.fds, last.fds, span.Round(time.Second), fdSlack)
	}
	if last.heap > first.heap+heapSlack {
		t.Errorf("heap grew from %.1f to %.1f MiB over %v (margin %d MiB)",
			float64(first.heap)/(1<<20), float64(last.heap)/(1<<20), span.Round(time.Second), heapSlack>>20)
	}

	// Stop the exporter: its goroutines and descriptors go with it.
	if code := e.stop(t); code != 0 {
		t.Errorf("the exporter exited %d, want 0", code)
	}
	client.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
	var g, fds int
	for deadline := time.Now().Add(time.Minute); ; { // a hang detector: the loop ends once back at the base
		settle()
		g, fds = runtime.NumGoroutine(), openFDs(t)
		if (g <= baseG+afterSlackG && fds <= baseFD+afterSlackFD) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("after the exporter stopped: goroutines %d fds %d", g, fds)
	if g > baseG+afterSlackG {
		var dump strings.Builder
		pprof.Lookup("goroutine").WriteTo(&dump, 1)
		t.Errorf("%d goroutines after the exporter stopped, %d before it started (margin %d):\n%.8000s", g, baseG, afterSlackG, dump.String())
	}
	if fds > baseFD+afterSlackFD {
		t.Errorf("%d open descriptors after the exporter stopped, %d before it started (margin %d)", fds, baseFD, afterSlackFD)
	}
}

// settle runs the garbage collector so the counts do not include what is
// only waiting to be collected (closed connections keep descriptors until
// their finalizers ran).
func settle() {
	runtime.GC()
	runtime.GC()
}
