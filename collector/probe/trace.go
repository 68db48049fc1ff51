package probe

import (
	"crypto/tls"
	"errors"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// tracer records what one probe went through, from httptrace callbacks.
// The callbacks run on the transport's goroutines (the dial goroutine keeps
// running after a probe gives up), so every field is guarded by mu and
// callbacks after finish are dropped.
type tracer struct {
	// firstHop is told the remote address of every connection the probe
	// gets until it follows a redirect (the redirect guard); may be nil.
	firstHop func(remote string)
	// interim counts 1xx answers before the final one.
	interim atomic.Int32

	mu       sync.Mutex
	finished bool

	start, end [contract.NumPhases]time.Time
	hop        hopState
	remoteAddr string
}

// hopState is how far the current hop got, which is what classification
// needs to know.
type hopState struct {
	dnsStarted, dnsOK bool // dnsOK: the lookup succeeded
	connectOK         bool // a connect succeeded
	tlsStarted, tlsOK bool
	gotConn           bool // the connection was up (after any TLS handshake)
}

func (tr *tracer) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn:              tr.getConn,
		DNSStart:             tr.dnsStart,
		DNSDone:              tr.dnsDone,
		ConnectStart:         tr.connectStart,
		ConnectDone:          tr.connectDone,
		TLSHandshakeStart:    tr.tlsHandshakeStart,
		TLSHandshakeDone:     tr.tlsHandshakeDone,
		GotConn:              tr.gotConnInfo,
		WroteRequest:         tr.wroteRequest,
		GotFirstResponseByte: tr.gotFirstResponseByte,
		Got1xxResponse:       tr.got1xx,
	}
}

// getConn starts a hop (the first request, each redirect, a transport
// retry): phases describe the final hop only, so everything resets.
func (tr *tracer) getConn(string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.finished {
		return
	}
	tr.start, tr.end = [contract.NumPhases]time.Time{}, [contract.NumPhases]time.Time{}
	tr.hop, tr.remoteAddr = hopState{}, ""
}

func (tr *tracer) startPhase(p contract.Phase, now time.Time) {
	if tr.start[p].IsZero() {
		tr.start[p] = now
	}
}

func (tr *tracer) endPhase(p contract.Phase, now time.Time) {
	if !tr.start[p].IsZero() {
		tr.end[p] = now
	}
}

func (tr *tracer) dnsStart(httptrace.DNSStartInfo) {
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.finished {
		tr.startPhase(contract.PhaseResolve, now)
		tr.hop.dnsStarted = true
	}
}

func (tr *tracer) dnsDone(info httptrace.DNSDoneInfo) {
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.finished {
		tr.endPhase(contract.PhaseResolve, now)
		tr.hop.dnsOK = info.Err == nil
	}
}

// connectStart and connectDone may run once per address tried (happy
// eyeballs, several A records): the phase spans the first attempt to the
// first success.
func (tr *tracer) connectStart(string, string) {
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.finished {
		tr.startPhase(contract.PhaseConnect, now)
	}
}

func (tr *tracer) connectDone(_, _ string, err error) {
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.finished && !tr.hop.connectOK {
		tr.endPhase(contract.PhaseConnect, now)
		tr.hop.connectOK = err == nil
	}
}

func (tr *tracer) tlsHandshakeStart() {
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.finished {
		tr.startPhase(contract.PhaseTLS, now)
		tr.hop.tlsStarted = true
	}
}

func (tr *tracer) tlsHandshakeDone(_ tls.ConnectionState, err error) {
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.finished {
		tr.endPhase(contract.PhaseTLS, now)
		tr.hop.tlsOK = err == nil
	}
}

func (tr *tracer) gotConnInfo(info httptrace.GotConnInfo) {
	remote := ""
	if info.Conn != nil {
		remote = info.Conn.RemoteAddr().String()
	}
	tr.gotConnAddr(remote)
}

// gotConnAddr records that the connection is up, to remote ("" when not
// known).
func (tr *tracer) gotConnAddr(remote string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.finished {
		tr.hop.gotConn = true
		if remote != "" {
			tr.remoteAddr = remote
			if tr.firstHop != nil {
				tr.firstHop(tr.remoteAddr)
			}
		}
	}
}

// max1xx bounds the interim (1xx) answers before the final one. Each may
// be as large as the header limit, which a Got1xxResponse hook resets.
const max1xx = 8

// errTooMany1xx ends a probe drowned in interim answers.
var errTooMany1xx = errors.New("more than 8 interim (1xx) answers")

func (tr *tracer) got1xx(int, textproto.MIMEHeader) error {
	if tr.interim.Add(1) > max1xx {
		return errTooMany1xx
	}
	return nil
}

func (tr *tracer) wroteRequest(httptrace.WroteRequestInfo) {
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.finished {
		tr.startPhase(contract.PhaseProcessing, now)
	}
}

func (tr *tracer) gotFirstResponseByte() {
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.finished {
		tr.endPhase(contract.PhaseProcessing, now)
		tr.startPhase(contract.PhaseTransfer, now)
	}
}

func (tr *tracer) state() hopState {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.hop
}

// finish stops recording and fills the phases of res. A phase that started
// but never ended lasts until now: transfer ends when the body was read, and
// a phase the probe gave up in shows where the time went.
func (tr *tracer) finish(res *Result, now time.Time) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.finished = true
	for p := range contract.NumPhases {
		if tr.start[p].IsZero() {
			continue
		}
		end := tr.end[p]
		if end.IsZero() {
			end = now
		}
		res.PhaseSeen[p] = true
		res.Phases[p] = end.Sub(tr.start[p])
	}
	res.RemoteAddr = tr.remoteAddr
}
