package status

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func targets(names ...string) []*config.Target {
	ts := make([]*config.Target, len(names))
	for i, n := range names {
		t := config.NewTarget(n, "http://origin.test/"+n)
		ts[i] = &t
	}
	return ts
}

func result(name string, at time.Duration, d time.Duration, code int) *probe.Result {
	return &probe.Result{Target: name, Start: t0.Add(at), Duration: d, StatusCode: code, Success: code < 400}
}

func codes(s Snapshot) []int {
	var cs []int
	for _, smp := range s.History {
		cs = append(cs, smp.StatusCode)
	}
	return cs
}

func TestStoreRingKeepsTheNewestFirst(t *testing.T) {
	tests := []struct {
		size, observed int
		want           []int
	}{
		{size: 3, observed: 0, want: nil},
		{size: 3, observed: 1, want: []int{201}},
		{size: 3, observed: 3, want: []int{203, 202, 201}},
		{size: 3, observed: 4, want: []int{204, 203, 202}},
		{size: 3, observed: 7, want: []int{207, 206, 205}},
		{size: 1, observed: 5, want: []int{205}},
		{size: 20, observed: 12, want: []int{212, 211, 210, 209, 208, 207, 206, 205, 204, 203, 202, 201}},
	}
	for _, tt := range tests {
		s := NewStore(tt.size)
		ts := targets("a")
		s.SetTargets(ts)
		for i := 1; i <= tt.observed; i++ {
			s.Observe(ts[0], result("a", time.Duration(i)*time.Second, time.Millisecond, 200+i))
		}
		snap, ok := s.Snapshot("a")
		if !ok {
			t.Fatal("target a is not in the store")
		}
		if got := codes(snap); !equalInts(got, tt.want) {
			t.Errorf("size %d after %d probes: history %v, want %v", tt.size, tt.observed, got, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStoreFollowsTheConfiguredTargets(t *testing.T) {
	s := NewStore(0)
	ts := targets("a", "b", "c")
	s.SetTargets(ts)
	for _, tg := range ts {
		s.Observe(tg, result(tg.Name, 0, time.Millisecond, 200))
	}

	// b goes, c changes its URL, a keeps its probes, d is new, and the order
	// follows the configuration.
	next := targets("d", "c", "a")
	next[1].URL = "http://origin.test/moved"
	s.SetTargets(next)
	s.Observe(ts[1], result("b", time.Second, time.Millisecond, 500)) // a probe racing the reload

	var names []string
	for _, snap := range s.Snapshots(time.Time{}) {
		names = append(names, snap.Info.Name)
	}
	if want := []string{"d", "c", "a"}; len(names) != 3 || names[0] != want[0] || names[1] != want[1] || names[2] != want[2] {
		t.Errorf("targets %v, want %v", names, want)
	}
	if _, ok := s.Snapshot("b"); ok {
		t.Error("removed target b is still in the store")
	}
	for name, want := range map[string]int{"a": 1, "c": 0, "d": 0} {
		snap, _ := s.Snapshot(name)
		if len(snap.History) != want {
			t.Errorf("%s keeps %d probes, want %d", name, len(snap.History), want)
		}
	}
	if snap, _ := s.Snapshot("c"); snap.Info.URL != "http://origin.test/moved" {
		t.Errorf("c's URL = %q, want the new one", snap.Info.URL)
	}
}

func TestWindowPercentilesAndFailures(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name          string
		durations     []time.Duration // one probe a second, oldest first
		failed        []int           // indexes of failed probes
		age           time.Duration   // now minus the end of the newest probe
		probes, fails int
		p50, p99      time.Duration
	}{
		{name: "none", probes: 0},
		{name: "one", durations: []time.Duration{7 * ms}, probes: 1, p50: 7 * ms, p99: 7 * ms},
		{name: "two", durations: []time.Duration{9 * ms, 1 * ms}, probes: 2, p50: 1 * ms, p99: 9 * ms},
		{name: "ten", durations: []time.Duration{10 * ms, 1 * ms, 9 * ms, 2 * ms, 8 * ms, 3 * ms, 7 * ms, 4 * ms, 6 * ms, 5 * ms},
			failed: []int{0, 9}, probes: 10, fails: 2, p50: 5 * ms, p99: 10 * ms},
		{name: "one slow probe in 101 stays out of p99", durations: append(repeat(100, 2*ms), 3*time.Second),
			probes: 101, p50: 2 * ms, p99: 2 * ms},
		{name: "two slow outliers in a hundred", durations: append(repeat(98, 2*ms), 3*time.Second, 3*time.Second),
			probes: 100, p50: 2 * ms, p99: 3 * time.Second},
		{name: "all older than the window", durations: []time.Duration{5 * ms, 5 * ms}, failed: []int{1},
			age: LatencyWindow + time.Second, probes: 0},
	}
	for _, tt := range tests {
		s := NewStore(200)
		ts := targets("a")
		s.SetTargets(ts)
		var end time.Time
		for i, d := range tt.durations {
			r := result("a", time.Duration(i)*time.Second, d, 200)
			for _, f := range tt.failed {
				if f == i {
					r.StatusCode, r.Success = 502, false
				}
			}
			s.Observe(ts[0], r)
			end = r.Start.Add(r.Duration)
		}
		snap, _ := s.Snapshot("a")
		w := snap.Window(end.Add(tt.age))
		if w.Probes != tt.probes || w.Failures != tt.fails || w.P50 != tt.p50 || w.P99 != tt.p99 {
			t.Errorf("%s: window %+v, want probes %d failures %d p50 %v p99 %v", tt.name, w, tt.probes, tt.fails, tt.p50, tt.p99)
		}
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		ds[i] = d
	}
	return ds
}

func TestSnapshotsSinceKeepsTheNewestProbe(t *testing.T) {
	s := NewStore(10)
	ts := targets("a")
	s.SetTargets(ts)
	for i := range 5 {
		s.Observe(ts[0], result("a", time.Duration(i)*time.Minute, time.Second, 200+i))
	}
	for _, tt := range []struct {
		since time.Duration
		want  []int
	}{
		{since: -time.Hour, want: []int{204, 203, 202, 201, 200}},
		{since: 2 * time.Minute, want: []int{204, 203, 202}},
		{since: 2*time.Minute + time.Second, want: []int{204, 203, 202}}, // 202 ended at 2m1s
		{since: 2*time.Minute + 2*time.Second, want: []int{204, 203}},
		{since: time.Hour, want: []int{204}},
	} {
		if got := codes(s.Snapshots(t0.Add(tt.since))[0]); !equalInts(got, tt.want) {
			t.Errorf("since %v: %v, want %v", tt.since, got, tt.want)
		}
	}
}

func TestWindowLeavesOutProbesOlderThanFiveMinutes(t *testing.T) {
	s := NewStore(10)
	ts := targets("a")
	s.SetTargets(ts)
	s.Observe(ts[0], &probe.Result{Start: t0, Duration: time.Second, StatusCode: 502})
	s.Observe(ts[0], &probe.Result{Start: t0.Add(10 * time.Minute), Duration: 5 * time.Millisecond, StatusCode: 200, Success: true})
	snap, _ := s.Snapshot("a")
	w := snap.Window(t0.Add(10 * time.Minute))
	if w.Probes != 1 || w.Failures != 0 || w.P99 != 5*time.Millisecond {
		t.Errorf("window %+v, want only the recent probe", w)
	}
	if got := state(snap.Last(), w, nil); got != StateUp {
		t.Errorf("state %q, want up: the failure is older than the window", got)
	}
}

func TestObserveDoesNotAllocateOnceTheRingIsFull(t *testing.T) {
	s := NewStore(4)
	ts := targets("a")
	s.SetTargets(ts)
	r := result("a", 0, time.Millisecond, 503)
	r.Err, r.Class, r.Owner = errors.New("boom"), "capacity", "sre-oncall"
	for range 4 {
		s.Observe(ts[0], r)
	}
	if n := testing.AllocsPerRun(100, func() { s.Observe(ts[0], r) }); n != 0 {
		t.Errorf("Observe allocates %v times per call, want 0", n)
	}
}

// TestStoreConcurrentUse is for the race detector: probes, reloads and
// readers at once.
func TestStoreConcurrentUse(t *testing.T) {
	s := NewStore(8)
	ts := targets("a", "b")
	s.SetTargets(ts)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				tg := ts[(w+i)%2]
				s.Observe(tg, result(tg.Name, time.Duration(i)*time.Millisecond, time.Millisecond, 200))
				if i%50 == 0 {
					s.SetTargets(ts[:1+i%2])
				}
				for _, snap := range s.Snapshots(t0) {
					_ = snap.Window(t0)
				}
			}
		}()
	}
	wg.Wait()
}

func TestTargetBytesIsTheDocumentedFigure(t *testing.T) {
	// collector/status/README.md quotes these for 64-bit platforms.
	if RecordBytes != 48 || TargetBytes(DefaultHistory) != 48*120+4*256+424 {
		t.Errorf("RecordBytes %d, TargetBytes(%d) %d: update collector/status/README.md", RecordBytes, DefaultHistory, TargetBytes(DefaultHistory))
	}
}

// Targets that name their own teams keep them in their history, and share
// the verdict table's entries with every other target: the table does not
// grow with the number of teams.
func TestTeamsShareTheVerdictTable(t *testing.T) {
	s := NewStore(4)
	const n = 200
	ts := make([]*config.Target, n)
	for i := range ts {
		team := fmt.Sprintf("team-%d", i)
		ts[i] = &config.Target{Name: fmt.Sprintf("t%d", i), URL: "http://127.0.0.1:1/", Interval: 1,
			Teams: []config.ClassTeam{{Class: "app", Team: team, DefaultOwner: "app-team"}}}
	}
	s.SetTargets(ts)
	for i, tg := range ts {
		r := result(tg.Name, time.Duration(i)*time.Millisecond, time.Millisecond, 500)
		r.Verdict = triage.Verdict{Class: "app", Owner: tg.Teams[0].Team, FirstMove: "logs"}
		s.Observe(tg, r)
		busy := result(tg.Name, time.Duration(i)*time.Millisecond+time.Second, time.Millisecond, 503)
		busy.Verdict = triage.Verdict{Class: "capacity", Owner: "sre-oncall"}
		s.Observe(tg, busy)
	}
	if got := len(s.verdicts.list); got != 3 {
		t.Errorf("verdict table holds %d entries for %d targets with a team each, want 3 (zero, app, capacity)", got, n)
	}
	for i, tg := range ts {
		snap, ok := s.Snapshot(tg.Name)
		if !ok || len(snap.History) != 2 {
			t.Fatalf("%s: %d probes kept, want 2", tg.Name, len(snap.History))
		}
		if busy, app := snap.History[0], snap.History[1]; app.Owner != fmt.Sprintf("team-%d", i) || app.FirstMove != "logs" || busy.Owner != "sre-oncall" {
			t.Fatalf("%s: owners %q (app) and %q (capacity), want team-%d and sre-oncall", tg.Name, app.Owner, busy.Owner, i)
		}
	}
}

func TestPrefillFillsTheHistoryOnce(t *testing.T) {
	s := NewStore(4)
	s.Prefill()
	ts := targets("a")
	s.SetTargets(ts)
	s.Observe(ts[0], result("a", time.Second, time.Millisecond, 201))
	snap, _ := s.Snapshot("a")
	if got := codes(snap); !equalInts(got, []int{201, 201, 201, 201}) {
		t.Errorf("after the first probe: %v, want the history full of it", got)
	}
	s.Observe(ts[0], result("a", 2*time.Second, time.Millisecond, 202))
	snap, _ = s.Snapshot("a")
	if got := codes(snap); !equalInts(got, []int{202, 201, 201, 201}) {
		t.Errorf("after the second probe: %v, want it first, then the filled ones", got)
	}
}
