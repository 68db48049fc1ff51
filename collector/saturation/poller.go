package saturation

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/fetch"
)

// run reads the source right away and then every interval until the
// poller's context ends. Readings never overlap: a slow one delays the next.
// A poller that cannot read records its one failure and waits to be
// replaced: only a new configuration can change that.
func (m *Manager) run(p *poller) {
	defer close(p.done)
	if p.srcErr != nil {
		m.record(p, 0, p.srcErr)
		<-p.ctx.Done()
		return
	}
	t := time.NewTicker(p.spec.interval)
	defer t.Stop()
	for {
		ratio, err := p.read()
		if p.ctx.Err() != nil {
			return // stopped mid-reading: not the source's failure
		}
		m.record(p, ratio, err)
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// read takes one reading, bounded by the timeout and the body limit.
func (p *poller) read() (float64, error) {
	if p.srcErr != nil {
		return 0, p.srcErr
	}
	body, err := p.client.Get(p.ctx, fetch.Request{
		URL: p.spec.url, Accept: p.src.accept(), Timeout: p.spec.timeout, Limit: p.spec.limit,
	})
	var status *fetch.StatusError
	if errors.As(err, &status) {
		return 0, fmt.Errorf("source answered %s", status.Status)
	}
	if err != nil {
		return 0, err
	}
	r, err := p.src.ratio(body)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(r) {
		// The clamp below would pass NaN through to the gauge.
		return 0, errors.New("the reading is not a number")
	}
	return math.Max(0, math.Min(1, r)), nil
}

// record stores a reading's outcome and logs failures, at most one line per
// logEvery and source, plus one when the source recovers.
func (m *Manager) record(p *poller, ratio float64, err error) {
	m.mu.Lock()
	if m.pollers[p.spec.target] != p {
		m.mu.Unlock()
		return // replaced while reading
	}
	failures := 0
	if err != nil {
		m.errors[p.spec.key()]++
		p.failures++
		if p.failures >= StaleAfter {
			p.have = false
		}
		failures = p.failures
	} else {
		failures = p.failures
		p.ratio, p.have, p.failures = ratio, true, 0
	}
	m.mu.Unlock()

	log := m.log.With("target", p.spec.target, "source", p.spec.typ)
	now := time.Now()
	switch {
	case err != nil && (failures == 1 || now.Sub(p.lastLog) >= logEvery):
		log.Warn("saturation reading failed", "err", err, "failures_in_a_row", failures, "suppressed", p.suppressed)
		p.lastLog, p.suppressed = now, 0
	case err != nil:
		p.suppressed++
	case failures > 0:
		log.Info("saturation reading recovered", "failures_in_a_row", failures)
		p.suppressed = 0
	}
}
