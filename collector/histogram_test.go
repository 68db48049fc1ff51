package collector

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// TestHistMatchesClientGolang: a hist writes what a client_golang histogram
// with the same classic buckets and native settings writes for the same
// observations, native buckets and resolution changes included.
func TestHistMatchesClientGolang(t *testing.T) {
	tests := []struct {
		name    string
		buckets []float64
		value   func(r *rand.Rand) float64
	}{
		{"loopback", goldenBuckets, func(r *rand.Rand) float64 { return 0.0003 + r.Float64()*0.002 }},
		{"steady 50ms", goldenBuckets, func(r *rand.Rand) float64 { return 0.050 + r.Float64()*0.0005 }},
		{"native only", nil, func(r *rand.Rand) float64 { return r.ExpFloat64() / 10 }},
		{"zeros and exact bounds", goldenBuckets, func(r *rand.Rand) float64 { return []float64{0, 0.05, 0.1, 1, 10, 0.5}[r.IntN(6)] }},
		// 1 µs to 60 s: far more than 100 buckets, so the resolution halves.
		{"wide", goldenBuckets, func(r *rand.Rand) float64 { return math.Pow(10, -6+r.Float64()*7.8) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := prometheus.NewHistogram(prometheus.HistogramOpts{
				Name: "h", Help: "h", Buckets: tt.buckets,
				NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: nativeMaxBuckets,
				NativeHistogramMinResetDuration: nativeMinReset,
			})
			if tt.buckets == nil {
				// client_golang's default classic buckets come with nil; a
				// native-only histogram is asked for with none at all.
				ref = prometheus.NewHistogram(prometheus.HistogramOpts{
					Name: "h", Help: "h", Buckets: []float64{},
					NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: nativeMaxBuckets,
					NativeHistogramMinResetDuration: nativeMinReset,
				})
			}
			now := time.Now()
			h := newHist(len(tt.buckets), true, now)
			rnd := rand.New(rand.NewPCG(7, 8))
			for i := range 5000 {
				v := tt.value(rnd)
				ref.Observe(v)
				h.observe(v, tt.buckets, now)
				if i%1000 == 999 {
					compareHist(t, ref, &h, tt.buckets)
				}
			}
			if wide := tt.name == "wide"; wide != (h.schema < nativeSchema) {
				t.Errorf("schema %d after 5000 observations", h.schema)
			}
		})
	}
}

func compareHist(t *testing.T, ref prometheus.Histogram, h *hist, buckets []float64) {
	t.Helper()
	var want, got dto.Metric
	if err := ref.Write(&want); err != nil {
		t.Fatal(err)
	}
	h.write(&got, buckets, nil)
	want.Histogram.CreatedTimestamp, got.Histogram.CreatedTimestamp = nil, nil
	if len(want.Histogram.Bucket) == 0 {
		want.Histogram.Bucket = got.Histogram.Bucket[:0] // nil versus empty
	}
	if !proto.Equal(want.Histogram, got.Histogram) {
		t.Fatalf("hist wrote\n%v\nclient_golang wrote\n%v", got.Histogram, want.Histogram)
	}
}

// TestSeriesMatchClientGolangChildren: the fixed series of the golden
// results gathered from the target records are, in protobuf, what the
// former client_golang children wrote (created timestamps aside).
func TestSeriesMatchClientGolangChildren(t *testing.T) {
	reg, m := newGoldenRegistry(t, "eu")
	old := newChildVecs("eu", goldenBuckets)
	oldReg := prometheus.NewRegistry()
	old.register(oldReg)
	bound := map[string]*children{}
	for _, tg := range goldenTargets() {
		bound[tg.Name] = old.bind(tg.Name, tg.Service)
	}
	for _, r := range goldenResults() {
		r.Class, r.Owner = m.classifier.Code(r.StatusCode)
		m.Observe(&r)
		bound[r.Target].observe(&r)
	}
	want := map[string]*dto.MetricFamily{}
	for _, mf := range gather(t, oldReg) {
		want[mf.GetName()] = mf
	}
	n := 0
	for _, mf := range gather(t, reg) {
		w := want[mf.GetName()]
		if w == nil {
			continue
		}
		n++
		for _, f := range []*dto.MetricFamily{w, mf} {
			for _, mt := range f.GetMetric() {
				if mt.Counter != nil {
					mt.Counter.CreatedTimestamp = nil
				}
				if mt.Histogram != nil {
					mt.Histogram.CreatedTimestamp = nil
				}
			}
		}
		if !proto.Equal(w, mf) {
			t.Errorf("%s differs:\nrecords %v\nchildren %v", mf.GetName(), mf, w)
		}
	}
	if n != 7 {
		t.Errorf("%d of the 7 fixed families compared", n)
	}
}

// TestNoPhaseHistograms: the switch drops the phase histograms and nothing
// else.
func TestNoPhaseHistograms(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(MetricsOptions{Buckets: goldenBuckets, NoPhaseHistograms: true})
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	m.SetTargets(goldenTargets(), triage.Default(), true)
	r := probe.Result{Target: "shop", Duration: time.Second, StatusCode: 200, Success: true}
	r.PhaseSeen[contract.PhaseConnect] = true
	m.Observe(&r)
	names := map[string]bool{}
	for _, mf := range gather(t, reg) {
		names[mf.GetName()] = true
	}
	if names[contract.PhaseDuration.Name] {
		t.Errorf("%s is exported with the phase histograms off", contract.PhaseDuration.Name)
	}
	if !names[contract.RequestDuration.Name] || !names[contract.ProbesTotal.Name] {
		t.Errorf("the other series are gone too: %v", names)
	}
}

// TestResultGathererFollowsThePhaseSwitch: /probe's answer holds the
// target's series from the records, phases included only when they are on.
func TestResultGathererFollowsThePhaseSwitch(t *testing.T) {
	tg := goldenTargets()[0]
	r := probe.Result{Target: tg.Name, Duration: time.Second, StatusCode: 200, Success: true, Verdict: triage.Verdict{Class: "2xx"}}
	r.PhaseSeen[contract.PhaseConnect] = true
	for _, off := range []bool{false, true} {
		g, err := ResultGatherer(MetricsOptions{Buckets: goldenBuckets, NoPhaseHistograms: off}, tg, triage.Default(), &r)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, mf := range gather(t, g) {
			names[mf.GetName()] = true
		}
		for _, c := range []contract.Metric{contract.ProbesTotal, contract.ResponsesTotal, contract.RequestDuration, contract.TargetUp} {
			if !names[c.Name] {
				t.Errorf("phases off %v: %s missing from the result's series", off, c.Name)
			}
		}
		if names[contract.PhaseDuration.Name] == off {
			t.Errorf("phases off %v: %s exported %v", off, contract.PhaseDuration.Name, !off)
		}
	}
}
