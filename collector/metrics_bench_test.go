package collector

import (
	"fmt"
	"strconv"
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

// observeByLookup is the baseline: the same updates, finding each child by
// its label values on every probe, as an exporter without bound children does.
func observeByLookup(m *Metrics, c *triage.Finisher, r *probe.Result) {
	n, s := r.Target, "shop"
	m.probes.WithLabelValues(n, s).Inc()
	m.duration.WithLabelValues(n, s).Observe(r.Duration.Seconds())
	for p := contract.Phase(0); p < contract.NumPhases; p++ {
		if r.PhaseSeen[p] {
			m.phases.WithLabelValues(n, s, p.String()).Observe(r.Phases[p].Seconds())
		}
	}
	m.up.WithLabelValues(n, s).Set(0)
	m.lastCode.WithLabelValues(n, s).Set(float64(r.StatusCode))
	m.lastTS.WithLabelValues(n, s).Set(float64(r.Start.Unix()))
	m.retryAfter.WithLabelValues(n, s).Set(r.RetryAfter.Seconds())
	class, owner := c.Code(r.StatusCode)
	m.responses.WithLabelValues(n, s, strconv.Itoa(r.StatusCode), class, owner).Inc()
}

// BenchmarkObserve measures the metric update path of one probe result and
// reports its cost against the label-lookup baseline run in the same process.
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
	var bound, lookup float64
	b.Run("bound", func(b *testing.B) {
		m := newM()
		b.ReportAllocs()
		for b.Loop() {
			m.Observe(&r)
		}
		bound = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("baseline-lookup", func(b *testing.B) {
		m := newM()
		b.ReportAllocs()
		for b.Loop() {
			observeByLookup(m, c, &r)
		}
		lookup = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	if bound > 0 && lookup > 0 {
		fmt.Printf("BenchmarkObserve: bound children cost %.2fx the label-lookup baseline (%.0f ns vs %.0f ns per result)\n", bound/lookup, bound, lookup)
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
