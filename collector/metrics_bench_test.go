package collector

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

func benchResult() probe.Result {
	r := probe.Result{Target: "shop", Start: time.Unix(1, 0), Duration: 120 * time.Millisecond, StatusCode: 503,
		RetryAfter: 30 * time.Second, Verdict: triage.Verdict{Class: "capacity", Owner: "sre-oncall"}}
	for p := contract.Phase(0); p < contract.NumPhases; p++ {
		r.Phases[p], r.PhaseSeen[p] = time.Duration(p+1)*time.Millisecond, true
	}
	return r
}

// children is the former metric path, the baseline of the benchmarks: a
// client_golang child per fixed series and target (counters, gauges,
// histograms with classic and native buckets), bound once.
type children struct {
	probes                       prometheus.Counter
	duration                     prometheus.Observer
	phases                       [contract.NumPhases]prometheus.Observer
	up, lastCode, lastTS, retryA prometheus.Gauge
}

type childVecs struct {
	probes                       *prometheus.CounterVec
	duration, phases             *prometheus.HistogramVec
	up, lastCode, lastTS, retryA *prometheus.GaugeVec
}

func newChildVecs(location string, buckets []float64) *childVecs {
	cl := prometheus.Labels{contract.LabelLocation: location}
	hist := func(c contract.Metric, b []float64) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: c.Name, Help: c.Help, ConstLabels: cl, Buckets: b,
			NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: nativeMaxBuckets,
			NativeHistogramMinResetDuration: nativeMinReset,
		}, labelNames(c))
	}
	gauge := func(c contract.Metric) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: c.Name, Help: c.Help, ConstLabels: cl}, labelNames(c))
	}
	return &childVecs{
		probes:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: contract.ProbesTotal.Name, Help: contract.ProbesTotal.Help, ConstLabels: cl}, labelNames(contract.ProbesTotal)),
		duration: hist(contract.RequestDuration, buckets), phases: hist(contract.PhaseDuration, nil),
		up: gauge(contract.TargetUp), lastCode: gauge(contract.LastStatusCode), lastTS: gauge(contract.LastProbeTimestamp), retryA: gauge(contract.RetryAfter),
	}
}

func (v *childVecs) register(reg prometheus.Registerer) {
	reg.MustRegister(v.probes, v.duration, v.phases, v.up, v.lastCode, v.lastTS, v.retryA)
}

func (v *childVecs) bind(name, service string) *children {
	c := &children{
		probes: v.probes.WithLabelValues(name, service), duration: v.duration.WithLabelValues(name, service),
		up: v.up.WithLabelValues(name, service), lastCode: v.lastCode.WithLabelValues(name, service),
		lastTS: v.lastTS.WithLabelValues(name, service), retryA: v.retryA.WithLabelValues(name, service),
	}
	for p := contract.Phase(0); p < contract.NumPhases; p++ {
		c.phases[p] = v.phases.WithLabelValues(name, service, p.String())
	}
	return c
}

func (c *children) observe(r *probe.Result) {
	c.probes.Inc()
	c.duration.Observe(r.Duration.Seconds())
	for p := contract.Phase(0); p < contract.NumPhases; p++ {
		if r.PhaseSeen[p] {
			c.phases[p].Observe(r.Phases[p].Seconds())
		}
	}
	c.up.Set(0)
	if r.Success {
		c.up.Set(1)
	}
	c.lastCode.Set(float64(r.StatusCode))
	c.lastTS.Set(float64(r.Start.Add(r.Duration).UnixNano()) / 1e9)
	c.retryA.Set(r.RetryAfter.Seconds())
}

// BenchmarkObserve measures the metric update path of one probe result and
// reports its cost against the client_golang children baseline run in the
// same process (the fixed series only: the code and reason children are
// the same in both).
func BenchmarkObserve(b *testing.B) {
	c := triage.Default()
	newM := func() *Metrics {
		m := NewMetrics(MetricsOptions{Location: "eu", Buckets: goldenBuckets})
		if err := m.Register(prometheus.NewRegistry()); err != nil {
			b.Fatal(err)
		}
		m.SetTargets(goldenTargets(), c, true)
		return m
	}
	r := benchResult()
	var records, baseline float64
	b.Run("records", func(b *testing.B) {
		m := newM()
		b.ReportAllocs()
		for b.Loop() {
			m.Observe(&r)
		}
		records = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("baseline-children", func(b *testing.B) {
		v := newChildVecs("eu", goldenBuckets)
		v.register(prometheus.NewRegistry())
		ch := v.bind("shop", "shop")
		code := prometheus.NewCounterVec(prometheus.CounterOpts{Name: contract.ResponsesTotal.Name, Help: contract.ResponsesTotal.Help},
			labelNames(contract.ResponsesTotal)).WithLabelValues("shop", "shop", "503", r.Class, r.Owner)
		b.ReportAllocs()
		for b.Loop() {
			ch.observe(&r)
			code.Inc()
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	if records > 0 && baseline > 0 {
		fmt.Printf("BenchmarkObserve: target records cost %.2fx the client_golang children (%.0f ns vs %.0f ns per result)\n", records/baseline, records, baseline)
	}
}

func TestObserveAllocatesNothing(t *testing.T) {
	m := NewMetrics(MetricsOptions{Buckets: goldenBuckets})
	m.SetTargets(goldenTargets(), triage.Default(), true)
	r := benchResult()
	r.Conn = goldenTLSConn(r.Start) // the connection and certificate series too
	m.Observe(&r)                   // binds the lazily created children
	if n := testing.AllocsPerRun(100, func() { m.Observe(&r) }); n != 0 {
		t.Errorf("Observe allocates %.1f times per result, want 0", n)
	}
}
