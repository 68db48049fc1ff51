// Package expect judges an answer against a target's expect conditions
// (config.Condition): the status, a header, the body or a JSON field. An
// answer that met valid_status_codes but fails one is a soft error: the
// application served an error with a success code. The prober measures
// (reads the body up to body_size_limit), this package judges and
// collector/triage classes the outcome like any other failure.
//
// Conditions are compiled once per configuration, never per probe. Regular
// expressions are RE2 (Go's regexp), so matching is linear in the body and
// no pattern can backtrack catastrophically. A failure carries the condition
// and at most MaxEvidence bytes of what failed it, with the values of secret
// parameters (config.DefaultRedactQueryParams and redact_query_params)
// replaced by xxxxx.
package expect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/selector"
)

// MaxEvidence bounds the bytes of the answer a Failure shows.
const MaxEvidence = 96

// maxOperand bounds how much of a condition's own text (a pattern, a value)
// a Failure repeats.
const maxOperand = 64

// lead is how many bytes before a match the evidence shows.
const lead = 24

// lookbehind is how far before the evidence a secret's name may stand and
// still have its value, inside the evidence, redacted.
const lookbehind = 4096

type kind uint8

const (
	kindStatus kind = iota
	kindHeaderPresent
	kindHeaderAbsent
	kindHeaderEquals
	kindHeaderMatches
	kindBodyContains
	kindBodyNotContains
	kindBodyMatches
	kindBodyNotMatches
	kindJSONPresent
	kindJSONEquals
	kindJSONMatches
)

type condition struct {
	kind   kind
	status config.StatusCodes
	header string // canonical name
	field  selector.Field
	text   string // equals value, or the literal of contains
	re     *regexp.Regexp
	// fold, when set, is the one ASCII literal a case-insensitive body
	// pattern stands for ((?i)down for maintenance), found without the
	// regexp engine, which scans such a pattern a hundred times slower.
	fold []byte
	desc string // what must hold, as a person reads it
}

// Conditions are one target's compiled conditions. The zero value and nil
// hold none. Safe for concurrent use.
type Conditions struct {
	list   []condition
	body   bool           // some condition reads the body
	secret *regexp.Regexp // a secret's name and its value (group 1)
}

// Compile compiles cs; redact names the target's extra secret query
// parameters (redact_query_params). Load has validated cs, so an error here
// means a caller skipped validation.
func Compile(cs []config.Condition, redact []string) (*Conditions, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	c := &Conditions{list: make([]condition, 0, len(cs))}
	names := append(config.DefaultRedactQueryParams(), redact...)
	for i := range names {
		names[i] = regexp.QuoteMeta(names[i])
	}
	// name=value, "name": "value", name: value; the value ends at a quote,
	// a separator or white space.
	c.secret = regexp.MustCompile(`(?i)\b(?:` + strings.Join(names, "|") + `)["']?\s*[:=]\s*["']?([^"'&\s,;<>]+)`)
	for i := range cs {
		cd, err := compile(&cs[i])
		if err != nil {
			return nil, fmt.Errorf("expect[%d]: %w", i, err)
		}
		switch cd.kind {
		case kindBodyContains, kindBodyNotContains, kindBodyMatches, kindBodyNotMatches,
			kindJSONPresent, kindJSONEquals, kindJSONMatches:
			c.body = true
		}
		c.list = append(c.list, cd)
	}
	return c, nil
}

func compile(s *config.Condition) (condition, error) {
	var c condition
	var err error
	re := func(expr string) *regexp.Regexp {
		var r *regexp.Regexp
		if err == nil {
			r, err = regexp.Compile(expr)
		}
		return r
	}
	switch subjects := s.Subjects(); {
	case len(subjects) != 1:
		return c, fmt.Errorf("checks %d things, want one", len(subjects))
	case len(s.Status) > 0:
		c.kind, c.status = kindStatus, s.Status
		c.desc = "status is " + s.Status.String()
	case s.Header != "":
		c.header = http.CanonicalHeaderKey(s.Header)
		switch {
		case s.Present:
			c.kind, c.desc = kindHeaderPresent, "header "+c.header+" is present"
		case s.Absent:
			c.kind, c.desc = kindHeaderAbsent, "header "+c.header+" is absent"
		case s.Equals != nil:
			c.kind, c.text = kindHeaderEquals, *s.Equals
			c.desc = "header " + c.header + " equals " + operand(c.text)
		case s.Matches != "":
			c.kind, c.re = kindHeaderMatches, re(s.Matches)
			c.desc = "header " + c.header + " matches " + operand(s.Matches)
		default:
			return c, fmt.Errorf("header %s: no operator", s.Header)
		}
	case s.JSON != "":
		if c.field, err = selector.ParseField(s.JSON); err != nil {
			return c, fmt.Errorf("json %q: %w", s.JSON, err)
		}
		switch {
		case s.Present:
			c.kind, c.desc = kindJSONPresent, "json "+s.JSON+" is present"
		case s.Equals != nil:
			c.kind, c.text = kindJSONEquals, *s.Equals
			c.desc = "json " + s.JSON + " equals " + operand(c.text)
		case s.Matches != "":
			c.kind, c.re = kindJSONMatches, re(s.Matches)
			c.desc = "json " + s.JSON + " matches " + operand(s.Matches)
		default:
			return c, fmt.Errorf("json %s: no operator", s.JSON)
		}
	case s.BodyContains != "":
		c.kind, c.text, c.desc = kindBodyContains, s.BodyContains, "body contains "+operand(s.BodyContains)
	case s.BodyNotContains != "":
		c.kind, c.text, c.desc = kindBodyNotContains, s.BodyNotContains, "body does not contain "+operand(s.BodyNotContains)
	case s.BodyMatches != "":
		c.kind, c.re, c.desc = kindBodyMatches, re(s.BodyMatches), "body matches "+operand(s.BodyMatches)
		c.fold = foldLiteral(s.BodyMatches)
	case s.BodyNotMatches != "":
		c.kind, c.re, c.desc = kindBodyNotMatches, re(s.BodyNotMatches), "body does not match "+operand(s.BodyNotMatches)
		c.fold = foldLiteral(s.BodyNotMatches)
	}
	return c, err
}

// findBody returns where the body pattern first matches, nil when nowhere.
func (cd *condition) findBody(body []byte) []int {
	if cd.fold == nil {
		return cd.re.FindIndex(body)
	}
	if at := indexFoldASCII(body, cd.fold); at >= 0 {
		return []int{at, at + len(cd.fold)}
	}
	return nil
}

// foldLiteral returns the literal of a pattern that is one case-insensitive
// ASCII literal, nil for any other. Literals holding k or s are left to the
// regexp engine: Unicode folds them with the Kelvin sign and the long s,
// which an ASCII search would miss.
func foldLiteral(expr string) []byte {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	if re.Op != syntax.OpLiteral || re.Flags&syntax.FoldCase == 0 || len(re.Rune) == 0 {
		return nil
	}
	lit := make([]byte, 0, len(re.Rune))
	for _, r := range re.Rune {
		if r >= utf8.RuneSelf || r == 'k' || r == 'K' || r == 's' || r == 'S' {
			return nil
		}
		lit = append(lit, byte(r))
	}
	return lit
}

// indexFoldASCII is the first index of lit in b with ASCII letters compared
// without regard to case, -1 when there is none. It remembers where each
// case of the first letter occurs next, so every byte is scanned at most
// twice.
func indexFoldASCII(b, lit []byte) int {
	end := len(b) - len(lit) + 1 // candidates start before end
	if end <= 0 {
		return -1
	}
	first := lit[0]
	cases := [2]byte{first, first}
	if l := first | 0x20; l >= 'a' && l <= 'z' {
		cases = [2]byte{l, first &^ 0x20}
	}
	next := [2]int{-2, -2} // next index of each case at or after i; -1: none
	for i := 0; i < end; {
		at := -1
		for c := range cases {
			if next[c] != -1 && next[c] < i {
				next[c] = bytes.IndexByte(b[i:end], cases[c])
				if next[c] >= 0 {
					next[c] += i
				}
			}
			if next[c] >= 0 && (at < 0 || next[c] < at) {
				at = next[c]
			}
		}
		if at < 0 {
			return -1
		}
		if equalFoldASCII(b[at:at+len(lit)], lit) {
			return at
		}
		i = at + 1
	}
	return -1
}

func equalFoldASCII(a, b []byte) bool {
	for i := range a {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// operand quotes a condition's own text, cut to maxOperand bytes.
func operand(s string) string {
	if len(s) > maxOperand {
		cut := maxOperand
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// ReadsBody reports whether a condition needs the body, which the prober
// then keeps up to body_size_limit.
func (c *Conditions) ReadsBody() bool { return c != nil && c.body }

// Len is the number of conditions.
func (c *Conditions) Len() int {
	if c == nil {
		return 0
	}
	return len(c.list)
}

// Failure is the first condition an answer failed and what it showed
// instead. It is the probe's error, so the status page, /api/v1/status and
// check print it.
type Failure struct {
	Index     int    // the condition's position in expect
	Condition string // what had to hold: `body does not contain "Fatal error"`
	// Got is what the answer showed: at most MaxEvidence bytes of it,
	// quoted, secrets redacted, "…" where it was cut; or a description
	// ("absent", "not JSON: …").
	Got string
}

func (f *Failure) Error() string {
	return fmt.Sprintf("expect[%d] failed: %s; got %s", f.Index, f.Condition, f.Got)
}

// Check returns the first condition the answer fails, nil when it meets
// every one. body is what the prober kept of the body (all of it, up to
// body_size_limit, when ReadsBody).
func (c *Conditions) Check(code int, h http.Header, body []byte) *Failure {
	if c == nil {
		return nil
	}
	var doc any
	var docErr error
	parsed := false
	for i := range c.list {
		cd := &c.list[i]
		got, ok := "", true
		switch cd.kind {
		case kindStatus:
			ok, got = cd.status.Contains(code), strconv.Itoa(code)
		case kindHeaderPresent:
			ok, got = len(h.Values(cd.header)) > 0, "absent"
		case kindHeaderAbsent:
			vs := h.Values(cd.header)
			ok = len(vs) == 0
			if !ok {
				got = c.headerValue(cd.header, vs[0])
			}
		case kindHeaderEquals, kindHeaderMatches:
			vs := h.Values(cd.header)
			ok, got = false, "absent"
			for _, v := range vs {
				if cd.kind == kindHeaderEquals && v == cd.text || cd.kind == kindHeaderMatches && cd.re.MatchString(v) {
					ok = true
					break
				}
			}
			if !ok && len(vs) > 0 {
				got = c.headerValue(cd.header, vs[0])
			}
		case kindBodyContains:
			ok = bytes.Contains(body, []byte(cd.text))
			got = c.excerpt(body, 0)
		case kindBodyNotContains:
			if at := bytes.Index(body, []byte(cd.text)); at >= 0 {
				ok, got = false, c.excerpt(body, at)
			}
		case kindBodyMatches:
			ok = cd.findBody(body) != nil
			got = c.excerpt(body, 0)
		case kindBodyNotMatches:
			if loc := cd.findBody(body); loc != nil {
				ok, got = false, c.excerpt(body, loc[0])
			}
		case kindJSONPresent, kindJSONEquals, kindJSONMatches:
			if !parsed {
				doc, docErr = decode(body)
				parsed = true
			}
			ok, got = c.checkJSON(cd, doc, docErr, body)
		}
		if !ok {
			return &Failure{Index: i, Condition: cd.desc, Got: got}
		}
	}
	return nil
}

// decode reads a JSON document, numbers as written.
func decode(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func (c *Conditions) checkJSON(cd *condition, doc any, docErr error, body []byte) (bool, string) {
	if docErr != nil {
		return false, "not JSON (" + docErr.Error() + "): " + c.excerpt(body, 0)
	}
	v, err := cd.field.Lookup(doc)
	if err != nil {
		return false, err.Error()
	}
	text := scalarText(v)
	switch cd.kind {
	case kindJSONEquals:
		if text == cd.text {
			return true, ""
		}
	case kindJSONMatches:
		if cd.re.MatchString(text) {
			return true, ""
		}
	default:
		return true, ""
	}
	return false, c.excerpt([]byte(text), 0)
}

// scalarText is how equals and matches see a JSON value: a string as
// itself, a number as written, true, false, null, and an object or array
// as compact JSON.
func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// sensitiveHeaders never show their values.
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
}

func (c *Conditions) headerValue(name, v string) string {
	if sensitiveHeaders[name] {
		return strconv.Quote("xxxxx")
	}
	return c.excerpt([]byte(v), 0)
}

// excerpt quotes at most MaxEvidence bytes of b, starting lead bytes before
// the match at [start, end) (the start of b without one), with secret
// values redacted and "…" where it was cut.
func (c *Conditions) excerpt(b []byte, start int) string {
	if len(b) == 0 {
		return `""`
	}
	from := max(0, start-lead)
	for from > 0 && !utf8.RuneStart(b[from]) {
		from--
	}
	to := min(len(b), from+MaxEvidence)
	for to < len(b) && to > from && !utf8.RuneStart(b[to]) {
		to--
	}
	// Secrets whose name stands before the window still have their value
	// redacted inside it.
	scanFrom := max(0, from-lookbehind)
	out := make([]byte, 0, to-from+16)
	pos := from
	for _, m := range c.secret.FindAllSubmatchIndex(b[scanFrom:to], -1) {
		vs, ve := scanFrom+m[2], scanFrom+m[3]
		if ve <= from || vs >= to {
			continue
		}
		vs = max(vs, from)
		if vs < pos {
			continue
		}
		out = append(out, b[pos:vs]...)
		out = append(out, "xxxxx"...)
		pos = min(ve, to)
	}
	out = append(out, b[pos:to]...)
	s := strconv.Quote(string(out))
	if from > 0 {
		s = "…" + s
	}
	if to < len(b) {
		s += "…"
	}
	return s
}
