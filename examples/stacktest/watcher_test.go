package stacktest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A phase that fails says what it still missed and how every scrape of
// the stack fared when it ended, last error included.
func TestFailedPhaseReportsScrapeTargets(t *testing.T) {
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/alerts":
			_, _ = w.Write([]byte(`{"status":"success","data":{"alerts":[]}}`))
		case "/api/v1/targets":
			last := time.Now().Add(-3 * time.Second).UTC().Format(time.RFC3339Nano)
			_, _ = w.Write([]byte(`{"status":"success","data":{"activeTargets":[` +
				`{"scrapeUrl":"http://127.0.0.1:1/metrics","health":"down","lastError":"context deadline exceeded","lastScrape":"` + last + `"},` +
				`{"scrapeUrl":"http://127.0.0.1:2/metrics","health":"up","lastError":"","lastScrape":"` + last + `"}]}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer prom.Close()
	api := PromAPI{Base: prom.URL, Client: prom.Client()}
	w := NewWatcher(t, NewTimeline(), api, api, NewRecorder(NewTimeline()), nil)
	w.Scrapers = map[string]PromAPI{"prometheus-eu": api, "prometheus-gone": {Base: "http://127.0.0.1:1", Client: prom.Client()}}
	err := w.Until(context.Background(), "incidents", time.Second, []Expectation{
		{What: "an alert that never fires", Alerts: func([]PromAlert) bool { return false }},
	})
	if err == nil {
		t.Fatal("the phase did not fail")
	}
	for _, want := range []string{
		"still missing:\n  an alert that never fires",
		"prometheus-eu: http://127.0.0.1:1/metrics down, last scrape 3",
		": context deadline exceeded",
		"prometheus-eu: http://127.0.0.1:2/metrics up, last scrape",
		"prometheus-gone: Get ",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
}
