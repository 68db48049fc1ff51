package stacktest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestCompressPromQL(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"range", `rate(x[5m])`, `rate(x[20s])`},
		{"compound range", `rate(x[1h30m])`, `rate(x[6m])`},
		{"days", `rate(x[1d]) + rate(x[3d])`, `rate(x[1h36m]) + rate(x[4h48m])`},
		{"not a multiple rounds up to the millisecond", `rate(x[10s])`, `rate(x[667ms])`},
		{"subquery with step", `max_over_time(x[30m:1m])`, `max_over_time(x[2m:4s])`},
		{"subquery without step", `max_over_time(x[30m:])`, `max_over_time(x[2m:])`},
		{"offset", `x offset 30m * 2`, `x offset 2m * 2`},
		{"negative offset", `x offset -1h`, `x offset -4m`},
		{"offset across a line break", "x offset\n  30m", "x offset\n  2m"},
		{"names that contain a duration stay", `target:http5xx_errors:ratio_rate5m offset 30m`, `target:http5xx_errors:ratio_rate5m offset 2m`},
		{"metric called like the keyword", `my_offset + offset_total`, `my_offset + offset_total`},
		{"label called offset", `x{offset="5m"}`, `x{offset="5m"}`},
		{"regexp in a string", `x{class!~"[1-4]xx"}[5m]`, `x{class!~"[1-4]xx"}[20s]`},
		{"escaped quote in a string", `x{a="\"[5m]"}[5m]`, `x{a="\"[5m]"}[20s]`},
		{"raw string", "x{a=~`[5m]`}", "x{a=~`[5m]`}"},
		{"comment", "x[5m] # the last [5m]\n", "x[20s] # the last [5m]\n"},
		{"numbers stay", `time() - x < 1800 and y > 0.5`, `time() - x < 1800 and y > 0.5`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := compressPromQL(tc.in, 15)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("compressPromQL(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCompressPromQLErrors(t *testing.T) {
	for _, in := range []string{
		`rate(x[300])`,       // seconds as a number: not a duration this rewrite knows
		`rate(x[5m+1m])`,     // duration arithmetic
		`rate(x[5m)`,         // unterminated
		`x{a="[5m]}`,         // unterminated string
		`x offset 5 * 2`,     // offset without a unit
		`rate(x[$interval])`, // a template, not PromQL
	} {
		if got, err := compressPromQL(in, 15); err == nil {
			t.Errorf("compressPromQL(%q) = %q, want an error", in, got)
		}
	}
}

func TestCompressTime(t *testing.T) {
	in := `# rules
groups:
  - name: g
    interval: 1m
    rules:
      - alert: A
        expr: &a |
          rate(x[5m]) > 0.1
          and y offset 30m
        for: 15m
        keep_firing_for: 5m
        labels:
          severity: warning
          interval: 5m
        annotations:
          summary: over [5m]
      - alert: A
        expr: *a
        for: 1h
global:
  scrape_interval: 15s
  evaluation_interval: 15s
  external_labels:
    timeout: 10s
route:
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
targets:
  - name: t
    timeout: 10s
    headers:
      interval: 5m
`
	out, err := CompressTime([]byte(in), 15)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		"interval: 4s\n",
		"rate(x[20s]) > 0.1\n",
		"and y offset 2m\n",
		"for: 1m\n",
		"keep_firing_for: 20s\n",
		"for: 4m\n",
		"expr: *a\n",
		"scrape_interval: 1s\n",
		"evaluation_interval: 1s\n",
		"group_wait: 2s\n",
		"group_interval: 20s\n",
		"repeat_interval: 16m\n",
		"timeout: 667ms\n",
		// Label, annotation and header values are not durations to rewrite.
		"summary: over [5m]\n",
		"timeout: 10s\n",
		"# rules\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// Label, annotation, external label and header values are not durations
	// to rewrite.
	if n := strings.Count(got, "interval: 5m\n"); n != 2 {
		t.Errorf("the label and the header interval: %d left at 5m, want 2:\n%s", n, got)
	}
	// The anchored expression is rewritten once, not once per alias.
	if strings.Contains(got, "[2s]") {
		t.Errorf("an aliased expression was rewritten twice:\n%s", got)
	}
}

func TestCompressTimeErrors(t *testing.T) {
	for name, in := range map[string]string{
		"bad for":         "groups: [{name: g, rules: [{alert: A, expr: x, for: soon}]}]",
		"bad expr":        "groups: [{name: g, rules: [{alert: A, expr: 'rate(x[300])'}]}]",
		"bad interval":    "global: {scrape_interval: fast}",
		"not YAML at all": "groups: [",
	} {
		t.Run(name, func(t *testing.T) {
			if out, err := CompressTime([]byte(in), 15); err == nil {
				t.Errorf("want an error, got\n%s", out)
			}
		})
	}
	if _, err := CompressTime([]byte("for: 5m"), 0); err == nil {
		t.Error("factor 0: want an error")
	}
}

func TestPointReceivers(t *testing.T) {
	in := `route:
  receiver: default
receivers:
  - name: default
  - name: app-infra
    webhook_configs:
      - url: https://chat.example.com/hooks/app-infra
        send_resolved: true
      - url: https://pager.example.com/app-infra
  - name: sre oncall
    webhook_configs:
      - url: https://pager.example.com/sre
`
	out, err := PointReceivers([]byte(in), "http://127.0.0.1:1234")
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	if n := strings.Count(got, "url: http://127.0.0.1:1234/app-infra\n"); n != 2 {
		t.Errorf("app-infra's two webhooks: %d rewritten, want 2:\n%s", n, got)
	}
	for _, want := range []string{
		"url: http://127.0.0.1:1234/sre%20oncall\n",
		"send_resolved: true\n",
		"  - name: default\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "example.com") {
		t.Errorf("a URL was left pointing elsewhere:\n%s", got)
	}

	for name, in := range map[string]string{
		"slack":       "receivers: [{name: a, slack_configs: [{api_url: 'https://x'}]}]",
		"url_file":    "receivers: [{name: a, webhook_configs: [{url_file: /secret}]}]",
		"no name":     "receivers: [{webhook_configs: [{url: 'https://x'}]}]",
		"no receiver": "route: {receiver: a}",
	} {
		t.Run(name, func(t *testing.T) {
			if out, err := PointReceivers([]byte(in), "http://127.0.0.1:1"); err == nil {
				t.Errorf("want an error, got\n%s", out)
			}
		})
	}
}

// TestCompressTimeRulePack runs the rewrite on the real rule pack and checks
// that it changed durations and nothing else: every other value, every
// label, annotation and name is the same, and each expression is the same
// once its durations are masked.
func TestCompressTimeRulePack(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "rules", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in rules/ (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := CompressTime(src, 15)
			if err != nil {
				t.Fatal(err)
			}
			var before, after any
			if err := yaml.Unmarshal(src, &before); err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(out, &after); err != nil {
				t.Fatal(err)
			}
			changed := sameButDurations(t, "", before, after)
			if changed == 0 {
				t.Error("no duration was rewritten")
			}
		})
	}
}

// promqlDuration masks the durations compressPromQL rewrites.
var promqlDuration = regexp.MustCompile(`\[(\d+(ms|[smhdwy]))+(:((\d+(ms|[smhdwy]))+)?)?\]|offset\s+-?(\d+(ms|[smhdwy]))+`)

// sameButDurations compares two decoded YAML documents, allowing only
// durations to differ; it returns how many values differ.
func sameButDurations(t *testing.T, path string, a, b any) int {
	t.Helper()
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			t.Errorf("%s: keys differ", path)
			return 0
		}
		n := 0
		for k, x := range av {
			p := path + "." + k
			y, ok := bv[k]
			if !ok {
				t.Errorf("%s: missing after the rewrite", p)
				continue
			}
			xs, isStr := x.(string)
			ys, _ := y.(string)
			switch {
			case k == "expr" && isStr:
				if promqlDuration.ReplaceAllString(xs, "D") != promqlDuration.ReplaceAllString(ys, "D") {
					t.Errorf("%s: more than durations changed:\n%s\n%s", p, xs, ys)
				}
				if xs != ys {
					n++
				}
			case durationKeys[k] && isStr:
				want, err := CompressDuration(xs, 15)
				if err != nil || ys != want {
					t.Errorf("%s: %q became %q, want %q (%v)", p, xs, ys, want, err)
				}
				n++
			default:
				n += sameButDurations(t, p, x, y)
			}
		}
		return n
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			t.Errorf("%s: list lengths differ", path)
			return 0
		}
		n := 0
		for i := range av {
			n += sameButDurations(t, fmt.Sprintf("%s[%d]", path, i), av[i], bv[i])
		}
		return n
	default:
		if a != b {
			t.Errorf("%s: %v became %v", path, a, b)
		}
		return 0
	}
}
