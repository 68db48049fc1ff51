package stacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Timeline prints what happens, stamped with the time since the stack
// started. It writes to stdout rather than t.Log: the Recorder reports from
// its own goroutines, which may outlive the test.
type Timeline struct {
	start time.Time
	mu    sync.Mutex
}

// NewTimeline starts a timeline now.
func NewTimeline() *Timeline { return &Timeline{start: time.Now()} }

// Start is when the timeline began.
func (tl *Timeline) Start() time.Time { return tl.start }

// Since is the time since the timeline began.
func (tl *Timeline) Since() time.Duration { return time.Since(tl.start) }

// Logf prints one stamped line.
func (tl *Timeline) Logf(format string, args ...any) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	fmt.Fprintf(os.Stdout, "    t+%6.1fs  %s\n", time.Since(tl.start).Seconds(), fmt.Sprintf(format, args...))
}

// Labels is an alert's label set.
type Labels map[string]string

// String shows the labels that tell alerts apart in the timeline.
func (l Labels) String() string {
	var parts []string
	for _, k := range []string{"target", "location", "error_class", "owner", "severity", "version", "long_window"} {
		if v, ok := l[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return l["alertname"] + "{" + strings.Join(parts, ",") + "}"
}

// Key identifies an alert by its whole label set.
func (l Labels) Key() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		fmt.Fprintf(&b, "%s=%q,", k, l[k])
	}
	return b.String()
}

// Has reports whether l carries every label of want.
func (l Labels) Has(want Labels) bool {
	for k, v := range want {
		if l[k] != v {
			return false
		}
	}
	return true
}

// Notification is one webhook call of Alertmanager.
type Notification struct {
	At       time.Time
	Receiver string
	Alerts   []NotifiedAlert
}

// NotifiedAlert is one alert of a Notification.
type NotifiedAlert struct {
	Status      string // firing or resolved
	Labels      Labels
	Annotations Labels
}

// Recorder is the webhook every receiver of the Alertmanager configuration
// is pointed at.
type Recorder struct {
	tl *Timeline
	mu sync.Mutex
	ns []Notification
}

// NewRecorder returns a Recorder that prints every notification to tl.
func NewRecorder(tl *Timeline) *Recorder { return &Recorder{tl: tl} }

func (rec *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Receiver string `json:"receiver"`
		Alerts   []struct {
			Status      string `json:"status"`
			Labels      Labels `json:"labels"`
			Annotations Labels `json:"annotations"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n := Notification{At: time.Now(), Receiver: body.Receiver}
	var summary []string
	for _, a := range body.Alerts {
		n.Alerts = append(n.Alerts, NotifiedAlert{a.Status, a.Labels, a.Annotations})
		summary = append(summary, a.Status+" "+a.Labels.String())
	}
	rec.mu.Lock()
	rec.ns = append(rec.ns, n)
	rec.mu.Unlock()
	rec.tl.Logf("notification to %s: %s", body.Receiver, strings.Join(summary, "; "))
}

// Notifications returns every notification received so far.
func (rec *Recorder) Notifications() []Notification {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.ns)
}

// PromAPI is the part of Prometheus' HTTP API the tests read; vmalert and
// VictoriaMetrics answer the same calls.
type PromAPI struct {
	Base   string
	Client *http.Client
}

type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func (p PromAPI) get(ctx context.Context, path string, q url.Values, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(&r); err != nil {
		return fmt.Errorf("GET %s: %s: %w", path, resp.Status, err)
	}
	if r.Status != "success" {
		return fmt.Errorf("GET %s %v: %s: %s", path, q, r.ErrorType, r.Error)
	}
	return json.Unmarshal(r.Data, into)
}

// PromAlert is an alert of /api/v1/alerts.
type PromAlert struct {
	Labels Labels `json:"labels"`
	State  string `json:"state"` // pending or firing
}

// Alerts returns the pending and firing alerts.
func (p PromAPI) Alerts(ctx context.Context) ([]PromAlert, error) {
	var data struct {
		Alerts []PromAlert `json:"alerts"`
	}
	err := p.get(ctx, "/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

// ScrapeTargets describes each active scrape target of /api/v1/targets:
// its URL, health, the age of its last scrape and its last error.
func (p PromAPI) ScrapeTargets(ctx context.Context) ([]string, error) {
	var data struct {
		ActiveTargets []struct {
			ScrapeURL  string    `json:"scrapeUrl"`
			Health     string    `json:"health"`
			LastError  string    `json:"lastError"`
			LastScrape time.Time `json:"lastScrape"`
		} `json:"activeTargets"`
	}
	if err := p.get(ctx, "/api/v1/targets", nil, &data); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(data.ActiveTargets))
	for _, t := range data.ActiveTargets {
		s := fmt.Sprintf("%s %s, last scrape %s ago", t.ScrapeURL, t.Health, time.Since(t.LastScrape).Round(time.Millisecond))
		if t.LastError != "" {
			s += ": " + t.LastError
		}
		out = append(out, s)
	}
	return out, nil
}

// QueryResult is the data of /api/v1/query and /api/v1/query_range.
type QueryResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// Series is a vector or matrix element.
type Series struct {
	Metric     Labels            `json:"metric"`
	Value      []any             `json:"value"`      // vector: [ts, "v"]
	Values     [][]any           `json:"values"`     // matrix
	Histogram  []any             `json:"histogram"`  // vector of native histograms
	Histograms []json.RawMessage `json:"histograms"` // matrix of native histograms
}

// Float is the number of an instant vector element, 0 when it has none.
func (s Series) Float() float64 {
	if len(s.Value) != 2 {
		return 0
	}
	str, _ := s.Value[1].(string)
	v, _ := strconv.ParseFloat(str, 64)
	return v
}

// Len is how many series with at least one sample the result holds.
func (q QueryResult) Len() (int, error) {
	switch q.ResultType {
	case "scalar", "string":
		return 1, nil
	case "vector", "matrix":
		var ss []Series
		if err := json.Unmarshal(q.Result, &ss); err != nil {
			return 0, err
		}
		n := 0
		for _, s := range ss {
			if s.Value != nil || s.Histogram != nil || len(s.Values)+len(s.Histograms) > 0 {
				n++
			}
		}
		return n, nil
	}
	return 0, fmt.Errorf("unknown result type %q", q.ResultType)
}

// Vector returns the series and values of an instant vector.
func (q QueryResult) Vector() ([]Series, error) {
	if q.ResultType != "vector" {
		return nil, fmt.Errorf("result type %q, want vector", q.ResultType)
	}
	var ss []Series
	err := json.Unmarshal(q.Result, &ss)
	return ss, err
}

// Query runs an instant query.
func (p PromAPI) Query(ctx context.Context, expr string, at time.Time) (QueryResult, error) {
	var r QueryResult
	err := p.get(ctx, "/api/v1/query", url.Values{"query": {expr}, "time": {unix(at)}}, &r)
	return r, err
}

// QueryRange runs a range query.
func (p PromAPI) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (QueryResult, error) {
	var r QueryResult
	err := p.get(ctx, "/api/v1/query_range", url.Values{
		"query": {expr}, "start": {unix(start)}, "end": {unix(end)}, "step": {fmt.Sprint(step.Seconds())},
	}, &r)
	return r, err
}

// LabelValues lists the values of label in the series matching match.
func (p PromAPI) LabelValues(ctx context.Context, label string, match []string, start, end time.Time) ([]string, error) {
	var vs []string
	q := url.Values{"start": {unix(start)}, "end": {unix(end)}}
	for _, m := range match {
		q.Add("match[]", m)
	}
	err := p.get(ctx, "/api/v1/label/"+url.PathEscape(label)+"/values", q, &vs)
	return vs, err
}

func unix(t time.Time) string { return fmt.Sprintf("%.3f", float64(t.UnixMilli())/1000) }

// WaitFor calls check every interval until it reports done, an error, or
// the budget or ctx ends: every wait of the test is bounded in time, and
// therefore in count.
func WaitFor(ctx context.Context, what string, budget, interval time.Duration, check func() (bool, error)) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	for {
		done, err := check()
		if done && err == nil {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return fmt.Errorf("%s: the test's time budget ran out (last error: %v)", what, last)
			}
			if last != nil {
				return fmt.Errorf("%s: not within %s (last error: %v)", what, budget, last)
			}
			return fmt.Errorf("%s: not within %s", what, budget)
		case <-tick.C:
		}
	}
}
