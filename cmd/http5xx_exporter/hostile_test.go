package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestHostileSlowClients: 300 clients trickle their requests (half the
// headers, half a deploy body) at an exporter limited to 40 connections.
// The exporter holds at most about 40 descriptors for them (before the fix
// it held one per client, until the process ran out and its probes failed
// as connect_refused), keeps probing a healthy loopback target, still
// answers /metrics, and closes every slow connection by its read timeouts.
//
// The clients run in this process too, so the count of their own sockets
// is taken off the process's descriptors: what remains is the exporter's.
func TestHostileSlowClients(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	const (
		limit     = 40
		attackers = 300
		slack     = 30 // the exporter's own files, its probes' and this test's HTTP clients
	)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer origin.Close()
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	// A timeout only a stalled prober reaches: the attack must not make the
	// healthy target fail, however slow the machine answers it.
	writeConfig(t, cfg, strings.Replace(targetsYAML(origin.URL, "healthy"), "interval: 1s\n  timeout: 500ms", "interval: 5s\n  timeout: 5s", 1))
	e := startExporter(t, "--config.file="+cfg, "--config.watch-interval=0", "--deploy.allow-unauthenticated",
		fmt.Sprintf("--web.max-connections=%d", limit), "--web.read-header-timeout=1s", "--web.read-timeout=2s")
	e.waitFor("healthy to be probed", func() bool { return e.metric(probes("healthy")) >= 1 })
	http.DefaultClient.CloseIdleConnections()
	before := openFDs(t)
	probesBefore := e.metric(probes("healthy"))

	// Every socket of this test ends by this time, whatever the exporter does.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var clientConns, closedByServer atomic.Int64
	var wg sync.WaitGroup
	dialed := make(chan struct{}, attackers)
	for i := range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", e.addr)
			dialed <- struct{}{}
			if err != nil {
				t.Errorf("attacker %d: %v", i, err)
				return
			}
			clientConns.Add(1)
			defer func() { conn.Close(); clientConns.Add(-1) }()
			conn.SetDeadline(deadline)
			head, drip := "GET /metrics HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n"
			if i%2 == 1 {
				head = "POST /api/v1/deploys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
				drip = " "
			}
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				// EOF or a reset: the exporter closed it. A deadline error: it did not.
				if _, err := io.Copy(io.Discard, conn); err == nil || !isTimeout(err) {
					closedByServer.Add(1)
				}
			}()
			if _, err := io.WriteString(conn, head); err != nil {
				<-closed
				return
			}
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-closed:
					return
				case <-tick.C:
					if _, err := io.WriteString(conn, drip); err != nil {
						<-closed
						return
					}
				}
			}
		}()
	}
	for range attackers {
		<-dialed
	}

	// Sample the descriptors while the attack lasts.
	var maxServer, maxTotal int
	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			n := openFDs(t)
			maxTotal = max(maxTotal, n)
			maxServer = max(maxServer, n-before-int(clientConns.Load()))
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()

	// /metrics answers during the attack (it may wait for a slot: slow
	// clients are cut off by the read timeouts), and the probes of the
	// healthy target go on and succeed.
	client := &http.Client{Timeout: 45 * time.Second}
	resp, err := client.Get("http://" + e.addr + "/metrics")
	if err != nil {
		t.Fatalf("/metrics during the attack: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// A probe of its own during the attack: the prober works meanwhile.
	probeCode, probeBody := codeAndBody(client.Get("http://" + e.addr + "/probe?target=healthy"))
	client.CloseIdleConnections()
	stillOpen := clientConns.Load()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics during the attack: %d", resp.StatusCode)
	}
	if want := `http5xx_last_status_code{service="healthy",target="healthy"} 200`; probeCode != 200 || !strings.Contains(probeBody, want) {
		t.Errorf("/probe during the attack: %d, want 200 with %s:\n%.2000s", probeCode, want, probeBody)
	}
	metrics := string(body)
	for _, want := range []string{
		`http5xx_target_up{service="healthy",target="healthy"} 1`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics during the attack lacks %s", want)
		}
	}
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "http5xx_failures_total{") && strings.Contains(l, `target="healthy"`) && !strings.HasSuffix(l, " 0") {
			t.Errorf("the healthy target failed during the attack: %s", l)
		}
	}

	wg.Wait()
	close(stopSampling)
	<-sampled
	if stillOpen == 0 {
		t.Errorf("every slow client was gone before /metrics answered: the test did not overlap the attack")
	}
	if n := closedByServer.Load(); n != attackers {
		t.Errorf("%d of %d slow connections closed by the exporter's read timeouts; the others hung until the test's deadline", n, attackers)
	}
	// The schedule goes on (the waits are hang detectors, not bounds).
	// /probe counted one: one more is the schedule's.
	e.waitFor("a scheduled probe of healthy after the attack", func() bool { return e.metric(probes("healthy")) > probesBefore+1 })
	t.Logf("descriptors: %d before; at most %d during (%d client sockets of the test, at most %d the exporter's beyond before); %d after",
		before, maxTotal, attackers, maxServer, openFDs(t))
	if maxServer > limit+slack {
		t.Errorf("the exporter held up to %d descriptors beyond its %d before the attack; --web.max-connections=%d should bound it to about %d",
			maxServer, before, limit, limit+slack)
	}
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// TestHostileWriteTimeoutLeavesSlowProbes: the write timeout cuts off
// clients that do not read, but /probe and /api/v1/check wait for a probe
// that may legitimately take longer than it: they get the probe's timeout
// on top, so a 1.5s answer still arrives through a 1s write timeout.
func TestHostileWriteTimeoutLeavesSlowProbes(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-r.Context().Done():
		}
	}))
	defer origin.Close()
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, "global:\n  interval: 10s\n  timeout: 5s\ntargets:\n  - name: slow\n    url: "+origin.URL+"/slow\n")
	e := startExporter(t, "--config.file="+cfg, "--config.watch-interval=0", "--web.write-timeout=1s",
		"--adhoc.enable", "--adhoc.allow=127.0.0.0/8")
	for _, tc := range []struct{ name, path, want string }{
		{"probe of a configured target", "/probe?target=slow", `http5xx_last_status_code{service="slow",target="slow"} 200`},
		{"ad-hoc check", "/api/v1/check?url=" + origin.URL + "/adhoc", `"code":200`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.get(tc.path)
			if code != 200 || !strings.Contains(strings.ReplaceAll(body, " ", ""), strings.ReplaceAll(tc.want, " ", "")) {
				t.Fatalf("GET %s: %d %q; want 200 with %s", tc.path, code, body, tc.want)
			}
		})
	}
	// A handler without a probe keeps the plain write timeout: the server
	// was started with it.
	if code, _ := e.get("/-/healthy"); code != 200 {
		t.Errorf("/-/healthy: %d", code)
	}
}
