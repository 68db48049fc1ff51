package deploy

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/api"
)

// Maintenance windows live next to deploys: the same API credentials, the
// same durable log (as {"maintenance":...} records), the same writer and
// the same idempotency by id. A window belongs to a service, like the
// deploy metrics, so the rules can hold back a service's capacity alerts
// while it is in one.

// Limits of maintenance windows.
const (
	// MaxWindowLen bounds a window's length: a window is planned work, not
	// a way to silence a service for good.
	MaxWindowLen = 7 * 24 * time.Hour
	// MaxWindowLead bounds how far ahead a window may start.
	MaxWindowLead = 30 * 24 * time.Hour
	// WindowRetention is how long an ended window is kept (listed, and its
	// end exported) so rules can tell "5xx continue after the window".
	WindowRetention = 24 * time.Hour
	// DefaultMaxWindows bounds the windows kept, ended ones included.
	DefaultMaxWindows = 1000
	// MaxReasonLen bounds a window's free-text reason.
	MaxReasonLen = 1024
)

// MaintenancePath is the API path of maintenance windows.
const MaintenancePath = "/api/v1/maintenance"

// Window is one maintenance window of a service.
type Window struct {
	// ID is the idempotency key, and the handle to end the window early.
	ID      string    `json:"id"`
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	// End is the planned end; EndedAt is set when the window was ended
	// early (before Start for a window cancelled before it began).
	End     time.Time  `json:"end"`
	EndedAt *time.Time `json:"ended_at,omitempty"`
	Reason  string     `json:"reason"`
	// Recorded is when the exporter stored the window (or its early end).
	Recorded time.Time `json:"recorded"`
}

// EffectiveEnd is when the window ends: the planned end or the early one.
func (w *Window) EffectiveEnd() time.Time {
	if w.EndedAt != nil && w.EndedAt.Before(w.End) {
		return *w.EndedAt
	}
	return w.End
}

// Active reports whether the window covers t.
func (w *Window) Active(t time.Time) bool {
	return !t.Before(w.Start) && t.Before(w.EffectiveEnd())
}

// windowFields are the fields of a maintenance POST, in validation order.
var windowFields = []string{"service", "start", "end", "duration", "reason", "id"}

// ParseWindowRequest checks a maintenance POST body exactly as the API
// does. The returned window has an empty ID when none was given. A
// *FieldError names the field.
func ParseWindowRequest(body []byte, now time.Time) (Window, error) {
	vals, given, err := decodeStrings(body, windowFields)
	if err != nil {
		return Window{}, err
	}
	w := Window{Service: vals[0], Reason: vals[4], ID: vals[5]}
	if err := checkLabel("service", w.Service); err != nil {
		return Window{}, err
	}
	w.Start = now.UTC()
	if given[1] {
		ts, err := time.Parse(time.RFC3339Nano, vals[1])
		if err != nil {
			return Window{}, fieldErr("start", "not RFC 3339 (like 2026-01-02T15:04:05Z): %q", truncate(vals[1], 64))
		}
		if ts.After(now.Add(MaxWindowLead)) {
			return Window{}, fieldErr("start", "more than %s ahead", MaxWindowLead)
		}
		w.Start = ts.UTC()
	}
	switch {
	case given[2] && given[3]:
		return Window{}, fieldErr("duration", "give end or duration, not both")
	case given[2]:
		ts, err := time.Parse(time.RFC3339Nano, vals[2])
		if err != nil {
			return Window{}, fieldErr("end", "not RFC 3339 (like 2026-01-02T15:04:05Z): %q", truncate(vals[2], 64))
		}
		w.End = ts.UTC()
	case given[3]:
		d, err := time.ParseDuration(vals[3])
		if err != nil || d <= 0 {
			return Window{}, fieldErr("duration", "want a positive Go duration like 30m or 2h, got %q", truncate(vals[3], 32))
		}
		if d > MaxWindowLen {
			return Window{}, fieldErr("duration", "%s is longer than the longest window, %s", d, MaxWindowLen)
		}
		w.End = w.Start.Add(d)
	default:
		return Window{}, fieldErr("end", "required (or duration): a window always ends")
	}
	if !w.End.After(w.Start) {
		return Window{}, fieldErr("end", "%s is not after start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
	}
	if l := w.End.Sub(w.Start); l > MaxWindowLen {
		return Window{}, fieldErr("end", "window of %s is longer than the longest window, %s", l, MaxWindowLen)
	}
	if !w.End.After(now) {
		return Window{}, fieldErr("end", "%s has already passed (exporter time %s)", w.End.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if w.Reason == "" {
		return Window{}, fieldErr("reason", "required: say why, for whoever is paged next")
	}
	if err := checkText("reason", w.Reason, MaxReasonLen); err != nil {
		return Window{}, err
	}
	if given[5] {
		if err := checkID(w.ID); err != nil {
			return Window{}, err
		}
	}
	return w, nil
}

// checkStoredWindow validates a window read back from the log.
func checkStoredWindow(w *Window) error {
	if err := checkLabel("service", w.Service); err != nil {
		return err
	}
	if err := checkID(w.ID); err != nil {
		return err
	}
	if w.Start.IsZero() || !w.End.After(w.Start) || w.End.Sub(w.Start) > MaxWindowLen {
		return errors.New("start and end missing or out of bounds")
	}
	if err := checkText("reason", w.Reason, MaxReasonLen); err != nil {
		return err
	}
	return nil
}

var (
	errTooManyWindows = errors.New("too many maintenance windows")
	errNoWindow       = errors.New("no such maintenance window")
)

// applyWindow puts a durable window record into the in-memory state; a
// record with a known id replaces the older one. Callers hold mu.
func (m *Manager) applyWindow(w *Window) {
	if m.windows[w.ID] != nil {
		m.dead++
	} else {
		m.live++
	}
	m.windows[w.ID] = w
}

// pruneWindows forgets windows that ended more than WindowRetention before
// now. Callers hold mu.
func (m *Manager) pruneWindows(now time.Time) {
	cutoff := now.Add(-WindowRetention)
	for id, w := range m.windows {
		if w.EffectiveEnd().Before(cutoff) {
			delete(m.windows, id)
			m.live--
			m.dead++
		}
	}
}

// recordWindow stores w durably, once per id. It returns the stored window
// and whether this call stored it.
func (m *Manager) recordWindow(w Window) (Window, bool, error) {
	now := m.now()
	if w.ID == "" {
		w.ID = newID("")
	}
	w.Recorded = now.UTC()
	m.mu.Lock()
	m.pruneWindows(now)
	if prev := m.windows[w.ID]; prev != nil {
		m.mu.Unlock()
		return sameWindow(prev, &w)
	}
	if m.pendingWin[w.ID] {
		m.mu.Unlock()
		return Window{}, false, &windowConflict{id: w.ID, field: "id"}
	}
	if len(m.windows)+len(m.pendingWin) >= m.opts.MaxWindows {
		m.mu.Unlock()
		return Window{}, false, errTooManyWindows
	}
	m.pendingWin[w.ID] = true
	m.mu.Unlock()
	err := m.submit(&commit{win: &w, done: make(chan struct{})})
	m.mu.Lock()
	delete(m.pendingWin, w.ID)
	m.mu.Unlock()
	if err != nil {
		return Window{}, false, err
	}
	return w, true, nil
}

// EndWindow ends the window id now (or cancels it when it has not begun).
// Ending a window that is over already changes nothing.
func (m *Manager) EndWindow(id string) (Window, bool, error) {
	now := m.now()
	m.mu.RLock()
	prev := m.windows[id]
	m.mu.RUnlock()
	if prev == nil {
		return Window{}, false, errNoWindow
	}
	if !prev.EffectiveEnd().After(now) {
		return *prev, false, nil
	}
	w := *prev
	at := now.UTC()
	w.EndedAt = &at
	w.Recorded = at
	if err := m.submit(&commit{win: &w, done: make(chan struct{})}); err != nil {
		return Window{}, false, err
	}
	return w, true, nil
}

type windowConflict struct{ id, field string }

func (e *windowConflict) Error() string {
	if e.field == "id" {
		return fmt.Sprintf("id %q is being stored by another request; retry", e.id)
	}
	return fmt.Sprintf("id %q already records a maintenance window with a different %s", e.id, e.field)
}

// sameWindow answers a repeated id like sameDeploy: the stored window when
// the request asks for the same one (the start counts only when given,
// the planned end always, so a retry after an early end is still a
// duplicate).
func sameWindow(prev, w *Window) (Window, bool, error) {
	var field string
	switch {
	case prev.Service != w.Service:
		field = "service"
	case prev.Reason != w.Reason:
		field = "reason"
	case !prev.End.Equal(w.End) && !prev.End.Equal(prev.Start.Add(w.End.Sub(w.Start))):
		field = "end"
	}
	if field != "" {
		return Window{}, false, &windowConflict{id: prev.ID, field: field}
	}
	return *prev, false, nil
}

// Windows returns the kept windows that have not ended at now (current
// ones, then upcoming ones by start), or with ended all kept ones.
func (m *Manager) Windows(ended bool) []Window {
	now := m.now()
	m.mu.RLock()
	out := make([]Window, 0, len(m.windows))
	for _, w := range m.windows {
		if ended || w.EffectiveEnd().After(now) {
			out = append(out, *w)
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Window) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Service, b.Service), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// ServiceWindow returns the window of service active at now, if any (the
// one ending last when several overlap).
func (m *Manager) ServiceWindow(service string) (Window, bool) {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	var best *Window
	for _, w := range m.windows {
		if w.Service == service && w.Active(now) && (best == nil || w.EffectiveEnd().After(best.EffectiveEnd())) {
			best = w
		}
	}
	if best == nil {
		return Window{}, false
	}
	return *best, true
}

// MaintenanceHandler serves GET, POST and DELETE /api/v1/maintenance.
func (m *Manager) MaintenanceHandler() http.Handler {
	return http.HandlerFunc(m.serveMaintenance)
}

func (m *Manager) serveMaintenance(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		q := r.URL.Query()
		ended := false
		if v := q.Get("ended"); q.Has("ended") {
			if v != "true" && v != "false" {
				api.WriteError(w, http.StatusBadRequest, api.ErrBadData, fmt.Sprintf("ended: want true or false, got %q", truncate(v, 16)))
				return
			}
			ended = v == "true"
		}
		api.WriteData(w, http.StatusOK, m.Windows(ended))
	case http.MethodPost:
		body, ok := m.acceptPost(w, r)
		if !ok {
			return
		}
		win, err := ParseWindowRequest(body, m.now())
		if err != nil {
			api.WriteError(w, http.StatusBadRequest, api.ErrBadData, err.Error())
			return
		}
		stored, created, err := m.recordWindow(win)
		m.answerWindow(w, http.StatusCreated, stored, created, err, "maintenance window recorded")
	case http.MethodDelete:
		if !m.allowWrite(w, r) {
			return
		}
		id := r.URL.Query().Get("id")
		if err := checkID(id); err != nil {
			api.WriteError(w, http.StatusBadRequest, api.ErrBadData, err.Error())
			return
		}
		stored, changed, err := m.EndWindow(id)
		m.answerWindow(w, http.StatusOK, stored, changed, err, "maintenance window ended")
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, DELETE")
		api.WriteError(w, http.StatusMethodNotAllowed, api.ErrBadData, fmt.Sprintf("method %s not allowed; use GET, POST or DELETE", r.Method))
	}
}

func (m *Manager) answerWindow(w http.ResponseWriter, okCode int, stored Window, changed bool, err error, logMsg string) {
	var conflict *windowConflict
	switch {
	case err == nil && changed:
		m.log.Info(logMsg, "service", stored.Service, "id", stored.ID, "start", stored.Start, "end", stored.EffectiveEnd())
		api.WriteData(w, okCode, stored)
	case err == nil:
		api.WriteData(w, http.StatusOK, stored, fmt.Sprintf("id %q: nothing changed", stored.ID))
	case errors.As(err, &conflict):
		api.WriteError(w, http.StatusConflict, api.ErrExecution, err.Error())
	case errors.Is(err, errNoWindow):
		api.WriteError(w, http.StatusNotFound, api.ErrBadData, "id: no such maintenance window (ended windows are kept for "+WindowRetention.String()+")")
	case errors.Is(err, errTooManyWindows):
		api.WriteError(w, http.StatusUnprocessableEntity, api.ErrExecution, fmt.Sprintf("the exporter keeps at most %d maintenance windows", m.opts.MaxWindows))
	default:
		w.Header().Set("Retry-After", "1")
		api.WriteError(w, http.StatusServiceUnavailable, api.ErrUnavailable, "maintenance window not stored: "+err.Error())
	}
}
