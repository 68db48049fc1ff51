//go:build e2e

package e2e

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
	"strings"
	"sync"
	"time"
)

// timeline prints what happens, stamped with the time since the stack
// started. It writes to stdout rather than t.Log: the recorder reports from
// its own goroutines, which may outlive the test.
type timeline struct {
	start time.Time
	mu    sync.Mutex
}

func newTimeline() *timeline { return &timeline{start: time.Now()} }

func (tl *timeline) Since() time.Duration { return time.Since(tl.start) }

func (tl *timeline) Logf(format string, args ...any) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	fmt.Fprintf(os.Stdout, "    t+%6.1fs  %s\n", time.Since(tl.start).Seconds(), fmt.Sprintf(format, args...))
}

// labels is an alert's label set.
type labels map[string]string

// String shows the labels that tell alerts apart in the timeline.
func (l labels) String() string {
	var parts []string
	for _, k := range []string{"target", "location", "error_class", "owner", "severity", "version", "long_window"} {
		if v, ok := l[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return l["alertname"] + "{" + strings.Join(parts, ",") + "}"
}

// key identifies an alert by its whole label set.
func (l labels) key() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		fmt.Fprintf(&b, "%s=%q,", k, l[k])
	}
	return b.String()
}

// has reports whether l carries every label of want.
func (l labels) has(want labels) bool {
	for k, v := range want {
		if l[k] != v {
			return false
		}
	}
	return true
}

// notification is one webhook call of Alertmanager.
type notification struct {
	At       time.Time
	Receiver string
	Alerts   []notifiedAlert
}

type notifiedAlert struct {
	Status      string // firing or resolved
	Labels      labels
	Annotations labels
}

// recorder is the webhook every receiver of the Alertmanager configuration
// is pointed at.
type recorder struct {
	tl *timeline
	mu sync.Mutex
	ns []notification
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Receiver string `json:"receiver"`
		Alerts   []struct {
			Status      string `json:"status"`
			Labels      labels `json:"labels"`
			Annotations labels `json:"annotations"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n := notification{At: time.Now(), Receiver: body.Receiver}
	var summary []string
	for _, a := range body.Alerts {
		n.Alerts = append(n.Alerts, notifiedAlert{a.Status, a.Labels, a.Annotations})
		summary = append(summary, a.Status+" "+a.Labels.String())
	}
	rec.mu.Lock()
	rec.ns = append(rec.ns, n)
	rec.mu.Unlock()
	rec.tl.Logf("notification to %s: %s", body.Receiver, strings.Join(summary, "; "))
}

func (rec *recorder) Notifications() []notification {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.ns)
}

// promAPI is the part of Prometheus' HTTP API the test reads.
type promAPI struct {
	base   string
	client *http.Client
}

type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func (p promAPI) get(ctx context.Context, path string, q url.Values, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
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

// promAlert is an alert of /api/v1/alerts.
type promAlert struct {
	Labels labels `json:"labels"`
	State  string `json:"state"` // pending or firing
}

func (p promAPI) Alerts(ctx context.Context) ([]promAlert, error) {
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	err := p.get(ctx, "/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

// queryResult is the data of /api/v1/query and /api/v1/query_range.
type queryResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// series is a vector or matrix element.
type series struct {
	Metric     labels            `json:"metric"`
	Value      []any             `json:"value"`      // vector: [ts, "v"]
	Values     [][]any           `json:"values"`     // matrix
	Histogram  []any             `json:"histogram"`  // vector of native histograms
	Histograms []json.RawMessage `json:"histograms"` // matrix of native histograms
}

// Len is how many series with at least one sample the result holds.
func (q queryResult) Len() (int, error) {
	switch q.ResultType {
	case "scalar", "string":
		return 1, nil
	case "vector", "matrix":
		var ss []series
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
func (q queryResult) Vector() ([]series, error) {
	if q.ResultType != "vector" {
		return nil, fmt.Errorf("result type %q, want vector", q.ResultType)
	}
	var ss []series
	err := json.Unmarshal(q.Result, &ss)
	return ss, err
}

func (p promAPI) Query(ctx context.Context, expr string, at time.Time) (queryResult, error) {
	var r queryResult
	err := p.get(ctx, "/api/v1/query", url.Values{"query": {expr}, "time": {unix(at)}}, &r)
	return r, err
}

func (p promAPI) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (queryResult, error) {
	var r queryResult
	err := p.get(ctx, "/api/v1/query_range", url.Values{
		"query": {expr}, "start": {unix(start)}, "end": {unix(end)}, "step": {fmt.Sprint(step.Seconds())},
	}, &r)
	return r, err
}

func (p promAPI) LabelValues(ctx context.Context, label string, match []string, start, end time.Time) ([]string, error) {
	var vs []string
	q := url.Values{"start": {unix(start)}, "end": {unix(end)}}
	for _, m := range match {
		q.Add("match[]", m)
	}
	err := p.get(ctx, "/api/v1/label/"+url.PathEscape(label)+"/values", q, &vs)
	return vs, err
}

func unix(t time.Time) string { return fmt.Sprintf("%.3f", float64(t.UnixMilli())/1000) }

// waitFor calls check every interval until it reports done, an error, or
// the budget or ctx ends: every wait of the test is bounded in time, and
// therefore in count.
func waitFor(ctx context.Context, what string, budget, interval time.Duration, check func() (bool, error)) error {
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
