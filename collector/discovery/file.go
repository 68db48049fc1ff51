package discovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// fileSource is one file_sd_config. Each file keeps its own last good
// groups: a file that turns bad keeps what it held, a file that is gone
// takes its targets with it.
type fileSource struct {
	cfg *config.FileSDConfig
	m   *Manager

	mu    sync.Mutex
	files map[string][]Group // last good groups by file
	seen  map[string]stamp   // what the files looked like when last read
	read  time.Time          // last full read
}

// stamp is what a file looked like; a different stamp means read it again.
type stamp struct {
	size int64
	mod  time.Time
}

func newFileSource(c *config.FileSDConfig, m *Manager) *fileSource {
	s := &fileSource{cfg: c, m: m, files: map[string][]Group{}}
	s.refresh(true)
	return s
}

func (s *fileSource) run(ctx context.Context, changed func()) {
	tick := time.Duration(s.cfg.RefreshInterval)
	if w := s.m.o.Watch; w > 0 && w < tick {
		tick = w
	}
	every(ctx, tick, func() {
		if s.refresh(time.Since(s.read) >= time.Duration(s.cfg.RefreshInterval)) {
			changed()
		}
	})
}

// refresh reads the files again when forced or when their names, sizes or
// times changed, and reports whether the groups changed.
func (s *fileSource) refresh(force bool) bool {
	names := s.match()
	stamps := make(map[string]stamp, len(names))
	for _, n := range names {
		if fi, err := os.Stat(n); err == nil {
			stamps[n] = stamp{fi.Size(), fi.ModTime()}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !force && reflect.DeepEqual(stamps, s.seen) {
		return false
	}
	s.seen, s.read = stamps, time.Now()
	next := make(map[string][]Group, len(names))
	for _, n := range names {
		gs, err := readGroups(n)
		if err != nil {
			s.m.failed(contract.SDFile, n, err)
			if old, ok := s.files[n]; ok {
				next[n] = old
			}
			continue
		}
		next[n] = gs
	}
	if reflect.DeepEqual(next, s.files) {
		return false
	}
	s.files = next
	return true
}

// match lists the files the globs match, sorted, without directories.
// Globs are checked by config validation.
func (s *fileSource) match() []string {
	var out []string
	for _, g := range s.cfg.Files {
		ms, _ := filepath.Glob(g)
		for _, m := range ms {
			if fi, err := os.Stat(m); err == nil && !fi.IsDir() && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	slices.Sort(out)
	return out
}

// readGroups reads one file_sd file, bounded like every config file.
func readGroups(name string) ([]Group, error) {
	data, err := config.ReadFile(name)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	switch filepath.Ext(name) {
	case ".json":
		return parseJSON(data)
	case ".yml", ".yaml":
		return parseYAML(data)
	}
	return nil, fmt.Errorf("%q is neither .json, .yml nor .yaml", filepath.Base(name))
}

func (s *fileSource) snapshot(cfg *config.Config) []config.Discovered {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.files))
	for n := range s.files {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []config.Discovered
	for _, n := range names {
		out = append(out, targets(n, map[string]string{MetaFilepath: n}, s.files[n], cfg.RelabelConfigs)...)
	}
	return out
}
