package probe

import (
	"net/http"
	"testing"
	"time"
)

// FuzzParseRetryAfter: any header value parses to a duration that is never
// negative, and to 0 whenever it is refused.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{
		"120", "0", " 30 ", "007", "9223372036", "9223372037", "99999999999999999999999",
		"", "-5", "+5", "1.5", "5s", "1e3", "0x10", "soon",
		now.Add(time.Minute).Format(http.TimeFormat), "Friday, 14-Mar-25 12:02:00 GMT",
		"Fri Mar 14 12:02:00 2025", "Fri, 14 Mar 2025 25:00:00 GMT", "2025-03-14T12:02:00Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 {
			t.Errorf("parseRetryAfter(%q) = %v, a negative duration", v, d)
		}
		if !ok && d != 0 {
			t.Errorf("parseRetryAfter(%q) refused the value but gave %v", v, d)
		}
	})
}
