//go:build unix

package reload_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// TestHostileReloadKeepsTheRunningConfig: a main file or a target file
// that is not a small regular file fails the reload at once, keeps the
// running configuration and leaves the reloader free: the watcher's next
// poll and the next reload do not hang either.
func TestHostileReloadKeepsTheRunningConfig(t *testing.T) {
	kinds := []struct {
		kind string
		make func(t *testing.T, path string)
		want string
	}{
		{"FIFO", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
		}, "is a named pipe (FIFO), not a regular file"},
		{"/dev/zero", func(t *testing.T, path string) {
			if _, err := os.Stat("/dev/zero"); err != nil {
				t.Skip("no /dev/zero here")
			}
			symlink(t, "/dev/zero", path)
		}, "is a device, not a regular file"},
		{"huge file", func(t *testing.T, path string) {
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(config.MaxFileSize + 1); err != nil { // sparse
				t.Fatal(err)
			}
		}, "is larger than 16MiB"},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "is a directory, not a regular file"},
		{"dangling symlink", func(t *testing.T, path string) { symlink(t, "gone.yml", path) }, "no such file or directory"},
		{"vanished file", func(t *testing.T, path string) {}, "no such file or directory"},
	}
	for _, k := range kinds {
		for _, where := range []string{"main file", "target file"} {
			if k.kind == "directory" && where == "target file" {
				continue // a glob skips directories
			}
			if k.kind == "vanished file" && where == "target file" {
				continue // a glob only matches what is there: the dangling symlink is the vanished one
			}
			t.Run(k.kind+" as "+where, func(t *testing.T) {
				s := start(t, nil, nil, "alpha")
				running := s.exp.Config()
				hostile := s.path
				if where == "target file" {
					if err := os.MkdirAll(filepath.Join(s.dir, "targets"), 0o755); err != nil {
						t.Fatal(err)
					}
					hostile = filepath.Join(s.dir, "targets", "x.yml")
				}
				if err := os.Remove(hostile); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				k.make(t, hostile)

				var err error
				within(t, "the watcher's poll", s.rl.ReloadIfChanged)
				within(t, "Reload", func() { err = s.rl.Reload("SIGHUP") })
				if err == nil || !strings.Contains(err.Error(), hostile+": "+k.want) {
					t.Errorf("Reload = %v, want an error naming %s and saying %q", err, hostile, k.want)
				}
				if s.exp.Config() != running {
					t.Errorf("a failed reload replaced the running configuration: targets %v", s.targets())
				}
				if ok, _ := s.gauges(); ok != 0 {
					t.Errorf("reload gauge = %v after a failed reload, want 0", ok)
				}

				// The reloader is not wedged: the fix is picked up.
				if err := os.RemoveAll(hostile); err != nil {
					t.Fatal(err)
				}
				s.write("http5xx.yml", s.config("alpha", "beta"))
				within(t, "Reload after the fix", func() { err = s.rl.Reload("SIGHUP") })
				if err != nil {
					t.Fatalf("reload after the fix: %v", err)
				}
				if got := s.targets(); !slices.Equal(got, []string{"alpha", "beta"}) {
					t.Errorf("targets after the fix = %v, want [alpha beta]", got)
				}
			})
		}
	}
}

// TestHostileWatcherSkipsFIFOInGlob: a FIFO appearing in a target_files
// glob does not block the watcher's poll, which reloads (and fails)
// once, not on every tick.
func TestHostileWatcherSkipsFIFOInGlob(t *testing.T) {
	s := start(t, nil, nil, "alpha")
	if err := os.MkdirAll(filepath.Join(s.dir, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(s.dir, "targets", "pipe.yml"), 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	for range 3 {
		within(t, "the watcher's poll", s.rl.ReloadIfChanged)
	}
	if n := strings.Count(s.logs.String(), "reload failed"); n != 1 {
		t.Errorf("%d failed reloads logged over three polls of one FIFO, want 1:\n%s", n, s.logs.String())
	}
	if got := s.targets(); !slices.Equal(got, []string{"alpha"}) {
		t.Errorf("targets = %v, want the running [alpha]", got)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
}

// within fails the test unless f returns within a generous bound.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not return within 20s: the reloader is wedged", what)
	}
}
