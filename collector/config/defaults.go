package config

import (
	"maps"
	"net/textproto"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// The defaults of the global section, which every target inherits.
const (
	DefaultInterval      = model.Duration(30 * time.Second)
	DefaultTimeout       = model.Duration(10 * time.Second)
	DefaultBodySizeLimit = ByteSize(1 << 20)
	DefaultMaxRedirects  = 10
	DefaultMethod        = "GET"
	// DefaultSaturationBodySizeLimit bounds a saturation source's answer.
	DefaultSaturationBodySizeLimit = ByteSize(256 << 10)
)

// How a target's version_url is polled: every target interval, each read
// bounded by the target's timeout but never longer than
// MaxVersionPollTimeout (the probe may be allowed longer; a side channel is
// not), and the document by VersionBodySizeLimit.
const (
	MaxVersionPollTimeout = model.Duration(10 * time.Second)
	VersionBodySizeLimit  = ByteSize(256 << 10)
)

// VersionPoll is how a target's version_url is read.
type VersionPoll struct {
	Interval, Timeout time.Duration
	BodySizeLimit     ByteSize
}

// VersionPoll returns how t's version_url is read, from t's settings as
// Load applied them; the poller uses it as it is.
func (t *Target) VersionPoll() VersionPoll {
	return VersionPoll{
		Interval:      t.IntervalDuration(),
		Timeout:       time.Duration(min(t.Timeout, MaxVersionPollTimeout)),
		BodySizeLimit: VersionBodySizeLimit,
	}
}

// defaultGlobal returns the global section used where the file says nothing.
func defaultGlobal() Global {
	follow := true
	return Global{
		Interval:         DefaultInterval,
		Timeout:          DefaultTimeout,
		BodySizeLimit:    DefaultBodySizeLimit,
		ValidStatusCodes: StatusCodes{{200, 399}},
		FollowRedirects:  &follow,
		MaxRedirects:     DefaultMaxRedirects,
		Buckets:          []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}
}

// NewTarget returns a target for url with every default applied, as if it
// had been configured with only a name and a url (for one-shot checks).
func NewTarget(name, url string) Target {
	t := Target{Name: name, URL: url}
	g := defaultGlobal()
	t.inherit(&g, func(string) bool { return false })
	return t
}

// applyDefaults fills what the files left out. A value counts as left out
// when its key is absent or null, so an explicit 0 is kept for validation
// to judge.
func (l *loader) applyDefaults(cfg *Config) {
	cfg.Global.fill(defaultGlobal(), func(f string) bool { return l.main.has("global." + f) })
	if !l.main.has("classes") {
		cfg.Classes = DefaultClasses()
	}
	for i := range cfg.Targets {
		t, src, p := &cfg.Targets[i], l.targets[i], l.paths[i]
		t.inherit(&cfg.Global, func(f string) bool { return src.has(p + "." + f) })
		// Certificate files are relative to the file that names them.
		// So are secret files.
		t.TLS.SetDirectory(filepath.Dir(t.File))
		t.BasicAuth.SetDirectory(filepath.Dir(t.File))
		t.Authorization.SetDirectory(filepath.Dir(t.File))
		t.OAuth2.SetDirectory(filepath.Dir(t.File))
	}
}

func (g *Global) fill(d Global, written func(field string) bool) {
	if !written("interval") {
		g.Interval = d.Interval
	}
	if !written("timeout") {
		// Like Prometheus' scrape_timeout: never longer than the interval.
		g.Timeout = min(d.Timeout, g.Interval)
	}
	if !written("body_size_limit") {
		g.BodySizeLimit = d.BodySizeLimit
	}
	if !written("valid_status_codes") {
		g.ValidStatusCodes = d.ValidStatusCodes
	}
	if g.FollowRedirects == nil {
		g.FollowRedirects = d.FollowRedirects
	}
	if !written("max_redirects") {
		g.MaxRedirects = d.MaxRedirects
	}
	if !written("buckets") {
		g.Buckets = d.Buckets
	}
}

// inherit fills a target's unwritten settings from the global section.
func (t *Target) inherit(g *Global, written func(field string) bool) {
	if t.IPFamily == "" {
		t.IPFamily = contract.FamilyAny
	}
	if t.ProbePath == "" {
		t.ProbePath = g.ProbePath
	}
	if !written("interval") {
		t.Interval = g.Interval
	}
	if !written("timeout") {
		t.Timeout = min(g.Timeout, t.Interval)
	}
	if !written("body_size_limit") {
		t.BodySizeLimit = g.BodySizeLimit
	}
	if !written("valid_status_codes") {
		t.ValidStatusCodes = slices.Clone(g.ValidStatusCodes)
	}
	if t.FollowRedirects == nil && g.FollowRedirects != nil {
		follow := *g.FollowRedirects
		t.FollowRedirects = &follow
	}
	if !written("max_redirects") {
		t.MaxRedirects = g.MaxRedirects
	}
	t.Headers = mergeHeaders(g.Headers, t.Headers)
	if !written("expect") {
		t.Expect = slices.Clone(g.Expect)
	}
	if t.Service == "" {
		t.Service = t.Name
	}
	if t.Method == "" {
		t.Method = DefaultMethod
	}
	if s := t.Saturation; s != nil {
		if !written("saturation.interval") {
			s.Interval = t.Interval
		}
		if !written("saturation.timeout") {
			s.Timeout = min(t.Timeout, s.Interval)
		}
		if !written("saturation.body_size_limit") {
			s.BodySizeLimit = DefaultSaturationBodySizeLimit
		}
	}
}

// mergeHeaders returns global's headers overridden by the target's; names
// compare case-insensitively and the target's spelling wins.
func mergeHeaders(global, target map[string]string) map[string]string {
	if len(global) == 0 {
		return target
	}
	out := maps.Clone(target)
	if out == nil {
		out = make(map[string]string, len(global))
	}
	own := make(map[string]bool, len(target))
	for k := range target {
		own[textproto.CanonicalMIMEHeaderKey(k)] = true
	}
	for k, v := range global {
		if !own[textproto.CanonicalMIMEHeaderKey(k)] {
			out[k] = v
		}
	}
	return out
}
