package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDigest walks one directory through a sequence of edits; each step says
// whether a watcher polling Digest must see a change.
func TestDigest(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "config.yml")
	write := func(name, body string) func() error {
		return func() error { return os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644) }
	}
	if err := os.Mkdir(filepath.Join(dir, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := write("config.yml", "target_files: [targets/*.yml]\n")(); err != nil {
		t.Fatal(err)
	}

	for _, step := range []struct {
		name    string
		do      func() error
		changed bool
	}{
		{"nothing happens", func() error { return nil }, false},
		{"a target file appears in the glob", write("targets/a.yml", "targets: []\n"), true},
		{"nothing happens again", func() error { return nil }, false},
		{"the target file is edited", write("targets/a.yml", "targets: [{name: a, url: 'http://a'}]\n"), true},
		{"a file outside the glob appears", write("targets/notes.txt", "hello"), false},
		{"a second target file appears", write("targets/b.yml", "targets: []\n"), true},
		{"a target file is renamed", func() error {
			return os.Rename(filepath.Join(dir, "targets/b.yml"), filepath.Join(dir, "targets/c.yml"))
		}, true},
		{"a target file is removed", func() error { return os.Remove(filepath.Join(dir, "targets/a.yml")) }, true},
		{"the main file is edited", write("config.yml", "target_files: [targets/*.yml]\nglobal: {interval: 1m}\n"), true},
		{"the main file stops parsing", write("config.yml", "target_files: [\n"), true},
	} {
		before, err := Digest(main)
		if err != nil {
			t.Fatal(err)
		}
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		after, err := Digest(main)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if changed := before != after; changed != step.changed {
			t.Errorf("%s: digest changed = %v, want %v", step.name, changed, step.changed)
		}
	}

	if _, err := Digest(filepath.Join(dir, "missing.yml")); err == nil {
		t.Error("Digest of a missing file succeeded")
	}
}
