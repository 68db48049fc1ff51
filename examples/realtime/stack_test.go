//go:build realtime

package realtime

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/examples/stacktest"
)

// probeInterval is global.interval of http5xx.yml and the pack's
// probe_interval: the production default, not compressed.
const probeInterval = 15 * time.Second

var locations = []string{"eu", "us", "ap"}

// The addresses of the reference files in this folder; the test replaces
// them with free loopback ports in its copies.
const (
	refOrigin       = "127.0.0.1:10506"
	refAlertmanager = "127.0.0.1:9093"
)

var refExporter = map[string]string{"eu": "127.0.0.1:10515", "us": "127.0.0.1:10525", "ap": "127.0.0.1:10535"}

// stack is the running product: the demo origin, an exporter per location,
// one Prometheus that scrapes them and evaluates the pack, Alertmanager.
type stack struct {
	tl        *stacktest.Timeline
	ps        *stacktest.Processes
	rec       *stacktest.Recorder
	client    *http.Client
	origin    string            // base URL of the demo origin
	exporters map[string]string // location -> base URL
	prom      stacktest.PromAPI
}

// startStack copies the reference configuration with free ports, points
// Prometheus at the repository's rule files as they are, and starts
// everything, returning once every component answers ready.
func startStack(ctx context.Context, t *testing.T, tl *stacktest.Timeline) *stack {
	t.Helper()
	w := stacktest.NewWorkspace(t, tl,
		[]string{"http5xx_exporter", "demo-origin", "prometheus", "promtool", "alertmanager", "amtool"},
		"data", "config")
	root, bin, tmp, rec, hook, ps := w.Root, w.Bin, w.Dir, w.Rec, w.Hook, w.Procs

	ports, err := stacktest.FreePorts(6)
	if err != nil {
		t.Fatal(err)
	}
	at := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	addr := map[string]string{refOrigin: at(0), refAlertmanager: at(1)}
	prom := at(2)
	for i, loc := range locations {
		addr[refExporter[loc]] = at(3 + i)
	}
	s := &stack{
		tl: tl, ps: ps, rec: rec,
		client:    &http.Client{Timeout: 5 * time.Second},
		origin:    "http://" + addr[refOrigin],
		exporters: map[string]string{},
		prom:      stacktest.PromAPI{Base: "http://" + prom, Client: &http.Client{Timeout: 10 * time.Second}},
	}

	here := filepath.Join(root, "examples", "realtime")
	cfg := func(name string) string { return filepath.Join(tmp, "config", name) }
	rules := filepath.Join(root, "rules") + string(filepath.Separator)
	copyEdited(t, filepath.Join(here, "http5xx.yml"), cfg("http5xx.yml"), func(b []byte) ([]byte, error) {
		return stacktest.ReplaceAddresses(b, addr), nil
	})
	// The rule files are read where they are: the generated pack, as shipped.
	copyEdited(t, filepath.Join(here, "prometheus.yml"), cfg("prometheus.yml"), func(b []byte) ([]byte, error) {
		return []byte(strings.ReplaceAll(string(stacktest.ReplaceAddresses(b, addr)), "../../rules/", rules)), nil
	})
	// The shipped routing; only the receivers' URLs change.
	copyEdited(t, filepath.Join(root, "examples", "alertmanager.yml"), cfg("alertmanager.yml"), func(b []byte) ([]byte, error) {
		return stacktest.PointReceivers(b, hook.URL)
	})
	stacktest.Run(t, filepath.Join(bin, "promtool"), "check", "config", cfg("prometheus.yml"))
	stacktest.Run(t, filepath.Join(bin, "amtool"), "check-config", cfg("alertmanager.yml"))
	stacktest.Run(t, filepath.Join(bin, "http5xx_exporter"), "config", "check", cfg("http5xx.yml"))

	type component struct {
		p     *stacktest.Process
		ready string
	}
	var all []component
	start := func(name, b, ready string, args ...string) {
		p, err := ps.Start(name, filepath.Join(bin, b), args...)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, component{p, ready})
	}
	data := func(name string) string { return filepath.Join(tmp, "data", name) }

	start("demo-origin", "demo-origin", s.origin+"/-/healthy", "--web.listen-address="+addr[refOrigin])
	for _, loc := range locations {
		a := addr[refExporter[loc]]
		s.exporters[loc] = "http://" + a
		start("exporter-"+loc, "http5xx_exporter", "http://"+a+"/-/ready",
			"--config.file="+cfg("http5xx.yml"),
			"--location="+loc,
			"--web.listen-address="+a,
			"--storage.path="+data("exporter-"+loc), // deploys and maintenance windows
			// Loopback only; a real exporter takes a --deploy.token-file.
			"--deploy.allow-unauthenticated")
	}
	start("alertmanager", "alertmanager", "http://"+addr[refAlertmanager]+"/-/ready",
		"--config.file="+cfg("alertmanager.yml"),
		"--storage.path="+data("alertmanager"),
		"--web.listen-address="+addr[refAlertmanager],
		"--cluster.listen-address=") // empty: no clustering, no gossip port
	start("prometheus", "prometheus", s.prom.Base+"/-/ready",
		"--config.file="+cfg("prometheus.yml"),
		"--storage.tsdb.path="+data("prometheus"),
		"--web.listen-address="+prom)
	for _, c := range all {
		if err := c.p.WaitReady(ctx, c.ready, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	tl.Logf("stack ready: origin %s, exporters %v, Prometheus %s, Alertmanager %s, recorder %s",
		s.origin, s.exporters, s.prom.Base, "http://"+addr[refAlertmanager], hook.URL)
	return s
}

// copyEdited copies src to dst through edit.
func copyEdited(t *testing.T, src, dst string, edit func([]byte) ([]byte, error)) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = edit(b); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// send makes a control or API call and fails on anything but 2xx.
func (s *stack) send(ctx context.Context, method, url, body string) error {
	return stacktest.Send(ctx, s.client, method, url, body)
}

// probe is one probe an exporter made: when, and the status code it got.
type probe struct {
	At   time.Time
	Code int
}

// probeLog watches every exporter's /metrics and keeps each probe it sees,
// per target and location, from http5xx_last_probe_timestamp_seconds and
// http5xx_last_status_code: the exact moment of the first failed probe,
// and the phase of each location's probe schedule.
type probeLog struct {
	mu     sync.Mutex
	probes map[string][]probe // target/location -> in order
}

func newProbeLog() *probeLog { return &probeLog{probes: map[string][]probe{}} }

// watch reads every exporter every 250 ms until ctx ends: far more often
// than a target is probed, so no probe is missed.
func (pl *probeLog) watch(ctx context.Context, s *stack) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, loc := range locations {
			_ = pl.read(ctx, s, loc) // a failed read is retried at the next tick
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (pl *probeLog) read(ctx context.Context, s *stack, loc string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.exporters[loc]+"/metrics", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return err
	}
	codes := map[string]int{}
	for _, m := range families["http5xx_last_status_code"].GetMetric() {
		codes[label(m, "target")] = int(m.GetGauge().GetValue())
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for _, m := range families["http5xx_last_probe_timestamp_seconds"].GetMetric() {
		target := label(m, "target")
		ts := m.GetGauge().GetValue()
		if ts <= 0 {
			continue
		}
		sec, frac := math.Modf(ts)
		at := time.Unix(int64(sec), int64(frac*1e9))
		key := target + "/" + loc
		ps := pl.probes[key]
		if n := len(ps); n > 0 && !at.After(ps[n-1].At) {
			continue
		}
		pl.probes[key] = append(ps, probe{At: at, Code: codes[target]})
	}
	return nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// seen reports whether every location has probed target at least n times.
func (pl *probeLog) seen(target string, n int) bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for _, loc := range locations {
		if len(pl.probes[target+"/"+loc]) < n {
			return false
		}
	}
	return true
}

// firstWith is the earliest probe of target, from any location, at or
// after since that got code.
func (pl *probeLog) firstWith(target string, code int, since time.Time) (probe, string, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var best probe
	var where string
	for _, loc := range locations {
		for _, p := range pl.probes[target+"/"+loc] {
			if p.Code == code && !p.At.Before(since) {
				if where == "" || p.At.Before(best.At) {
					best, where = p, loc
				}
				break
			}
		}
	}
	return best, where, where != ""
}

// failedRuns is, per location, the longest run of probes in a row of
// target that got code.
func (pl *probeLog) failedRuns(target string, code int) map[string]int {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	out := map[string]int{}
	for _, loc := range locations {
		run := 0
		for _, p := range pl.probes[target+"/"+loc] {
			if p.Code == code {
				run++
				out[loc] = max(out[loc], run)
			} else {
				run = 0
			}
		}
	}
	return out
}

// quietMoment returns the moment between earliest and earliest + one probe
// interval that lies farthest from every location's next probe of target.
// Switching the origin there, a 60 s failure (or each 60 s half of a flap)
// gets exactly 4 probes from each location, never 5 by a probe that lands
// on the switch: a test of what a 60 s failure does, not of the race at
// its edges.
func (pl *probeLog) quietMoment(target string, earliest time.Time) (time.Time, time.Duration) {
	pl.mu.Lock()
	var phases []time.Time
	for _, loc := range locations {
		if ps := pl.probes[target+"/"+loc]; len(ps) > 0 {
			phases = append(phases, ps[len(ps)-1].At)
		}
	}
	pl.mu.Unlock()
	best, bestGap := earliest, time.Duration(-1)
	for c := earliest; c.Before(earliest.Add(probeInterval)); c = c.Add(100 * time.Millisecond) {
		gap := probeInterval
		for _, p := range phases {
			d := c.Sub(p) % probeInterval
			if d < 0 {
				d += probeInterval
			}
			gap = min(gap, d, probeInterval-d)
		}
		if gap > bestGap {
			best, bestGap = c, gap
		}
	}
	return best, bestGap
}

// about keeps the alerts of a notification that concern service.
func about(n stacktest.Notification, service string) []stacktest.NotifiedAlert {
	var out []stacktest.NotifiedAlert
	for _, a := range n.Alerts {
		if a.Labels["service"] == service {
			out = append(out, a)
		}
	}
	return out
}

// describe writes a notification's alerts about service for the report.
func describe(n stacktest.Notification, as []stacktest.NotifiedAlert, since time.Time) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, a.Status+" "+a.Labels.String())
	}
	slices.Sort(parts)
	return fmt.Sprintf("%s at +%s: %s", n.Receiver, n.At.Sub(since).Round(100*time.Millisecond), strings.Join(parts, "; "))
}
