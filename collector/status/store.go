package status

import (
	"math"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// DefaultHistory is how many probes the Store keeps per target.
const DefaultHistory = 120

// LatencyWindow is the span the p50/p99 figures and the recent failure count
// cover.
const LatencyWindow = 5 * time.Minute

// Sample is one kept probe as the pages and the API read it: the parts of a
// probe.Result a person reads. The Store keeps it as a fixed-size record
// (record.go) and builds a Sample only when asked.
type Sample struct {
	Start      time.Time
	Duration   time.Duration // to the microsecond
	Phases     [contract.NumPhases]time.Duration
	PhaseSeen  [contract.NumPhases]bool
	StatusCode int
	Reason     contract.Reason
	Success    bool
	RetryAfter time.Duration // to the millisecond
	// Verdict is the triage: class, owner, layer, product, first move and
	// the cause the answer proved (strings of the configuration and the
	// built-in rules, shared, not copied).
	triage.Verdict
	// Error is the text of the probe's error, at most MaxErrorText bytes,
	// "" without one, and "" once the target has failed with ErrorTexts
	// other texts since.
	Error string
}

// TargetBytes is the most memory the history of one target takes with
// history kept probes: the records, the target's error texts and its
// fixed part. What a target sends cannot grow it (collector/status/README.md).
func TargetBytes(history int) int {
	return RecordBytes*history + ErrorTexts*MaxErrorText + int(unsafe.Sizeof(targetHistory{}))
}

// End is when the probe finished.
func (s *Sample) End() time.Time { return s.Start.Add(s.Duration) }

// TargetInfo is the configuration of a target the status page shows.
type TargetInfo struct {
	Name     string
	URL      string // with any password replaced by xxxxx
	Service  string
	Owner    string // the whole-target team (config.Target.Owner)
	Interval time.Duration
	// Teams are the classes whose team is not the default owner
	// (config.Target.Teams, shared with the configuration).
	Teams []config.ClassTeam
}

// withDefaultOwner is v as the verdict table keeps it: with the class's
// default owner in place of the target's team, so targets that name their
// own teams share the entries of every other target and the table's size
// does not grow with the number of teams. withTeam puts the target's team
// back when a record is read.
func withDefaultOwner(teams []config.ClassTeam, v triage.Verdict) triage.Verdict {
	for _, ct := range teams {
		if ct.Class == v.Class && ct.Team == v.Owner {
			v.Owner = ct.DefaultOwner
			break
		}
	}
	return v
}

// withTeam is a kept verdict with the target's team for its class.
func withTeam(teams []config.ClassTeam, v triage.Verdict) triage.Verdict {
	for _, ct := range teams {
		if ct.Class == v.Class && ct.DefaultOwner == v.Owner {
			v.Owner = ct.Team
			break
		}
	}
	return v
}

// defaultOwner is the default owner a sample's owner replaces: the class
// table's owner of its class when the target names its own team for the
// class, "" when the owner is the default owner.
func (i *TargetInfo) defaultOwner(s *Sample) string {
	for _, ct := range i.Teams {
		if ct.Class == s.Class && ct.Team == s.Owner {
			return ct.DefaultOwner
		}
	}
	return ""
}

// targetHistory is one target's ring of records. ring is allocated at
// its full size; next is where the next record goes, and n how many are
// kept.
type targetHistory struct {
	mu   sync.Mutex
	info TargetInfo
	ring []record
	next int
	n    int
	errs errorTexts
	// conn is what the probes saw of the connection (probe.Conn.Merge):
	// one per target, bounded strings, not kept per sample.
	conn probe.Conn
	skip Skip
}

// Skip is the last slot of a target the scheduler did not use, and how
// many it skipped since the target was configured.
type Skip struct {
	Reason contract.SkipReason // "" before the first
	At     time.Time
	Count  uint64
}

// Store keeps the latest probes of every configured target for the status
// page and /api/v1/status. It is a collector.Sink (Observe) and a
// collector.TargetSetter (SetTargets). Safe for concurrent use; Observe takes
// one read lock and one per-target lock and allocates nothing but a new
// error text.
type Store struct {
	size     int
	verdicts *verdicts
	prefill  bool

	mu      sync.RWMutex
	order   []string // configured order, for stable pages
	targets map[string]*targetHistory
}

// NewStore returns a Store keeping size probes per target (DefaultHistory
// when size <= 0).
func NewStore(size int) *Store {
	if size <= 0 {
		size = DefaultHistory
	}
	return &Store{size: size, verdicts: newVerdicts(), targets: map[string]*targetHistory{}}
}

// Prefill makes a target's first probe fill its whole history, as if it
// had been probed that way for --status.history intervals: benchmarks
// measure the memory of full histories without waiting for them
// (make bench-scale). Call it before the first Observe.
func (s *Store) Prefill() { s.prefill = true }

// Capacity is how many probes the Store keeps per target.
func (s *Store) Capacity() int { return s.size }

// SetTargets follows the configured targets: new ones appear with no
// probes, removed ones are forgotten, and a target whose URL changed starts
// a fresh history (the old probes were of another URL).
func (s *Store) SetTargets(ts []*config.Target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]*targetHistory, len(ts))
	order := make([]string, 0, len(ts))
	for _, t := range ts {
		info := TargetInfo{Name: t.Name, URL: t.RedactedURL(), Service: t.Service, Owner: t.Owner, Interval: t.IntervalDuration(), Teams: t.Teams}
		h := s.targets[t.Name]
		if h == nil {
			h = &targetHistory{ring: make([]record, s.size)}
		}
		h.mu.Lock()
		if h.info.URL != info.URL {
			h.next, h.n, h.errs, h.conn, h.skip = 0, 0, errorTexts{}, probe.Conn{}, Skip{}
		}
		h.info = info
		h.mu.Unlock()
		next[t.Name] = h
		order = append(order, t.Name)
	}
	s.targets, s.order = next, order
}

// Observe records one probe result. Results of targets the Store does not
// know (a probe racing a reload that removed it) are dropped.
func (s *Store) Observe(t *config.Target, r *probe.Result) {
	s.mu.RLock()
	h := s.targets[t.Name]
	s.mu.RUnlock()
	if h == nil {
		return
	}
	v := s.verdicts.intern(withDefaultOwner(t.Teams, r.Verdict))
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conn = h.conn.Merge(r.Conn)
	h.ring[h.next] = newRecord(r, v, h.errs.add(r.Err))
	if s.prefill && h.n == 0 {
		for i := 1; i < len(h.ring); i++ {
			h.ring[i] = h.ring[0]
		}
		h.n = len(h.ring) - 1
	}
	h.next = (h.next + 1) % len(h.ring)
	h.n = min(h.n+1, len(h.ring))
}

// Skipped records a slot of the target the scheduler skipped, and why
// (collector.SkipSink). Unknown targets are ignored.
func (s *Store) Skipped(target string, r contract.SkipReason, at time.Time) {
	s.mu.RLock()
	h := s.targets[target]
	s.mu.RUnlock()
	if h == nil {
		return
	}
	h.mu.Lock()
	h.skip = Skip{Reason: r, At: at, Count: h.skip.Count + 1}
	h.mu.Unlock()
}

// Snapshot is a copy of one target's state at the time it was taken.
type Snapshot struct {
	Info TargetInfo
	// Conn is what the probes saw of the target's connection.
	Conn probe.Conn
	// Skip is the last skipped slot (Reason "" when none).
	Skip Skip
	// History holds the kept probes (since the time Snapshots was given),
	// newest first.
	History []Sample
}

// Last returns the newest probe, or nil before the first one.
func (s *Snapshot) Last() *Sample {
	if len(s.History) == 0 {
		return nil
	}
	return &s.History[0]
}

// Window summarises the probes that finished within LatencyWindow before now.
type Window struct {
	Probes   int
	Failures int
	// P50 and P99 are nearest-rank percentiles of the probe durations
	// (answered or not); zero when Probes is zero.
	P50, P99 time.Duration
}

// Window computes the recent-probe summary as of now.
func (s *Snapshot) Window(now time.Time) Window {
	var w Window
	from := now.Add(-LatencyWindow)
	ds := make([]time.Duration, 0, len(s.History))
	for i := range s.History {
		smp := &s.History[i]
		if smp.End().Before(from) {
			break // newest first: everything after is older
		}
		ds = append(ds, smp.Duration)
		if !smp.Success {
			w.Failures++
		}
	}
	w.Probes = len(ds)
	if w.Probes == 0 {
		return w
	}
	slices.Sort(ds)
	w.P50, w.P99 = percentile(ds, 0.50), percentile(ds, 0.99)
	return w
}

// percentile is the nearest-rank percentile of sorted, non-empty ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	rank := int(q*float64(len(ds))+0.999999999) - 1 // ceil(q*n) - 1
	return ds[max(0, min(rank, len(ds)-1))]
}

// Snapshots returns every configured target in configured order, each with
// the probes that ended at or after since (and always its newest one): the
// status page needs the last few minutes, not the whole history.
func (s *Store) Snapshots(since time.Time) []Snapshot {
	s.mu.RLock()
	hs := make([]*targetHistory, 0, len(s.order))
	for _, name := range s.order {
		hs = append(hs, s.targets[name])
	}
	s.mu.RUnlock()
	out := make([]Snapshot, len(hs))
	for i, h := range hs {
		out[i] = h.snapshot(since, s.verdicts)
	}
	return out
}

// Snapshot returns one target with its whole history, and false when it is
// not configured.
func (s *Store) Snapshot(name string) (Snapshot, bool) {
	s.mu.RLock()
	h := s.targets[name]
	s.mu.RUnlock()
	if h == nil {
		return Snapshot{}, false
	}
	return h.snapshot(time.Time{}, s.verdicts), true
}

func (h *targetHistory) snapshot(since time.Time, vs *verdicts) Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	snap := Snapshot{Info: h.info, Conn: h.conn, Skip: h.skip, History: make([]Sample, 0, h.n)}
	from := since.UnixNano()
	if since.IsZero() {
		from = math.MinInt64
	}
	size := len(h.ring)
	for i := range h.n {
		rec := &h.ring[(h.next-1-i+2*size)%size]
		if i > 0 && rec.end() < from {
			break
		}
		snap.History = append(snap.History, rec.sample(withTeam(h.info.Teams, vs.get(rec.verdict)), h.errs.text(rec.err)))
	}
	return snap
}
