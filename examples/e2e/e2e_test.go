//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/stacktest"
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
	tl := stacktest.NewTimeline()
	ctx := stacktest.Budget(t, tl, 4*time.Minute+30*time.Second)
	s := startStack(ctx, t, tl)
	stacktest.Watchdog(ctx, tl, s.ps)
	owners := stacktest.KnownOwners(t, filepath.Join("..", "..", "examples", "alertmanager.yml"))
	w := stacktest.NewWatcher(t, tl, s.global, s.global, s.rec, func(as []stacktest.PromAlert, ns []stacktest.Notification) []string {
		return invariants(as, ns, owners)
	})
	w.Scrapers = s.scrapers()

	// Warm-up: every target probed from every location, as the rules see it.
	err := stacktest.WaitFor(ctx, "every target probed from 3 locations", 90*time.Second, time.Second, func() (bool, error) {
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
			if v.Float() == 3 {
				seen[v.Metric["target"]] = true
			}
		}
		return len(seen) == len(allTargets), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tl.Logf("warm: every target probed from %v, as the global Prometheus sees it", locations)
	alerts, err := w.Poll(ctx)
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
	// A maintenance window of shop for the dashboards' annotation: it holds
	// back capacity alerts only, so storefront's 502s from ap (service
	// shop) still reach network below.
	for _, loc := range locations {
		must(t, s.send(ctx, "POST", s.exporters[loc]+"/api/v1/maintenance",
			`{"service":"shop","duration":"30m","reason":"database upgrade","id":"e2e-shop"}`))
	}
	tl.Logf("maintenance window of shop opened at the exporters of %v", locations)
	must(t, stacktest.WaitFor(ctx, "the deploy in the global Prometheus", 30*time.Second, 500*time.Millisecond, func() (bool, error) {
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

	expect := []stacktest.Expectation{
		{What: "payments: HTTP5xxGatewayErrors fires in eu, us and ap", Alerts: func(as []stacktest.PromAlert) bool {
			return stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxGatewayErrors", "target": "payments"}, "location") == 3
		}},
		{What: "payments: HTTP5xxFailingEverywhere fires for the gateway class", Alerts: func(as []stacktest.PromAlert) bool {
			return stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxFailingEverywhere", "target": "payments", "error_class": "gateway", "owner": "app-infra"}, "") > 0
		}},
		{What: "payments: the gateway alert reaches app-infra with target, service, owner and error_class", Notes: func(ns []stacktest.Notification) bool {
			return stacktest.Notified(ns, "app-infra-", "firing", stacktest.Labels{"target": "payments", "service": "payments", "owner": "app-infra", "error_class": "gateway"})
		}},
		{What: "storefront: HTTP5xxFailingLocally fires for ap", Alerts: func(as []stacktest.PromAlert) bool {
			return stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxFailingLocally", "target": "storefront", "location": "ap"}, "") > 0
		}},
		{What: "storefront: the failing-locally alert for ap reaches network", Notes: func(ns []stacktest.Notification) bool {
			return stacktest.Notified(ns, "network-", "firing", stacktest.Labels{"alertname": "HTTP5xxFailingLocally", "target": "storefront", "service": "shop", "location": "ap", "owner": "network", "error_class": "network"})
		}},
		{What: "checkout: HTTP5xxErrorsAfterDeploy fires with version " + deployedVersion, Alerts: func(as []stacktest.PromAlert) bool {
			return stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxErrorsAfterDeploy", "target": "checkout", "service": "checkout", "version": deployedVersion}, "") > 0
		}},
		{What: "checkout: the after-deploy alert reaches app-team with the version", Notes: func(ns []stacktest.Notification) bool {
			return stacktest.Notified(ns, "app-team-", "firing", stacktest.Labels{"alertname": "HTTP5xxErrorsAfterDeploy", "target": "checkout", "service": "checkout", "owner": "app-team", "version": deployedVersion})
		}},
		{What: "reports: HTTP5xxTimeoutErrors fires", Alerts: func(as []stacktest.PromAlert) bool {
			return stacktest.CountFiring(as, stacktest.Labels{"alertname": "HTTP5xxTimeoutErrors", "target": "reports", "owner": "db-api-owners"}, "location") > 0
		}},
		{What: "reports: a timeout alert reaches db-api-owners", Notes: func(ns []stacktest.Notification) bool {
			return stacktest.Notified(ns, "db-api-owners-", "firing", stacktest.Labels{"target": "reports", "service": "reports", "owner": "db-api-owners", "error_class": "timeout"})
		}},
		{What: "reports: hanging probes overlap their next slot, which is skipped", Query: `sum(http5xx_skipped_probes_total{target="reports",reason="overlap"}) > 0`},
	}
	must(t, w.Until(ctx, "incidents", 150*time.Second, expect))

	// The recovery.
	hit := map[string]bool{}
	for _, in := range incidents {
		must(t, s.send(ctx, "DELETE", s.origin+"/-/control/"+in.target, ""))
		hit[in.target] = true
	}
	tl.Logf("scenario started: the origin recovers (every scenario back to 200)")
	recovered := []stacktest.Expectation{
		{What: "no alert left on the incident targets (slow-burn SLO alerts aside)", Alerts: func(as []stacktest.PromAlert) bool {
			for _, a := range as {
				if hit[a.Labels["target"]] && !slowBurn(a.Labels) {
					return false
				}
			}
			return true
		}},
		{What: "every alert notified as firing was notified as resolved to the same receiver", Notes: func(ns []stacktest.Notification) bool {
			return len(unresolved(ns)) == 0
		}},
	}
	if err := w.Until(ctx, "recovery", 150*time.Second, recovered); err != nil {
		for _, u := range unresolved(s.rec.Notifications()) {
			t.Errorf("no resolved notification: %s", u)
		}
		t.Fatal(err)
	}
	for _, a := range w.Last() {
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

// invariants are what must never happen, however the timing falls: the
// routing contract of examples/alertmanager.yml, and the incidents' own.
func invariants(as []stacktest.PromAlert, ns []stacktest.Notification, owners map[string]bool) []string {
	bad := stacktest.RoutingViolations(ns, owners)
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
			if a.Labels["target"] == "payments" && !strings.HasPrefix(n.Receiver, "app-infra-") {
				bad = append(bad, fmt.Sprintf("payments' 502s reached %s: %s", n.Receiver, a.Labels))
			}
		}
	}
	return bad
}

// slowBurn is an SLO burn alert whose short window is 30m or more (2m at
// the test's speed): by design it keeps firing a while after the incident.
func slowBurn(l stacktest.Labels) bool {
	return l["alertname"] == "HTTP5xxErrorBudgetBurn" && l["long_window"] != "1h"
}

// unresolved lists the alerts a receiver was told are firing and has not
// been told since are resolved, slow-burn alerts aside.
func unresolved(ns []stacktest.Notification) []string {
	type rk struct{ receiver, key string }
	last := map[rk]stacktest.NotifiedAlert{}
	for _, n := range ns {
		for _, a := range n.Alerts {
			last[rk{n.Receiver, a.Labels.Key()}] = a
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
func checkDashboards(ctx context.Context, t *testing.T, s *stack, tl *stacktest.Timeline) {
	files, err := filepath.Glob(filepath.Join("..", "..", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in dashboards/ (%v)", err)
	}
	end := time.Now()
	start := tl.Start()
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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
