package stacktest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingTB is a testing.TB whose errors and cleanups are kept for the
// test to look at instead of failing it.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errors) > 0
}

func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recordingTB) errs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// A component that ends on its own fails the test at once, with its exit
// status and the end of its log; one the test ends itself (Kill,
// Terminate) or Stop ends does not.
func TestProcessExitingOnItsOwnFailsTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	ps := NewProcesses(rec, t.TempDir(), NewTimeline())
	quitter, err := ps.Start("quitter", "/bin/sh", "-c", "echo the last words; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	killed, err := ps.Start("killed", "/bin/sh", "-c", "sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	terminated, err := ps.Start("terminated", "/bin/sh", "-c", "sleep 60")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Start("stopped", "/bin/sh", "-c", "sleep 60"); err != nil {
		t.Fatal(err)
	}
	if err := killed.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := terminated.Terminate(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-quitter.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the quitter did not exit")
	}
	// The report follows the exit from the waiting goroutine.
	for i := 0; i < 300 && len(rec.errs()) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	for i := len(rec.cleanups) - 1; i >= 0; i-- {
		rec.cleanups[i]()
	}
	errs := rec.errs()
	if len(errs) != 1 {
		t.Fatalf("want one error, for the quitter, got %d: %q", len(errs), errs)
	}
	for _, want := range []string{"quitter", "exited on its own", "exit status 3", "the last words"} {
		if !strings.Contains(errs[0], want) {
			t.Errorf("the error does not say %q: %s", want, errs[0])
		}
	}
}

// A panic in the log of one of the project's programs fails the test when
// the stack stops, even when the program lived on (net/http recovers a
// handler's panic); another program's log is its own business.
func TestPanicInOwnLogFailsTheTest(t *testing.T) {
	dir := t.TempDir()
	script := func(name, out string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho '"+out+"'\nexec sleep 60\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	own := script("demo-origin", "http: panic serving 127.0.0.1:4242: runtime error: index out of range")
	other := script("prometheus", "panic: not ours to judge")
	rec := &recordingTB{TB: t}
	ps := NewProcesses(rec, t.TempDir(), NewTimeline())
	for name, bin := range map[string]string{"origin": own, "prometheus": other} {
		p, err := ps.Start(name, bin)
		if err != nil {
			t.Fatal(err)
		}
		// The line is in the log before the stack stops.
		for i := 0; i < 500 && Tail(p.log, 1) == ""; i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
	for i := len(rec.cleanups) - 1; i >= 0; i-- {
		rec.cleanups[i]()
	}
	errs := rec.errs()
	if len(errs) != 1 || !strings.Contains(errs[0], "origin's log shows a panic") || !strings.Contains(errs[0], "index out of range") {
		t.Fatalf("want one error, for the origin's panic, got %q", errs)
	}
}
