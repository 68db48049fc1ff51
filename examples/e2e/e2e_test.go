//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The targets of examples/multi-location/http5xx.yml.
var allTargets = []string{"shop", "payments", "storefront", "checkout", "reports"}

// deployedVersion is what the deploy scenario records for checkout.
const deployedVersion = "2.4.1"

// TestEndToEnd plays four incidents on the whole stack at once, each on its
// own target, then the recovery, then reads every dashboard query:
//
//	payments    502 to everyone       -> gateway alert, app-infra paged, nobody else
//	storefront  502 only for ap       -> failing-locally alert for ap, never "everywhere"
//	checkout    deploy, then 500s     -> errors-after-deploy alert with the version
//	reports     hangs past its timeout -> timeout alert to db-api-owners, skipped probes
//	recovery                           -> alerts resolve, receivers get "resolved"
func TestEndToEnd(t *testing.T) {
	tl := newTimeline()
	ctx := budget(t, tl, 4*time.Minute+30*time.Second)
	s := startStack(ctx, t, tl)
	go func() { // the watchdog's last resort; Stop in t.Cleanup does the rest
		<-ctx.Done()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			tl.Logf("watchdog: the test's time budget is over, killing the stack")
			s.ps.Kill()
		}
	}()
	owners := knownOwners(t, filepath.Join("..", "..", "examples", "alertmanager.yml"))
	w := &watcher{t: t, s: s, owners: owners, state: map[string]string{}, reported: map[string]bool{}}

	// Warm-up: every target probed from every location, as the rules see it.
	err := waitFor(ctx, "every target probed from 3 locations", 90*time.Second, time.Second, func() (bool, error) {
		r, err := s.global.Query(ctx, `target:http5xx_locations:count`, time.Now())
		if err != nil {
			return false, err
		}
		vec, err := r.Vector()
		if err != nil {
			return false, err
		}
		seen := map[string]bool{}
		for _, v := range vec {
			if value(v) == 3 {
				seen[v.Metric["target"]] = true
			}
		}
		return len(seen) == len(allTargets), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tl.Logf("warm: every target probed from %v, as the global Prometheus sees it", locations)
	alerts, err := w.poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if a.State == "firing" {
			t.Fatalf("%s fires before any incident", a.Labels)
		}
	}

	// The incidents.
	must(t, s.send(ctx, "PUT", s.origin+"/-/saturation", `{"active":40,"max":100}`))
	for _, loc := range locations {
		must(t, s.send(ctx, "POST", s.exporters[loc]+"/api/v1/deploys", `{"service":"checkout","version":"`+deployedVersion+`"}`))
	}
	tl.Logf("deploy of checkout %s recorded at the exporters of %v", deployedVersion, locations)
	must(t, waitFor(ctx, "the deploy in the global Prometheus", 30*time.Second, 500*time.Millisecond, func() (bool, error) {
		r, err := s.global.Query(ctx, `http5xx_deploy_info{service="checkout",version="`+deployedVersion+`"} == 1`, time.Now())
		if err != nil {
			return false, err
		}
		n, err := r.Len()
		return n == len(locations), err
	}))
	tl.Logf("deploy visible in the global Prometheus from every location")
	incidents := []struct{ what, target, behaviour string }{
		{"payments answers 502 to everyone", "payments", `{"status":502,"as":"nginx"}`},
		{"storefront answers 502 to probes from ap only", "storefront", `{"status":200,"locations":{"ap":{"status":502,"as":"cloudflare"}}}`},
		{"checkout answers 500 after its deploy", "checkout", `{"status":500}`},
		{"reports hangs past the probe timeout", "reports", `{"mode":"hang"}`},
	}
	for _, in := range incidents {
		must(t, s.send(ctx, "PUT", s.origin+"/-/control/"+in.target, in.behaviour))
		tl.Logf("scenario started: %s", in.what)
	}

	expect := []expectation{
		{what: "payments: HTTP5xxGatewayErrors fires in eu, us and ap", alerts: func(as []promAlert) bool {
			return countFiring(as, labels{"alertname": "HTTP5xxGatewayErrors", "target": "payments"}, "location") == 3
		}},
		{what: "payments: HTTP5xxFailingEverywhere fires for the gateway class", alerts: func(as []promAlert) bool {
			return countFiring(as, labels{"alertname": "HTTP5xxFailingEverywhere", "target": "payments", "error_class": "gateway", "owner": "app-infra"}, "") > 0
		}},
		{what: "payments: the gateway alert reaches app-infra with target, service, owner and error_class", notes: func(ns []notification) bool {
			return notified(ns, "app-infra-", "firing", labels{"target": "payments", "service": "payments", "owner": "app-infra", "error_class": "gateway"})
		}},
		{what: "storefront: HTTP5xxFailingLocally fires for ap", alerts: func(as []promAlert) bool {
			return countFiring(as, labels{"alertname": "HTTP5xxFailingLocally", "target": "storefront", "location": "ap"}, "") > 0
		}},
		{what: "storefront: the failing-locally alert for ap reaches network", notes: func(ns []notification) bool {
			return notified(ns, "network-", "firing", labels{"alertname": "HTTP5xxFailingLocally", "target": "storefront", "service": "shop", "location": "ap", "owner": "network", "error_class": "network"})
		}},
		{what: "checkout: HTTP5xxErrorsAfterDeploy fires with version " + deployedVersion, alerts: func(as []promAlert) bool {
			return countFiring(as, labels{"alertname": "HTTP5xxErrorsAfterDeploy", "target": "checkout", "service": "checkout", "version": deployedVersion}, "") > 0
		}},
		{what: "checkout: the after-deploy alert reaches app-team with the version", notes: func(ns []notification) bool {
			return notified(ns, "app-team-", "firing", labels{"alertname": "HTTP5xxErrorsAfterDeploy", "target": "checkout", "service": "checkout", "owner": "app-team", "version": deployedVersion})
		}},
		{what: "reports: HTTP5xxTimeoutErrors fires", alerts: func(as []promAlert) bool {
			return countFiring(as, labels{"alertname": "HTTP5xxTimeoutErrors", "target": "reports", "owner": "db-api-owners"}, "location") > 0
		}},
		{what: "reports: a timeout alert reaches db-api-owners", notes: func(ns []notification) bool {
			return notified(ns, "db-api-owners-", "firing", labels{"target": "reports", "service": "reports", "owner": "db-api-owners", "error_class": "timeout"})
		}},
		{what: "reports: hanging probes overlap their next slot, which is skipped", query: `sum(http5xx_skipped_probes_total{target="reports",reason="overlap"}) > 0`},
	}
	must(t, w.until(ctx, "incidents", 150*time.Second, expect))

	// The recovery.
	hit := map[string]bool{}
	for _, in := range incidents {
		must(t, s.send(ctx, "DELETE", s.origin+"/-/control/"+in.target, ""))
		hit[in.target] = true
	}
	tl.Logf("scenario started: the origin recovers (every scenario back to 200)")
	recovered := []expectation{
		{what: "no alert left on the incident targets (slow-burn SLO alerts aside)", alerts: func(as []promAlert) bool {
			for _, a := range as {
				if hit[a.Labels["target"]] && !slowBurn(a.Labels) {
					return false
				}
			}
			return true
		}},
		{what: "every alert notified as firing was notified as resolved to the same receiver", notes: func(ns []notification) bool {
			return len(unresolved(ns)) == 0
		}},
	}
	if err := w.until(ctx, "recovery", 150*time.Second, recovered); err != nil {
		for _, u := range unresolved(s.rec.Notifications()) {
			t.Errorf("no resolved notification: %s", u)
		}
		t.Fatal(err)
	}
	for _, a := range w.last {
		if slowBurn(a.Labels) {
			tl.Logf("still %s, by design: %s (its short window outlasts the incident)", a.State, a.Labels)
		}
	}

	// The dashboards, against everything the incidents left in Prometheus.
	checkDashboards(ctx, t, s, tl)

	// Who was told what.
	perReceiver := map[string]int{}
	for _, n := range s.rec.Notifications() {
		perReceiver[n.Receiver]++
	}
	tl.Logf("notifications per receiver: %v", perReceiver)
}

// budget returns a context that ends before the test binary's -timeout
// would, so that a stuck wait fails the test with its cleanups run.
func budget(t *testing.T, tl *timeline, max time.Duration) context.Context {
	d := max
	if dl, ok := t.Deadline(); ok {
		d = min(d, time.Until(dl)-30*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	tl.Logf("time budget %s", d.Round(time.Second))
	return ctx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// knownOwners are the owners examples/alertmanager.yml has receivers for:
// the part of each receiver name before -chat or -pager.
func knownOwners(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Receivers []struct {
			Name string `yaml:"name"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	owners := map[string]bool{}
	for _, r := range cfg.Receivers {
		if o, ok := receiverOwner(r.Name); ok {
			owners[o] = true
		}
	}
	if len(owners) == 0 {
		t.Fatalf("%s: no <owner>-chat or <owner>-pager receivers", path)
	}
	return owners
}

// receiverOwner splits a receiver name "<owner>-chat" or "<owner>-pager".
func receiverOwner(name string) (string, bool) {
	for _, suffix := range []string{"-chat", "-pager"} {
		if o, ok := strings.CutSuffix(name, suffix); ok {
			return o, true
		}
	}
	return "", false
}

// expectation is one outcome the test waits for: on Prometheus' alerts, on
// the notifications, or a PromQL query that must return data.
type expectation struct {
	what   string
	alerts func([]promAlert) bool
	notes  func([]notification) bool
	query  string
	met    bool
}

// watcher polls Prometheus' alerts and the recorder, prints every change
// to the timeline and checks the invariants on each poll.
type watcher struct {
	t        *testing.T
	s        *stack
	owners   map[string]bool
	state    map[string]string // alert key -> pending or firing
	last     []promAlert
	reported map[string]bool // invariant violations already reported
}

func (w *watcher) poll(ctx context.Context) ([]promAlert, error) {
	as, err := w.s.global.Alerts(ctx)
	if err != nil {
		return nil, err
	}
	now := map[string]string{}
	byKey := map[string]labels{}
	for _, a := range as {
		k := a.Labels.key()
		now[k], byKey[k] = a.State, a.Labels
		if w.state[k] != a.State {
			w.s.tl.Logf("alert %s: %s", a.State, a.Labels)
		}
	}
	for k, st := range w.state {
		if _, ok := now[k]; !ok {
			w.s.tl.Logf("alert inactive (was %s): %s", st, parseKey(k))
		}
	}
	w.state, w.last = now, as
	return as, nil
}

// until polls every half second until every expectation is met, or fails
// after within. Invariants are checked on every poll.
func (w *watcher) until(ctx context.Context, phase string, within time.Duration, exp []expectation) error {
	err := waitFor(ctx, phase, within, 500*time.Millisecond, func() (bool, error) {
		as, err := w.poll(ctx)
		if err != nil {
			return false, err
		}
		ns := w.s.rec.Notifications()
		w.invariants(as, ns)
		all := true
		for i := range exp {
			e := &exp[i]
			if e.met {
				continue
			}
			switch {
			case e.alerts != nil:
				e.met = e.alerts(as)
			case e.notes != nil:
				e.met = e.notes(ns)
			case e.query != "":
				r, err := w.s.global.Query(ctx, e.query, time.Now())
				if err != nil {
					return false, err
				}
				n, err := r.Len()
				if err != nil {
					return false, err
				}
				e.met = n > 0
			}
			if e.met {
				w.s.tl.Logf("ok: %s", e.what)
			} else {
				all = false
			}
		}
		return all, nil
	})
	if err != nil {
		var missing []string
		for _, e := range exp {
			if !e.met {
				missing = append(missing, e.what)
			}
		}
		return fmt.Errorf("%w; still missing:\n  %s", err, strings.Join(missing, "\n  "))
	}
	return nil
}

// invariants are what must never happen, however the timing falls.
func (w *watcher) invariants(as []promAlert, ns []notification) {
	var bad []string
	for _, a := range as {
		if a.Labels["target"] != "storefront" {
			continue
		}
		if a.Labels["alertname"] == "HTTP5xxFailingEverywhere" {
			bad = append(bad, fmt.Sprintf("storefront fails only from ap, yet %s is %s", a.Labels, a.State))
		}
		if a.Labels["location"] != "ap" {
			bad = append(bad, fmt.Sprintf("storefront fails only from ap, yet %s is %s", a.Labels, a.State))
		}
	}
	for _, n := range ns {
		for _, a := range n.Alerts {
			l := a.Labels
			if l["target"] == "payments" && !strings.HasPrefix(n.Receiver, "app-infra-") {
				bad = append(bad, fmt.Sprintf("payments' 502s reached %s: %s", n.Receiver, l))
			}
			// The right owner, on the right channel: <owner>-pager for
			// critical alerts, <owner>-chat otherwise; owners Alertmanager
			// does not know fall back to sre-oncall.
			owner := l["owner"]
			if !w.owners[owner] {
				owner = "sre-oncall"
			}
			channel := "chat"
			if l["severity"] == "critical" {
				channel = "pager"
			}
			if want := owner + "-" + channel; n.Receiver != want {
				bad = append(bad, fmt.Sprintf("%s reached %s, want %s", l, n.Receiver, want))
			}
			// What the person paged reads: every template rendered.
			for name, text := range a.Annotations {
				if strings.Contains(text, "error expanding template") || strings.Contains(text, "<no value>") {
					bad = append(bad, fmt.Sprintf("%s: annotation %s did not render: %s", l, name, text))
				}
			}
		}
	}
	for _, b := range bad {
		if !w.reported[b] {
			w.reported[b] = true
			w.s.tl.Logf("VIOLATION: %s", b)
			w.t.Errorf("%s", b)
		}
	}
}

// countFiring counts firing alerts with the labels of want; with distinct
// set, it counts distinct values of that label instead.
func countFiring(as []promAlert, want labels, distinct string) int {
	seen := map[string]bool{}
	n := 0
	for _, a := range as {
		if a.State == "firing" && a.Labels.has(want) {
			n++
			seen[a.Labels[distinct]] = true
		}
	}
	if distinct != "" {
		return len(seen)
	}
	return n
}

// notified reports whether a receiver whose name starts with prefix got an
// alert with the labels of want in the given status.
func notified(ns []notification, prefix, status string, want labels) bool {
	for _, n := range ns {
		if !strings.HasPrefix(n.Receiver, prefix) {
			continue
		}
		for _, a := range n.Alerts {
			if a.Status == status && a.Labels.has(want) {
				return true
			}
		}
	}
	return false
}

// slowBurn is an SLO burn alert whose short window is 30m or more (2m at
// the test's speed): by design it keeps firing a while after the incident.
func slowBurn(l labels) bool {
	return l["alertname"] == "HTTP5xxErrorBudgetBurn" && l["long_window"] != "1h"
}

// unresolved lists the alerts a receiver was told are firing and has not
// been told since are resolved, slow-burn alerts aside.
func unresolved(ns []notification) []string {
	type rk struct{ receiver, key string }
	last := map[rk]notifiedAlert{}
	for _, n := range ns {
		for _, a := range n.Alerts {
			last[rk{n.Receiver, a.Labels.key()}] = a
		}
	}
	var out []string
	for k, a := range last {
		if a.Status != "resolved" && !slowBurn(a.Labels) {
			out = append(out, k.receiver+": "+a.Labels.String())
		}
	}
	slices.Sort(out)
	return out
}

// parseKey turns labels.key() back into labels, for the timeline.
func parseKey(k string) labels {
	l := labels{}
	for k != "" {
		name, rest, _ := strings.Cut(k, "=")
		v, err := strconv.QuotedPrefix(rest)
		if err != nil {
			break
		}
		l[name], _ = strconv.Unquote(v)
		k = strings.TrimPrefix(rest[len(v):], ",")
	}
	return l
}

// value is the number of an instant vector element.
func value(s series) float64 {
	if len(s.Value) != 2 {
		return 0
	}
	str, _ := s.Value[1].(string)
	v, _ := strconv.ParseFloat(str, 64)
	return v
}

// absentHere are the metrics this setup cannot produce, with the reason: a
// query reading one may have no data (it still runs, so a query Prometheus
// rejects fails all the same).
var absentHere = map[string]string{
	"http5xx_tls_cert_not_after_timestamp_seconds": "the origin speaks plain HTTP, no certificate to read",
}

// notHere says why a query without data is expected to have none here, or
// "" when it is not.
func notHere(c dashboardCheck) string {
	if !strings.HasPrefix(c.Problem, "no data") {
		return ""
	}
	for metric, why := range absentHere {
		if strings.Contains(c.Query.Expr, metric) {
			return why
		}
	}
	return ""
}

// checkDashboards runs every query of every dashboard over the test's time
// range and fails for each one without data.
func checkDashboards(ctx context.Context, t *testing.T, s *stack, tl *timeline) {
	files, err := filepath.Glob(filepath.Join("..", "..", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in dashboards/ (%v)", err)
	}
	end := time.Now()
	start := tl.start
	total, empty := 0, 0
	for _, f := range files {
		d, err := loadDashboard(f)
		if err != nil {
			t.Fatal(err)
		}
		checks, err := checkDashboard(ctx, s.global, d, start, end)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			total++
			if why := notHere(c); why != "" {
				fmt.Printf("      %-20s %-50s no data, as expected: %s\n", c.Query.Dashboard, trim(c.Query.Where, 50), why)
				continue
			}
			if c.Problem != "" {
				empty++
				t.Errorf("dashboard %s, %s: %s\n  %s", c.Query.Dashboard, c.Query.Where, c.Problem, c.Query.Expr)
				continue
			}
			choice := ""
			if c.Choice != "" && !strings.HasPrefix(c.Query.Where, "variable") {
				choice = " (target " + c.Choice + ")"
			}
			fmt.Printf("      %-20s %-50s %3d series%s\n", c.Query.Dashboard, trim(c.Query.Where, 50), c.Series, choice)
		}
	}
	tl.Logf("dashboards: %d queries, %d without data", total, empty)
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
