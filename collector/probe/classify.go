package probe

import "github.com/http5xx/http5xx_exporter/collector/config"

// Status codes the classifier has a table entry for; the HTTP/1 parser
// accepts any three-digit code.
const (
	minCode = 100
	maxCode = 999
)

// byHundred names the class of a code that no configured class claims.
var byHundred = [10]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"}

// classUnknown is the class of a reason no configured class claims, and of
// codes outside 100-999.
const classUnknown = "unknown"

// Classifier maps status codes and no-answer reasons to an error class and
// its owner, following the configured class table. Lookups are table reads:
// they allocate nothing and are safe for concurrent use.
type Classifier struct {
	names  []string
	owners []string
	// code and reason hold 1 + the index of the claiming class in names;
	// 0 means no class claims it.
	code   [maxCode - minCode + 1]uint16
	reason [NumReasons]uint16
}

// NewClassifier builds the lookup tables for classes. A code listed on its
// own (a range with Lo == Hi) beats a range that covers it, whatever the
// order; otherwise the first class in order wins. Reason names that are not
// reasons are ignored (config validation reports them).
func NewClassifier(classes []config.Class) *Classifier {
	c := &Classifier{
		names:  make([]string, len(classes)),
		owners: make([]string, len(classes)),
	}
	var explicit [maxCode - minCode + 1]bool
	for i, cl := range classes {
		c.names[i], c.owners[i] = cl.Name, cl.Owner
		idx := uint16(i + 1)
		for _, r := range cl.Codes {
			single := r.Lo == r.Hi
			for code := max(r.Lo, minCode); code <= min(r.Hi, maxCode); code++ {
				k := code - minCode
				switch {
				case c.code[k] == 0:
					c.code[k], explicit[k] = idx, single
				case single && !explicit[k]:
					c.code[k], explicit[k] = idx, true
				}
			}
		}
		for _, name := range cl.Reasons {
			if r, ok := ParseReason(name); ok && c.reason[r] == 0 {
				c.reason[r] = idx
			}
		}
	}
	return c
}

// Code returns the class and owner of an HTTP status code. Codes no class
// claims get "1xx".."5xx" by their hundred and no owner.
func (c *Classifier) Code(code int) (class, owner string) {
	if code < minCode || code > maxCode {
		return classUnknown, ""
	}
	if i := c.code[code-minCode]; i != 0 {
		return c.names[i-1], c.owners[i-1]
	}
	return byHundred[code/100], ""
}

// Reason returns the class and owner of a no-answer reason; "unknown" and no
// owner when no class claims it.
func (c *Classifier) Reason(r Reason) (class, owner string) {
	if r < 0 || r >= NumReasons {
		return classUnknown, ""
	}
	if i := c.reason[r]; i != 0 {
		return c.names[i-1], c.owners[i-1]
	}
	return classUnknown, ""
}

// Classes returns the configured class names, in order.
func (c *Classifier) Classes() []string {
	return append([]string(nil), c.names...)
}
