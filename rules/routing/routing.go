// Package routing reasons about examples/alertmanager.yml the way
// Alertmanager does, for the tests that amtool cannot run: which alerts a set
// of firing alerts mutes.
package routing

import (
	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
)

// Inhibited reports whether Alertmanager mutes alert while the alerts in
// firing are active, and by which rule (its index in rules). It follows
// Alertmanager's inhibitor: a rule mutes alert when alert matches the rule's
// target matchers and a firing alert matches its source matchers and has the
// same value for every label in equal, a missing label counting as the empty
// value. An alert that matches both sides of a rule is not muted by alerts
// that also match both sides. Rules must use source_matchers and
// target_matchers, not the deprecated match fields.
func Inhibited(rules []amcommoncfg.InhibitRule, firing []model.LabelSet, alert model.LabelSet) (int, bool) {
	for i, r := range rules {
		source, target := labels.Matchers(r.SourceMatchers), labels.Matchers(r.TargetMatchers)
		if !target.Matches(alert) {
			continue
		}
		twoSided := source.Matches(alert)
		for _, s := range firing {
			if !source.Matches(s) || twoSided && target.Matches(s) {
				continue
			}
			if sameLabels(s, alert, r.Equal) {
				return i, true
			}
		}
	}
	return -1, false
}

func sameLabels(a, b model.LabelSet, names []string) bool {
	for _, n := range names {
		if a[model.LabelName(n)] != b[model.LabelName(n)] {
			return false
		}
	}
	return true
}
