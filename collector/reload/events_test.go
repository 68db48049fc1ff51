package reload_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/reload"
)

// watch runs s.rl.Watch until the test ends, with events from open (nil:
// the real ones), and waits until it has armed.
func (s *setup) watch(interval time.Duration, open func() (reload.FileEvents, error)) {
	s.t.Helper()
	if open != nil {
		reload.SetEvents(s.rl, open)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.rl.Watch(ctx, interval)
	}()
	s.t.Cleanup(func() { cancel(); <-done })
	s.waitFor("the watcher to start", func() bool { return reload.PollEvery(s.rl) > 0 })
}

// waitFor polls cond for up to ten seconds: the bound, not the expectation.
func (s *setup) waitFor(what string, cond func() bool) {
	s.t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	s.t.Fatalf("timed out waiting for %s (targets %v)", what, s.targets())
}

// waitForTargets waits until the targets are want, in any order.
func (s *setup) waitForTargets(what string, want ...string) {
	s.t.Helper()
	want = slices.Sorted(slices.Values(want))
	s.waitFor(what+fmt.Sprintf(": targets %v", want), func() bool { return slices.Equal(slices.Sorted(slices.Values(s.targets())), want) })
}

// recordingEvents are the real file events, recording which directories
// are watched and refusing to watch one.
type recordingEvents struct {
	reload.FileEvents
	refuse string
	mu     sync.Mutex
	dirs   map[string]bool
}

func openRecording(refuse string) (*recordingEvents, func() (reload.FileEvents, error)) {
	e := &recordingEvents{refuse: refuse, dirs: map[string]bool{}}
	return e, func() (reload.FileEvents, error) {
		ev, err := reload.NewFsnotify()
		e.FileEvents = ev
		return e, err
	}
}

func (e *recordingEvents) Add(dir string) error {
	if dir == e.refuse {
		return errors.New("inotify_add_watch: no space left on device")
	}
	err := e.FileEvents.Add(dir)
	if err == nil {
		e.mu.Lock()
		e.dirs[dir] = true
		e.mu.Unlock()
	}
	return err
}

func (e *recordingEvents) Remove(dir string) error {
	e.mu.Lock()
	delete(e.dirs, dir)
	e.mu.Unlock()
	return e.FileEvents.Remove(dir)
}

func (e *recordingEvents) watches(dir string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dirs[dir]
}

// TestWatchEvents walks the event path through every way a file changes.
// The poll runs once an hour (twelve), so only an event can reload in
// time; the clock says every file is an hour old, so a stat that finds
// nothing changed is trusted.
func TestWatchEvents(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	reload.SetClock(s.rl, func() time.Time { return time.Now().Add(time.Hour) })
	rec, open := openRecording("")
	s.watch(time.Hour, open)
	if got, want := reload.PollEvery(s.rl), reload.SafetyPolls*time.Hour; got != want {
		t.Errorf("poll every %v with events, want the safety poll %v", got, want)
	}
	path := func(name string) string { return filepath.Join(s.dir, name) }
	mainWith := func(globs string, names ...string) string {
		return strings.Replace(s.config(names...), "[targets/*.yml]", globs, 1)
	}
	writeInPlace := func(name, body string) {
		if err := os.WriteFile(path(name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(name string) {
		if err := os.MkdirAll(path(name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	type step struct {
		name    string
		do      func()
		targets []string // nil: no reload
		digests int      // without a reload: 0, the check only stats
	}
	steps := []step{
		{"the main file edited in place", func() { writeInPlace("http5xx.yml", s.config("alpha", "beta")) }, []string{"alpha", "beta"}, 0},
		{"the main file renamed into place", func() { s.write("http5xx.yml", s.config("alpha", "gamma")) }, []string{"alpha", "gamma"}, 0},
		{"a new file matches target_files", func() { s.write("targets/a.yml", s.targetFile("ta")) }, []string{"alpha", "gamma", "ta"}, 0},
		{"a target file edited in place", func() { writeInPlace("targets/a.yml", s.targetFile("tb")) }, []string{"alpha", "gamma", "tb"}, 0},
		{"an unrelated file beside the main file", func() { writeInPlace("notes.txt", "hello") }, nil, 0},
		{"an unrelated file edited again", func() { writeInPlace("notes.txt", "hello again") }, nil, 0},
		// A glob directory's listing changed: what the globs match may have.
		{"an unrelated file in a glob directory", func() { writeInPlace("targets/README.md", "hello") }, nil, 1},
		{"an unrelated file there edited again", func() { writeInPlace("targets/README.md", "hello again") }, nil, 0},
		{"a glob whose directory does not exist yet", func() { s.write("http5xx.yml", mainWith("[targets/*.yml, more/*.yml]", "alpha")) }, []string{"alpha", "tb"}, 0},
		{"the directory and a file in it appear", func() {
			mkdir("more")
			writeInPlace("more/m.yml", s.targetFile("tm"))
		}, []string{"alpha", "tb", "tm"}, 0},
		{"a second file in the new directory", func() { s.write("more/n.yml", s.targetFile("tn")) }, []string{"alpha", "tb", "tm", "tn"}, 0},
		{"a glob of an existing directory", func() {
			mkdir("extra")
			writeInPlace("extra/x.yml", s.targetFile("tx"))
			s.write("http5xx.yml", mainWith("[targets/*.yml, more/*.yml, extra/*.yml]", "alpha"))
		}, []string{"alpha", "tb", "tm", "tn", "tx"}, 0},
		{"a new file there", func() { s.write("extra/y.yml", s.targetFile("ty")) }, []string{"alpha", "tb", "tm", "tn", "tx", "ty"}, 0},
		{"a glob removed", func() { s.write("http5xx.yml", mainWith("[targets/*.yml, extra/*.yml]", "alpha")) }, []string{"alpha", "tb", "tx", "ty"}, 0},
	}
	if runtime.GOOS == "linux" {
		// cp -p: same size, the old mtime; the change time tells.
		steps = append(steps, step{"a target file copied over with cp -p", func() {
			writeInPlace("targets/a.yml", s.targetFile("tc"))
			old := time.Now().Add(-24 * time.Hour)
			if err := os.Chtimes(path("targets/a.yml"), old, old); err != nil {
				t.Fatal(err)
			}
		}, []string{"alpha", "tc", "tx", "ty"}, 0})
	}
	for _, st := range steps {
		checks, digests, applies := reload.Checks(s.rl), s.rl.Digests(), s.engine.applies.Load()
		st.do()
		if st.targets != nil {
			s.waitForTargets(st.name, st.targets...)
			if n := s.engine.applies.Load() - applies; n != 1 {
				t.Errorf("%s: %d reloads, want 1", st.name, n)
			}
			continue
		}
		s.waitFor(st.name+": a check", func() bool { return reload.Checks(s.rl) > checks })
		if n := s.rl.Digests() - digests; n != st.digests {
			t.Errorf("%s: %d digests, want %d", st.name, n, st.digests)
		}
		if n := s.engine.applies.Load(); n != applies {
			t.Errorf("%s: %d reloads, want none", st.name, n-applies)
		}
	}
	if rec.watches(path("more")) {
		t.Error("the directory of a removed glob is still watched")
	}
	if !rec.watches(path("extra")) || !rec.watches(path("targets")) || !rec.watches(s.dir) {
		t.Errorf("watched directories %v, want the main file's, targets and extra", rec.dirs)
	}
}

// TestWatchConfigMapSwap: a ConfigMap volume updated by swapping ..data
// is seen by the event on the mount directory, with an older, same-size
// file behind the new link.
func TestWatchConfigMapSwap(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	mount, version, swap := s.configMap()
	s.watch(time.Hour, nil)
	s.waitForTargets("the mounted file", "alpha", "one")
	for i, name := range []string{"two", "six", "ten"} { // each the size of "one"
		dir := fmt.Sprintf("..2026_12_06_%02d", i+2)
		version(dir, name)
		swap(dir)
		if err := os.RemoveAll(filepath.Join(mount, fmt.Sprintf("..2026_12_06_%02d", i+1))); err != nil {
			t.Fatal(err)
		}
		s.waitForTargets("..data swapped to "+dir, "alpha", name)
	}
}

// TestWatchBurst: a hundred saves in a row are a handful of reloads at
// most (one, unless the machine stalls between them for longer than the
// settle time), and the last one wins. Without the settle time they were
// 50 to 60 here.
func TestWatchBurst(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	s.watch(time.Hour, nil)
	applies := s.engine.applies.Load()
	for i := range 100 {
		s.write("http5xx.yml", s.config("alpha", fmt.Sprintf("b%03d", i))) // as an editor saves
	}
	s.waitForTargets("the last write", "alpha", "b099")
	if n := s.engine.applies.Load() - applies; n > 5 {
		t.Errorf("%d reloads for a burst of 100 writes, want at most 5", n)
	}
}

// TestWatchBadConfig: a broken file seen by an event fails its reload: the
// running configuration stays and the log names file and line.
func TestWatchBadConfig(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	s.watch(time.Hour, nil)
	running := s.exp.Config()
	s.write("http5xx.yml", s.config("alpha")+"  - name: beta\n    ur1: x\n")
	s.waitFor("the failed reload", func() bool { return strings.Contains(s.logs.String(), "reload failed") })
	if s.exp.Config() != running {
		t.Errorf("a bad file replaced the running configuration: targets %v", s.targets())
	}
	if ok, _ := s.gauges(); ok != 0 {
		t.Errorf("reload gauge = %v after a bad file, want 0", ok)
	}
	if logs := s.logs.String(); !strings.Contains(logs, s.path+":9") || !strings.Contains(logs, "ur1") {
		t.Errorf("the log does not name %s:9 and ur1:\n%s", s.path, logs)
	}
	s.write("http5xx.yml", s.config("alpha", "beta"))
	s.waitForTargets("the fixed file", "alpha", "beta")
}

// TestWatchWithoutEvents: when the event source cannot be opened, the poll
// at the interval finds changes, and the failure is logged once.
func TestWatchWithoutEvents(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	const interval = 20 * time.Millisecond
	s.watch(interval, func() (reload.FileEvents, error) { return nil, errors.New("too many open files") })
	if got := reload.PollEvery(s.rl); got != interval {
		t.Errorf("poll every %v without events, want %v", got, interval)
	}
	s.write("targets/a.yml", s.targetFile("ta"))
	s.waitForTargets("the poll", "alpha", "ta")
	checks := reload.Checks(s.rl)
	s.waitFor("five more polls", func() bool { return reload.Checks(s.rl) >= checks+5 })
	logs := s.logs.String()
	if n := strings.Count(logs, "level=WARN"); n != 1 || !strings.Contains(logs, "too many open files") {
		t.Errorf("%d warnings, want the event source's failure once:\n%s", n, logs)
	}
	if !strings.Contains(logs, "events=false") {
		t.Errorf("the start line does not say events are off:\n%s", logs)
	}
}

// TestWatchUnwatchableDirectory: a directory that cannot be watched (the
// inotify limit, say) is polled at the interval while the others keep
// their events, and the failure is logged once.
func TestWatchUnwatchableDirectory(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	targets := filepath.Join(s.dir, "targets")
	if err := os.Mkdir(targets, 0o755); err != nil {
		t.Fatal(err)
	}
	const interval = 20 * time.Millisecond
	_, open := openRecording(targets)
	s.watch(interval, open)
	if got := reload.PollEvery(s.rl); got != interval {
		t.Errorf("poll every %v with a directory unwatched, want %v", got, interval)
	}
	s.write("targets/a.yml", s.targetFile("ta")) // no event reaches the main file's directory
	s.waitForTargets("the poll", "alpha", "ta")
	checks := reload.Checks(s.rl)
	s.waitFor("five more polls", func() bool { return reload.Checks(s.rl) >= checks+5 })
	logs := s.logs.String()
	if n := strings.Count(logs, "level=WARN"); n != 1 || !strings.Contains(logs, "dir="+targets) {
		t.Errorf("%d warnings, want one naming %s:\n%s", n, targets, logs)
	}

	// Once the glob is gone every directory has events again.
	s.write("http5xx.yml", strings.Replace(s.config("alpha"), "target_files: [targets/*.yml]\n", "", 1))
	s.waitForTargets("the main file without target_files", "alpha")
	s.waitFor("the safety poll", func() bool { return reload.PollEvery(s.rl) == reload.SafetyPolls*interval })
}
