package config

import (
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzInput bounds a fuzzed file: big enough for every testdata file,
// small enough that each input takes milliseconds.
const maxFuzzInput = 64 << 10

// fuzzSeeds adds every testdata configuration as a seed.
func fuzzSeeds(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

// FuzzLoad: any main file either loads or fails with errors that name the
// file; Load and Digest never panic or hang.
func FuzzLoad(f *testing.F) {
	fuzzSeeds(f, "testdata/*.yml")
	f.Add([]byte("targets: [{name: a, url: 'http://a'}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			t.Skip()
		}
		path := filepath.Join(t.TempDir(), "config.yml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		loadChecked(t, path)
		if _, err := Digest(path); err != nil {
			t.Errorf("Digest of a readable file: %v", err)
		}
	})
}

// FuzzTargetFile: the same for a file a target_files glob matches.
func FuzzTargetFile(f *testing.F) {
	fuzzSeeds(f, "testdata/targets.d/*.yml", "testdata/bad-targets/*.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			t.Skip()
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(path, []byte("target_files: ['*.targets']\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "a.targets"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		loadChecked(t, path)
	})
}

// loadChecked loads path and checks the answer's shape: a config or
// errors, every one naming a file.
func loadChecked(t *testing.T, path string) {
	t.Helper()
	cfg, err := Load(path)
	if (cfg == nil) == (err == nil) {
		t.Fatalf("Load = %v, %v; want a config or an error", cfg, err)
	}
	if err == nil {
		return
	}
	if len(err.Error()) > maxErrors*(3*maxQuoted+len(path)+64)+len(path)+64 {
		t.Errorf("error text of %d bytes", len(err.Error()))
	}
}
