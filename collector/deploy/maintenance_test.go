package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/http5xx/http5xx_exporter/collector/api"
)

// fakeClock is a settable Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var maintEpoch = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func newClock() *fakeClock { return &fakeClock{t: maintEpoch} }

func mustWindow(t testing.TB, m *Manager, body string) Window {
	t.Helper()
	w, err := ParseWindowRequest([]byte(body), m.now())
	if err != nil {
		t.Fatalf("parse %s: %v", body, err)
	}
	got, _, err := m.recordWindow(w)
	if err != nil {
		t.Fatalf("record %s: %v", body, err)
	}
	return got
}

func del(url, token string) *http.Request {
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// TestMaintenanceAPI walks auth, bad input and idempotency of
// /api/v1/maintenance over a loopback server, one row each.
func TestMaintenanceAPI(t *testing.T) {
	errorTypeOf := map[int]api.ErrorType{
		400: api.ErrBadData, 401: api.ErrBadData, 404: api.ErrBadData, 405: api.ErrBadData, 413: api.ErrBadData, 415: api.ErrBadData,
		403: api.ErrUnavailable,
		409: api.ErrExecution, 422: api.ErrExecution,
	}
	tokens := writeTokens(t, tokenA+"\n")
	const js = "application/json"
	const ok = `{"service":"checkout","duration":"30m","reason":"db upgrade"}`
	open := Options{AllowUnauthenticated: true}
	huge := `{"service":"a","duration":"1h","reason":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	nested := `{"service":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
	for _, tc := range []struct {
		name     string
		opts     Options
		before   []string // window bodies recorded first
		req      func(url string) *http.Request
		code     int
		field    string // the field the error starts with
		reason   string // substring of the error
		wantKept int    // windows listed afterwards (with ended ones)
	}{
		// Authentication: the deploy API's credentials.
		{name: "token file, no token: 401", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { return post(u, "", js, ok) }, code: 401, reason: "missing bearer token"},
		{name: "token file, wrong token: 401", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { return post(u, tokenB, js, ok) }, code: 401, reason: "invalid bearer token"},
		{name: "token file, token: 201", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { return post(u, tokenA, js, ok) }, code: 201, wantKept: 1},
		{name: "nothing configured: 403", opts: Options{},
			req: func(u string) *http.Request { return post(u, "", js, ok) }, code: 403, reason: "--deploy.token-file"},
		{name: "web basic auth: 201", opts: Options{WebAuth: true},
			req: func(u string) *http.Request { return post(u, "", js, ok) }, code: 201, wantKept: 1},
		{name: "DELETE without token: 401", opts: Options{TokenFile: tokens}, before: []string{`{"service":"a","duration":"1h","reason":"r","id":"w1"}`},
			req: func(u string) *http.Request { return del(u+"?id=w1", "") }, code: 401, wantKept: 1},
		{name: "GET needs no token: 200", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { r, _ := http.NewRequest("GET", u, nil); return r }, code: 200},

		// Bad input.
		{name: "end before start: 400 end", opts: open,
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"a","start":"2026-03-04T12:00:00Z","end":"2026-03-04T11:00:00Z","reason":"r"}`)
			}, code: 400, field: "end", reason: "not after start"},
		{name: "longer than 7 days: 400 end", opts: open,
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"a","end":"2026-03-11T10:00:01Z","reason":"r"}`)
			}, code: 400, field: "end", reason: "longer than the longest window"},
		{name: "duration over 7 days: 400 duration", opts: open,
			req: func(u string) *http.Request { return post(u, "", js, `{"service":"a","duration":"169h","reason":"r"}`) }, code: 400, field: "duration"},
		{name: "no end: 400 end", opts: open,
			req: func(u string) *http.Request { return post(u, "", js, `{"service":"a","reason":"r"}`) }, code: 400, field: "end", reason: "required"},
		{name: "end and duration: 400 duration", opts: open,
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"a","end":"2026-03-04T11:00:00Z","duration":"1h","reason":"r"}`)
			}, code: 400, field: "duration"},
		{name: "end already passed: 400 end", opts: open,
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"a","start":"2026-03-04T08:00:00Z","end":"2026-03-04T09:00:00Z","reason":"r"}`)
			}, code: 400, field: "end", reason: "already passed"},
		{name: "start too far ahead: 400 start", opts: open,
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"a","start":"2026-05-04T08:00:00Z","duration":"1h","reason":"r"}`)
			}, code: 400, field: "start"},
		{name: "negative duration: 400 duration", opts: open,
			req: func(u string) *http.Request { return post(u, "", js, `{"service":"a","duration":"-1h","reason":"r"}`) }, code: 400, field: "duration"},
		{name: "no reason: 400 reason", opts: open,
			req: func(u string) *http.Request { return post(u, "", js, `{"service":"a","duration":"1h"}`) }, code: 400, field: "reason"},
		{name: "target not supported: 400 naming it", opts: open,
			req: func(u string) *http.Request {
				return post(u, "", js, `{"target":"shop-web","duration":"1h","reason":"r"}`)
			}, code: 400, field: "target", reason: "unknown field"},
		{name: "service with control character: 400 service", opts: open,
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"a\u0000","duration":"1h","reason":"r"}`)
			}, code: 400, field: "service"},
		{name: "unknown service is allowed: 201", opts: open,
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"not-configured","duration":"1h","reason":"r"}`)
			}, code: 201, wantKept: 1},
		{name: "over 64 KiB: 413", opts: open,
			req: func(u string) *http.Request { return post(u, "", js, huge) }, code: 413},
		{name: "deeply nested: 400 service", opts: open,
			req: func(u string) *http.Request { return post(u, "", js, nested) }, code: 400, field: "service"},
		{name: "form body: 415", opts: open,
			req: func(u string) *http.Request { return post(u, "", "application/x-www-form-urlencoded", "service=a") }, code: 415},

		// Bounds and idempotency.
		{name: "past max windows: 422", opts: Options{AllowUnauthenticated: true, MaxWindows: 1},
			before: []string{`{"service":"a","duration":"1h","reason":"r"}`},
			req:    func(u string) *http.Request { return post(u, "", js, ok) }, code: 422, reason: "at most 1", wantKept: 1},
		{name: "same id again: 200 duplicate", opts: open, before: []string{`{"service":"a","duration":"1h","reason":"r","id":"w1"}`},
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"a","duration":"1h","reason":"r","id":"w1"}`)
			}, code: 200, wantKept: 1},
		{name: "same id, other reason: 409", opts: open, before: []string{`{"service":"a","duration":"1h","reason":"r","id":"w1"}`},
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"a","duration":"1h","reason":"other","id":"w1"}`)
			}, code: 409, field: "id", reason: "different reason", wantKept: 1},
		{name: "DELETE ends it: 200", opts: open, before: []string{`{"service":"a","duration":"1h","reason":"r","id":"w1"}`},
			req: func(u string) *http.Request { return del(u+"?id=w1", "") }, code: 200, wantKept: 1},
		{name: "DELETE unknown id: 404", opts: open,
			req: func(u string) *http.Request { return del(u+"?id=nope", "") }, code: 404, field: "id"},
		{name: "DELETE bad id: 400", opts: open,
			req: func(u string) *http.Request { return del(u+"?id=a%20b", "") }, code: 400, field: "id"},
		{name: "PUT: 405", opts: open,
			req: func(u string) *http.Request { r := post(u, "", js, ok); r.Method = http.MethodPut; return r }, code: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Now = newClock().now
			m, _ := openManager(t, t.TempDir(), tc.opts)
			for _, b := range tc.before {
				mustWindow(t, m, b)
			}
			srv := httptest.NewServer(m.MaintenanceHandler())
			defer srv.Close()
			a := do(t, srv.Client(), tc.req(srv.URL+MaintenancePath))
			if a.Code != tc.code {
				t.Fatalf("code %d, want %d (%s %q)", a.Code, tc.code, a.ErrorType, a.Error)
			}
			if !strings.HasPrefix(a.Error, tc.field) || !strings.Contains(a.Error, tc.reason) {
				t.Errorf("error %q; want it to start with %q and contain %q", a.Error, tc.field, tc.reason)
			}
			if a.Code >= 400 && (a.Status != "error" || a.ErrorType != errorTypeOf[a.Code]) {
				t.Errorf("error answer %+v, want errorType %q", a, errorTypeOf[a.Code])
			}
			if a.Code < 300 && a.Status != "success" {
				t.Errorf("success answer %+v", a)
			}
			if a.Code == 401 && !strings.HasPrefix(a.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Error("401 without a Bearer challenge")
			}
			if got := len(m.Windows(true)); got != tc.wantKept {
				t.Errorf("%d windows kept, want %d", got, tc.wantKept)
			}
		})
	}
}

// TestMaintenanceLifecycle follows one service through an upcoming, a
// current, an overrun and an early-ended window, in the metrics and the
// list.
func TestMaintenanceLifecycle(t *testing.T) {
	clock := newClock()
	m, _ := openManager(t, t.TempDir(), Options{Now: clock.now, AllowUnauthenticated: true})
	srv := httptest.NewServer(m.MaintenanceHandler())
	defer srv.Close()
	postWin := func(body string) Window {
		a := do(t, srv.Client(), post(srv.URL+MaintenancePath, "", "application/json", body))
		if a.Code != 201 {
			t.Fatalf("POST %s: %d %s", body, a.Code, a.Error)
		}
		var w Window
		if err := json.Unmarshal(a.Data, &w); err != nil {
			t.Fatal(err)
		}
		return w
	}
	gauges := func(active, end string) string {
		s := "# HELP http5xx_maintenance_active 1 while the service is inside a maintenance window, 0 otherwise (exported while a window is current, upcoming or ended within 24h).\n# TYPE http5xx_maintenance_active gauge\n"
		s += active
		if end != "" {
			s += "# HELP http5xx_maintenance_end_timestamp_seconds Unix time the service's current maintenance window ends, or its last one ended (kept 24h).\n# TYPE http5xx_maintenance_end_timestamp_seconds gauge\n" + end
		}
		return s
	}
	epoch := maintEpoch.Unix()
	steps := []struct {
		name       string
		act        func()
		active     string
		end        string
		listed     int // current and upcoming
		gaugesGone bool
	}{
		{name: "upcoming only: active 0, no end", act: func() {
			postWin(`{"service":"checkout","start":"2026-03-04T10:10:00Z","duration":"30m","reason":"db upgrade","id":"w1"}`)
		}, active: `http5xx_maintenance_active{service="checkout"} 0` + "\n", listed: 1},
		{name: "inside: active 1, planned end", act: func() { clock.add(15 * time.Minute) },
			active: `http5xx_maintenance_active{service="checkout"} 1` + "\n",
			end:    fmt.Sprintf("http5xx_maintenance_end_timestamp_seconds{service=\"checkout\"} %d\n", epoch+40*60), listed: 1},
		{name: "after the end: active 0, end kept", act: func() { clock.add(30 * time.Minute) },
			active: `http5xx_maintenance_active{service="checkout"} 0` + "\n",
			end:    fmt.Sprintf("http5xx_maintenance_end_timestamp_seconds{service=\"checkout\"} %d\n", epoch+40*60)},
		{name: "a second window ended early: its early end", act: func() {
			postWin(`{"service":"checkout","duration":"2h","reason":"rollback","id":"w2"}`)
			clock.add(5 * time.Minute)
			if a := do(t, srv.Client(), del(srv.URL+MaintenancePath+"?id=w2", "")); a.Code != 200 {
				t.Fatalf("DELETE: %d %s", a.Code, a.Error)
			}
		}, active: `http5xx_maintenance_active{service="checkout"} 0` + "\n",
			end: fmt.Sprintf("http5xx_maintenance_end_timestamp_seconds{service=\"checkout\"} %d\n", epoch+50*60)},
		{name: "a day later: gone", act: func() { clock.add(WindowRetention + time.Minute) }, gaugesGone: true},
	}
	for _, st := range steps {
		st.act()
		want := ""
		if !st.gaugesGone {
			want = gauges(st.active, st.end)
		}
		if err := testutil.CollectAndCompare(m.Collector(), strings.NewReader(want),
			"http5xx_maintenance_active", "http5xx_maintenance_end_timestamp_seconds"); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		a := do(t, srv.Client(), get(srv.URL+MaintenancePath))
		var ws []Window
		if err := json.Unmarshal(a.Data, &ws); err != nil || len(ws) != st.listed {
			t.Fatalf("%s: GET listed %s, want %d windows", st.name, a.Data, st.listed)
		}
	}
	if problems, err := testutil.CollectAndLint(m.Collector()); err != nil || len(problems) != 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func get(url string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, url, nil)
	return r
}

// TestMaintenanceSurvivesRestart: windows, their early ends and the deploys
// next to them come back after a restart, also after a compaction, and
// windows past their retention are dropped at replay.
func TestMaintenanceSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name       string
		compactMin int
		later      time.Duration // clock advance before the reopen
		wantKept   int
	}{
		{name: "plain replay", compactMin: defaultCompactMin, wantKept: 3},
		{name: "after compaction", compactMin: 1, wantKept: 3},
		{name: "expired windows pruned", compactMin: defaultCompactMin, later: 8*24*time.Hour + WindowRetention, wantKept: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := newClock()
			m, _ := openManagerCompact(t, dir, Options{Now: clock.now}, tc.compactMin)
			mustRecord(t, m, Event{Service: "checkout", Version: "1.0"})
			mustWindow(t, m, `{"service":"checkout","duration":"1h","reason":"db","id":"a"}`)
			mustWindow(t, m, `{"service":"search","start":"2026-03-05T10:00:00Z","end":"2026-03-06T10:00:00Z","reason":"reindex","id":"b"}`)
			mustWindow(t, m, `{"service":"search","duration":"1h","reason":"oops","id":"c"}`)
			if _, _, err := m.EndWindow("c"); err != nil {
				t.Fatal(err)
			}
			before := m.Windows(true)
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			clock.add(tc.later)
			m2, _ := openManagerCompact(t, dir, Options{Now: clock.now}, tc.compactMin)
			after := m2.Windows(true)
			if len(after) != tc.wantKept {
				t.Fatalf("%d windows after restart, want %d: %+v", len(after), tc.wantKept, after)
			}
			if tc.wantKept == len(before) {
				bj, _ := json.Marshal(before)
				aj, _ := json.Marshal(after)
				if string(bj) != string(aj) {
					t.Errorf("windows changed over the restart:\n%s\n%s", bj, aj)
				}
			}
			if len(m2.List("", 0)) != 1 {
				t.Errorf("the deploy next to the windows is lost")
			}
			// The retried POST of a replayed window is still a duplicate.
			if tc.wantKept > 0 {
				w, _ := ParseWindowRequest([]byte(`{"service":"checkout","duration":"1h","reason":"db","id":"a"}`), clock.now())
				if _, created, err := m2.recordWindow(w); err != nil || created {
					t.Errorf("retry after restart: created %v, err %v", created, err)
				}
			}
		})
	}
}

// TestHostileMaintenanceBodies: random and oversized bodies never panic,
// never store anything and are answered with a bounded error.
func TestHostileMaintenanceBodies(t *testing.T) {
	m, _ := openManager(t, t.TempDir(), Options{AllowUnauthenticated: true, Now: newClock().now})
	srv := httptest.NewServer(m.MaintenanceHandler())
	defer srv.Close()
	bodies := []string{
		``, `null`, `[]`, `"x"`, `{`, `{"service":1}`, `{"service":"a","service":"a"}`,
		`{"service":"a","duration":"1h","reason":"r"} {}`,
		`{"service":"a","duration":"1h","reason":"\ud800"}`,
		`{"service":"a","duration":"1h","reason":"` + strings.Repeat("r", MaxReasonLen+1) + `"}`,
		`{"service":"a","duration":"9999999999999h","reason":"r"}`,
		`{"service":"a","end":"+275760-09-13T00:00:00Z","reason":"r"}`,
		`{"` + strings.Repeat("k", 60000) + `":"v"}`,
	}
	for i, b := range bodies {
		a := do(t, srv.Client(), post(srv.URL+MaintenancePath, "", "application/json", b))
		if a.Code != 400 {
			t.Errorf("body %d: code %d, want 400", i, a.Code)
		}
		if len(a.Error) > 512 {
			t.Errorf("body %d: error of %d bytes echoes the body", i, len(a.Error))
		}
	}
	// A body that never ends is cut at the limit.
	r := post(srv.URL+MaintenancePath, "", "application/json", "")
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"reason":"`), strings.NewReader(strings.Repeat("x", 4*MaxBodyBytes))))
	r.ContentLength = -1
	if a := do(t, srv.Client(), r); a.Code != 413 {
		t.Errorf("endless body: code %d, want 413", a.Code)
	}
	if n := len(m.Windows(true)); n != 0 {
		t.Errorf("hostile bodies stored %d windows", n)
	}
}
