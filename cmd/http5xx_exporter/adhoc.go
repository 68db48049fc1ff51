package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/fanout"
)

// checkFrom runs `check URL... --from NAME=URL...`: every location's
// exporter checks every URL through its /api/v1/check (fanout.CheckAll),
// and each URL gets a verdict across locations like the status command's.
// Exit 0 when every URL is OK from every location that answered, 1
// otherwise, 2 on usage errors.
func (f *remoteFlags) checkFrom(ctx context.Context, urls []string, validCodes string, timeout time.Duration, output string, stdout, stderr io.Writer) int {
	locs, client, err := f.spec.Locations()
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
	from := make([]fanout.Checker, len(locs))
	for i, l := range locs {
		from[i] = &fanout.Remote{Loc: l, Client: client, Wait: f.timeout}
	}
	out := fanout.CheckAll(ctx, urls, validCodes, timeout, from)
	code := 0
	for _, r := range out {
		if !r.OK {
			code = 1
		}
	}
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

func printRemoteCheck(w io.Writer, rc *fanout.URLResult) {
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
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.Location, termSafe(verdict(checkReport{Report: *r})))
		if r.Error != "" {
			fmt.Fprintf(w, "  %-*s  error: %s\n", width, "", termSafe(r.Error))
		}
	}
	fmt.Fprintf(w, "  %s\n", termSafe(rc.Summary))
}
