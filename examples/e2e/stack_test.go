//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// speedup is how much faster than real time the stack runs: every duration
// of the example configuration, the rule pack and Alertmanager's timers is
// divided by it (compressTime). 15 turns the 15s scrape, evaluation and
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
	tl        *timeline
	ps        *processes
	rec       *recorder
	client    *http.Client
	origin    string            // base URL of the demo origin
	exporters map[string]string // location -> base URL
	global    promAPI
	am        string // base URL of Alertmanager
}

// startStack builds the temporary configuration and starts everything,
// returning once every component answers ready.
func startStack(ctx context.Context, t *testing.T, tl *timeline) *stack {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, ".bin")
	for _, b := range []string{"http5xx_exporter", "demo-origin", "prometheus", "promtool", "alertmanager", "amtool"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Fatalf("%s is missing: run `make e2e`, which builds it into .bin/ (%v)", b, err)
		}
	}
	tmp := t.TempDir()
	for _, d := range []string{"logs", "data", "rules", "examples/multi-location"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// The recorder is created before the processes, so that its server is
	// closed after they are stopped (cleanups run last-in first-out).
	rec := &recorder{tl: tl}
	hook := httptest.NewServer(rec)
	t.Cleanup(hook.Close)
	ps := newProcesses(t, filepath.Join(tmp, "logs"), tl)

	ports, err := freePorts(9)
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
		global:    promAPI{"http://" + global, &http.Client{Timeout: 10 * time.Second}},
		am:        "http://" + addr[refAlertmanager],
	}

	// The temporary tree mirrors the repository, so that the global
	// Prometheus' rule_files (../../rules/...) find the rewritten pack.
	rules, err := filepath.Glob(filepath.Join(root, "rules", "*.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files in rules/ (%v)", err)
	}
	for _, f := range rules {
		writeCompressed(t, f, filepath.Join(tmp, "rules", filepath.Base(f)), nil)
	}
	ml := filepath.Join(root, "examples", "multi-location")
	tml := filepath.Join(tmp, "examples", "multi-location")
	for _, f := range []string{"http5xx.yml", "prometheus-eu.yml", "prometheus-us.yml", "prometheus-ap.yml", "prometheus-global.yml"} {
		writeCompressed(t, filepath.Join(ml, f), filepath.Join(tml, f), func(b []byte) ([]byte, error) {
			return replaceAddresses(b, addr), nil
		})
	}
	amConfig := filepath.Join(tmp, "examples", "alertmanager.yml")
	writeCompressed(t, filepath.Join(root, "examples", "alertmanager.yml"), amConfig, func(b []byte) ([]byte, error) {
		return pointReceivers(b, hook.URL)
	})
	// The real tools judge the copies before anything starts.
	run(t, filepath.Join(bin, "promtool"), "check", "config",
		filepath.Join(tml, "prometheus-global.yml"), filepath.Join(tml, "prometheus-eu.yml"),
		filepath.Join(tml, "prometheus-us.yml"), filepath.Join(tml, "prometheus-ap.yml"))
	run(t, filepath.Join(bin, "amtool"), "check-config", amConfig)
	run(t, filepath.Join(bin, "http5xx_exporter"), "config", "check", filepath.Join(tml, "http5xx.yml"))

	type component struct {
		p     *process
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
	start("prometheus-global", "prometheus", s.global.base+"/-/ready",
		"--config.file="+filepath.Join(tml, "prometheus-global.yml"),
		"--storage.tsdb.path="+data("prometheus-global"),
		"--web.listen-address="+global)
	for _, c := range all {
		if err := c.p.WaitReady(ctx, c.ready, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	tl.Logf("stack ready: origin %s, exporters %v, global Prometheus %s, Alertmanager %s, recorder %s",
		s.origin, s.exporters, s.global.base, s.am, hook.URL)
	return s
}

// writeCompressed copies src to dst through edit (may be nil) and
// compressTime.
func writeCompressed(t *testing.T, src, dst string, edit func([]byte) ([]byte, error)) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		if b, err = edit(b); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
	}
	if b, err = compressTime(b, speedup); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// replaceAddresses swaps the reference setup's loopback addresses for the
// test's free ports.
func replaceAddresses(b []byte, addr map[string]string) []byte {
	var pairs []string
	for from, to := range addr {
		pairs = append(pairs, from, to)
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(b)))
}

// run runs a command to completion, failing the test on a non-zero exit.
func run(t *testing.T, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

// send makes a control or API call and fails on anything but 2xx.
func (s *stack) send(ctx context.Context, method, url, body string) error {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
