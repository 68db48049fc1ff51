package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/fanout"
)

// Another exporter's answers are untrusted input of `status --from` and
// `check --from`: whatever a broken or hostile location sends, decoding it
// and printing the verdicts never panics, and the text output carries no
// control character a terminal would act on (colour, cursor, title escapes,
// bidi overrides), whatever the remote put in its names and reasons.

const statusSeed = `{"status":"success","data":{"location":"eu","generated_at":"2026-03-04T05:06:07Z","targets":[
{"name":"shop","url":"https://shop.example/","service":"shop","state":"down","up":false,
 "last_probe":{"code":502,"class":"gateway","owner":"app-infra"}},
{"name":"api","state":"up","up":true,"last_probe":{"code":200,"class":"2xx"}},
{"name":"db","state":"down","last_probe":{"code":0,"reason":"timeout","class":"timeout","owner":"db-api-owners"}}]}}`

const checkSeed = `{"status":"success","data":{"url":"https://shop.example/","location":"eu","code":503,"class":"capacity",
"owner":"sre-oncall","first_move":"saturation","ok":false,"duration_seconds":0.12,"phases_seconds":{"connect":0.01},
"retry_after_seconds":30,"error":""}}`

// remoteSeeds are answers every remote fuzz target starts from.
func remoteSeeds(f *testing.F, good string) {
	for _, s := range []struct {
		code int
		body string
	}{
		{200, good},
		{200, strings.ReplaceAll(good, `"eu"`, `"e\u001b[31mu"`)},
		{200, strings.ReplaceAll(good, `"shop"`, `"\u202eshop\u0007"`)},
		{200, strings.ReplaceAll(good, `"shop"`, "\"sh\xffop\"")},
		{200, `{"status":"success","data":{"targets":[{},{},{"last_probe":null}]}}`},
		{200, `{"status":"success","data":{"targets":{"name":"x"}}}`},
		{200, `{"status":"success","data":null}`},
		{200, `{"status":"success"}`},
		{200, `{"status":"success","data":{"code":-1,"phases_seconds":{"x":1e308}}}`},
		{400, `{"status":"error","errorType":"bad_data","error":"url: not allowed \u001b]0;pwned\u0007"}`},
		{429, `{"status":"error","errorType":"unavailable","error":"rate limited"}`},
		{503, `<html><body>503 Service Unavailable</body></html>`},
		{200, ``},
		{200, `[`},
		{200, `{"status":"success","data":{"targets":[` + strings.Repeat(`{"name":"t"},`, 200) + `{}]}}`},
		{302, `{"status":"success","data":{}}`},
	} {
		f.Add(s.code, []byte(s.body))
	}
}

// checkTerminalSafe fails on a control character in text output other than
// the newline and tab the printers write themselves.
func checkTerminalSafe(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		// termSafe writes each rune; invalid bytes come out as U+FFFD.
		t.Fatalf("output is not UTF-8: %q", out)
	}
	for _, r := range out {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
			t.Fatalf("output carries control character %U:\n%q", r, out)
		}
	}
}

// FuzzRemoteStatus: the answer of a location's /api/v1/status, as
// `status --from` decodes and prints it, next to a location that answered
// the seed document.
func FuzzRemoteStatus(f *testing.F) {
	remoteSeeds(f, statusSeed)
	base, _ := url.Parse("http://eu.example:10505")
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		var d remoteStatus
		err := fanout.Decode("http://eu.example:10505/api/v1/status", code, "2", body, &d)
		if err == nil && len(d.Targets) > maxRemoteTargets {
			t.Fatalf("%d targets decoded, limit %d", len(d.Targets), maxRemoteTargets)
		}
		var good remoteStatus
		if err := fanout.Decode("seed", 200, "", []byte(statusSeed), &good); err != nil {
			t.Fatal(err)
		}
		docs, errs := []*remoteStatus{&good, nil}, []error{nil, err}
		if err == nil {
			docs[1] = &d
		}
		locs := []fanout.Location{{Name: "us", Base: base}, {Name: "eu", Base: base}}
		m := newStatusMatrix(locs, docs, errs)
		var text bytes.Buffer
		m.print(&text)
		checkTerminalSafe(t, text.String())
		var js bytes.Buffer
		if !writeJSON(&js, io.Discard, "status", m) || !json.Valid(js.Bytes()) {
			t.Fatalf("JSON output failed or invalid: %q", js.String())
		}
	})
}

// FuzzRemoteCheck: the answer of a location's /api/v1/check, as
// `check --from` decodes it, judges it and prints it.
func FuzzRemoteCheck(f *testing.F) {
	remoteSeeds(f, checkSeed)
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		var rep adhoc.Report
		err := fanout.Decode("http://eu.example:10505/api/v1/check", code, "x", body, &rep)
		var re *fanout.RemoteError
		if asRemote(err, &re) && re.RetryAfter > 60e9 {
			t.Fatalf("Retry-After %v over a minute", re.RetryAfter)
		}
		cell := fanout.Cell{Location: "eu"}
		if err != nil {
			cell.Error = err.Error()
		} else {
			cell.Report = &rep
		}
		cells := [][]fanout.Cell{{cell, {Location: "us", Error: "unreachable"}}}
		out := fanout.JudgeChecks([]string{"https://shop.example/"}, cells)
		if len(out) != 1 || out[0].OK != (out[0].Verdict == fanout.VerdictOK) {
			t.Fatalf("judged %d URLs: %+v", len(out), out)
		}
		if out[0].Verdict == fanout.VerdictOK && (err != nil || !rep.OK) {
			t.Fatalf("verdict OK from a failed or refused check: %+v", out[0])
		}
		var text bytes.Buffer
		printRemoteCheck(&text, &out[0])
		checkTerminalSafe(t, text.String())
		var js bytes.Buffer
		if !writeJSON(&js, io.Discard, "check", out) || !json.Valid(js.Bytes()) {
			t.Fatalf("JSON output failed or invalid: %q", js.String())
		}
	})
}

func asRemote(err error, target **fanout.RemoteError) bool {
	re, ok := err.(*fanout.RemoteError)
	if ok {
		*target = re
	}
	return ok
}
