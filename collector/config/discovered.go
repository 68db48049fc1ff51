package config

import "fmt"

// Discovered is a target a discovery source produced, and where: Source
// names the file or URL (secrets redacted) and Path the entry in it, such
// as [2].targets[0], so a message reads like one about a file.
type Discovered struct {
	Target Target
	Source string
	Path   string
}

// WithDiscovered returns a copy of cfg with the discovered targets after
// the configured ones, the global defaults applied and validated as
// configured targets are; a name used twice is an error. cfg is not
// changed. Errors join every problem as SOURCE: PATH.FIELD: message.
func WithDiscovered(cfg *Config, found []Discovered) (*Config, error) {
	if len(found) == 0 {
		return cfg, nil
	}
	out := *cfg
	out.Targets = make([]Target, len(cfg.Targets), len(cfg.Targets)+len(found))
	copy(out.Targets, cfg.Targets)
	l := &loader{}
	var sources []string
	defined := make(map[string]string, len(out.Targets)+len(found))
	for _, t := range cfg.Targets {
		defined[t.Name] = t.File
	}
	for _, d := range found {
		t := d.Target
		t.inherit(&cfg.Global, func(string) bool { return false })
		t.File = d.Source
		if len(sources) == 0 || sources[len(sources)-1] != d.Source {
			sources = append(sources, d.Source)
		}
		src := &source{file: d.Source}
		report{l: l, src: src}.validateTarget(d.Path, &t, defined, cfg.Classes)
		out.Targets = append(out.Targets, t)
	}
	if len(l.errs) == 0 {
		resolveTeams(out.Targets[len(cfg.Targets):], out.Classes, out.Services)
		return &out, nil
	}
	return nil, fmt.Errorf("discovered targets: %w", l.err(sources))
}
