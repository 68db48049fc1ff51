package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/deploy"
)

// These tests run the real exporter binary: they build it, deployStart it, kill
// it with SIGKILL and deployStart it again on the same storage.

// deployBuildBinary builds the main package in dir into a temp dir.
func deployBuildBinary(t *testing.T, dir, name string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the binary with")
	}
	out := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, ".")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, b)
	}
	return out
}

// deployProcess is a started binary and its combined log.
type deployProcess struct {
	cmd  *exec.Cmd
	log  *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
}

func (p *deployProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

type deployLockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w deployLockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

func deployStart(t *testing.T, bin string, args ...string) *deployProcess {
	t.Helper()
	p := &deployProcess{cmd: exec.Command(bin, args...), log: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	p.cmd.Stdout = deployLockedWriter{p.mu, p.log}
	p.cmd.Stderr = deployLockedWriter{p.mu, p.log}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), p.output())
		}
	})
	return p
}

// kill sends SIGKILL and waits until the process is gone.
func (p *deployProcess) kill() {
	p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// deployWaitReady polls url until it answers 200, the process exits or 30s pass.
func deployWaitReady(t *testing.T, p *deployProcess, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("exited before serving %s", url)
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.HasPrefix(last, "404") {
		t.Fatalf("%s answers 404: main.go does not serve the deploy API (deploy.NewManager wiring missing)", url)
	}
	t.Fatalf("%s not ready after 30s: %s", url, last)
}

// deployList returns every kept deploy of service.
func deployList(t *testing.T, base, service string) []deploy.Event {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/deploys?limit=1000&service=" + service)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		Data []deploy.Event `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET deploys of %s: %d %v", service, resp.StatusCode, err)
	}
	return a.Data
}

func deployWriteConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "http5xx.yml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDeployCrash posts deploys to a real exporter from several clients,
// kills it with SIGKILL right after a 2xx, restarts it on the same storage
// and checks that every acknowledged deploy is there exactly once; three
// times over, then once more after retrying acknowledged ids.
func TestDeployCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the exporter")
	}
	bin := deployBuildBinary(t, ".", "http5xx_exporter")
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer origin.Close()
	cfg := deployWriteConfig(t, fmt.Sprintf("targets:\n  - name: origin\n    url: %s/\n", origin.URL))
	storage := filepath.Join(t.TempDir(), "data")

	const services, clients = 10, 8
	serviceOf := func(i int) string { return fmt.Sprintf("svc-%d", i%services) }
	run := func() (*deployProcess, string) {
		addr := freeAddr(t)
		p := deployStart(t, bin, "--config.file", cfg, "--web.listen-address", addr,
			"--storage.path", storage, "--deploy.allow-unauthenticated", "--log.level", "debug")
		base := "http://" + addr
		deployWaitReady(t, p, base+"/api/v1/deploys")
		return p, base
	}
	acked := map[string]bool{} // ids answered 2xx
	verify := func(base, when string) {
		t.Helper()
		seen := map[string]int{}
		for s := range services {
			for _, ev := range deployList(t, base, serviceOf(s)) {
				seen[ev.ID]++
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("%s: %s stored %d times", when, id, n)
			}
		}
		missing := 0
		for id := range acked {
			if seen[id] == 0 {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%s: %d of %d acknowledged deploys lost", when, missing, len(acked))
		}
		t.Logf("%s: %d acknowledged, %d stored", when, len(acked), len(seen))
	}

	next := 0
	for round := range 3 {
		p, base := run()
		verify(base, fmt.Sprintf("start %d", round))

		killAt := len(acked) + 30 + 10*round
		var mu sync.Mutex
		var wg sync.WaitGroup
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Transport: &http.Transport{}}
				defer c.CloseIdleConnections()
				for range 100 { // bounded: a client stops at the first error anyway
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					id := fmt.Sprintf("crash-%d", i)
					body := fmt.Sprintf(`{"service":%q,"version":"v%d","id":%q}`, serviceOf(i), i, id)
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/deploys", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					resp, err := c.Do(req)
					if err != nil {
						return // killed
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						t.Errorf("POST %s: %s", id, resp.Status)
						return
					}
					mu.Lock()
					acked[id] = true
					kill := len(acked) == killAt
					mu.Unlock()
					if kill {
						p.cmd.Process.Kill() // right after this 2xx
					}
				}
			}()
		}
		wg.Wait()
		cancel()
		p.kill()
		if len(acked) < killAt {
			t.Fatalf("round %d: only %d deploys acknowledged before the clients stopped", round, len(acked))
		}
	}

	p, base := run()
	verify(base, "after the last kill")
	// A pipeline that never saw its 2xx retries with the same id: no
	// second record, also across a restart.
	retried := 0
	for id := range acked {
		if retried == 20 {
			break
		}
		retried++
		i, _ := strconv.Atoi(strings.TrimPrefix(id, "crash-"))
		body := fmt.Sprintf(`{"service":%q,"version":"v%d","id":%q}`, serviceOf(i), i, id)
		resp, err := http.Post(base+"/api/v1/deploys", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("retry of %s: %s, want 200", id, resp.Status)
		}
	}
	deployCheckTotals(t, base, services, serviceOf)
	p.kill()
	_, base = run()
	verify(base, "after retries and a restart")
	deployCheckTotals(t, base, services, serviceOf)
}

var deployTotalRE = regexp.MustCompile(`(?m)^http5xx_deploys_total\{service="([^"]+)"\} (\S+)$`)

// deployCheckTotals compares http5xx_deploys_total with the stored history
// (no event was dropped: every service holds fewer than the history bound).
func deployCheckTotals(t *testing.T, base string, services int, serviceOf func(int) string) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	totals := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if m := deployTotalRE.FindStringSubmatch(sc.Text()); m != nil {
			totals[m[1]] = m[2]
		}
	}
	for s := range services {
		name := serviceOf(s)
		if want := strconv.Itoa(len(deployList(t, base, name))); totals[name] != want {
			t.Errorf("http5xx_deploys_total{service=%q} = %q, want %s", name, totals[name], want)
		}
	}
}

// TestDeployDetectedFromDemoOrigin runs the exporter against the demo
// origin, switches the origin's X-App-Version and expects a detected
// deploy; a restart on the same version detects nothing.
func TestDeployDetectedFromDemoOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the exporter and the demo origin")
	}
	bin := deployBuildBinary(t, ".", "http5xx_exporter")
	originBin := deployBuildBinary(t, filepath.Join("..", "demo-origin"), "demo-origin")
	originAddr := freeAddr(t)
	o := deployStart(t, originBin, "--web.listen-address", originAddr, "--version", "1.0.0")
	deployWaitReady(t, o, "http://"+originAddr+"/ok")

	cfg := deployWriteConfig(t, fmt.Sprintf(`targets:
  - name: shop-web
    url: http://%s/ok
    service: shop
    interval: 1s
    timeout: 1s
    version_header: X-App-Version
`, originAddr))
	storage := filepath.Join(t.TempDir(), "data")
	run := func() (*deployProcess, string) {
		addr := freeAddr(t)
		p := deployStart(t, bin, "--config.file", cfg, "--web.listen-address", addr, "--storage.path", storage)
		base := "http://" + addr
		deployWaitReady(t, p, base+"/api/v1/deploys")
		return p, base
	}
	// probed waits until the running exporter has probed shop-web twice: the
	// first probe's sighting (a baseline) is then taken in, whatever the
	// machine's load made of the 1 s interval.
	probed := func(base string) {
		t.Helper()
		series := regexp.MustCompile(`(?m)^http5xx_probes_total\{service="shop",target="shop-web"\} (\d+)$`)
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) { // a hang detector
			resp, err := http.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := series.FindSubmatch(body); m != nil {
				if n, _ := strconv.Atoi(string(m[1])); n >= 2 {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("shop-web not probed twice within a minute")
			}
		}
	}
	p, base := run()

	// A baseline on 1.0.0, no deploy.
	probed(base)
	if evs := deployList(t, base, "shop"); len(evs) != 0 {
		t.Fatalf("first sighting recorded %+v", evs)
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+originAddr+"/-/version", strings.NewReader(`{"version":"1.1.0"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT /-/version: %s", resp.Status)
	}

	var evs []deploy.Event
	deadline := time.Now().Add(time.Minute) // a hang detector
	for len(evs) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		evs = deployList(t, base, "shop")
	}
	if len(evs) != 1 {
		t.Fatalf("want one detected deploy, got %+v", evs)
	}
	if ev := evs[0]; ev.Source != deploy.SourceDetected || ev.Version != "1.1.0" || ev.PreviousVersion != "1.0.0" || ev.Target != "shop-web" {
		t.Errorf("detected %+v", ev)
	}

	// Restart: the first sighting of 1.1.0 is a baseline, the stored
	// deploy is still there.
	p.kill()
	_, base = run()
	probed(base)
	if evs := deployList(t, base, "shop"); len(evs) != 1 {
		t.Errorf("after restart: %+v", evs)
	}
}
