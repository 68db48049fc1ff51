// Package deploy records deploys: posted by pipelines to /api/v1/deploys or
// detected when a target's version header or version_url changes. Events
// are kept in a durable append-only log under the storage path and exported
// as http5xx_deploy_timestamp_seconds, http5xx_deploys_total and
// http5xx_deploy_info. Maintenance windows of services
// (/api/v1/maintenance) share its credentials, log and idempotency and are
// exported as http5xx_maintenance_active and
// http5xx_maintenance_end_timestamp_seconds.
package deploy

import (
	"cmp"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultMaxServices         = 500
	DefaultMaxEventsPerService = 100
	// DefaultIDWindow and DefaultMaxRetiredIDs bound how long, and how many,
	// idempotency ids of events that left their service's history are
	// still remembered.
	DefaultIDWindow      = 24 * time.Hour
	DefaultMaxRetiredIDs = 10000
)

// Writer tuning.
const (
	queueLen = 1024 // commits waiting for the writer
	maxBatch = 512  // commits in one write+fsync
	// defaultCompactMin is the number of dropped records the log may hold
	// before it is rewritten (and only when they outnumber the live ones).
	defaultCompactMin = 1024
)

// Options configure a Manager.
type Options struct {
	// StoragePath is the directory of the deploy log (--storage.path).
	StoragePath string
	// TokenFile holds the bearer tokens that may POST, one per line
	// (--deploy.token-file). With it, POST needs one of them; it is read
	// for every POST, and while it cannot be read every POST is refused.
	TokenFile string
	// AllowUnauthenticated lets POST through without any credentials when
	// neither TokenFile nor WebAuth is set (--deploy.allow-unauthenticated).
	AllowUnauthenticated bool
	// WebAuth says the web config sets basic auth: exporter-toolkit has
	// already checked it on every request, so POST needs nothing more.
	// WebConfigFile, when set, replaces it.
	WebAuth bool
	// WebConfigFile is exporter-toolkit's --web.config.file. exporter-toolkit
	// reads it again for every request, so whether it sets basic auth is
	// read again for every POST too: basic auth removed from a running
	// exporter must not leave POST open on the strength of a stale WebAuth
	// (the token file or --deploy.allow-unauthenticated decide again).
	WebConfigFile string
	// MaxServices bounds how many services the API may create (a cardinality
	// guard); services of configured targets are always admitted.
	MaxServices int
	// MaxEventsPerService bounds the history kept per service.
	MaxEventsPerService int
	// IDWindow is how long after it was recorded the id of an event that
	// has left its service's history is still answered as a duplicate, and
	// MaxRetiredIDs how many such ids are remembered at most (the oldest
	// go first). Ids of kept events are always remembered. Both survive a
	// restart: the log keeps these events until they are forgotten.
	IDWindow      time.Duration
	MaxRetiredIDs int
	// MaxWindows bounds the maintenance windows kept, ended ones included.
	MaxWindows int
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Version goes into the User-Agent of version_url polls.
	Version string
}

// Manager owns the deploy history: storage, API, detection and metrics.
type Manager struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time
	// tokenFile is the state of --deploy.token-file, read for every POST.
	tokenFile tokenFileState

	mu       sync.RWMutex
	services map[string]*history
	ids      map[string]*Event // idempotency index of the kept events
	// retired are the events that left their service's history but whose
	// ids are still remembered (Options.IDWindow), by id and in the order
	// they left (the order may still hold stale entries, see pruneRetired).
	retired      map[string]*Event
	retiredOrder []*Event
	pending      map[string]*commit // id -> commit on its way to disk
	// windows are the kept maintenance windows by id; pendingWin the ids
	// of new ones on their way to disk.
	windows    map[string]*Window
	pendingWin map[string]bool
	reserved   map[string]int // new services held by pending commits
	// configured holds the services of configured targets: they pass the
	// service guard (the config bounds them already).
	configured map[string]bool
	live       int // records in the log that are kept (history and retired)
	dead       int // records in the log that are not (dropped, damaged)
	store      *store
	// compactMin is the dead-record threshold of compaction.
	compactMin int

	qmu     sync.RWMutex // orders sends on queue against its close
	qclosed bool
	queue   chan *commit
	written chan struct{} // closed when the writer has stopped

	dmu     sync.Mutex // guards detection state
	closing bool
	seen    map[sightingKey]*sighting
	pollers map[string]*poller
	bg      sync.WaitGroup // pollers and detected-deploy recorders
}

// history is one service's kept events.
type history struct {
	events []*Event // in recording order (ascending Seq)
	latest *Event   // the newest deploy (see newer)
	total  uint64   // highest Seq ever recorded
}

// commit is one event or maintenance window on its way to disk (neither:
// a request to check for compaction).
type commit struct {
	ev   *Event
	win  *Window
	err  error
	done chan struct{}
}

// Errors of record, mapped to HTTP answers by the handler.
var (
	errClosed          = errors.New("deploy recording is shut down")
	errTooManyServices = errors.New("too many services")
)

// conflictError is an idempotency id reused for a different deploy.
type conflictError struct {
	field string
	prev  *Event
}

func (e *conflictError) Error() string {
	return fmt.Sprintf("id %q already records a deploy with a different %s", e.prev.ID, e.field)
}

// NewManager opens (creating it when needed) the log under o.StoragePath,
// replays it and loads the token file.
func NewManager(o Options) (*Manager, error) {
	return newManager(o, defaultCompactMin)
}

func newManager(o Options, compactMin int) (*Manager, error) {
	if o.MaxServices <= 0 {
		o.MaxServices = DefaultMaxServices
	}
	if o.MaxEventsPerService <= 0 {
		o.MaxEventsPerService = DefaultMaxEventsPerService
	}
	if o.IDWindow <= 0 {
		o.IDWindow = DefaultIDWindow
	}
	if o.MaxRetiredIDs <= 0 {
		o.MaxRetiredIDs = DefaultMaxRetiredIDs
	}
	if o.MaxWindows <= 0 {
		o.MaxWindows = DefaultMaxWindows
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{
		opts:       o,
		log:        o.Logger,
		now:        o.Now,
		services:   map[string]*history{},
		ids:        map[string]*Event{},
		retired:    map[string]*Event{},
		pending:    map[string]*commit{},
		windows:    map[string]*Window{},
		pendingWin: map[string]bool{},
		reserved:   map[string]int{},
		configured: map[string]bool{},
		compactMin: compactMin,
		queue:      make(chan *commit, queueLen),
		written:    make(chan struct{}),
		seen:       map[sightingKey]*sighting{},
		pollers:    map[string]*poller{},
	}
	if o.TokenFile != "" {
		// A wrong path at start is a mistake to report; later the file is
		// read for every POST and refuses them while it cannot be read.
		if _, err := m.readTokens(); err != nil {
			return nil, err
		}
	}
	webAuth, err := m.webAuth()
	if err != nil {
		return nil, err
	}
	switch {
	case webAuth:
		m.log.Info("deploy API: POST authenticated by the web config's basic auth")
	case o.TokenFile != "":
		if o.AllowUnauthenticated {
			m.log.Warn("deploy API: --deploy.allow-unauthenticated is ignored because a token file is configured")
		}
	case o.AllowUnauthenticated:
		m.log.Warn("deploy API: POST accepted without authentication (--deploy.allow-unauthenticated)")
	default:
		m.log.Info("deploy API: POST disabled; configure --deploy.token-file or basic auth in --web.config.file, or pass --deploy.allow-unauthenticated")
	}

	st, events, problems, err := openStore(o.StoragePath)
	if err != nil {
		return nil, fmt.Errorf("deploy storage %s: %w", o.StoragePath, err)
	}
	m.store = st
	for _, p := range problems {
		m.log.Warn("deploy log: skipped a record", "file", filepath.Join(o.StoragePath, logName), "err", p.Error())
		if !p.Torn { // a torn tail is already cut off
			m.dead++
		}
	}
	for i := range events {
		ev := &events[i]
		if ev.window != nil {
			m.applyWindow(ev.window)
			continue
		}
		// A retired id may be recorded again once its window has passed.
		if _, dup := m.lookupID(ev.ID, ev.Recorded); dup {
			m.dead++
			continue
		}
		if ev.retired {
			m.live++
			m.retire(ev)
			continue
		}
		m.apply(ev)
	}
	m.pruneRetired(m.now(), false)
	m.pruneWindows(m.now())
	m.log.Info("deploy log replayed", "path", o.StoragePath, "events", m.live, "services", len(m.services), "maintenance_windows", len(m.windows), "skipped", len(problems))
	go m.writeLoop()
	if m.needCompaction() {
		m.submitCompaction()
	}
	return m, nil
}

// ReloadTokens reads the token file now (on SIGHUP and /-/reload), so a
// change is logged even without a POST. It returns nil also when the file
// cannot be read: that is logged here, and POSTs are refused (no previous
// tokens stay valid) until it can be read again.
func (m *Manager) ReloadTokens() error {
	if m.opts.TokenFile != "" {
		_, _ = m.readTokens()
	}
	return nil
}

// apply adds a durable event to the in-memory state and enforces the
// history bound. Callers hold mu (or own m exclusively).
func (m *Manager) apply(ev *Event) {
	h := m.services[ev.Service]
	if h == nil {
		h = &history{}
		m.services[ev.Service] = h
	}
	h.events = append(h.events, ev)
	h.total = max(h.total, ev.Seq)
	if h.latest == nil || newer(ev, h.latest) {
		h.latest = ev
	}
	m.ids[ev.ID] = ev
	m.live++
	if over := len(h.events) - m.opts.MaxEventsPerService; over > 0 {
		for _, old := range h.events[:over] {
			delete(m.ids, old.ID)
			if h.latest == old {
				h.latest = nil
			}
			m.retire(old) // its record stays live while its id is remembered
		}
		h.events = slices.Delete(h.events, 0, over)
		m.pruneRetired(m.now(), false)
		if h.latest == nil {
			for _, e := range h.events {
				if h.latest == nil || newer(e, h.latest) {
					h.latest = e
				}
			}
		}
	}
}

// retire remembers the id of an event that left its service's history.
// Callers hold mu.
func (m *Manager) retire(ev *Event) {
	m.retired[ev.ID] = ev
	m.retiredOrder = append(m.retiredOrder, ev)
}

// pruneRetired forgets retired ids recorded before the window or beyond
// the count, oldest retired first; their records become dead. all also
// drops those out of order and those replaced since (for compaction).
// Callers hold mu.
func (m *Manager) pruneRetired(now time.Time, all bool) {
	cutoff := now.Add(-m.opts.IDWindow)
	forget := func(e *Event) bool {
		return !e.Recorded.After(cutoff) || m.retired[e.ID] != e
	}
	n := 0
	for n < len(m.retiredOrder) && (len(m.retiredOrder)-n > m.opts.MaxRetiredIDs || forget(m.retiredOrder[n])) {
		n++
	}
	drop := m.retiredOrder[:n]
	keep := m.retiredOrder[n:]
	if all {
		keep = slices.DeleteFunc(slices.Clone(keep), func(e *Event) bool {
			if forget(e) {
				drop = append(drop, e)
				return true
			}
			return false
		})
	}
	if len(drop) == 0 {
		return
	}
	for _, e := range drop {
		if m.retired[e.ID] == e {
			delete(m.retired, e.ID)
		}
	}
	m.live -= len(drop)
	m.dead += len(drop)
	m.retiredOrder = slices.Clone(keep)
}

// lookupID returns the event that holds id, kept or retired; a retired one
// only when it was recorded within the window before at. Callers hold mu.
func (m *Manager) lookupID(id string, at time.Time) (*Event, bool) {
	if ev, ok := m.ids[id]; ok {
		return ev, true
	}
	if ev, ok := m.retired[id]; ok && ev.Recorded.After(at.Add(-m.opts.IDWindow)) {
		return ev, true
	}
	return nil, false
}

// newID returns a random idempotency id.
func newID(prefix string) string { return prefix + rand.Text() }

// record stores ev durably, once per ID. A zero Timestamp means now, an
// empty ID gets a generated one. trusted events (detected from configured
// targets) pass the service guard. It returns the stored event and whether
// this call stored it (false: the ID was already recorded).
func (m *Manager) record(ev Event, trusted bool) (Event, bool, error) {
	now := m.now()
	tsGiven := !ev.Timestamp.IsZero()
	if !tsGiven {
		ev.Timestamp = now.UTC()
	}
	if ev.ID == "" {
		ev.ID = newID("")
	}
	ev.Recorded = now.UTC()

	m.mu.Lock()
	if prev, ok := m.lookupID(ev.ID, now); ok {
		m.mu.Unlock()
		return sameDeploy(prev, &ev, tsGiven)
	}
	if c, ok := m.pending[ev.ID]; ok {
		// The same id is on its way to disk: answer when it is there.
		m.mu.Unlock()
		<-c.done
		if c.err != nil {
			return Event{}, false, c.err
		}
		return sameDeploy(c.ev, &ev, tsGiven)
	}
	newService := m.services[ev.Service] == nil
	if newService && m.reserved[ev.Service] == 0 && !trusted && !m.configured[ev.Service] &&
		len(m.services)+len(m.reserved) >= m.opts.MaxServices {
		m.mu.Unlock()
		return Event{}, false, errTooManyServices
	}
	c := &commit{ev: &ev, done: make(chan struct{})}
	m.pending[ev.ID] = c
	if newService {
		m.reserved[ev.Service]++
	}
	m.mu.Unlock()

	if err := m.submit(c); err != nil {
		if errors.Is(err, errClosed) {
			m.mu.Lock()
			m.release(c)
			m.mu.Unlock()
		}
		return Event{}, false, err
	}
	return *c.ev, true, nil
}

// submit hands c to the writer and waits until it is durable (nil) or
// failed. errClosed means it never reached the writer.
func (m *Manager) submit(c *commit) error {
	m.qmu.RLock()
	if m.qclosed {
		m.qmu.RUnlock()
		return errClosed
	}
	m.queue <- c
	m.qmu.RUnlock()
	<-c.done
	return c.err
}

// release forgets a pending commit. Callers hold mu.
func (m *Manager) release(c *commit) {
	delete(m.pending, c.ev.ID)
	if n := m.reserved[c.ev.Service]; n > 1 {
		m.reserved[c.ev.Service] = n - 1
	} else {
		delete(m.reserved, c.ev.Service)
	}
}

// sameDeploy answers a repeated id: the stored event when the request
// describes the same deploy, a conflict naming the first differing field
// otherwise. The timestamp counts only when the request gave one.
func sameDeploy(prev, ev *Event, tsGiven bool) (Event, bool, error) {
	var field string
	switch {
	case prev.Service != ev.Service:
		field = "service"
	case prev.Version != ev.Version:
		field = "version"
	case tsGiven && !prev.Timestamp.Equal(ev.Timestamp):
		field = "timestamp"
	case prev.Environment != ev.Environment:
		field = "environment"
	case prev.URL != ev.URL:
		field = "url"
	case prev.Author != ev.Author:
		field = "author"
	}
	if field != "" {
		return Event{}, false, &conflictError{field: field, prev: prev}
	}
	out := *prev
	out.retired = false
	return out, false, nil
}

// writeLoop is the only writer of the log. It takes every commit waiting,
// writes them with one write and one fsync (group commit), makes them
// visible and only then acknowledges them.
func (m *Manager) writeLoop() {
	defer close(m.written)
	batch := make([]*commit, 0, maxBatch)
	for c := range m.queue {
		batch = append(batch[:0], c)
	more:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-m.queue:
				if !ok {
					break more
				}
				batch = append(batch, c)
			default:
				break more
			}
		}
		m.commitBatch(batch)
	}
}

// submitCompaction asks the writer to check for compaction: a commit
// without an event.
func (m *Manager) submitCompaction() {
	m.qmu.RLock()
	defer m.qmu.RUnlock()
	if m.qclosed {
		return
	}
	select {
	case m.queue <- &commit{done: make(chan struct{})}:
	default: // the writer is busy; it checks again after the next batch
	}
}

func (m *Manager) commitBatch(batch []*commit) {
	// Number the events per service in log order.
	m.mu.RLock()
	next := map[string]uint64{}
	for _, c := range batch {
		if c.ev == nil {
			continue
		}
		s := c.ev.Service
		n, ok := next[s]
		if !ok {
			if h := m.services[s]; h != nil {
				n = h.total
			}
		}
		next[s] = n + 1
		c.ev.Seq = n + 1
	}
	m.mu.RUnlock()

	var buf []byte
	var encErr []error
	for i, c := range batch {
		encErr = append(encErr, nil)
		rec := c.ev
		if c.win != nil {
			rec = &Event{window: c.win}
		}
		if rec == nil {
			continue
		}
		var err error
		if buf, err = appendRecord(buf, rec); err != nil {
			encErr[i] = err
		}
	}
	var err error
	if len(buf) > 0 {
		err = m.store.append(buf)
		if err != nil {
			m.log.Error("deploy log write failed", "err", err)
		}
	}

	m.mu.Lock()
	for i, c := range batch {
		if c.win != nil {
			if c.err = cmp.Or(encErr[i], err); c.err == nil {
				m.applyWindow(c.win)
			}
			continue
		}
		if c.ev == nil {
			continue
		}
		m.release(c)
		c.err = cmp.Or(encErr[i], err)
		if c.err == nil {
			m.apply(c.ev)
		}
	}
	compact := m.needCompactionLocked()
	m.mu.Unlock()
	for _, c := range batch {
		close(c.done)
	}
	if compact {
		m.compact()
	}
}

func (m *Manager) needCompaction() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.needCompactionLocked()
}

func (m *Manager) needCompactionLocked() bool {
	return m.dead >= m.compactMin && m.dead > m.live
}

// compact rewrites the log with the kept events only. It runs on the writer
// goroutine, so no append races with it; readers go on meanwhile.
func (m *Manager) compact() {
	m.mu.Lock()
	m.pruneRetired(m.now(), true)
	m.pruneWindows(m.now())
	names := make([]string, 0, len(m.services))
	for s := range m.services {
		names = append(names, s)
	}
	slices.Sort(names)
	// Retired ids first: replay then meets them before the events that
	// may have reused one after its window.
	events := make([]*Event, 0, m.live)
	for _, e := range m.retiredOrder {
		c := *e // events are not changed once applied: copy to mark
		c.retired = true
		events = append(events, &c)
	}
	for _, s := range names {
		events = append(events, m.services[s].events...)
	}
	for _, w := range m.windows {
		events = append(events, &Event{window: w})
	}
	dead := m.dead
	m.mu.Unlock()

	start := time.Now()
	if err := m.store.rewrite(events); err != nil {
		m.log.Error("deploy log compaction failed", "err", err)
		return
	}
	m.mu.Lock()
	m.dead -= dead
	m.mu.Unlock()
	m.log.Info("deploy log compacted", "kept", len(events), "dropped", dead, "duration", time.Since(start))
}

// Latest returns the service's newest deploy.
func (m *Manager) Latest(service string) (Event, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h := m.services[service]
	if h == nil || h.latest == nil {
		return Event{}, false
	}
	return *h.latest, true
}

// List returns up to limit deploys, newest first: of one service, or of all
// when service is empty. limit <= 0 means all kept.
func (m *Manager) List(service string, limit int) []Event {
	m.mu.RLock()
	var evs []*Event
	if service != "" {
		if h := m.services[service]; h != nil {
			evs = slices.Clone(h.events)
		}
	} else {
		evs = make([]*Event, 0, m.live)
		for _, h := range m.services {
			evs = append(evs, h.events...)
		}
	}
	m.mu.RUnlock()

	slices.SortFunc(evs, func(a, b *Event) int {
		switch {
		case newer(a, b):
			return -1
		case newer(b, a):
			return 1
		}
		return cmp.Compare(a.Service, b.Service)
	})
	if limit > 0 && len(evs) > limit {
		evs = evs[:limit]
	}
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = *e
	}
	return out
}

// Handler serves GET and POST /api/v1/deploys.
func (m *Manager) Handler() http.Handler { return http.HandlerFunc(m.serveHTTP) }

// Close stops the version pollers, waits for pending events to reach disk
// and closes the storage. Later POSTs are answered 503.
func (m *Manager) Close() error {
	m.dmu.Lock()
	if m.closing {
		m.dmu.Unlock()
		return nil
	}
	m.closing = true
	for name, p := range m.pollers {
		p.stop()
		delete(m.pollers, name)
	}
	m.dmu.Unlock()
	m.bg.Wait()

	m.qmu.Lock()
	m.qclosed = true
	close(m.queue)
	m.qmu.Unlock()
	<-m.written
	return m.store.close()
}
