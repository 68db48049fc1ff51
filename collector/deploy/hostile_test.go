package deploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/http5xx/http5xx_exporter/collector/api"
)

// TestHostileInvalidUTF8 sends each field with bytes that are not UTF-8,
// or with \u escapes of half a surrogate pair: encoding/json would store
// either as U+FFFD, which passes every later check. Each is refused with a
// 400 that names the field, and nothing is stored.
func TestHostileInvalidUTF8(t *testing.T) {
	m, _ := openManager(t, t.TempDir(), Options{AllowUnauthenticated: true})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	// body puts raw (already JSON-quoted content, possibly invalid) into
	// field of an otherwise valid request.
	body := func(field, raw string) string {
		fields := map[string]string{"service": `"svc"`, "version": `"1"`}
		fields[field] = `"` + raw + `"`
		var b strings.Builder
		b.WriteString("{")
		sep := ""
		for _, f := range payloadFields {
			if v, ok := fields[f]; ok {
				b.WriteString(sep + `"` + f + `":` + v)
				sep = ","
			}
		}
		return b.String() + "}"
	}
	invalid := map[string]string{
		"byte ff":                 "a\xffb",
		"cut two-byte sequence":   "ab\xc3",
		"overlong slash":          "a\xc0\xafb",
		"UTF-16 surrogate bytes":  "a\xed\xa0\x80b",
		"lone high surrogate":     `a\ud800b`,
		"lone low surrogate":      `a\udc00b`,
		"high then not low":       `\ud83d\u0041`,
		"high at the very end":    `ab\uD83D`,
		"escaped backslash first": `\\\udc00`,
	}
	fields := map[string]string{ // a valid value to embed the damage in
		"service": "svc%s", "version": "1.0%s", "environment": "prod%s", "author": "ci%s",
		"url": "https://ci.example/%s", "timestamp": "2026-01-02T03:04:05Z%s", "id": "run-1%s",
	}
	for field, tmpl := range fields {
		for name, bad := range invalid {
			t.Run(field+"/"+name, func(t *testing.T) {
				a := do(t, srv.Client(), post(srv.URL, "", "application/json", body(field, strings.Replace(tmpl, "%s", bad, 1))))
				if a.Code != http.StatusBadRequest || a.ErrorType != api.ErrBadData {
					t.Fatalf("answer %d %s %q, want 400 bad_data", a.Code, a.ErrorType, a.Error)
				}
				if !strings.HasPrefix(a.Error, field+": ") || !strings.Contains(a.Error, "UTF-8") {
					t.Errorf("error %q, want it to name %s and say UTF-8", a.Error, field)
				}
			})
		}
	}
	if n := len(m.List("", 0)); n != 0 {
		t.Fatalf("%d deploys stored from invalid requests", n)
	}
	// What is valid stays accepted: a surrogate pair, raw multi-byte UTF-8,
	// and an escaped backslash before a u.
	for _, tc := range []struct{ raw, want string }{
		{`v-\ud83d\ude00`, "v-\U0001F600"},
		{"v-é€", "v-é€"},
		{`v\\u0041`, `v\u0041`},
	} {
		a := do(t, srv.Client(), post(srv.URL, "", "application/json", body("version", tc.raw)))
		var ev Event
		json.Unmarshal(a.Data, &ev)
		if a.Code != http.StatusCreated || ev.Version != tc.want {
			t.Errorf("version %s: %d %q, stored %q; want 201 and %q", tc.raw, a.Code, a.Error, ev.Version, tc.want)
		}
	}
}

// clock is a settable time for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestHostileRetryOfRetiredID: a service keeps 2 deploys; run-1 (v1) has
// left the history when run-2 and run-3 are stored. A pipeline retrying
// run-1 must get "duplicate" and change nothing (before the fix it was
// stored again and v1 became the current version), live, after a restart
// and after a compaction, until the id window or the id count passes.
func TestHostileRetryOfRetiredID(t *testing.T) {
	const retry = `{"service":"svc","version":"v1","id":"run-1","timestamp":"2026-03-04T05:07:07Z"}`
	for _, tc := range []struct {
		name string
		opts Options
		// between runs after run-1..run-3 are stored and before the retry.
		between func(t *testing.T, m *Manager, c *clock, dir string) *Manager
		body    string
		code    int
		latest  string // the current version after the retry
		total   uint64
	}{
		{name: "live", code: 200, latest: "v3", total: 3},
		{name: "retry with other data: conflict", body: `{"service":"svc","version":"v9","id":"run-1"}`, code: 409, latest: "v3", total: 3},
		{name: "after a restart", code: 200, latest: "v3", total: 3,
			between: func(t *testing.T, m *Manager, c *clock, dir string) *Manager {
				m.Close()
				m2, _ := openManager(t, dir, Options{AllowUnauthenticated: true, MaxEventsPerService: 2, Now: c.now})
				return m2
			}},
		{name: "after a compaction and a restart", code: 200, latest: "v3", total: 3,
			between: func(t *testing.T, m *Manager, c *clock, dir string) *Manager {
				m.compact()
				m.Close()
				b, _ := os.ReadFile(logPath(dir))
				if !strings.Contains(string(b), `{"retired":{"id":"run-1"`) || strings.Count(string(b), "\n") != 3 {
					t.Fatalf("compacted log does not keep the retired id:\n%s", b)
				}
				m2, _ := openManagerCompact(t, dir, Options{AllowUnauthenticated: true, MaxEventsPerService: 2, Now: c.now}, 1)
				return m2
			}},
		{name: "window passed: stored anew", code: 201, latest: "v3", total: 4,
			between: func(t *testing.T, m *Manager, c *clock, dir string) *Manager {
				c.add(DefaultIDWindow + time.Minute)
				return m
			}},
		{name: "window passed, after a restart: stored anew", code: 201, latest: "v3", total: 4,
			between: func(t *testing.T, m *Manager, c *clock, dir string) *Manager {
				m.Close()
				c.add(DefaultIDWindow + time.Minute)
				m2, _ := openManager(t, dir, Options{AllowUnauthenticated: true, MaxEventsPerService: 2, Now: c.now})
				return m2
			}},
		{name: "count passed: the oldest id is forgotten", opts: Options{MaxRetiredIDs: 1}, code: 201, latest: "v4", total: 5,
			between: func(t *testing.T, m *Manager, c *clock, dir string) *Manager {
				mustRecord(t, m, Event{Service: "svc", Version: "v4", ID: "run-4", Timestamp: testNow.Add(4 * time.Minute)})
				return m
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := &clock{t: testNow}
			o := tc.opts
			o.AllowUnauthenticated, o.MaxEventsPerService, o.Now = true, 2, c.now
			m, _ := openManager(t, dir, o)
			for i, v := range []string{"v1", "v2", "v3"} {
				mustRecord(t, m, Event{Service: "svc", Version: v, ID: "run-" + v[1:], Timestamp: testNow.Add(time.Duration(i+1) * time.Minute)})
				c.add(time.Minute)
			}
			if tc.between != nil {
				m = tc.between(t, m, c, dir)
			}
			srv := httptest.NewServer(m.Handler())
			defer srv.Close()
			body := tc.body
			if body == "" {
				body = retry
			}
			a := do(t, srv.Client(), post(srv.URL, "", "application/json", body))
			if a.Code != tc.code {
				t.Fatalf("retry of run-1: %d %q, want %d", a.Code, a.Error, tc.code)
			}
			var stored Event
			json.Unmarshal(a.Data, &stored)
			if tc.code == 200 && (len(a.Warnings) == 0 || stored.Version != "v1" || stored.Seq != 1) {
				t.Errorf("duplicate answer without the stored event or a warning: %+v %s", a, a.Data)
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(m.Collector())
			want := fmt.Sprintf(`
# HELP http5xx_deploy_info 1 for the service's current version.
# TYPE http5xx_deploy_info gauge
http5xx_deploy_info{service="svc",version=%q} 1
# HELP http5xx_deploys_total Deploys recorded for the service.
# TYPE http5xx_deploys_total counter
http5xx_deploys_total{service="svc"} %d
`, tc.latest, tc.total)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "http5xx_deploy_info", "http5xx_deploys_total"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestHostileTokenFileGone: the token file is read for every POST. When it
// is deleted or cannot be read, POSTs are refused with 503 (not accepted
// with the tokens read before: deleting the file is how a token is
// revoked in a hurry), the log says so once and
// http5xx_deploy_token_file_ok is 0; when the file is back, they pass.
func TestHostileTokenFileGone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, path string)
	}{
		{"deleted", func(t *testing.T, path string) { os.Remove(path) }},
		{"replaced by a directory", func(t *testing.T, path string) {
			os.Remove(path)
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(path) })
		}},
		{"renamed away", func(t *testing.T, path string) { os.Rename(path, path+".old") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTokens(t, tokenA+"\n")
			m, logs := openManager(t, t.TempDir(), Options{TokenFile: path})
			srv := httptest.NewServer(m.Handler())
			defer srv.Close()
			n := 0
			send := func() apiAnswer {
				n++
				return do(t, srv.Client(), post(srv.URL, tokenA, "application/json", `{"service":"a","version":"`+string(rune('a'+n))+`"}`))
			}
			gauge := func() float64 {
				reg := prometheus.NewPedanticRegistry()
				reg.MustRegister(m.Collector())
				mfs, err := reg.Gather()
				if err != nil {
					t.Fatal(err)
				}
				for _, mf := range mfs {
					if mf.GetName() == "http5xx_deploy_token_file_ok" {
						return mf.GetMetric()[0].GetGauge().GetValue()
					}
				}
				t.Fatal("no http5xx_deploy_token_file_ok")
				return -1
			}
			if a := send(); a.Code != 201 || gauge() != 1 {
				t.Fatalf("with the file: %d %q, gauge %v", a.Code, a.Error, gauge())
			}

			tc.break_(t, path)
			for range 3 {
				a := send()
				if a.Code != http.StatusServiceUnavailable || a.ErrorType != api.ErrUnavailable || !strings.Contains(a.Error, "token file") {
					t.Fatalf("token file gone, old token: %d %s %q; want 503 unavailable naming the token file", a.Code, a.ErrorType, a.Error)
				}
			}
			if g := gauge(); g != 0 {
				t.Errorf("http5xx_deploy_token_file_ok = %v while the file is gone", g)
			}
			if c := strings.Count(logs.String(), "deploy token file cannot be read"); c != 1 {
				t.Errorf("logged the unreadable token file %d times, want once:\n%s", c, logs)
			}
			if err := m.ReloadTokens(); err != nil {
				t.Errorf("reload hook: %v", err)
			}
			if a := send(); a.Code != http.StatusServiceUnavailable {
				t.Errorf("after a reload without the file: %d", a.Code)
			}

			os.Remove(path)
			os.Remove(path + ".old")
			if err := os.WriteFile(path, []byte(tokenA+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if a := send(); a.Code != 201 {
				t.Errorf("file back: %d %q, want 201", a.Code, a.Error)
			}
			if g := gauge(); g != 1 || !strings.Contains(logs.String(), "readable again") {
				t.Errorf("file back: gauge %v, log:\n%s", g, logs)
			}
		})
	}
}

// A token file without a token, or a token removed from the file, refuses
// at once, without a reload.
func TestTokenRemovedFromFileRevokesAtOnce(t *testing.T) {
	path := writeTokens(t, tokenA+"\n"+tokenB+"\n")
	m, _ := openManager(t, t.TempDir(), Options{TokenFile: path})
	code := poster(t, m)
	if c := code(tokenA); c != 201 {
		t.Fatalf("token A: %d", c)
	}
	if err := os.WriteFile(path, []byte(tokenB+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c := code(tokenA); c != 401 {
		t.Errorf("token A removed from the file: %d, want 401", c)
	}
	if c := code(tokenB); c != 201 {
		t.Errorf("token B: %d", c)
	}
	if err := os.WriteFile(path, []byte("# none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c := code(tokenB); c != 401 {
		t.Errorf("no token in the file: %d, want 401", c)
	}
}
