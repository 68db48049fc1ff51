package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/fanout"
)

func TestCheckFrom(t *testing.T) {
	origin := statusOrigin(t).URL
	on := adhoc.Options{Enabled: true, Allow: []string{"127.0.0.1"}, Burst: 20}
	eu := startLocation(t, origin, locationSpec{location: "eu", adhoc: on})
	us := startLocation(t, origin, locationSpec{location: "us", adhoc: on})
	ap := startLocation(t, origin, locationSpec{location: "ap"}) // ad-hoc checks off
	from := []string{"eu=" + eu.URL, "us=" + us.URL, "ap=" + ap.URL}

	tests := []struct {
		urls []string
		code int
		out  []string
	}{
		{[]string{origin + "/ok"}, 0, []string{
			origin + "/ok\n",
			"  eu  OK: 200 in ",
			"  ap  no answer: " + ap.URL + "/api/v1/check: HTTP 404 not_found: ad-hoc checks are off on this exporter",
			"  OK from 2 locations",
		}},
		{[]string{origin + "/ok?fail=us"}, 1, []string{
			"  us  GATEWAY: HTTP 502; owner app-infra; first move: ",
			"  LOCAL: fails only from us, fine elsewhere",
		}},
		{[]string{origin + "/slow", origin + "/bad"}, 1, []string{
			"  eu  TIMEOUT: HTTP 504; owner db-api-owners",
			"GLOBAL: fails from every location: a real outage (timeout, owner db-api-owners)",
			"GLOBAL: fails from every location: a real outage (gateway, owner app-infra)",
		}},
		{[]string{"http://169.254.169.254/latest/meta-data/"}, 1, []string{
			"  eu  no answer: " + eu.URL + "/api/v1/check: HTTP 403 bad_data: refused http://169.254.169.254/latest/meta-data/: 169.254.169.254 is a cloud metadata address",
			"UNKNOWN: no location could check it",
		}},
	}
	for _, tt := range tests {
		f := remoteFlags{spec: fanout.Spec{From: from}, timeout: 5 * time.Second}
		var out, errOut bytes.Buffer
		code := f.checkFrom(context.Background(), tt.urls, "200-399", 5*time.Second, "text", &out, &errOut)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", tt.urls, code, tt.code, out.String(), errOut.String())
		}
		for _, want := range tt.out {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v: output lacks %q:\n%s", tt.urls, want, out.String())
			}
		}
	}

	f := remoteFlags{spec: fanout.Spec{From: from}, timeout: 5 * time.Second}
	var out bytes.Buffer
	if code := f.checkFrom(context.Background(), []string{origin + "/ok?fail=eu"}, "200-399", 5*time.Second, "json", &out, &out); code != 1 {
		t.Errorf("json: exit %d, want 1", code)
	}
	var rcs []fanout.URLResult
	if err := json.Unmarshal(out.Bytes(), &rcs); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rcs) != 1 || rcs[0].Verdict != fanout.VerdictLocal || len(rcs[0].Results) != 3 {
		t.Fatalf("json: %+v", rcs)
	}
	r := rcs[0].Results
	if r[0].Report == nil || r[0].Report.Code != 502 || r[0].Report.Location != "eu" || r[1].Report == nil || !r[1].Report.OK ||
		r[2].Report != nil || !strings.Contains(r[2].Error, "HTTP 404 not_found") {
		t.Errorf("json results %+v", r)
	}
}

func TestCheckFromWaitsOutTheRateLimit(t *testing.T) {
	origin := statusOrigin(t).URL
	eu := startLocation(t, origin, locationSpec{location: "eu",
		adhoc: adhoc.Options{Enabled: true, Allow: []string{"127.0.0.1"}, Burst: 1, Every: 10 * time.Millisecond}})
	f := remoteFlags{spec: fanout.Spec{From: []string{"eu=" + eu.URL}}, timeout: 5 * time.Second}
	var out bytes.Buffer
	code := f.checkFrom(context.Background(), []string{origin + "/ok", origin + "/ok?x=1"}, "200-399", 5*time.Second, "text", &out, &out)
	if code != 0 || strings.Count(out.String(), "OK: 200") != 2 {
		t.Errorf("exit %d, want both checks through after a 429:\n%s", code, out.String())
	}
}

func TestCheckFromUsageErrors(t *testing.T) {
	tests := []struct {
		from []string
		urls []string
		msg  string
	}{
		{nil, []string{"http://example.com/"}, "no locations"},
		{[]string{"eu=http://127.0.0.1:1"}, []string{"example.com"}, "not an http or https URL"},
		{[]string{"eu"}, []string{"http://example.com/"}, "want NAME=URL"},
	}
	for _, tt := range tests {
		f := remoteFlags{spec: fanout.Spec{From: tt.from}, timeout: time.Second}
		var out, errOut bytes.Buffer
		if code := f.checkFrom(context.Background(), tt.urls, "200-399", time.Second, "text", &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tt.msg) {
			t.Errorf("%v %v: exit %d %q, want 2 mentioning %q", tt.from, tt.urls, code, errOut.String(), tt.msg)
		}
	}
}

// What another exporter answers to a check is printed: its text must not
// reach the terminal raw, and its size is bounded to what a report needs
// (every location's report of every URL is kept until the end).
func TestCheckFromDistrustsTheAnswers(t *testing.T) {
	forged := hostileLocation(t, envelope([]byte(`{"url":"x","code":502,"class":"gateway\u001b[32m","owner":"app\u202e",`+
		`"first_move":"restart\n  us  OK: 200 in 1ms","ok":false,"error":"boom\r\u001b[2K"}`)))
	huge := hostileLocation(t, envelope([]byte(`{"url":"x","code":200,"ok":true,"error":"`+strings.Repeat("x", 1<<20)+`"}`)))
	f := remoteFlags{spec: fanout.Spec{From: []string{"eu=" + forged, "us=" + huge}}, timeout: 5 * time.Second}
	var out, errOut bytes.Buffer
	f.checkFrom(context.Background(), []string{"http://example.com/"}, "200-399", time.Second, "text", &out, &errOut)
	if strings.ContainsAny(out.String(), "\x1b\r\u202e") {
		t.Errorf("control characters reach the terminal:\n%q", out.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 5 {
		t.Errorf("%d lines, want 5 (the URL, eu's verdict and error, us, the summary):\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), `first move: restart\n  us  OK`) {
		t.Errorf("the first move is not shown escaped:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "  us  no answer: the answer of ") || !strings.Contains(out.String(), "is over 65536 bytes") {
		t.Errorf("a 1 MiB report was taken:\n%.2000s", out.String())
	}
}

// TestCheckFromReadsTheEnvelope walks what a location may answer to a
// check: only the data of a success envelope is a report; anything else is
// "no answer" with a bounded message naming the location's endpoint and the
// answer's errorType and error.
func TestCheckFromReadsTheEnvelope(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		body []byte
		out  string // substring of the output
	}{
		{"success", 200, envelope([]byte(`{"url":"http://example.com/","code":200,"class":"2xx","ok":true,"duration_seconds":0.01}`)),
			"  eu  OK: 200 in 10ms\n"},
		{"error envelope", 404, []byte(`{"status":"error","errorType":"not_found","error":"ad-hoc checks are off on this exporter"}`),
			"/api/v1/check: HTTP 404 not_found: ad-hoc checks are off on this exporter\n"},
		{"error envelope with control characters", 403, []byte(`{"status":"error","errorType":"bad_data","error":"refused\n  eu  OK: 200\u001b[2K"}`),
			`/api/v1/check: HTTP 403 bad_data: refused\n  eu  OK: 200\x1b[2K` + "\n"},
		{"not JSON", 502, []byte("<html><h1>502 Bad Gateway</h1></html>\n"),
			"/api/v1/check: HTTP 502, not an API answer: <html><h1>502 Bad Gateway</h1></html>\n"},
		{"a bare report", 200, []byte(`{"url":"x","code":200,"ok":true}`),
			`/api/v1/check: HTTP 200, not an API answer: {"url":"x","code":200,"ok":true}` + "\n"},
		{"over 64 KiB", 200, envelope([]byte(`{"url":"x","code":200,"ok":true,"error":"` + strings.Repeat("x", fanout.MaxCheckAnswer) + `"}`)),
			"/api/v1/check is over 65536 bytes\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := hostileAnswer(t, tc.code, tc.body)
			f := remoteFlags{spec: fanout.Spec{From: []string{"eu=" + loc}}, timeout: 5 * time.Second}
			var out, errOut bytes.Buffer
			code := f.checkFrom(context.Background(), []string{"http://example.com/"}, "200-399", time.Second, "text", &out, &errOut)
			want := 1
			if tc.name == "success" {
				want = 0
			}
			if code != want || !strings.Contains(out.String(), tc.out) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%.1000s", code, want, tc.out, out.String())
			}
			if want == 1 && !strings.Contains(out.String(), "  eu  no answer: ") {
				t.Errorf("not shown as no answer:\n%.1000s", out.String())
			}
			if strings.ContainsAny(out.String(), "\x1b\r") {
				t.Errorf("control characters reach the terminal:\n%q", out.String())
			}
		})
	}
}
