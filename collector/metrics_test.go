package collector

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

var update = flag.Bool("update", false, "rewrite golden files")

var goldenBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func goldenTargets() []*config.Target {
	return []*config.Target{
		{Name: "shop", Service: "shop", URL: "http://127.0.0.1:10506/", Owner: "web-team", Labels: map[string]string{"team": "payments", "tier": "gold"}},
		{Name: "checkout", Service: "shop", URL: "https://127.0.0.1:10507/status/500", Owner: "web-team"},
	}
}

// goldenResults is a fixed set of probes covering an answer of every class,
// a no-answer reason, a fingerprinted 5xx and a soft error.
func goldenResults() []probe.Result {
	start := time.Unix(1_700_000_000, 0)
	phases := func(r *probe.Result, ds ...time.Duration) {
		for i, d := range ds {
			r.Phases[i], r.PhaseSeen[i] = d, true
		}
	}
	ok := probe.Result{Target: "shop", Start: start, Duration: 120 * time.Millisecond, StatusCode: 200, Success: true, Verdict: triage.Verdict{Class: "2xx"}}
	phases(&ok, 2*time.Millisecond, 3*time.Millisecond, 0, 100*time.Millisecond, 15*time.Millisecond)
	ok.PhaseSeen[contract.PhaseTLS] = false
	ok.Conn = probe.Conn{Protocol: contract.ProtocolHTTP11, IPFamily: contract.FamilyIP4}
	busy := probe.Result{Target: "shop", Start: start.Add(time.Minute), Duration: 40 * time.Millisecond, StatusCode: 503, RetryAfter: 30 * time.Second}
	phases(&busy, time.Millisecond, time.Millisecond, 0, 30*time.Millisecond, time.Millisecond)
	bad := probe.Result{Target: "checkout", Start: start, Duration: 300 * time.Millisecond, StatusCode: 502, Verdict: triage.Verdict{Layer: "proxy", Product: "nginx"}}
	phases(&bad, time.Millisecond, 2*time.Millisecond, 3*time.Millisecond, 290*time.Millisecond, time.Millisecond)
	bad.Conn = goldenTLSConn(start)
	hung := probe.Result{Target: "checkout", Start: start.Add(time.Minute), Duration: 2 * time.Second, Reason: contract.ReasonTimeout, Err: errors.New("deadline")}
	phases(&hung, time.Millisecond, time.Millisecond)
	// A 200 that failed an expect condition: a failure with its code kept.
	soft := probe.Result{Target: "shop", Start: start.Add(2 * time.Minute), Duration: 80 * time.Millisecond, StatusCode: 200, Reason: contract.ReasonSoftError, Err: errors.New("expect[0] failed")}
	phases(&soft, time.Millisecond, time.Millisecond, 0, 70*time.Millisecond, 8*time.Millisecond)
	return []probe.Result{ok, busy, bad, hung, soft}
}

// goldenTLSConn is an HTTP/2 answer over IPv6 and TLS 1.3 whose leaf expires
// in 30 days and whose intermediate in 10.
func goldenTLSConn(now time.Time) probe.Conn {
	return probe.Conn{Protocol: contract.ProtocolHTTP2, IPFamily: contract.FamilyIP6, TLS: probe.TLSState{
		Version: contract.TLS13, Subject: "CN=shop.example.com", Issuer: "CN=Example Intermediate CA,O=Example",
		LeafNotAfter: now.Add(30 * 24 * time.Hour), ChainNotAfter: now.Add(10 * 24 * time.Hour), Verified: true,
	}}
}

func newGoldenRegistry(t *testing.T, location string) (*prometheus.Registry, *Metrics) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(MetricsOptions{Location: location, Buckets: goldenBuckets})
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	m.SetTargets(goldenTargets(), triage.Default(), true)
	return reg, m
}

func exposition(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

// observeGolden records the golden results in m, classified as the
// prober classifies them, and one overlap skip of checkout.
func observeGolden(m *Metrics) {
	for _, r := range goldenResults() {
		r.Class, r.Owner = m.classifier.Code(r.StatusCode)
		if r.Reason != contract.ReasonNone {
			r.Class, r.Owner = m.classifier.Reason(r.Reason)
		}
		m.Observe(&r)
	}
	m.Skipped("checkout", contract.SkipOverlap)
}

func TestGoldenMetrics(t *testing.T) {
	reg, m := newGoldenRegistry(t, "eu")
	observeGolden(m)
	m.Inflight.Set(0)
	m.Lag.Observe(0.002)
	m.ReloadOK.Set(1)
	m.ReloadTime.Set(1_700_000_000)
	for _, c := range extraGoldenCollectors(t) {
		reg.MustRegister(c)
	}
	got := normalize(exposition(t, reg))
	compareGolden(t, "testdata/metrics.golden", got)

	problems, err := promlint.NewWithMetricFamilies(mustGather(t, reg)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// normalize replaces build-dependent label values so the golden file does
// not change with the Go toolchain.
func normalize(s string) string {
	return regexp.MustCompile(`goversion="[^"]*"`).ReplaceAllString(s, `goversion="GOVERSION"`)
}

func mustGather(t *testing.T, g prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./collector -run Golden -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the gathered metrics (rerun with -update and review the diff):\n%s", path, lineDiff(string(want), got))
	}
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	in := func(ls []string) map[string]bool {
		m := map[string]bool{}
		for _, l := range ls {
			m[l] = true
		}
		return m
	}
	wm, gm := in(w), in(g)
	var b strings.Builder
	for _, l := range w {
		if !gm[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !wm[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// TestGoldenCoversContract: every metric of the contract appears in the
// golden file, so the rules' and dashboards' consistency tests see them all.
func TestGoldenCoversContract(t *testing.T) {
	b, err := os.ReadFile("testdata/metrics.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range contract.All() {
		if !strings.Contains(string(b), "# TYPE "+m.Name+" "+m.Type+"\n") {
			t.Errorf("metric %s (%s) is in the contract but not in testdata/metrics.golden", m.Name, m.Type)
		}
	}
}

func TestSeriesBudgetPerTarget(t *testing.T) {
	reg, m := newGoldenRegistry(t, "eu")
	// An HTTPS answer: every per-target series a default target can have.
	r := probe.Result{Target: "shop", Start: time.Unix(1, 0), Duration: time.Millisecond, StatusCode: 200, Success: true, Verdict: triage.Verdict{Class: "2xx"}}
	r.Conn = goldenTLSConn(r.Start)
	for p := contract.Phase(0); p < contract.NumPhases; p++ {
		r.PhaseSeen[p] = true
	}
	m.Observe(&r)
	n := 0
	for _, line := range strings.Split(exposition(t, reg), "\n") {
		if strings.HasPrefix(line, "http5xx_") && strings.Contains(line, `target="shop"`) {
			n++
		}
	}
	if n == 0 || n > 40 {
		t.Errorf("target shop has %d series with default settings, budget is 40", n)
	}
	t.Logf("series per target with defaults: %d", n)
}

// A hostile target answering random codes, with random products, cannot
// grow a target's series with what it sends: codes past maxExtraCodeSeries
// fold into code="other", one series per class (so error ratios and owners
// stay right), a bound set by the class table.
func TestSeriesBudgetPerTargetRandomCodes(t *testing.T) {
	reg, m := newGoldenRegistry(t, "eu")
	rnd := rand.New(rand.NewPCG(1, 2))
	layers := contract.Layers()
	for i := range 2000 {
		code := 100 + rnd.IntN(900)
		r := probe.Result{Target: "shop", Start: time.Unix(int64(i), 0), Duration: time.Millisecond, StatusCode: code}
		r.Class, r.Owner = m.classifier.Code(code)
		if code >= 500 {
			r.Layer, r.Product = layers[rnd.IntN(len(layers))], fmt.Sprintf("product-%d", rnd.IntN(50))
		}
		for p := contract.Phase(0); p < contract.NumPhases; p++ {
			r.PhaseSeen[p] = true
		}
		m.Observe(&r)
	}
	text := exposition(t, reg)
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "http5xx_") && strings.Contains(line, `target="shop"`) {
			n++
		}
	}
	// The 40 of a target's own answers, plus one code="other" series per
	// class and pseudo-class (1xx..9xx).
	bound := 40 + len(m.classifier.Classes()) + 9
	if n > bound {
		t.Errorf("target shop has %d series after 2000 random codes, bound is %d", n, bound)
	}
	if !strings.Contains(text, `code="other"`) {
		t.Error(`no code="other" series: the codes past the budget went nowhere`)
	}
	if v := seriesValue(t, reg, contract.ProbesTotal, "shop"); v != 2000 {
		t.Errorf("probes = %v, want 2000: folding must not lose answers", v)
	}
	var answers float64
	for _, mf := range gather(t, reg) {
		if mf.GetName() != contract.ResponsesTotal.Name {
			continue
		}
		for _, mt := range mf.GetMetric() {
			if hasLabel(mt, contract.LabelTarget, "shop") {
				answers += mt.GetCounter().GetValue()
			}
		}
	}
	if answers != 2000 {
		t.Errorf("responses of shop sum to %v, want 2000", answers)
	}
	t.Logf("series of a target answering random codes: %d", n)
}

// The exporter's own failure is counted as a skipped probe (reason
// exporter): no class, no owner, and nothing the target is judged by
// changes.
func TestExporterFailureIsTheExporters(t *testing.T) {
	reg, m := newGoldenRegistry(t, "")
	ok := probe.Result{Target: "shop", StatusCode: 200, Success: true, Verdict: triage.Verdict{Class: "2xx"}}
	m.Observe(&ok)
	failed := probe.Result{Target: "shop", Reason: contract.ReasonExporter, Verdict: triage.Verdict{Class: "exporter"}}
	m.Observe(&failed)
	if v := testutil.ToFloat64(m.skipped.WithLabelValues("shop", "shop", "exporter")); v != 1 {
		t.Errorf(`skipped_probes_total{reason="exporter"} = %v, want 1`, v)
	}
	if n := testutil.CollectAndCount(m.failures); n != 0 {
		t.Errorf("%d failure series, want none: the exporter's failure is not the target's", n)
	}
	if v := seriesValue(t, reg, contract.ProbesTotal, "shop"); v != 1 {
		t.Errorf("probes = %v, want 1: the exporter's failure is no probe of the target", v)
	}
	if v := seriesValue(t, reg, contract.TargetUp, "shop"); v != 1 {
		t.Errorf("up = %v, want 1: the target's state stays", v)
	}
}

func gather(t *testing.T, reg prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// responseCount is the http5xx_responses_total series of m with these
// labels, and whether m exports it.
func responseCount(t *testing.T, m *Metrics, target, service, code, class, owner string) (float64, bool) {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{contract.LabelTarget: target, contract.LabelService: service, contract.LabelCode: code, contract.LabelClass: class, contract.LabelOwner: owner}
	for _, mf := range gather(t, reg) {
		if mf.GetName() != contract.ResponsesTotal.Name {
			continue
		}
	series:
		for _, mt := range mf.GetMetric() {
			for name, value := range want {
				if !hasLabel(mt, name, value) {
					continue series
				}
			}
			return mt.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// must is the count of a series that must be exported.
func must(v float64, exported bool) float64 {
	if !exported {
		return math.NaN()
	}
	return v
}

// seriesValue is the value of the counter or gauge c of target.
func seriesValue(t *testing.T, reg prometheus.Gatherer, c contract.Metric, target string) float64 {
	t.Helper()
	for _, mf := range gather(t, reg) {
		if mf.GetName() != c.Name {
			continue
		}
		for _, mt := range mf.GetMetric() {
			if hasLabel(mt, contract.LabelTarget, target) {
				return mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s series of target %s", c.Name, target)
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func TestPrecreatedCodesAndRemoval(t *testing.T) {
	reg, m := newGoldenRegistry(t, "")
	for _, code := range []string{"200", "500", "502", "503", "504"} {
		if v, ok := responseCount(t, m, "shop", "shop", code, classOf(m, code), ownerOf(m, code)); !ok || v != 0 {
			t.Errorf("code %s starts at %v (exported: %v), want 0", code, v, ok)
		}
	}
	if strings.Contains(exposition(t, reg), "location=") {
		t.Error("location label exported although no location is set")
	}
	// Counters of an unchanged target survive; a removed target's series go.
	ok := probe.Result{Target: "shop", StatusCode: 200, Success: true}
	m.Observe(&ok)
	m.SetTargets(goldenTargets()[:1], m.classifier, false)
	if v := seriesValue(t, reg, contract.ProbesTotal, "shop"); v != 1 {
		t.Errorf("shop probes after reload = %v, want 1", v)
	}
	if strings.Contains(exposition(t, reg), `target="checkout"`) {
		t.Error("removed target checkout still exported")
	}
}

func classOf(m *Metrics, code string) string {
	c, _ := m.classifier.Code(atoi(code))
	return c
}

func ownerOf(m *Metrics, code string) string {
	_, o := m.classifier.Code(atoi(code))
	return o
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// A new class table changes the class and owner labels of the code and
// reason counters, and only those: what a target measured so far survives.
func TestClassChangeKeepsOtherSeries(t *testing.T) {
	reg, m := newGoldenRegistry(t, "")
	busy := probe.Result{Target: "shop", Duration: time.Second, StatusCode: 503}
	m.Observe(&busy)
	m.Skipped("shop", contract.SkipOverlap)

	classes := []config.Class{{Name: "busy", Codes: config.StatusCodes{{Lo: 503, Hi: 503}}, Owner: "capacity-team"}}
	m.SetTargets(goldenTargets(), mustFinisher(t, classes), true)

	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"probes_total", seriesValue(t, reg, contract.ProbesTotal, "shop"), 1},
		{"skipped_probes_total", testutil.ToFloat64(m.skipped.WithLabelValues("shop", "shop", string(contract.SkipOverlap))), 1},
		{"last_status_code", seriesValue(t, reg, contract.LastStatusCode, "shop"), 503},
		{"responses_total under the new class", must(responseCount(t, m, "shop", "shop", "503", "busy", "capacity-team")), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v after a class change, want %v", c.name, c.got, c.want)
		}
	}
	exp := exposition(t, reg)
	if !strings.Contains(exp, "http5xx_request_duration_seconds_count{service=\"shop\",target=\"shop\"} 1\n") {
		t.Error("request duration histogram of shop was reset by a class change")
	}
	if strings.Contains(exp, `class="capacity"`) {
		t.Error("a response series with the old class is still exported")
	}
}

// A result or skip racing the reload that removes its target must not bring
// the target's series back (they would never be deleted again). The race is
// narrow, so it is tried many times; a broken Metrics fails within a few.
func TestRemovedTargetSeriesStayGone(t *testing.T) {
	reg, m := newGoldenRegistry(t, "")
	c := m.classifier
	for i := range 2000 {
		m.SetTargets(goldenTargets(), c, false)
		ready := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			// A code and reason never seen before: their children are bound now.
			r := probe.Result{Target: "checkout", StatusCode: 100 + i%900}
			f := probe.Result{Target: "checkout", Reason: contract.Reason(1 + i%int(contract.NumReasons-1))}
			close(ready)
			m.Observe(&r)
			m.Observe(&f)
			m.Skipped("checkout", contract.SkipReason(fmt.Sprint("r", i)))
		})
		<-ready
		m.SetTargets(goldenTargets()[:1], c, false)
		wg.Wait()
		if strings.Contains(exposition(t, reg), `target="checkout"`) {
			t.Fatalf("iteration %d: removed target checkout is exported again", i)
		}
	}
}

func mustFinisher(t *testing.T, classes []config.Class) *triage.Finisher {
	t.Helper()
	f, err := triage.New(classes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// An answer whose page proves another cause than its code is counted under
// its exact code with the class and owner of the cause, beside the code's
// own series.
func TestResponsesCarryTheCause(t *testing.T) {
	m := NewMetrics(MetricsOptions{})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	m.SetTargets(goldenTargets(), triage.Default(), true)
	dead := probe.Result{Target: "shop", StatusCode: 503, Verdict: triage.Verdict{Class: "gateway", Owner: "app-infra", CodeClass: "capacity"}}
	busy := probe.Result{Target: "shop", StatusCode: 503, Verdict: triage.Verdict{Class: "capacity", Owner: "sre-oncall"}}
	m.Observe(&dead)
	m.Observe(&dead)
	m.Observe(&busy)
	for _, tc := range []struct {
		class, owner string
		want         float64
	}{{"gateway", "app-infra", 2}, {"capacity", "sre-oncall", 1}} {
		if got, _ := responseCount(t, m, "shop", "shop", "503", tc.class, tc.owner); got != tc.want {
			t.Errorf("503 as %s: %v, want %v", tc.class, got, tc.want)
		}
	}
}

// A password in a target's URL never reaches a label.
func TestTargetInfoRedactsThePassword(t *testing.T) {
	m := NewMetrics(MetricsOptions{})
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	m.SetTargets([]*config.Target{{Name: "shop", Service: "shop", URL: "https://probe:s3cret@shop.test/health"}}, triage.Default(), true)
	var out strings.Builder
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		out.WriteString(mf.String())
	}
	if strings.Contains(out.String(), "s3cret") {
		t.Errorf("the password is in a series:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "https://probe:xxxxx@shop.test/health") {
		t.Errorf("target_info lacks the redacted URL:\n%s", out.String())
	}
}

// TestTargetInfoLabels: each target's info series carries its own labels;
// changing them on a reload changes that series alone (the counters
// survive), and a removed target's info series is gone.
func TestTargetInfoLabels(t *testing.T) {
	m := NewMetrics(MetricsOptions{Location: "eu"})
	reg := prometheus.NewPedanticRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	shop := &config.Target{Name: "shop", Service: "shop", URL: "http://shop/", Labels: map[string]string{"team": "payments"}}
	api := &config.Target{Name: "api", Service: "api", URL: "http://api/", Owner: "api-team"}
	info := func() string {
		t.Helper()
		var lines []string
		for _, line := range strings.Split(exposition(t, reg), "\n") {
			if strings.HasPrefix(line, "http5xx_target_info{") || strings.HasPrefix(line, `http5xx_probes_total{`) {
				lines = append(lines, line)
			}
		}
		return strings.Join(lines, "\n")
	}
	steps := []struct {
		name    string
		targets []*config.Target
		want    string
	}{
		{"two targets, one with labels", []*config.Target{shop, api}, `http5xx_probes_total{location="eu",service="api",target="api"} 0
http5xx_probes_total{location="eu",service="shop",target="shop"} 1
http5xx_target_info{location="eu",owner="api-team",service="api",target="api",url="http://api/"} 1
http5xx_target_info{location="eu",owner="",service="shop",target="shop",team="payments",url="http://shop/"} 1`},
		{"labels changed: counters stay", []*config.Target{
			{Name: "shop", Service: "shop", URL: "http://shop/", Labels: map[string]string{"team": "checkout", "tier": "gold"}}, api,
		}, `http5xx_probes_total{location="eu",service="api",target="api"} 0
http5xx_probes_total{location="eu",service="shop",target="shop"} 1
http5xx_target_info{location="eu",owner="api-team",service="api",target="api",url="http://api/"} 1
http5xx_target_info{location="eu",owner="",service="shop",target="shop",team="checkout",tier="gold",url="http://shop/"} 1`},
		{"target removed", []*config.Target{api}, `http5xx_probes_total{location="eu",service="api",target="api"} 0
http5xx_target_info{location="eu",owner="api-team",service="api",target="api",url="http://api/"} 1`},
	}
	for i, st := range steps {
		m.SetTargets(st.targets, triage.Default(), false)
		if i == 0 {
			m.Observe(&probe.Result{Target: "shop", StatusCode: 200, Success: true, Verdict: triage.Verdict{Class: "2xx"}})
		}
		if got := info(); got != st.want {
			t.Errorf("%s:\n got:\n%s\nwant:\n%s", st.name, got, st.want)
		}
	}
}

// TestConnectionSeries: http5xx_connection_info is one series per target,
// replaced when the connection changes, never accumulating; the
// certificate expiry stays through probes that saw no certificate and
// follows a renewed one.
func TestConnectionSeries(t *testing.T) {
	reg, m := newGoldenRegistry(t, "")
	start := time.Unix(1_700_000_000, 0)
	renewed := goldenTLSConn(start)
	renewed.TLS.LeafNotAfter = start.Add(90 * 24 * time.Hour)
	renewed.TLS.Issuer = "CN=Another CA"
	h1 := goldenTLSConn(start)
	h1.Protocol = contract.ProtocolHTTP11
	for _, tc := range []struct {
		name      string
		conn      probe.Conn
		reason    contract.Reason
		wantInfo  string // the one connection_info series of shop
		wantLeaf  float64
		wantChain float64
	}{
		{"first answer", goldenTLSConn(start), 0,
			`cert_issuer="CN=Example Intermediate CA,O=Example",cert_subject="CN=shop.example.com",ip_family="ip6",protocol="HTTP/2.0"`, 1.702592e9, 1.700864e9},
		{"a timeout changes nothing", probe.Conn{}, contract.ReasonTimeout,
			`cert_issuer="CN=Example Intermediate CA,O=Example",cert_subject="CN=shop.example.com",ip_family="ip6",protocol="HTTP/2.0"`, 1.702592e9, 1.700864e9},
		{"protocol changes: replaced", h1, 0,
			`cert_issuer="CN=Example Intermediate CA,O=Example",cert_subject="CN=shop.example.com",ip_family="ip6",protocol="HTTP/1.1"`, 1.702592e9, 1.700864e9},
		{"certificate renewed: replaced", renewed, 0,
			`cert_issuer="CN=Another CA",cert_subject="CN=shop.example.com",ip_family="ip6",protocol="HTTP/2.0"`, 1.707776e9, 1.700864e9},
		{"plain HTTP now: no TLS labels, expiry kept", probe.Conn{Protocol: contract.ProtocolHTTP11, IPFamily: contract.FamilyIP4}, 0,
			`cert_issuer="",cert_subject="",ip_family="ip4",protocol="HTTP/1.1"`, 1.707776e9, 1.700864e9},
	} {
		r := probe.Result{Target: "shop", Start: start, Duration: time.Millisecond, StatusCode: 200, Reason: tc.reason, Conn: tc.conn}
		if tc.reason != contract.ReasonNone {
			r.StatusCode = 0
		}
		m.Observe(&r)
		var info []string
		leaf, chain := -1.0, -1.0
		for _, mf := range mustGather(t, reg) {
			for _, s := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range s.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["target"] != "shop" {
					continue
				}
				switch mf.GetName() {
				case contract.ConnectionInfo.Name:
					info = append(info, fmt.Sprintf(`cert_issuer=%q,cert_subject=%q,ip_family=%q,protocol=%q`,
						labels["cert_issuer"], labels["cert_subject"], labels["ip_family"], labels["protocol"]))
				case contract.TLSCertNotAfter.Name:
					if labels["cert"] == contract.CertLeaf {
						leaf = s.GetGauge().GetValue()
					} else {
						chain = s.GetGauge().GetValue()
					}
				}
			}
		}
		if len(info) != 1 || info[0] != tc.wantInfo {
			t.Errorf("%s: connection_info %q, want exactly [%s]", tc.name, info, tc.wantInfo)
		}
		if leaf != tc.wantLeaf || chain != tc.wantChain {
			t.Errorf("%s: leaf %g chain %g, want %g %g", tc.name, leaf, chain, tc.wantLeaf, tc.wantChain)
		}
	}
}
