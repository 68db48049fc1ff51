package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestScenarios(t *testing.T) {
	_, ts := start(t)
	fromAP := http.Header{probeHeader: {"ap/storefront"}}
	fromEU := http.Header{probeHeader: {"eu/storefront"}}
	// Steps run in order against one origin; a step with a body first PUTs
	// (or DELETEs, with body "-") the scenario, then requests /t/storefront.
	for _, step := range []struct {
		name   string
		set    string
		header http.Header
		status int
		want   map[string]string
		body   string
	}{
		{name: "unset answers 200", status: 200},
		{name: "unset ignores the location", header: fromAP, status: 200},
		{name: "502 as nginx", set: `{"status":502,"as":"nginx"}`, status: 502,
			want: map[string]string{"Server": "nginx"}, body: "<hr><center>nginx</center>"},
		{name: "503 with retry_after", set: `{"status":503,"retry_after":"30"}`, status: 503,
			want: map[string]string{"Retry-After": "30"}},
		{name: "503 without retry_after sends none", set: `{"status":503}`, status: 503,
			want: map[string]string{"Retry-After": ""}},
		{name: "location override: no header gets the default",
			set: `{"status":200,"locations":{"ap":{"status":500}}}`, status: 200},
		{name: "location override: ap gets its own", header: fromAP, status: 500},
		{name: "location override: eu gets the default", header: fromEU, status: 200},
		{name: "a target name alone has no location", header: http.Header{probeHeader: {"ap"}}, status: 200},
		{name: "empty location gets the default", header: http.Header{probeHeader: {"/storefront"}}, status: 200},
		{name: "override replaces the whole behaviour",
			set: `{"status":502,"as":"envoy","locations":{"ap":{"status":504}}}`, header: fromAP, status: 504,
			want: map[string]string{"Server": ""}},
		{name: "delete resets to 200", set: "-", status: 200},
	} {
		t.Run(step.name, func(t *testing.T) {
			switch step.set {
			case "":
			case "-":
				if resp, body := call(t, http.MethodDelete, ts.URL+"/-/control/storefront", "", nil); resp.StatusCode != 200 {
					t.Fatalf("DELETE = %d %q", resp.StatusCode, body)
				}
			default:
				if resp, body := call(t, http.MethodPut, ts.URL+"/-/control/storefront", step.set, nil); resp.StatusCode != 200 {
					t.Fatalf("PUT = %d %q", resp.StatusCode, body)
				}
			}
			resp, body := call(t, http.MethodGet, ts.URL+"/t/storefront", "", step.header)
			if resp.StatusCode != step.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, step.status)
			}
			for k, want := range step.want {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !strings.Contains(body, step.body) {
				t.Errorf("body %q does not contain %q", body, step.body)
			}
		})
	}
}

func TestScenarioModes(t *testing.T) {
	_, ts := start(t)
	put := func(name, b string) {
		t.Helper()
		if resp, body := call(t, http.MethodPut, ts.URL+"/-/control/"+name, b, nil); resp.StatusCode != 200 {
			t.Fatalf("PUT %s = %d %q", name, resp.StatusCode, body)
		}
	}
	put("slow", `{"status":504,"delay":"300ms"}`)
	put("hung", `{"mode":"hang"}`)
	put("rst", `{"mode":"reset","delay":"10ms"}`)
	put("junk", `{"mode":"garbage"}`)

	begin := time.Now()
	if resp, _ := call(t, http.MethodGet, ts.URL+"/t/slow", "", nil); resp.StatusCode != 504 || time.Since(begin) < 300*time.Millisecond {
		t.Errorf("slow: %d after %s, want 504 after 300ms", resp.StatusCode, time.Since(begin))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/t/hung", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung: err = %v, want no answer before the deadline", err)
	}

	if got, err := rawGet(t, ts.Listener.Addr().String(), "/t/rst", ""); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("rst: read %q, %v; want a connection reset", got, err)
	}
	if got, _ := rawGet(t, ts.Listener.Addr().String(), "/t/junk", ""); string(got) != garbage {
		t.Errorf("junk: read %q, want the garbage bytes", got)
	}
	// A reset only for one location.
	put("edge", `{"locations":{"ap":{"mode":"reset"}}}`)
	if got, err := rawGet(t, ts.Listener.Addr().String(), "/t/edge", probeHeader+": ap/edge\r\n"); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("edge from ap: read %q, %v; want a connection reset", got, err)
	}
	if resp, _ := call(t, http.MethodGet, ts.URL+"/t/edge", "", nil); resp.StatusCode != 200 {
		t.Errorf("edge without location = %d, want 200", resp.StatusCode)
	}
}

func TestControlListsAndGetsScenarios(t *testing.T) {
	_, ts := start(t)
	call(t, http.MethodPut, ts.URL+"/-/control/checkout", `{"status":500}`, nil)
	call(t, http.MethodPut, ts.URL+"/-/control/search", `{"status":503,"delay":"1.5s","retry_after":"60","locations":{"eu":{"mode":"hang"}}}`, nil)

	resp, body := call(t, http.MethodGet, ts.URL+"/-/control", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /-/control = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var all map[string]map[string]any
	if err := json.Unmarshal([]byte(body), &all); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	if len(all) != 2 || all["checkout"]["status"] != 500.0 || all["search"]["delay"] != "1.5s" || all["search"]["retry_after"] != "60" {
		t.Errorf("GET /-/control = %s", body)
	}

	for path, want := range map[string]string{
		"/-/control/checkout": `{"status":500}`,
		"/-/control/unset":    `{"status":200}`,
	} {
		_, body := call(t, http.MethodGet, ts.URL+path, "", nil)
		if compact(t, body) != want {
			t.Errorf("GET %s = %s, want %s", path, body, want)
		}
	}
	call(t, http.MethodDelete, ts.URL+"/-/control/checkout", "", nil)
	if _, body := call(t, http.MethodGet, ts.URL+"/-/control", "", nil); strings.Contains(body, "checkout") {
		t.Errorf("checkout still listed after DELETE: %s", body)
	}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v in %q", err, s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestControlRejectsBadInput(t *testing.T) {
	_, ts := start(t)
	for _, tc := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"PUT", "/-/control/x", `{`, 400, "bad JSON"},
		{"PUT", "/-/control/x", ``, 400, "empty body"},
		{"PUT", "/-/control/x", `[]`, 400, "bad JSON"},
		{"PUT", "/-/control/x", `{"stauts":502}`, 400, `unknown field "stauts"`},
		{"PUT", "/-/control/x", `{"status":"502"}`, 400, "bad JSON"},
		{"PUT", "/-/control/x", `{"status":1000}`, 400, "status 1000"},
		{"PUT", "/-/control/x", `{"status":99}`, 400, "status 99"},
		{"PUT", "/-/control/x", `{"delay":"1h"}`, 400, "delay 1h0m0s: want between 0s and 5m0s"},
		{"PUT", "/-/control/x", `{"delay":"-1s"}`, 400, "delay -1s"},
		{"PUT", "/-/control/x", `{"delay":2}`, 400, `duration string such as "2s"`},
		{"PUT", "/-/control/x", `{"delay":"2"}`, 400, "missing unit"},
		{"PUT", "/-/control/x", `{"mode":"explode"}`, 400, `mode "explode"`},
		{"PUT", "/-/control/x", `{"as":"iis"}`, 400, `as "iis"`},
		{"PUT", "/-/control/x", `{"retry_after":"30\n"}`, 400, "control characters"},
		{"PUT", "/-/control/x", `{"retry_after":30}`, 400, "bad JSON"},
		{"PUT", "/-/control/x", `{"locations":{"ap":{"locations":{}}}}`, 400, "cannot have locations"},
		{"PUT", "/-/control/x", `{"locations":{"a p":{"status":500}}}`, 400, `location "a p"`},
		{"PUT", "/-/control/x", `{"locations":{"ap":{"status":0.5}}}`, 400, "bad JSON"},
		{"PUT", "/-/control/x", `{"status":200} {"status":500}`, 400, "trailing data"},
		{"PUT", "/-/control/x", `{"status":200,"pad":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "body over 65536 bytes"},
		{"PUT", "/-/control/bad%20name", `{}`, 400, "scenario name"},
		{"PUT", "/-/control/" + strings.Repeat("n", 65), `{}`, 400, "scenario name"},
		{"POST", "/-/control/x", `{}`, 405, ""},
		{"DELETE", "/-/control", ``, 405, ""},
		{"PUT", "/-/version", `{"version":""}`, 400, `want {"version":"1.2.4"}`},
		{"PUT", "/-/version", `{"v":"1.2.4"}`, 400, `unknown field "v"`},
		{"PUT", "/-/version", `{"version":"1.2.4\r\nX-Evil: 1"}`, 400, "control characters"},
		{"PUT", "/-/saturation", `{"active":-1}`, 400, "active -1"},
		{"PUT", "/-/saturation", `{"max":0}`, 400, "max 0: want 1 to"},
		{"PUT", "/-/saturation", `{"busy":3}`, 400, `unknown field "busy"`},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body[:min(len(tc.body), 40)], func(t *testing.T) {
			resp, body := call(t, tc.method, ts.URL+tc.path, tc.body, nil)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.message) {
				t.Errorf("= %d %q, want %d with %q", resp.StatusCode, body, tc.status, tc.message)
			}
		})
	}
	// Nothing bad was stored.
	if _, body := call(t, http.MethodGet, ts.URL+"/-/control", "", nil); compact(t, body) != `{}` {
		t.Errorf("scenarios after bad input: %s", body)
	}
	if _, body := call(t, http.MethodGet, ts.URL+"/-/saturation", "", nil); compact(t, body) != `{"active":0,"max":100,"queue":0}` {
		t.Errorf("saturation after bad input: %s", body)
	}
}

func TestVersionSwitch(t *testing.T) {
	_, ts := start(t)
	version := func(path string) string {
		resp, _ := call(t, http.MethodGet, ts.URL+path, "", nil)
		return resp.Header.Get("X-App-Version")
	}
	if v := version("/"); v != "1.0.0" {
		t.Fatalf("before: %q", v)
	}
	resp, body := call(t, http.MethodPut, ts.URL+"/-/version", `{"version":"1.2.4"}`, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-App-Version") != "1.2.4" {
		t.Fatalf("PUT /-/version = %d %q, X-App-Version %q", resp.StatusCode, body, resp.Header.Get("X-App-Version"))
	}
	for _, path := range []string{"/", "/status/502", "/t/any", "/nope", "/-/healthy"} {
		if v := version(path); v != "1.2.4" {
			t.Errorf("%s: X-App-Version %q after the deploy, want 1.2.4", path, v)
		}
	}
	if _, body := call(t, http.MethodGet, ts.URL+"/-/version", "", nil); compact(t, body) != `{"version":"1.2.4"}` {
		t.Errorf("GET /-/version = %s", body)
	}
}

func TestSaturationFormats(t *testing.T) {
	s, ts := start(t)
	if resp, body := call(t, http.MethodPut, ts.URL+"/-/saturation", `{"active":40,"max":100,"queue":3}`, nil); resp.StatusCode != 200 {
		t.Fatalf("PUT = %d %q", resp.StatusCode, body)
	}

	t.Run("nginx stub_status", func(t *testing.T) {
		_, body := call(t, http.MethodGet, ts.URL+"/nginx_status", "", nil)
		n := s.requests.Load()
		want := "Active connections: 40 \nserver accepts handled requests\n " +
			strings.Repeat(strconv.FormatUint(n, 10)+" ", 3) + "\nReading: 0 Writing: 1 Waiting: 39 \n"
		if body != want {
			t.Errorf("got\n%q\nwant\n%q", body, want)
		}
	})
	t.Run("php-fpm json", func(t *testing.T) {
		resp, body := call(t, http.MethodGet, ts.URL+"/fpm-status?json", "", nil)
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%v (%s) in %s", err, resp.Header.Get("Content-Type"), body)
		}
		for k, want := range map[string]any{
			"pool": "www", "active processes": 40.0, "idle processes": 60.0, "total processes": 100.0,
			"listen queue": 3.0, "max listen queue": 3.0, "max children reached": 0.0,
		} {
			if got[k] != want {
				t.Errorf("%q = %v, want %v", k, got[k], want)
			}
		}
		if !strings.HasPrefix(body, `{"pool":"www","process manager":"static","start time":`) {
			t.Errorf("keys not in php-fpm's order: %s", body)
		}
	})
	t.Run("php-fpm text", func(t *testing.T) {
		_, body := call(t, http.MethodGet, ts.URL+"/fpm-status", "", nil)
		for _, line := range []string{"active processes:     40\n", "total processes:      100\n", "listen queue:         3\n"} {
			if !strings.Contains(body, line) {
				t.Errorf("no %q in\n%s", line, body)
			}
		}
	})
	t.Run("prometheus text", func(t *testing.T) {
		_, body := call(t, http.MethodGet, ts.URL+"/metrics-sat", "", nil)
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%v in\n%s", err, body)
		}
		for name, want := range map[string]float64{"demo_busy_workers": 40, "demo_max_workers": 100, "demo_queued_requests": 3} {
			mf, ok := mfs[name]
			if !ok || mf.GetType().String() != "GAUGE" || mf.GetMetric()[0].GetGauge().GetValue() != want {
				t.Errorf("%s: %v, want a gauge of %v", name, mf, want)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		_, body := call(t, http.MethodGet, ts.URL+"/saturation.json", "", nil)
		if got := compact(t, body); got != `{"workers":{"busy":40,"max":100,"queue":3}}` {
			t.Errorf("got %s", got)
		}
	})
	t.Run("partial update keeps the other fields, max children reached counts", func(t *testing.T) {
		call(t, http.MethodPut, ts.URL+"/-/saturation", `{"active":100}`, nil)
		call(t, http.MethodPut, ts.URL+"/-/saturation", `{"active":20,"queue":0}`, nil)
		if _, body := call(t, http.MethodGet, ts.URL+"/saturation.json", "", nil); compact(t, body) != `{"workers":{"busy":20,"max":100,"queue":0}}` {
			t.Errorf("got %s", body)
		}
		_, body := call(t, http.MethodGet, ts.URL+"/fpm-status?json", "", nil)
		var got map[string]any
		_ = json.Unmarshal([]byte(body), &got)
		if got["max children reached"] != 1.0 || got["max active processes"] != 100.0 || got["max listen queue"] != 3.0 {
			t.Errorf("high-water marks: %s", body)
		}
	})
}
