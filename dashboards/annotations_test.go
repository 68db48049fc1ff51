package dashboards

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
)

// TestDeployAnnotationMarksDeployMoments runs each dashboard's Deploys
// annotation on Prometheus' own engine over a recorded history, turns the
// result into events the way Grafana's Prometheus datasource does, and
// requires exactly one point event per deploy, at the deploy time, titled
// with the version: not one per sample, not one per exporter, none for an
// exporter restart, and the first deploy of a new service included.
func TestDeployAnnotationMarksDeployMoments(t *testing.T) {
	const minutes = 60
	var load strings.Builder
	load.WriteString("load 1m\n")
	add := func(series string, value func(minute int) string) {
		points := make([]string, 0, minutes+1)
		for m := 0; m <= minutes; m++ {
			v := value(m)
			if v == "" {
				v = "_"
			}
			points = append(points, v)
		}
		fmt.Fprintf(&load, "  %s %s\n", series, strings.Join(points, " "))
	}
	// between is a gauge's value from minute `from` on, until `to` where the
	// exporter drops the series (a stale marker, as a real scrape writes).
	between := func(from, to int, value string) func(int) string {
		return func(m int) string {
			switch {
			case m < from || m > to:
				return ""
			case m == to:
				return "stale"
			}
			return value
		}
	}
	always := func(int) string { return "1" }

	// Two exporters (locations fra and sfo) record the same deploys of shop:
	// v1 at 10m, v2 at 30m, v2 again at 45m. Exporter b restarts at 40m and
	// comes back at 43m with its durable deploy store. cart, a service of
	// another target, first deploys at 20m.
	for _, e := range []struct{ instance, location string }{{"a:10505", "fra"}, {"b:10505", "sfo"}} {
		lbl := func(s string) string { return fmt.Sprintf(`{job="http5xx", instance=%q, %s}`, e.instance, s) }
		restart := func(f func(int) string) func(int) string {
			if e.instance == "a:10505" {
				return f
			}
			return func(m int) string {
				switch {
				case m == 40:
					return "stale"
				case m > 40 && m < 43:
					return ""
				}
				return f(m)
			}
		}
		add("http5xx_deploy_timestamp_seconds"+lbl(`service="shop"`), restart(func(m int) string {
			switch {
			case m < 10:
				return ""
			case m < 30:
				return "600"
			case m < 45:
				return "1800"
			}
			return "2700"
		}))
		add("http5xx_deploy_info"+lbl(`service="shop", version="v1"`), restart(between(10, 30, "1")))
		add("http5xx_deploy_info"+lbl(`service="shop", version="v2"`), restart(between(30, minutes+1, "1")))
		add("http5xx_deploy_timestamp_seconds"+lbl(`service="cart"`), restart(between(20, minutes+1, "1200")))
		add("http5xx_deploy_info"+lbl(`service="cart", version="c7"`), restart(between(20, minutes+1, "1")))
		add("http5xx_target_info"+lbl(fmt.Sprintf(`target="shop-home", service="shop", location=%q`, e.location)), restart(always))
		add("http5xx_target_info"+lbl(fmt.Sprintf(`target="cart-api", service="cart", location=%q`, e.location)), restart(always))
	}
	storage := promqltest.LoadedStorage(t, load.String())
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)

	shop := []event{{"Deploy shop v1", 600_000}, {"Deploy shop v2", 1_800_000}, {"Deploy shop v2", 2_700_000}}
	cart := []event{{"Deploy cart c7", 1_200_000}}
	all := ".*" // what Grafana sends for "All"
	cases := []struct {
		file   string
		values map[string]string
		want   []event
	}{
		{"http5xx-overview.json", map[string]string{"job": all, "location": all, "service": all, "target": all}, append(slices.Clone(shop), cart...)},
		{"http5xx-overview.json", map[string]string{"job": all, "location": all, "service": "cart", "target": all}, cart},
		{"http5xx-target.json", map[string]string{"job": all, "location": all, "service": all, "target": "shop-home"}, shop},
		{"http5xx-target.json", map[string]string{"job": all, "location": "sfo", "service": all, "target": "cart-api"}, cart},
	}
	boards := loadBoards(t)
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %v", c.file, c.values), func(t *testing.T) {
			m, anno, expr := queryAnnotation(t, engine, storage, boards, c.file, "Deploys", c.values, minutes)
			got := grafanaEvents(t, m, anno, annotationStep)
			slices.SortFunc(got, compareEvents)
			want := slices.Clone(c.want)
			slices.SortFunc(want, compareEvents)
			if !slices.Equal(got, want) {
				t.Errorf("events\n got %v\nwant %v\nquery:\n%s", got, want, expr)
			}
		})
	}
}

// annotationStep is the step of Grafana's annotation queries (its default).
const annotationStep = time.Minute

// queryAnnotation runs the annotation called name of the dashboard file,
// with the dashboard's variables set to values, as Grafana's Prometheus
// datasource does: a range query over the first minutes of db at
// annotationStep. It returns the result, the annotation and the query.
func queryAnnotation(t *testing.T, engine *promql.Engine, db storage.Queryable, boards map[string]board, file, name string, values map[string]string, minutes int) (promql.Matrix, *annotation, string) {
	t.Helper()
	var anno *annotation
	for _, a := range boards[file].Annotations.List {
		if a.Name == name {
			anno = &a
		}
	}
	if anno == nil || anno.Target == nil {
		t.Fatalf("%s has no %s annotation", file, name)
	}
	expr, err := substitute(anno.Target.Expr, values)
	if err != nil {
		t.Fatal(err)
	}
	q, err := engine.NewRangeQuery(t.Context(), db, nil, expr, time.Unix(0, 0), time.Unix(int64(minutes)*60, 0), annotationStep)
	if err != nil {
		t.Fatalf("%s annotation: %v\n%s", name, err, expr)
	}
	res := q.Exec(t.Context())
	if res.Err != nil {
		t.Fatalf("%s annotation: %v\n%s", name, res.Err, expr)
	}
	m, err := res.Matrix()
	if err != nil {
		t.Fatal(err)
	}
	return m, anno, expr
}

// event is a Grafana annotation event that marks a moment (time == timeEnd).
type event struct {
	title string
	at    int64 // Unix milliseconds
}

func compareEvents(a, b event) int {
	return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.title, b.title))
}

// grafanaEvents turns a range query result into annotation events like the
// Prometheus datasource's processEvents: each value is the event time when
// useValueForTime is on, else each sample time with a value > 0; times
// within one step of each other merge into a region. Regions fail the test:
// a deploy is a moment.
func grafanaEvents(t *testing.T, m promql.Matrix, a *annotation, step time.Duration) []event {
	t.Helper()
	var out []event
	for _, s := range m {
		var times []int64
		for _, p := range s.Floats {
			switch {
			case a.UseValueForTime:
				times = append(times, int64(math.Floor(p.F)))
			case p.F > 0:
				times = append(times, p.T)
			}
		}
		title := renderLegend(a.TitleFormat, s.Metric.Map())
		var start, end int64
		open := false
		flush := func() {
			if start != end {
				t.Errorf("%q is a region from %d to %d ms, not a moment", title, start, end)
			}
			out = append(out, event{title, start})
		}
		for _, ts := range times {
			if open && end+step.Milliseconds() >= ts {
				end = ts
				continue
			}
			if open {
				flush()
			}
			start, end, open = ts, ts, true
		}
		if open {
			flush()
		}
	}
	return out
}

var legendRef = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

func renderLegend(format string, labels map[string]string) string {
	return legendRef.ReplaceAllStringFunc(format, func(ref string) string {
		return labels[legendRef.FindStringSubmatch(ref)[1]]
	})
}

// TestDeployQueriesWhenInstancesRepeatAcrossLocations runs the deploy
// queries over what a global Prometheus holds when every location scrapes
// its exporter under the same address (localhost:10505, or one Service
// name per cluster): the deploy series of fra and sfo differ only in the
// location label their Prometheus adds. Joining the deploy time with the
// version per exporter must still find exactly one version per series, or
// Prometheus rejects the query and the deploy markers and the current
// versions table go blank.
func TestDeployQueriesWhenInstancesRepeatAcrossLocations(t *testing.T) {
	const minutes = 60
	var load strings.Builder
	load.WriteString("load 1m\n")
	for _, loc := range []string{"fra", "sfo"} {
		lbl := func(s string) string {
			return fmt.Sprintf(`{job="http5xx", instance="localhost:10505", location=%q, %s}`, loc, s)
		}
		// shop: v1 deployed at 10m, v2 at 30m (the replaced version's info
		// series goes stale, as the exporter drops it).
		fmt.Fprintf(&load, "  http5xx_deploy_timestamp_seconds%s _x10 600x19 1800x30\n", lbl(`service="shop"`))
		fmt.Fprintf(&load, "  http5xx_deploy_info%s _x10 1x19 stale\n", lbl(`service="shop", version="v1"`))
		fmt.Fprintf(&load, "  http5xx_deploy_info%s _x30 1x30\n", lbl(`service="shop", version="v2"`))
		fmt.Fprintf(&load, "  http5xx_target_info%s 1x%d\n", lbl(`target="shop-home", service="shop"`), minutes)
	}
	storage := promqltest.LoadedStorage(t, load.String())
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	values := map[string]string{"job": ".*", "location": ".*", "service": ".*", "target": "shop-home"}
	want := []event{{"Deploy shop v1", 600_000}, {"Deploy shop v2", 1_800_000}}

	boards := loadBoards(t)
	for _, file := range []string{"http5xx-overview.json", "http5xx-target.json"} {
		t.Run(file, func(t *testing.T) {
			m, anno, expr := queryAnnotation(t, engine, storage, boards, file, "Deploys", values, minutes)
			got := grafanaEvents(t, m, anno, annotationStep)
			slices.SortFunc(got, compareEvents)
			if !slices.Equal(got, want) {
				t.Errorf("events\n got %v\nwant %v\nquery:\n%s", got, want, expr)
			}
		})
	}

	t.Run("current versions", func(t *testing.T) {
		var expr string
		for _, p := range boards["http5xx-target.json"].leaves() {
			if p.Title == "Current versions" && len(p.Targets) == 1 {
				expr = p.Targets[0].Expr
			}
		}
		if expr == "" {
			t.Fatal("http5xx-target.json has no Current versions table with one query")
		}
		expr, err := substitute(expr, values)
		if err != nil {
			t.Fatal(err)
		}
		q, err := engine.NewInstantQuery(t.Context(), storage, nil, expr, time.Unix(minutes*60, 0))
		if err != nil {
			t.Fatalf("%v\n%s", err, expr)
		}
		res := q.Exec(t.Context())
		if res.Err != nil {
			t.Fatalf("Current versions: %v\n%s", res.Err, expr)
		}
		v, err := res.Vector()
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 1 || v[0].Metric.Get("service") != "shop" || v[0].Metric.Get("version") != "v2" || v[0].F != 1_800_000 {
			t.Errorf("current versions %v, want shop v2 deployed at 1800000 ms\nquery:\n%s", v, expr)
		}
	})
}

// TestMaintenanceAnnotationShadesWindows runs each dashboard's maintenance
// annotation on Prometheus' own engine and requires one region per window,
// from its first to its last minute: the windows of every exporter merged
// (one that missed the POST or restarted leaves no hole), none while the
// gauge reads 0 after a window, and only the selected services.
func TestMaintenanceAnnotationShadesWindows(t *testing.T) {
	const minutes = 60
	var load strings.Builder
	load.WriteString("load 1m\n")
	add := func(series string, value func(minute int) string) {
		points := make([]string, 0, minutes+1)
		for m := 0; m <= minutes; m++ {
			points = append(points, cmp.Or(value(m), "_"))
		}
		fmt.Fprintf(&load, "  %s %s\n", series, strings.Join(points, " "))
	}
	// window is a service's gauge: absent before it opens, 1 inside, 0
	// after (an ended window stays exported for a day). gone blanks the
	// minutes of an exporter restart.
	window := func(from, to int, gone ...int) func(int) string {
		return func(m int) string {
			switch {
			case slices.Contains(gone, m):
				return ""
			case m < from:
				return ""
			case m <= to:
				return "1"
			}
			return "0"
		}
	}
	always := func(int) string { return "1" }
	for _, e := range []struct{ instance, location string }{{"a:10505", "fra"}, {"b:10505", "sfo"}} {
		lbl := func(s string) string { return fmt.Sprintf(`{job="http5xx", instance=%q, %s}`, e.instance, s) }
		// shop is in maintenance from 10m to 24m on both exporters; b
		// restarts at 15m and is back at 18m.
		shop := window(10, 24)
		if e.instance == "b:10505" {
			shop = window(10, 24, 15, 16, 17)
		}
		add("http5xx_maintenance_active"+lbl(`service="shop"`), shop)
		// cart's window from 40m to 49m reached only exporter b.
		if e.instance == "b:10505" {
			add("http5xx_maintenance_active"+lbl(`service="cart"`), window(40, 49))
		}
		add("http5xx_target_info"+lbl(fmt.Sprintf(`target="shop-home", service="shop", location=%q`, e.location)), always)
		add("http5xx_target_info"+lbl(fmt.Sprintf(`target="cart-api", service="cart", location=%q`, e.location)), always)
	}
	storage := promqltest.LoadedStorage(t, load.String())
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)

	shop := region{"Maintenance shop", 600_000, 1_440_000}
	cart := region{"Maintenance cart", 2_400_000, 2_940_000}
	all := ".*"
	cases := []struct {
		file   string
		values map[string]string
		want   []region
	}{
		{"http5xx-overview.json", map[string]string{"job": all, "location": all, "service": all, "target": all}, []region{shop, cart}},
		{"http5xx-overview.json", map[string]string{"job": all, "location": all, "service": "cart", "target": all}, []region{cart}},
		{"http5xx-target.json", map[string]string{"job": all, "location": all, "service": all, "target": "shop-home"}, []region{shop}},
		{"http5xx-target.json", map[string]string{"job": all, "location": "fra", "service": all, "target": "cart-api"}, []region{cart}},
	}
	boards := loadBoards(t)
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %v", c.file, c.values), func(t *testing.T) {
			m, anno, expr := queryAnnotation(t, engine, storage, boards, c.file, "Maintenance windows", c.values, minutes)
			got := grafanaRegions(m, anno, annotationStep)
			if !slices.Equal(got, c.want) {
				t.Errorf("regions\n got %v\nwant %v\nquery:\n%s", got, c.want, expr)
			}
		})
	}
}

// region is a Grafana annotation event over a span of time.
type region struct {
	title      string
	start, end int64 // Unix milliseconds
}

// grafanaRegions turns a range query result into annotation events like the
// Prometheus datasource: every sample time with a value > 0, merged into a
// region with the next one when it is within one step; ordered by start.
func grafanaRegions(m promql.Matrix, a *annotation, step time.Duration) []region {
	var out []region
	for _, s := range m {
		title := renderLegend(a.TitleFormat, s.Metric.Map())
		open := false
		var r region
		for _, p := range s.Floats {
			if p.F <= 0 {
				continue
			}
			if open && r.end+step.Milliseconds() >= p.T {
				r.end = p.T
				continue
			}
			if open {
				out = append(out, r)
			}
			r, open = region{title, p.T, p.T}, true
		}
		if open {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b region) int { return cmp.Compare(a.start, b.start) })
	return out
}
