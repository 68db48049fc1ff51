package discovery

import (
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
)

// FuzzGroups: whatever a file or an inventory sends, the readers return an
// error or groups that relabel into targets without a panic.
func FuzzGroups(f *testing.F) {
	for _, seed := range []string{
		`[{"targets": ["a:80"], "labels": {"app": "shop"}}]`,
		`[]`,
		`[{"targets": [""]}]`,
		`- targets: ['a:80']` + "\n  labels: {__scheme__: https}\n",
		`[{"targets": ["a:80"], "labels": {"": "x"}}]`,
		"[{\"targets\": [\"\xff\"]}]",
	} {
		f.Add([]byte(seed))
	}
	cfgs := []*relabel.Config{{
		SourceLabels: []model.LabelName{"app", "__address__"}, Separator: ";", Regex: relabel.MustNewRegexp("(.*);(.*)"),
		Replacement: "$1.$2", TargetLabel: "name", Action: relabel.Replace, NameValidationScheme: model.UTF8Validation,
	}}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) ([]Group, error){parseJSON, parseYAML} {
			gs, err := parse(data)
			if err != nil {
				continue
			}
			for _, d := range targets("fuzz", nil, gs, cfgs) {
				if d.Target.Name == "" && d.Target.URL != "" {
					t.Errorf("a target with a URL and no name: %+v", d)
				}
			}
		}
	})
}
