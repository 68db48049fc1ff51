package reload

import "time"

// SetClock replaces the clock the watcher judges recent changes by.
func SetClock(r *Reloader, now func() time.Time) {
	r.mu.Lock()
	r.now = now
	r.mu.Unlock()
}
