package stacktest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/loopback"
)

// Processes starts the stack's binaries and makes sure none outlives the
// test: each runs in its own process group, which Stop (registered with
// t.Cleanup) terminates and then kills. Should the test binary itself die
// (a -timeout panic, a SIGKILL), the kernel kills every child: they are
// started from one locked OS thread with a parent-death signal where the
// platform has one (sysproc_*_test.go).
type Processes struct {
	dir   string // logs
	tl    *Timeline
	t     testing.TB
	spawn chan spawnRequest

	mu       sync.Mutex
	list     []*Process
	stopping bool // Stop or Kill began: every exit from now on is expected
}

// Process is one started binary.
type Process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // of Wait, once done is closed
	// ended is set before the test ends the process itself (Kill,
	// Terminate): any other exit before Stop is a failure of the test.
	ended atomic.Bool
}

type spawnRequest struct {
	cmd   *exec.Cmd
	reply chan error
}

// NewProcesses writes the logs of the processes it starts into dir.
func NewProcesses(t testing.TB, dir string, tl *Timeline) *Processes {
	ps := &Processes{dir: dir, tl: tl, t: t, spawn: make(chan spawnRequest)}
	go func() {
		// Never unlocked: when this goroutine ends, after Stop, its thread
		// ends too, and the parent-death signal reaches any straggler.
		runtime.LockOSThread()
		for req := range ps.spawn {
			req.reply <- req.cmd.Start()
		}
	}()
	t.Cleanup(func() {
		ps.Stop()
		close(ps.spawn)
		ps.checkLogs()
		if t.Failed() {
			ps.DumpLogs(40)
		}
	})
	return ps
}

// Start runs bin with args; its output goes to <dir>/<name>.log.
func (ps *Processes) Start(name, bin string, args ...string) (*Process, error) {
	return ps.StartEnv(name, nil, bin, args...)
}

// StartEnv is Start with env ("KEY=value") added to the test's environment.
func (ps *Processes) StartEnv(name string, env []string, bin string, args ...string) (*Process, error) {
	logPath := filepath.Join(ps.dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Each component's footprint as on a 2-core CI runner, whatever the host.
	cmd.Env = append(append(os.Environ(), "GOMAXPROCS=2"), env...)
	cmd.SysProcAttr = sysProcAttr()
	reply := make(chan error)
	ps.spawn <- spawnRequest{cmd, reply}
	if err := <-reply; err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
		ps.exitedOnItsOwn(p)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	ps.tl.Logf("started %s (pid %d)", name, cmd.Process.Pid)
	return p, nil
}

// exitedOnItsOwn fails the test when p ended on its own while the stack was meant
// to be running (a crash, the OOM killer, a fatal error at run time): a
// component gone quietly would otherwise show only as expectations that
// are never met. The error is reported under ps.mu, which Stop takes
// first, so never after the test has ended.
func (ps *Processes) exitedOnItsOwn(p *Process) {
	if p.ended.Load() {
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.stopping {
		return
	}
	ps.tl.Logf("VIOLATION: %s (pid %d) exited on its own: %v", p.name, p.cmd.Process.Pid, p.err)
	ps.t.Errorf("%s (pid %d) exited on its own: %v; the last lines of its log:\n%s", p.name, p.cmd.Process.Pid, p.err, Tail(p.log, 20))
}

// Stop terminates every process group, waits up to 5s in all, then kills
// what is left and waits for it to be reaped. Safe to call more than once.
func (ps *Processes) Stop() {
	ps.mu.Lock()
	ps.stopping = true
	list := ps.list
	ps.mu.Unlock()
	for _, p := range list {
		if !p.exited() {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		}
	}
	// A closed channel, not time.After's single value: once the 5s are up,
	// every later wait ends at once too.
	grace, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, p := range list {
		select {
		case <-p.done:
		case <-grace.Done():
		}
	}
	for _, p := range list {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				fmt.Fprintf(os.Stderr, "stacktest: %s (pid %d) did not exit after SIGKILL\n", p.name, p.cmd.Process.Pid)
			}
		}
	}
}

// Kill kills everything at once: the watchdog's last resort.
func (ps *Processes) Kill() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.stopping = true
	for _, p := range ps.list {
		if !p.exited() {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		}
	}
}

// ownBinaries are the project's programs, whose logs must never show a
// panic, even one net/http recovered (a scrape or API call that failed
// while the process lived on).
var ownBinaries = map[string]bool{"http5xx_exporter": true, "demo-origin": true}

// panicMarks are the lines Go writes for a panic, a recovered handler
// panic, a fatal runtime error and a data race.
var panicMarks = []string{"panic: ", "http: panic serving", "fatal error: ", "WARNING: DATA RACE"}

// checkLogs fails the test for every log of the project's own programs
// that shows a panic, with the lines around the first one.
func (ps *Processes) checkLogs() {
	ps.mu.Lock()
	list := ps.list
	ps.mu.Unlock()
	for _, p := range list {
		if !ownBinaries[filepath.Base(p.cmd.Path)] {
			continue
		}
		if at := panicIn(p.log); at != "" {
			ps.t.Errorf("%s's log shows a panic:\n%s", p.name, at)
		}
	}
}

// panicIn returns the first line of the file at path with a panic mark
// and the lines after it, "" when there is none.
func panicIn(path string) string {
	var found []string
	_ = eachLine(path, func(line string) bool {
		if found != nil || slices.ContainsFunc(panicMarks, func(m string) bool { return strings.Contains(line, m) }) {
			found = append(found, line)
		}
		return len(found) < 20
	})
	return strings.Join(found, "\n")
}

// eachLine calls fn with every line of the file at path, lines of up to
// 1 MiB, until fn returns false or a line is longer; the error is the
// file's that could not be opened.
func eachLine(path string, fn func(line string) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && fn(sc.Text()) {
	}
	return nil
}

// DumpLogs prints the last lines of every process's log.
func (ps *Processes) DumpLogs(lines int) {
	ps.mu.Lock()
	list := ps.list
	ps.mu.Unlock()
	for _, p := range list {
		fmt.Printf("----- last %d lines of %s -----\n%s", lines, p.name, Tail(p.log, lines))
	}
}

// Tail returns the last n lines of the file at path.
func Tail(path string, n int) string {
	var ring []string
	err := eachLine(path, func(line string) bool {
		ring = append(ring, line)
		if len(ring) > n {
			ring = ring[1:]
		}
		return true
	})
	if err != nil {
		return err.Error() + "\n"
	}
	if len(ring) == 0 {
		return ""
	}
	return strings.Join(ring, "\n") + "\n"
}

// Name is the name the process was started with.
func (p *Process) Name() string { return p.name }

// Kill sends SIGKILL to the process group, as a crash would end it, and
// returns once the process is reaped (at most 10s).
func (p *Process) Kill() error {
	if p.exited() {
		return fmt.Errorf("%s has already exited (%v)", p.name, p.err)
	}
	p.ended.Store(true)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// Terminate sends SIGTERM to the process group, as a rolling restart would,
// and returns once the process has exited (SIGKILL after 10s).
func (p *Process) Terminate() error {
	if p.exited() {
		return fmt.Errorf("%s has already exited (%v)", p.name, p.err)
	}
	p.ended.Store(true)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return p.Kill()
	}
}

func (p *Process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitReady polls url until it answers 200, the process exits or ctx ends.
func (p *Process) WaitReady(ctx context.Context, url string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v); log:\n%s", p.name, p.err, Tail(p.log, 20))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s within %s: %v", p.name, url, within, errors.Join(last, ctx.Err()))
		case <-tick.C:
		}
	}
}

// FreePorts reserves n distinct loopback ports. They are released together
// just before the stack starts; another program could grab one in between,
// which shows as a process that fails to listen.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := loopback.Listen()
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
