//go:build unix

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostileFiles make a file that is not a configuration file in dir under
// name; the message is what ReadFile says about it. A test skips the
// kinds this system cannot make.
var hostileFiles = []struct {
	kind string
	make func(t *testing.T, path string)
	msg  string
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
		// Sparse: the limit and one byte more, without the disk space.
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(MaxFileSize + 1); err != nil {
			t.Fatal(err)
		}
	}, "is larger than 16MiB, the limit of a configuration file"},
	{"directory", func(t *testing.T, path string) {
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
	}, "is a directory, not a regular file"},
	{"dangling symlink", func(t *testing.T, path string) {
		symlink(t, "gone.yml", path)
	}, "no such file or directory"},
	{"vanished file", func(t *testing.T, path string) {}, "no such file or directory"},
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
}

// within fails the test unless f returns within a generous bound: the
// files here must be refused, not waited on.
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
		t.Fatalf("%s did not return within 20s: it blocks on the file", what)
	}
}

// TestHostileReadFile: ReadFile refuses every kind of file that is not a
// small regular one, at once, naming the file.
func TestHostileReadFile(t *testing.T) {
	for _, hf := range hostileFiles {
		t.Run(hf.kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yml")
			hf.make(t, path)
			var data []byte
			var err error
			within(t, "ReadFile", func() { data, err = ReadFile(path) })
			if err == nil || data != nil {
				t.Fatalf("ReadFile = %d bytes, %v; want no data and an error", len(data), err)
			}
			if !strings.Contains(err.Error(), path) || !strings.HasSuffix(err.Error(), hf.msg) {
				t.Errorf("error %q does not name %s and say %q", err, path, hf.msg)
			}
		})
	}
}

// TestHostileReadFileLimit: a file of exactly the limit is read whole; a
// file whose size lies (as in /proc) is still cut off by the limit, with
// an error rather than the part that was read.
func TestHostileReadFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := readFile(path, 10); err != nil || string(data) != "0123456789" {
		t.Errorf("readFile at the limit = %q, %v; want the whole file", data, err)
	}
	if data, err := readFile(path, 9); err == nil || data != nil {
		t.Errorf("readFile over the limit = %d bytes, %v; want no data and an error", len(data), err)
	}

	const lying = "/proc/self/maps" // a regular file of size 0 that holds more
	fi, err := os.Stat(lying)
	if err != nil || fi.Size() != 0 {
		t.Skipf("no %s of size 0 here", lying)
	}
	data, err := readFile(lying, 16)
	if err == nil || data != nil {
		t.Fatalf("readFile(%s, 16) = %d bytes, %v; want no data and an error", lying, len(data), err)
	}
	if want := "is larger than 16B, the limit of a configuration file"; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q, want one ending %q", err, want)
	}
}

// TestHostileSwappedForFIFO: a file that was regular when looked at and
// is a FIFO when opened (swapped in between) is refused too, at once: the
// open does not wait for a writer and the opened descriptor is checked.
func TestHostileSwappedForFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	var data []byte
	var err error
	within(t, "reading the opened file", func() { data, err = readOpened(path, MaxFileSize) })
	if want := "is a named pipe (FIFO), not a regular file"; err == nil || data != nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("readOpened = %d bytes, %v; want no data and an error saying %q", len(data), err, want)
	}
}

// TestHostileLoad puts each hostile file where the configuration reads
// one: the main file, a file a target_files glob matches and a TLS file.
// Load (config check, start, reload) answers with the file and the reason
// at once, and Digest (the watcher) never blocks either.
func TestHostileLoad(t *testing.T) {
	const main = "target_files: ['targets/*.yml']\ntargets: [{name: a, url: 'https://a', tls: {ca_file: certs/ca.pem}}]\n"
	for _, hf := range hostileFiles {
		for _, where := range []string{"main file", "target file", "tls file"} {
			t.Run(hf.kind+" as "+where, func(t *testing.T) {
				dir := t.TempDir()
				for _, d := range []string{"targets", "certs"} {
					if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				path := filepath.Join(dir, "config.yml")
				hostile := map[string]string{
					"main file":   path,
					"target file": filepath.Join(dir, "targets", "x.yml"),
					"tls file":    filepath.Join(dir, "certs", "ca.pem"),
				}[where]
				if where != "main file" {
					if err := os.WriteFile(path, []byte(main), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if hf.kind == "vanished file" && where == "target file" {
					// Matched by the glob, gone by the time it is read.
					symlink(t, "x.yml", filepath.Join(dir, "targets", "y.yml"))
					hostile = filepath.Join(dir, "targets", "y.yml")
				}
				if hf.kind == "directory" && where == "target file" {
					// A glob skips directories; only a named one is an error.
					t.Skip("a glob skips directories")
				}
				hf.make(t, hostile)

				var cfg *Config
				var err error
				within(t, "Load", func() { cfg, err = Load(path) })
				want := hostile + ": " + hf.msg
				if where == "tls file" {
					want = path + `:2: targets[0].tls.ca_file: cannot read "` + hostile + `": ` + hf.msg
				}
				if cfg != nil || err == nil || err.Error() != want {
					t.Errorf("Load = %v, %v\nwant the error %s", cfg, err, want)
				}
				var e *Error
				if !errors.As(err, &e) || e.File == "" {
					t.Errorf("error %v is not an *Error naming the file", err)
				}

				var digest string
				within(t, "Digest", func() { digest, err = Digest(path) })
				if where == "main file" {
					if err == nil || !strings.HasSuffix(err.Error(), hf.msg) {
						t.Errorf("Digest of a %s = %q, %v; want an error saying %q", hf.kind, digest, err, hf.msg)
					}
				} else if err != nil || digest == "" {
					t.Errorf("Digest = %q, %v; want a digest (the bad file is hashed as its error)", digest, err)
				}
			})
		}
	}
}
