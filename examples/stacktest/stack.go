package stacktest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Workspace is where a stack test starts: the repository's root, its .bin
// with the binaries the test needs, a temporary folder, Alertmanager's
// webhook recorder served on loopback, and the process group that logs to
// the folder's logs/.
type Workspace struct {
	Root  string // the repository
	Bin   string // the repository's .bin
	Dir   string // the test's temporary folder
	Rec   *Recorder
	Hook  *httptest.Server // serves Rec
	Procs *Processes
}

// NewWorkspace checks the binaries, makes the temporary folder with logs/
// and the named subfolders, and starts the recorder's server before the
// process group, so that it closes after the processes stop (cleanups run
// last-in first-out; a server the test starts before calling this closes
// later still). The test's package is examples/NAME.
func NewWorkspace(t *testing.T, tl *Timeline, binaries []string, dirs ...string) *Workspace {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	w := &Workspace{Root: root, Bin: Binaries(t, root, binaries...), Dir: t.TempDir()}
	for _, d := range append([]string{"logs"}, dirs...) {
		if err := os.MkdirAll(filepath.Join(w.Dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.Rec = NewRecorder(tl)
	w.Hook = httptest.NewServer(w.Rec)
	t.Cleanup(w.Hook.Close)
	w.Procs = NewProcesses(t, filepath.Join(w.Dir, "logs"), tl)
	return w
}

// Binaries returns the repository's .bin directory (root is the repository)
// after checking that every named binary is in it.
func Binaries(t testing.TB, root string, names ...string) string {
	t.Helper()
	bin := filepath.Join(root, ".bin")
	for _, b := range names {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Fatalf("%s is missing: run the suite through make, which builds it into .bin/ (%v)", b, err)
		}
	}
	return bin
}

// WriteCompressed copies src to dst through edit (may be nil) and
// CompressTime with factor.
func WriteCompressed(t testing.TB, src, dst string, factor int, edit func([]byte) ([]byte, error)) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		if b, err = edit(b); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
	}
	if b, err = CompressTime(b, factor); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReplaceAddresses swaps a reference setup's loopback addresses for the
// test's free ports.
func ReplaceAddresses(b []byte, addr map[string]string) []byte {
	var pairs []string
	for from, to := range addr {
		pairs = append(pairs, from, to)
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(b)))
}

// Run runs a command to completion, failing the test on a non-zero exit.
func Run(t testing.TB, bin string, args ...string) {
	t.Helper()
	RunEnv(t, nil, bin, args...)
}

// RunEnv is Run with env ("KEY=value") added to the test's environment.
func RunEnv(t testing.TB, env []string, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
}

// Send makes a control or API call and fails on anything but 2xx.
func Send(ctx context.Context, client *http.Client, method, url, body string) error {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// Budget returns a context that ends before the test binary's -timeout
// would, so that a stuck wait fails the test with its cleanups run.
func Budget(t testing.TB, tl *Timeline, max time.Duration) context.Context {
	d := max
	if dl, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if at, ok := dl.Deadline(); ok {
			d = min(d, time.Until(at)-30*time.Second)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	tl.Logf("time budget %s", d.Round(time.Second))
	return ctx
}

// Watchdog kills every process of ps once ctx's deadline passes: the last
// resort, Stop in t.Cleanup does the rest.
func Watchdog(ctx context.Context, tl *Timeline, ps *Processes) {
	go func() {
		<-ctx.Done()
		if ctx.Err() == context.DeadlineExceeded {
			tl.Logf("watchdog: the test's time budget is over, killing the stack")
			ps.Kill()
		}
	}()
}

// KnownOwners are the owners an Alertmanager configuration has receivers
// for: the part of each receiver name before -chat or -pager.
func KnownOwners(t testing.TB, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Receivers []struct {
			Name string `yaml:"name"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	owners := map[string]bool{}
	for _, r := range cfg.Receivers {
		if o, ok := receiverOwner(r.Name); ok {
			owners[o] = true
		}
	}
	if len(owners) == 0 {
		t.Fatalf("%s: no <owner>-chat or <owner>-pager receivers", path)
	}
	return owners
}

// receiverOwner splits a receiver name "<owner>-chat" or "<owner>-pager".
func receiverOwner(name string) (string, bool) {
	for _, suffix := range []string{"-chat", "-pager"} {
		if o, ok := strings.CutSuffix(name, suffix); ok {
			return o, true
		}
	}
	return "", false
}

// CountFiring counts firing alerts with the labels of want; with distinct
// set, it counts distinct values of that label instead.
func CountFiring(as []PromAlert, want Labels, distinct string) int {
	seen := map[string]bool{}
	n := 0
	for _, a := range as {
		if a.State == "firing" && a.Labels.Has(want) {
			n++
			seen[a.Labels[distinct]] = true
		}
	}
	if distinct != "" {
		return len(seen)
	}
	return n
}

// Notified reports whether a receiver whose name starts with prefix got an
// alert with the labels of want in the given status.
func Notified(ns []Notification, prefix, status string, want Labels) bool {
	for _, n := range ns {
		if !strings.HasPrefix(n.Receiver, prefix) {
			continue
		}
		for _, a := range n.Alerts {
			if a.Status == status && a.Labels.Has(want) {
				return true
			}
		}
	}
	return false
}

// RoutingViolations checks every notification received so far against
// examples/alertmanager.yml's contract: the right owner, on the right
// channel (<owner>-pager for critical alerts, <owner>-chat otherwise; owners
// Alertmanager does not know fall back to sre-oncall), and every annotation
// rendered.
func RoutingViolations(ns []Notification, owners map[string]bool) []string {
	var bad []string
	for _, n := range ns {
		for _, a := range n.Alerts {
			l := a.Labels
			owner := l["owner"]
			if !owners[owner] {
				owner = "sre-oncall"
			}
			channel := "chat"
			if l["severity"] == "critical" {
				channel = "pager"
			}
			if want := owner + "-" + channel; n.Receiver != want {
				bad = append(bad, fmt.Sprintf("%s reached %s, want %s", l, n.Receiver, want))
			}
			for name, text := range a.Annotations {
				if strings.Contains(text, "error expanding template") || strings.Contains(text, "<no value>") {
					bad = append(bad, fmt.Sprintf("%s: annotation %s did not render: %s", l, name, text))
				}
			}
		}
	}
	return bad
}

// Expectation is one outcome a test waits for: on the alerts, on the
// notifications, or a PromQL query that must return data.
type Expectation struct {
	What   string
	Alerts func([]PromAlert) bool
	Notes  func([]Notification) bool
	Query  string
	met    bool
}

// Watcher polls the alerts of a rule evaluator (Prometheus, vmalert) and
// the recorder, prints every change to the timeline and checks the
// invariants on each poll.
type Watcher struct {
	t          testing.TB
	tl         *Timeline
	alerts     PromAPI // where the rules run
	query      PromAPI // where Expectation.Query runs
	rec        *Recorder
	invariants func([]PromAlert, []Notification) []string

	// Scrapers are the Prometheus servers whose scrape targets Until
	// reports when a phase fails, by name: a stalled expectation often
	// comes down to a scrape that fails.
	Scrapers map[string]PromAPI

	state    map[string]string // alert key -> pending or firing
	last     []PromAlert
	reported map[string]bool // invariant violations already reported
}

// NewWatcher reads alerts from alerts, runs queries on query and checks
// invariants (may be nil) on every poll: each violation fails the test once.
func NewWatcher(t testing.TB, tl *Timeline, alerts, query PromAPI, rec *Recorder, invariants func([]PromAlert, []Notification) []string) *Watcher {
	return &Watcher{t: t, tl: tl, alerts: alerts, query: query, rec: rec, invariants: invariants,
		state: map[string]string{}, reported: map[string]bool{}}
}

// Last is what the last poll saw.
func (w *Watcher) Last() []PromAlert { return w.last }

// Poll reads the alerts and prints what changed since the last poll.
func (w *Watcher) Poll(ctx context.Context) ([]PromAlert, error) {
	as, err := w.alerts.Alerts(ctx)
	if err != nil {
		return nil, err
	}
	now := map[string]string{}
	for _, a := range as {
		k := a.Labels.Key()
		now[k] = a.State
		if w.state[k] != a.State {
			w.tl.Logf("alert %s: %s", a.State, a.Labels)
		}
	}
	for k, st := range w.state {
		if _, ok := now[k]; !ok {
			w.tl.Logf("alert inactive (was %s): %s", st, ParseKey(k))
		}
	}
	w.state, w.last = now, as
	return as, nil
}

// Until polls every half second until every expectation is met, or fails
// after within. Invariants are checked on every poll.
func (w *Watcher) Until(ctx context.Context, phase string, within time.Duration, exp []Expectation) error {
	err := WaitFor(ctx, phase, within, 500*time.Millisecond, func() (bool, error) {
		as, err := w.Poll(ctx)
		if err != nil {
			return false, err
		}
		ns := w.rec.Notifications()
		w.check(as, ns)
		all := true
		for i := range exp {
			e := &exp[i]
			if e.met {
				continue
			}
			switch {
			case e.Alerts != nil:
				e.met = e.Alerts(as)
			case e.Notes != nil:
				e.met = e.Notes(ns)
			case e.Query != "":
				r, err := w.query.Query(ctx, e.Query, time.Now())
				if err != nil {
					return false, err
				}
				n, err := r.Len()
				if err != nil {
					return false, err
				}
				e.met = n > 0
			}
			if e.met {
				w.tl.Logf("ok: %s", e.What)
			} else {
				all = false
			}
		}
		return all, nil
	})
	if err != nil {
		var missing []string
		for _, e := range exp {
			if !e.met {
				missing = append(missing, e.What)
			}
		}
		return fmt.Errorf("%w; still missing:\n  %s%s", err, strings.Join(missing, "\n  "), w.scrapeReport())
	}
	return nil
}

// scrapeReport is the scrape targets of every Scraper and their health,
// for the error of a failed phase. It has a few seconds of its own: the
// test's budget may be what ran out.
func (w *Watcher) scrapeReport() string {
	if len(w.Scrapers) == 0 {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var b strings.Builder
	b.WriteString("\nscrape targets when the phase ended:")
	for _, name := range slices.Sorted(maps.Keys(w.Scrapers)) {
		ts, err := w.Scrapers[name].ScrapeTargets(ctx)
		if err != nil {
			fmt.Fprintf(&b, "\n  %s: %v", name, err)
			continue
		}
		for _, t := range ts {
			fmt.Fprintf(&b, "\n  %s: %s", name, t)
		}
	}
	return b.String()
}

func (w *Watcher) check(as []PromAlert, ns []Notification) {
	if w.invariants == nil {
		return
	}
	for _, b := range w.invariants(as, ns) {
		if !w.reported[b] {
			w.reported[b] = true
			w.tl.Logf("VIOLATION: %s", b)
			w.t.Errorf("%s", b)
		}
	}
}

// ParseKey turns Labels.Key() back into labels, for the timeline.
func ParseKey(k string) Labels {
	l := Labels{}
	for k != "" {
		name, rest, _ := strings.Cut(k, "=")
		v, err := strconv.QuotedPrefix(rest)
		if err != nil {
			break
		}
		l[name], _ = strconv.Unquote(v)
		k = strings.TrimPrefix(rest[len(v):], ",")
	}
	return l
}
