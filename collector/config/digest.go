package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"
)

// Digest hashes the main file, every target file its globs match right
// now, and the TLS files (ca_file, cert_file, key_file) the targets name
// (names and bytes), so a watcher can poll for a change, including a file
// appearing in or leaving a glob and a rotated certificate: the prober
// reads its CA only when the config is applied. It fails only when the
// main file cannot be read; a file that does not parse is hashed as it is.
func Digest(path string) (string, error) {
	d, _, err := DigestSources(path)
	return d, err
}

// Sources are what a Digest depends on: the files it read and the
// directories whose listing decides what the target_files globs match. A
// watcher that finds none of them changed by a stat need not digest again.
type Sources struct {
	Files []string
	Dirs  []string
}

// DigestSources is Digest with the Sources it read.
func DigestSources(path string) (string, Sources, error) {
	data, err := ReadFile(path)
	if err != nil {
		return "", Sources{}, err
	}
	h := sha256.New()
	writeEntry(h, path, data)
	src := Sources{Files: []string{path}}

	var main struct {
		TargetFiles []string    `yaml:"target_files"`
		Targets     []tlsTarget `yaml:"targets"`
	}
	_ = yaml.Unmarshal(data, &main) // a broken file changes the hash anyway
	tlsFiles := tlsFilesOf(path, main.Targets)
	for _, f := range matchTargetFiles(path, main.TargetFiles, func(int, error) {}) {
		src.Files = append(src.Files, f)
		b, err := ReadFile(f)
		if err != nil {
			b = []byte("unreadable: " + err.Error())
		}
		writeEntry(h, f, b)
		var tf struct {
			Targets []tlsTarget `yaml:"targets"`
		}
		_ = yaml.Unmarshal(b, &tf)
		tlsFiles = append(tlsFiles, tlsFilesOf(f, tf.Targets)...)
	}
	slices.Sort(tlsFiles)
	for _, f := range slices.Compact(tlsFiles) {
		src.Files = append(src.Files, f)
		b, err := ReadFile(f)
		if err != nil {
			b = []byte("unreadable: " + err.Error())
		}
		writeEntry(h, f, b)
	}
	for _, g := range main.TargetFiles {
		if !filepath.IsAbs(g) {
			g = filepath.Join(filepath.Dir(path), g)
		}
		src.Dirs = append(src.Dirs, globDirs(g)...)
	}
	slices.Sort(src.Dirs)
	src.Dirs = slices.Compact(src.Dirs)
	return hex.EncodeToString(h.Sum(nil)), src, nil
}

// globDirs lists the directories filepath.Glob reads for pattern: a file
// added to or removed from any of them may change what it matches.
func globDirs(pattern string) []string {
	dir := filepath.Dir(pattern)
	if dir == pattern { // the root
		return nil
	}
	if !hasMeta(dir) {
		return []string{dir}
	}
	matches, _ := filepath.Glob(dir)
	return append(globDirs(dir), matches...)
}

// hasMeta is filepath's own test: a backslash escapes except on Windows.
func hasMeta(p string) bool {
	magic := `*?[\`
	if runtime.GOOS == "windows" {
		magic = `*?[`
	}
	return strings.ContainsAny(p, magic)
}

// tlsTarget is the part of a target Digest reads.
type tlsTarget struct {
	TLS struct {
		CAFile   string `yaml:"ca_file"`
		CertFile string `yaml:"cert_file"`
		KeyFile  string `yaml:"key_file"`
	} `yaml:"tls"`
}

// UnmarshalYAML skips what is not a mapping at once: a list of millions of
// scalars would otherwise cost a type error (and its text) each, on every
// poll.
func (t *tlsTarget) UnmarshalYAML(n *yaml.Node) error {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	type plain tlsTarget
	_ = n.Decode((*plain)(t)) // a broken target changes the hash anyway
	return nil
}

// tlsFilesOf returns the TLS files the targets of file name, relative to
// its directory as Load resolves them.
func tlsFilesOf(file string, targets []tlsTarget) []string {
	dir := filepath.Dir(file)
	var out []string
	for _, t := range targets {
		for _, f := range []string{t.TLS.CAFile, t.TLS.CertFile, t.TLS.KeyFile} {
			if f != "" {
				out = append(out, config.JoinDir(dir, f)) // as TLSConfig.SetDirectory
			}
		}
	}
	return out
}

// writeEntry length-prefixes name and data so no two file sets hash alike.
func writeEntry(h hash.Hash, name string, data []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	h.Write([]byte(name))
	binary.BigEndian.PutUint64(n[:], uint64(len(data)))
	h.Write(n[:])
	h.Write(data)
}
