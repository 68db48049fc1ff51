package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Error is one problem in a configuration file. Its text is
// FILE:LINE: FIELD: message, e.g.
//
//	targets.d/api.yml:7: targets[1].url: "ftp://x" is not an http or https URL
type Error struct {
	File string // as given to Load, or as matched by a target_files glob
	Line int    // 1-based; 0 when the problem is the file as a whole
	// Field is the YAML path, such as global.timeout or targets[1].tls.ca_file;
	// empty for syntax errors.
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// targetFile is the shape of a file matched by target_files.
type targetFile struct {
	Targets []Target `yaml:"targets"`
}

// loader carries one Load: the errors so far and where every value came from.
type loader struct {
	errs    []*Error
	main    *source
	targets []*source // parallel to Config.Targets
	paths   []string  // parallel to Config.Targets: "targets[j]" in its file
	// maxVisits overrides defaultMaxVisits in tests.
	maxVisits int
	// dropped counts the problems found after maxErrors; truncated says
	// that some were dropped or not looked for.
	dropped   int
	truncated bool
}

// maxErrors bounds the problems one Load reports. Aliases repeat a
// mistake once per use, so a small file could otherwise produce an error
// text of hundreds of megabytes; the walk stops once the list is full.
const maxErrors = 100

func (l *loader) add(e *Error) {
	if l.full() {
		l.dropped++
		return
	}
	e.Field, e.Msg = elide(e.Field), elide(e.Msg)
	l.errs = append(l.errs, e)
}

// maxQuoted is how much of a field or message an error keeps: a value
// on a huge line is quoted by its start and end.
const maxQuoted = 200

// elide keeps the first and last maxQuoted/2 bytes of a long s and says
// how much it left out between them.
func elide(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	h := maxQuoted / 2
	return fmt.Sprintf("%s…(%d bytes)…%s", strings.ToValidUTF8(s[:h], ""), len(s)-2*h, strings.ToValidUTF8(s[len(s)-h:], ""))
}

// full reports whether further problems would only be counted.
func (l *loader) full() bool { return len(l.errs) >= maxErrors }

// stop reports whether a walk should stop looking because the list is
// full, and remembers that it did.
func (l *loader) stop() bool {
	if l.full() {
		l.truncated = true
		return true
	}
	return false
}

// problems counts every problem found, reported or not.
func (l *loader) problems() int { return len(l.errs) + l.dropped }

// errorf reports a problem with the value at path in src.
func (l *loader) errorf(src *source, path, format string, args ...any) {
	l.add(&Error{File: src.file, Line: src.lineOf(path), Field: path, Msg: fmt.Sprintf(format, args...)})
}

// err joins every problem, ordered by file (main file first) and line.
func (l *loader) err(files []string) error {
	if len(l.errs) == 0 {
		return nil
	}
	rank := func(f string) int {
		if i := slices.Index(files, f); i >= 0 {
			return i
		}
		return len(files)
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if ra, rb := rank(a.File), rank(b.File); ra != rb {
			return ra < rb
		}
		return a.Line < b.Line
	})
	errs := make([]error, len(l.errs), len(l.errs)+1)
	for i, e := range l.errs {
		errs[i] = e
	}
	if l.dropped > 0 || l.truncated {
		errs = append(errs, &Error{File: files[0], Msg: fmt.Sprintf("stopped after %d problems; fix these and check again", maxErrors)})
	}
	return errors.Join(errs...)
}

// Load reads the configuration at path and every file its target_files globs
// match (relative to path's directory), applies the defaults and validates
// the result. Unknown fields are errors. On failure the error joins every
// problem found (see Error); the config is nil.
func Load(path string) (*Config, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: ioMessage(err)}
	}
	l := &loader{}
	cfg := &Config{}
	src, ok := l.decodeFile(path, data, cfg)
	l.main = src
	if !ok {
		return nil, l.err([]string{path})
	}
	for i := range cfg.Targets {
		cfg.Targets[i].File = path
		l.targets = append(l.targets, src)
		l.paths = append(l.paths, indexPath("targets", i))
	}

	files := matchTargetFiles(path, cfg.TargetFiles, func(i int, err error) {
		l.errorf(src, indexPath("target_files", i), "%q is not a valid glob pattern", cfg.TargetFiles[i])
	})
	for _, f := range files {
		data, err := ReadFile(f)
		if err != nil {
			l.add(&Error{File: f, Msg: ioMessage(err)})
			continue
		}
		var tf targetFile
		tsrc, ok := l.decodeFile(f, data, &tf)
		if !ok {
			continue
		}
		for j, t := range tf.Targets {
			t.File = f
			cfg.Targets = append(cfg.Targets, t)
			l.targets = append(l.targets, tsrc)
			l.paths = append(l.paths, indexPath("targets", j))
		}
	}
	cfg.Files = append([]string{path}, files...)
	if len(l.errs) > 0 {
		return nil, l.err(cfg.Files)
	}

	l.applyDefaults(cfg)
	l.applySDDefaults(cfg, path)
	l.validate(cfg)
	if err := l.err(cfg.Files); err != nil {
		return nil, err
	}
	resolveTeams(cfg.Targets, cfg.Classes, cfg.Services)
	return cfg, nil
}

// matchTargetFiles resolves the target_files globs relative to the main
// file's directory: sorted, without duplicates, directories or the main file
// itself (under any name: a symlink or hard link to it is the main file
// too). bad is called for each invalid pattern.
func matchTargetFiles(mainPath string, globs []string, bad func(i int, err error)) []string {
	dir := filepath.Dir(mainPath)
	mainAbs, _ := filepath.Abs(mainPath)
	mainInfo, _ := os.Stat(mainPath)
	seen := map[string]bool{}
	var out []string
	for i, g := range globs {
		if !filepath.IsAbs(g) {
			g = filepath.Join(dir, g)
		}
		matches, err := filepath.Glob(g)
		if err != nil {
			bad(i, err)
			continue
		}
		for _, m := range matches {
			abs, _ := filepath.Abs(m)
			if seen[abs] || abs == mainAbs {
				continue
			}
			if fi, err := os.Stat(m); err == nil && (fi.IsDir() || mainInfo != nil && os.SameFile(fi, mainInfo)) {
				continue
			}
			seen[abs] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// ioMessage drops the path an *fs.PathError repeats; the Error names the file.
func ioMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
