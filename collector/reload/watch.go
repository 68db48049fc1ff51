package reload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// How Watch paces itself.
const (
	// settle: a check runs once events have stopped for this long. One
	// save is a burst of a few ms (an editor's temporary file and rename,
	// cp, a ConfigMap's new directory and ..data swap), a checkout or rsync
	// writes files tens of ms apart: each costs one check and at most one
	// reload, and the reload still follows the save well within a second.
	settle = 200 * time.Millisecond
	// settleMax bounds the wait from a burst's first event, so a directory
	// that never goes quiet (a log file beside the config) is still
	// checked, once per settleMax.
	settleMax = 2 * time.Second
	// safetyPolls: while file events cover every directory, the stat poll
	// runs at this many times the watch interval (a minute at the default
	// 5s). It catches what no event reports: a change made by another
	// machine on a mount whose type we do not know to be remote, or events
	// the platform dropped without saying so.
	safetyPolls = 12
)

// fileEvents is what Watch uses of an fsnotify.Watcher; tests wrap or
// replace it.
type fileEvents interface {
	Add(dir string) error
	Remove(dir string) error
	Close() error
	// Changes and Failures are the watcher's Events and Errors.
	Changes() <-chan fsnotify.Event
	Failures() <-chan error
}

type fsnotifyEvents struct{ w *fsnotify.Watcher }

func newFsnotify() (fileEvents, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return fsnotifyEvents{w}, nil
}

func (f fsnotifyEvents) Add(dir string) error           { return f.w.Add(dir) }
func (f fsnotifyEvents) Remove(dir string) error        { return f.w.Remove(dir) }
func (f fsnotifyEvents) Close() error                   { return f.w.Close() }
func (f fsnotifyEvents) Changes() <-chan fsnotify.Event { return f.w.Events }
func (f fsnotifyEvents) Failures() <-chan error         { return f.w.Errors }

// Watch looks for changes of the configuration's files until ctx ends and
// reloads when their digest changed. File events (inotify, kqueue,
// ReadDirectoryChangesW) on the directories of the config file, of the
// target files and their globs and of the TLS files targets name are hints:
// a burst of them is one check, whose stat and digest decide, so
// an unrelated file in a watched directory costs a stat. Watching
// directories rather than files sees a rename into place, cp -p and a
// ConfigMap's ..data swap. The stat poll stays as the fallback: every
// interval when events are unavailable (the watcher cannot be created, a
// directory cannot be watched, or it is on a network filesystem whose
// remote changes raise no event), and every safetyPolls × interval as a
// safety net otherwise. interval must be positive.
func (r *Reloader) Watch(ctx context.Context, interval time.Duration) {
	w := &watcher{
		r: r, interval: interval, dirty: true,
		armed: map[string]bool{}, unwatched: map[string]bool{}, remote: map[string]bool{}, told: map[string]bool{},
	}
	var changes <-chan fsnotify.Event
	var failures <-chan error
	if ev, err := r.newEvents(); err != nil {
		r.o.Logger.Warn("file events unavailable; polling the configuration files", "err", err, "every", interval)
	} else {
		defer ev.Close()
		w.ev, changes, failures = ev, ev.Changes(), ev.Failures()
	}
	w.arm(nil) // the main file's directory, before the first digest
	w.round()
	every := w.pollEvery()
	poll := time.NewTicker(every)
	defer poll.Stop()
	r.watchPoll.Store(int64(every))
	defer r.watchPoll.Store(0)
	r.o.Logger.Info("watching the configuration files", "events", w.ev != nil, "directories", len(w.armed), "poll", every)

	wait := time.NewTimer(time.Hour)
	wait.Stop()
	var burst time.Time // the pending burst's first event; zero when none
	hint := func() {
		now := time.Now()
		if burst.IsZero() {
			burst = now
		}
		wait.Reset(min(settle, burst.Add(settleMax).Sub(now)))
	}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-changes:
			if !ok {
				changes, failures = nil, nil
				w.lost(errors.New("the event channel closed"))
				break
			}
			w.note(e)
			hint()
		case err, ok := <-failures:
			if !ok {
				changes, failures = nil, nil
				w.lost(errors.New("the error channel closed"))
				break
			}
			w.failed(err)
			hint() // an event may be lost: look
		case <-wait.C:
			burst = time.Time{}
			w.round()
		case <-poll.C:
			w.round()
		}
		if p := w.pollEvery(); p != every {
			every = p
			poll.Reset(every)
			r.watchPoll.Store(int64(every))
		}
	}
}

// watcher is Watch's state; only Watch's goroutine touches it.
type watcher struct {
	r        *Reloader
	interval time.Duration
	ev       fileEvents // nil: polling only
	// armed are the directories with a watch, computed from the sources
	// from; dirty asks to compute them again (a watched directory went).
	armed map[string]bool
	from  *config.Sources
	dirty bool
	// unwatched could not be watched and remote are on a network
	// filesystem: either polls at the interval.
	unwatched, remote map[string]bool
	told              map[string]bool // directories whose trouble was logged
	toldFailure       bool
}

// round checks the files and watches what the check's digest named. A
// directory added after that digest may have been written to before its
// watch: check again (a stat, unless it changed).
func (w *watcher) round() {
	src := w.r.check()
	for range 3 { // the directories settle at once unless files keep moving
		if !w.arm(src) {
			return
		}
		src = w.r.check()
	}
}

// arm watches the directories src needs and drops those it no longer
// does; nil src (unknown) only adds the main file's. It reports whether it
// added one.
func (w *watcher) arm(src *config.Sources) (added bool) {
	if w.ev == nil || (src == w.from && !w.dirty) {
		return false
	}
	w.from, w.dirty = src, false
	log := w.r.o.Logger
	want := watchDirs(w.r.o.Source.Path, src)
	for dir := range want {
		if w.armed[dir] {
			continue
		}
		if err := w.ev.Add(dir); err != nil {
			w.unwatched[dir] = true
			if !w.told[dir] {
				w.told[dir] = true
				log.Warn("cannot watch a directory for file events; polling it", "dir", dir, "err", err, "every", w.interval)
			}
			continue
		}
		delete(w.unwatched, dir)
		w.armed[dir], added = true, true
		if networkFS(dir) {
			w.remote[dir] = true
			if !w.told[dir] {
				w.told[dir] = true
				log.Info("directory on a network filesystem, where file events miss changes made elsewhere; polling it", "dir", dir, "every", w.interval)
			}
		}
	}
	if src == nil {
		return added
	}
	for dir := range w.armed {
		if !want[dir] {
			_ = w.ev.Remove(dir) // fails for a directory that is gone, and its watch with it
			delete(w.armed, dir)
			delete(w.remote, dir)
		}
	}
	for dir := range w.unwatched {
		if !want[dir] {
			delete(w.unwatched, dir)
		}
	}
	return added
}

// note forgets the watch of a watched directory that was removed or renamed
// (the platform dropped it), so the next round watches whatever is there now.
func (w *watcher) note(e fsnotify.Event) {
	if w.armed[e.Name] && e.Has(fsnotify.Remove|fsnotify.Rename) {
		delete(w.armed, e.Name)
		delete(w.remote, e.Name)
		w.dirty = true
	}
}

// failed logs the first error of the event source (a queue overflow, say):
// the next round checks anyway, and the poll runs whatever happens.
func (w *watcher) failed(err error) {
	if w.toldFailure {
		w.r.o.Logger.Debug("file event error", "err", err)
		return
	}
	w.toldFailure = true
	w.r.o.Logger.Warn("file event error; checking the configuration files (logged once)", "err", err)
}

// lost falls back to polling when the event source stopped.
func (w *watcher) lost(err error) {
	w.r.o.Logger.Warn("file events stopped; polling the configuration files", "err", err, "every", w.interval)
	w.ev = nil
}

// pollEvery is the stat poll's period: the interval unless events cover
// every directory.
func (w *watcher) pollEvery() time.Duration {
	if w.ev == nil || len(w.unwatched) > 0 || len(w.remote) > 0 {
		return w.interval
	}
	return safetyPolls * w.interval
}

// watchDirs are the directories whose events may change what src digests:
// those of the main file and of every file read (as named and, behind a
// symlink, where it lives) and the glob directories. One that does not
// exist yet is watched through its nearest existing parent, which sees it
// appear.
func watchDirs(main string, src *config.Sources) map[string]bool {
	want := map[string]bool{}
	add := func(dir string) { want[existingDir(dir)] = true }
	file := func(name string) {
		add(filepath.Dir(name))
		if real, err := filepath.EvalSymlinks(name); err == nil {
			add(filepath.Dir(real))
		}
	}
	file(main)
	if src != nil {
		for _, f := range src.Files {
			file(f)
		}
		for _, d := range src.Dirs {
			add(d)
		}
	}
	return want
}

func existingDir(dir string) string {
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}
