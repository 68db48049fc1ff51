package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/http5xx/http5xx_exporter/collector/deploy"
)

// deployCommand is `deploy`: record a deploy in a running exporter from a
// pipeline. Exit 0 when recorded (or already recorded), 1 when refused or
// the exporter stayed unreachable, 2 on usage errors.
type deployCommand struct {
	cmd *kingpin.CmdClause
	writeClient
	service     string
	version     string
	timestamp   string
	environment string
	author      string
	id          string
	deployURL   string
}

const deployAPIPath = "/api/v1/deploys"

func newDeployCommand(app *kingpin.Application) *deployCommand {
	c := &deployCommand{writeClient: newWriteClient("deploy")}
	c.cmd = app.Command("deploy", "Record a deploy in running exporters (for CI/CD pipelines). Retries on 5xx and connection errors with the same id, so a deploy is never recorded twice. Exit 0 when every exporter recorded it, 1 when one refused or stayed unreachable, 2 on usage errors.")
	c.writeClient.urlFlag(c.cmd, "deploy")
	c.cmd.Flag("service", "Service that was deployed (required).").StringVar(&c.service)
	c.cmd.Flag(deployVersionFlag, "Version that was deployed (required); also accepted as --version.").PlaceHolder("VERSION").StringVar(&c.version)
	c.cmd.Flag("timestamp", "When the deploy happened, RFC 3339 (default: when the exporter receives it).").PlaceHolder("RFC3339").StringVar(&c.timestamp)
	c.cmd.Flag("environment", "Environment deployed to, e.g. production.").StringVar(&c.environment)
	c.cmd.Flag("author", "Who deployed.").StringVar(&c.author)
	c.cmd.Flag("id", "Idempotency id; the same id is recorded once (default: generated).").StringVar(&c.id)
	c.cmd.Flag("deploy-url", "Link to the pipeline run or changelog.").PlaceHolder("URL").StringVar(&c.deployURL)
	c.writeClient.flags(c.cmd)
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
		return c.usage(stderr, err)
	}
	return c.send(ctx, endpoints, token, writeOp{method: http.MethodPost, body: body, success: deploySuccess}, stdout, stderr)
}

// deploySuccess reads a recorded deploy from a 2xx answer's data.
func deploySuccess(code int, data json.RawMessage, where string) (string, error) {
	var ev deploy.Event
	if err := json.Unmarshal(data, &ev); err != nil || ev.ID == "" {
		return "", fmt.Errorf("HTTP %d, a success without a deploy event", code)
	}
	verb := "recorded"
	if code == http.StatusOK { // 200, not 201: the id was already stored
		verb = "already recorded"
	}
	return fmt.Sprintf("deploy %s%s: service %s version %s id %s", verb, where, termSafe(ev.Service), termSafe(ev.Version), termSafe(ev.ID)), nil
}

// prepare checks the flags and builds the request: everything that can be
// wrong before talking to the exporters is a usage error.
func (c *deployCommand) prepare() (endpoints []string, body []byte, token string, err error) {
	if endpoints, err = c.endpoints(deployAPIPath); err != nil {
		return nil, nil, "", err
	}
	if c.service == "" {
		return nil, nil, "", errors.New("--service is required")
	}
	if c.version == "" {
		return nil, nil, "", errors.New("--version is required")
	}
	if token, err = c.token(); err != nil {
		return nil, nil, "", err
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
