package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/status"
)

// remoteCheck is one URL checked from every location.
type remoteCheck struct {
	URL     string            `json:"url"`
	Verdict string            `json:"verdict"`
	Failing []string          `json:"failing,omitempty"`
	Summary string            `json:"summary"`
	Results []remoteCheckCell `json:"results"`
}

// remoteCheckCell is one location's answer: a report, or why there is none
// (unreachable, ad-hoc checks off, refused by its guard, rate-limited).
type remoteCheckCell struct {
	Location string        `json:"location"`
	Report   *adhoc.Report `json:"report,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// maxCheckAnswer bounds one location's answer to one check: a report is a
// few hundred bytes, and every location's report of every URL is kept
// until the end.
const maxCheckAnswer = 64 << 10

// remoteAttempts bounds the tries of one check that a location answers
// with 429; each waits for the Retry-After it was given.
const remoteAttempts = 3

// checkFrom runs `check URL... --from NAME=URL...`: every location's
// exporter checks every URL through its /api/v1/check, and each URL gets a
// verdict across locations like the status command's. Exit 0 when every URL
// is OK from every location that answered, 1 otherwise, 2 on usage errors.
func (f *remoteFlags) checkFrom(ctx context.Context, urls []string, validCodes string, timeout time.Duration, output string, stdout, stderr io.Writer) int {
	locs, client, err := f.setup()
	if err != nil {
		fmt.Fprintf(stderr, "check: %v\n", err)
		return 2
	}
	for _, raw := range urls {
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fmt.Fprintf(stderr, "check: %q is not an http or https URL\n", raw)
			return 2
		}
	}
	cells := make([][]remoteCheckCell, len(urls)) // [url][location]
	for i := range cells {
		cells[i] = make([]remoteCheckCell, len(locs))
	}
	var wg sync.WaitGroup
	for j, l := range locs {
		wg.Add(1)
		go func() { // one location at a time per exporter: its rate limit is per exporter
			defer wg.Done()
			for i, raw := range urls {
				q := url.Values{"url": {raw}, "valid_status_codes": {validCodes}, "timeout": {timeout.String()}}
				cell := remoteCheckCell{Location: l.Name}
				var rep adhoc.Report
				if err := getWithRetry(ctx, &l, client, q, timeout+f.timeout, &rep); err != nil {
					cell.Error = err.Error()
				} else {
					cell.Report = &rep
				}
				cells[i][j] = cell
			}
		}()
	}
	wg.Wait()

	out, code := judgeChecks(urls, cells)
	if output == "json" {
		if !writeJSON(stdout, stderr, "check", out) {
			return 2
		}
		return code
	}
	for _, rc := range out {
		printRemoteCheck(stdout, &rc)
	}
	return code
}

// judgeChecks gives each URL its verdict across the locations' answers
// (cells[url][location]) and the exit code: 0 when every URL is OK.
func judgeChecks(urls []string, cells [][]remoteCheckCell) ([]remoteCheck, int) {
	out := make([]remoteCheck, len(urls))
	code := 0
	for i, raw := range urls {
		rc := remoteCheck{URL: raw, Results: cells[i]}
		mt := matrixTarget{Name: raw}
		answered := 0
		for _, c := range cells[i] {
			mc := matrixCell{Location: c.Location, State: cellUnreachable}
			if r := c.Report; r != nil {
				answered++
				mc.State, mc.Class, mc.Owner = status.StateUp, r.Class, r.Owner
				if !r.OK {
					mc.State = status.StateDown
					rc.Failing = append(rc.Failing, c.Location)
				}
			}
			mt.Results = append(mt.Results, mc)
		}
		mt.Failing = rc.Failing
		rc.Verdict = judge(len(rc.Failing), answered)
		mt.Verdict = rc.Verdict
		rc.Summary = verdictSummary(&mt, answered)
		if rc.Verdict == verdictUnknown {
			rc.Summary = "UNKNOWN: no location could check it"
		}
		if rc.Verdict != verdictOK {
			code = 1
		}
		out[i] = rc
	}
	return out, code
}

// getWithRetry asks l for one check, waiting out a 429's Retry-After up to
// remoteAttempts times.
func getWithRetry(ctx context.Context, l *remoteLocation, client *http.Client, q url.Values, timeout time.Duration, out *adhoc.Report) error {
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		err := l.get(rctx, client, adhoc.Path, q, maxCheckAnswer, out)
		cancel()
		var re *remoteError
		if !errors.As(err, &re) || re.Answer.Code != http.StatusTooManyRequests || attempt == remoteAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(re.RetryAfter):
		}
	}
}

func printRemoteCheck(w io.Writer, rc *remoteCheck) {
	fmt.Fprintln(w, rc.URL)
	width := 0
	for _, c := range rc.Results {
		width = max(width, len(c.Location))
	}
	for _, c := range rc.Results {
		r := c.Report
		if r == nil {
			fmt.Fprintf(w, "  %-*s  no answer: %s\n", width, c.Location, termSafe(c.Error))
			continue
		}
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.Location, termSafe(verdict(*r)))
		if r.Error != "" {
			fmt.Fprintf(w, "  %-*s  error: %s\n", width, "", termSafe(r.Error))
		}
	}
	fmt.Fprintf(w, "  %s\n", termSafe(rc.Summary))
}

// retryAfterOf reads a Retry-After of whole seconds, bounded to a minute.
func retryAfterOf(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return time.Second
	}
	return min(time.Duration(n)*time.Second, time.Minute)
}
