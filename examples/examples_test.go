// Package examples holds the example configurations; its tests prove they
// agree with the exporter they configure.
package examples

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// buildExporter builds the real binary once per test run.
func buildExporter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "http5xx_exporter")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/http5xx_exporter")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestKubernetesManifest: the ConfigMap's config is valid and the container's
// args are flags the exporter accepts (kingpin refuses unknown ones).
func TestKubernetesManifest(t *testing.T) {
	f, err := os.Open("kubernetes/exporter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	kinds := map[string]bool{}
	var config string
	var args []string
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Data map[string]string
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Args []string `yaml:"args"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("kubernetes/exporter.yaml: %v", err)
		}
		kinds[doc.Kind] = true
		switch doc.Kind {
		case "ConfigMap":
			config = doc.Data["http5xx.yml"]
		case "StatefulSet":
			args = doc.Spec.Template.Spec.Containers[0].Args
		}
	}
	for _, k := range []string{"ConfigMap", "Secret", "StatefulSet", "Service", "ServiceMonitor"} {
		if !kinds[k] {
			t.Errorf("kubernetes/exporter.yaml has no %s", k)
		}
	}
	if config == "" || len(args) == 0 {
		t.Fatalf("no config (%d bytes) or no args (%v) found", len(config), args)
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "http5xx.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var run []string
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--config.file="):
			a = "--config.file=" + cfg
		case strings.HasPrefix(a, "--storage.path="):
			a = "--storage.path=" + dir
		case strings.HasPrefix(a, "--deploy.token-file="):
			a = "--deploy.token-file=" + filepath.Join(dir, "tokens")
		}
		run = append(run, a)
	}
	var out bytes.Buffer
	cmd := exec.Command(buildExporter(t), append(run, "--config.check")...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("exporter with the manifest's args %v: %v\n%s", args, err, out.String())
	}
	if !strings.Contains(out.String(), "OK, 2 targets") {
		t.Errorf("config check output: %s", out.String())
	}
}
