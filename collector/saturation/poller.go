package saturation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"syscall"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
)

// run reads the source right away and then every interval until the
// poller's context ends. Readings never overlap: a slow one delays the next.
// A poller that cannot read records its one failure and waits to be
// replaced: only a new configuration can change that.
func (m *Manager) run(p *poller) {
	defer close(p.done)
	if p.srcErr != nil {
		m.record(p, reading{reason: contract.SaturationOther, err: p.srcErr})
		<-p.ctx.Done()
		return
	}
	t := time.NewTicker(p.spec.interval)
	defer t.Stop()
	for {
		r := p.read()
		if p.ctx.Err() != nil {
			return // stopped mid-reading: not the source's failure
		}
		m.record(p, r)
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reading is the outcome of one reading: a ratio, or why there is none.
type reading struct {
	ratio  float64
	reason contract.SaturationReason
	err    error
}

// read takes one reading, bounded by the timeout and the body limit.
func (p *poller) read() reading {
	if p.srcErr != nil {
		return reading{reason: contract.SaturationOther, err: p.srcErr}
	}
	body, err := p.client.Get(p.ctx, fetch.Request{
		URL: p.spec.url, Accept: p.src.accept(), Timeout: p.spec.timeout, Limit: p.spec.limit,
	})
	var status *fetch.StatusError
	if errors.As(err, &status) {
		err = fmt.Errorf("source answered %s", status.Status)
		if status.Code == 502 || status.Code == 503 || status.Code == 504 {
			return reading{reason: contract.SaturationGateway, err: err}
		}
		return reading{reason: contract.SaturationStatus, err: err}
	}
	if err != nil {
		return reading{reason: fetchReason(err), err: err}
	}
	r, err := p.src.ratio(body)
	if err != nil {
		return reading{reason: contract.SaturationUnparsable, err: err}
	}
	if math.IsNaN(r) {
		// The clamp below would pass NaN through to the gauge.
		return reading{reason: contract.SaturationUnparsable, err: errors.New("the reading is not a number")}
	}
	return reading{ratio: math.Max(0, math.Min(1, r))}
}

// fetchReason says why a GET got no answer.
func fetchReason(err error) contract.SaturationReason {
	var netErr net.Error
	switch {
	case errors.Is(err, fetch.ErrTooLarge):
		return contract.SaturationTooLarge
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return contract.SaturationTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return contract.SaturationRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return contract.SaturationReset
	}
	return contract.SaturationOther
}

// busy reports whether a reading failed the way a full server fails: it
// refused or dropped the connection, never answered, or a proxy in front
// said it could not get an answer from it.
func busy(r contract.SaturationReason) bool {
	switch r {
	case contract.SaturationRefused, contract.SaturationReset, contract.SaturationTimeout, contract.SaturationGateway:
		return true
	}
	return false
}

// record stores a reading's outcome and logs failures, at most one line per
// logEvery and source, plus one when the source recovers.
func (m *Manager) record(p *poller, r reading) {
	m.mu.Lock()
	if m.pollers[p.spec.target] != p {
		m.mu.Unlock()
		return // replaced while reading
	}
	failures := p.failures
	if r.err != nil {
		m.errors[errorKey{p.spec.key(), r.reason}]++
		p.failures++
		failures = p.failures
		p.have, p.busy = false, busy(r.reason)
	} else {
		p.ratio, p.have, p.busy, p.failures = r.ratio, true, false, 0
	}
	_, saturated := p.current()
	down := p.down
	m.mu.Unlock()

	log := m.log.With("target", p.spec.target, "source", p.spec.typ)
	now := time.Now()
	switch {
	case r.err != nil && (failures == 1 || now.Sub(p.lastLog) >= logEvery):
		log.Warn("saturation reading failed", "reason", r.reason, "err", r.err, "target_failing", down,
			"reads_as_saturated", saturated, "failures_in_a_row", failures, "suppressed", p.suppressed)
		p.lastLog, p.suppressed = now, 0
	case r.err != nil:
		p.suppressed++
	case failures > 0:
		log.Info("saturation reading recovered", "failures_in_a_row", failures)
		p.suppressed = 0
	}
}
