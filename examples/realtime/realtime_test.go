//go:build realtime

package realtime

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/stacktest"
)

const (
	// pageWithin is the promise of the README's "Time to page": the first
	// failed probe of a hard outage to the pager.
	pageWithin = 90 * time.Second
	// observe is how long the scenarios run after they start: the blip is
	// 5 minutes over, the flap in its 4th cycle past the 5 minutes it must
	// stay silent, and the maintenance window 4 minutes over.
	observe = 7 * time.Minute
	// outage is how long the hard 502 lasts: longer than the quorum page
	// needs, short of the 1h/5m burn rate's 5 minutes.
	outage = 120 * time.Second
	// window is how long maint answers 503 inside its maintenance window:
	// longer than a quorum page would need.
	window = 150 * time.Second
	// flapQuiet is how long a 60 s on / 60 s off flap pages nobody; after
	// it, the 1h/5m burn rate may page the target's owner (a flap that
	// lasts is a 50% outage; README, "Time to page").
	flapQuiet = 5 * time.Minute
)

// action is one change a scenario makes at a planned moment.
type action struct {
	at   time.Time
	what string
	do   func(ctx context.Context) error
}

func TestRealtime(t *testing.T) {
	tl := stacktest.NewTimeline()
	ctx := stacktest.Budget(t, tl, 9*time.Minute+30*time.Second)
	s := startStack(ctx, t, tl)
	stacktest.Watchdog(ctx, tl, s.ps)

	pl := newProbeLog()
	watchCtx, stopWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	watching.Add(1)
	go func() { defer watching.Done(); pl.watch(watchCtx, s) }()
	defer func() { stopWatch(); watching.Wait() }()

	targets := []string{"hard", "local", "blip", "flap", "maint"}
	// Warm-up: every target probed from every location, as the rules see
	// it (5 probes in 5m per location), so that every scenario starts from
	// a healthy history as in production.
	err := stacktest.WaitFor(ctx, "every target probed from 3 locations", 150*time.Second, time.Second, func() (bool, error) {
		r, err := s.prom.Query(ctx, `target:http5xx_locations:count == 3`, time.Now())
		if err != nil {
			return false, err
		}
		vec, err := r.Vector()
		if err != nil {
			return false, err
		}
		for _, target := range targets {
			if !slices.ContainsFunc(vec, func(v stacktest.Series) bool { return v.Metric["target"] == target }) || !pl.seen(target, 2) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tl.Logf("warm: every target probed from %v, as Prometheus sees it", locations)

	w := stacktest.NewWatcher(t, tl, s.prom, s.prom, s.rec, nil)
	w.Scrapers = map[string]stacktest.PromAPI{"prometheus": s.prom}
	if as, err := w.Poll(ctx); err != nil {
		t.Fatal(err)
	} else if len(as) > 0 {
		t.Fatalf("alerts before any incident: %v", as)
	}
	control := func(target, behaviour string) func(ctx context.Context) error {
		if behaviour == "" {
			return func(ctx context.Context) error { return s.send(ctx, "DELETE", s.origin+"/-/control/"+target, "") }
		}
		return func(ctx context.Context) error { return s.send(ctx, "PUT", s.origin+"/-/control/"+target, behaviour) }
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		tl.Logf("scenario: %s", what)
	}

	// The maintenance window is open, and visible to the rules from every
	// exporter, before the first 503.
	for _, loc := range locations {
		must("maintenance window of maint opened in "+loc, s.send(ctx, "POST", s.exporters[loc]+"/api/v1/maintenance",
			`{"service":"maint","duration":"30m","reason":"planned 503s of the real-time test","id":"rt-maint"}`))
	}
	must("the window in Prometheus", stacktest.WaitFor(ctx, "maint's window seen by Prometheus from every exporter", 45*time.Second, time.Second, func() (bool, error) {
		r, err := s.prom.Query(ctx, `http5xx_maintenance_active{service="maint"} == 1`, time.Now())
		if err != nil {
			return false, err
		}
		n, err := r.Len()
		return n == len(locations), err
	}))

	start := time.Now()
	must("maint answers 503 with Retry-After, inside its window", control("maint", `{"status":503,"retry_after":"120"}`)(ctx))
	must("hard answers 502 to every location", control("hard", `{"status":502,"as":"nginx"}`)(ctx))
	must("local answers 502 to probes from ap only", control("local", `{"status":200,"locations":{"ap":{"status":502,"as":"cloudflare"}}}`)(ctx))
	hardAt, maintAt := start, start

	end := start.Add(observe)
	blipAt, blipGap := pl.quietMoment("blip", time.Now().Add(time.Second))
	flapAt, flapGap := pl.quietMoment("flap", time.Now().Add(time.Second))
	tl.Logf("blip starts in %s, flap in %s, each %s from the nearest probe",
		time.Until(blipAt).Round(100*time.Millisecond), time.Until(flapAt).Round(100*time.Millisecond), min(blipGap, flapGap).Round(100*time.Millisecond))
	var windowEnd time.Time
	plan := []action{
		{hardAt.Add(outage), "hard recovers", control("hard", "")},
		{blipAt, "blip answers 502 to every location for 60 s", control("blip", `{"status":502}`)},
		{blipAt.Add(60 * time.Second), "blip recovers", control("blip", "")},
		{maintAt.Add(window), "maint's window ends early, its 503s go on", func(ctx context.Context) error {
			for _, loc := range locations {
				if err := s.send(ctx, "DELETE", s.exporters[loc]+"/api/v1/maintenance?id=rt-maint", ""); err != nil {
					return err
				}
			}
			windowEnd = time.Now()
			return nil
		}},
	}
	for at := flapAt; at.Before(end); at = at.Add(2 * time.Minute) {
		plan = append(plan,
			action{at, "flap answers 502 for 60 s", control("flap", `{"status":502}`)},
			action{at.Add(time.Minute), "flap answers 200 for 60 s", control("flap", "")})
	}
	slices.SortFunc(plan, func(a, b action) int { return a.at.Compare(b.at) })

	// Run the plan on time and watch the alerts until the end.
	next, lastPoll := 0, time.Time{}
	must("the scenarios", stacktest.WaitFor(ctx, "the scenarios", time.Until(end)+10*time.Second, 100*time.Millisecond, func() (bool, error) {
		now := time.Now()
		for next < len(plan) && !now.Before(plan[next].at) {
			a := plan[next]
			if a.at.Before(end) {
				if err := a.do(ctx); err != nil {
					return false, fmt.Errorf("%s: %w", a.what, err)
				}
				tl.Logf("scenario: %s", a.what)
			}
			next++
		}
		if now.Sub(lastPoll) >= time.Second {
			lastPoll = now
			if _, err := w.Poll(ctx); err != nil {
				tl.Logf("poll: %v", err) // the next poll tries again
			}
		}
		return !now.Before(end), nil
	}))
	stopWatch()
	watching.Wait()

	r := &report{t: t, ns: s.rec.Notifications()}
	r.hard(pl, hardAt)
	r.local(pl)
	r.blip(pl)
	r.flap(pl, flapAt)
	r.maint(pl, maintAt, windowEnd)
	r.others(targets)
	r.print()
}

// report checks each scenario's notifications and collects what to print.
type report struct {
	t     *testing.T
	ns    []stacktest.Notification
	lines []string
}

func (r *report) addf(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *report) print() {
	fmt.Printf("\n    make e2e-realtime: measured at production speed (15 s probes, scrape and evaluation)\n")
	for _, l := range r.lines {
		fmt.Printf("      %s\n", l)
	}
	fmt.Println()
}

// of lists the notifications about service, with their alerts about it.
func (r *report) of(service string) ([]stacktest.Notification, [][]stacktest.NotifiedAlert) {
	var ns []stacktest.Notification
	var as [][]stacktest.NotifiedAlert
	for _, n := range r.ns {
		if a := about(n, service); len(a) > 0 {
			ns, as = append(ns, n), append(as, a)
		}
	}
	return ns, as
}

// listed adds every notification about service to the report.
func (r *report) listed(service string, since time.Time) {
	ns, as := r.of(service)
	if len(ns) == 0 {
		r.addf("  notifications: none")
	}
	for i, n := range ns {
		r.addf("  notification to %s", describe(n, as[i], since))
	}
}

func firing(as []stacktest.NotifiedAlert, alertname string) bool {
	return slices.ContainsFunc(as, func(a stacktest.NotifiedAlert) bool {
		return a.Status == "firing" && a.Labels["alertname"] == alertname
	})
}

// hard: a 502 from every location pages app-infra's pager within 90 s of
// the first failed probe, and nobody else hears of it.
func (r *report) hard(pl *probeLog, since time.Time) {
	first, loc, ok := pl.firstWith("hard", 502, since)
	if !ok {
		r.t.Errorf("hard: no probe got the 502")
		return
	}
	ns, as := r.of("hard")
	var page *stacktest.Notification
	for i, n := range ns {
		if n.Receiver == "app-infra-pager" && firing(as[i], "HTTP5xxFailingEverywhere") && page == nil {
			page = &ns[i]
		}
		if n.Receiver != "app-infra-pager" {
			r.t.Errorf("hard: a notification to %s: %s", n.Receiver, describe(n, as[i], first.At))
		}
	}
	switch {
	case page == nil:
		r.t.Errorf("hard: app-infra's pager never got HTTP5xxFailingEverywhere")
		r.addf("hard 502 from every location: first failed probe (%s) → app-infra-pager: NEVER", loc)
	default:
		took := page.At.Sub(first.At)
		r.addf("hard 502 from every location: first failed probe (%s) → app-infra-pager HTTP5xxFailingEverywhere: %.1fs", loc, took.Seconds())
		if took > pageWithin {
			r.t.Errorf("hard: paged %.1fs after the first failed probe, want within %s", took.Seconds(), pageWithin)
		}
	}
	r.listed("hard", first.At)
}

// local: a 502 seen from ap only pages nobody and never reaches the class
// owner (app-infra); network's chat may hear of it.
func (r *report) local(pl *probeLog) {
	runs := pl.failedRuns("local", 502)
	if runs["ap"] < 5 || runs["eu"] > 0 || runs["us"] > 0 {
		r.t.Errorf("local: failed probes in a row per location %v, want 5 or more from ap only", runs)
	}
	ns, as := r.of("local")
	for i, n := range ns {
		if strings.HasSuffix(n.Receiver, "-pager") || strings.HasPrefix(n.Receiver, "app-infra-") {
			r.t.Errorf("local: a notification to %s: %s", n.Receiver, describe(n, as[i], n.At))
		}
	}
	first, _, _ := pl.firstWith("local", 502, time.Time{})
	r.addf("502 from ap only (%d probes in a row): no pager", runs["ap"])
	r.listed("local", first.At)
}

// blip: 60 s of 502 from every location (4 probes each) notifies nobody.
func (r *report) blip(pl *probeLog) {
	runs := pl.failedRuns("blip", 502)
	for _, loc := range locations {
		if runs[loc] != 4 {
			r.t.Errorf("blip: %d failed probes in a row from %s, want the 4 of a 60 s failure", runs[loc], loc)
		}
	}
	ns, as := r.of("blip")
	for i, n := range ns {
		r.t.Errorf("blip: a notification to %s: %s", n.Receiver, describe(n, as[i], n.At))
	}
	first, _, _ := pl.firstWith("blip", 502, time.Time{})
	r.addf("60 s of 502 from every location (%v probes in a row): nothing", runs)
	r.listed("blip", first.At)
}

// flap: 60 s of 502, 60 s of 200, over and over, pages nobody for its first
// 5 minutes and warns each chat at most once; a page after that can only
// be the target owner's 1h/5m burn rate.
func (r *report) flap(pl *probeLog, since time.Time) {
	runs := pl.failedRuns("flap", 502)
	for _, loc := range locations {
		if runs[loc] != 4 {
			r.t.Errorf("flap: at most %d failed probes in a row from %s, want the 4 of each 60 s half", runs[loc], loc)
		}
	}
	first, _, ok := pl.firstWith("flap", 502, since)
	if !ok {
		r.t.Errorf("flap: no probe got the 502")
		return
	}
	ns, as := r.of("flap")
	chats := map[string]int{}
	for i, n := range ns {
		after := n.At.Sub(first.At)
		switch {
		case strings.HasSuffix(n.Receiver, "-chat"):
			if slices.ContainsFunc(as[i], func(a stacktest.NotifiedAlert) bool { return a.Status == "firing" }) {
				chats[n.Receiver]++
				if chats[n.Receiver] > 1 {
					r.t.Errorf("flap: a second warning to %s: %s", n.Receiver, describe(n, as[i], first.At))
				}
			}
		case after < flapQuiet:
			r.t.Errorf("flap: paged within its first %s: %s", flapQuiet, describe(n, as[i], first.At))
		case n.Receiver != "data-team-pager" || slices.ContainsFunc(as[i], func(a stacktest.NotifiedAlert) bool {
			return a.Labels["alertname"] != "HTTP5xxErrorBudgetBurn"
		}):
			r.t.Errorf("flap: a page other than the owner's burn rate: %s", describe(n, as[i], first.At))
		}
	}
	r.addf("60 s on / 60 s off flap (%v probes in a row at most): no page for %s, each chat warned at most once", runs, flapQuiet)
	r.listed("flap", first.At)
}

// maint: a 503 inside the maintenance window notifies nobody; once the
// window ends with the 503s going on, sre-oncall's pager gets
// HTTP5xxMaintenanceOverran, and nobody else hears of it.
func (r *report) maint(pl *probeLog, since, windowEnd time.Time) {
	first, loc, ok := pl.firstWith("maint", 503, since)
	if !ok || windowEnd.IsZero() {
		r.t.Errorf("maint: no probe got the 503 (%v), or the window never ended (%v)", ok, windowEnd)
		return
	}
	ns, as := r.of("maint")
	var page *stacktest.Notification
	for i, n := range ns {
		switch {
		case n.At.Before(windowEnd):
			r.t.Errorf("maint: a notification inside the window: %s", describe(n, as[i], first.At))
		case n.Receiver != "sre-oncall-pager" || !firing(as[i], "HTTP5xxMaintenanceOverran") || len(as[i]) != 1:
			r.t.Errorf("maint: a notification other than the overran page: %s", describe(n, as[i], first.At))
		case page == nil:
			page = &ns[i]
		}
	}
	inside := windowEnd.Sub(first.At)
	if page == nil {
		r.t.Errorf("maint: sre-oncall's pager never got HTTP5xxMaintenanceOverran")
		r.addf("503 inside a maintenance window for %.0fs: nothing; window end → sre-oncall-pager: NEVER", inside.Seconds())
	} else {
		r.addf("503 inside a maintenance window (first 503 probe from %s) for %.0fs: nothing; window end → sre-oncall-pager HTTP5xxMaintenanceOverran: %.1fs",
			loc, inside.Seconds(), page.At.Sub(windowEnd).Seconds())
	}
	r.listed("maint", first.At)
}

// others fails on any notification about something no scenario plays.
func (r *report) others(services []string) {
	for _, n := range r.ns {
		for _, a := range n.Alerts {
			if !slices.Contains(services, a.Labels["service"]) {
				r.t.Errorf("a notification to %s about no scenario: %s %s", n.Receiver, a.Status, a.Labels)
			}
		}
	}
}
