// Command gen writes the http5xx Grafana dashboards as JSON.
//
//	go run ./cmd/gen            # from dashboards/: rewrite the checked-in files
//	go run ./cmd/gen -dir out   # write them somewhere else
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/http5xx/http5xx_exporter/dashboards"
)

func main() {
	dir := flag.String("dir", ".", "directory to write the dashboard JSON files to")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	for _, b := range dashboards.Boards() {
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
