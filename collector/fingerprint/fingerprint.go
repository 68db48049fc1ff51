// Package fingerprint decides which hop of the request path produced a 5xx
// answer — the CDN edge, a load balancer, a reverse proxy or the origin —
// from the answer's headers and the first bytes of its body.
//
// The rule of thumb is "who wrote this page": a hop that generates an error
// writes its own default page or stamps a header it only sets on answers it
// produced itself. Headers every answer passing through a hop carries (CF-Ray,
// Server: cloudflare, X-Amz-Cf-Id, Via) prove the hop was on the path, not that
// it produced the error, so they never decide on their own. When the evidence
// is missing or contradicts itself the answer is "unknown": a wrong page is
// worse than no guess.
//
// Some pages also prove a cause other than their status code suggests:
// haproxy's 503 "No server is available" is a dead backend (the 502 story),
// not a full site. Match says so in Match.As and Match.Cause; collector/triage
// turns that into the class and owner.
package fingerprint

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// MaxBody bounds body inspection: Match looks at most at this many leading
// bytes, whatever it is given (the prober keeps the same amount).
const MaxBody = 4096

// Matcher attributes answers to a layer and product. It is immutable after
// New and safe for concurrent use.
type Matcher struct {
	rules    []rule
	builtins builtins
	products []string
}

// Answer is what the fingerprints look at: one HTTP answer.
type Answer struct {
	Code int
	// Phrase is the status line's reason phrase as the hop sent it
	// ("Service Temporarily Unavailable"); products word some of theirs
	// their own way.
	Phrase string
	Header http.Header
	// Body holds the first bytes of the body (at most MaxBody are read);
	// empty for HEAD.
	Body []byte
}

// Match is what the fingerprints conclude about one answer.
type Match struct {
	// Layer and Product: the hop that wrote the answer (contract.Layers),
	// the product it runs.
	Layer, Product string
	// As is set when the page proves another cause than its code suggests:
	// the code whose story the answer tells (502 for a dead backend behind a
	// 503 page). 0 when the code speaks for itself.
	As int
	// Class is the class a user rule names, "" when it names none.
	Class string
	// Cause explains the verdict to a responder, "" when there is nothing to
	// add to the code.
	Cause string
	// CannedRetryAfter: the product sends this Retry-After with every page of
	// this kind, so it says nothing about a planned maintenance.
	CannedRetryAfter bool
}

// rule is a compiled config.FingerprintRule.
type rule struct {
	header  string         // canonical header name, "" when unset
	match   *regexp.Regexp // on the header's values; nil means "present"
	body    *regexp.Regexp // on the body prefix; nil when unset
	layer   string
	product string
	class   string
	cause   string
}

// New compiles the user rules; they are tried in order before the built-in
// ones. A rule matches when every pattern it sets matches.
func New(rules []config.FingerprintRule) (*Matcher, error) {
	m := &Matcher{rules: make([]rule, 0, len(rules)), builtins: newBuiltins()}
	products := append([]string{contract.ProductUnknown}, builtinProducts()...)
	for i, r := range rules {
		c, err := compile(r)
		if err != nil {
			return nil, fmt.Errorf("fingerprints[%d]: %w", i, err)
		}
		m.rules = append(m.rules, c)
		products = append(products, c.product)
	}
	slices.Sort(products)
	m.products = slices.Compact(products)
	return m, nil
}

func compile(r config.FingerprintRule) (rule, error) {
	c := rule{layer: r.Layer, product: r.Product, class: r.Class}
	if !slices.Contains(contract.Layers(), r.Layer) {
		return c, fmt.Errorf("layer %q is not one of %s", r.Layer, strings.Join(contract.Layers(), ", "))
	}
	if c.product == "" {
		c.product = contract.ProductUnknown
	}
	if r.Header == "" && r.Body == "" {
		return c, fmt.Errorf("rule for product %q sets neither header nor body", c.product)
	}
	if c.class != "" {
		c.cause = "fingerprint rule for " + c.product
	}
	if r.Match != "" && r.Header == "" {
		return c, fmt.Errorf("match %q needs a header to apply to", r.Match)
	}
	var err error
	if r.Header != "" {
		c.header = http.CanonicalHeaderKey(r.Header)
		if r.Match != "" {
			if c.match, err = regexp.Compile(r.Match); err != nil {
				return c, fmt.Errorf("match: %w", err)
			}
		}
	}
	if r.Body != "" {
		if c.body, err = regexp.Compile(r.Body); err != nil {
			return c, fmt.Errorf("body: %w", err)
		}
	}
	return c, nil
}

func (r *rule) matches(h http.Header, body []byte) bool {
	if r.header != "" {
		vs := h[r.header]
		if len(vs) == 0 {
			return false
		}
		if r.match != nil && !slices.ContainsFunc(vs, r.match.MatchString) {
			return false
		}
	}
	return r.body == nil || r.body.Match(body)
}

// Match says which hop and product wrote a, and what cause its page proves.
// It is meant for 5xx answers; a.Header may be nil. Only the first MaxBody
// bytes of the body are read. It allocates nothing for the built-in rules.
func (m *Matcher) Match(a *Answer) Match {
	body := a.Body
	if len(body) > MaxBody {
		body = body[:MaxBody]
	}
	for i := range m.rules {
		if r := &m.rules[i]; r.matches(a.Header, body) {
			return Match{Layer: r.layer, Product: r.product, Class: r.class, Cause: r.cause}
		}
	}
	return m.builtins.match(a, body)
}

// Products lists every product Match can return, sorted: the built-in ones,
// the configured ones and "unknown".
func (m *Matcher) Products() []string {
	return slices.Clone(m.products)
}
