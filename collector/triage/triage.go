// Package triage decides what a probe's outcome means for the responder: the
// error class and the owner to page (from the configured class table), the
// hop and product that wrote a 5xx answer (from the fingerprints) and the
// class's first move. It is the one place that finishes a result: the prober
// asks it for every probe, scheduled, on demand (/probe), ad hoc or from the
// check command, so they all agree.
package triage

import (
	"net/http"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
)

// Verdict is the triage of one outcome.
type Verdict struct {
	// Class and Owner come from the error-class table: of the reason when
	// there was no answer, else of the status code; "2xx".."4xx" and no
	// owner for answers outside every class, "unknown" for a reason outside
	// every class.
	Class string
	Owner string
	// Layer and Product say which hop wrote a 5xx answer (contract.Layers);
	// empty for every other outcome.
	Layer   string
	Product string
	// FirstMove is the class's first move, "" for answers outside every class.
	FirstMove string
}

// Finisher holds one configuration's class table and fingerprints. It is
// immutable after New and safe for concurrent use; Verdict allocates
// nothing.
type Finisher struct {
	classes *classifier
	matcher *fingerprint.Matcher
}

// New builds a Finisher from a class table and user fingerprint rules (tried
// before the built-in ones).
func New(classes []config.Class, rules []config.FingerprintRule) (*Finisher, error) {
	m, err := fingerprint.New(rules)
	if err != nil {
		return nil, err
	}
	return &Finisher{classes: newClassifier(classes), matcher: m}, nil
}

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

// Verdict triages one outcome: code is the final status code (0 without an
// answer), reason why there was no complete answer, h and body the answer's
// headers and first body bytes (see fingerprint.MaxBody).
func (f *Finisher) Verdict(code int, reason contract.Reason, h http.Header, body []byte) Verdict {
	var v Verdict
	row := -1
	if reason != contract.ReasonNone {
		v.Class, v.Owner, row = f.classes.reasonClass(reason)
	} else {
		v.Class, v.Owner, row = f.classes.codeClass(code)
		if code >= 500 && code <= 599 {
			v.Layer, v.Product = f.matcher.Match(code, h, body)
		}
	}
	if row >= 0 {
		v.FirstMove = f.classes.firstMoves[row]
	}
	return v
}

// Code returns the class and owner of a status code, for series created
// before any probe answered.
func (f *Finisher) Code(code int) (class, owner string) {
	class, owner, _ = f.classes.codeClass(code)
	return class, owner
}

// Reason returns the class and owner of a no-answer reason.
func (f *Finisher) Reason(r contract.Reason) (class, owner string) {
	class, owner, _ = f.classes.reasonClass(r)
	return class, owner
}

// Products lists every product a Verdict can name, sorted.
func (f *Finisher) Products() []string { return f.matcher.Products() }

// Classes returns the configured class names, in order.
func (f *Finisher) Classes() []string { return append([]string{}, f.classes.names...) }
