package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commoncfg "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
	"github.com/http5xx/http5xx_exporter/collector/probe"
)

// runtimeAccepts builds what the exporter builds from a loaded config when
// it starts or reloads: a prober per target, the side-channel client of
// targets with a saturation source or a version_url, and the fingerprint
// matcher. A config that loads must get through all of it. (The saturation
// package's own test builds its sources from the same files.)
func runtimeAccepts(t *testing.T, cfg *config.Config) {
	t.Helper()
	for i := range cfg.Targets {
		tg := &cfg.Targets[i]
		p, err := probe.New(tg, probe.Options{})
		if err != nil {
			t.Errorf("%s: target %s loads but its prober fails: %v", tg.File, tg.Name, err)
			continue
		}
		p.Close()
		if tg.Saturation != nil || tg.VersionURL != "" {
			c, err := fetch.New(tg, fetch.Options{})
			if err != nil {
				t.Errorf("%s: target %s loads but its side-channel client fails: %v", tg.File, tg.Name, err)
				continue
			}
			c.Close()
		}
	}
	if _, err := fingerprint.New(cfg.Fingerprints); err != nil {
		t.Errorf("fingerprints load but the matcher fails: %v", err)
	}
}

// What `config check` accepts, startup and reload accept too.
func TestGoodConfigsStartTheExporter(t *testing.T) {
	files, err := filepath.Glob("testdata/good-*.yml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "examples", "http5xx.yml"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := config.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			runtimeAccepts(t, cfg)
		})
	}
}

// A tls block is accepted by Load exactly when the prober (and the client
// of the saturation and version_url side channels) can use it, so a
// config that passes `config check` cannot fail on reload (or at startup)
// because of its certificates, and one that would is reported with its
// field.
func TestTLSLoadAgreesWithProber(t *testing.T) {
	tlsDir, err := filepath.Abs(filepath.Join("testdata", "tls"))
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(name string) string {
		b, err := os.ReadFile(filepath.Join(tlsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	inline := func(s string) string { return "|\n        " + strings.ReplaceAll(s, "\n", "\n        ") }
	for _, tc := range []struct {
		name, tls string
		wantField string // in Load's error; "" when the block is good
	}{
		{"nothing", "{insecure_skip_verify: true}", ""},
		{"ca file", "{ca_file: ca.crt}", ""},
		{"client pair", "{cert_file: client.crt, key_file: client.key}", ""},
		{"everything", "{ca_file: ca.crt, cert_file: client.crt, key_file: client.key, server_name: x, min_version: TLS12, max_version: TLS13}", ""},
		{"inline ca", "\n      ca: " + inline(pemOf("ca.crt")), ""},
		{"inline pair", "\n      cert: " + inline(pemOf("client.crt")) + "\n      key: " + inline(pemOf("client.key")), ""},
		{"ca not pem", "{ca_file: not-pem.txt}", "tls.ca_file"},
		{"ca is a key", "{ca_file: client.key}", "tls.ca_file"},
		{"ca is a directory", "{ca_file: .}", "tls.ca_file"},
		{"inline ca not pem", "{ca: nope}", "tls.ca"},
		{"cert not pem", "{cert_file: not-pem.txt, key_file: client.key}", "tls.cert_file"},
		{"key not pem", "{cert_file: client.crt, key_file: not-pem.txt}", "tls.key_file"},
		{"cert and key swapped", "{cert_file: client.key, key_file: client.crt}", "tls.cert_file"},
		{"key of another cert", "{cert_file: ca.crt, key_file: client.key}", "tls.key_file"},
		{"ca ref", "{ca_ref: vault}", "tls.ca_ref"},
		{"cert ref", "{cert_ref: vault, key_file: client.key}", "tls.cert_ref"},
		{"key ref", "{cert_file: client.crt, key_ref: vault}", "tls.key_ref"},
		{"versions reversed", "{min_version: TLS13, max_version: TLS12}", "tls.max_version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The files are named from testdata/tls, wherever the config is.
			block := strings.NewReplacer(
				"ca_file: ", "ca_file: "+tlsDir+"/",
				"cert_file: ", "cert_file: "+tlsDir+"/",
				"key_file: ", "key_file: "+tlsDir+"/",
			).Replace(tc.tls)
			cfg := checkAgreement(t, "tls", block, tc.wantField, "the prober and the side-channel client", func(c *commoncfg.TLSConfig) error {
				tg := config.NewTarget("a", "https://a.example/")
				tg.TLS = *c
				p, perr := probe.New(&tg, probe.Options{})
				if perr == nil {
					p.Close()
				}
				f, ferr := fetch.New(&tg, fetch.Options{})
				if ferr == nil {
					f.Close()
				}
				if (perr == nil) != (ferr == nil) {
					t.Errorf("the prober (%v) and the side-channel client (%v) disagree", perr, ferr)
				}
				return errors.Join(perr, ferr)
			})
			if cfg != nil {
				runtimeAccepts(t, cfg)
			}
		})
	}
}

// checkAgreement loads a config of one target with block as the value of
// its key, decodes the same block into a T without the loader's validation
// and hands it to use, which stands for what the exporter does with it.
// Load must fail exactly when use does, naming wantField ("" for a good
// block). It returns the loaded config, nil when Load failed.
func checkAgreement[T any](t *testing.T, key, block, wantField, user string, use func(*T) error) *config.Config {
	t.Helper()
	yml := "targets:\n  - name: a\n    url: https://a.example/\n    " + key + ": " + block + "\n"
	path := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, loadErr := config.Load(path)

	var raw struct {
		Targets []map[string]yaml.Node `yaml:"targets"`
	}
	if err := yaml.Unmarshal([]byte(yml), &raw); err != nil {
		t.Fatalf("decoding the block: %v", err)
	}
	node := raw.Targets[0][key]
	var v T
	if err := node.Decode(&v); err != nil {
		t.Fatalf("decoding the block: %v", err)
	}
	useErr := use(&v)

	if (loadErr == nil) != (useErr == nil) {
		t.Fatalf("Load and %s disagree:\n  Load: %v\n  %s: %v", user, loadErr, user, useErr)
	}
	switch {
	case wantField == "" && loadErr != nil:
		t.Fatalf("Load: %v", loadErr)
	case wantField != "" && loadErr == nil:
		t.Fatalf("Load accepted the block, want an error on %s", wantField)
	case wantField != "":
		if want := ": targets[0]." + wantField + ": "; !strings.Contains(loadErr.Error(), want) {
			t.Errorf("Load error %q does not name %s", loadErr, wantField)
		}
	}
	return cfg
}
