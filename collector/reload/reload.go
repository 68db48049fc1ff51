// Package reload brings targets in. Every configuration, the first at start
// and every reload after it, passes one pipeline: load (the config file, its
// target_files and the discovered targets) → filter (which targets this exporter probes) → apply
// (the engine) → record (the reload gauges). A Reloader owns the config
// path, notices changes of the files (Watch: file events, with a stat poll
// as the fallback), and serializes the triggers: SIGHUP, POST /-/reload and
// file changes. The engine never reads files itself.
package reload

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// Filter keeps the targets this exporter probes. It must not modify its
// argument; it returns it, or a copy with fewer targets. shard.Shard.Filter
// (--shard.count, --shard.index) is one.
type Filter func(*config.Config) *config.Config

// KeepAll is the default filter: every configured target is probed here.
func KeepAll(cfg *config.Config) *config.Config { return cfg }

// Source is the front of the pipeline: load → filter.
type Source struct {
	// Path is the main config file (--config.file); its target_files are
	// loaded with it.
	Path string
	// Discover adds the targets of the configuration's discovery sources
	// (discovery.Manager.Discover); nil adds none.
	Discover func(*config.Config) (*config.Config, error)
	// Filter selects the targets; nil means KeepAll.
	Filter Filter
}

// Loaded is a configuration that came through a Source.
type Loaded struct {
	Config *config.Config
	// Digest identifies the files it was read from (config.Digest), taken
	// before reading them: a change while they were read is then seen by
	// the next check rather than taken for what was loaded. It is "" when
	// the main file could not be read for the digest.
	Digest string
	// Configured counts the targets loaded (configured and discovered),
	// before the filter.
	Configured int
}

// Load reads the configuration and filters it. On error the result holds
// the digest alone.
func (s Source) Load() (Loaded, error) {
	digest, _ := config.Digest(s.Path) // unreadable: config.Load says why
	cfg, err := config.Load(s.Path)
	if err == nil && s.Discover != nil {
		cfg, err = s.Discover(cfg)
	}
	if err != nil {
		return Loaded{Digest: digest}, err
	}
	filter := s.Filter
	if filter == nil {
		filter = KeepAll
	}
	return Loaded{Config: filter(cfg), Digest: digest, Configured: len(cfg.Targets)}, nil
}

// Engine is what a reload drives: collector.Exporter.
type Engine interface {
	// Apply switches to cfg; on error the running configuration stays.
	Apply(cfg *config.Config) error
	// RecordReload sets the reload gauges from the outcome of an attempt.
	RecordReload(err error)
}

// Hook reloads something read alongside the configuration, such as the
// deploy API's token file.
type Hook struct {
	Name   string // what it reloads, for the log
	Reload func() error
}

// Options configure a Reloader.
type Options struct {
	Source Source
	Engine Engine
	// Running is the load the engine was started from; its digest is what
	// a file change is measured against.
	Running Loaded
	// Hooks run on every reload before the configuration is loaded. A
	// failing hook is logged, keeps its previous state, and does not stop
	// the reload.
	Hooks []Hook
	// Applied are told of every load the engine applied, Running first
	// (from New): the record step for what the pipeline itself knows, such
	// as how many targets the filter skipped.
	Applied []func(Loaded)
	Logger  *slog.Logger
}

// Reloader runs the pipeline on every trigger, one at a time.
type Reloader struct {
	o Options

	mu     sync.Mutex
	digest string // of the files the last attempt read
	// sources and stamp are those of the last digest the watcher took;
	// nil sources mean the next check digests.
	sources *config.Sources
	stamp   stamp
	digests int
	checks  int // check calls, digesting or not
	// newEvents opens the file event source Watch uses; tests replace it.
	newEvents func() (fileEvents, error)
	watchPoll atomic.Int64     // Watch's poll period now; 0 when it does not run
	now       func() time.Time // the racy window's clock; tests move it
}

// New returns a Reloader of the engine o.Engine, which runs o.Running.
func New(o Options) *Reloader {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for _, f := range o.Applied {
		f(o.Running)
	}
	return &Reloader{o: o, digest: o.Running.Digest, now: time.Now, newEvents: newFsnotify}
}

// Reload runs the pipeline now; trigger says why, for the log. On error
// the running configuration stays and the error names file and line.
func (r *Reloader) Reload(trigger string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked(trigger)
}

// check reloads when the config file, a target file or a TLS file a
// target names changed since the last attempt; Watch calls it on a file
// event and on every poll. It costs a stat per file and glob directory:
// the files are read and hashed only when a stat shows a change (or a file
// changed too recently to trust its times), and reloaded only when the
// digest differs. It returns the sources of the last digest, nil while
// they are unknown (the main file could not be read).
func (r *Reloader) check() *config.Sources {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks++
	now := r.now()
	if r.sources != nil && !r.stamp.racy && takeStamp(*r.sources, now).equal(r.stamp) {
		return r.sources
	}
	r.digests++
	d, src, err := config.DigestSources(r.o.Source.Path)
	if err != nil {
		r.sources = nil // an unreadable file is reported by the reload it triggers once readable
		return nil
	}
	// Stamped after the digest: a write in between is within the racy
	// window, so the next check digests again.
	r.sources, r.stamp = &src, takeStamp(src, now)
	if d != r.digest {
		_ = r.reloadLocked("file change")
	}
	return r.sources
}

// Digests is how many times the watcher read and hashed the files.
func (r *Reloader) Digests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.digests
}

func (r *Reloader) reloadLocked(trigger string) error {
	for _, h := range r.o.Hooks {
		if err := h.Reload(); err != nil {
			r.o.Logger.Error("reload hook failed; its previous state stays", "hook", h.Name, "trigger", trigger, "err", err)
		}
	}
	loaded, err := r.o.Source.Load()
	// Kept after a failed attempt too, so the watcher does not retry an
	// unchanged broken file.
	if loaded.Digest != "" {
		r.digest = loaded.Digest
	}
	if err == nil {
		err = r.o.Engine.Apply(loaded.Config)
	}
	r.o.Engine.RecordReload(err)
	if err != nil {
		r.o.Logger.Error("reload failed; the running configuration stays", "trigger", trigger, "file", r.o.Source.Path, "err", err)
		return err
	}
	for _, f := range r.o.Applied {
		f(loaded)
	}
	r.o.Logger.Info("configuration reloaded", "trigger", trigger, "file", r.o.Source.Path, "targets", len(loaded.Config.Targets), "configured", loaded.Configured)
	return nil
}

// ServeHTTP reloads for /-/reload: 200 "Reloaded." or 500 with the error.
// The handler tree mounts it for POST and PUT only.
func (r *Reloader) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	if err := r.Reload("web"); err != nil {
		http.Error(w, fmt.Sprintf("failed to reload config: %s", err), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "Reloaded.")
}
