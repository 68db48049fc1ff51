//go:build e2e

package global

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// origin is the probed site: it answers every /t/NAME with 200, or with the
// status set for the target (for every location or for one), and logs the
// time of every probe by location, read from the exporter's
// X-Http5xx-Probe header ("location/target"). The log is how the test
// measures probe gaps: from outside the system under test.
type origin struct {
	mu     sync.Mutex
	probes map[probeKey][]time.Time
	status map[probeKey]int // location "" is every location
}

type probeKey struct{ location, target string }

func newOrigin() *origin {
	return &origin{probes: map[probeKey][]time.Time{}, status: map[probeKey]int{}}
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/t/")
	loc, target, marked := strings.Cut(r.Header.Get("X-Http5xx-Probe"), "/")
	if !ok || !marked || target != name {
		http.Error(w, "not a probe of /t/NAME", http.StatusNotFound)
		return
	}
	now := time.Now()
	o.mu.Lock()
	o.probes[probeKey{loc, target}] = append(o.probes[probeKey{loc, target}], now)
	code, set := o.status[probeKey{loc, target}]
	if !set {
		code, set = o.status[probeKey{"", target}]
	}
	o.mu.Unlock()
	if !set {
		code = http.StatusOK
	}
	w.WriteHeader(code)
}

// Fail makes target answer code to probes from location ("" for all).
func (o *origin) Fail(target, location string, code int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.status[probeKey{location, target}] = code
}

// Heal makes target answer 200 again everywhere.
func (o *origin) Heal(target string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k := range o.status {
		if k.target == target {
			delete(o.status, k)
		}
	}
}

// gap is the longest time a target went without a probe from a location.
type gap struct {
	target string
	d      time.Duration
}

// MaxGap is the longest stretch within [from, to] in which one of targets
// got no probe from location; the edges count (from the last probe before
// from, to to), so a target no longer probed at all shows too.
func (o *origin) MaxGap(location string, targets []string, from, to time.Time) gap {
	o.mu.Lock()
	defer o.mu.Unlock()
	var worst gap
	for _, t := range targets {
		times := o.probes[probeKey{location, t}]
		prev := time.Time{}
		// The last probe at or before from starts the stretch.
		i, _ := slices.BinarySearchFunc(times, from, func(a, b time.Time) int { return a.Compare(b) })
		if i > 0 {
			prev = times[i-1]
		} else {
			prev = from.Add(-time.Hour) // never probed before: the whole span is a gap
		}
		for _, at := range times[i:] {
			if at.After(to) {
				break
			}
			if d := at.Sub(prev); d > worst.d {
				worst = gap{t, d}
			}
			prev = at
		}
		if d := to.Sub(prev); d > worst.d {
			worst = gap{t, d}
		}
	}
	return worst
}

// Probes counts the probes of target from location within [from, to].
func (o *origin) Probes(location, target string, from, to time.Time) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, at := range o.probes[probeKey{location, target}] {
		if !at.Before(from) && !at.After(to) {
			n++
		}
	}
	return n
}
