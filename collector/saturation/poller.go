package saturation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"
)

// run reads the source right away and then every interval until the
// poller's context ends. Readings never overlap: a slow one delays the next.
func (m *Manager) run(p *poller) {
	defer close(p.done)
	t := time.NewTicker(p.spec.interval)
	defer t.Stop()
	for {
		ratio, err := p.read(m.client)
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
func (p *poller) read(client *http.Client) (float64, error) {
	if p.srcErr != nil {
		return 0, p.srcErr
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.spec.timeout)
	defer cancel()
	body, err := fetch(ctx, client, p.spec.url, p.src.accept(), p.spec.limit)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("no complete answer within %s: %w", p.spec.timeout, err)
		}
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

func fetch(ctx context.Context, client *http.Client, url, accept string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "http5xx_exporter (saturation)")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("source answered %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("body of %d bytes is over the %d byte limit", resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("body is over the %d byte limit", limit)
	}
	return body, nil
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
