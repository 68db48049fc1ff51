package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"

	"github.com/http5xx/http5xx_exporter/collector/adhoc"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// checkCommand is `check URL...`: one probe per URL, a verdict per URL.
type checkCommand struct {
	cmd         *kingpin.CmdClause
	urls        []string
	configFile  string
	timeout     time.Duration
	method      string
	headers     map[string]string
	validCodes  string
	noRedirects bool
	insecure    bool
	http2       bool
	ipFamily    string
	location    string
	output      string
	remote      remoteFlags
}

func newCheckCommand(app *kingpin.Application) *checkCommand {
	c := &checkCommand{headers: map[string]string{}} // kingpin's StringMapVar writes into the map it is given
	c.cmd = app.Command("check", "Probe URLs once and print code, class, owner, phases and a verdict. Exit 0 when every URL met its valid codes, 1 when one did not, 2 on usage or config errors.")
	c.cmd.Arg("url", "http(s) URLs to probe.").Required().StringsVar(&c.urls)
	c.cmd.Flag("config.file", "Take the error-class table (and fingerprint rules) from this config file instead of the defaults.").StringVar(&c.configFile)
	c.cmd.Flag("timeout", "Timeout of each probe.").Default("10s").DurationVar(&c.timeout)
	c.cmd.Flag("method", "HTTP method.").Default("GET").StringVar(&c.method)
	c.cmd.Flag("header", "Request header NAME=VALUE (repeatable).").StringMapVar(&c.headers)
	c.cmd.Flag("valid-status-codes", "Codes that count as success, e.g. 200-399,404.").Default("200-399").StringVar(&c.validCodes)
	c.cmd.Flag("no-follow-redirects", "Report a 3xx instead of following it.").BoolVar(&c.noRedirects)
	c.cmd.Flag("insecure", "Do not verify the server's certificate.").BoolVar(&c.insecure)
	c.cmd.Flag("http2", "Offer HTTP/2 (ALPN over TLS, prior knowledge over http://), as a target's http2: true.").BoolVar(&c.http2)
	c.cmd.Flag("ip-family", "Connect over any family, or ip4 or ip6 only, as a target's ip_family.").Default(contract.FamilyAny).EnumVar(&c.ipFamily, contract.IPFamilies()...)
	c.cmd.Flag("location", "Location sent in the X-Http5xx-Probe header.").StringVar(&c.location)
	c.cmd.Flag("output", "Output format.").Short('o').Default("text").EnumVar(&c.output, "text", "json")
	c.remote.register(c.cmd, "remote.timeout")
	return c
}

// checkReport is one URL's outcome: the same fields as an ad-hoc check's
// report (so local and --from output share their names) plus the verdict.
type checkReport struct {
	adhoc.Report
	// DefaultOwner is the default owner that Owner replaces when the URL is a
	// configured target that names its own team for the class (the
	// status API's default_owner); omitted otherwise.
	DefaultOwner string `json:"default_owner,omitempty"`
	Verdict      string `json:"verdict"`
}

func (c *checkCommand) run(ctx context.Context, stdout, stderr io.Writer) int {
	if c.remote.used() {
		if c.configFile != "" || c.method != "GET" || len(c.headers) > 0 || c.noRedirects || c.insecure || c.location != "" || c.http2 || c.ipFamily != contract.FamilyAny {
			fmt.Fprintln(stderr, "check: with --from only --valid-status-codes, --timeout and --output apply; each location's exporter probes with its own settings")
			return 2
		}
		// Each location's exporter probes the URLs itself (GET /api/v1/check).
		return c.remote.checkFrom(ctx, c.urls, c.validCodes, c.timeout, c.output, stdout, stderr)
	}
	finisher := triage.Default()
	var cfg *config.Config
	if c.configFile != "" {
		var err error
		cfg, err = config.Load(c.configFile)
		if err == nil {
			finisher, err = triage.ForConfig(cfg)
		}
		if err != nil {
			fmt.Fprintf(stderr, "check: %v\n", err)
			return 2
		}
	}
	valid, err := config.ParseStatusCodes(c.validCodes)
	if err != nil {
		fmt.Fprintf(stderr, "check: --valid-status-codes: %v\n", err)
		return 2
	}
	follow := !c.noRedirects
	probers := make([]*probe.Prober, len(c.urls))
	targets := make([]*config.Target, len(c.urls))
	for i, raw := range c.urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fmt.Fprintf(stderr, "check: %q is not an http or https URL\n", raw)
			return 2
		}
		tv := config.NewTarget(fmt.Sprintf("check-%d", i+1), raw)
		t := &tv
		t.Method, t.Headers, t.ValidStatusCodes, t.FollowRedirects = c.method, c.headers, valid, &follow
		t.Interval, t.Timeout = model.Duration(c.timeout), model.Duration(c.timeout)
		t.TLS.InsecureSkipVerify = c.insecure
		t.HTTP2, t.IPFamily = c.http2, c.ipFamily
		if cfg != nil {
			t.Expect, t.RedactQueryParams, t.Teams = judgedAs(cfg, raw)
		}
		p, err := probe.New(t, probe.Options{Location: c.location, Version: version.Version, Finisher: finisher})
		if err != nil {
			fmt.Fprintf(stderr, "check: %s: %v\n", raw, err)
			return 2
		}
		defer p.Close()
		probers[i], targets[i] = p, t
	}

	reports := make([]checkReport, len(c.urls))
	var wg sync.WaitGroup
	for i, p := range probers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := p.Probe(ctx)
			// The URL as every output shows it: no password, no secret
			// query parameter (the prober redacts its errors alike).
			reports[i] = newCheckReport(config.RedactURL(c.urls[i], nil), c.location, &r, targets[i])
		}()
	}
	wg.Wait()

	code := 0
	for _, r := range reports {
		if !r.OK {
			code = 1
		}
	}
	if c.output == "json" {
		if !writeJSON(stdout, stderr, "check", reports) {
			return 2
		}
		return code
	}
	for _, r := range reports {
		printCheckReport(stdout, r)
	}
	return code
}

// judgedAs returns the expect conditions, secret query parameters and
// teams of the configured target whose URL is raw, else global.expect and
// the default owners: check judges a URL, and names the team to page, the way
// the exporter does.
func judgedAs(cfg *config.Config, raw string) ([]config.Condition, []string, []config.ClassTeam) {
	for i := range cfg.Targets {
		if t := &cfg.Targets[i]; t.URL == raw {
			return t.Expect, t.RedactQueryParams, t.Teams
		}
	}
	return cfg.Global.Expect, nil, nil
}

// newCheckReport reports r, a probe of t.
func newCheckReport(u, location string, r *probe.Result, t *config.Target) checkReport {
	rep := checkReport{Report: adhoc.NewReport(u, location, r)}
	if team, defaultOwner, ok := t.Team(r.Class); ok && team == r.Owner {
		rep.DefaultOwner = defaultOwner
	}
	rep.Verdict = verdict(rep)
	return rep
}

// verdict is the one line a person reads first.
func verdict(r checkReport) string {
	if r.OK {
		return fmt.Sprintf("OK: %d in %s", r.Code, fmtSeconds(r.Seconds))
	}
	what := fmt.Sprintf("HTTP %d", r.Code)
	switch {
	case r.Reason == contract.ReasonSoftError.String():
		what = fmt.Sprintf("HTTP %d is an error all the same (%s): %s", r.Code, r.Reason, r.Error)
	case r.Reason != "":
		what = "no answer (" + r.Reason + ")"
	}
	s := fmt.Sprintf("%s: %s", strings.ToUpper(r.Class), what)
	if r.Layer != "" && r.Layer != "unknown" {
		s += fmt.Sprintf(" from the %s layer", strings.ReplaceAll(r.Layer, "_", " "))
		if r.Product != "" && r.Product != "unknown" {
			s += " (" + r.Product + ")"
		}
	}
	if r.Cause != "" {
		s += ": " + r.Cause
		if r.CodeClass != "" {
			s += " (the code alone says " + r.CodeClass + ")"
		}
	}
	if r.Owner != "" {
		s += "; owner " + r.Owner + classDefault(r.DefaultOwner)
	}
	if r.FirstMove != "" {
		s += "; first move: " + r.FirstMove
	}
	return s
}

// classDefault says which default owner a team replaces, "" when none.
func classDefault(defaultOwner string) string {
	if defaultOwner == "" {
		return ""
	}
	return " (class default " + defaultOwner + ")"
}

func printCheckReport(w io.Writer, r checkReport) {
	fmt.Fprintf(w, "%s\n", r.URL)
	code := fmt.Sprint(r.Code)
	switch {
	case r.Reason != "" && r.Code != 0:
		code += " (" + r.Reason + ")"
	case r.Reason != "":
		code = "- (" + r.Reason + ")"
	}
	fmt.Fprintf(w, "  code %s  class %s  owner %s%s", code, r.Class, orDash(r.Owner), classDefault(r.DefaultOwner))
	if r.Layer != "" {
		fmt.Fprintf(w, "  layer %s/%s", r.Layer, orDash(r.Product))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  total %s", fmtSeconds(r.Seconds))
	for p := contract.Phase(0); p < contract.NumPhases; p++ {
		if v, ok := r.Phases[p.String()]; ok {
			fmt.Fprintf(w, "  %s %s", p, fmtSeconds(v))
		}
	}
	fmt.Fprintln(w)
	if c := r.Connection.Summary(); c != "" {
		fmt.Fprintf(w, "  connection %s\n", c)
	}
	if c := r.Connection.CertSummary(time.Now()); c != "" {
		fmt.Fprintf(w, "  certificate %s\n", c)
	}
	if r.RetryAfter > 0 {
		fmt.Fprintf(w, "  retry-after %s\n", fmtSeconds(r.RetryAfter))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error %s\n", r.Error)
	}
	fmt.Fprintf(w, "  %s\n", r.Verdict)
}

// writeJSON prints v as indented JSON for --output json; on a write error it
// reports it as cmd's and returns false (the caller exits 2).
func writeJSON(stdout, stderr io.Writer, cmd string, v any) bool {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return false
	}
	return true
}

func fmtSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Microsecond).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
