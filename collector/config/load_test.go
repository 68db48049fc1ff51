package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Each testdata/bad-*.yml holds one mistake; the table says what Load must
// answer, file, line and field included. A new bad file needs a row here.
var badConfigs = map[string]string{
	"bad-alias-cycle.yml":                      `testdata/bad-alias-cycle.yml:5: targets[0]: an alias refers to the value that contains it`,
	"bad-alias-bomb.yml":                       `testdata/bad-alias-bomb.yml:9: targets[6]: aliases expand to more than 1049299 values`,
	"bad-deep-nesting.yml":                     `testdata/bad-deep-nesting.yml:1: exceeded max depth of 10000`,
	"bad-merge-chain.yml":                      `testdata/bad-merge-chain.yml:65: targets[62]: nested more than 64 levels deep (through aliases or merges)`,
	"bad-body-size-limit.yml":                  `testdata/bad-body-size-limit.yml:2: global.body_size_limit: "1 megabyte" is not a size such as 1048576 or 1MiB`,
	"bad-buckets-nan.yml":                      `testdata/bad-buckets-nan.yml:2: global.buckets[2]: NaN is not a bucket boundary`,
	"bad-buckets-order.yml":                    `testdata/bad-buckets-order.yml:2: global.buckets[2]: 0.25 is not greater than the bucket before it (0.5)`,
	"bad-class-code-twice.yml":                 `testdata/bad-class-code-twice.yml:5: classes[1].codes[0]: 502 is already in class "app" (classes[0].codes[1])`,
	"bad-class-empty.yml":                      `testdata/bad-class-empty.yml:2: classes[0]: lists neither codes nor reasons`,
	"bad-class-name-chars.yml":                 `testdata/bad-class-name-chars.yml:2: classes[0].name: "app errors" may only hold letters, digits, '_', '.', ':' and '-'`,
	"bad-class-name-duplicate.yml":             `testdata/bad-class-name-duplicate.yml:4: classes[1].name: "app" is already the name of classes[0]`,
	"bad-class-owner.yml":                      `testdata/bad-class-owner.yml:4: classes[0].owner: "app team" may only hold letters, digits, '_', '.', ':' and '-'`,
	"bad-class-range-overlap.yml":              `testdata/bad-class-range-overlap.yml:5: classes[1].codes[0]: 520-529 overlaps 5xx of class "app" (classes[0].codes[0]); list single codes to take them out of a range`,
	"bad-class-reason-twice.yml":               `testdata/bad-class-reason-twice.yml:5: classes[1].reasons[1]: "reset" is already in class "gateway" (classes[0].reasons[0])`,
	"bad-redact-query-params.yml":              `testdata/bad-redact-query-params.yml:4: targets[0].redact_query_params[1]: "a=b" is not a query parameter name`,
	"bad-class-reason.yml":                     `testdata/bad-class-reason.yml:3: classes[0].reasons[0]: "dns_failure" is not one of dns, connect_refused, connect_timeout, tls, timeout, reset, malformed, too_large, redirect_loop, redirect_refused, soft_error`,
	"bad-duplicate-key.yml":                    `testdata/bad-duplicate-key.yml:4: targets[0].url: key "url" written twice (first at line 3)`,
	"bad-expect-body-regexp.yml":               `testdata/bad-expect-body-regexp.yml:6: targets[0].expect[1].body_not_matches: "(?i)fatal error[" is not a valid regular expression: missing closing ]`,
	"bad-expect-empty.yml":                     `testdata/bad-expect-empty.yml:5: targets[0].expect[0]: names nothing to check: set one of status, header, json, body_contains, body_not_contains, body_matches, body_not_matches`,
	"bad-expect-global-regexp.yml":             `testdata/bad-expect-global-regexp.yml:3: global.expect[0].body_matches: "<title>(.*</title>" is not a valid regular expression: missing closing )`,
	"bad-expect-header-name.yml":               `testdata/bad-expect-header-name.yml:5: targets[0].expect[0].header: "X Served By" is not a valid header name`,
	"bad-expect-json-absent.yml":               `testdata/bad-expect-json-absent.yml:6: targets[0].expect[0].absent: absent does not apply to a json condition (it takes present, equals or matches)`,
	"bad-expect-json-path.yml":                 `testdata/bad-expect-json-path.yml:5: targets[0].expect[0].json: "checks..db" is not a dotted path such as status or checks.db.status: empty path element`,
	"bad-expect-no-operator.yml":               `testdata/bad-expect-no-operator.yml:5: targets[0].expect[0].header: needs one of present, absent, equals or matches`,
	"bad-expect-not-a-list.yml":                `testdata/bad-expect-not-a-list.yml:5: targets[0].expect: must be a list, not a mapping`,
	"bad-expect-operator-for-body.yml":         `testdata/bad-expect-operator-for-body.yml:6: targets[0].expect[0].absent: applies to header and json conditions, not to body_contains`,
	"bad-expect-regexp.yml":                    `testdata/bad-expect-regexp.yml:6: targets[0].expect[0].matches: "^text/(html" is not a valid regular expression: missing closing )`,
	"bad-expect-two-operators.yml":             `testdata/bad-expect-two-operators.yml:7: targets[0].expect[0].matches: a condition has one operator: equals and matches are two conditions (two list entries)`,
	"bad-expect-two-subjects.yml":              `testdata/bad-expect-two-subjects.yml:6: targets[0].expect[0].body_contains: a condition checks one thing: status and body_contains are two conditions (two list entries)`,
	"bad-expect-unknown-operator.yml":          `testdata/bad-expect-unknown-operator.yml:6: targets[0].expect[0].equal: unknown field "equal" (did you mean equals?)`,
	"bad-fingerprint-empty.yml":                `testdata/bad-fingerprint-empty.yml:2: fingerprints[0]: needs header and match, or body`,
	"bad-fingerprint-header-without-match.yml": `testdata/bad-fingerprint-header-without-match.yml:2: fingerprints[0].match: must be set with header`,
	"bad-fingerprint-layer.yml":                `testdata/bad-fingerprint-layer.yml:4: fingerprints[0].layer: "edge" is not one of cdn, load_balancer, proxy, origin, unknown`,
	"bad-fingerprint-class.yml":                `testdata/bad-fingerprint-class.yml:5: fingerprints[0].class: "gatway" is not a class of the class table (app, gateway, capacity, timeout, network)`,
	"bad-fingerprint-product.yml":              `testdata/bad-fingerprint-product.yml:5: fingerprints[0].product: "cloud flare" may only hold letters, digits, '_', '.', ':' and '-'`,
	"bad-fingerprint-regexp.yml":               `testdata/bad-fingerprint-regexp.yml:3: fingerprints[0].match: "(cloudflare" is not a valid regular expression: missing closing )`,
	"bad-follow-redirects-type.yml":            `testdata/bad-follow-redirects-type.yml:4: targets[0].follow_redirects: "sometimes" is not true or false`,
	"bad-header-name.yml":                      `testdata/bad-header-name.yml:5: targets[0].headers["X Probe"]: "X Probe" is not a valid header name`,
	"bad-header-value.yml":                     `testdata/bad-header-value.yml:3: global.headers.X-Probe: value holds a control character`,
	"bad-interval-format.yml":                  `testdata/bad-interval-format.yml:2: global.interval: "30" is not a duration such as 30s or 1m30s`,
	"bad-interval-too-short.yml":               `testdata/bad-interval-too-short.yml:2: global.interval: 500ms is shorter than 1s`,
	"bad-labels-dunder.yml":                    `testdata/bad-labels-dunder.yml:5: targets[0].labels.__meta_team: "__meta_team": names starting with __ are reserved for Prometheus`,
	"bad-labels-empty-value.yml":               `testdata/bad-labels-empty-value.yml:5: targets[0].labels.team: must not be empty (an empty label is no label)`,
	"bad-labels-in-target-file.yml":            `testdata/bad-targets/labels.yml:5: targets[0].labels.9team: "9team" is not a label name: letters, digits and '_', not starting with a digit`,
	"bad-owners-class.yml":                     `testdata/bad-owners-class.yml:5: targets[0].owners.gatway: "gatway" is not a class of the class table (app, gateway, capacity, timeout, network)`,
	"bad-owners-empty-team.yml":                `testdata/bad-owners-empty-team.yml:5: targets[0].owners.app: must name a team (leave the class out to page its default owner)`,
	"bad-owners-team-chars.yml":                `testdata/bad-owners-team-chars.yml:5: targets[0].owners.app: "checkout team" may only hold letters, digits, '_', '.', ':' and '-'`,
	"bad-owners-in-target-file.yml":            `testdata/bad-targets/owners.yml:7: targets[0].owners.capacty: "capacty" is not a class of the class table (app, gateway, capacity, timeout, network)`,
	"bad-owners-custom-classes.yml":            `testdata/bad-owners-custom-classes.yml:10: targets[0].owners.app: "app" is not a class of the class table (errors)`,
	"bad-services-class.yml":                   `testdata/bad-services-class.yml:5: services[0].owners.gatway: "gatway" is not a class of the class table (app, gateway, capacity, timeout, network)`,
	"bad-services-empty-team.yml":              `testdata/bad-services-empty-team.yml:4: services[0].owners.app: must name a team (leave the class out to page its default owner)`,
	"bad-services-no-owners.yml":               `testdata/bad-services-no-owners.yml:2: services[0].owners: must name a team for at least one class`,
	"bad-services-duplicate.yml":               `testdata/bad-services-duplicate.yml:4: services[1].name: "checkout" is already listed as services[0]`,
	"bad-services-no-name.yml":                 `testdata/bad-services-no-name.yml:2: services[0].name: must be set`,
	"bad-labels-name.yml":                      `testdata/bad-labels-name.yml:6: targets[0].labels.cost-center: "cost-center" is not a label name: letters, digits and '_', not starting with a digit`,
	"bad-labels-owner-prefix.yml":              `testdata/bad-labels-owner-prefix.yml:5: targets[0].labels.owner_app: "owner_app": labels starting with owner_ name a class's team in discovery; here write owners: {app: TEAM}`,
	"bad-labels-reserved.yml":                  `testdata/bad-labels-reserved.yml:5: targets[0].labels.owner: "owner" is reserved: the exporter, Prometheus or the rule pack sets it`,
	"bad-labels-too-many.yml":                  `testdata/bad-labels-too-many.yml:4: targets[0].labels: 9 labels, more than 8`,
	"bad-labels-value-control.yml":             `testdata/bad-labels-value-control.yml:5: targets[0].labels.team: "pay\tments" holds a control character`,
	"bad-location.yml":                         `testdata/bad-location.yml:2: global.location: "eu\twest" holds a control character`,
	"bad-max-redirects-type.yml":               `testdata/bad-max-redirects-type.yml:4: targets[0].max_redirects: "many" is not an integer`,
	"bad-max-redirects.yml":                    `testdata/bad-max-redirects.yml:2: global.max_redirects: 31 is outside 0-30`,
	"bad-method.yml":                           `testdata/bad-method.yml:4: targets[0].method: "GET /" is not a valid HTTP method`,
	"bad-name-chars.yml":                       `testdata/bad-name-chars.yml:2: targets[0].name: "my api" may only hold letters, digits, '_', '.', ':' and '-'`,
	"bad-name-duplicate.yml":                   `testdata/bad-targets/duplicate-name.yml:2: targets[0].name: "api" is already defined at testdata/bad-name-duplicate.yml:4`,
	"bad-name-missing.yml":                     `testdata/bad-name-missing.yml:2: targets[0].name: must be set`,
	"bad-name-too-long.yml":                    `testdata/bad-name-too-long.yml:2: targets[0].name: is 129 characters long, more than 128`,
	"bad-basic-auth-password-twice.yml":        `testdata/bad-basic-auth-password-twice.yml:4: targets[0].basic_auth: at most one of basic_auth password, password_file & password_ref must be configured`,
	"bad-basic-auth-password-file.yml":         `testdata/bad-basic-auth-password-file.yml:6: targets[0].basic_auth.password_file: "testdata/secrets/missing" cannot be read: no such file or directory`,
	"bad-credentials-two-kinds.yml":            `testdata/bad-credentials-two-kinds.yml:7: targets[0].authorization: cannot be combined with basic_auth: a target sends one kind of credentials`,
	"bad-authorization-basic.yml":              `testdata/bad-authorization-basic.yml:4: targets[0].authorization: authorization type cannot be set to "basic", use "basic_auth" instead`,
	"bad-authorization-header.yml":             `testdata/bad-authorization-header.yml:5: targets[0].headers.Authorization: cannot be combined with authorization, which sets this header`,
	"bad-oauth2-token-url.yml":                 `testdata/bad-oauth2-token-url.yml:4: targets[0].oauth2: oauth2 token_url must be configured`,
	"bad-oauth2-token-url-scheme.yml":          `testdata/bad-oauth2-token-url-scheme.yml:7: targets[0].oauth2.token_url: "ftp://login.example.com/token" is not an http or https URL`,
	"bad-no-proxy-without-proxy-url.yml":       `testdata/bad-no-proxy-without-proxy-url.yml:4: targets[0].no_proxy: if no_proxy is configured, proxy_url must also be configured`,
	"bad-secret-ref.yml":                       `testdata/bad-secret-ref.yml:5: targets[0].authorization.credentials_ref: secret references need a secret manager, which the exporter does not have; use credentials_file`,
	"bad-sd-http-url.yml":                      `testdata/bad-sd-http-url.yml:2: http_sd_configs[0].url: "ftp://inventory.example.com/targets" is not an http or https URL`,
	"bad-sd-http-timeout.yml":                  `testdata/bad-sd-http-timeout.yml:4: http_sd_configs[0].timeout: 1m is longer than refresh_interval 30s`,
	"bad-sd-http-auth.yml":                     `testdata/bad-sd-http-auth.yml:2: http_sd_configs[0]: at most one of basic_auth, oauth2 & authorization must be configured`,
	"bad-sd-http-unknown.yml":                  `testdata/bad-sd-http-unknown.yml:3: http_sd_configs[0].refresh_intervall: unknown field "refresh_intervall" (did you mean refresh_interval?)`,
	"bad-sd-file-empty.yml":                    `testdata/bad-sd-file-empty.yml:2: file_sd_configs[0].files: must list at least one file or glob`,
	"bad-sd-file-glob.yml":                     `testdata/bad-sd-file-glob.yml:2: file_sd_configs[0].files[0]: "testdata/sd/[.json" is not a valid glob pattern`,
	"bad-sd-refresh.yml":                       `testdata/bad-sd-refresh.yml:3: file_sd_configs[0].refresh_interval: 100ms is shorter than 1s`,
	"bad-relabel-action.yml":                   `testdata/bad-relabel-action.yml:2: relabel_configs[0]: unknown relabel action "repalce"`,
	"bad-relabel-target.yml":                   `testdata/bad-relabel-target.yml:2: relabel_configs[0]: relabel configuration for replace action requires 'target_label' value`,
	"bad-relabel-regex.yml":                    `testdata/bad-relabel-regex.yml:2: relabel_configs[0]: error parsing regexp: missing closing ): ` + "`^(?s:(unclosed)$`",
	"bad-ip-family.yml":                        `testdata/bad-ip-family.yml:4: targets[0].ip_family: "ipv6" is not one of any, ip4, ip6`,
	"bad-probe-path.yml":                       `testdata/bad-probe-path.yml:4: targets[0].probe_path: "lean" is not one of auto, net/http`,
	"bad-ip-family-literal.yml":                `testdata/bad-ip-family-literal.yml:4: targets[0].ip_family: ip6, but the url names the address 127.0.0.1`,
	"bad-proxy-url.yml":                        `testdata/bad-proxy-url.yml:4: targets[0].proxy_url: "ftp://proxy.example.com" is not an http, https or socks5 URL`,
	"bad-saturation-field-unused.yml":          `testdata/bad-saturation-field-unused.yml:8: targets[0].saturation.field: is only used by type json`,
	"bad-saturation-json-field-path.yml":       `testdata/bad-saturation-json-field-path.yml:7: targets[0].saturation.field: "pools..busy" is not a dotted path such as pools.web.busy: empty path element`,
	"bad-saturation-json-field.yml":            `testdata/bad-saturation-json-field.yml:4: targets[0].saturation.field: must be set for type json`,
	"bad-saturation-max-nan.yml":               `testdata/bad-saturation-max-nan.yml:8: targets[0].saturation.max: NaN is not a finite number`,
	"bad-saturation-metric-selector.yml":       `testdata/bad-saturation-metric-selector.yml:7: targets[0].saturation.metric: "app_busy_workers{pool=web}" is not a metric name with optional {label matchers}: label pool: want a double-quoted value at "web"`,
	"bad-saturation-nginx-max.yml":             `testdata/bad-saturation-nginx-max.yml:4: targets[0].saturation.max: must be greater than 0 for type nginx_stub_status`,
	"bad-saturation-prometheus-max.yml":        `testdata/bad-saturation-prometheus-max.yml:4: targets[0].saturation.max: must be greater than 0 for type prometheus`,
	"bad-saturation-timeout.yml":               `testdata/bad-saturation-timeout.yml:8: targets[0].saturation.timeout: 6s is longer than the interval 5s`,
	"bad-saturation-type.yml":                  `testdata/bad-saturation-type.yml:5: targets[0].saturation.type: "apache" is not one of nginx_stub_status, php_fpm_status, json, prometheus`,
	"bad-saturation-url-missing.yml":           `testdata/bad-saturation-url-missing.yml:4: targets[0].saturation.url: must be set`,
	"bad-tab-indent.yml":                       `testdata/bad-tab-indent.yml:3: found a tab character that violates indentation`,
	"bad-target-file-main-only-key.yml":        `testdata/bad-targets/main-only-key.yml:5: classes: unknown field "classes": a target file holds only targets; classes belongs in the main file`,
	"bad-target-file-not-a-mapping.yml":        `testdata/bad-targets/not-a-mapping.yml:1: must be a mapping, not a list`,
	"bad-target-files-glob.yml":                `testdata/bad-target-files-glob.yml:2: target_files[0]: "targets.d/[a-" is not a valid glob pattern`,
	"bad-targets-not-a-list.yml":               `testdata/bad-targets-not-a-list.yml:2: targets: must be a list, not a mapping`,
	"bad-timeout-longer-than-interval.yml":     `testdata/bad-timeout-longer-than-interval.yml:5: targets[0].timeout: 15s is longer than the interval 10s`,
	"bad-timeout-zero.yml":                     `testdata/bad-timeout-zero.yml:2: global.timeout: must be greater than 0`,
	"bad-tls-ca-file.yml":                      `testdata/bad-tls-ca-file.yml:5: targets[0].tls.ca_file: cannot read "testdata/tls/missing.crt": no such file or directory`,
	"bad-tls-ca-is-a-key.yml":                  `testdata/bad-tls-ca-is-a-key.yml:6: targets[0].tls.ca_file: "testdata/tls/client.key" holds no PEM certificate`,
	"bad-tls-ca-not-pem.yml":                   `testdata/bad-tls-ca-not-pem.yml:5: targets[0].tls.ca_file: "testdata/tls/not-pem.txt" holds no PEM certificate`,
	"bad-tls-ca-ref.yml":                       `testdata/bad-tls-ca-ref.yml:5: targets[0].tls.ca_ref: secret references need a secret manager, which this exporter does not have; use ca_file or ca`,
	"bad-tls-cert-not-pem.yml":                 `testdata/bad-tls-cert-not-pem.yml:5: targets[0].tls.cert_file: failed to find any PEM data in certificate input`,
	"bad-tls-cert-without-key.yml":             `testdata/bad-tls-cert-without-key.yml:5: targets[0].tls.cert_file: needs key_file, key or key_ref as well`,
	"bad-tls-inline-ca.yml":                    `testdata/bad-tls-inline-ca.yml:5: targets[0].tls.ca: holds no PEM certificate`,
	"bad-tls-key-mismatch.yml":                 `testdata/bad-tls-key-mismatch.yml:6: targets[0].tls.key_file: private key does not match public key`,
	"bad-tls-version.yml":                      `testdata/bad-tls-version.yml:5: targets[0].tls.min_version: unknown TLS version: TLS9`,
	"bad-tls-versions.yml":                     `testdata/bad-tls-versions.yml:6: targets[0].tls.max_version: TLS12 is older than min_version TLS13`,
	"bad-two-documents.yml":                    `testdata/bad-two-documents.yml:4: a second YAML document; a file holds one document`,
	"bad-unknown-anchor.yml":                   `testdata/bad-unknown-anchor.yml:7: unknown anchor 'timeout' referenced`,
	"bad-unknown-field-in-target-file.yml":     `testdata/bad-targets/unknown-field.yml:4: targets[0].timout: unknown field "timout" (did you mean timeout?)`,
	"bad-unknown-field.yml":                    `testdata/bad-unknown-field.yml:4: targets[0].urll: unknown field "urll" (did you mean url?)`,
	"bad-url-missing.yml":                      `testdata/bad-url-missing.yml:2: targets[0].url: must be set`,
	"bad-url-no-host.yml":                      `testdata/bad-url-no-host.yml:3: targets[0].url: "http:///health" has no host`,
	"bad-url-unparsable.yml":                   `testdata/bad-url-unparsable.yml:3: targets[0].url: "http://[::1/health" is not a valid URL: missing ']' in host`,
	"bad-url.yml":                              `testdata/bad-url.yml:7: targets[1].url: "ftp://x" is not an http or https URL`,
	"bad-valid-status-codes-empty.yml":         `testdata/bad-valid-status-codes-empty.yml:4: targets[0].valid_status_codes: must list at least one code`,
	"bad-valid-status-codes-reversed.yml":      `testdata/bad-valid-status-codes-reversed.yml:5: targets[0].valid_status_codes[0]: "399-200" is reversed: 399 is greater than 200`,
	"bad-valid-status-codes.yml":               `testdata/bad-valid-status-codes.yml:4: targets[0].valid_status_codes[1]: "2oo" is not a status code, a range like 200-399 or a class like 5xx`,
	"bad-version-field-path.yml":               `testdata/bad-version-field-path.yml:5: targets[0].version_field: "build..version" is not a dotted path such as build.version: empty path element`,
	"bad-version-field-without-url.yml":        `testdata/bad-version-field-without-url.yml:4: targets[0].version_field: needs version_url as well`,
	"bad-version-header.yml":                   `testdata/bad-version-header.yml:4: targets[0].version_header: "X App Version" is not a valid header name`,
	"bad-version-url-without-field.yml":        `testdata/bad-version-url-without-field.yml:4: targets[0].version_url: needs version_field as well`,
	"bad-yaml-syntax.yml":                      `testdata/bad-yaml-syntax.yml:2: did not find expected '-' indicator (in the block starting on this line)`,
}

func TestLoadBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad-*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := badConfigs[filepath.Base(f)]; !ok {
			t.Errorf("%s has no expected message in badConfigs", f)
		}
	}
	for name, want := range badConfigs {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(filepath.Join("testdata", name))
			if err == nil {
				t.Fatalf("Load succeeded, want %s", want)
			}
			if cfg != nil {
				t.Error("Load returned a config along with an error")
			}
			if got := err.Error(); got != want {
				t.Errorf("wrong error\n got: %s\nwant: %s", got, want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Line == 0 {
				t.Errorf("error %v does not carry a line", err)
			}
		})
	}
}

// badGenerated are bad files too odd for testdata (bytes that are not
// text, lines of a mebibyte): each is written to a temporary FILE, and
// Load must answer the message with FILE in it.
var badGenerated = []struct {
	name, data, want string
}{
	{"not UTF-8", "global:\n  interval: 30s\n  location: \"caf\xe9\"\n",
		`FILE:3: global.location: byte 0xe9 is not valid UTF-8 (column 17); a configuration file is UTF-8 text`},
	{"not UTF-8 in a comment", "# caf\xc3\n",
		`FILE:1: byte 0xc3 is not valid UTF-8 (column 6); a configuration file is UTF-8 text`},
	{"NUL byte", "targets:\n  - name: a\x00b\n    url: http://a\n",
		`FILE:2: targets[0].name: control character U+0000 is not allowed (column 12); a configuration file is UTF-8 text`},
	{"binary", "\x7fELF\x02\x01\x01\x00",
		`FILE:1: control character U+007F is not allowed (column 1); a configuration file is UTF-8 text`},
	{"invalid byte at the end of a huge line", "global:\n  location: " + strings.Repeat("x", 1<<20) + "\xff\n",
		`FILE:2: global.location: byte 0xff is not valid UTF-8 (column 1048589); a configuration file is UTF-8 text`},
	{"huge value", "targets:\n  - name: a\n    url: ftp://" + strings.Repeat("x", 1<<20) + "\n",
		`FILE:3: targets[0].url: "ftp://` + strings.Repeat("x", 93) + `…(1048412 bytes)…` + strings.Repeat("x", 71) + `" is not an http or https URL`},
	{"huge key", "targets:\n  - name: a\n    url: http://a\n    " + strings.Repeat("k", 1<<20) + ": 1\n",
		`FILE:4: could not find expected ':'`},
	{"huge flow key", "targets: [{name: a, url: 'http://a', " + strings.Repeat("k", 1<<20) + ": 1}]\n",
		`FILE:1: did not find expected ',' or '}'`},
	{"deep nesting of lists", "global:\n  buckets: " + strings.Repeat("[", 20000) + "\n",
		`FILE:2: exceeded max depth of 10000`},
	{"deep nesting of blocks", "global:\n  interval: 1m\ntargets:\n  " + strings.Repeat("- ", 20000) + "x\n",
		`FILE:3: exceeded max depth of 10000`},
}

func TestLoadBadGenerated(t *testing.T) {
	for _, tc := range badGenerated {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yml")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if err == nil || cfg != nil {
				t.Fatalf("Load = %v, %v; want no config and an error", cfg, err)
			}
			if got, want := err.Error(), strings.ReplaceAll(tc.want, "FILE", path); got != want {
				t.Errorf("wrong error\n got: %s\nwant: %s", got, want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Line == 0 {
				t.Errorf("error %v does not carry a line", err)
			}
		})
	}
}

// Load does not stop at the first problem.
func TestLoadReportsEveryError(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"testdata/errors-many.yml", []string{
			`testdata/errors-many.yml:3: global.interval: 500ms is shorter than 1s`,
			`testdata/errors-many.yml:4: global.max_redirects: 40 is outside 0-30`,
			`testdata/errors-many.yml:8: targets[0].url: "ftp://api.example.com/" is not an http or https URL`,
			`testdata/errors-many.yml:9: targets[1].name: "api" is already defined at testdata/errors-many.yml:7`,
			`testdata/errors-many.yml:11: targets[1].method: "GET /" is not a valid HTTP method`,
		}},
		{"testdata/errors-many-decode.yml", []string{
			`testdata/errors-many-decode.yml:3: global.interval: "30" is not a duration such as 30s or 1m30s`,
			`testdata/errors-many-decode.yml:4: global.body_size_limit: "lots" is not a size such as 1048576 or 1MiB`,
			`testdata/errors-many-decode.yml:9: targets[0].valid_status_codes[1]: "2xx0" is not a status code, a range like 200-399 or a class like 5xx`,
			`testdata/errors-many-decode.yml:10: targets[0].tiemout: unknown field "tiemout" (did you mean timeout?)`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(tc.file)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("wrong errors\n got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yml")
	if want := "testdata/does-not-exist.yml: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestLoadMinimal(t *testing.T) {
	cfg, err := Load("testdata/good-minimal.yml")
	if err != nil {
		t.Fatal(err)
	}
	follow := true
	want := &Config{
		Global:  defaultGlobal(),
		Classes: DefaultClasses(),
		Targets: []Target{{
			Name:             "api",
			URL:              "https://api.example.com/health",
			Service:          "api",
			Method:           "GET",
			Interval:         model.Duration(30 * time.Second),
			Timeout:          model.Duration(10 * time.Second),
			ValidStatusCodes: StatusCodes{{200, 399}},
			FollowRedirects:  &follow,
			MaxRedirects:     10,
			BodySizeLimit:    1 << 20,
			IPFamily:         "any",
			File:             "testdata/good-minimal.yml",
		}},
		Files: []string{"testdata/good-minimal.yml"},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
}

func TestLoadFull(t *testing.T) {
	cfg, err := Load("testdata/good-full.yml")
	if err != nil {
		t.Fatal(err)
	}
	// Every yaml field of our own types is set somewhere in good-full.yml,
	// so a field the decoder drops shows up here.
	for _, missing := range unsetFields(reflect.ValueOf(cfg).Elem()) {
		t.Errorf("good-full.yml leaves %s unset (or it was dropped)", missing)
	}

	if len(cfg.Targets) != 4 {
		t.Fatalf("got %d targets, want api, api-metrics, reports and shop", len(cfg.Targets))
	}
	api, metrics, reports, shop := cfg.Targets[0], cfg.Targets[1], cfg.Targets[2], cfg.Targets[3]
	// Secret files, like certificates, are relative to the file naming them.
	for _, f := range []struct{ field, got, want string }{
		{"api basic_auth.password_file", api.BasicAuth.PasswordFile, filepath.Join("testdata", "secrets", "api-password")},
		{"shop authorization.credentials_file", shop.Authorization.CredentialsFile, filepath.Join("testdata", "secrets", "shop-token")},
		{"reports oauth2.client_secret_file", reports.OAuth2.ClientSecretFile, filepath.Join("testdata", "secrets", "reports-client-secret")},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.field, f.got, f.want)
		}
	}
	if shop.Authorization.Type != "Bearer" {
		t.Errorf("shop authorization.type = %q, want the default Bearer", shop.Authorization.Type)
	}
	if !api.Proxied() || api.NoProxy != "internal.example.com" || shop.Proxied() {
		t.Errorf("proxy: api %v (no_proxy %q), shop %v; want api only", api.Proxied(), api.NoProxy, shop.Proxied())
	}
	// Discovery: written values kept, the rest defaulted, files relative
	// to the config file.
	sd := cfg.HTTPSDConfigs[0]
	if sd.Timeout != model.Duration(5*time.Second) || sd.BodySizeLimit != 4<<20 || !sd.HTTPClientConfig.FollowRedirects ||
		sd.HTTPClientConfig.TLSConfig.CAFile != filepath.Join("testdata", "tls", "ca.crt") {
		t.Errorf("http_sd_configs[0] = %+v", sd)
	}
	if fsd := cfg.FileSDConfigs[0]; fsd.RefreshInterval != model.Duration(time.Minute) || len(fsd.Files) != 2 {
		t.Errorf("file_sd_configs[0] = %+v", fsd)
	}
	if len(cfg.RelabelConfigs) != 2 || cfg.RelabelConfigs[1].Action != "labelmap" {
		t.Errorf("relabel_configs = %+v", cfg.RelabelConfigs)
	}
	if got, want := api.Headers, map[string]string{"User-Agent": "http5xx_exporter", "x-probe": "target", "Content-Type": "application/json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("api headers = %v, want %v (target wins over global, names compare case-insensitively)", got, want)
	}
	if api.MaxRedirects != 0 || !api.Follows() {
		t.Errorf("api: max_redirects %d follows %v, want the written 0 and true", api.MaxRedirects, api.Follows())
	}
	if got, want := api.TLS.CAFile, filepath.Join("testdata", "tls", "ca.crt"); got != want {
		t.Errorf("ca_file = %q, want %q (relative to the config file)", got, want)
	}
	// The merge key (<<: *api) carries api's settings; written keys win.
	if metrics.Method != "POST" || metrics.Interval != api.Interval || metrics.Service != "api-service" {
		t.Errorf("api-metrics did not inherit api's settings through <<: %+v", metrics)
	}
	if metrics.Saturation.Type != contract.SaturationPrometheus || metrics.Saturation.Interval != metrics.Interval {
		t.Errorf("api-metrics saturation = %+v", metrics.Saturation)
	}
	if got, want := *api.Saturation, (Saturation{Type: "json", URL: "https://api.example.com/stats", Interval: model.Duration(20 * time.Second), Timeout: model.Duration(time.Second), Max: 100, Field: "workers.busy", BodySizeLimit: 16 << 10}); got != want {
		t.Errorf("api saturation = %+v, want %+v", got, want)
	}
	// Teams: the target's owners over its service's over the default owner,
	// and a team that is the default owner is no override.
	wantTeams := []ClassTeam{{"app", "payments-app", "app-team"}, {"timeout", "api-team", "db-api-owners"}}
	if !reflect.DeepEqual(api.Teams, wantTeams) || !reflect.DeepEqual(metrics.Teams, wantTeams) {
		t.Errorf("teams of api %+v and api-metrics %+v, want %+v", api.Teams, metrics.Teams, wantTeams)
	}
	if reports.Teams != nil {
		t.Errorf("reports pages every default owner, got teams %+v", reports.Teams)
	}
	if got := classOf(cfg.Classes, 429); got != "capacity" {
		t.Errorf("429 is in class %q, want capacity: the file's classes replace the default table", got)
	}
	if got := classOf(cfg.Classes, 520); got != "app" {
		t.Errorf("520 is in class %q, want app (5xx) once the default table is replaced", got)
	}
}

// unsetFields lists the yaml fields of this package's structs that are zero
// everywhere under v (a field counts as set if any list element sets it).
func unsetFields(v reflect.Value) []string {
	set := map[string]bool{}
	all := map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			t := v.Type()
			if t.PkgPath() != reflect.TypeOf(Config{}).PkgPath() || t == reflect.TypeOf(StatusRange{}) {
				return
			}
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if f.Tag.Get("yaml") == "-" {
					continue
				}
				key := t.Name() + "." + f.Name
				all[key] = true
				if !v.Field(i).IsZero() {
					set[key] = true
				}
				walk(v.Field(i))
			}
		}
	}
	walk(v)
	var missing []string
	for k := range all {
		if !set[k] {
			missing = append(missing, k)
		}
	}
	return missing
}

func TestLoadTargetFiles(t *testing.T) {
	cfg, err := Load("testdata/good-target-files.yml")
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{"testdata/good-target-files.yml", "testdata/targets.d/blog.yml", "testdata/targets.d/shop.yml"}
	if !reflect.DeepEqual(cfg.Files, wantFiles) {
		t.Errorf("Files = %q, want %q", cfg.Files, wantFiles)
	}
	var got [][3]string
	for _, tg := range cfg.Targets {
		got = append(got, [3]string{tg.Name, tg.File, tg.Interval.String()})
	}
	want := [][3]string{
		{"home", "testdata/good-target-files.yml", "1m"},
		{"blog", "testdata/targets.d/blog.yml", "2m"},
		{"blog-feed", "testdata/targets.d/blog.yml", "1m"},
		{"shop", "testdata/targets.d/shop.yml", "1m"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets (name, file, interval) = %q, want %q", got, want)
	}
	shop := cfg.Targets[3]
	if got, want := shop.TLS.CAFile, filepath.Join("testdata", "tls", "ca.crt"); got != want {
		t.Errorf("shop ca_file = %q, want %q (relative to the target file)", got, want)
	}
	if shop.Headers["User-Agent"] != "http5xx_exporter" {
		t.Errorf("shop headers = %v, want the global User-Agent", shop.Headers)
	}
}

// TestDefaults checks what a target inherits, one rule per case.
func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "global defaults",
			yaml: "targets: [{name: a, url: 'http://a'}]",
			check: func(t *testing.T, c *Config) {
				g := c.Global
				if g.Interval != DefaultInterval || g.Timeout != DefaultTimeout || g.BodySizeLimit != 1<<20 ||
					g.ValidStatusCodes.String() != "200-399" || !*g.FollowRedirects || g.MaxRedirects != 10 ||
					!reflect.DeepEqual(g.Buckets, []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}) {
					t.Errorf("global = %+v", g)
				}
			},
		},
		{
			name: "target inherits every global setting",
			yaml: `
global: {interval: 1m, timeout: 20s, body_size_limit: 2MiB, valid_status_codes: [200], follow_redirects: false, max_redirects: 3}
targets: [{name: a, url: 'http://a'}]`,
			check: func(t *testing.T, c *Config) {
				a := c.Targets[0]
				if a.Interval != model.Duration(time.Minute) || a.Timeout != model.Duration(20*time.Second) || a.BodySizeLimit != 2<<20 ||
					a.ValidStatusCodes.String() != "200" || a.Follows() || a.MaxRedirects != 3 {
					t.Errorf("target = %+v", a)
				}
			},
		},
		{
			name: "target settings win",
			yaml: `
global: {interval: 1m, timeout: 20s, max_redirects: 3, follow_redirects: false}
targets: [{name: a, url: 'http://a', interval: 30s, timeout: 5s, max_redirects: 0, follow_redirects: true}]`,
			check: func(t *testing.T, c *Config) {
				a := c.Targets[0]
				if a.Interval != model.Duration(30*time.Second) || a.Timeout != model.Duration(5*time.Second) || a.MaxRedirects != 0 || !a.Follows() {
					t.Errorf("target = %+v", a)
				}
			},
		},
		{
			name: "inherited timeout never exceeds the target's interval",
			yaml: "targets: [{name: a, url: 'http://a', interval: 5s}]",
			check: func(t *testing.T, c *Config) {
				if got := c.Targets[0].Timeout; got != model.Duration(5*time.Second) {
					t.Errorf("timeout = %s, want 5s", got)
				}
			},
		},
		{
			name: "null means default",
			yaml: "global: {interval: ~, max_redirects: ~}\ntargets: [{name: a, url: 'http://a', timeout: ~}]",
			check: func(t *testing.T, c *Config) {
				if a := c.Targets[0]; a.Interval != DefaultInterval || a.Timeout != DefaultTimeout || a.MaxRedirects != DefaultMaxRedirects {
					t.Errorf("target = %+v", a)
				}
			},
		},
		{
			name: "headers merge, the target wins whatever the case",
			yaml: `
global: {headers: {User-Agent: global, X-Global: g}}
targets: [{name: a, url: 'http://a', headers: {user-agent: mine}}, {name: b, url: 'http://b'}]`,
			check: func(t *testing.T, c *Config) {
				if got, want := c.Targets[0].Headers, map[string]string{"user-agent": "mine", "X-Global": "g"}; !reflect.DeepEqual(got, want) {
					t.Errorf("a headers = %v, want %v", got, want)
				}
				if got, want := c.Targets[1].Headers, map[string]string{"User-Agent": "global", "X-Global": "g"}; !reflect.DeepEqual(got, want) {
					t.Errorf("b headers = %v, want %v", got, want)
				}
				c.Targets[1].Headers["X-Global"] = "changed"
				if c.Global.Headers["X-Global"] != "g" {
					t.Error("a target's headers share the global map")
				}
			},
		},
		{
			name: "service defaults to the name, method to GET",
			yaml: "targets: [{name: a, url: 'http://a'}, {name: b, url: 'http://b', service: shop, method: HEAD}]",
			check: func(t *testing.T, c *Config) {
				if a, b := c.Targets[0], c.Targets[1]; a.Service != "a" || a.Method != "GET" || b.Service != "shop" || b.Method != "HEAD" {
					t.Errorf("a = %s %s, b = %s %s", a.Service, a.Method, b.Service, b.Method)
				}
			},
		},
		{
			name: "saturation inherits the target's interval and timeout",
			yaml: "targets: [{name: a, url: 'http://a', interval: 15s, timeout: 3s, saturation: {type: nginx_stub_status, url: 'http://a/status', max: 10}}]",
			check: func(t *testing.T, c *Config) {
				s := c.Targets[0].Saturation
				if s.Interval != model.Duration(15*time.Second) || s.Timeout != model.Duration(3*time.Second) || s.BodySizeLimit != 256<<10 {
					t.Errorf("saturation = %+v", s)
				}
			},
		},
		{
			name: "no classes section means the default table",
			yaml: "targets: []",
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(c.Classes, DefaultClasses()) {
					t.Errorf("classes = %+v", c.Classes)
				}
			},
		},
		{
			name: "classes replace the default table",
			yaml: "classes: [{name: busy, codes: [429, 503], owner: sre}]",
			check: func(t *testing.T, c *Config) {
				if len(c.Classes) != 1 || c.Classes[0].Name != "busy" {
					t.Errorf("classes = %+v", c.Classes)
				}
			},
		},
		{
			name: "an empty file is a valid, empty config",
			yaml: "",
			check: func(t *testing.T, c *Config) {
				if len(c.Targets) != 0 || c.Global.Interval != DefaultInterval {
					t.Errorf("config = %+v", c)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}

func TestNewTarget(t *testing.T) {
	got := NewTarget("check", "https://example.com/")
	if got.Service != "check" || got.Method != "GET" || got.Interval != DefaultInterval || got.Timeout != DefaultTimeout ||
		got.BodySizeLimit != DefaultBodySizeLimit || !got.Follows() || got.MaxRedirects != DefaultMaxRedirects || !got.ValidStatusCodes.Contains(200) {
		t.Errorf("NewTarget = %+v", got)
	}
}

// The walk should catch everything, but yaml's own messages are rewritten
// into the same form if one slips through.
func TestDecodeErrorsFallback(t *testing.T) {
	src := &source{file: "f.yml", lines: map[string]int{"targets": 1, "targets[0]": 2, "targets[0].name": 2, "targets[0].port": 3}}
	l := &loader{}
	l.decodeErrors(src, errors.New("yaml: line 7: did not find expected key"))
	l.decodeErrors(src, &yaml.TypeError{Errors: []string{"line 3: field port not found in type config.Target", "line 2: cannot unmarshal !!seq into string", "no line"}})
	want := []string{
		"f.yml:8: did not find expected key (in the block starting on this line)",
		`f.yml:3: targets[0].port: unknown field "port"`,
		"f.yml:2: targets[0].name: cannot unmarshal !!seq into string",
		"f.yml: no line",
	}
	var got []string
	for _, e := range l.errs {
		got = append(got, e.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// A glob that also matches the main file does not read it twice.
func TestTargetFilesSkipMainFile(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"config.yml": "target_files: ['*.yml', 'a.yml']\n",
		"a.yml":      "targets: [{name: a, url: 'http://a'}]\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Load(filepath.Join(dir, "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Targets) != 1 || len(cfg.Files) != 2 || cfg.Files[1] != filepath.Join(dir, "a.yml") {
		t.Errorf("targets %+v from files %q, want target a from config.yml and a.yml once", cfg.Targets, cfg.Files)
	}
}

// Aliases cannot make the walk over a small file unbounded.
func TestDecodeAliasBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("targets:\n  - &t\n    name: a\n    url: 'http://a'\n    valid_status_codes: [")
	b.WriteString(strings.Repeat("200, ", 20))
	b.WriteString("200]\n")
	b.WriteString(strings.Repeat("  - *t\n", 100))
	l := &loader{maxVisits: 1000}
	if _, ok := l.decodeFile("f.yml", []byte(b.String()), &Config{}); ok {
		t.Fatal("decodeFile succeeded")
	}
	if len(l.errs) != 1 || l.errs[0].Msg != "aliases expand to more than 1000 values" {
		t.Errorf("got %v, want one alias budget error", l.errs)
	}
}

// aliasedMistakes is a small file whose every alias repeats the same
// fields-many mistakes: uses × fields problems from a file of fields + uses
// lines.
func aliasedMistakes(fields, uses int) string {
	var b strings.Builder
	b.WriteString("x-bad: &b {")
	for i := range fields {
		fmt.Fprintf(&b, "f%d: 1, ", i)
	}
	b.WriteString("name: a}\ntargets:\n")
	b.WriteString(strings.Repeat("  - *b\n", uses))
	return b.String()
}

// A mistake repeated through aliases does not turn into an error text many
// times the file's size: Load reports the first maxErrors problems, says it
// stopped, and stops looking.
func TestLoadStopsAfterMaxErrors(t *testing.T) {
	data := aliasedMistakes(200, 200) // 40,000 unknown fields through aliases
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 {
		t.Fatalf("%d lines of errors, want %d and a last line saying it stopped", len(lines), maxErrors+1)
	}
	if want := path + ": stopped after 100 problems; fix these and check again"; lines[maxErrors] != want {
		t.Errorf("last line %q, want %q", lines[maxErrors], want)
	}
	if want := path + `:1: x-bad: unknown field "x-bad"`; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}

	// The walk stops too, rather than finding (and dropping) the rest.
	l := &loader{}
	if _, ok := l.decodeFile("f.yml", []byte(data), &Config{}); ok {
		t.Fatal("decodeFile succeeded")
	}
	if len(l.errs) != maxErrors || l.dropped > 1 {
		t.Errorf("%d problems kept and %d more found, want %d and at most 1", len(l.errs), l.dropped, maxErrors)
	}
}

// A glob that reaches the main file under another name (a symlink, as a
// Kubernetes ConfigMap mount or a "current" link makes them) does not read
// it as a target file either.
func TestTargetFilesSkipMainFileByAnotherName(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "config.yml")
	for name, body := range map[string]string{
		"config.yml":    "target_files: ['targets/*.yml']\ntargets: [{name: home, url: 'http://home'}]\n",
		"targets/a.yml": "targets: [{name: a, url: 'http://a'}]\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join("..", "config.yml"), filepath.Join(dir, "targets", "main.yml")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := os.Link(main, filepath.Join(dir, "targets", "hard.yml")); err != nil {
		t.Logf("no hard links here (%v); checking the symlink only", err)
	}
	cfg, err := Load(main)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{main, filepath.Join(dir, "targets", "a.yml")}; !reflect.DeepEqual(cfg.Files, want) {
		t.Errorf("Files = %q, want %q", cfg.Files, want)
	}
	if len(cfg.Targets) != 2 {
		t.Errorf("%d targets, want home and a", len(cfg.Targets))
	}
}

// classOf names the first class whose codes hold code (the file's table has
// no overlaps, so the first is the only one).
func classOf(classes []Class, code int) string {
	for _, c := range classes {
		if c.Codes.Contains(code) {
			return c.Name
		}
	}
	return ""
}

// TestLoadBadShowsNoSecret: the bad configs that hold a credential never
// quote it back.
func TestLoadBadShowsNoSecret(t *testing.T) {
	planted := 0
	for file := range badConfigs {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil || !strings.Contains(string(data), "pl4nted-s3cret") {
			continue
		}
		planted++
		_, err = Load(filepath.Join("testdata", file))
		if err == nil || strings.Contains(err.Error(), "pl4nted-s3cret") {
			t.Errorf("%s: error %v, want one that does not show the secret", file, err)
		}
	}
	if planted < 5 {
		t.Errorf("%d bad configs hold the planted secret, want at least 5", planted)
	}
}
