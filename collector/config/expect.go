package config

import (
	"slices"
	"strings"

	"github.com/http5xx/http5xx_exporter/collector/selector"
)

// MaxConditions bounds the expect conditions of one target (or of global):
// each one may scan the whole body.
const MaxConditions = 32

// Condition is one entry of expect: one thing the answer must show. It
// names exactly one subject, and for header and json one operator:
//
//   - status: [200]                 # the code is one of these
//   - header: Content-Type          # present, absent, equals or matches
//     matches: ^application/json
//   - body_contains: Add to cart    # body_not_contains, body_matches, body_not_matches
//   - json: status                  # a dotted path into a JSON body: present, equals or matches
//     equals: UP
//
// Regular expressions are RE2 (Go's regexp): matching takes time linear in
// the body, which is read up to body_size_limit.
type Condition struct {
	Status StatusCodes `yaml:"status"`
	Header string      `yaml:"header"`
	JSON   string      `yaml:"json"`

	// The operators of header and json.
	Present bool    `yaml:"present"`
	Absent  bool    `yaml:"absent"`
	Equals  *string `yaml:"equals"`
	Matches string  `yaml:"matches"`

	// Body conditions name subject and operator in one key.
	BodyContains    string `yaml:"body_contains"`
	BodyNotContains string `yaml:"body_not_contains"`
	BodyMatches     string `yaml:"body_matches"`
	BodyNotMatches  string `yaml:"body_not_matches"`
}

// Subjects lists what c checks, by yaml key, in a fixed order; a valid
// condition checks exactly one.
func (c *Condition) Subjects() []string {
	var s []string
	add := func(set bool, key string) {
		if set {
			s = append(s, key)
		}
	}
	add(len(c.Status) > 0, "status")
	add(c.Header != "", "header")
	add(c.JSON != "", "json")
	add(c.BodyContains != "", "body_contains")
	add(c.BodyNotContains != "", "body_not_contains")
	add(c.BodyMatches != "", "body_matches")
	add(c.BodyNotMatches != "", "body_not_matches")
	return s
}

// Operators lists the header and json operators c sets, by yaml key.
func (c *Condition) Operators() []string {
	var s []string
	if c.Present {
		s = append(s, "present")
	}
	if c.Absent {
		s = append(s, "absent")
	}
	if c.Equals != nil {
		s = append(s, "equals")
	}
	if c.Matches != "" {
		s = append(s, "matches")
	}
	return s
}

var subjectKeys = []string{"status", "header", "json", "body_contains", "body_not_contains", "body_matches", "body_not_matches"}

// checkExpect reports every condition that names no subject or two, an
// operator its subject does not take, a header name that is no token, a
// JSON path the lookup cannot follow and a regular expression RE2 refuses.
func (r report) checkExpect(p string, cs []Condition) {
	if len(cs) > MaxConditions {
		r.errorf(p, "%d conditions, more than %d", len(cs), MaxConditions)
		return
	}
	for i := range cs {
		c := &cs[i]
		cp := indexPath(p, i)
		subjects, ops := c.Subjects(), c.Operators()
		switch len(subjects) {
		case 0:
			r.errorf(cp, "names nothing to check: set one of %s", strings.Join(subjectKeys, ", "))
			continue
		case 1:
		default:
			r.errorf(cp+"."+subjects[1], "a condition checks one thing: %s and %s are two conditions (two list entries)", subjects[0], subjects[1])
			continue
		}
		switch s := subjects[0]; s {
		case "header":
			if !IsToken(c.Header) {
				r.errorf(cp+".header", "%q is not a valid header name", c.Header)
			}
			r.checkOperators(cp, s, ops, "present", "absent", "equals", "matches")
		case "json":
			if _, err := selector.ParseField(c.JSON); err != nil {
				r.errorf(cp+".json", "%q is not a dotted path such as status or checks.db.status: %v", c.JSON, err)
			}
			r.checkOperators(cp, s, ops, "present", "equals", "matches")
		default:
			if len(ops) > 0 {
				r.errorf(cp+"."+ops[0], "applies to header and json conditions, not to %s", s)
			}
		}
		r.checkRegexp(cp+".matches", c.Matches)
		r.checkRegexp(cp+".body_matches", c.BodyMatches)
		r.checkRegexp(cp+".body_not_matches", c.BodyNotMatches)
	}
}

// checkOperators reports unless exactly one of allowed is set.
func (r report) checkOperators(cp, subject string, ops []string, allowed ...string) {
	for _, op := range ops {
		if !slices.Contains(allowed, op) {
			r.errorf(cp+"."+op, "%s does not apply to a %s condition (it takes %s)", op, subject, orList(allowed))
			return
		}
	}
	switch len(ops) {
	case 0:
		r.errorf(cp+"."+subject, "needs one of %s", orList(allowed))
	case 1:
	default:
		r.errorf(cp+"."+ops[1], "a condition has one operator: %s and %s are two conditions (two list entries)", ops[0], ops[1])
	}
}
