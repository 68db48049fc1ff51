package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/status"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// scaleTargets is the fleet of the scale benchmarks: 10,000 targets, the
// size the README's Performance table measures.
const scaleTargets = 10_000

func scaleFleet(n int) []*config.Target {
	ts := make([]*config.Target, n)
	for i := range ts {
		t := config.NewTarget(fmt.Sprintf("t%d", i), fmt.Sprintf("http://127.0.0.1:8080/t%d", i))
		ts[i] = &t
	}
	return ts
}

// scaleResult is a probe of a loopback origin as the benchmark sees them:
// around a millisecond, jittered, so every histogram fills several buckets;
// one in fifty a 503, one in a hundred refused.
func scaleResult(rnd *rand.Rand, t *config.Target, f *triage.Finisher, at time.Time) probe.Result {
	r := probe.Result{Target: t.Name, Start: at, StatusCode: 200, Success: true}
	base := time.Duration(300+rnd.IntN(2000)) * time.Microsecond
	phases := [contract.NumPhases]time.Duration{base / 20, base / 10, 0, base / 2, base / 10}
	for p, d := range phases {
		if p != int(contract.PhaseTLS) {
			r.Phases[p], r.PhaseSeen[p] = d, true
			r.Duration += d
		}
	}
	switch n := rnd.IntN(100); {
	case n == 0:
		r.StatusCode, r.Success, r.Reason = 0, false, contract.ReasonConnectRefused
		r.Err = fmt.Errorf("dial tcp 127.0.0.1:8080: connect: connection refused")
		r.Class, r.Owner = f.Reason(r.Reason)
	case n < 3:
		r.StatusCode, r.Success = 503, false
	}
	if r.Reason == contract.ReasonNone {
		r.Class, r.Owner = f.Code(r.StatusCode)
	}
	return r
}

var heapProfile = flag.String("heapprofile", "", "BenchmarkTargetMemory writes the heap `prefix`-metrics.prof and prefix-history.prof while the fleet is alive")

// writeHeapProfile writes the heap profile of what is alive now when
// -heapprofile is set.
func writeHeapProfile(b *testing.B, name string) {
	if *heapProfile == "" {
		return
	}
	f, err := os.Create(*heapProfile + "-" + name + ".prof")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// exactHeapProfile samples every allocation from now on when -heapprofile
// is set, so a profile's bytes are the heap's, not an estimate.
func exactHeapProfile() {
	if *heapProfile != "" {
		runtime.MemProfileRate = 1
	}
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// fullHistory yields DefaultHistory results of every target of ts, every
// answer with the connection a real probe has: what fills the metrics and
// a status history.
func fullHistory(ts []*config.Target, f *triage.Finisher, yield func(t *config.Target, r *probe.Result)) {
	rnd := rand.New(rand.NewPCG(1, 2))
	at := time.Unix(1_700_000_000, 0)
	for i := range status.DefaultHistory {
		for _, t := range ts {
			r := scaleResult(rnd, t, f, at.Add(time.Duration(i)*15*time.Second))
			if r.Reason == contract.ReasonNone {
				r.Conn.Protocol, r.Conn.IPFamily = contract.ProtocolOf(1, 1), contract.FamilyIP4
			}
			yield(t, &r)
		}
	}
}

// BenchmarkTargetMemory reports the heap one target takes in the metrics
// and in the status history once the history is full, at 10,000 targets:
// the figures of the README's memory budget.
func BenchmarkTargetMemory(b *testing.B) {
	exactHeapProfile()
	f := triage.Default()
	ts := scaleFleet(scaleTargets)
	results := func(yield func(t *config.Target, r *probe.Result)) { fullHistory(ts, f, yield) }
	b.Run("metrics", func(b *testing.B) {
		for b.Loop() {
			before := heapInUse()
			m := NewMetrics(MetricsOptions{Buckets: goldenBuckets})
			if err := m.Register(prometheus.NewRegistry()); err != nil {
				b.Fatal(err)
			}
			m.SetTargets(ts, f, true)
			results(func(_ *config.Target, r *probe.Result) { m.Observe(r) })
			b.ReportMetric(float64(heapInUse()-before)/scaleTargets, "bytes/target")
			writeHeapProfile(b, "metrics")
			runtime.KeepAlive(m)
		}
	})
	b.Run("history", func(b *testing.B) {
		for b.Loop() {
			before := heapInUse()
			s := status.NewStore(status.DefaultHistory)
			s.SetTargets(ts)
			results(func(t *config.Target, r *probe.Result) { s.Observe(t, r) })
			b.ReportMetric(float64(heapInUse()-before)/scaleTargets, "bytes/target")
			writeHeapProfile(b, "history")
			runtime.KeepAlive(s)
		}
	})
}

// BenchmarkExposition is one scrape of the probe-path series of 10,000
// targets as text and as protobuf: gathered by the registry and encoded
// (text, protobuf: promhttp's path), streamed from the records in chunks
// of dto objects through expfmt's encoders (-chunks: the stream before the
// direct writers), and written straight from the records (-stream:
// /metrics); then the stream through gzip at the default level and at
// BestSpeed (-gzip, -gzip-fast, compressed bytes/scrape). The streamed
// paths are measured after one scrape: their writers keep their memory
// from one scrape to the next.
func BenchmarkExposition(b *testing.B) { benchmarkExposition(b, scaleTargets, true) }

// BenchmarkExpositionLarge is BenchmarkExposition's streamed paths at
// 50,000 targets.
func BenchmarkExpositionLarge(b *testing.B) { benchmarkExposition(b, 5*scaleTargets, false) }

func benchmarkExposition(b *testing.B, n int, before bool) {
	f := triage.Default()
	ts := scaleFleet(n)
	reg := prometheus.NewRegistry()
	m := NewMetrics(MetricsOptions{Buckets: goldenBuckets})
	if err := m.Register(reg); err != nil {
		b.Fatal(err)
	}
	m.SetTargets(ts, f, true)
	rnd := rand.New(rand.NewPCG(1, 2))
	at := time.Unix(1_700_000_000, 0)
	for i := range 20 {
		for _, t := range ts {
			r := scaleResult(rnd, t, f, at.Add(time.Duration(i)*15*time.Second))
			m.Observe(&r)
		}
	}
	stream := func(w io.Writer, format expfmt.Format, direct bool) {
		mfs, err := m.gatherRest(reg)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.series.streamWith(w, format, mfs, direct); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range []string{"text", "protobuf"} {
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		if name == "protobuf" {
			format = expfmt.NewFormat(expfmt.TypeProtoDelim)
		}
		if before {
			// The registry path: every series gathered as dto objects, then encoded.
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				var buf countingWriter
				defer reportCPU(b, cpuTime())
				for b.Loop() {
					buf = 0
					mfs, err := reg.Gather()
					if err != nil {
						b.Fatal(err)
					}
					enc := expfmt.NewEncoder(&buf, format)
					for _, mf := range mfs {
						if err := enc.Encode(mf); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(buf), "bytes/scrape")
			})
			b.Run(name+"-chunks", func(b *testing.B) {
				b.ReportAllocs()
				var buf countingWriter
				stream(&buf, format, false) // warm-up: the writers keep their memory
				defer reportCPU(b, cpuTime())
				for b.Loop() {
					buf = 0
					stream(&buf, format, false)
				}
				b.ReportMetric(float64(buf), "bytes/scrape")
			})
		}
		b.Run(name+"-stream", func(b *testing.B) {
			b.ReportAllocs()
			var buf countingWriter
			stream(&buf, format, true)
			defer reportCPU(b, cpuTime())
			for b.Loop() {
				buf = 0
				stream(&buf, format, true)
			}
			b.ReportMetric(float64(buf), "bytes/scrape")
		})
		for _, level := range []struct {
			name  string
			level int
		}{{"-gzip", gzip.DefaultCompression}, {"-gzip-fast", gzip.BestSpeed}} {
			b.Run(name+"-stream"+level.name, func(b *testing.B) {
				b.ReportAllocs()
				var buf countingWriter
				z, err := gzip.NewWriterLevel(&buf, level.level)
				if err != nil {
					b.Fatal(err)
				}
				bw := bufio.NewWriterSize(z, 64<<10)
				stream(io.Discard, format, true)
				defer reportCPU(b, cpuTime())
				for b.Loop() {
					buf = 0
					z.Reset(&buf)
					bw.Reset(z)
					stream(bw, format, true)
					if err := bw.Flush(); err != nil {
						b.Fatal(err)
					}
					if err := z.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(buf), "bytes/scrape")
			})
		}
	}
}

// reportCPU reports the process's CPU (user and system: the scrape and
// the garbage collection it causes) per op since cpu0 as cpu-ms/op, which
// a loaded machine changes less than the time per op.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countingWriter counts what a scrape writes, so the benchmark's own
// buffer does not count in its allocations.
type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// BenchmarkExporterMemory reports the heap of an exporter of 10,000
// targets, every target at a 24h interval, with a status store as its
// sink: config-bytes/target the loaded configuration, applied-bytes/target
// the exporter applying it before any probe (configuration, probers,
// schedule, metrics and the status rings, allocated whole), and
// full-bytes/target the same once every target's history is full
// (DefaultHistory results each, through the exporter's record): the live
// heap a target costs.
func BenchmarkExporterMemory(b *testing.B) {
	exactHeapProfile()
	var body bytes.Buffer
	body.WriteString("global:\n  interval: 24h\n  timeout: 5s\ntargets:\n")
	for i := range scaleTargets {
		fmt.Fprintf(&body, "  - name: t%d\n    url: http://127.0.0.1:9/t%d\n", i, i)
	}
	path := b.TempDir() + "/http5xx.yml"
	if err := os.WriteFile(path, body.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	perTarget := func(since uint64) float64 { return float64(heapInUse()-since) / scaleTargets }
	for b.Loop() {
		before := heapInUse()
		cfg, err := config.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(perTarget(before), "config-bytes/target")
		store := status.NewStore(status.DefaultHistory)
		reg := prometheus.NewRegistry()
		e, err := New(Options{Registerer: reg, Sinks: []Sink{store}, Followers: []TargetSetter{store}}, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(perTarget(before), "applied-bytes/target")
		writeHeapProfile(b, "exporter")
		ts := make([]*config.Target, len(cfg.Targets))
		for i := range ts {
			ts[i] = &cfg.Targets[i]
		}
		fullHistory(ts, e.finisher, func(t *config.Target, r *probe.Result) { e.record(e.targets[t.Name], r) })
		b.ReportMetric(perTarget(before), "full-bytes/target")
		writeHeapProfile(b, "exporter-full")
		// What scrapes leave behind until the next one: a text and a
		// protobuf scrape, gzipped, as Prometheus makes them.
		h := e.Metrics().MetricsHandler(reg, streamOpts)
		for _, accept := range []string{streamAccepts["text"], streamAccepts["protobuf"]} {
			scrape(b, h, accept, true)
		}
		b.ReportMetric(perTarget(before), "scraped-bytes/target")
		e.Stop()
	}
}
