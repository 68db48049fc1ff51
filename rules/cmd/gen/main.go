// Command gen writes the rule pack from its configuration: the recording and
// alerting rule files and the Kubernetes PrometheusRule built from them. Run
// from the rules directory (make rules-generate does):
//
//	go run ./cmd/gen -pack pack.yml -rules . -prometheusrule ../examples/kubernetes/prometheusrule.yaml
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/http5xx/http5xx_exporter/rules/pack"
	"github.com/http5xx/http5xx_exporter/rules/rulepack"
)

func main() {
	packFile := flag.String("pack", "pack.yml", "the pack's configuration; an empty value means the defaults")
	dir := flag.String("rules", ".", `directory to write the rule files to; "" writes only the PrometheusRule`)
	manifest := flag.String("prometheusrule", "", "where to write the Kubernetes PrometheusRule (nothing when empty)")
	name := flag.String("name", "http5xx-exporter", "metadata.name of the PrometheusRule")
	flag.Parse()
	if err := run(*packFile, *dir, *manifest, *name); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(packFile, dir, manifest, name string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "http5xx-rules-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	cfg := pack.Default()
	if packFile != "" {
		var err error
		if cfg, err = pack.Load(packFile); err != nil {
			return err
		}
	}
	for _, f := range cfg.Files() {
		b, err := f.YAML()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), b, 0o644); err != nil {
			return err
		}
	}
	if manifest == "" {
		return nil
	}
	b, err := rulepack.PrometheusRule(dir, name)
	if err != nil {
		return err
	}
	return os.WriteFile(manifest, b, 0o644)
}
