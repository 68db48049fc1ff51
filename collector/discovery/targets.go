package discovery

import (
	"fmt"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// The labels relabel_configs read and write. A discovered target starts with
// its group's labels, __address__, the source's __meta_* labels and
// __scheme__ "http" and __metrics_path__ "/" unless the group sets them;
// after relabelling, name, url, service and owner become the target's, each
// owner_<class> label the team of that class (its owners: owner_app=
// checkout-team is owners: {app: checkout-team}), and every other label not
// starting with __ one of its labels (as in Prometheus, where they become
// the target's labels).
const (
	LabelName    = "name"
	LabelURL     = "url"
	LabelService = "service"
	LabelOwner   = "owner"
	// LabelOwnerPrefix starts a label naming the team of one class; the
	// class must be in the class table, or the target is refused.
	LabelOwnerPrefix = config.DiscoveredOwnerPrefix
	// MetaFilepath and MetaURL name the file or URL a target came from, as
	// Prometheus' file_sd and http_sd do.
	MetaFilepath = model.MetaLabelPrefix + "filepath"
	MetaURL      = model.MetaLabelPrefix + "url"
)

// targets relabels the groups read from source into targets: name
// defaults to __address__, url to __scheme__://__address____metrics_path__.
// A target that relabelling drops is left out.
func targets(source string, meta map[string]string, groups []Group, cfgs []*relabel.Config) []config.Discovered {
	var out []config.Discovered
	lb := labels.NewBuilder(labels.EmptyLabels())
	for gi, g := range groups {
		for ti, addr := range g.Targets {
			lb.Reset(labels.EmptyLabels())
			for k, v := range g.Labels {
				lb.Set(k, v)
			}
			for k, v := range meta {
				lb.Set(k, v)
			}
			lb.Set(model.AddressLabel, addr)
			if lb.Get(model.SchemeLabel) == "" {
				lb.Set(model.SchemeLabel, "http")
			}
			if lb.Get(model.MetricsPathLabel) == "" {
				lb.Set(model.MetricsPathLabel, "/")
			}
			if !relabel.ProcessBuilder(lb, cfgs...) {
				continue
			}
			t := config.Target{
				Name:    lb.Get(LabelName),
				URL:     lb.Get(LabelURL),
				Service: lb.Get(LabelService),
				Owner:   lb.Get(LabelOwner),
			}
			lb.Range(func(l labels.Label) {
				switch {
				case strings.HasPrefix(l.Name, model.ReservedLabelPrefix), l.Name == LabelName, l.Name == LabelURL, l.Name == LabelService, l.Name == LabelOwner:
				case strings.HasPrefix(l.Name, LabelOwnerPrefix):
					if t.Owners == nil {
						t.Owners = map[string]string{}
					}
					t.Owners[strings.TrimPrefix(l.Name, LabelOwnerPrefix)] = l.Value
				default:
					if t.Labels == nil {
						t.Labels = map[string]string{}
					}
					t.Labels[l.Name] = l.Value
				}
			})
			address := lb.Get(model.AddressLabel)
			if t.Name == "" {
				t.Name = address
			}
			if t.URL == "" && address != "" {
				path := lb.Get(model.MetricsPathLabel)
				if !strings.HasPrefix(path, "/") {
					path = "/" + path
				}
				t.URL = lb.Get(model.SchemeLabel) + "://" + address + path
			}
			out = append(out, config.Discovered{Target: t, Source: source, Path: fmt.Sprintf("[%d].targets[%d]", gi, ti)})
		}
	}
	return out
}
