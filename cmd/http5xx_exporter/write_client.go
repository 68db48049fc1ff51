package main

import (
	"bytes"
	"context"
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
	"github.com/http5xx/http5xx_exporter/collector/fetch"
)

const (
	maxBackoff     = 10 * time.Second
	maxRetryAfter  = 30 * time.Second
	maxAnswerBytes = 64 << 10
)

// writeClient is what the commands that write to running exporters
// (deploy, maintenance) share: the exporters (--url, repeatable), the
// token, the timeout and the retries with the same request, so a retry
// after a lost answer is recognised by its id.
type writeClient struct {
	name      string // the command, for messages
	urls      []string
	tokenFile string
	timeout   time.Duration
	retries   int
	// backoff is the wait before the first retry; it doubles per retry up
	// to maxBackoff. Tests shorten it.
	backoff time.Duration
}

func newWriteClient(name string) writeClient {
	return writeClient{name: name, backoff: 500 * time.Millisecond}
}

func (c *writeClient) urlFlag(cmd *kingpin.CmdClause, what string) {
	cmd.Flag("url", "Base URL of an exporter, e.g. http://exporter:10505 (user:password@ for web basic auth); repeat it for every exporter (all locations, shards and replicas), which all get the same "+what+" id.").PlaceHolder("URL").StringsVar(&c.urls)
}

func (c *writeClient) flags(cmd *kingpin.CmdClause) {
	cmd.Flag("token-file", "File whose first line is the bearer token.").PlaceHolder("FILE").StringVar(&c.tokenFile)
	cmd.Flag("timeout", "Timeout of each attempt.").Default("10s").DurationVar(&c.timeout)
	cmd.Flag("retries", "Retries after a 5xx answer or a connection error, with exponential backoff.").Default("5").IntVar(&c.retries)
}

func (c *writeClient) usage(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "http5xx_exporter %s: %v (try http5xx_exporter %s --help)\n", c.name, err, c.name)
	return 2
}

// endpoints checks --url, --timeout and --retries and returns the API URL
// of every exporter.
func (c *writeClient) endpoints(apiPath string) ([]string, error) {
	if len(c.urls) == 0 {
		return nil, errors.New("--url is required")
	}
	var endpoints []string
	for _, raw := range c.urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--url %q is not an http(s) URL such as http://exporter:10505", redacted(raw))
		}
		if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), apiPath) {
			u.Path = strings.TrimSuffix(u.Path, "/") + apiPath
		}
		if slices.Contains(endpoints, u.String()) {
			return nil, fmt.Errorf("--url %s is given twice", redacted(u.String()))
		}
		endpoints = append(endpoints, u.String())
	}
	if c.timeout <= 0 {
		return nil, errors.New("--timeout must be positive")
	}
	if c.retries < 0 {
		return nil, errors.New("--retries must not be negative")
	}
	return endpoints, nil
}

// token reads --token-file; empty without one.
func (c *writeClient) token() (string, error) {
	if c.tokenFile == "" {
		return "", nil
	}
	return readToken(c.tokenFile)
}

// writeOp is one request to send to every exporter.
type writeOp struct {
	method string
	query  string // added to the endpoint, without "?"
	body   []byte // JSON; nil for none
	// success reads the data of a 2xx answer and returns the line to
	// print (where names the exporter when there are several), or why the
	// answer is not what was asked for.
	success func(code int, data json.RawMessage, where string) (string, error)
}

// send delivers op to every exporter at once, each with its own retries;
// the output is printed per exporter, in the order of --url. Exit 0 when
// every exporter took it, 1 otherwise.
func (c *writeClient) send(ctx context.Context, endpoints []string, token string, op writeOp, stdout, stderr io.Writer) int {
	// An answer that switches protocols (101) is refused unread, and every
	// attempt, its answer's body included, ends within --timeout.
	client := fetch.BoundedClient(http.DefaultTransport.(*http.Transport).Clone(), c.timeout, sameOrigin)
	defer client.CloseIdleConnections()
	if len(endpoints) == 1 {
		return c.deliver(ctx, client, endpoints[0], "", token, op, stdout, stderr)
	}
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
			r.code = c.deliver(ctx, client, e, " at "+redacted(e), token, op, &r.out, &r.errOut)
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
		fmt.Fprintf(stderr, "http5xx_exporter %s: recorded by %d of %d exporters; run it again with the same --id for the others\n", c.name, recorded, len(endpoints))
	}
	return code
}

// deliver sends op to one exporter, with retries; where, when set, names
// the exporter in the success line.
func (c *writeClient) deliver(ctx context.Context, client *http.Client, endpoint, where, token string, op writeOp, stdout, stderr io.Writer) int {
	for attempt := 0; ; attempt++ {
		ans, err := c.do(ctx, client, endpoint, token, op, where)
		var why string
		var retryAfter time.Duration
		switch {
		case err != nil:
			why = err.Error()
		case ans.code/100 == 3 && ans.location != "":
			fmt.Fprintf(stderr, "http5xx_exporter %s: HTTP %d from %s redirects to %s; not followed with the credentials: point --url at the exporter\n",
				c.name, ans.code, redacted(endpoint), redacted(ans.location))
			return 1
		case ans.err == nil:
			fmt.Fprintln(stdout, ans.line)
			return 0
		case ans.code/100 == 2:
			fmt.Fprintf(stderr, "http5xx_exporter %s: %s: %s; check --url\n", c.name, redacted(endpoint), termSafe(ans.err.Error()))
			return 1
		case ans.code < 500:
			fmt.Fprintf(stderr, "http5xx_exporter %s: refused by %s: %s\n", c.name, redacted(endpoint), termSafe(ans.err.Error()))
			return 1
		default:
			why = fmt.Sprintf("%s: %s", redacted(endpoint), termSafe(ans.err.Error()))
			retryAfter = ans.retryAfter
		}
		if attempt >= c.retries || ctx.Err() != nil {
			fmt.Fprintf(stderr, "http5xx_exporter %s: not recorded after %d attempts: %s\n", c.name, attempt+1, why)
			return 1
		}
		wait := c.wait(attempt, retryAfter)
		fmt.Fprintf(stderr, "http5xx_exporter %s: attempt %d failed (%s); retrying in %s\n", c.name, attempt+1, why, wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "http5xx_exporter %s: not recorded: %v\n", c.name, ctx.Err())
			return 1
		case <-time.After(wait):
		}
	}
}

// answer is what one attempt got back.
type answer struct {
	code       int
	retryAfter time.Duration
	location   string // of a redirect that was not followed
	line       string // what to print for a success
	// err is why the answer is not a success: the exporter's error
	// envelope, or whatever else answered (a proxy's error page, a wrong
	// --url); nil on success.
	err error
}

func (c *writeClient) do(ctx context.Context, client *http.Client, endpoint, token string, op writeOp, where string) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if op.query != "" {
		endpoint += "?" + op.query
	}
	var body io.Reader
	if op.body != nil {
		body = bytes.NewReader(op.body)
	}
	req, err := http.NewRequestWithContext(ctx, op.method, endpoint, body)
	if err != nil {
		return nil, err
	}
	if op.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "http5xx_exporter-"+c.name)
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
	var data json.RawMessage
	if _, a.err = api.Decode(a.code, raw, &data); a.err == nil {
		a.line, a.err = op.success(a.code, data, where)
	}
	return a, nil
}

// wait is the pause before retry number attempt+1: exponential with
// jitter, or the server's Retry-After when it is longer.
func (c *writeClient) wait(attempt int, retryAfter time.Duration) time.Duration {
	d := c.backoff << min(attempt, 20)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	d = d/2 + mrand.N(d/2+1) // spread retries of parallel pipelines
	return max(d, retryAfter)
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
