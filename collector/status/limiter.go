package status

import (
	"sync"
	"time"
)

// limiter lets one call per key through every interval.
type limiter struct {
	interval time.Duration
	now      func() time.Time

	mu   sync.Mutex
	next map[string]time.Time // earliest time the key may run again
}

// limiterPrune is the map size above which expired keys are dropped; keys
// are configured target names, so it is only reached after many reloads.
const limiterPrune = 1024

func newLimiter(interval time.Duration, now func() time.Time) *limiter {
	return &limiter{interval: interval, now: now, next: map[string]time.Time{}}
}

// allow reports whether key may run now; when not, wait says for how long.
func (l *limiter) allow(key string) (ok bool, wait time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if n, seen := l.next[key]; seen && now.Before(n) {
		return false, n.Sub(now)
	}
	if len(l.next) >= limiterPrune {
		for k, n := range l.next {
			if !now.Before(n) {
				delete(l.next, k)
			}
		}
	}
	l.next[key] = now.Add(l.interval)
	return true, 0
}
