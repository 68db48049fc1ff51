//go:build e2e

package global

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/shard"
	"github.com/http5xx/http5xx_exporter/examples/stacktest"
)

// TestScale runs the global reference setup, 2 locations x 2 shards x 2
// replicas, and plays what scaling out must survive, one phase at a time:
//
//	warm-up      every target probed by exactly one shard per location, both
//	             replicas; the global view has one series per target,
//	             location and exporter although two Prometheus write each
//	crash        SIGKILL of one replica: only the replica-down warning, no
//	             probe gap
//	shard down   both replicas of a shard: the critical page
//	reshard      eu goes from 2 to 3 shards: about a third of the targets
//	             move, none unprobed for more than an interval
//	incidents    502 everywhere: HTTP5xxFailingEverywhere; 502 from us only:
//	             HTTP5xxFailingLocally, never the everywhere alert
//
// and prints the measured figures at the end.
func TestScale(t *testing.T) {
	tl := stacktest.NewTimeline()
	ctx := stacktest.Budget(t, tl, 5*time.Minute+30*time.Second)
	s := startStack(ctx, t, tl)
	stacktest.Watchdog(ctx, tl, s.ps)
	owners := stacktest.KnownOwners(t, filepath.Join("..", "alertmanager.yml"))

	// Every phase says which alerts may fire; anything else firing on any
	// poll fails the test, as does a notification that breaks the routing
	// contract.
	var mu sync.Mutex
	allowed := func(stacktest.PromAlert) bool { return false }
	allow := func(f func(stacktest.PromAlert) bool) { mu.Lock(); allowed = f; mu.Unlock() }
	w := stacktest.NewWatcher(t, tl, s.vmalert, s.vm, s.rec, func(as []stacktest.PromAlert, ns []stacktest.Notification) []string {
		mu.Lock()
		ok := allowed
		mu.Unlock()
		bad := stacktest.RoutingViolations(ns, owners)
		for _, n := range ns {
			for _, a := range n.Alerts {
				if a.Labels["target"] == "payments" && !strings.HasPrefix(n.Receiver, "app-infra-") {
					bad = append(bad, fmt.Sprintf("payments' 502s reached %s: %s", n.Receiver, a.Labels))
				}
			}
		}
		for _, a := range as {
			// What an alert raises is its firing: a pending one (a scrape
			// that timed out on a loaded machine, 667 ms at this speed) is
			// on the timeline and must not last its `for`.
			if a.State != "firing" {
				continue
			}
			if !ok(a) {
				bad = append(bad, fmt.Sprintf("unexpected alert %s: %s", a.State, a.Labels))
			}
		}
		return bad
	})
	w.Scrapers = map[string]stacktest.PromAPI{}
	for _, base := range s.proms {
		w.Scrapers["prometheus "+base] = stacktest.PromAPI{Base: base, Client: &http.Client{Timeout: 10 * time.Second}}
	}
	var figures []string
	report := func(format string, args ...any) {
		f := fmt.Sprintf(format, args...)
		figures = append(figures, f)
		tl.Logf("measured: %s", f)
	}

	// Warm-up: the global view sees every target from one shard of each
	// location, both replicas, with enough probes for the rules' guard.
	must(t, stacktest.WaitFor(ctx, "every target probed by its shard in every location", 90*time.Second, time.Second, func() (bool, error) {
		for _, loc := range locations {
			if err := s.settled(ctx, loc, 2); err != nil {
				return false, err
			}
		}
		return s.guardMet(ctx)
	}))
	tl.Logf("warm: every target probed by exactly one shard in %v, by both of its replicas", locations)
	checkGlobalView(ctx, t, s)
	// Nothing fires on a healthy stack.
	must(t, w.Until(ctx, "a quiet stack", 60*time.Second, []stacktest.Expectation{{What: "no alert firing", Alerts: noneFiring}}))

	// A replica crashes: its shard's other replica keeps probing.
	victim := s.exp["eu"][0] // eu, shard 0, replica a
	allow(func(a stacktest.PromAlert) bool {
		return a.Labels.Has(stacktest.Labels{"alertname": "HTTP5xxExporterDown", "severity": "warning", "instance": victim.addr, "location": "eu"})
	})
	crash := time.Now()
	must(t, victim.p.Kill())
	tl.Logf("scenario: SIGKILL of %s (%s)", victim.name(), victim.addr)
	var warnAt time.Time
	must(t, w.Until(ctx, "replica crash", 90*time.Second, []stacktest.Expectation{
		{What: "HTTP5xxExporterDown fires as a warning for the dead replica, with its shard", Alerts: func(as []stacktest.PromAlert) bool {
			ok := stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxExporterDown", "severity": "warning", "instance": victim.addr, "shard": "0", "shards": "2"}, "") == 1
			if ok && warnAt.IsZero() {
				warnAt = time.Now()
			}
			return ok
		}},
		{What: "the warning reaches sre-oncall's chat", Notes: func(ns []stacktest.Notification) bool {
			return stacktest.Notified(ns, "sre-oncall-chat", "firing", stacktest.Labels{"alertname": "HTTP5xxExporterDown", "instance": victim.addr})
		}},
	}))
	shard0 := s.ownedBy(0, 2)
	g := s.origin.MaxGap("eu", shard0, crash, time.Now())
	report("probe gap on a replica crash: longest stretch without a probe of a shard-0 target from eu over %s after the SIGKILL: %s (%s), probe interval %s",
		time.Since(crash).Round(time.Second), g.d.Round(time.Millisecond), g.target, interval)
	report("time to the replica-down warning: %s (its for: 5m is 20s at this speed)", warnAt.Sub(crash).Round(100*time.Millisecond))
	if g.d >= 2*interval {
		t.Errorf("a replica crash left %s unprobed from eu for %s: a probe slot was missed although its other replica runs", g.target, g.d)
	}
	must(t, s.revive(ctx, victim))
	allow(func(a stacktest.PromAlert) bool {
		return a.Labels["alertname"] == "HTTP5xxExporterDown" && a.Labels["instance"] == victim.addr
	})
	must(t, w.Until(ctx, "recovery from the crash", 60*time.Second, []stacktest.Expectation{{What: "no alert firing", Alerts: noneFiring}}))

	// Both replicas of a shard go: nothing probes its targets from there.
	var down []*exporter
	for _, e := range s.exp["us"] {
		if e.shard == 1 {
			down = append(down, e)
		}
	}
	allow(func(a stacktest.PromAlert) bool {
		l := a.Labels
		switch {
		case l["alertname"] == "HTTP5xxExporterDown" && l["severity"] == "warning":
			return l["location"] == "us" && (l["instance"] == down[0].addr || l["instance"] == down[1].addr)
		case l["alertname"] == "HTTP5xxExporterDown":
			return l.Has(stacktest.Labels{"location": "us", "shard": "1"})
		case l["alertname"] == "HTTP5xxTargetsUnprobed":
			return l["location"] == "us"
		}
		return false
	})
	lost := time.Now()
	for _, e := range down {
		must(t, e.p.Kill())
	}
	tl.Logf("scenario: SIGKILL of both replicas of shard 1 in us (%s, %s)", down[0].addr, down[1].addr)
	var critAt time.Time
	must(t, w.Until(ctx, "a shard without replicas", 90*time.Second, []stacktest.Expectation{
		{What: "HTTP5xxExporterDown fires as critical for shard 1 of us", Alerts: func(as []stacktest.PromAlert) bool {
			ok := stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxExporterDown", "severity": "critical", "location": "us", "shard": "1"}, "") == 1
			if ok && critAt.IsZero() {
				critAt = time.Now()
			}
			return ok
		}},
		{What: "the page reaches sre-oncall's pager", Notes: func(ns []stacktest.Notification) bool {
			return stacktest.Notified(ns, "sre-oncall-pager", "firing", stacktest.Labels{"alertname": "HTTP5xxExporterDown", "location": "us", "shard": "1"})
		}},
	}))
	report("time to the shard-down page: %s", critAt.Sub(lost).Round(100*time.Millisecond))
	for _, e := range down {
		must(t, s.revive(ctx, e))
	}
	must(t, w.Until(ctx, "recovery of the shard", 90*time.Second, []stacktest.Expectation{{What: "no alert firing", Alerts: noneFiring}}))
	must(t, stacktest.WaitFor(ctx, "us probed by its shards again", 30*time.Second, time.Second, func() (bool, error) {
		return s.settled(ctx, "us", 2) == nil, nil
	}))

	// Resharding eu from 2 to 3: the new shard starts first, then every old
	// replica restarts with the new count, one at a time.
	allow(func(stacktest.PromAlert) bool { return false })
	before := map[string]int{}
	for _, tg := range s.targets {
		before[tg] = shard.Owner(tg, 2)
	}
	reshard := time.Now()
	var added []string
	for i, r := range replicas {
		e := &exporter{loc: "eu", shard: 2, shards: 3, replica: r, addr: s.spare[i]}
		p, err := s.startExporter(e)
		must(t, err)
		must(t, p.WaitReady(ctx, "http://"+e.addr+"/-/ready", 30*time.Second))
		s.exp["eu"] = append(s.exp["eu"], e)
		added = append(added, e.addr)
	}
	must(t, s.addToScrape("eu", added...))
	tl.Logf("scenario: shard 2 of 3 runs in eu (%v), in the Prometheus pair's exporters-eu.yml", added)
	for _, e := range s.exp["eu"] {
		if e.shards == 2 {
			must(t, s.restart(ctx, e, 3))
			tl.Logf("restarted %s with --shard.count=3", e.name())
		}
	}
	must(t, stacktest.WaitFor(ctx, "eu probed by 3 shards", 60*time.Second, time.Second, func() (bool, error) {
		return s.settled(ctx, "eu", 3) == nil, nil
	}))
	done := time.Now()
	var moved []string
	for _, tg := range s.targets {
		if to := shard.Owner(tg, 3); to != before[tg] {
			moved = append(moved, tg)
			if to != 2 {
				t.Errorf("%s moved from shard %d to %d, not to the new shard", tg, before[tg], to)
			}
		}
	}
	share := float64(len(moved)) / float64(len(s.targets))
	report("movement on resharding 2 -> 3: %d of %d targets (%.0f%%; rendezvous expects 1/3, hashmod about 2/3), each to the new shard, as the global view shows",
		len(moved), len(s.targets), 100*share)
	if share > 0.45 {
		t.Errorf("resharding moved %d of %d targets: more than about a third", len(moved), len(s.targets))
	}
	g = s.origin.MaxGap("eu", s.targets, reshard, done)
	report("probe gap while resharding: longest stretch without a probe of any target from eu over the %s of the reshard: %s (%s)",
		done.Sub(reshard).Round(time.Second), g.d.Round(time.Millisecond), g.target)
	if g.d >= 2*interval {
		t.Errorf("resharding left %s unprobed from eu for %s: more than one probe interval (%s)", g.target, g.d, interval)
	}
	must(t, w.Until(ctx, "after the reshard", 30*time.Second, []stacktest.Expectation{{What: "no alert firing", Alerts: noneFiring}}))

	// The incidents of the single-exporter e2e, on the scaled stack.
	allow(func(a stacktest.PromAlert) bool {
		l := a.Labels
		if l["target"] == "storefront" {
			// With two locations, one failing is half of them: the
			// target's median error ratio (the SLO burn) sees it too.
			return l["alertname"] != "HTTP5xxFailingEverywhere" && (l["location"] == "us" || l["location"] == "")
		}
		return l["target"] == "payments"
	})
	incident := time.Now()
	s.origin.Fail("payments", "", http.StatusBadGateway)
	s.origin.Fail("storefront", "us", http.StatusBadGateway)
	tl.Logf("scenario: payments answers 502 to everyone, storefront 502 to probes from us only")
	var seenAt, everywhereAt, pagedAt time.Time
	must(t, w.Until(ctx, "incidents", 120*time.Second, []stacktest.Expectation{
		{What: "payments: the 502s are in the global view from both locations", Alerts: func([]stacktest.PromAlert) bool {
			r, err := s.vm.Query(ctx, `count by (location) (http5xx_responses_total{target="payments", code="502"} > 0)`, time.Now())
			if err != nil {
				return false
			}
			n, err := r.Len()
			if err == nil && n == len(locations) && seenAt.IsZero() {
				seenAt = time.Now()
			}
			return !seenAt.IsZero()
		}},
		{What: "payments: HTTP5xxFailingEverywhere fires for the gateway class", Alerts: func(as []stacktest.PromAlert) bool {
			ok := stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxFailingEverywhere", "target": "payments", "error_class": "gateway", "owner": "app-infra"}, "") > 0
			if ok && everywhereAt.IsZero() {
				everywhereAt = time.Now()
			}
			return ok
		}},
		{What: "payments: app-infra's pager is told", Notes: func(ns []stacktest.Notification) bool {
			ok := stacktest.Notified(ns, "app-infra-pager", "firing", stacktest.Labels{"alertname": "HTTP5xxFailingEverywhere", "target": "payments"})
			if ok && pagedAt.IsZero() {
				pagedAt = time.Now()
			}
			return ok
		}},
		{What: "payments: HTTP5xxGatewayErrors fires in eu and us", Alerts: func(as []stacktest.PromAlert) bool {
			return stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxGatewayErrors", "target": "payments"}, "location") == 2
		}},
		{What: "storefront: HTTP5xxFailingLocally fires for us", Alerts: func(as []stacktest.PromAlert) bool {
			return stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxFailingLocally", "target": "storefront", "location": "us"}, "") > 0
		}},
		{What: "storefront: the failing-locally alert reaches network", Notes: func(ns []stacktest.Notification) bool {
			return stacktest.Notified(ns, "network-", "firing", stacktest.Labels{"alertname": "HTTP5xxFailingLocally", "target": "storefront", "location": "us"})
		}},
	}))
	report("time to the global alert: the 502s of both locations in VictoriaMetrics %s after the first, HTTP5xxFailingEverywhere firing in vmalert after %s, app-infra paged after %s",
		seenAt.Sub(incident).Round(100*time.Millisecond), everywhereAt.Sub(incident).Round(100*time.Millisecond), pagedAt.Sub(incident).Round(100*time.Millisecond))

	fmt.Println("    measured figures:")
	for _, f := range figures {
		fmt.Printf("      - %s\n", f)
	}
}

func noneFiring(as []stacktest.PromAlert) bool {
	return stacktest.CountFiring(as, stacktest.Labels{}, "") == 0
}

// settled checks that every target is probed from loc by exactly one
// shard, the one the rendezvous hash picks for shards shards, through all of
// its replicas, as the global view shows it.
func (s *stack) settled(ctx context.Context, loc string, shards int) error {
	shardOf, err := s.shardOfInstances(ctx, loc)
	if err != nil {
		return err
	}
	r, err := s.vm.Query(ctx, `http5xx_target_info{location="`+loc+`"}`, time.Now())
	if err != nil {
		return err
	}
	vec, err := r.Vector()
	if err != nil {
		return err
	}
	by := map[string]map[string][]string{} // target -> shard -> instances
	for _, v := range vec {
		tg, inst := v.Metric["target"], v.Metric["instance"]
		sh, ok := shardOf[inst]
		if !ok {
			return fmt.Errorf("%s: %s has no single http5xx_shard_info", loc, inst)
		}
		if sh.shards != shards {
			return fmt.Errorf("%s: %s runs %d shards, want %d", loc, inst, sh.shards, shards)
		}
		if by[tg] == nil {
			by[tg] = map[string][]string{}
		}
		by[tg][strconv.Itoa(sh.index)] = append(by[tg][strconv.Itoa(sh.index)], inst)
	}
	for _, tg := range s.targets {
		want := strconv.Itoa(shard.Owner(tg, shards))
		if len(by[tg]) != 1 || len(by[tg][want]) != len(replicas) {
			return fmt.Errorf("%s: %s is probed by %v, want shard %s by %d replicas", loc, tg, by[tg], want, len(replicas))
		}
	}
	if len(by) != len(s.targets) {
		return fmt.Errorf("%s: %d targets probed, %d configured", loc, len(by), len(s.targets))
	}
	return nil
}

type shardInfo struct{ index, shards int }

// shardOfInstances maps every live exporter of loc to its shard.
func (s *stack) shardOfInstances(ctx context.Context, loc string) (map[string]shardInfo, error) {
	r, err := s.vm.Query(ctx, `http5xx_shard_info{location="`+loc+`"}`, time.Now())
	if err != nil {
		return nil, err
	}
	vec, err := r.Vector()
	if err != nil {
		return nil, err
	}
	out := map[string]shardInfo{}
	seen := map[string]int{}
	for _, v := range vec {
		i, err1 := strconv.Atoi(v.Metric["shard"])
		n, err2 := strconv.Atoi(v.Metric["shards"])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("http5xx_shard_info %v: shard and shards are not numbers", v.Metric)
		}
		inst := v.Metric["instance"]
		out[inst] = shardInfo{i, n}
		seen[inst]++
	}
	for inst, n := range seen {
		if n > 1 { // the old and the new series of a restarted exporter
			delete(out, inst)
		}
	}
	return out, nil
}

// guardMet reports whether every target has the probes the rules need
// before a ratio may alert, from every location.
func (s *stack) guardMet(ctx context.Context) (bool, error) {
	r, err := s.vm.Query(ctx, `target_location:http5xx_probes:increase5m >= 5`, time.Now())
	if err != nil {
		return false, err
	}
	n, err := r.Len()
	return n == len(s.targets)*len(locations), err
}

// ownedBy lists the targets the rendezvous hash gives to shard index of
// shards.
func (s *stack) ownedBy(index, shards int) []string {
	var out []string
	for _, tg := range s.targets {
		if shard.Owner(tg, shards) == index {
			out = append(out, tg)
		}
	}
	return out
}

// revive starts a killed exporter again and waits until it is ready.
func (s *stack) revive(ctx context.Context, e *exporter) error {
	p, err := s.startExporter(e)
	if err != nil {
		return err
	}
	if err := p.WaitReady(ctx, "http://"+e.addr+"/-/ready", 30*time.Second); err != nil {
		return err
	}
	s.tl.Logf("restarted %s", e.name())
	return nil
}

// checkGlobalView: one series per target, location and exporter although
// both Prometheus servers of every pair write every sample, and no replica
// label left; both replicas of every pair do write.
func checkGlobalView(ctx context.Context, t *testing.T, s *stack) {
	t.Helper()
	for _, q := range []struct{ expr, want string }{
		{`count by (target, location, instance) (http5xx_probes_total) > 1`, "no series twice"},
		{`count({prometheus_replica!=""})`, "no series with the pair's replica label"},
	} {
		r, err := s.vm.Query(ctx, q.expr, time.Now())
		must(t, err)
		n, err := r.Len()
		must(t, err)
		if n != 0 {
			t.Errorf("global view: %s, but %s returns %d series", q.want, q.expr, n)
		}
	}
	r, err := s.vm.Query(ctx, `count by (target, location) (http5xx_probes_total)`, time.Now())
	must(t, err)
	vec, err := r.Vector()
	must(t, err)
	if len(vec) != len(s.targets)*len(locations) {
		t.Errorf("global view: %d target and location pairs, want %d", len(vec), len(s.targets)*len(locations))
	}
	for _, v := range vec {
		if v.Float() != float64(len(replicas)) {
			t.Errorf("global view: %s from %s has %v series, want one per exporter replica (%d)", v.Metric["target"], v.Metric["location"], v.Float(), len(replicas))
		}
	}
	r, err = s.vm.Query(ctx, `count by (target, location) (target_location:http5xx_probes:increase5m)`, time.Now())
	must(t, err)
	vec, err = r.Vector()
	must(t, err)
	for _, v := range vec {
		if v.Float() != 1 {
			t.Errorf("global view: the rule pack has %v series for %s from %s, want 1", v.Float(), v.Metric["target"], v.Metric["location"])
		}
	}
	for _, p := range s.proms {
		sent, err := samplesSent(ctx, p)
		must(t, err)
		if sent == 0 {
			t.Errorf("Prometheus %s has sent no sample to VictoriaMetrics: the pair's deduplication is not tested", p)
		}
	}
	s.tl.Logf("global view: one series per target, location and exporter; all %d Prometheus servers write", len(s.proms))
}

// samplesSent reads prometheus_remote_storage_samples_total from a
// Prometheus server's own /metrics.
func samplesSent(ctx context.Context, base string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var total float64
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "prometheus_remote_storage_samples_total") {
			continue
		}
		f := strings.Fields(l)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s/metrics: %q: %w", base, l, err)
		}
		total += v
	}
	return total, sc.Err()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
