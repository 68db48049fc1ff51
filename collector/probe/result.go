package probe

import (
	"net/http"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

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
	Phases    [contract.NumPhases]time.Duration
	PhaseSeen [contract.NumPhases]bool

	// StatusCode is the final HTTP status code, 0 when there was no answer.
	StatusCode int
	// Phrase is the final status line's reason phrase as sent ("Service
	// Temporarily Unavailable"), at most maxPhrase bytes.
	Phrase string
	// Reason is why the probe got no (complete) answer; contract.ReasonNone when it
	// got one. A non-zero Reason is a failure even when StatusCode is set:
	// the headers arrived but the body was over the limit (too_large), timed
	// out (timeout) or broke off (reset, malformed), or the answer was a
	// redirect the policy refused (redirect_loop; StatusCode is that 3xx).
	Reason contract.Reason
	// Err is the underlying error, for logs and the check command.
	Err error

	// Verdict is the triage of the outcome: class, owner, layer, product
	// and first move, from the finisher of the configuration probed with.
	triage.Verdict
	// Success is true when the answer met the target's valid_status_codes.
	Success bool

	// RetryAfter is the Retry-After of a 503/429 answer, 0 when absent.
	RetryAfter time.Duration
	// Header is the final response's header (nil without an answer).
	Header http.Header
	// BodyPrefix holds the first bytes of the body of a 5xx answer (at most
	// fingerprint.MaxBody), for the fingerprints; nil otherwise.
	BodyPrefix []byte
	// BodyBytes is how many body bytes were read.
	BodyBytes int64
	// Redirects counts followed redirects.
	Redirects int
	// RemoteAddr is the address that answered, when known.
	RemoteAddr string
	// Conn is what the probe saw of the connection: protocol, IP family
	// and TLS certificates.
	Conn Conn
}

// Answered reports whether the probe got an HTTP answer with a status code.
func (r *Result) Answered() bool { return r.StatusCode != 0 }

// PhasesSeconds is the phases_seconds object of the JSON answers: every
// phase a probe went through (seen), in seconds, by phase name.
func PhasesSeconds(phases *[contract.NumPhases]time.Duration, seen *[contract.NumPhases]bool) map[string]float64 {
	m := make(map[string]float64, contract.NumPhases)
	for ph := contract.Phase(0); ph < contract.NumPhases; ph++ {
		if seen[ph] {
			m[ph.String()] = phases[ph].Seconds()
		}
	}
	return m
}
