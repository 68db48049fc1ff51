package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// UIDs are stable: alerts and the other dashboards link to them.
const (
	uidOverview = "http5xx-overview"
	uidTarget   = "http5xx-target"
	uidExporter = "http5xx-exporter"
)

// datasource points every panel, query and variable at the datasource variable.
var datasource = common.DataSourceRef{
	Type: cog.ToPtr("prometheus"),
	Uid:  cog.ToPtr("${datasource}"),
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus")
}

// chainVar is one variable of a chain such as job → location → service → target.
type chainVar struct {
	name   string
	label  string
	single bool // one value and no "All" (the target dashboard's target)
}

// chain builds variables whose values come from metric, narrowed by the
// pack's job selector and by every variable before them, so picking a
// location narrows the services.
func chain(s Settings, metric string, vars ...chainVar) []cog.Builder[dashboard.VariableModel] {
	var out []cog.Builder[dashboard.VariableModel]
	previous := []string{s.JobSelector}
	for _, v := range vars {
		selector := metric + "{" + strings.Join(previous, ", ") + "}"
		query := fmt.Sprintf("label_values(%s, %s)", selector, v.name)
		b := dashboard.NewQueryVariableBuilder(v.name).
			Label(v.label).
			Datasource(datasource).
			Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
			Definition(query).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc)
		if !v.single {
			// ".*" rather than a list of values: it also matches series
			// without the label (location is omitted when unset).
			b = b.Multi(true).IncludeAll(true).AllValue(".*")
		}
		out = append(out, b)
		previous = append(previous, fmt.Sprintf(`%s=~"$%s"`, v.name, v.name))
	}
	return out
}

// targetChain is job → location → service → target over the one series every
// configured target has.
func targetChain(s Settings, singleTarget bool) []cog.Builder[dashboard.VariableModel] {
	return chain(s, "http5xx_target_info",
		chainVar{name: "job", label: "Job"},
		chainVar{name: "location", label: "Location"},
		chainVar{name: "service", label: "Service"},
		chainVar{name: "target", label: "Target", single: singleTarget},
	)
}

// exporterChain is job → instance over the build info every exporter exposes,
// also those that probe nothing yet.
func exporterChain(s Settings) []cog.Builder[dashboard.VariableModel] {
	return chain(s, "http5xx_exporter_build_info",
		chainVar{name: "job", label: "Job"},
		chainVar{name: "instance", label: "Exporter"},
	)
}

// dashboardLink links to another dashboard of this set, keeping the time
// range and every variable the two share.
func dashboardLink(title, uid, tooltip string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Url("/d/" + uid + "/" + uid).
		Tooltip(tooltip).
		Icon("dashboard").
		IncludeVars(true).
		KeepTime(true)
}

// runbooksLink opens the runbooks of the pack's alerts.
func runbooksLink(url string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder("Runbooks").
		Type(dashboard.DashboardLinkTypeLink).
		Url(url).
		Tooltip("What each alert means, the first three checks, who owns it").
		Icon("doc").
		TargetBlank(true)
}

// newDashboard is the frame every dashboard shares.
func newDashboard(uid, title, description string, s Settings) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Link(runbooksLink(s.RunbookURL)).
		Uid(uid).
		Description(description).
		Tags([]string{"http5xx"}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("1m").
		Time("now-3h", "now").
		Timezone(common.TimeZoneBrowser).
		WithVariable(datasourceVariable())
}

func withVariables(b *dashboard.DashboardBuilder, vars []cog.Builder[dashboard.VariableModel]) *dashboard.DashboardBuilder {
	for _, v := range vars {
		b = b.WithVariable(v)
	}
	return b
}

// deployAnnotation marks each deploy at its recorded time with its version.
func deployAnnotation(expr string) *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name("Deploys").
		Datasource(datasource).
		Enable(true).
		IconColor("blue").
		Target(annotationQuery(expr)).
		UseValueForTime(true).
		TitleFormat("Deploy {{service}} {{version}}").
		TextFormat("{{service}} is now at {{version}}").
		TagKeys("service,version")
}

// maintenanceAnnotation shades the maintenance windows of the services: the
// 503s inside them were planned, and the pack pages nobody for them.
func maintenanceAnnotation(expr string) *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name("Maintenance windows").
		Datasource(datasource).
		Enable(true).
		IconColor("purple").
		Target(annotationQuery(expr)).
		TitleFormat("Maintenance {{service}}").
		TextFormat("{{service}} is inside a maintenance window: its 503s page nobody").
		TagKeys("service")
}

// alertAnnotation shades the time the pack's alerts fired.
func alertAnnotation(expr string) *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name("Firing alerts").
		Datasource(datasource).
		Enable(true).
		IconColor("red").
		Target(annotationQuery(expr)).
		TitleFormat("{{alertname}}").
		TextFormat("{{severity}} {{error_class}} → {{owner}}: {{target}} {{location}}").
		TagKeys("alertname,severity,error_class,owner,target,location")
}
