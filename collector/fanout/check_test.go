package fanout

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/api"
)

func TestJudge(t *testing.T) {
	tests := []struct {
		failing, answered int
		want              string
	}{
		{0, 0, VerdictUnknown},
		{0, 1, VerdictOK},
		{0, 5, VerdictOK},
		{1, 1, VerdictUnknown},
		{1, 2, VerdictLocal},
		{1, 5, VerdictLocal},
		{2, 2, VerdictGlobal},
		{2, 3, VerdictPartial},
		{4, 5, VerdictPartial},
		{5, 5, VerdictGlobal},
	}
	for _, tt := range tests {
		if got := Judge(tt.failing, tt.answered); got != tt.want {
			t.Errorf("Judge(%d failing of %d) = %s, want %s", tt.failing, tt.answered, got, tt.want)
		}
	}
}

func TestJudgeChecks(t *testing.T) {
	ok := &adhoc.Report{OK: true, Code: 200, Class: "2xx"}
	gw := &adhoc.Report{Code: 502, Class: "gateway", Owner: "app-infra"}
	slow := &adhoc.Report{Code: 504, Class: "timeout", Owner: "db-api-owners"}
	tests := []struct {
		name    string
		cells   []Cell
		verdict string
		summary string
	}{
		{"every location fine", []Cell{{Location: "eu", Report: ok}, {Location: "us", Report: ok}}, VerdictOK, "OK from 2 locations"},
		{"one of three", []Cell{{Location: "eu", Report: ok}, {Location: "us", Report: gw}, {Location: "ap", Report: ok}}, VerdictLocal,
			"LOCAL: fails only from us, fine elsewhere: likely that location's network or ISP"},
		{"two of three", []Cell{{Location: "eu", Report: gw}, {Location: "us", Report: gw}, {Location: "ap", Report: ok}}, VerdictPartial,
			"PARTIAL: fails from eu, us, fine elsewhere: a regional problem (CDN edge, DNS, routing)"},
		{"everywhere, one class", []Cell{{Location: "eu", Report: gw}, {Location: "us", Report: gw}}, VerdictGlobal,
			"GLOBAL: fails from every location: a real outage (gateway, owner app-infra)"},
		{"everywhere, classes differ", []Cell{{Location: "eu", Report: gw}, {Location: "us", Report: slow}}, VerdictGlobal,
			"GLOBAL: fails from every location: a real outage"},
		{"the only answer fails; no answer is not counted", []Cell{{Location: "eu", Report: gw}, {Location: "us", Error: "refused"}}, VerdictUnknown,
			"UNKNOWN: fails from eu, the only location with a result: its own network or an outage, no other location can tell"},
		{"no answer at all", []Cell{{Location: "eu", Error: "connection refused"}}, VerdictUnknown, "UNKNOWN: no location could check it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := JudgeChecks([]string{"https://shop.example/"}, [][]Cell{tt.cells})[0]
			if r.Verdict != tt.verdict || r.Summary != tt.summary || r.OK != (tt.verdict == VerdictOK) {
				t.Errorf("%s %q ok=%v, want %s %q", r.Verdict, r.Summary, r.OK, tt.verdict, tt.summary)
			}
		})
	}
}

// TestRemoteAttempts: a location over its rate limit is asked again after
// its Retry-After, Attempts times in all (3 by default).
func TestRemoteAttempts(t *testing.T) {
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Retry-After", "0")
		api.WriteError(w, http.StatusTooManyRequests, api.ErrUnavailable, "too many ad-hoc checks; try again later")
	}))
	defer srv.Close()
	loc, err := ParseLocation("eu=" + srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ attempts, want int }{{0, 3}, {1, 1}, {2, 2}} {
		asked.Store(0)
		r := &Remote{Loc: loc, Client: srv.Client(), Wait: 5 * time.Second, Attempts: tt.attempts}
		_, err := r.Check(context.Background(), "https://shop.example/", "", time.Second)
		var re *RemoteError
		if !errors.As(err, &re) || re.Answer.Code != http.StatusTooManyRequests || asked.Load() != int64(tt.want) {
			t.Errorf("Attempts %d: asked %d times, %v; want %d and the 429", tt.attempts, asked.Load(), err, tt.want)
		}
	}
}
