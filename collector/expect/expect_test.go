package expect

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

func str(s string) *string { return &s }

func TestCheck(t *testing.T) {
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}, "X-Served-By": {"web-1", "cache-2"}}
	jsonH := http.Header{"Content-Type": {"application/json"}}
	health := `{"status":"UP","checks":{"db":{"status":"DOWN","latency_ms":12}},"ok":true,"n":1.50,"none":null,"list":[{"id":7}]}`
	page := "<!doctype html><title>Shop</title><main>Add to cart</main>"
	tests := []struct {
		name   string
		conds  []config.Condition
		code   int
		header http.Header
		body   string
		// want is "" when every condition holds, else the failure's text
		// must contain it.
		want string
	}{
		{"no conditions", nil, 200, html, page, ""},
		{"status holds", []config.Condition{{Status: config.StatusCodes{{Lo: 200, Hi: 200}}}}, 200, html, page, ""},
		{"status fails", []config.Condition{{Status: config.StatusCodes{{Lo: 200, Hi: 200}}}}, 204, html, "", `expect[0] failed: status is 200; got 204`},
		{"status range", []config.Condition{{Status: config.StatusCodes{{Lo: 200, Hi: 299}}}}, 302, html, "", `status is 2xx; got 302`},
		{"header present", []config.Condition{{Header: "x-served-by", Present: true}}, 200, html, page, ""},
		{"header present fails", []config.Condition{{Header: "X-Cache", Present: true}}, 200, html, page, `header X-Cache is present; got absent`},
		{"header absent", []config.Condition{{Header: "X-Debug", Absent: true}}, 200, html, page, ""},
		{"header absent fails", []config.Condition{{Header: "Content-Type", Absent: true}}, 200, html, page, `header Content-Type is absent; got "text/html; charset=utf-8"`},
		{"header equals any value", []config.Condition{{Header: "X-Served-By", Equals: str("cache-2")}}, 200, html, page, ""},
		{"header equals fails", []config.Condition{{Header: "X-Served-By", Equals: str("web-2")}}, 200, html, page, `header X-Served-By equals "web-2"; got "web-1"`},
		{"header equals absent", []config.Condition{{Header: "X-None", Equals: str("")}}, 200, html, page, `got absent`},
		{"header matches", []config.Condition{{Header: "Content-Type", Matches: "^text/html"}}, 200, html, page, ""},
		{"header matches fails", []config.Condition{{Header: "Content-Type", Matches: "^application/json"}}, 200, html, page, `header Content-Type matches "^application/json"; got "text/html; charset=utf-8"`},
		{"cookie value never shown", []config.Condition{{Header: "Set-Cookie", Absent: true}}, 200, http.Header{"Set-Cookie": {"session=s3cr3t"}}, page, `got "xxxxx"`},
		{"body contains", []config.Condition{{BodyContains: "Add to cart"}}, 200, html, page, ""},
		{"body contains fails shows the start", []config.Condition{{BodyContains: "Checkout"}}, 200, html, page, `body contains "Checkout"; got "<!doctype html><title>Shop</title><main>Add to cart</main>"`},
		{"body contains on empty body", []config.Condition{{BodyContains: "x"}}, 200, html, "", `got ""`},
		{"body does not contain", []config.Condition{{BodyNotContains: "Fatal error"}}, 200, html, page, ""},
		{"body does not contain fails shows the match", []config.Condition{{BodyNotContains: "Fatal error"}}, 200, html,
			strings.Repeat("padding ", 20) + "<b>Fatal error</b>: Uncaught Error in /var/www/index.php" + strings.Repeat(" tail", 40),
			`body does not contain "Fatal error"; got …"ding padding padding <b>Fatal error</b>: Uncaught Error in /var/www/index.php tail tail tail tai"…`},
		{"body matches", []config.Condition{{BodyMatches: `<title>[^<]*Shop`}}, 200, html, page, ""},
		{"body matches fails", []config.Condition{{BodyMatches: `(?i)<title>checkout`}}, 200, html, page, `body matches "(?i)<title>checkout"; got "<!doctype`},
		{"body does not match", []config.Condition{{BodyNotMatches: `(?i)maintenance`}}, 200, html, page, ""},
		{"body does not match fails", []config.Condition{{BodyNotMatches: `(?i)down for maintenance`}}, 200, html, "<h1>Down for Maintenance</h1>", `body does not match "(?i)down for maintenance"; got "<h1>Down for Maintenance</h1>"`},
		{"json equals string", []config.Condition{{JSON: "status", Equals: str("UP")}}, 200, jsonH, health, ""},
		{"json equals nested fails", []config.Condition{{JSON: "checks.db.status", Equals: str("UP")}}, 200, jsonH, health, `json checks.db.status equals "UP"; got "DOWN"`},
		{"json equals number as written", []config.Condition{{JSON: "n", Equals: str("1.50")}}, 200, jsonH, health, ""},
		{"json equals bool", []config.Condition{{JSON: "ok", Equals: str("true")}}, 200, jsonH, health, ""},
		{"json equals null", []config.Condition{{JSON: "none", Equals: str("null")}}, 200, jsonH, health, ""},
		{"json array index", []config.Condition{{JSON: "list.0.id", Equals: str("7")}}, 200, jsonH, health, ""},
		{"json object as compact JSON", []config.Condition{{JSON: "checks.db", Matches: `"status":"DOWN"`}}, 200, jsonH, health, ""},
		{"json matches", []config.Condition{{JSON: "status", Matches: `^(UP|OK)$`}}, 200, jsonH, health, ""},
		{"json matches fails", []config.Condition{{JSON: "checks.db.latency_ms", Matches: `^[0-9]$`}}, 200, jsonH, health, `json checks.db.latency_ms matches "^[0-9]$"; got "12"`},
		{"json present", []config.Condition{{JSON: "checks.db", Present: true}}, 200, jsonH, health, ""},
		{"json missing field", []config.Condition{{JSON: "checks.cache", Present: true}}, 200, jsonH, health, `json checks.cache is present; got no "checks.cache"`},
		{"json not JSON", []config.Condition{{JSON: "status", Equals: str("UP")}}, 200, html, page, `got not JSON (invalid character '<' looking for beginning of value): "<!doctype`},
		{"json through a string", []config.Condition{{JSON: "status.x", Present: true}}, 200, jsonH, health, `"status" is not an object or array`},
		{"first failure wins", []config.Condition{{BodyContains: "Add to cart"}, {Header: "X-A", Present: true}, {Header: "X-B", Present: true}}, 200, html, page, `expect[1] failed: header X-A is present`},
		{"secret in the evidence", []config.Condition{{BodyNotContains: "error"}}, 200, html, `{"error":"denied","token":"abc123","api_key": "k-99"}`, `got "{\"error\":\"denied\",\"token\":\"xxxxx\",\"api_key\": \"xxxxx\"}"`},
		{"secret named before the evidence", []config.Condition{{BodyNotContains: "FAILED"}}, 200, html,
			"password=" + strings.Repeat("p", 200) + " FAILED", `got …"xxxxx FAILED"`},
		{"control bytes quoted", []config.Condition{{BodyNotContains: "bad"}}, 200, html, "\x1b[31mbad\x00\xff", `got "\x1b[31mbad\x00\xff"`},
		{"long operand cut", []config.Condition{{BodyContains: strings.Repeat("a", 100)}}, 200, html, "x", `body contains "` + strings.Repeat("a", 64) + `"…; got "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compile(tt.conds, []string{"session"})
			if err != nil {
				t.Fatal(err)
			}
			f := c.Check(tt.code, tt.header, []byte(tt.body))
			switch {
			case tt.want == "" && f != nil:
				t.Errorf("failed: %v", f)
			case tt.want != "" && f == nil:
				t.Errorf("held, want a failure with %s", tt.want)
			case f != nil && !strings.Contains(f.Error(), tt.want):
				t.Errorf("failure\n got: %s\nwant: …%s…", f.Error(), tt.want)
			}
			if f != nil && strings.Contains(f.Error(), "s3cr3t") {
				t.Errorf("a secret leaked: %s", f)
			}
		})
	}
}

// TestEvidenceBounded: whatever the body, a failure shows at most
// MaxEvidence bytes of it (quoting aside) and never a secret's value.
func TestEvidenceBounded(t *testing.T) {
	c, err := Compile([]config.Condition{{BodyNotMatches: "x+"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{
		strings.Repeat("x", 1<<20),
		strings.Repeat("é", 1<<10) + "x",
		"token=" + strings.Repeat("S", 3000) + "x",
	} {
		f := c.Check(200, nil, []byte(body))
		if f == nil {
			t.Fatal("held")
		}
		if len(f.Got) > MaxEvidence*4+16 { // strconv.Quote writes a byte as at most 4
			t.Errorf("evidence of %d bytes", len(f.Got))
		}
		if strings.Contains(f.Got, "SSS") {
			t.Errorf("secret value shown: %s", f.Got)
		}
		if strings.ContainsRune(f.Got, '\uFFFD') {
			t.Errorf("evidence cut inside a character: %s", f.Got)
		}
	}
}

// TestCompileNil: no conditions compile to nil, which holds for everything.
func TestCompileNil(t *testing.T) {
	c, err := Compile(nil, nil)
	if err != nil || c != nil {
		t.Fatalf("Compile(nil) = %v, %v", c, err)
	}
	if c.ReadsBody() || c.Len() != 0 || c.Check(500, nil, nil) != nil {
		t.Error("nil Conditions are not empty")
	}
	c, err = Compile([]config.Condition{{Status: config.StatusCodes{{Lo: 200, Hi: 200}}}}, nil)
	if err != nil || c.ReadsBody() {
		t.Errorf("a status condition reads the body: %v", err)
	}
	c, err = Compile([]config.Condition{{JSON: "a", Present: true}}, nil)
	if err != nil || !c.ReadsBody() {
		t.Errorf("a json condition does not read the body: %v", err)
	}
}

// TestFoldLiteral: a case-insensitive ASCII literal is searched without the
// regexp engine, and finds exactly what the engine finds; anything else is
// left to the engine.
func TestFoldLiteral(t *testing.T) {
	tests := []struct {
		expr string
		fast bool
	}{
		{"(?i)down for maintenance", true},
		{"(?i)<title>error", true},
		{"(?i)x", true},
		{"(?i)500 internal", true},
		{"down for maintenance", false}, // the engine is fast on a plain literal already
		{"(?i)down|up", false},
		{"(?i)fatal.error", false},
		{"(?i)disk", false},         // k folds with the Kelvin sign
		{"(?i)maintenances", false}, // s folds with the long s
		{"(?i)café", false},
	}
	bodies := []string{
		"", "d", "DOWN FOR MAINTENANCE", "we are Down For Maintenance.", "down for maintenanc",
		"dddd down for  maintenance dOwN fOr MaInTeNaNcE", "<TITLE>Error</title>", "X", "xx", "500 INTERNAL",
		"\xffdown for maintenance\x00", "DISK \u212aelvin", "ſ", strings.Repeat("d", 1000) + "own for maintenance",
	}
	for _, tt := range tests {
		lit := foldLiteral(tt.expr)
		if (lit != nil) != tt.fast {
			t.Errorf("%s: fast path %v, want %v", tt.expr, lit != nil, tt.fast)
			continue
		}
		c, err := Compile([]config.Condition{{BodyNotMatches: tt.expr}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(tt.expr)
		for _, body := range bodies {
			got, want := c.list[0].findBody([]byte(body)), re.FindIndex([]byte(body))
			if !slices.Equal(got, want) {
				t.Errorf("%s in %q: %v, the regexp engine says %v", tt.expr, body, got, want)
			}
		}
	}
}
