//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/stacktest"
)

// speedup is how much faster than real time the stack runs: every duration
// of the example configuration, the rule pack and Alertmanager's timers is
// divided by it (stacktest.CompressTime). 15 turns the 15s scrape, evaluation and
// probe intervals into 1s and the rules' 5m windows into 20s.
const speedup = 15

var locations = []string{"eu", "us", "ap"}

// The addresses the reference setup in examples/multi-location uses; the
// test replaces them with free loopback ports in its copies.
const (
	refOrigin       = "127.0.0.1:10506"
	refAlertmanager = "127.0.0.1:9093"
)

var (
	refExporter   = map[string]string{"eu": "127.0.0.1:10515", "us": "127.0.0.1:10525", "ap": "127.0.0.1:10535"}
	refPrometheus = map[string]string{"eu": "127.0.0.1:9191", "us": "127.0.0.1:9192", "ap": "127.0.0.1:9193"}
)

// stack is the running product: the demo origin, an exporter and a
// Prometheus per location, the global Prometheus and Alertmanager.
type stack struct {
	tl        *stacktest.Timeline
	ps        *stacktest.Processes
	rec       *stacktest.Recorder
	client    *http.Client
	origin    string            // base URL of the demo origin
	exporters map[string]string // location -> base URL
	global    stacktest.PromAPI
	proms     map[string]stacktest.PromAPI // location -> its Prometheus
	am        string                       // base URL of Alertmanager
}

// startStack builds the temporary configuration and starts everything,
// returning once every component answers ready.
func startStack(ctx context.Context, t *testing.T, tl *stacktest.Timeline) *stack {
	t.Helper()
	w := stacktest.NewWorkspace(t, tl,
		[]string{"http5xx_exporter", "demo-origin", "prometheus", "promtool", "alertmanager", "amtool"},
		"data", "rules", "examples/multi-location")
	root, bin, tmp, rec, hook, ps := w.Root, w.Bin, w.Dir, w.Rec, w.Hook, w.Procs

	ports, err := stacktest.FreePorts(9)
	if err != nil {
		t.Fatal(err)
	}
	at := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	addr := map[string]string{refOrigin: at(0), refAlertmanager: at(1)}
	global := at(2)
	for i, loc := range locations {
		addr[refExporter[loc]] = at(3 + i)
		addr[refPrometheus[loc]] = at(6 + i)
	}
	s := &stack{
		tl: tl, ps: ps, rec: rec,
		client:    &http.Client{Timeout: 5 * time.Second},
		origin:    "http://" + addr[refOrigin],
		exporters: map[string]string{},
		proms:     map[string]stacktest.PromAPI{},
		global:    stacktest.PromAPI{Base: "http://" + global, Client: &http.Client{Timeout: 10 * time.Second}},
		am:        "http://" + addr[refAlertmanager],
	}

	// The temporary tree mirrors the repository, so that the global
	// Prometheus' rule_files (../../rules/...) find the rewritten pack.
	rules, err := filepath.Glob(filepath.Join(root, "rules", "*.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files in rules/ (%v)", err)
	}
	for _, f := range rules {
		stacktest.WriteCompressed(t, f, filepath.Join(tmp, "rules", filepath.Base(f)), speedup, nil)
	}
	ml := filepath.Join(root, "examples", "multi-location")
	tml := filepath.Join(tmp, "examples", "multi-location")
	for _, f := range []string{"http5xx.yml", "prometheus-eu.yml", "prometheus-us.yml", "prometheus-ap.yml", "prometheus-global.yml"} {
		stacktest.WriteCompressed(t, filepath.Join(ml, f), filepath.Join(tml, f), speedup, func(b []byte) ([]byte, error) {
			return stacktest.ReplaceAddresses(b, addr), nil
		})
	}
	amConfig := filepath.Join(tmp, "examples", "alertmanager.yml")
	stacktest.WriteCompressed(t, filepath.Join(root, "examples", "alertmanager.yml"), amConfig, speedup, func(b []byte) ([]byte, error) {
		return stacktest.PointReceivers(b, hook.URL)
	})
	// The real tools judge the copies before anything starts.
	stacktest.Run(t, filepath.Join(bin, "promtool"), "check", "config",
		filepath.Join(tml, "prometheus-global.yml"), filepath.Join(tml, "prometheus-eu.yml"),
		filepath.Join(tml, "prometheus-us.yml"), filepath.Join(tml, "prometheus-ap.yml"))
	stacktest.Run(t, filepath.Join(bin, "amtool"), "check-config", amConfig)
	stacktest.Run(t, filepath.Join(bin, "http5xx_exporter"), "config", "check", filepath.Join(tml, "http5xx.yml"))

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
		args := []string{
			"--config.file=" + filepath.Join(tml, "http5xx.yml"),
			"--location=" + loc,
			"--web.listen-address=" + a,
			"--storage.path=" + data("exporter-"+loc), // the deploy log
			// Loopback only; a real exporter takes a --deploy.token-file.
			"--deploy.allow-unauthenticated",
		}
		start("exporter-"+loc, "http5xx_exporter", "http://"+a+"/-/ready", args...)
	}
	for _, loc := range locations {
		a := addr[refPrometheus[loc]]
		s.proms[loc] = stacktest.PromAPI{Base: "http://" + a, Client: &http.Client{Timeout: 10 * time.Second}}
		start("prometheus-"+loc, "prometheus", "http://"+a+"/-/ready",
			"--config.file="+filepath.Join(tml, "prometheus-"+loc+".yml"),
			"--storage.tsdb.path="+data("prometheus-"+loc),
			"--web.listen-address="+a)
	}
	start("alertmanager", "alertmanager", s.am+"/-/ready",
		"--config.file="+amConfig,
		"--storage.path="+data("alertmanager"),
		"--web.listen-address="+addr[refAlertmanager],
		"--cluster.listen-address=") // empty: no clustering, no gossip port
	start("prometheus-global", "prometheus", s.global.Base+"/-/ready",
		"--config.file="+filepath.Join(tml, "prometheus-global.yml"),
		"--storage.tsdb.path="+data("prometheus-global"),
		"--web.listen-address="+global)
	for _, c := range all {
		if err := c.p.WaitReady(ctx, c.ready, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	tl.Logf("stack ready: origin %s, exporters %v, global Prometheus %s, Alertmanager %s, recorder %s",
		s.origin, s.exporters, s.global.Base, s.am, hook.URL)
	return s
}

// scrapers are the stack's Prometheus servers by name, for the watcher's
// report of a failed phase.
func (s *stack) scrapers() map[string]stacktest.PromAPI {
	m := map[string]stacktest.PromAPI{"prometheus-global": s.global}
	for loc, p := range s.proms {
		m["prometheus-"+loc] = p
	}
	return m
}

// send makes a control or API call and fails on anything but 2xx.
func (s *stack) send(ctx context.Context, method, url, body string) error {
	return stacktest.Send(ctx, s.client, method, url, body)
}
