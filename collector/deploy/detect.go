package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/fetch"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/selector"
)

// Where a version was seen.
const (
	kindHeader = "header"
	kindURL    = "url"
)

type sightingKey struct{ target, kind string }

// sighting is the last version one target showed through one channel.
type sighting struct {
	// how identifies the configuration that produced the value (header
	// name, or URL and field); a new one starts a new baseline.
	how     string
	version string
	invalid string // last rejected value, logged once
	// seen is when the newest answer taken into account arrived: answers
	// of overlapping probes can come in out of order, and an older one
	// says nothing about the current version.
	seen time.Time
}

// Observe looks at a probe's answer for the target's version header. It
// runs on the probe's goroutine: without a version_header it returns at
// once, and it never waits for the disk.
func (m *Manager) Observe(t *config.Target, r *probe.Result) {
	if t == nil || r == nil || t.VersionHeader == "" || r.Header == nil {
		return
	}
	v := strings.TrimSpace(r.Header.Get(t.VersionHeader))
	if v == "" {
		// An error page from a proxy in front carries no version: it says
		// nothing about a deploy.
		return
	}
	at := r.Start
	if at.IsZero() {
		at = m.now()
	}
	m.sawVersion(t, kindHeader, http.CanonicalHeaderKey(t.VersionHeader), v, at, at.Add(r.Duration))
}

// sawVersion records a detected deploy when v differs from the version last
// seen the same way; the first sighting only sets the baseline. at is the
// deploy time it records, seen when the answer arrived: an answer older
// than one already taken into account is ignored.
func (m *Manager) sawVersion(t *config.Target, kind, how, v string, at, seen time.Time) {
	key := sightingKey{t.Name, kind}
	m.dmu.Lock()
	if m.closing {
		m.dmu.Unlock()
		return
	}
	s := m.seen[key]
	if s == nil || s.how != how {
		m.seen[key] = &sighting{how: how, version: v, seen: seen}
		m.dmu.Unlock()
		m.log.Debug("version baseline", "target", t.Name, "from", kind, "version", v)
		return
	}
	if seen.Before(s.seen) {
		m.dmu.Unlock()
		m.log.Debug("ignoring an out-of-order version sighting", "target", t.Name, "from", kind, "version", v)
		return
	}
	if s.version == v {
		s.seen = seen
		m.dmu.Unlock()
		return
	}
	if err := checkLabel("version", v); err != nil {
		if s.invalid != v {
			s.invalid = v
			m.log.Warn("ignoring a version that cannot be a label value", "target", t.Name, "from", kind, "value", truncate(v, 64), "err", err)
		}
		m.dmu.Unlock()
		return
	}
	prev := s.version
	s.version, s.seen = v, seen
	m.bg.Add(1)
	m.dmu.Unlock()

	if checkLabel("version", prev) != nil {
		prev = ""
	}
	ev := Event{
		ID:              newID("detected-"),
		Service:         serviceOf(t),
		Version:         v,
		Timestamp:       at.UTC(),
		Source:          SourceDetected,
		Target:          t.Name,
		PreviousVersion: prev,
	}
	// Recorded in the background: the probe path must not wait for fsync.
	go func() {
		defer m.bg.Done()
		if _, _, err := m.record(ev, true); err != nil {
			m.log.Error("detected deploy not recorded", "target", t.Name, "service", ev.Service, "version", v, "err", err)
			return
		}
		m.log.Info("deploy detected", "target", t.Name, "service", ev.Service, "version", v, "previous", prev, "from", kind)
	}()
}

func serviceOf(t *config.Target) string {
	if t.Service != "" {
		return t.Service
	}
	return t.Name
}

// poller polls one target's version_url.
type poller struct {
	target config.Target // the configuration it was started with
	field  selector.Field
	poll   config.VersionPoll
	cancel context.CancelFunc
	client *fetch.Client
}

func (p *poller) stop() {
	p.cancel()
	p.client.Close()
}

// SetTargets follows a (re)loaded configuration: it starts a version_url
// poller per target that has one, restarts those whose target changed,
// stops those of removed targets and forgets their baselines. Unchanged
// targets keep their baseline, so a reload records no deploy. The targets'
// services pass the API's service guard.
func (m *Manager) SetTargets(ts []*config.Target) {
	m.dmu.Lock()
	defer m.dmu.Unlock()
	if m.closing {
		return
	}
	byName := make(map[string]*config.Target, len(ts))
	configured := make(map[string]bool, len(ts))
	for _, t := range ts {
		if t != nil {
			byName[t.Name] = t
			configured[serviceOf(t)] = true
		}
	}
	m.mu.Lock()
	m.configured = configured
	m.mu.Unlock()
	for key := range m.seen {
		t := byName[key.target]
		if t == nil || key.kind == kindHeader && t.VersionHeader == "" || key.kind == kindURL && t.VersionURL == "" {
			delete(m.seen, key)
		}
	}
	for name, p := range m.pollers {
		t := byName[name]
		if t == nil || t.VersionURL == "" || !reflect.DeepEqual(*t, p.target) {
			p.stop()
			delete(m.pollers, name)
		}
	}
	for name, t := range byName {
		if t.VersionURL == "" || m.pollers[name] != nil {
			continue
		}
		p, err := m.newPoller(*t)
		if err != nil {
			m.log.Error("cannot poll version_url", "target", name, "err", err)
			continue
		}
		m.pollers[name] = p
	}
}

// newPoller starts polling t.VersionURL with the settings config.Load
// applied and validated. Callers hold dmu.
func (m *Manager) newPoller(t config.Target) (*poller, error) {
	field, err := selector.ParseField(t.VersionField)
	if err != nil {
		return nil, fmt.Errorf("version_field %q: %w", t.VersionField, err)
	}
	poll := t.VersionPoll()
	if poll.Interval <= 0 {
		return nil, errors.New("no interval: the target did not come from config.Load")
	}
	client, err := fetch.New(&t, fetch.Options{Version: m.opts.Version})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &poller{target: t, field: field, poll: poll, cancel: cancel, client: client}
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		m.poll(ctx, p)
	}()
	return p, nil
}

// poll reads the version at once (the baseline) and then every interval.
func (m *Manager) poll(ctx context.Context, p *poller) {
	t := &p.target
	how := t.VersionURL + "#" + p.field.String()
	failing := false
	tick := time.NewTicker(p.poll.Interval)
	defer tick.Stop()
	for {
		v, err := fetchVersion(ctx, p.client, t, p.field, p.poll)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			failing = true
			m.log.Warn("version_url unreadable", "target", t.Name, "url", config.RedactURL(t.VersionURL, t.RedactQueryParams), "err", err)
		case err != nil:
			m.log.Debug("version_url still unreadable", "target", t.Name, "err", err)
		default:
			if failing {
				failing = false
				m.log.Info("version_url readable again", "target", t.Name)
			}
			now := m.now()
			m.sawVersion(t, kindURL, how, v, now, now)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// fetchVersion GETs the target's version_url (bounded in time and size)
// and returns the string at the dotted field.
func fetchVersion(ctx context.Context, c *fetch.Client, t *config.Target, field selector.Field, poll config.VersionPoll) (string, error) {
	body, err := c.Get(ctx, fetch.Request{
		URL:     t.VersionURL,
		Accept:  "application/json",
		Header:  t.Headers,
		Timeout: poll.Timeout,
		Limit:   int64(poll.BodySizeLimit),
	})
	if err != nil {
		return "", err
	}
	return versionIn(body, field)
}

// versionIn returns the value at field of a JSON document, as a string:
// strings as they are, numbers as written.
func versionIn(doc []byte, field selector.Field) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	v, err := field.Lookup(v)
	if err != nil {
		return "", fmt.Errorf("field %q: %w", field, err)
	}
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return "", fmt.Errorf("field %q is empty", field)
		}
		return s, nil
	case json.Number:
		return x.String(), nil
	case nil:
		return "", fmt.Errorf("field %q is null", field)
	}
	return "", errors.New("field " + strconv.Quote(field.String()) + " is not a string or number")
}
