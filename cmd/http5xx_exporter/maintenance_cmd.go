package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/http5xx/http5xx_exporter/collector/deploy"
)

// maintenanceCommand is `maintenance`: open, end early or list maintenance
// windows of a service in running exporters, with the deploy command's
// delivery (every --url, retries with one id). Exit codes as deploy.
type maintenanceCommand struct {
	cmd *kingpin.CmdClause
	writeClient
	service  string
	start    string
	end      string
	duration time.Duration
	reason   string
	id       string
	endNow   bool
	list     bool
}

func newMaintenanceCommand(app *kingpin.Application) *maintenanceCommand {
	c := &maintenanceCommand{writeClient: newWriteClient("maintenance")}
	c.cmd = app.Command("maintenance", "Open a maintenance window of a service in running exporters (rules hold back its 503 alerts inside it), end one early (--end-now --id), or list them (--list). Exit 0 when every exporter took it, 1 when one refused or stayed unreachable, 2 on usage errors.")
	c.writeClient.urlFlag(c.cmd, "window")
	c.cmd.Flag("service", "Service in maintenance.").StringVar(&c.service)
	c.cmd.Flag("start", "When the window starts, RFC 3339 (default: now).").PlaceHolder("RFC3339").StringVar(&c.start)
	c.cmd.Flag("end", "When the window ends, RFC 3339; or give --duration.").PlaceHolder("RFC3339").StringVar(&c.end)
	c.cmd.Flag("duration", "How long the window lasts from its start (at most 7 days).").DurationVar(&c.duration)
	c.cmd.Flag("reason", "Why, for whoever is paged next (required).").StringVar(&c.reason)
	c.cmd.Flag("id", "Idempotency id, and the handle of --end-now (default: generated).").StringVar(&c.id)
	c.cmd.Flag("end-now", "End the window --id now.").BoolVar(&c.endNow)
	c.cmd.Flag("list", "List current and upcoming windows.").BoolVar(&c.list)
	c.writeClient.flags(c.cmd)
	return c
}

// FullCommand is the name app.Parse returns for this command.
func (c *maintenanceCommand) FullCommand() string { return c.cmd.FullCommand() }

// windowFlagOf maps a request field to the flag that sets it.
var windowFlagOf = map[string]string{
	"service": "--service", "start": "--start", "end": "--end", "duration": "--duration", "reason": "--reason", "id": "--id",
}

func (c *maintenanceCommand) run(ctx context.Context, stdout, stderr io.Writer) int {
	endpoints, err := c.endpoints(deploy.MaintenancePath)
	if err != nil {
		return c.usage(stderr, err)
	}
	token, err := c.token()
	if err != nil {
		return c.usage(stderr, err)
	}
	op, err := c.op()
	if err != nil {
		return c.usage(stderr, err)
	}
	return c.send(ctx, endpoints, token, op, stdout, stderr)
}

// op checks the flags of the chosen action and builds its request.
func (c *maintenanceCommand) op() (writeOp, error) {
	openFlags := c.service != "" || c.start != "" || c.end != "" || c.duration != 0 || c.reason != ""
	switch {
	case c.list && (c.endNow || openFlags || c.id != ""):
		return writeOp{}, errors.New("--list takes no other window flag")
	case c.list:
		return writeOp{method: http.MethodGet, success: listWindows}, nil
	case c.endNow && openFlags:
		return writeOp{}, errors.New("--end-now takes only --id")
	case c.endNow:
		if c.id == "" {
			return writeOp{}, errors.New("--end-now needs --id, the window to end")
		}
		return writeOp{method: http.MethodDelete, query: "id=" + url.QueryEscape(c.id), success: windowSuccess("ended")}, nil
	}
	id := c.id
	if id == "" {
		id = "cli-" + rand.Text() // one id for every attempt and exporter
	}
	req := map[string]string{"service": c.service, "reason": c.reason, "id": id}
	if c.start != "" {
		req["start"] = c.start
	}
	if c.end != "" {
		req["end"] = c.end
	}
	if c.duration != 0 {
		req["duration"] = c.duration.String()
	}
	body, err := json.Marshal(req)
	if err != nil {
		return writeOp{}, err
	}
	if _, err := deploy.ParseWindowRequest(body, time.Now()); err != nil {
		var fe *deploy.FieldError
		if errors.As(err, &fe) && windowFlagOf[fe.Field] != "" {
			return writeOp{}, fmt.Errorf("%s: %s", windowFlagOf[fe.Field], strings.ReplaceAll(fe.Reason, "or duration", "or --duration"))
		}
		return writeOp{}, err
	}
	return writeOp{method: http.MethodPost, body: body, success: windowSuccess("opened")}, nil
}

func describeWindow(w deploy.Window) string {
	return fmt.Sprintf("service %s from %s until %s id %s: %s", termSafe(w.Service),
		w.Start.Format(time.RFC3339), w.EffectiveEnd().Format(time.RFC3339), termSafe(w.ID), termSafe(w.Reason))
}

func windowSuccess(verb string) func(int, json.RawMessage, string) (string, error) {
	return func(code int, data json.RawMessage, where string) (string, error) {
		var w deploy.Window
		if err := json.Unmarshal(data, &w); err != nil || w.ID == "" {
			return "", fmt.Errorf("HTTP %d, a success without a maintenance window", code)
		}
		v := verb
		if verb == "opened" && code == http.StatusOK { // 200, not 201: the id was already stored
			v = "already opened"
		}
		return fmt.Sprintf("maintenance window %s%s: %s", v, where, describeWindow(w)), nil
	}
}

func listWindows(code int, data json.RawMessage, where string) (string, error) {
	var ws []deploy.Window
	if err := json.Unmarshal(data, &ws); err != nil {
		return "", fmt.Errorf("HTTP %d, not a list of maintenance windows", code)
	}
	if len(ws) == 0 {
		return "no current or upcoming maintenance window" + where, nil
	}
	lines := make([]string, len(ws))
	for i, w := range ws {
		lines[i] = "maintenance window" + where + ": " + describeWindow(w)
	}
	return strings.Join(lines, "\n"), nil
}
