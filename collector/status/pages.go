package status

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

//go:embed templates/*.html templates/style.css templates/page.js
var assets embed.FS

func parsePages() (*template.Template, error) {
	css, err := assets.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	js, err := assets.ReadFile("templates/page.js")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		// The stylesheet and the script are our own embedded files, never
		// user input.
		"css":        func() template.CSS { return template.CSS(css) },
		"js":         func() template.JS { return template.JS(js) },
		"pathEscape": url.PathEscape,
		"utc":        utcTime,
	}
	t, err := template.New("pages").Funcs(funcs).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("status: parsing page templates: %w", err)
	}
	return t, nil
}

// page is what every page template gets.
type page struct {
	Title    string
	Location string
	Refresh  int    // seconds; 0 for none
	Paused   bool   // the reader turned the refresh off
	Root     string // relative path back to the status page
	Links    []pageLink
	Version  string
	Now      time.Time

	// Reload is set when the last configuration reload failed: every page
	// shows a banner.
	Reload *ReloadStatus

	Summary string
	Shard   string // index page: this shard's part, "" when unsharded
	Rows    []row  // index page, failing first
	Filters []filterView
	Shown   string       // "Showing 3 of 7 targets", when a filter hides some
	Query   template.URL // the filter's query, for the refresh links; url.Values.Encode made it
	Target  *row         // target page
	Probes  []probeRow
	Info    *targetDetails
	Check   *checkView // check page
	// PhaseLabels head the history's phase columns.
	PhaseLabels [contract.NumPhases]string
}

type pageLink struct{ Href, Text string }

// row is one target as the tables show it: every cell is text, so the state
// is never carried by colour alone.
type row struct {
	Name, Href   string
	State        string // up, down, ...
	StateText    string // UP, DOWN, ...
	Degraded     string // why a degraded target is degraded
	Code         string
	Class, Owner string
	ClassKey     string // the class as the filter matches it, "" when none
	Service      string
	Location     string
	Team         string // the team to page: for the failing class (ProbeStatus.Owner), else the target's owner
	DefaultOwner string // the default owner Team replaces, "" when Team is the default owner
	Hidden       bool   // the filter does not match
	Layer        string
	Cause        string // what the answer proved, "" when the code says it all
	FirstMove    string
	P50, P99     string
	WindowProbes int
	Failures     int
	Deploy       string
	DeployTime   time.Time
	DeployAgo    string
	// MaintenanceUntil is the end of the service's current maintenance
	// window; zero outside one.
	MaintenanceUntil  time.Time
	MaintenanceReason string
	RetryAfter        string
	Saturation        string
	SaturationHigh    bool
	LastTime          time.Time
	LastAgo           string
	Error             string
}

type targetDetails struct {
	URL, Service, Owner, Interval string
	// Teams are the classes whose team is not the default owner: "gateway:
	// edge-team (class default app-infra)", "" when none.
	Teams string
	// Connection is the protocol, IP family and TLS version; Certificate
	// when the certificates expire ("" over plain HTTP).
	Connection, Certificate string
	// Skipped is the last skipped slot: reason, when, how many ("" when none).
	Skipped string
}

// probeRow is one probe of a target's history.
type probeRow struct {
	At         time.Time
	Ago        string
	Outcome    string // OK / FAILED
	OK         bool
	Code       string
	Class      string
	Owner      string
	Layer      string
	Total      string
	Phases     [contract.NumPhases]string
	Bars       []phaseBar
	RetryAfter string
	Error      string
}

// phaseBar is one segment of the phase bar: its share of the probe in
// percent.
type phaseBar struct {
	Phase string
	Style template.CSS // width only, formatted from a number here
}

// phaseLabels are the phase columns' headings, in phase order.
var phaseLabels = [contract.NumPhases]string{"Resolve", "Connect", "TLS", "Processing", "Transfer"}

// phaseNames are the history table's phase columns, in phase order.
var phaseNames = func() (ns [contract.NumPhases]string) {
	for p := range contract.NumPhases {
		ns[p] = p.String()
	}
	return ns
}()

func (h *Handler) newPage(r *http.Request, title, root string, now time.Time) *page {
	p := &page{
		Title: title, Location: h.o.Exporter.Location(), Root: root,
		Version: h.o.Version, Now: now.UTC(),
	}
	if h.o.Reload != nil {
		if rs := h.o.Reload(); !rs.Success {
			p.Reload = &rs
		}
	}
	if r.URL.Query().Get("refresh") == "0" {
		p.Paused = true
	} else {
		p.Refresh = h.refresh
	}
	for _, l := range h.o.Links {
		p.Links = append(p.Links, pageLink{Href: root + strings.TrimPrefix(l.Path, "/"), Text: l.Text})
	}
	return p
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	now := h.o.Now()
	d := h.document(h.o.Store.Snapshots(now.Add(-LatencyWindow)), now, false)
	p := h.newPage(r, "http5xx status", "./", now)
	var down, degraded, pending int
	for i := range d.Targets {
		ts := &d.Targets[i]
		rw := viewRow(ts, d.Location, now)
		rw.Href = "targets/" + url.PathEscape(ts.Name)
		p.Rows = append(p.Rows, rw)
		switch ts.State {
		case StateDown:
			down++
		case StateDegraded:
			degraded++
		case StatePending:
			pending++
		}
	}
	// Failing first, then degraded, then healthy, then not probed yet; the
	// configuration's order within a state.
	slices.SortStableFunc(p.Rows, func(a, b row) int { return stateRank[a.State] - stateRank[b.State] })
	p.Summary = summary(len(d.Targets), down, degraded, pending)
	if s := d.Shard; s != nil && s.Count > 1 {
		p.Shard = fmt.Sprintf("Shard %d of %d: %d of %d configured targets are probed by the other shards.", s.Index, s.Count, s.Skipped, s.Configured)
	}
	filters, query := applyFilters(r.URL.Query(), p.Rows)
	p.Filters, p.Query = filters, template.URL(query) // encoded: safe in an href
	shown := 0
	for i := range p.Rows {
		if !p.Rows[i].Hidden {
			shown++
		}
	}
	if shown < len(p.Rows) {
		p.Shown = fmt.Sprintf("Showing %d of %d targets.", shown, len(p.Rows))
	}
	h.render(w, "index.html", p)
}

// stateRank orders the status page: what needs a person first.
var stateRank = map[string]int{StateDown: 0, StateDegraded: 1, StateUp: 2, StatePending: 3}

// filterDims are the status page's filters: the query parameter, its label
// and the row's value it matches. The script of the page reads the
// parameters from the form, so this is their only list.
var filterDims = []struct {
	key, label string
	value      func(*row) string
}{
	{"state", "State", func(r *row) string { return r.State }},
	{"class", "Class", func(r *row) string { return r.ClassKey }},
	{"team", "Team", func(r *row) string { return r.Team }},
	{"service", "Service", func(r *row) string { return r.Service }},
	{"location", "Location", func(r *row) string { return r.Location }},
}

// filterView is one filter of the form: its choices are the values the
// rows have, plus the one asked for when no row has it (a shared link to a
// state no target is in any more shows that, not every target).
type filterView struct {
	Key, Label string
	Options    []filterOption
}

type filterOption struct {
	Value    string
	Selected bool
}

// applyFilters hides the rows q's filters do not match and returns the
// form's filters and the query that reproduces them.
func applyFilters(q url.Values, rows []row) ([]filterView, string) {
	keep := url.Values{}
	views := make([]filterView, len(filterDims))
	for i, dim := range filterDims {
		want := q.Get(dim.key)
		values := map[string]bool{}
		for j := range rows {
			v := dim.value(&rows[j])
			if v != "" {
				values[v] = true
			}
			if want != "" && v != want {
				rows[j].Hidden = true
			}
		}
		if want != "" {
			values[want] = true
			keep.Set(dim.key, want)
		}
		fv := filterView{Key: dim.key, Label: dim.label}
		for _, v := range slices.Sorted(maps.Keys(values)) {
			fv.Options = append(fv.Options, filterOption{Value: v, Selected: v == want})
		}
		views[i] = fv
	}
	return views, keep.Encode()
}

func summary(total, down, degraded, pending int) string {
	if total == 0 {
		return "No targets are configured."
	}
	parts := []string{fmt.Sprintf("%d of %d targets down", down, total)}
	if degraded > 0 {
		parts = append(parts, fmt.Sprintf("%d degraded (a failure in the last %s)", degraded, fmtWindow()))
	}
	if pending > 0 {
		parts = append(parts, fmt.Sprintf("%d not probed yet", pending))
	}
	return strings.Join(parts, ", ") + "."
}

func fmtWindow() string { return fmt.Sprintf("%d minutes", int(LatencyWindow/time.Minute)) }

func (h *Handler) serveTarget(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	snap, ok := h.o.Store.Snapshot(name)
	if !ok {
		http.Error(w, "no configured target has that name", http.StatusNotFound)
		return
	}
	now := h.o.Now()
	ts := h.targetStatus(&snap, now, true)
	p := h.newPage(r, name+" · http5xx status", "../", now)
	rw := viewRow(&ts, h.o.Exporter.Location(), now)
	p.Target = &rw
	p.PhaseLabels = phaseLabels
	p.Info = &targetDetails{URL: ts.URL, Service: ts.Service, Owner: dash(ts.Owner), Interval: fmtDuration(snap.Info.Interval), Teams: teamsText(snap.Info.Teams),
		Connection: dash(ts.Connection.Summary()), Certificate: ts.Connection.CertSummary(now)}
	if k := ts.LastSkip; k != nil {
		p.Info.Skipped = fmt.Sprintf("%s, %s ago (%d in all)", k.Reason, fmtDuration(now.Sub(k.Time).Truncate(time.Second)), k.Count)
	}
	// Bars share one scale, the slowest probe kept, so slow probes stand out.
	var slowest float64
	for i := range ts.History {
		slowest = max(slowest, ts.History[i].DurationSeconds)
	}
	for i := range ts.History {
		p.Probes = append(p.Probes, viewProbe(&ts.History[i], now, slowest))
	}
	p.Summary = fmt.Sprintf("%d probes kept, newest first; %d of the %d probes of the last %s failed.",
		len(ts.History), ts.Window.Failures, ts.Window.Probes, fmtWindow())
	h.render(w, "target.html", p)
}

func (h *Handler) render(w http.ResponseWriter, name string, p *page) {
	h.renderCode(w, http.StatusOK, name, p)
}

// renderCode renders the page with the status code.
func (h *Handler) renderCode(w http.ResponseWriter, code int, name string, p *page) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, p); err != nil {
		http.Error(w, "rendering the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// teamsText lists a target's teams that replace default owners.
func teamsText(ts []config.ClassTeam) string {
	parts := make([]string, len(ts))
	for i, ct := range ts {
		parts[i] = fmt.Sprintf("%s: %s (class default %s)", ct.Class, ct.Team, dash(ct.DefaultOwner))
	}
	return strings.Join(parts, ", ")
}

var stateText = map[string]string{StateUp: "UP", StateDown: "DOWN", StateDegraded: "DEGRADED", StatePending: "PENDING"}

// viewRow renders one target probed from location.
func viewRow(ts *TargetStatus, location string, now time.Time) row {
	rw := row{
		Name: ts.Name, State: ts.State, StateText: stateText[ts.State],
		Code: "—", Class: "—", Owner: "—", Layer: "—", P50: "—", P99: "—",
		Deploy: "—", RetryAfter: "—", Saturation: "—", LastAgo: "never",
		WindowProbes: ts.Window.Probes, Failures: ts.Window.Failures,
		Service: ts.Service, Location: location, Team: ts.Owner,
	}
	if lp := ts.LastProbe; lp != nil {
		rw.Code = codeText(lp)
		rw.Class = dash(lp.Class)
		rw.ClassKey = lp.Class
		rw.Owner = dash(lp.Owner)
		// A failing target pages its team for the error's class (the
		// default owner unless the target or its service names its own,
		// shown next to it); a healthy one shows its whole-target team.
		if !lp.Success && lp.Owner != "" {
			rw.Team, rw.DefaultOwner = lp.Owner, lp.DefaultOwner
		}
		rw.Layer = layerText(lp)
		rw.Cause = causeText(lp)
		rw.FirstMove = lp.FirstMove
		rw.LastTime = lp.Time
		rw.LastAgo = ago(now, lp.Time)
		rw.Error = lp.Error
		if lp.RetryAfterSeconds > 0 {
			rw.RetryAfter = fmtSeconds(lp.RetryAfterSeconds)
		}
	}
	if ts.Window.Probes > 0 {
		rw.P50 = fmtSeconds(ts.Window.P50Seconds)
		rw.P99 = fmtSeconds(ts.Window.P99Seconds)
	}
	if d := ts.LastDeploy; d != nil {
		rw.Deploy = d.Version
		rw.DeployTime = d.Time
		rw.DeployAgo = ago(now, d.Time)
	}
	if mw := ts.Maintenance; mw != nil {
		rw.MaintenanceUntil = mw.Until
		rw.MaintenanceReason = mw.Reason
	}
	if s := ts.Saturation; s != nil {
		rw.Saturation = fmt.Sprintf("%.0f%% (%s)", s.Ratio*100, s.Source)
		rw.SaturationHigh = s.Ratio >= SaturationHigh
	}
	if ts.State == StateDegraded {
		var why []string
		if ts.Window.Failures > 0 {
			why = append(why, fmt.Sprintf("%d of %d probes failed in %s", ts.Window.Failures, ts.Window.Probes, fmtWindow()))
		}
		if rw.SaturationHigh {
			why = append(why, "saturation "+rw.Saturation)
		}
		rw.Degraded = strings.Join(why, "; ")
	}
	return rw
}

// utcTime is a <time> of t in UTC, its text the time of day (and the date
// with withDate); the page's script rewrites the text in the reader's time
// zone and the title keeps UTC.
func utcTime(t time.Time, withDate bool) template.HTML {
	t = t.UTC()
	text := t.Format("15:04:05") + " UTC"
	if withDate {
		text = t.Format("2006-01-02 15:04:05") + " UTC"
	}
	date := ""
	if withDate {
		date = " data-date"
	}
	// Only digits, letters and punctuation of the layouts: nothing to escape.
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s"%s>%s</time>`,
		t.Format(time.RFC3339Nano), t.Format("2006-01-02 15:04:05 UTC"), date, text))
}

// viewProbe renders one probe; scale is the duration a full bar stands for.
func viewProbe(ps *ProbeStatus, now time.Time, scale float64) probeRow {
	pr := probeRow{
		At: ps.Time, Ago: ago(now, ps.Time),
		Outcome: "FAILED", OK: ps.Success, Code: codeText(ps), Class: dash(ps.Class), Owner: dash(ps.Owner),
		Layer: layerText(ps), Total: fmtSeconds(ps.DurationSeconds), RetryAfter: "—", Error: ps.Error,
	}
	if ps.Success {
		pr.Outcome = "OK"
	}
	if ps.RetryAfterSeconds > 0 {
		pr.RetryAfter = fmtSeconds(ps.RetryAfterSeconds)
	}
	for i, n := range phaseNames {
		v, ok := ps.PhasesSeconds[n]
		if !ok {
			pr.Phases[i] = "—"
			continue
		}
		pr.Phases[i] = fmtSeconds(v)
		if scale > 0 && v > 0 {
			w := math.Min(100, 100*v/scale)
			pr.Bars = append(pr.Bars, phaseBar{Phase: n, Style: template.CSS(fmt.Sprintf("width:%.1f%%", w))})
		}
	}
	return pr
}

func codeText(p *ProbeStatus) string {
	if p.Reason == "" {
		return fmt.Sprint(p.Code)
	}
	if p.Code != 0 { // headers came, the body did not (or a refused redirect)
		return fmt.Sprintf("%d, %s", p.Code, strings.ReplaceAll(p.Reason, "_", " "))
	}
	return "no answer: " + strings.ReplaceAll(p.Reason, "_", " ")
}

// causeText is the one line that says why the class is what it is, when
// the answer's page proved more than its code: "503 from haproxy: … →
// gateway (the code alone: capacity)".
func causeText(p *ProbeStatus) string {
	if p.Cause == "" {
		return ""
	}
	s := fmt.Sprintf("%d from %s: %s → %s", p.Code, dash(p.Product), p.Cause, p.Class)
	if p.CodeClass != "" {
		s += " (the code alone: " + p.CodeClass + ")"
	}
	return s
}

// layerText shows the layer when the fingerprints recognised it.
func layerText(p *ProbeStatus) string {
	switch {
	case p.Layer == "" || p.Layer == "unknown":
		return "—"
	case p.Product == "" || p.Product == "unknown":
		return strings.ReplaceAll(p.Layer, "_", " ")
	default:
		return strings.ReplaceAll(p.Layer, "_", " ") + " (" + p.Product + ")"
	}
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// fmtSeconds writes a duration for people: 0.4 ms, 37 ms, 1.25 s, 30 s.
func fmtSeconds(s float64) string {
	switch {
	case s < 0.01:
		return fmt.Sprintf("%.1f ms", s*1000)
	case s < 1:
		return fmt.Sprintf("%.0f ms", s*1000)
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	default:
		return fmtDuration(time.Duration(s * float64(time.Second)))
	}
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d%time.Minute == 0 && d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 10*time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	default:
		return d.Round(time.Second).String()
	}
}

// ago writes how long before now t was: "4 s ago", "3 min ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
}
