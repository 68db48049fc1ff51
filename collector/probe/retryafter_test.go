package probe

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"120", 120 * time.Second, true},
		{"0", 0, true},
		{" 30 ", 30 * time.Second, true},
		{"007", 7 * time.Second, true},
		{date(90 * time.Second), 90 * time.Second, true},
		{date(-90 * time.Second), 0, true}, // in the past
		{date(0), 0, true},
		{"Fri, 14 Mar 2025 12:02:00 GMT", 2 * time.Minute, true},  // IMF-fixdate
		{"Friday, 14-Mar-25 12:02:00 GMT", 2 * time.Minute, true}, // obsolete RFC 850
		{"Fri Mar 14 12:02:00 2025", 2 * time.Minute, true},       // obsolete asctime
		{"9223372036", 9223372036 * time.Second, true},            // largest that fits
		{"9223372037", 0, false},                                  // overflows time.Duration
		{"99999999999999999999999", 0, false},                     // overflows int64
		{"", 0, false},
		{"   ", 0, false},
		{"-5", 0, false},
		{"+5", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"1e3", 0, false},
		{"soon", 0, false},
		{"0x10", 0, false},
		{"2025-03-14T12:02:00Z", 0, false}, // RFC 3339 is not an HTTP-date
		{"Fri, 14 Mar 2025 25:00:00 GMT", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestRetryAfterOnlyFor503And429(t *testing.T) {
	t.Parallel()
	received := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	serverDate := received.Add(-time.Hour) // the server's clock is an hour behind ours
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		name string
		code int
		h    http.Header
		want time.Duration
	}{
		{"503 seconds", 503, h("Retry-After", "60"), time.Minute},
		{"429 seconds", 429, h("Retry-After", "5"), 5 * time.Second},
		{"500 ignored", 500, h("Retry-After", "60"), 0},
		{"301 ignored", 301, h("Retry-After", "60"), 0},
		{"503 absent", 503, h(), 0},
		{"503 malformed", 503, h("Retry-After", "later"), 0},
		{"503 date against the Date header", 503,
			h("Date", serverDate.Format(http.TimeFormat), "Retry-After", serverDate.Add(2*time.Minute).Format(http.TimeFormat)), 2 * time.Minute},
		{"503 date without Date header", 503, h("Retry-After", received.Add(time.Minute).Format(http.TimeFormat)), time.Minute},
		{"503 date with broken Date header", 503, h("Date", "yesterday", "Retry-After", received.Add(time.Minute).Format(http.TimeFormat)), time.Minute},
	} {
		if got := retryAfter(tc.code, tc.h, received); got != tc.want {
			t.Errorf("%s: retryAfter = %v, want %v", tc.name, got, tc.want)
		}
	}
}
