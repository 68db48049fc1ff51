package expect

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// FuzzCheck: whatever the body and header a target sends, Check neither
// panics nor shows more than MaxEvidence bytes of it, nor a secret's value,
// and its text is valid UTF-8.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(`{"status":"DOWN","token":"abcdef"}`), "text/html")
	f.Add([]byte("<b>Fatal error</b>: token=abcdef \xff\xfe"), "application/json")
	f.Add([]byte(strings.Repeat("é", 100)+"maintenance"), "x")
	f.Add([]byte(`[[[[[[[[[[[[[[1]]]]]]]]]]]]]]`), "")
	c, err := Compile([]config.Condition{
		{Header: "X-Status", Matches: "^ok$"},
		{BodyNotMatches: "(?i)maintenance|fatal"},
		{JSON: "status", Equals: ptr("UP")},
		{BodyContains: "never there"},
	}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		h := http.Header{"X-Status": {header}}
		fl := c.Check(200, h, body)
		if fl == nil {
			return // the header is ok, the body clean, UP and holds "never there"
		}
		if !utf8.ValidString(fl.Error()) {
			t.Errorf("invalid UTF-8: %q", fl.Error())
		}
		if len(fl.Got) > MaxEvidence*4+200 { // quoting, "…", a JSON error's text
			t.Errorf("%d bytes of evidence", len(fl.Got))
		}
		if strings.Contains(string(body), "token=abcdef") && strings.Contains(fl.Got, "abcdef") {
			t.Errorf("secret shown: %s", fl.Got)
		}
	})
}

func ptr(s string) *string { return &s }

// FuzzFoldLiteral: the search of a case-insensitive literal without the
// regexp engine finds exactly what the engine finds, in any body.
func FuzzFoldLiteral(f *testing.F) {
	f.Add([]byte("We are DOWN for Maintenance"), "(?i)down for maintenance")
	f.Add([]byte("ddddown"), "(?i)dow")
	f.Add([]byte("<TiTlE>"), "(?i)<title>")
	f.Fuzz(func(t *testing.T, body []byte, expr string) {
		if len(expr) > 64 || foldLiteral(expr) == nil {
			return
		}
		c, err := Compile([]config.Condition{{BodyMatches: expr}}, nil)
		if err != nil {
			return
		}
		got, want := c.list[0].findBody(body), regexp.MustCompile(expr).FindIndex(body)
		if !slices.Equal(got, want) {
			t.Errorf("%q in %q: %v, the regexp engine says %v", expr, body, got, want)
		}
	})
}
