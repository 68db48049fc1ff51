package probe

import (
	"net/http"
	"time"
)

// Phase is one step of an HTTP exchange, as seen through net/http/httptrace.
type Phase int

// The phases, in the order they happen.
const (
	PhaseResolve    Phase = iota // DNS lookup
	PhaseConnect                 // TCP connect
	PhaseTLS                     // TLS handshake
	PhaseProcessing              // request written until first response byte
	PhaseTransfer                // first byte until body read (or limit)
	NumPhases
)

var phaseNames = [NumPhases]string{"resolve", "connect", "tls", "processing", "transfer"}

func (p Phase) String() string {
	if p < 0 || p >= NumPhases {
		return "unknown"
	}
	return phaseNames[p]
}

// Reason says why a probe got no HTTP answer. ReasonNone means it got one.
type Reason int

// The no-answer reasons of the metric contract.
const (
	ReasonNone Reason = iota
	ReasonDNS
	ReasonConnectRefused
	ReasonConnectTimeout
	ReasonTLS
	ReasonTimeout
	ReasonReset
	ReasonMalformed
	ReasonTooLarge
	ReasonRedirectLoop
	NumReasons
)

var reasonNames = [NumReasons]string{"", "dns", "connect_refused", "connect_timeout", "tls", "timeout", "reset", "malformed", "too_large", "redirect_loop"}

func (r Reason) String() string {
	if r < 0 || r >= NumReasons {
		return "unknown"
	}
	return reasonNames[r]
}

// ParseReason returns the Reason named s, and false when s names none.
func ParseReason(s string) (Reason, bool) {
	for i := ReasonDNS; i < NumReasons; i++ {
		if reasonNames[i] == s {
			return i, true
		}
	}
	return ReasonNone, false
}

// Reasons returns every no-answer reason (not ReasonNone).
func Reasons() []Reason {
	rs := make([]Reason, 0, NumReasons-1)
	for i := ReasonDNS; i < NumReasons; i++ {
		rs = append(rs, i)
	}
	return rs
}

// Result is everything one probe learned. It is the value the rest of the
// exporter consumes: metrics, the status store, history, deploy detection.
type Result struct {
	Target string    // configured target name
	Start  time.Time // when the probe started
	// Duration is the whole probe, from start until the body was read or the
	// probe gave up.
	Duration time.Duration
	// Phases holds each phase's duration; PhaseSeen says which phases happened
	// (no TLS on plain HTTP, no resolve for an IP literal).
	Phases    [NumPhases]time.Duration
	PhaseSeen [NumPhases]bool

	// StatusCode is the final HTTP status code, 0 when there was no answer.
	StatusCode int
	// Reason is why the probe got no (complete) answer; ReasonNone when it
	// got one. A non-zero Reason is a failure even when StatusCode is set:
	// the headers arrived but the body was over the limit (too_large), timed
	// out (timeout) or broke off (reset, malformed), or the answer was a
	// redirect the policy refused (redirect_loop; StatusCode is that 3xx).
	Reason Reason
	// Err is the underlying error, for logs and the check command.
	Err error

	// Class and Owner come from the error-class table: of Reason when it is
	// set, else of StatusCode; "2xx".."4xx" and no owner for answers outside
	// every class, "unknown" for a reason outside every class.
	Class string
	Owner string
	// Success is true when the answer met the target's valid_status_codes.
	Success bool

	// RetryAfter is the Retry-After of a 503/429 answer, 0 when absent.
	RetryAfter time.Duration
	// Header is the final response's header (nil without an answer).
	Header http.Header
	// BodyPrefix holds the first bytes of the body of a 5xx answer (at most
	// BodyPrefixLimit), for error-layer fingerprinting; nil otherwise.
	BodyPrefix []byte
	// Layer and Product say which hop produced a 5xx answer (cdn,
	// load_balancer, proxy, origin, unknown); empty for other answers.
	Layer   string
	Product string
	// BodyBytes is how many body bytes were read.
	BodyBytes int64
	// Redirects counts followed redirects.
	Redirects int
	// RemoteAddr is the address that answered, when known.
	RemoteAddr string
}

// BodyPrefixLimit bounds Result.BodyPrefix.
const BodyPrefixLimit = 4096

// Answered reports whether the probe got an HTTP answer with a status code.
func (r *Result) Answered() bool { return r.StatusCode != 0 }

// PhasesSeconds is the phases_seconds object of the JSON answers: every
// phase a probe went through (seen), in seconds, by phase name.
func PhasesSeconds(phases *[NumPhases]time.Duration, seen *[NumPhases]bool) map[string]float64 {
	m := make(map[string]float64, NumPhases)
	for ph := Phase(0); ph < NumPhases; ph++ {
		if seen[ph] {
			m[ph.String()] = phases[ph].Seconds()
		}
	}
	return m
}
