package triage

import (
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

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

// classifier maps status codes and no-answer reasons to a row of the
// configured class table. Lookups are table reads: they allocate nothing and
// are safe for concurrent use.
type classifier struct {
	names      []string
	owners     []string
	firstMoves []string
	// code and reason hold 1 + the index of the claiming class in names;
	// 0 means no class claims it.
	codes   [maxCode - minCode + 1]uint16
	reasons [contract.NumReasons]uint16
}

// newClassifier builds the lookup tables for classes. A code listed on its
// own (a range with Lo == Hi) beats a range that covers it, whatever the
// order; otherwise the first class in order wins. Reason names that are not
// reasons are ignored (config validation reports them).
func newClassifier(classes []config.Class) *classifier {
	c := &classifier{
		names:      make([]string, len(classes)),
		owners:     make([]string, len(classes)),
		firstMoves: make([]string, len(classes)),
	}
	var explicit [maxCode - minCode + 1]bool
	for i, cl := range classes {
		c.names[i], c.owners[i], c.firstMoves[i] = cl.Name, cl.Owner, cl.FirstMove
		idx := uint16(i + 1)
		for _, r := range cl.Codes {
			single := r.Lo == r.Hi
			for code := max(r.Lo, minCode); code <= min(r.Hi, maxCode); code++ {
				k := code - minCode
				switch {
				case c.codes[k] == 0:
					c.codes[k], explicit[k] = idx, single
				case single && !explicit[k]:
					c.codes[k], explicit[k] = idx, true
				}
			}
		}
		for _, name := range cl.Reasons {
			if r, ok := contract.ParseReason(name); ok && c.reasons[r] == 0 {
				c.reasons[r] = idx
			}
		}
	}
	return c
}

// code returns the class table row of an HTTP status code, -1 when no class
// claims it.
func (c *classifier) code(code int) int {
	if code < minCode || code > maxCode {
		return -1
	}
	return int(c.codes[code-minCode]) - 1
}

// reason returns the class table row of a no-answer reason, -1 when no
// class claims it.
func (c *classifier) reason(r contract.Reason) int {
	if r >= contract.NumReasons {
		return -1
	}
	return int(c.reasons[r]) - 1
}

// codeClass is the class and row of code: its row's, else "1xx".."9xx"
// by its hundred and row -1, "unknown" outside 100-999.
func (c *classifier) codeClass(code int) (class string, row int) {
	if row = c.code(code); row >= 0 {
		return c.names[row], row
	}
	if code < minCode || code > maxCode {
		return classUnknown, -1
	}
	return byHundred[code/100], -1
}

// reasonClass is the class and row of a reason: its row's, else
// "unknown" and row -1.
func (c *classifier) reasonClass(r contract.Reason) (class string, row int) {
	if row = c.reason(r); row >= 0 {
		return c.names[row], row
	}
	return classUnknown, -1
}

// byName returns the class table row named name, -1 when there is none.
func (c *classifier) byName(name string) int {
	for i, n := range c.names {
		if n == name {
			return i
		}
	}
	return -1
}
