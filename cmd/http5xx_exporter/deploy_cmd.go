package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/http5xx/http5xx_exporter/collector/api"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/deploy"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
)

// deployCommand is `deploy`: record a deploy in a running exporter from a
// pipeline. Exit 0 when recorded (or already recorded), 1 when refused or
// the exporter stayed unreachable, 2 on usage errors.
type deployCommand struct {
	cmd         *kingpin.CmdClause
	urls        []string
	service     string
	version     string
	tokenFile   string
	timestamp   string
	environment string
	author      string
	id          string
	deployURL   string
	timeout     time.Duration
	retries     int
	// backoff is the wait before the first retry; it doubles per retry up
	// to maxBackoff. Tests shorten it.
	backoff time.Duration
}

const (
	deployAPIPath     = "/api/v1/deploys"
	maxBackoff        = 10 * time.Second
	maxRetryAfter     = 30 * time.Second
	maxAnswerBytes    = 64 << 10
	deployUsageFooter = " (try http5xx_exporter deploy --help)"
)

func newDeployCommand(app *kingpin.Application) *deployCommand {
	c := &deployCommand{backoff: 500 * time.Millisecond}
	c.cmd = app.Command("deploy", "Record a deploy in running exporters (for CI/CD pipelines). Retries on 5xx and connection errors with the same id, so a deploy is never recorded twice. Exit 0 when every exporter recorded it, 1 when one refused or stayed unreachable, 2 on usage errors.")
	c.cmd.Flag("url", "Base URL of an exporter, e.g. http://exporter:10505 (user:password@ for web basic auth); repeat it for every exporter (all locations, shards and replicas), which all get the same deploy id.").PlaceHolder("URL").StringsVar(&c.urls)
	c.cmd.Flag("service", "Service that was deployed (required).").StringVar(&c.service)
	c.cmd.Flag(deployVersionFlag, "Version that was deployed (required); also accepted as --version.").PlaceHolder("VERSION").StringVar(&c.version)
	c.cmd.Flag("token-file", "File whose first line is the bearer token.").PlaceHolder("FILE").StringVar(&c.tokenFile)
	c.cmd.Flag("timestamp", "When the deploy happened, RFC 3339 (default: when the exporter receives it).").PlaceHolder("RFC3339").StringVar(&c.timestamp)
	c.cmd.Flag("environment", "Environment deployed to, e.g. production.").StringVar(&c.environment)
	c.cmd.Flag("author", "Who deployed.").StringVar(&c.author)
	c.cmd.Flag("id", "Idempotency id; the same id is recorded once (default: generated).").StringVar(&c.id)
	c.cmd.Flag("deploy-url", "Link to the pipeline run or changelog.").PlaceHolder("URL").StringVar(&c.deployURL)
	c.cmd.Flag("timeout", "Timeout of each attempt.").Default("10s").DurationVar(&c.timeout)
	c.cmd.Flag("retries", "Retries after a 5xx answer or a connection error, with exponential backoff.").Default("5").IntVar(&c.retries)
	return c
}

// deployVersionFlag is the name kingpin knows --version by: the application
// owns --version (it prints the exporter's version), and kingpin refuses a
// command flag of the same name. deployArgs maps one to the other.
const deployVersionFlag = "service-version"

// deployArgs rewrites --version after the deploy command to
// --service-version, so `deploy --version V` works; main calls it on the
// arguments before app.Parse. Everything else is left alone, including
// --version before the command and arguments after "--".
func deployArgs(args []string) []string {
	out := slices.Clone(args)
	in := false
	for i, a := range out {
		switch {
		case a == "--":
			return out
		case !in:
			in = a == "deploy"
		case a == "--version":
			out[i] = "--" + deployVersionFlag
		case strings.HasPrefix(a, "--version="):
			out[i] = "--" + deployVersionFlag + strings.TrimPrefix(a, "--version")
		}
	}
	return out
}

// FullCommand is the name app.Parse returns for this command.
func (c *deployCommand) FullCommand() string { return c.cmd.FullCommand() }

// flagOf maps a request field to the flag that sets it.
var flagOf = map[string]string{
	"service": "--service", "version": "--version", "timestamp": "--timestamp",
	"environment": "--environment", "url": "--deploy-url", "author": "--author", "id": "--id",
}

func (c *deployCommand) run(ctx context.Context, stdout, stderr io.Writer) int {
	endpoints, body, token, err := c.prepare()
	if err != nil {
		fmt.Fprintf(stderr, "http5xx_exporter deploy: %v%s\n", err, deployUsageFooter)
		return 2
	}
	// An answer that switches protocols (101) is refused unread, and every
	// attempt, its answer's body included, ends within --timeout.
	client := fetch.BoundedClient(http.DefaultTransport.(*http.Transport).Clone(), c.timeout, sameOrigin)
	defer client.CloseIdleConnections()
	if len(endpoints) == 1 {
		return c.deliver(ctx, client, endpoints[0], "", token, body, stdout, stderr)
	}

	// Every exporter at once, each with its own retries; the output is
	// printed per exporter, in the order of --url.
	type result struct {
		code        int
		out, errOut bytes.Buffer
	}
	results := make([]result, len(endpoints))
	var wg sync.WaitGroup
	for i, e := range endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.code = c.deliver(ctx, client, e, " at "+redacted(e), token, body, &r.out, &r.errOut)
		}()
	}
	wg.Wait()
	code, recorded := 0, 0
	for i := range results {
		r := &results[i]
		_, _ = stdout.Write(r.out.Bytes())
		_, _ = stderr.Write(r.errOut.Bytes())
		if r.code == 0 {
			recorded++
		}
		code = max(code, r.code)
	}
	if code != 0 {
		fmt.Fprintf(stderr, "http5xx_exporter deploy: recorded by %d of %d exporters; run it again with the same --id for the others\n", recorded, len(endpoints))
	}
	return code
}

// deliver records the deploy in one exporter, with retries; where, when
// set, names the exporter in the success line.
func (c *deployCommand) deliver(ctx context.Context, client *http.Client, endpoint, where, token string, body []byte, stdout, stderr io.Writer) int {
	for attempt := 0; ; attempt++ {
		ans, err := c.post(ctx, client, endpoint, token, body)
		var why string
		var retryAfter time.Duration
		switch {
		case err != nil:
			why = err.Error()
		case ans.code/100 == 3 && ans.location != "":
			fmt.Fprintf(stderr, "http5xx_exporter deploy: HTTP %d from %s redirects to %s; not followed with the credentials: point --url at the exporter\n",
				ans.code, redacted(endpoint), redacted(ans.location))
			return 1
		case ans.err == nil:
			verb := "recorded"
			if ans.code == http.StatusOK { // 200, not 201: the id was already stored
				verb = "already recorded"
			}
			fmt.Fprintf(stdout, "deploy %s%s: service %s version %s id %s\n", verb, where, termSafe(ans.event.Service), termSafe(ans.event.Version), termSafe(ans.event.ID))
			return 0
		case ans.code/100 == 2:
			fmt.Fprintf(stderr, "http5xx_exporter deploy: %s: %s; check --url\n", redacted(endpoint), termSafe(ans.err.Error()))
			return 1
		case ans.code < 500:
			fmt.Fprintf(stderr, "http5xx_exporter deploy: refused by %s: %s\n", redacted(endpoint), termSafe(ans.err.Error()))
			return 1
		default:
			why = fmt.Sprintf("%s: %s", redacted(endpoint), termSafe(ans.err.Error()))
			retryAfter = ans.retryAfter
		}
		if attempt >= c.retries || ctx.Err() != nil {
			fmt.Fprintf(stderr, "http5xx_exporter deploy: not recorded after %d attempts: %s\n", attempt+1, why)
			return 1
		}
		wait := c.wait(attempt, retryAfter)
		fmt.Fprintf(stderr, "http5xx_exporter deploy: attempt %d failed (%s); retrying in %s\n", attempt+1, why, wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "http5xx_exporter deploy: not recorded: %v\n", ctx.Err())
			return 1
		case <-time.After(wait):
		}
	}
}

// prepare checks the flags and builds the request: everything that can be
// wrong before talking to the exporters is a usage error.
func (c *deployCommand) prepare() (endpoints []string, body []byte, token string, err error) {
	if len(c.urls) == 0 {
		return nil, nil, "", errors.New("--url is required")
	}
	for _, raw := range c.urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, "", fmt.Errorf("--url %q is not an http(s) URL such as http://exporter:10505", redacted(raw))
		}
		if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), deployAPIPath) {
			u.Path = strings.TrimSuffix(u.Path, "/") + deployAPIPath
		}
		if slices.Contains(endpoints, u.String()) {
			return nil, nil, "", fmt.Errorf("--url %s is given twice", redacted(u.String()))
		}
		endpoints = append(endpoints, u.String())
	}
	if c.service == "" {
		return nil, nil, "", errors.New("--service is required")
	}
	if c.version == "" {
		return nil, nil, "", errors.New("--version is required")
	}
	if c.timeout <= 0 {
		return nil, nil, "", errors.New("--timeout must be positive")
	}
	if c.retries < 0 {
		return nil, nil, "", errors.New("--retries must not be negative")
	}
	if c.tokenFile != "" {
		if token, err = readToken(c.tokenFile); err != nil {
			return nil, nil, "", err
		}
	}
	id := c.id
	if id == "" {
		// One id for every attempt: a retry after a lost answer is
		// recognised by the exporter instead of recorded again.
		id = "cli-" + rand.Text()
	}
	req := deploy.Request{
		Service: c.service, Version: c.version, Timestamp: c.timestamp,
		Environment: c.environment, URL: c.deployURL, Author: c.author, ID: id,
	}
	body, err = json.Marshal(req)
	if err != nil {
		return nil, nil, "", err
	}
	if _, err := deploy.ParseRequest(body, time.Now()); err != nil {
		var fe *deploy.FieldError
		if errors.As(err, &fe) && flagOf[fe.Field] != "" {
			return nil, nil, "", fmt.Errorf("%s: %s", flagOf[fe.Field], fe.Reason)
		}
		return nil, nil, "", err
	}
	return endpoints, body, token, nil
}

// redacted hides the password of a URL with user:password@ and the values
// of secret query parameters (config.DefaultRedactQueryParams).
func redacted(raw string) string { return config.RedactURL(raw, nil) }

// readToken returns the first token of a token file (same format as the
// exporter's --deploy.token-file).
func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return line, nil
		}
	}
	return "", fmt.Errorf("--token-file %s holds no token", path)
}

// sameOrigin follows a redirect only within the exporter at --url (same
// scheme, host and port). net/http would send the Authorization header to
// any port and scheme of the same host, plain http included.
func sameOrigin(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if len(via) >= 10 || req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return http.ErrUseLastResponse
	}
	return nil
}

// answer is what one attempt got back.
type answer struct {
	code       int
	retryAfter time.Duration
	location   string       // of a redirect that was not followed
	event      deploy.Event // the data of a success
	// err is why the answer is not a recorded deploy: the exporter's error
	// envelope, or whatever else answered (a proxy's error page, a wrong
	// --url); nil on success.
	err error
}

func (c *deployCommand) post(ctx context.Context, client *http.Client, endpoint, token string, body []byte) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "http5xx_exporter-deploy")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fetch.RedactError(err, nil)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", fetch.RedactError(err, nil))
	}
	a := &answer{code: resp.StatusCode}
	if resp.StatusCode/100 == 3 {
		if loc, err := resp.Location(); err == nil {
			a.location = loc.String()
		}
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		a.retryAfter = min(time.Duration(s)*time.Second, maxRetryAfter)
	}
	if len(raw) > maxAnswerBytes {
		a.err = fmt.Errorf("HTTP %d, an answer over %d bytes", a.code, maxAnswerBytes)
		return a, nil
	}
	if _, a.err = api.Decode(a.code, raw, &a.event); a.err == nil && a.event.ID == "" {
		a.err = fmt.Errorf("HTTP %d, a success without a deploy event", a.code)
	}
	return a, nil
}

// wait is the pause before retry number attempt+1: exponential with
// jitter, or the server's Retry-After when it is longer.
func (c *deployCommand) wait(attempt int, retryAfter time.Duration) time.Duration {
	d := c.backoff << min(attempt, 20)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	d = d/2 + mrand.N(d/2+1) // spread retries of parallel pipelines
	return max(d, retryAfter)
}
