package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/api"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	tokenA = "token-a-0123456789abcdef"
	tokenB = "token-b-0123456789abcdef"
)

func writeTokens(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// apiAnswer is a decoded answer of the deploy API: the api envelope.
type apiAnswer struct {
	Code      int
	Header    http.Header
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType api.ErrorType   `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

func do(t testing.TB, c *http.Client, req *http.Request) apiAnswer {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := apiAnswer{Code: resp.StatusCode, Header: resp.Header}
	if req.Method != http.MethodHead {
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("%s %s: answer %d is not JSON: %q", req.Method, req.URL, resp.StatusCode, body)
		}
	}
	return a
}

func post(url, token, contentType, body string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// TestAPIMatrix walks the auth and error matrix of issue 3, one row each.
func TestAPIMatrix(t *testing.T) {
	// The errorType the API answers with each error code.
	errorTypeOf := map[int]api.ErrorType{
		400: api.ErrBadData, 401: api.ErrBadData, 405: api.ErrBadData, 413: api.ErrBadData, 415: api.ErrBadData,
		403: api.ErrUnavailable,
		409: api.ErrExecution, 422: api.ErrExecution,
	}
	tokens := writeTokens(t, "# CI tokens\n"+tokenA+"\n\n  "+tokenB+"  \n")
	const okBody = `{"service":"checkout","version":"1.2.3"}`
	const js = "application/json"
	huge := `{"service":"a","version":"b","author":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	for _, tc := range []struct {
		name   string
		opts   Options
		before []Event // recorded first
		req    func(url string) *http.Request
		code   int
		field  string // the field the error starts with
		reason string // substring of the error
	}{
		// Authentication.
		{name: "token file, no credentials: 401", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { return post(u, "", js, okBody) }, code: 401, reason: "missing bearer token"},
		{name: "token file, wrong token: 401", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { return post(u, "not-the-token-000000", js, okBody) }, code: 401, reason: "invalid bearer token"},
		{name: "token file, token prefix: 401", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { return post(u, tokenA[:10], js, okBody) }, code: 401},
		{name: "token file, basic auth instead of bearer: 401", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request {
				r := post(u, "", js, okBody)
				r.SetBasicAuth("ci", tokenA)
				return r
			}, code: 401},
		{name: "token file, first token: 201", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { return post(u, tokenA, js, okBody) }, code: 201},
		{name: "token file, second token: 201", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { return post(u, tokenB, js, okBody) }, code: 201},
		{name: "token file and allow-unauthenticated, no credentials: 401", opts: Options{TokenFile: tokens, AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", js, okBody) }, code: 401},
		{name: "web basic auth (checked by exporter-toolkit): 201", opts: Options{WebAuth: true},
			req: func(u string) *http.Request { return post(u, "", js, okBody) }, code: 201},
		{name: "nothing configured: 403", opts: Options{},
			req: func(u string) *http.Request { return post(u, "", js, okBody) }, code: 403, reason: "--deploy.allow-unauthenticated"},
		{name: "allow-unauthenticated: 201", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", js, okBody) }, code: 201},
		{name: "auth comes before the body: wrong token, bad body: 401", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { return post(u, "wrong-token-000000000", "text/plain", "x") }, code: 401},

		// Media type and size.
		{name: "form body: 415", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request {
				return post(u, "", "application/x-www-form-urlencoded", "service=a&version=b")
			}, code: 415, reason: "application/json"},
		{name: "no Content-Type: 415", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", "", okBody) }, code: 415},
		{name: "JSON with charset: 201", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", "application/json; charset=utf-8", okBody) }, code: 201},
		{name: "over 64 KiB with Content-Length: 413", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", js, huge) }, code: 413},
		{name: "over 64 KiB chunked: 413", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request {
				r := post(u, "", js, "")
				r.Body = io.NopCloser(io.MultiReader(strings.NewReader(huge)))
				r.ContentLength = -1
				return r
			}, code: 413},

		// Payload.
		{name: "not JSON: 400 body", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", js, "{service: a}") }, code: 400, field: "body"},
		{name: "missing service: 400 service", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", js, `{"version":"1"}`) }, code: 400, field: "service", reason: "required"},
		{name: "missing version: 400 version", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", js, `{"service":"a"}`) }, code: 400, field: "version", reason: "required"},
		{name: "bad timestamp: 400 timestamp", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"a","version":"1","timestamp":"yesterday"}`)
			}, code: 400, field: "timestamp", reason: "RFC 3339"},
		{name: "unknown field: 400 naming it", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", js, `{"service":"a","version":"1","team":"x"}`) }, code: 400, field: "team"},
		{name: "label value with a control character: 400 version", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request { return post(u, "", js, `{"service":"a","version":"1.0\u0007"}`) }, code: 400, field: "version"},
		{name: "label value too long: 400 service", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request {
				return post(u, "", js, `{"service":"`+strings.Repeat("s", MaxLabelLen+1)+`","version":"1"}`)
			}, code: 400, field: "service"},

		// Cardinality guard.
		{name: "new service past max services: 422", opts: Options{AllowUnauthenticated: true, MaxServices: 2},
			before: []Event{{Service: "a", Version: "1"}, {Service: "b", Version: "1"}},
			req:    func(u string) *http.Request { return post(u, "", js, `{"service":"c","version":"1"}`) }, code: 422, field: "service", reason: "--deploy.max-services"},
		{name: "configured service at max services: 201", opts: Options{AllowUnauthenticated: true, MaxServices: 2},
			before: []Event{{Service: "a", Version: "1"}, {Service: "b", Version: "1"}},
			req:    func(u string) *http.Request { return post(u, "", js, `{"service":"shop","version":"1"}`) }, code: 201},
		{name: "known service at max services: 201", opts: Options{AllowUnauthenticated: true, MaxServices: 2},
			before: []Event{{Service: "a", Version: "1"}, {Service: "b", Version: "1"}},
			req:    func(u string) *http.Request { return post(u, "", js, `{"service":"b","version":"2"}`) }, code: 201},

		// Idempotency.
		{name: "same id again: 200 duplicate", opts: Options{AllowUnauthenticated: true},
			before: []Event{{Service: "a", Version: "1", ID: "run-1"}},
			req:    func(u string) *http.Request { return post(u, "", js, `{"service":"a","version":"1","id":"run-1"}`) }, code: 200},
		{name: "same id, other version: 409 id", opts: Options{AllowUnauthenticated: true},
			before: []Event{{Service: "a", Version: "1", ID: "run-1"}},
			req:    func(u string) *http.Request { return post(u, "", js, `{"service":"a","version":"2","id":"run-1"}`) }, code: 409, field: "id", reason: "different version"},

		// Methods and GET.
		{name: "PUT: 405", opts: Options{AllowUnauthenticated: true},
			req: func(u string) *http.Request {
				r := post(u, "", js, okBody)
				r.Method = http.MethodPut
				return r
			}, code: 405},
		{name: "GET needs no token: 200", opts: Options{TokenFile: tokens},
			req: func(u string) *http.Request { r, _ := http.NewRequest("GET", u, nil); return r }, code: 200},
		{name: "GET limit 0: 400 limit", opts: Options{},
			req: func(u string) *http.Request { r, _ := http.NewRequest("GET", u+"?limit=0", nil); return r }, code: 400, field: "limit"},
		{name: "GET limit over max: 400 limit", opts: Options{},
			req: func(u string) *http.Request { r, _ := http.NewRequest("GET", u+"?limit=1001", nil); return r }, code: 400, field: "limit"},
		{name: "GET empty service: 400 service", opts: Options{},
			req: func(u string) *http.Request { r, _ := http.NewRequest("GET", u+"?service=", nil); return r }, code: 400, field: "service"},
		{name: "GET service with control character: 400 service", opts: Options{},
			req: func(u string) *http.Request { r, _ := http.NewRequest("GET", u+"?service=a%00b", nil); return r }, code: 400, field: "service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := openManager(t, t.TempDir(), tc.opts)
			m.SetTargets([]*config.Target{{Name: "shop-web", Service: "shop"}})
			for _, ev := range tc.before {
				mustRecord(t, m, ev)
			}
			srv := httptest.NewServer(m.Handler())
			defer srv.Close()
			a := do(t, srv.Client(), tc.req(srv.URL+"/api/v1/deploys"))
			if a.Code != tc.code {
				t.Fatalf("code %d, want %d (%s %q)", a.Code, tc.code, a.ErrorType, a.Error)
			}
			if !strings.HasPrefix(a.Error, tc.field) || !strings.Contains(a.Error, tc.reason) {
				t.Errorf("error %q; want it to start with %q and contain %q", a.Error, tc.field, tc.reason)
			}
			if ct := a.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			switch {
			case a.Code == 401:
				if got := a.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("401 without a Bearer challenge: %q", got)
				}
			case a.Code == 405:
				if a.Header.Get("Allow") == "" {
					t.Error("405 without Allow")
				}
			}
			switch duplicate := a.Code == 200 && tc.req(srv.URL).Method == http.MethodPost; {
			case a.Code >= 400:
				if a.Status != "error" || a.Error == "" || a.ErrorType != errorTypeOf[a.Code] || a.Data != nil {
					t.Errorf("error answer: %+v, want errorType %q and a reason", a, errorTypeOf[a.Code])
				}
			case a.Code == 200 || a.Code == 201:
				if a.Status != "success" || a.ErrorType != "" || len(a.Data) == 0 || (len(a.Warnings) > 0) != duplicate {
					t.Errorf("success answer: %+v", a)
				}
			}
			// Refused POSTs store nothing.
			if a.Code >= 400 && len(m.List("", 0)) != len(tc.before) {
				t.Errorf("a refused request changed the history: %d events", len(m.List("", 0)))
			}
		})
	}
}

func TestPostAnswer(t *testing.T) {
	m, _ := openManager(t, t.TempDir(), Options{AllowUnauthenticated: true})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	a := do(t, srv.Client(), post(srv.URL, "", "application/json",
		`{"service":"checkout","version":"1.2.3","timestamp":"2026-01-02T03:04:05Z","environment":"prod","url":"https://ci.example/7","author":"ci","id":"run-7"}`))
	if a.Code != http.StatusCreated {
		t.Fatalf("code %d: %s", a.Code, a.Error)
	}
	var ev Event
	if err := json.Unmarshal(a.Data, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != "run-7" || ev.Source != SourceAPI || ev.Seq != 1 || ev.Timestamp.Format(time.RFC3339) != "2026-01-02T03:04:05Z" || ev.Recorded.IsZero() {
		t.Errorf("stored %+v", ev)
	}
	// Without id and timestamp the exporter fills both in.
	a = do(t, srv.Client(), post(srv.URL, "", "application/json", `{"service":"checkout","version":"1.2.4"}`))
	json.Unmarshal(a.Data, &ev)
	if ev.ID == "" || checkID(ev.ID) != nil || time.Since(ev.Timestamp) > time.Minute || ev.Seq != 2 {
		t.Errorf("generated fields: %+v", ev)
	}
}

func TestList(t *testing.T) {
	m, _ := openManager(t, t.TempDir(), Options{})
	at := func(min int) time.Time { return testNow.Add(time.Duration(min) * time.Minute) }
	// Recorded out of timestamp order: a backfilled deploy lands in its place.
	mustRecord(t, m, Event{Service: "a", Version: "a2", Timestamp: at(20)})
	mustRecord(t, m, Event{Service: "b", Version: "b1", Timestamp: at(15)})
	mustRecord(t, m, Event{Service: "a", Version: "a1", Timestamp: at(10)})
	mustRecord(t, m, Event{Service: "a", Version: "a3", Timestamp: at(30)})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	for _, tc := range []struct{ query, want string }{
		{"", "a3,a2,b1,a1"},
		{"?service=a", "a3,a2,a1"},
		{"?service=a&limit=2", "a3,a2"},
		{"?limit=1", "a3"},
		{"?service=nope", ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.query, nil)
		a := do(t, srv.Client(), req)
		var evs []Event
		if err := json.Unmarshal(a.Data, &evs); err != nil || a.Code != 200 {
			t.Fatalf("GET %s: %d %s", tc.query, a.Code, a.Data)
		}
		if evs == nil {
			t.Errorf("GET %s: data is null, want a list", tc.query)
		}
		if got := versions(evs); got != tc.want {
			t.Errorf("GET %s: %q, want %q", tc.query, got, tc.want)
		}
	}
	if ev, ok := m.Latest("a"); !ok || ev.Version != "a3" {
		t.Errorf("Latest(a) = %+v", ev)
	}
	if _, ok := m.Latest("nope"); ok {
		t.Error("Latest of an unknown service")
	}
}

// poster serves m's API and returns a function that POSTs a new deploy
// with a bearer token (none when empty) and answers the status code.
func poster(t *testing.T, m *Manager) func(token string) int {
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	n := 0
	return func(tok string) int {
		n++
		return do(t, srv.Client(), post(srv.URL, tok, "application/json", fmt.Sprintf(`{"service":"a","version":"%d"}`, n))).Code
	}
}

// The token file is read for every POST: a change counts at once, without
// a reload, and a reload of a missing file keeps nothing valid.
func TestReloadTokens(t *testing.T) {
	path := writeTokens(t, tokenA+"\n")
	m, _ := openManager(t, t.TempDir(), Options{TokenFile: path})
	code := poster(t, m)
	if c := code(tokenA); c != 201 {
		t.Fatalf("token A: %d", c)
	}
	os.WriteFile(path, []byte(tokenB+"\n"), 0o600)
	if c := code(tokenB); c != 201 {
		t.Errorf("token B once in the file: %d", c)
	}
	if c := code(tokenA); c != 401 {
		t.Errorf("token A once out of the file: %d", c)
	}
	if err := m.ReloadTokens(); err != nil {
		t.Fatal(err)
	}
	if c := code(tokenB); c != 201 {
		t.Errorf("token B after reload: %d", c)
	}
	os.Remove(path)
	if err := m.ReloadTokens(); err != nil {
		t.Errorf("reload of a missing file: %v (it is logged and refuses POSTs)", err)
	}
	if c := code(tokenB); c != 503 {
		t.Errorf("token file gone: %d, want 503 (fail-closed)", c)
	}
}

func TestMissingTokenFileFailsStart(t *testing.T) {
	_, err := NewManager(Options{StoragePath: t.TempDir(), TokenFile: filepath.Join(t.TempDir(), "nope")})
	if err == nil || !strings.Contains(err.Error(), "token file") {
		t.Fatalf("got %v", err)
	}
}

// TestConcurrentPosts sends 500 deploys from 20 clients at once; every
// deploy is also sent a second time by another client at the same time, as
// a retry would. Each is stored exactly once, also after a reopen.
func TestConcurrentPosts(t *testing.T) {
	const clients, perClient = 20, 25
	dir := t.TempDir()
	o := Options{AllowUnauthenticated: true, MaxEventsPerService: 1000}
	m, _ := openManager(t, dir, o)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	body := func(i int) string {
		return fmt.Sprintf(`{"service":"svc-%d","version":"v%d","id":"deploy-%d"}`, i%5, i, i)
	}
	var mu sync.Mutex
	created := map[string]int{}
	dups := 0
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}, Timeout: 30 * time.Second}
			defer client.CloseIdleConnections()
			// Own deploys, then the next client's again.
			for _, owner := range []int{c, (c + 1) % clients} {
				for k := range perClient {
					i := owner*perClient + k
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(body(i)))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						errs <- err
						return
					}
					var a apiAnswer
					json.NewDecoder(resp.Body).Decode(&a)
					resp.Body.Close()
					mu.Lock()
					switch {
					case resp.StatusCode == 201:
						created[fmt.Sprint(i)]++
					case resp.StatusCode == 200 && a.Status == "success":
						dups++
					default:
						mu.Unlock()
						errs <- fmt.Errorf("deploy %d: %d %s", i, resp.StatusCode, a.Error)
						return
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(created) != clients*perClient || dups != clients*perClient {
		t.Fatalf("%d created, %d duplicates; want %d each", len(created), dups, clients*perClient)
	}
	for id, n := range created {
		if n != 1 {
			t.Errorf("deploy %s created %d times", id, n)
		}
	}
	checkOnce := func(m *Manager, when string) {
		t.Helper()
		seen := map[string]bool{}
		for _, ev := range m.List("", 0) {
			if seen[ev.ID] {
				t.Errorf("%s: %s listed twice", when, ev.ID)
			}
			seen[ev.ID] = true
		}
		if len(seen) != clients*perClient {
			t.Errorf("%s: %d deploys listed, want %d", when, len(seen), clients*perClient)
		}
		// What the product promises: http5xx_deploys_total counts every
		// stored deploy once. (Which deploy is the newest by timestamp is
		// not ordered with the sequence numbers of concurrent posts.)
		reg := prometheus.NewRegistry()
		reg.MustRegister(m.Collector())
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var total float64
		for _, mf := range mfs {
			if mf.GetName() == contract.DeploysTotal.Name {
				for _, mt := range mf.GetMetric() {
					total += mt.GetCounter().GetValue()
				}
			}
		}
		if total != clients*perClient {
			t.Errorf("%s: deploys_total sums to %v, want %d", when, total, clients*perClient)
		}
	}
	checkOnce(m, "live")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countLines(t, logPath(dir)); n != clients*perClient {
		t.Errorf("log holds %d records, want %d", n, clients*perClient)
	}
	m2, _ := openManager(t, dir, o)
	checkOnce(m2, "after reopen")
}

func TestPostAfterClose(t *testing.T) {
	m, _ := openManager(t, t.TempDir(), Options{AllowUnauthenticated: true})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	m.Close()
	a := do(t, srv.Client(), post(srv.URL, "", "application/json", `{"service":"a","version":"1"}`))
	if a.Code != http.StatusServiceUnavailable || a.Status != "error" || a.ErrorType != api.ErrUnavailable || a.Header.Get("Retry-After") == "" {
		t.Fatalf("%+v, want 503 unavailable with Retry-After", a)
	}
}

func BenchmarkPost(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		name := "serial"
		if parallel {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			m, _ := openManager(b, b.TempDir(), Options{AllowUnauthenticated: true, MaxEventsPerService: 1 << 20})
			h := m.Handler()
			var n sync.Mutex
			i := 0
			one := func() {
				n.Lock()
				i++
				body := fmt.Sprintf(`{"service":"svc","version":"v%d"}`, i)
				n.Unlock()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, post("/", "", "application/json", body))
				if rec.Code != http.StatusCreated {
					b.Errorf("code %d: %s", rec.Code, rec.Body)
				}
			}
			b.ResetTimer()
			if parallel {
				b.SetParallelism(32) // many CI jobs at once: group commit shares the fsyncs
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						one()
					}
				})
			} else {
				for b.Loop() {
					one()
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
		})
	}
}

// exporter-toolkit reads --web.config.file for every request, so basic auth
// can be removed from a running exporter. POST must then fall back to the
// token file (or the other rules), not stay open because basic auth was on
// at start.
func TestWebAuthFollowsTheWebConfigFile(t *testing.T) {
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(webConfig, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("basic_auth_users:\n  ci: $2y$10$abcdefghijklmnopqrstuv\n")
	m, _ := openManager(t, t.TempDir(), Options{WebConfigFile: webConfig, TokenFile: writeTokens(t, tokenA+"\n")})
	code := poster(t, m)
	if c := code(""); c != 201 {
		t.Fatalf("basic auth on (checked by exporter-toolkit): %d, want 201", c)
	}
	write("tls_server_config: {}\n") // basic auth removed: exporter-toolkit now lets anyone through
	if c := code(""); c != 401 {
		t.Errorf("basic auth removed, no token: %d, want 401", c)
	}
	if c := code(tokenA); c != 201 {
		t.Errorf("basic auth removed, token: %d, want 201", c)
	}
	os.Remove(webConfig)
	if c := code(""); c != 500 {
		t.Errorf("web config unreadable: %d, want 500", c)
	}
}
