package probe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkProbe compares one probe with the cheapest equivalent request: a
// plain http.Client GET with keep-alives off (a fresh connection each time,
// like the prober's default) against the same loopback server. Run both
// sub-benchmarks together: the prober one reports its ratio to the baseline
// as x-baseline (time) and x-baseline-cpu (CPU). The server runs in a child
// process, so allocations and CPU per op are the client's alone.
//
//	go test -run '^$' -bench 'Probe$' -benchmem ./collector/probe/
func BenchmarkProbe(b *testing.B) {
	url := benchOrigin(b)
	baseline := benchBaseline(b, url)
	b.Run("prober", func(b *testing.B) { benchProber(b, newProber(b, testTarget(url)), baseline) })
}

// benchCost is what one op of a sub-benchmark cost: wall time and the
// process's CPU (user and system), in ns.
type benchCost struct{ ns, cpu float64 }

// benchBaseline runs the baseline sub-benchmark, a plain http.Client GET
// with keep-alives off against url, and returns its cost per op for the
// ratios.
func benchBaseline(b *testing.B, url string) benchCost {
	var baseline benchCost
	b.Run("baseline", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		cpu0 := cpuTime()
		for b.Loop() {
			resp, err := client.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		baseline = reportCost(b, cpu0)
	})
	return baseline
}

// benchProber probes with p until the benchmark is done and reports its
// cost per probe as x-baseline and x-baseline-cpu when the baseline ran.
func benchProber(b *testing.B, p *Prober, baseline benchCost) {
	// A parent that can be cancelled, as the scheduler's job context.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if res := p.Probe(ctx); !res.Success {
			b.Fatalf("probe failed: %d %v", res.StatusCode, res.Err)
		}
	}
	c := reportCost(b, cpu0)
	if baseline.ns > 0 && baseline.cpu > 0 {
		b.ReportMetric(c.ns/baseline.ns, "x-baseline")
		b.ReportMetric(c.cpu/baseline.cpu, "x-baseline-cpu")
	}
}

// reportCost reports the CPU per op since cpu0 as cpu-ns/op and returns the
// cost per op.
func reportCost(b *testing.B, cpu0 time.Duration) benchCost {
	c := benchCost{
		ns:  float64(b.Elapsed().Nanoseconds()) / float64(b.N),
		cpu: float64(cpuTime()-cpu0) / float64(b.N),
	}
	b.ReportMetric(c.cpu, "cpu-ns/op")
	return c
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchOriginEnv makes TestBenchOrigin serve rather than skip.
const benchOriginEnv = "HTTP5XX_BENCH_ORIGIN"

// TestBenchOrigin is the benchmarks' origin when benchOrigin runs this test
// binary as a child process: it answers "ok\n" on a loopback port, prints
// the port's URL and serves until its stdin closes.
func TestBenchOrigin(t *testing.T) {
	if os.Getenv(benchOriginEnv) == "" {
		t.Skip("the benchmarks' origin; benchOrigin runs it in a child process")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin) // until the benchmark ends, or dies
	srv.Close()
}

// benchOrigin starts the loopback origin of a benchmark in a child process
// (TestBenchOrigin) and returns its URL; it stops when the benchmark ends.
// Out of the process, the server's allocations and CPU are not counted as
// the client's.
func benchOrigin(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchOrigin$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), benchOriginEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url := strings.TrimSpace(line)
	if err != nil || !strings.HasPrefix(url, "http://") {
		b.Fatalf("benchmark origin: %q, %v", line, err)
	}
	go io.Copy(io.Discard, stdout) // what the child's test run prints after
	return url
}
