package deploy

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer collects a Manager's log for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openManager opens a Manager on dir with o's other settings; it is closed
// at the end of the test unless the test closes it first.
func openManager(t testing.TB, dir string, o Options) (*Manager, *logBuffer) {
	t.Helper()
	return openManagerCompact(t, dir, o, defaultCompactMin)
}

func openManagerCompact(t testing.TB, dir string, o Options, compactMin int) (*Manager, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	o.StoragePath = dir
	if o.Logger == nil {
		o.Logger = logs.logger()
	}
	m, err := newManager(o, compactMin)
	if err != nil {
		t.Fatalf("newManager: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, logs
}

// mustRecord stores an API event and fails the test on error.
func mustRecord(t testing.TB, m *Manager, ev Event) Event {
	t.Helper()
	if ev.Source == "" {
		ev.Source = SourceAPI
	}
	got, _, err := m.record(ev, false)
	if err != nil {
		t.Fatalf("record %+v: %v", ev, err)
	}
	return got
}

// hangAfter is no performance bound: it only turns an event that never
// comes into a failure instead of a hung test, with a huge margin over
// anything a loaded machine needs.
const hangAfter = time.Minute

// waitFor polls cond every 10ms until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func versions(evs []Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Version)
	}
	return strings.Join(s, ",")
}
