package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/statushistory"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Grafana unit ids used below.
const (
	unitRatio    = "percentunit" // 0..1 shown as %
	unitSeconds  = "s"
	unitPerSec   = "reqps" // probes answered (or not) per second
	unitOpsSec   = "ops"   // exporter operations per second
	unitCount    = "short"
	unitNone     = "none" // labels or mapped states, not a quantity
	unitDateTime = "dateTimeAsIso"
	unitDays     = "d" // a number of days, as Grafana's time units name it
)

// query is one PromQL query over the dashboard range.
func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasource).
		Expr(expr).
		LegendFormat(legend).
		Range()
}

// instant is one PromQL query at the end of the range, as table rows.
func instant(expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasource).
		Expr(expr).
		Format(prometheus.PromQueryFormatTable).
		Instant()
}

// annotationQuery is the query behind an annotation.
func annotationQuery(expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasource).
		Expr(expr).
		RefId("Anno").
		Range()
}

// targets names the queries A, B, C… in order.
func targets(qs []*prometheus.DataqueryBuilder) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(qs))
	for i, q := range qs {
		out = append(out, q.RefId(string(rune('A'+i))))
	}
	return out
}

// The constructors below take title, description and unit as arguments so
// that no panel can go without them.

func timeSeries(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasource).
		Targets(targets(qs)).
		Height(8).
		Span(12).
		Min(0).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"mean", "max", "lastNotNull"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
}

// stacked stacks the series, for parts that add up to a whole.
func stacked(p *timeseries.PanelBuilder) *timeseries.PanelBuilder {
	return p.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).FillOpacity(60)
}

func statPanel(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasource).
		Targets(targets(qs)).
		Height(4).
		Span(4).
		GraphMode(common.BigValueGraphModeArea).
		ColorMode(common.BigValueColorModeValue).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
}

func tablePanel(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasource).
		Targets(targets(qs)).
		Height(8).
		Span(12).
		// The SDK's default footer has a null reducer, which its own schema rejects.
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}))
}

func heatmapPanel(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *heatmap.PanelBuilder {
	return heatmap.NewPanelBuilder().
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasource).
		Targets(targets(qs)).
		Height(8).
		Span(8).
		Calculate(false).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit(unit)).
		CellValues(heatmap.NewCellValuesBuilder().Unit(unitPerSec)).
		Color(heatmap.NewHeatmapColorOptionsBuilder().
			Mode(heatmap.HeatmapColorModeScheme).
			Scheme("Oranges").
			Fill("dark-orange").
			Scale(heatmap.HeatmapColorScaleExponential).
			Exponent(0.5).
			Steps(64)).
		Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
		ShowLegend()
}

func statusHistory(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *statushistory.PanelBuilder {
	return statushistory.NewPanelBuilder().
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasource).
		Targets(targets(qs)).
		Height(8).
		Span(12).
		ShowValue(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(false).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone))
}

func stateTimeline(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *statetimeline.PanelBuilder {
	return statetimeline.NewPanelBuilder().
		Title(title).
		Description(description).
		Unit(unit).
		Datasource(datasource).
		Targets(targets(qs)).
		Height(8).
		Span(12).
		ShowValue(common.VisibilityModeNever).
		MergeValues(true).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(false).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone))
}

// thresholds colours a value green, then the given colours from each step.
func thresholds(steps ...threshold) *dashboard.ThresholdsConfigBuilder {
	out := []dashboard.Threshold{{Color: "green"}}
	for _, s := range steps {
		out = append(out, dashboard.Threshold{Value: cog.ToPtr(s.from), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(out)
}

type threshold struct {
	from  float64
	color string
}

// errorRatioThresholds: 1% of probes failing is worth a look, 5% is an incident.
var errorRatioThresholds = []threshold{{0.01, "orange"}, {0.05, "red"}}

// saturationThresholds follow the usual 80/95 % headroom lines.
var saturationThresholds = []threshold{{0.8, "orange"}, {0.95, "red"}}

// state is how a value of a 0/1 (or code) gauge is shown.
type state struct {
	value, text, color string
}

// states maps exact values to words and colours.
func states(ss ...state) []dashboard.ValueMapping {
	options := map[string]dashboard.ValueMappingResult{}
	for i, s := range ss {
		options[s.value] = dashboard.ValueMappingResult{Text: cog.ToPtr(s.text), Color: cog.ToPtr(s.color), Index: cog.ToPtr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: options}}}
}

// upDown shows http5xx_target_up.
var upDown = states(state{"0", "DOWN", "red"}, state{"1", "UP", "green"})

// okFailed shows a 0/1 success gauge.
var okFailed = states(state{"0", "FAILED", "red"}, state{"1", "OK", "green"})

// colorBackground colours a table's number cells by the thresholds; names
// stay plain.
var colorBackground = []dashboard.DynamicConfigValue{{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}}}

// transformation is a Grafana transformation by id with its options.
func transformation(id string, options map[string]any) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: id, Options: options}
}

// organize hides table columns that add nothing (the instant query's Time)
// and names the value column.
func organize(value string, hide ...string) dashboard.DataTransformerConfig {
	exclude := map[string]any{}
	for _, n := range hide {
		exclude[n] = true
	}
	options := map[string]any{"excludeByName": exclude}
	if value != "" {
		options["renameByName"] = map[string]any{"Value": value}
	}
	return transformation("organize", options)
}

// dataLink is a link from a table cell or series to another view.
func dataLink(title, url string) cog.Builder[dashboard.DashboardLink] {
	return dashboard.NewDashboardLinkBuilder(title).Url(url)
}

// targetDashboardURL opens the target dashboard for the row's target and
// location, keeping the time range and the job and datasource choices.
const targetDashboardURL = "/d/" + uidTarget + "/" + uidTarget +
	"?${__url_time_range}&${datasource:queryparam}&${job:queryparam}" +
	"&var-service=${__data.fields.service}&var-target=${__data.fields.target}&var-location=${__data.fields.location}"
