// Command gen writes the http5xx Grafana dashboards as JSON.
//
//	go run ./cmd/gen                      # from dashboards/: rewrite the checked-in files
//	go run ./cmd/gen -dir out             # write them somewhere else
//	go run ./cmd/gen -pack my-pack.yml    # with a rule pack configuration of your own
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/http5xx/http5xx_exporter/dashboards"
	"github.com/http5xx/http5xx_exporter/rules/pack"
)

func main() {
	dir := flag.String("dir", ".", "directory to write the dashboard JSON files to")
	packFile := flag.String("pack", "../rules/pack.yml", "the rule pack's configuration: job selector and runbook URL")
	flag.Parse()
	if err := run(*dir, *packFile); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir, packFile string) error {
	cfg, err := pack.Load(packFile)
	if err != nil {
		return err
	}
	for _, b := range dashboards.Boards(dashboards.SettingsOf(cfg)) {
		out, err := b.JSON()
		if err != nil {
			return err
		}
		path := filepath.Join(dir, b.File)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}
