package examples

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMakeRunOnOtherPorts runs `make run PORT=… ORIGIN_PORT=…` as a new user
// would, and waits until the exporter on PORT reports probes of the demo
// origin on ORIGIN_PORT; then Ctrl-C (SIGINT to the process group) stops both.
func TestMakeRunOnOtherPorts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not installed")
	}
	port, originPort := freePort(t), freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.Command("make", "--no-print-directory", "run", fmt.Sprint("PORT=", port), fmt.Sprint("ORIGIN_PORT=", originPort))
	cmd.Dir = ".."
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("make run output:\n%s", out.String())
		}
	}()

	// The example's shop target answers 200 from the demo origin.
	const want = `http5xx_responses_total{class="2xx",code="200",owner="",service="shop",target="shop"}`
	for {
		select {
		case err := <-done:
			t.Fatalf("make run ended early: %v", err)
		case <-ctx.Done():
			t.Fatalf("no probe of the demo origin on port %d seen on port %d", originPort, port)
		case <-time.After(500 * time.Millisecond):
		}
		body, err := get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, want) && !strings.HasSuffix(line, " 0") {
				return
			}
		}
	}
}

func get(url string) (string, error) {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return string(b), err
}

// freePort returns a loopback port that is free now and below the range
// the kernel hands out to ":0" listeners and outgoing connections, so no
// other test's socket can take it before the process under test binds it
// (a port bound at ":0" and freed again often was taken meanwhile on a
// machine running several suites).
func freePort(t *testing.T) int {
	t.Helper()
	lo, hi := 10000, 32767
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var first int
		if _, err := fmt.Sscan(string(b), &first); err == nil && first > lo+1000 {
			hi = first - 1
		}
	}
	for range 1000 {
		p := lo + rand.IntN(hi-lo+1)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatalf("no free loopback port in %d-%d", lo, hi)
	return 0
}
