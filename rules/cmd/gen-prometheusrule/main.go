// Command gen-prometheusrule writes the rule pack as a Kubernetes
// PrometheusRule, so that examples/kubernetes/prometheusrule.yaml is built
// from the same files Prometheus loads. Run from the rules directory:
//
//	go run ./cmd/gen-prometheusrule -o ../examples/kubernetes/prometheusrule.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/http5xx/http5xx_exporter/rules/rulepack"
)

func main() {
	dir := flag.String("rules", ".", "directory holding the rule files")
	name := flag.String("name", "http5xx-exporter", "metadata.name of the PrometheusRule")
	out := flag.String("o", "-", "output file, - for standard output")
	flag.Parse()

	if err := run(*dir, *name, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen-prometheusrule:", err)
		os.Exit(1)
	}
}

func run(dir, name, out string) error {
	b, err := rulepack.PrometheusRule(dir, name)
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
