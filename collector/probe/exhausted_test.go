//go:build linux

package probe

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// exhaustedChild names the environment variable that makes the test binary
// play the exporter out of file descriptors.
const exhaustedChild = "HTTP5XX_TEST_EXHAUSTED_CHILD"

// TestHostileExporterOutOfFiles: a probe that cannot get a socket because
// the exporter is out of file descriptors is the exporter's failure
// (reason exporter, class exporter, no owner), not the target's
// connect_refused. The exhaustion happens in a child process, so this
// test's own limits stay untouched.
func TestHostileExporterOutOfFiles(t *testing.T) {
	if os.Getenv(exhaustedChild) != "" {
		exhaustedProbe()
		return
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHostileExporterOutOfFiles$", "-test.count=1")
	cmd.Env = append(os.Environ(), exhaustedChild+"="+srv.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "RESULT reason=exporter class=exporter owner= success=false"
	if !strings.Contains(string(out), want) {
		t.Errorf("child printed\n%s\nwant a line %q", out, want)
	}
}

// exhaustedProbe runs in the child: it uses up its file descriptors, then
// probes the parent's server and prints the outcome.
func exhaustedProbe() {
	tgt := testTarget(os.Getenv(exhaustedChild))
	tgt.Timeout = 2e9
	p, err := New(tgt, Options{})
	if err != nil {
		println("New:", err.Error())
		os.Exit(3)
	}
	lim := syscall.Rlimit{Cur: 64, Max: 64}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		println("setrlimit:", err.Error())
		os.Exit(3)
	}
	var held []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				println("open:", err.Error())
				os.Exit(3)
			}
			break
		}
		held = append(held, f)
	}
	res := p.Probe(context.Background())
	for _, f := range held {
		f.Close()
	}
	os.Stdout.WriteString("RESULT reason=" + res.Reason.String() + " class=" + res.Class + " owner=" + res.Owner +
		" success=" + map[bool]string{true: "true", false: "false"}[res.Success] + "\nerr: " + errString(res.Err) + "\n")
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
