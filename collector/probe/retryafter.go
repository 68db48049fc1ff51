package probe

import (
	"net/http"
	"strings"
	"time"
)

// maxRetryAfterSeconds keeps a delta-seconds value inside time.Duration.
const maxRetryAfterSeconds = int64(1<<63-1) / int64(time.Second)

// parseRetryAfter parses a Retry-After value in either form of RFC 9110:
// delta-seconds ("120") or an HTTP-date, which is taken relative to now (pass
// the response's Date when it has one, so clock skew between probe and
// server cancels out). A date in the past gives 0. ok is false, and the
// duration 0, for an empty or malformed value.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		var secs int64
		for i := 0; i < len(v); i++ {
			secs = secs*10 + int64(v[i]-'0')
			if secs > maxRetryAfterSeconds {
				return 0, false
			}
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d = t.Sub(now); d < 0 {
		d = 0
	}
	return d, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// retryAfter reads the Retry-After of a 503 or 429 answer; 0 for any other.
func retryAfter(code int, h http.Header, received time.Time) time.Duration {
	if code != http.StatusServiceUnavailable && code != http.StatusTooManyRequests {
		return 0
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	now := received
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	d, _ := parseRetryAfter(v, now)
	return d
}
