package config

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// DiscoveredOwnerPrefix starts a discovery label that names the team of
// one class (owner_app: the team of class app). A target's own labels may
// not start with it: written in a file, the team goes in owners.
const DiscoveredOwnerPrefix = "owner_"

// MaxTargetLabels bounds a target's labels: each one is a label of its
// http5xx_target_info series, which rules and dashboards join on.
const MaxTargetLabels = 8

// labelName is Prometheus' label name syntax (the legacy one every query
// language and tool accepts).
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// checkTargetLabels reports labels that are too many, not Prometheus label
// names, reserved (contract.ReservedLabels, or starting with __), or whose
// value is empty or not a usable label value.
func (r report) checkTargetLabels(p string, labels map[string]string) {
	if len(labels) > MaxTargetLabels {
		r.errorf(p, "%d labels, more than %d", len(labels), MaxTargetLabels)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		lp := childPath(p, name)
		switch {
		case !labelName.MatchString(name):
			r.errorf(lp, "%q is not a label name: letters, digits and '_', not starting with a digit", name)
			continue
		case len(name) >= 2 && name[:2] == "__":
			r.errorf(lp, "%q: names starting with __ are reserved for Prometheus", name)
			continue
		case slices.Contains(contract.ReservedLabels(), name):
			r.errorf(lp, "%q is reserved: the exporter, Prometheus or the rule pack sets it", name)
			continue
		case strings.HasPrefix(name, DiscoveredOwnerPrefix):
			r.errorf(lp, "%q: labels starting with %s name a class's team in discovery; here write owners: {%s: TEAM}", name, DiscoveredOwnerPrefix, strings.TrimPrefix(name, DiscoveredOwnerPrefix))
			continue
		case len(name) > maxLabelLen:
			r.errorf(lp, "is %d characters long, more than %d", len(name), maxLabelLen)
			continue
		}
		if labels[name] == "" {
			r.errorf(lp, "must not be empty (an empty label is no label)")
			continue
		}
		r.checkLabelValue(lp, labels[name])
	}
}
