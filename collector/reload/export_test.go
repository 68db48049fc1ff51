package reload

import "time"

// SetClock replaces the clock the watcher judges recent changes by.
func SetClock(r *Reloader, now func() time.Time) {
	r.mu.Lock()
	r.now = now
	r.mu.Unlock()
}

// FileEvents is the event source Watch opens.
type FileEvents = fileEvents

// NewFsnotify is the event source Watch opens unless SetEvents replaced it.
var NewFsnotify = newFsnotify

// SetEvents replaces the constructor of the event source; call it before
// Watch.
func SetEvents(r *Reloader, open func() (FileEvents, error)) { r.newEvents = open }

// ReloadIfChanged is one check of the watcher: a reload when a watched
// file changed since the last attempt.
func (r *Reloader) ReloadIfChanged() { r.check() }

// Checks is how many times check ran, digesting or not.
func Checks(r *Reloader) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checks
}

// PollEvery is Watch's poll period now; 0 when Watch does not run.
func PollEvery(r *Reloader) time.Duration { return time.Duration(r.watchPoll.Load()) }

// Settle is how long Watch waits for a burst of events to end.
const Settle, SafetyPolls = settle, safetyPolls
