package status

import (
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// record is what the Store keeps of one probe: a fixed-size value of
// numbers and small indexes, no strings, no pointers. Durations are kept in
// microseconds (well inside the millisecond the pages and the API show),
// the triage's strings once per Store (verdicts) and the error text once per
// target (errorTexts). A Sample is built from it only when a page or the API
// asks.
type record struct {
	start      int64                      // Unix nanoseconds
	duration   uint32                     // µs
	phases     [contract.NumPhases]uint32 // µs
	retryAfter uint32                     // ms
	code       uint16
	verdict    uint16 // index into the Store's verdicts
	err        uint16 // errorTexts sequence number, 0 without an error
	reason     contract.Reason
	flags      uint8 // flagSuccess, and bit 1+p when phase p was seen
}

const flagSuccess = 1

// RecordBytes is the size of one kept probe.
const RecordBytes = int(unsafe.Sizeof(record{}))

// micros is d in microseconds, clamped to what a record holds (71 minutes,
// far beyond any probe timeout).
func micros(d time.Duration) uint32 {
	return uint32(min(max(d.Microseconds(), 0), math.MaxUint32))
}

func millis(d time.Duration) uint32 {
	return uint32(min(max(d.Milliseconds(), 0), math.MaxUint32))
}

func newRecord(r *probe.Result, verdict, err uint16) record {
	rec := record{
		start: r.Start.UnixNano(), duration: micros(r.Duration), retryAfter: millis(r.RetryAfter),
		code: uint16(min(max(r.StatusCode, 0), math.MaxUint16)), verdict: verdict, err: err, reason: r.Reason,
	}
	if r.Success {
		rec.flags |= flagSuccess
	}
	for p := range r.Phases {
		if r.PhaseSeen[p] {
			rec.flags |= 2 << p
			rec.phases[p] = micros(r.Phases[p])
		}
	}
	return rec
}

// sample expands rec into the Sample the pages and the API read.
func (rec *record) sample(v triage.Verdict, errText string) Sample {
	s := Sample{
		Start: time.Unix(0, rec.start), Duration: time.Duration(rec.duration) * time.Microsecond,
		StatusCode: int(rec.code), Reason: rec.reason, Success: rec.flags&flagSuccess != 0,
		RetryAfter: time.Duration(rec.retryAfter) * time.Millisecond, Verdict: v, Error: errText,
	}
	for p := range s.Phases {
		if rec.flags&(2<<p) != 0 {
			s.PhaseSeen[p] = true
			s.Phases[p] = time.Duration(rec.phases[p]) * time.Microsecond
		}
	}
	return s
}

func (rec *record) end() int64 { return rec.start + int64(rec.duration)*1e3 }

// maxVerdicts bounds the Store's verdict table. Verdicts are made of the
// class table and the fingerprint rules, so a configuration has a few
// dozen; past the bound (many reloads with ever new class tables) a record
// keeps the empty verdict rather than grow the table.
const maxVerdicts = math.MaxUint16

// verdicts interns the triage verdicts of the Store's records: every
// record of a target that keeps failing the same way shares one entry.
type verdicts struct {
	mu    sync.RWMutex
	index map[triage.Verdict]uint16
	list  []triage.Verdict // list[0] is the zero Verdict
}

func newVerdicts() *verdicts {
	return &verdicts{index: map[triage.Verdict]uint16{{}: 0}, list: []triage.Verdict{{}}}
}

func (vs *verdicts) intern(v triage.Verdict) uint16 {
	vs.mu.RLock()
	i, ok := vs.index[v]
	vs.mu.RUnlock()
	if ok {
		return i
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if i, ok := vs.index[v]; ok {
		return i
	}
	if len(vs.list) >= maxVerdicts {
		return 0
	}
	i = uint16(len(vs.list))
	vs.list = append(vs.list, v)
	vs.index[v] = i
	return i
}

func (vs *verdicts) get(i uint16) triage.Verdict {
	vs.mu.RLock()
	defer vs.mu.RUnlock()
	if int(i) >= len(vs.list) {
		return triage.Verdict{}
	}
	return vs.list[i]
}

// ErrorTexts is how many distinct error texts a target keeps: the records
// of older ones show their reason without the text.
const ErrorTexts = 4

// MaxErrorText bounds an error text in bytes; a longer text is cut and
// ends in "…".
const MaxErrorText = 256

// errorTexts are a target's latest distinct error texts, each numbered by a
// sequence that records refer to (0 is no error).
type errorTexts struct {
	seq   uint16
	texts [ErrorTexts]string
	seqs  [ErrorTexts]uint16
}

// add returns the sequence number of err's text, reusing the entry of an
// equal text so a target failing the same way allocates nothing.
func (e *errorTexts) add(err error) uint16 {
	if err == nil {
		return 0
	}
	s, copied := cutText(err.Error())
	for i, t := range e.texts {
		if e.seqs[i] != 0 && t == s {
			return e.seqs[i]
		}
	}
	if !copied {
		s = strings.Clone(s) // never a slice of a larger string
	}
	e.seq++
	if e.seq == 0 {
		e.seq = 1
	}
	i := int(e.seq) % ErrorTexts
	e.texts[i], e.seqs[i] = s, e.seq
	return e.seq
}

// text is the text of sequence number n, "" when it was replaced since.
func (e *errorTexts) text(n uint16) string {
	if n == 0 {
		return ""
	}
	if i := int(n) % ErrorTexts; e.seqs[i] == n {
		return e.texts[i]
	}
	return ""
}

// cutText is s cut to MaxErrorText bytes at a rune boundary, ending in "…"
// when cut (then in a string of its own: copied).
func cutText(s string) (_ string, copied bool) {
	if len(s) <= MaxErrorText {
		return s, false
	}
	const ellipsis = "…"
	n := MaxErrorText - len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis, true
}
