// Package discovery brings in targets from Prometheus-format service
// discovery: file_sd_configs (JSON or YAML files) and http_sd_configs (a
// URL answering JSON), both lists of {targets, labels}. Every source keeps
// its last good list; a refresh that fails (a bad file, an HTTP error, a
// timeout, an oversized answer) is counted in
// http5xx_sd_refresh_failures_total and changes nothing. relabel_configs
// turn each discovered address and its labels into a target; the result
// goes through the reload pipeline like a configured target
// (docs/architecture.md, "Service discovery").
package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Group is one entry of a discovery answer: addresses sharing labels.
type Group struct {
	Targets []string          `json:"targets" yaml:"targets"`
	Labels  map[string]string `json:"labels" yaml:"labels"`
}

// parseJSON reads a JSON list of groups; unknown fields are errors.
func parseJSON(data []byte) ([]Group, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var gs []Group
	if err := dec.Decode(&gs); err != nil {
		return nil, fmt.Errorf("not a JSON list of {targets, labels}: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not a JSON list of {targets, labels}: data after the list")
	}
	return gs, checkGroups(gs)
}

// parseYAML reads a YAML list of groups; unknown fields are errors.
func parseYAML(data []byte) ([]Group, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var gs []Group
	if err := dec.Decode(&gs); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not a YAML list of {targets, labels}: %w", err)
	}
	return gs, checkGroups(gs)
}

// MaxTargets bounds the addresses one source (one file, one http_sd
// answer) may list: each becomes a target of a few hundred bytes, so a
// broken or hostile inventory could otherwise turn its answer into
// gigabytes. It is twice the 100,000 targets a deployment is sized for.
const MaxTargets = 200_000

// checkGroups refuses what no relabelling could make a target of, and
// more than MaxTargets addresses.
func checkGroups(gs []Group) error {
	n := 0
	for _, g := range gs {
		if n += len(g.Targets); n > MaxTargets {
			return fmt.Errorf("more than %d targets", MaxTargets)
		}
	}
	for i, g := range gs {
		for j, t := range g.Targets {
			if t == "" || !utf8.ValidString(t) {
				return fmt.Errorf("[%d].targets[%d]: %q is not an address", i, j, t)
			}
		}
		for k, v := range g.Labels {
			if k == "" || !utf8.ValidString(k) || strings.ContainsAny(k, "\x00") {
				return fmt.Errorf("[%d].labels: %q is not a label name", i, k)
			}
			if !utf8.ValidString(v) {
				return fmt.Errorf("[%d].labels.%s: the value is not UTF-8", i, k)
			}
		}
	}
	return nil
}
