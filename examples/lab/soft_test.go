//go:build lab

package lab

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/examples/loopback"
)

// TestSoftErrorsFromPHP: PHP with display_errors on prints a fatal error
// into the page and keeps status 200. The prober fails such an answer with
// soft_error from the built-in fingerprints alone (no expect condition),
// and an expect condition catches what no fingerprint can prove; a page
// that is fine stays fine. PHP itself writes every answer (its built-in
// web server, the same error handler as php-fpm).
func TestSoftErrorsFromPHP(t *testing.T) {
	bin, err := findBinary("php8.2")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	pages := map[string]string{
		"fatal.php": "<?php\necho '<h1>Shop</h1>';\nthrow new RuntimeException('lab: the database is down');\n",
		"parse.php": "<?php\necho 'x'\n}\n",
		"ok.php":    "<?php\necho '<h1>Shop</h1> Add to cart';\n",
		"maint.php": "<?php\necho '<h1>Back soon: down for maintenance</h1>';\n",
	}
	if err := os.MkdirAll(www, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range pages {
		if err := os.WriteFile(filepath.Join(www, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port, err := loopback.Port()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p := startProcess(t, dir, "php", bin, "php.log", []string{"PHP_CLI_SERVER_WORKERS=1"},
		"-n", "-d", "display_errors=1", "-d", "html_errors=1", "-S", addr, "-t", www)
	if err := waitListening(port, p); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		page   string
		expect []config.Condition
		reason contract.Reason
		err    string
	}{
		{"fatal.php", nil, contract.ReasonSoftError, "PHP printed a fatal error"},
		{"parse.php", nil, contract.ReasonSoftError, "PHP printed a fatal error"},
		{"ok.php", nil, contract.ReasonNone, ""},
		{"ok.php", []config.Condition{{BodyContains: "Add to cart"}}, contract.ReasonNone, ""},
		{"maint.php", nil, contract.ReasonNone, ""},
		{"maint.php", []config.Condition{{BodyNotMatches: "(?i)down for maintenance"}}, contract.ReasonSoftError, `got "<h1>Back soon: down for maintenance</h1>"`},
	}
	for _, tt := range tests {
		tgt := config.NewTarget("php", "http://"+addr+"/"+tt.page)
		tgt.Expect = tt.expect
		pr, err := probe.New(&tgt, probe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res := pr.Probe(context.Background())
		pr.Close()
		if res.StatusCode != 200 || res.Reason != tt.reason {
			t.Errorf("%s (%d conditions): code %d reason %q (%v), want 200 %q", tt.page, len(tt.expect), res.StatusCode, res.Reason, res.Err, tt.reason)
			continue
		}
		if tt.reason == contract.ReasonSoftError && (res.Class != "app" || res.Owner != "app-team" || !strings.Contains(res.Err.Error(), tt.err)) {
			t.Errorf("%s: class %q owner %q error %v, want app, app-team and %q", tt.page, res.Class, res.Owner, res.Err, tt.err)
		}
	}
}
