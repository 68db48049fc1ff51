package main

import (
	"fmt"
	"io"

	"github.com/alecthomas/kingpin/v2"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// configCheckCommand is `config check FILE`.
type configCheckCommand struct {
	cmd  *kingpin.CmdClause
	file string
}

func newConfigCheckCommand(app *kingpin.Application) *configCheckCommand {
	c := &configCheckCommand{}
	c.cmd = app.Command("config", "Configuration tools.").Command("check", "Check a configuration file: exit 0 when valid, 2 when not.")
	c.cmd.Arg("file", "Configuration file.").Required().StringVar(&c.file)
	return c
}

func (c *configCheckCommand) run(stdout, stderr io.Writer) int {
	return checkConfigFile(c.file, stdout, stderr)
}

// checkConfigFile loads file and prints every problem it has.
func checkConfigFile(file string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(file)
	if err != nil {
		fmt.Fprintf(stderr, "%s: INVALID\n%v\n", file, err)
		return 2
	}
	sd := ""
	if n := len(cfg.FileSDConfigs) + len(cfg.HTTPSDConfigs); n > 0 {
		// Like promtool, the check does not read what discovery finds.
		sd = fmt.Sprintf(" and %d discovery config(s) (read when serving)", n)
	}
	fmt.Fprintf(stdout, "%s: OK, %d targets from %d files%s, %d error classes\n", file, len(cfg.Targets), len(cfg.Files), sd, len(cfg.Classes))
	return 0
}
