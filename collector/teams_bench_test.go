package collector

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/status"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// BenchmarkTeamsMemory is BenchmarkTargetMemory's fleet twice, in the same
// run: as it is, and with a team of its own on every target for the two
// classes its failures have (capacity, gateway), the worst case of owners:.
// It reports the heap per target with teams and the ratio to the fleet
// without, for the metrics and for the status history.
func BenchmarkTeamsMemory(b *testing.B) {
	f := triage.Default()
	plain := scaleFleet(scaleTargets)
	teamed := scaleFleet(scaleTargets)
	for i, t := range teamed {
		team := fmt.Sprintf("team-%d", i)
		t.Teams = []config.ClassTeam{{Class: "gateway", Team: team, DefaultOwner: "app-infra"}, {Class: "capacity", Team: team, DefaultOwner: "sre-oncall"}}
	}
	results := func(ts []*config.Target, yield func(t *config.Target, r *probe.Result)) {
		rnd := rand.New(rand.NewPCG(1, 2))
		at := time.Unix(1_700_000_000, 0)
		views := make([]*triage.Finisher, len(ts))
		for i, t := range ts {
			views[i] = f.ForTarget(t)
		}
		for i := range status.DefaultHistory {
			for j, t := range ts {
				r := scaleResult(rnd, t, views[j], at.Add(time.Duration(i)*15*time.Second))
				yield(t, &r)
			}
		}
	}
	metrics := func(b *testing.B, ts []*config.Target) float64 {
		before := heapInUse()
		m := NewMetrics(MetricsOptions{Buckets: goldenBuckets})
		if err := m.Register(prometheus.NewRegistry()); err != nil {
			b.Fatal(err)
		}
		m.SetTargets(ts, f, true)
		results(ts, func(_ *config.Target, r *probe.Result) { m.Observe(r) })
		n := float64(heapInUse()-before) / scaleTargets
		runtime.KeepAlive(m)
		return n
	}
	history := func(b *testing.B, ts []*config.Target) float64 {
		before := heapInUse()
		s := status.NewStore(status.DefaultHistory)
		s.SetTargets(ts)
		results(ts, func(t *config.Target, r *probe.Result) { s.Observe(t, r) })
		n := float64(heapInUse()-before) / scaleTargets
		runtime.KeepAlive(s)
		return n
	}
	for _, c := range []struct {
		name    string
		measure func(*testing.B, []*config.Target) float64
	}{{"metrics", metrics}, {"history", history}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				base := c.measure(b, plain)
				with := c.measure(b, teamed)
				b.ReportMetric(with, "bytes/target")
				b.ReportMetric(with/base, "x_without_teams")
			}
		})
	}
}
