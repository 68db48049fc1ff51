package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// loadTarget loads a config of one target with extra as more of its keys.
func loadTarget(t *testing.T, extra string) (*config.Config, error) {
	t.Helper()
	yml := "targets:\n  - name: a\n    url: https://a.example/\n    " + extra + "\n"
	path := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	return config.Load(path)
}

// Load is the one validator of saturation blocks: the manager trusts what
// it accepts. Each bad block is reported on its field, with why.
func TestSaturationValidation(t *testing.T) {
	for _, tc := range []struct {
		name, block string
		wantField   string // "" when the block is good
		wantMsg     string
	}{
		{name: "nginx", block: "{type: nginx_stub_status, url: 'http://web:8080/nginx_status', max: 1024}"},
		{name: "php-fpm without max", block: "{type: php_fpm_status, url: 'http://web/fpm-status?json'}"},
		{name: "json", block: "{type: json, url: 'https://api/health', field: workers.0.busy, max: 1}"},
		{name: "prometheus", block: `{type: prometheus, url: 'http://app:9000/metrics', metric: 'x{a="1", b=~"c|d", e!="", f!~"g",}', max: 1}`},

		{"unknown type", "{type: redis, url: 'http://x/', max: 1}", "type", `"redis" is not one of nginx_stub_status, php_fpm_status, json, prometheus`},
		{"relative url", "{type: json, url: /health, field: a, max: 1}", "url", `"/health" is not an http or https URL`},
		{"ftp url", "{type: json, url: 'ftp://x/', field: a, max: 1}", "url", `"ftp://x/" is not an http or https URL`},
		{"unparsable url", "{type: json, url: 'http://u:secret@x/%zz', field: a, max: 1}", "url", `is not a valid URL: invalid URL escape "%zz"`},
		{"nginx without max", "{type: nginx_stub_status, url: 'http://x/'}", "max", "must be greater than 0 for type nginx_stub_status"},
		{"negative max", "{type: json, url: 'http://x/', field: a, max: -2}", "max", "must not be negative"},
		{"max nan", "{type: json, url: 'http://s/', field: a, max: .nan}", "max", "NaN is not a finite number"},
		{"max inf", "{type: nginx_stub_status, url: 'http://s/', max: .inf}", "max", "+Inf is not a finite number"},
		{"max -inf", "{type: php_fpm_status, url: 'http://s/', max: -.inf}", "max", "-Inf is not a finite number"},
		{"json without field", "{type: json, url: 'http://x/', max: 1}", "field", "must be set for type json"},
		{"json empty element", "{type: json, url: 'http://s/', field: a..b, max: 1}", "field", `"a..b" is not a dotted path such as pools.web.busy: empty path element`},
		{"json trailing dot", "{type: json, url: 'http://s/', field: 'a.', max: 1}", "field", "empty path element"},
		{"prometheus without metric", "{type: prometheus, url: 'http://x/', max: 1}", "metric", "must be set for type prometheus"},
		{"no metric name", `{type: prometheus, url: 'http://x/', metric: '{a="b"}', max: 1}`, "metric", "want a metric name first"},
		{"unclosed matchers", `{type: prometheus, url: 'http://x/', metric: 'x{a="b"', max: 1}`, "metric", `unexpected "{a=\"b\"" after the metric name`},
		{"no operator", `{type: prometheus, url: 'http://s/', metric: 'x{a>"b"}', max: 1}`, "metric", "label a: want =, !=, =~ or !~"},
		{"unquoted value", "{type: prometheus, url: 'http://s/', metric: 'x{a=b}', max: 1}", "metric", "label a: want a double-quoted value"},
		{"no comma", `{type: prometheus, url: 'http://s/', metric: 'x{a="b" c="d"}', max: 1}`, "metric", "want , or }"},
		{"bad regexp", `{type: prometheus, url: 'http://s/', metric: 'x{a=~"("}', max: 1}`, "metric", "label a: error parsing regexp"},
		{"label name with colon", `{type: prometheus, url: 'http://s/', metric: 'x{a:b="c"}', max: 1}`, "metric", "label a: want =, !=, =~ or !~"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadTarget(t, "saturation: "+tc.block)
			switch {
			case tc.wantField == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tc.wantField == "":
				return
			case err == nil:
				t.Fatalf("Load accepted the block, want an error on saturation.%s", tc.wantField)
			}
			want := ": targets[0].saturation." + tc.wantField + ": "
			if got := err.Error(); !strings.Contains(got, want) || !strings.Contains(got, tc.wantMsg) {
				t.Errorf("Load: %s\nwant %q and %q", got, want, tc.wantMsg)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the URL's password: %v", err)
			}
		})
	}
}

// version_field is parsed at load with the parser the version poller reads
// with.
func TestVersionFieldValidation(t *testing.T) {
	const url = "version_url: https://a.example/info\n    "
	for _, tc := range []struct {
		keys, wantErr string
	}{
		{url + "version_field: build.version", ""},
		{url + "version_field: items.0.version", ""},
		{url + "version_field: version", ""},
		{url + "version_field: build..version", `targets[0].version_field: "build..version" is not a dotted path such as build.version: empty path element`},
		{url + "version_field: .version", `targets[0].version_field: ".version" is not a dotted path such as build.version: empty path element`},
		{url + "version_field: 'build.'", `targets[0].version_field: "build." is not a dotted path such as build.version: empty path element`},
	} {
		_, err := loadTarget(t, tc.keys)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.keys, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: %v, want %q", tc.keys, err, tc.wantErr)
		}
	}
}
