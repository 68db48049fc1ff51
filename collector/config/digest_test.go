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
	write := writer(dir)
	if err := os.Mkdir(filepath.Join(dir, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := write("config.yml", "target_files: [targets/*.yml]\n")(); err != nil {
		t.Fatal(err)
	}

	walkDigest(t, main, []digestStep{
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
	})

	if _, err := Digest(filepath.Join(dir, "missing.yml")); err == nil {
		t.Error("Digest of a missing file succeeded")
	}
}

// digestStep is one edit and whether a watcher polling Digest must see it.
type digestStep struct {
	name    string
	do      func() error
	changed bool
}

// walkDigest makes the edits in order, checking after each whether the
// digest of main changed as it should.
func walkDigest(t *testing.T, main string, steps []digestStep) {
	t.Helper()
	for _, step := range steps {
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
}

// writer returns edits that write a file below dir.
func writer(dir string) func(name, body string) func() error {
	return func(name, body string) func() error {
		return func() error { return os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644) }
	}
}

// The prober reads its CA when the config is applied, so a rotated (or
// broken) certificate file must count as a change like the config itself.
func TestDigestSeesTLSFiles(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "config.yml")
	write := writer(dir)
	for _, d := range []string{"targets", "certs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []func() error{
		write("config.yml", "target_files: [targets/*.yml]\ntargets: [{name: m, url: 'https://m', tls: {cert_file: certs/m.crt, key_file: certs/m.key}}]\n"),
		write("targets/a.yml", "targets: [{name: a, url: 'https://a', tls: {ca_file: ../certs/ca.pem}}]\n"),
		write("certs/m.crt", "cert one"),
		write("certs/m.key", "key one"),
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}

	walkDigest(t, main, []digestStep{
		{"nothing happens", func() error { return nil }, false},
		{"the CA a target file names appears", write("certs/ca.pem", "ca one"), true},
		{"the CA is rotated", write("certs/ca.pem", "ca two"), true},
		{"the main file's client certificate is rotated", write("certs/m.crt", "cert two"), true},
		{"its key is rotated", write("certs/m.key", "key two"), true},
		{"a file no target names changes", write("certs/other.pem", "x"), false},
		{"the CA is removed", func() error { return os.Remove(filepath.Join(dir, "certs/ca.pem")) }, true},
	})
}
