// Command http5xx_exporter probes HTTP targets on its own schedule and exports
// which 5xx they answer, whose problem it is and what changed.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
)

// defaultListen is outside the exhausted 9100-9999 exporter range
// (docs/architecture.md).
const defaultListen = ":10505"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args and runs the chosen command until ctx ends; it returns the
// exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New("http5xx_exporter", "Probes HTTP targets and tells which 5xx, whose problem, and what changed.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	// --help and --version end the run with their exit code instead of
	// calling os.Exit inside the parser.
	terminated, exitCode := false, 0
	app.Terminate(func(code int) { terminated, exitCode = true, code })
	app.Version(version.Print("http5xx_exporter"))
	app.HelpFlag.Short('h')
	app.UsageTemplate(usageTemplate())

	srv := newServeCommand(app)
	logCfg := &promslog.Config{}
	promslogflag.AddFlags(app, logCfg)
	check := newCheckCommand(app)
	cfgCheck := newConfigCheckCommand(app)
	deployCmd := newDeployCommand(app)
	maintenanceCmd := newMaintenanceCommand(app)
	statusCmd := newStatusCommand(app)

	cmd, err := app.Parse(deployArgs(args))
	if terminated {
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(stderr, "http5xx_exporter: %v (try --help)\n", err)
		return 2
	}
	logCfg.Writer = stderr
	logger := promslog.New(logCfg)

	switch cmd {
	case check.cmd.FullCommand():
		return check.run(ctx, stdout, stderr)
	case cfgCheck.cmd.FullCommand():
		return cfgCheck.run(stdout, stderr)
	case statusCmd.cmd.FullCommand():
		return statusCmd.run(ctx, stdout, stderr)
	case deployCmd.FullCommand():
		return deployCmd.run(ctx, stdout, stderr)
	case maintenanceCmd.FullCommand():
		return maintenanceCmd.run(ctx, stdout, stderr)
	case srv.cmd.FullCommand(), "":
		return srv.run(ctx, logger, stdout, stderr)
	}
	fmt.Fprintf(stderr, "http5xx_exporter: unknown command %q\n", cmd)
	return 2
}

// usageTemplate is kingpin's default with one more section: the top-level
// help also lists the flags of the default command, serve, so
// `http5xx_exporter --help` shows how to run the exporter. They stay flags
// of serve because subcommands have flags of the same names and other
// meanings (check --config.file, --location).
func usageTemplate() string {
	const before = "{{if .Context.Args -}}\nArgs:"
	const serving = `{{if not .Context.SelectedCommand -}}
{{range .App.Commands}}{{if .Default -}}
Flags of {{.Name}}, the default command:
{{.Flags|FlagsToTwoColumns|FormatTwoColumns}}
{{end}}{{end -}}
{{end -}}
`
	return strings.Replace(kingpin.DefaultUsageTemplate, before, serving+before, 1)
}
