package reload_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/reload"
)

// TestWatcherReadsOnlyWhatChanged walks the watcher through idle ticks and
// every kind of change: an idle tick only stats (no read, no digest), any
// write, replacement, new or removed file digests, and a change of content
// reloads. The clock is the test's, so "recent" is decided by the table,
// not by how fast the machine is.
func TestWatcherReadsOnlyWhatChanged(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	now := time.Now().Add(time.Hour) // every file written so far is an hour old
	reload.SetClock(s.rl, func() time.Time { return now })
	old := time.Now().Add(-24 * time.Hour)
	targetFile := func(name string) string {
		return "targets: [{name: " + name + ", url: " + s.origin + "/" + name + "}]\n"
	}
	type step struct {
		name    string
		do      func()
		digests int // total so far
		targets []string
	}
	steps := []step{
		{"first tick: nothing known yet", func() {}, 1, []string{"alpha"}},
		{"idle", func() {}, 1, []string{"alpha"}},
		{"idle again", func() {}, 1, []string{"alpha"}},
		{"a target file appears", func() { s.write("targets/a.yml", targetFile("tf")) }, 2, []string{"alpha", "tf"}},
		{"idle after it", func() {}, 2, []string{"alpha", "tf"}},
		{"rewritten with the same bytes: digest, no reload", func() { s.write("targets/a.yml", targetFile("tf")) }, 3, []string{"alpha", "tf"}},
		{"a file written just now is not trusted", func() {
			s.write("targets/b.yml", targetFile("tb"))
			now = time.Now()
		}, 4, []string{"alpha", "tf", "tb"}},
		{"so the next tick digests again", func() {}, 5, []string{"alpha", "tf", "tb"}},
		{"until it is older than the racy window", func() { now = time.Now().Add(time.Hour) }, 6, []string{"alpha", "tf", "tb"}},
		{"then idle is a stat again", func() {}, 6, []string{"alpha", "tf", "tb"}},
		{"a file leaves the glob", func() {
			if err := os.Remove(filepath.Join(s.dir, "targets/b.yml")); err != nil {
				t.Fatal(err)
			}
		}, 7, []string{"alpha", "tf"}},
	}
	if runtime.GOOS == "linux" {
		// Only the change time (which no write can set back) shows an edit
		// in place that keeps the size and restores the old mtime.
		steps = append(steps, step{"edited in place, same size, mtime set back", func() {
			path := filepath.Join(s.dir, "targets/a.yml")
			if err := os.WriteFile(path, []byte(targetFile("tg")), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
		}, 8, []string{"alpha", "tg"}}, step{"idle after it", func() {}, 8, []string{"alpha", "tg"}})
	}
	for _, st := range steps {
		st.do()
		s.rl.ReloadIfChanged()
		if n := s.rl.Digests(); n != st.digests {
			t.Errorf("%s: %d digests so far, want %d", st.name, n, st.digests)
		}
		if got := s.targets(); !slices.Equal(got, st.targets) {
			t.Errorf("%s: targets %v, want %v", st.name, got, st.targets)
		}
	}
}

// TestConfigMapSymlinkSwap: Kubernetes mounts a ConfigMap as NAME ->
// ..data/NAME with ..data -> ..<timestamp>, and updates it by swapping the
// ..data symlink atomically. The swap must be noticed even when the new file
// has the same size and an older mtime than the one it replaces.
func TestConfigMapSymlinkSwap(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	reload.SetClock(s.rl, func() time.Time { return time.Now().Add(time.Hour) })
	mount, version, swap := s.configMap()
	tests := []struct {
		name    string
		do      func()
		targets []string
	}{
		{"the mounted file", func() {}, []string{"alpha", "one"}},
		{"idle", func() {}, []string{"alpha", "one"}},
		{"..data swapped to a new version", func() {
			version("..2026_12_06_02", "two") // same size as "one"
			swap("..2026_12_06_02")
			if err := os.RemoveAll(filepath.Join(mount, "..2026_12_06_01")); err != nil {
				t.Fatal(err)
			}
		}, []string{"alpha", "two"}},
	}
	for _, tt := range tests {
		tt.do()
		s.rl.ReloadIfChanged()
		if got := s.targets(); !slices.Equal(got, tt.targets) {
			t.Errorf("%s: targets %v, want %v", tt.name, got, tt.targets)
		}
	}
}
