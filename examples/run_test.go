package examples

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/loopback"
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

	// The example's shop target answers 200 from the demo origin, and
	// checkout's 500s page the team its owners name for class app.
	wants := []string{
		`http5xx_responses_total{class="2xx",code="200",owner="",service="shop",target="shop"}`,
		`http5xx_responses_total{class="app",code="500",owner="checkout-team",service="checkout",target="checkout"}`,
	}
	for {
		select {
		case err := <-done:
			t.Fatalf("make run ended early: %v", err)
		case <-ctx.Done():
			t.Fatalf("no probes of the demo origin on port %d seen on port %d as %v", originPort, port, wants)
		case <-time.After(500 * time.Millisecond):
		}
		body, err := get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
		if err != nil {
			continue
		}
		seen := 0
		for _, want := range wants {
			for _, line := range strings.Split(body, "\n") {
				if strings.HasPrefix(line, want) && !strings.HasSuffix(line, " 0") {
					seen++
					break
				}
			}
		}
		if seen == len(wants) {
			return
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

// freePort returns a loopback port that is free now, below the kernel's
// ephemeral range (examples/loopback says why).
func freePort(t *testing.T) int {
	t.Helper()
	p, err := loopback.Port()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
