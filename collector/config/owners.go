package config

import (
	"maps"
	"slices"
	"strings"
)

// Who is paged, in one place. Three words, one meaning each:
//
//   - a class's owner (classes[].owner) is the team that acts on the class
//     unless a target says otherwise: the class's default owner;
//   - a target's owners (targets[].owners, class -> team) and a service's
//     (services[].owners) name the team paged for a class instead, the
//     target's over the service's over the default owner: the team;
//   - a target's owner (targets[].owner) is the team that owns the target
//     as a whole: paged by its whole-target alerts (error budget burn,
//     errors after a deploy), never for a class.
//
// The team is resolved per target and class when the configuration is
// loaded (Target.Teams), so every series, alert, page and answer carries it
// under the one label owner.

// Service holds what every target of one service shares.
type Service struct {
	// Name is the service, as targets name it in their service field.
	Name string `yaml:"name"`
	// Owners names, by class, the team paged for that class's alerts of
	// the service's targets; a target's own owners win.
	Owners map[string]string `yaml:"owners"`
}

// ClassTeam is a class whose team, for one target, is not the default owner.
type ClassTeam struct {
	Class string
	// Team is paged for the class's alerts of the target.
	Team string
	// DefaultOwner is the class table's owner of the class, the default Team
	// replaces.
	DefaultOwner string
}

// Team returns the team paged for class on t and the default owner it
// replaces; ok is false when t pages the default owner (or class is not in
// the table t was resolved with).
func (t *Target) Team(class string) (team, defaultOwner string, ok bool) {
	for _, ct := range t.Teams {
		if ct.Class == class {
			return ct.Team, ct.DefaultOwner, true
		}
	}
	return "", "", false
}

// resolveTeams fills Teams of every target in ts from its owners, its
// service's owners and the class table.
func resolveTeams(ts []Target, classes []Class, services []Service) {
	byService := make(map[string]map[string]string, len(services))
	for _, s := range services {
		byService[s.Name] = s.Owners
	}
	for i := range ts {
		ts[i].resolveTeams(classes, byService[ts[i].Service])
	}
}

// resolveTeams sets t.Teams: for each class of the table, the target's
// team, else the service's, where it is not the default owner.
func (t *Target) resolveTeams(classes []Class, service map[string]string) {
	t.Teams = nil
	for _, c := range classes {
		team := t.Owners[c.Name]
		if team == "" {
			team = service[c.Name]
		}
		if team != "" && team != c.Owner {
			t.Teams = append(t.Teams, ClassTeam{Class: c.Name, Team: team, DefaultOwner: c.Owner})
		}
	}
}

// checkOwners reports an owners map whose keys are not classes of the
// table or whose teams are empty or not label-safe.
func (r report) checkOwners(p string, owners map[string]string, classes []Class) {
	for _, class := range slices.Sorted(maps.Keys(owners)) {
		cp := childPath(p, class)
		if !slices.ContainsFunc(classes, func(c Class) bool { return c.Name == class }) {
			r.errorf(cp, "%q is not a class of the class table (%s)", class, classNames(classes))
			continue
		}
		if owners[class] == "" {
			r.errorf(cp, "must name a team (leave the class out to page its default owner)")
			continue
		}
		r.checkLabelSafe(cp, owners[class])
	}
}

// validateServices reports services without a name, listed twice, or with
// bad owners.
func (r report) validateServices(services []Service, classes []Class) {
	names := map[string]string{}
	for i, s := range services {
		p := indexPath("services", i)
		switch {
		case s.Name == "":
			r.errorf(p+".name", "must be set")
		case names[s.Name] != "":
			r.errorf(p+".name", "%q is already listed as %s", s.Name, names[s.Name])
		default:
			names[s.Name] = p
			r.checkLabelValue(p+".name", s.Name)
		}
		if len(s.Owners) == 0 {
			r.errorf(p+".owners", "must name a team for at least one class")
		}
		r.checkOwners(p+".owners", s.Owners, classes)
	}
}

func classNames(classes []Class) string {
	names := make([]string, len(classes))
	for i, c := range classes {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}
