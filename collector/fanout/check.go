package fanout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/config"
)

// The verdicts of a target or URL across locations.
const (
	VerdictOK      = "OK"      // no location sees it fail
	VerdictLocal   = "LOCAL"   // exactly one location sees it fail, others do not
	VerdictPartial = "PARTIAL" // several locations, not all
	VerdictGlobal  = "GLOBAL"  // every location with a result sees it fail, and there are at least two
	VerdictUnknown = "UNKNOWN" // no location has a result, or only one and it sees it fail
)

// Judge names the verdict from how many locations have a result and how
// many of those see a failure. Locations without a result are not counted
// either way. One location alone cannot tell its own network from an
// outage, so a failure seen by the only location with a result is
// UNKNOWN, never GLOBAL.
func Judge(failing, answered int) string {
	switch {
	case answered == 0, answered == 1 && failing == 1:
		return VerdictUnknown
	case failing == 0:
		return VerdictOK
	case failing == answered:
		return VerdictGlobal
	case failing == 1:
		return VerdictLocal
	default:
		return VerdictPartial
	}
}

// Summary is the sentence of a verdict: the failing locations, how many
// answered, and the class (and its owner) every failing location agrees
// on, "" when they do not.
func Summary(verdict string, failing []string, answered int, class, owner string) string {
	names := strings.Join(failing, ", ")
	switch verdict {
	case VerdictOK:
		return fmt.Sprintf("OK from %d location%s", answered, plural(answered))
	case VerdictLocal:
		return fmt.Sprintf("LOCAL: fails only from %s, fine elsewhere: likely that location's network or ISP", names)
	case VerdictPartial:
		return fmt.Sprintf("PARTIAL: fails from %s, fine elsewhere: a regional problem (CDN edge, DNS, routing)", names)
	case VerdictGlobal:
		s := "GLOBAL: fails from every location: a real outage"
		if class != "" {
			s += " (" + class
			if owner != "" {
				s += ", owner " + owner
			}
			s += ")"
		}
		return s
	default:
		if names != "" {
			return fmt.Sprintf("UNKNOWN: fails from %s, the only location with a result: its own network or an outage, no other location can tell", names)
		}
		return "UNKNOWN: no location has a result for it yet"
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// A Checker checks a URL from one location.
type Checker interface {
	Location() string
	// Check checks raw once; validCodes is as valid_status_codes ("" for
	// 200-399). An error means no report: unreachable, refused, off.
	Check(ctx context.Context, raw, validCodes string, timeout time.Duration) (adhoc.Report, error)
}

// MaxCheckAnswer bounds one location's answer to one check: a report is a
// few hundred bytes, and every location's report of every URL is kept
// until the end.
const MaxCheckAnswer = 64 << 10

// remoteAttempts is the default bound on the tries of one check that a
// location answers with 429; each waits for the Retry-After it was given.
const remoteAttempts = 3

// Remote checks through a location's exporter (GET /api/v1/check): that
// exporter's allow-list, rate limit and auth apply.
type Remote struct {
	Loc    Location
	Client *http.Client
	// Wait is how long to wait for the location on top of the check's
	// timeout.
	Wait time.Duration
	// Attempts bounds the tries when the location answers 429; 0 means 3.
	// A page that a person waits for makes one: the 429 is the answer.
	Attempts int
}

// Location is the location's name.
func (r *Remote) Location() string { return r.Loc.Name }

// Check asks the location, waiting out a 429's Retry-After up to
// Attempts times.
func (r *Remote) Check(ctx context.Context, raw, validCodes string, timeout time.Duration) (adhoc.Report, error) {
	attempts := r.Attempts
	if attempts <= 0 {
		attempts = remoteAttempts
	}
	q := url.Values{"url": {raw}, "valid_status_codes": {validCodes}, "timeout": {timeout.String()}}
	if validCodes == "" {
		q.Del("valid_status_codes")
	}
	if timeout <= 0 {
		q.Del("timeout") // the location's own
	}
	for attempt := 1; ; attempt++ {
		var rep adhoc.Report
		rctx, cancel := context.WithTimeout(ctx, timeout+r.Wait)
		err := r.Loc.Get(rctx, r.Client, adhoc.Path, q, MaxCheckAnswer, &rep)
		cancel()
		var re *RemoteError
		if err == nil {
			return rep, nil
		}
		if !errors.As(err, &re) || re.Answer.Code != http.StatusTooManyRequests || attempt >= attempts {
			return adhoc.Report{}, err
		}
		select {
		case <-ctx.Done():
			return adhoc.Report{}, err
		case <-time.After(re.RetryAfter):
		}
	}
}

// Local checks in this process, through this exporter's adhoc.Checker (its
// guard; the caller took the rate limit's token with Admit).
type Local struct {
	Name    string
	Checker *adhoc.Checker
}

// Location is the location's name.
func (l *Local) Location() string { return l.Name }

// Check runs the check here.
func (l *Local) Check(ctx context.Context, raw, validCodes string, timeout time.Duration) (adhoc.Report, error) {
	var valid config.StatusCodes
	if validCodes != "" {
		var err error
		if valid, err = config.ParseStatusCodes(validCodes); err != nil {
			return adhoc.Report{}, err
		}
	}
	return l.Checker.Check(ctx, raw, valid, timeout)
}

// URLResult is one URL checked from every location.
type URLResult struct {
	URL     string   `json:"url"`
	Verdict string   `json:"verdict"`
	Failing []string `json:"failing,omitempty"`
	Summary string   `json:"summary"`
	Results []Cell   `json:"results"`
	// OK is true when the verdict is OK.
	OK bool `json:"-"`
}

// Cell is one location's answer: a report, or why there is none
// (unreachable, ad-hoc checks off, refused by its guard, rate-limited).
type Cell struct {
	Location string        `json:"location"`
	Report   *adhoc.Report `json:"report,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// CheckAll checks every URL from every location at once (one URL at a time
// per location: a location's rate limit is per exporter) and judges each
// URL across the locations' answers.
func CheckAll(ctx context.Context, urls []string, validCodes string, timeout time.Duration, from []Checker) []URLResult {
	cells := make([][]Cell, len(urls)) // [url][location]
	for i := range cells {
		cells[i] = make([]Cell, len(from))
	}
	var wg sync.WaitGroup
	for j, c := range from {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, raw := range urls {
				cell := Cell{Location: c.Location()}
				if rep, err := c.Check(ctx, raw, validCodes, timeout); err != nil {
					cell.Error = err.Error()
				} else {
					cell.Report = &rep
				}
				cells[i][j] = cell
			}
		}()
	}
	wg.Wait()
	return JudgeChecks(urls, cells)
}

// JudgeChecks gives each URL its verdict across the locations' answers
// (cells[url][location]).
func JudgeChecks(urls []string, cells [][]Cell) []URLResult {
	out := make([]URLResult, len(urls))
	for i, raw := range urls {
		r := URLResult{URL: raw, Results: cells[i]}
		answered := 0
		class, owner, agree := "", "", true
		for _, c := range cells[i] {
			rep := c.Report
			if rep == nil {
				continue
			}
			answered++
			if rep.OK {
				continue
			}
			r.Failing = append(r.Failing, c.Location)
			if len(r.Failing) == 1 {
				class, owner = rep.Class, rep.Owner
			} else if rep.Class != class {
				agree = false
			}
		}
		if !agree {
			class, owner = "", ""
		}
		r.Verdict = Judge(len(r.Failing), answered)
		r.OK = r.Verdict == VerdictOK
		r.Summary = Summary(r.Verdict, r.Failing, answered, class, owner)
		if answered == 0 {
			r.Summary = "UNKNOWN: no location could check it"
		}
		out[i] = r
	}
	return out
}
