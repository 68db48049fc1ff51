// Package triage decides what a probe's outcome means for the responder: the
// error class (from the configured class table) and the team to page (the
// target's team for the class, resolved by config, else the class's default owner), the
// hop and product that wrote a 5xx answer (from the fingerprints) and the
// class's first move. It is the one place that finishes a result: the prober
// asks it for every probe, scheduled, on demand (/probe), ad hoc or from the
// check command, so they all agree.
package triage

import (
	"slices"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
)

// Verdict is the triage of one outcome.
type Verdict struct {
	// Class comes from the error-class table: of the reason when there was
	// no answer, else of the status code; "2xx".."4xx" for answers outside
	// every class, "unknown" for a reason outside every class. Owner is the
	// team to page for Class on the probed target (config.Target.Teams,
	// else the default owner); "" outside every class.
	Class string
	Owner string
	// Layer and Product say which hop wrote a 5xx answer (contract.Layers);
	// empty for every other outcome.
	Layer   string
	Product string
	// FirstMove is the class's first move, "" for answers outside every class.
	FirstMove string
	// Cause says what the answer's page proves when it is more than its code
	// ("haproxy has no server to send the request to"); "" otherwise. When
	// it proves another cause than the code suggests, Class and Owner are
	// that cause's and CodeClass is the code's own.
	Cause     string
	CodeClass string
	// CannedRetryAfter: the Retry-After of this answer is one the product
	// sends with every page of this kind, not a planned maintenance.
	CannedRetryAfter bool
}

// ClassExporter is the class of contract.ReasonExporter: the exporter itself
// was short of file descriptors, memory or concurrency. No class table
// claims it and it has no owner, so no target's team is paged for the
// exporter's failure; the metrics count it as a skipped probe and the rule
// pack's HTTP5xxExporterResourcesExhausted alerts the exporter's operator.
const ClassExporter = "exporter"

// firstMoveExporter is the first move of ClassExporter.
const firstMoveExporter = "The exporter, not the target, failed: raise its file descriptor limit (LimitNOFILE), memory or --probe.max-concurrent, or probe fewer targets from this instance."

// Finisher holds one configuration's class table and fingerprints, and the
// team each class pages (ForTarget). It is immutable after New and safe for
// concurrent use; Verdict allocates nothing.
type Finisher struct {
	classes *classifier
	matcher *fingerprint.Matcher
	// teams is the team to page per class table row: the default owners,
	// or one target's teams (ForTarget).
	teams []string
}

// New builds a Finisher from a class table and user fingerprint rules (tried
// before the built-in ones).
func New(classes []config.Class, rules []config.FingerprintRule) (*Finisher, error) {
	m, err := fingerprint.New(rules)
	if err != nil {
		return nil, err
	}
	c := newClassifier(classes)
	return &Finisher{classes: c, matcher: m, teams: c.owners}, nil
}

// ForTarget is the Finisher of one target: its Verdicts name the target's
// team for each class (config.Target.Teams) as Owner. A target that pages
// every class's default owner shares f itself; otherwise the table and fingerprints
// are shared and only the row of teams is the target's.
func (f *Finisher) ForTarget(t *config.Target) *Finisher {
	if len(t.Teams) == 0 {
		return f
	}
	teams := slices.Clone(f.classes.owners)
	for _, ct := range t.Teams {
		if row := f.classes.byName(ct.Class); row >= 0 {
			teams[row] = ct.Team
		}
	}
	if slices.Equal(teams, f.teams) {
		return f
	}
	g := *f
	g.teams = teams
	return &g
}

// SameTeams reports whether f and g page the same team for every class
// table row.
func (f *Finisher) SameTeams(g *Finisher) bool { return slices.Equal(f.teams, g.teams) }

// ForConfig builds the Finisher of a loaded configuration.
func ForConfig(cfg *config.Config) (*Finisher, error) {
	return New(cfg.Classes, cfg.Fingerprints)
}

// Default is the Finisher of the default class table and the built-in
// fingerprints.
func Default() *Finisher {
	f, err := New(config.DefaultClasses(), nil)
	if err != nil {
		panic(err) // the built-in rules compile; a test proves it
	}
	return f
}

// Verdict triages one outcome: reason is why there was no complete answer
// (contract.ReasonNone when there was one), a the answer (nil without one).
// The code's class decides unless the answer's page proves another cause.
func (f *Finisher) Verdict(reason contract.Reason, a *fingerprint.Answer) Verdict {
	var v Verdict
	row := -1
	switch {
	case reason == contract.ReasonExporter:
		v.Class, v.FirstMove = ClassExporter, firstMoveExporter
		return v
	case reason != contract.ReasonNone:
		v.Class, row = f.classes.reasonClass(reason)
		if reason == contract.ReasonSoftError && a != nil {
			// A soft error's page may be a product's error page.
			m := f.matcher.ErrorPage(a)
			v.Layer, v.Product, v.Cause = m.Layer, m.Product, m.Cause
		}
	case a == nil:
		v.Class, row = f.classes.codeClass(0)
	default:
		v.Class, row = f.classes.codeClass(a.Code)
		if a.Code < 500 || a.Code > 599 {
			break
		}
		m := f.matcher.Match(a)
		v.Layer, v.Product, v.Cause, v.CannedRetryAfter = m.Layer, m.Product, m.Cause, m.CannedRetryAfter
		byCause := -1
		switch {
		case m.Class != "":
			byCause = f.classes.byName(m.Class)
		case m.As != 0:
			byCause = f.classes.code(m.As)
		}
		if byCause >= 0 && byCause != row {
			v.CodeClass = v.Class
			row = byCause
			v.Class = f.classes.names[row]
		}
	}
	if row >= 0 {
		v.Owner, v.FirstMove = f.teams[row], f.classes.firstMoves[row]
	}
	return v
}

// ErrorPage reports whether a 2xx answer is a product's or framework's
// error page served with a success code (fingerprint.Matcher.ErrorPage):
// the prober then fails the probe with contract.ReasonSoftError, and
// Verdict names the product and cause.
func (f *Finisher) ErrorPage(a *fingerprint.Answer) (cause string, ok bool) {
	m := f.matcher.ErrorPage(a)
	return m.Cause, m.Product != ""
}

// Code returns the class of a status code and the team it pages, for
// series created before any probe answered.
func (f *Finisher) Code(code int) (class, owner string) {
	class, row := f.classes.codeClass(code)
	return class, f.team(row)
}

// Reason returns the class of a no-answer reason and the team it pages.
func (f *Finisher) Reason(r contract.Reason) (class, owner string) {
	if r == contract.ReasonExporter {
		return ClassExporter, ""
	}
	class, row := f.classes.reasonClass(r)
	return class, f.team(row)
}

// team is the team of a class table row, "" for -1 (no class).
func (f *Finisher) team(row int) string {
	if row < 0 {
		return ""
	}
	return f.teams[row]
}

// Products lists every product a Verdict can name, sorted.
func (f *Finisher) Products() []string { return f.matcher.Products() }

// Classes returns the configured class names, in order.
func (f *Finisher) Classes() []string { return append([]string{}, f.classes.names...) }
