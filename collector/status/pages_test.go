package status

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/api"
)

// saturationOf is a SaturationLookup with fixed readings.
type saturationOf map[string]float64

func (s saturationOf) Get(target string) (float64, string, bool) {
	r, ok := s[target]
	return r, "json", ok
}

var rowRE = regexp.MustCompile(`<tr class="state-[a-z]+" data-target="([^"]+)"[^>]*?( hidden)?>`)

// rows returns the target rows of a status page in order, and those shown.
func rows(body string) (all, shown []string) {
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		all = append(all, m[1])
		if m[2] == "" {
			shown = append(shown, m[1])
		}
	}
	return all, shown
}

func TestStatusPageOrder(t *testing.T) {
	tests := []struct {
		name       string
		saturation saturationOf
		want       []string // configured: ok, bad, busy
		degraded   string
	}{
		{"failing first", nil, []string{"bad", "busy", "ok"}, ""},
		{"high saturation degrades a target that answers", saturationOf{"ok": 0.9}, []string{"bad", "busy", "ok"}, "saturation 90% (json)"},
		{"saturation below the mark keeps it up", saturationOf{"ok": 0.79}, []string{"bad", "busy", "ok"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.probe("ok", "bad", "busy")
			o := Options{}
			if tt.saturation != nil {
				o.Saturation = tt.saturation
			}
			f.serve(o)
			_, body := f.get("/")
			if got, _ := rows(body); !slices.Equal(got, tt.want) {
				t.Errorf("rows %v, want %v", got, tt.want)
			}
			state := StateUp
			if tt.degraded != "" {
				state = StateDegraded
				if !strings.Contains(body, `<span class="note">`+tt.degraded+`</span>`) {
					t.Errorf("the degraded row does not say why (%q):\n%s", tt.degraded, body)
				}
			}
			if !strings.Contains(body, `data-target="ok" data-state="`+state+`"`) {
				t.Errorf("ok is not %s", state)
			}
			var d Document
			code, b := f.get(APIPath)
			if _, err := api.Decode(code.StatusCode, []byte(b), &d); err != nil {
				t.Fatal(err)
			}
			if d.Targets[0].Name != "ok" || d.Targets[0].State != state {
				t.Errorf("API: %s is %s, want ok %s (the API keeps the configured order)", d.Targets[0].Name, d.Targets[0].State, state)
			}
		})
	}
}

func TestStatusPageFilters(t *testing.T) {
	f := newFixture(t)
	f.probe("ok", "bad", "busy")
	f.serve(Options{})
	tests := []struct {
		query    string
		shown    []string
		selected []string // options the form shows selected
		keep     string   // the query the refresh link keeps
	}{
		{"", []string{"bad", "busy", "ok"}, nil, ""},
		{"?state=down", []string{"bad", "busy"}, []string{"down"}, "state=down"},
		{"?class=gateway", []string{"bad"}, []string{"gateway"}, "class=gateway"},
		{"?class=capacity&state=down", []string{"busy"}, []string{"down", "capacity"}, "class=capacity&amp;state=down"},
		// ok is healthy: its owner; bad and busy fail: their teams for the class.
		{"?team=web-team", []string{"ok"}, []string{"web-team"}, "team=web-team"},
		{"?team=edge-team", []string{"bad"}, []string{"edge-team"}, "team=edge-team"},
		{"?team=sre-oncall", []string{"busy"}, []string{"sre-oncall"}, "team=sre-oncall"},
		// A default owner a target replaces is not its team.
		{"?team=app-infra", nil, []string{"app-infra"}, "team=app-infra"},
		{"?service=ok", []string{"ok"}, []string{"ok"}, "service=ok"},
		{"?location=eu", []string{"bad", "busy", "ok"}, []string{"eu"}, "location=eu"},
		{"?location=us", nil, []string{"us"}, "location=us"},
		// The form's empty choices are "all".
		{"?state=&class=&team=&service=ok&location=", []string{"ok"}, []string{"ok"}, "service=ok"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			_, body := f.get("/" + tt.query)
			all, shown := rows(body)
			if len(all) != 3 || !slices.Equal(shown, tt.shown) {
				t.Errorf("rows %v shown %v, want all 3 and %v shown", all, shown, tt.shown)
			}
			var selected []string
			for _, m := range regexp.MustCompile(`<option selected>([^<]*)</option>`).FindAllStringSubmatch(body, -1) {
				selected = append(selected, m[1])
			}
			if !slices.Equal(selected, tt.selected) {
				t.Errorf("selected %v, want %v", selected, tt.selected)
			}
			pause := `href="?refresh=0"`
			if tt.keep != "" {
				pause = `href="?` + tt.keep + `&amp;refresh=0"`
			}
			if !strings.Contains(body, pause) {
				t.Errorf("the pause link does not keep the filter: want %s", pause)
			}
			if n := len(tt.shown); n < 3 && !strings.Contains(body, "Showing "+string(rune('0'+n))+" of 3 targets.") {
				t.Errorf("no count of the targets shown")
			}
		})
	}
}

func TestReloadBanner(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 30, 5, 0, time.UTC)
	tests := []struct {
		name   string
		reload func() ReloadStatus
		banner bool
	}{
		{"not reported", nil, false},
		{"succeeded", func() ReloadStatus { return ReloadStatus{Success: true, Time: at, LastSuccess: at} }, false},
		{"failed", func() ReloadStatus {
			return ReloadStatus{Time: at, LastSuccess: at.Add(-time.Hour), Error: "http5xx.yml:7: targets[0].url: missing scheme"}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.serve(Options{Reload: tt.reload})
			for _, path := range []string{"/", "/targets/ok"} {
				_, body := f.get(path)
				has := strings.Contains(body, `<div class="banner" role="alert">`)
				if has != tt.banner {
					t.Errorf("%s: banner %v, want %v", path, has, tt.banner)
				}
				if tt.banner {
					for _, want := range []string{
						"The last configuration reload failed",
						`<time datetime="2026-03-01T12:30:05Z" title="2026-03-01 12:30:05 UTC" data-date>2026-03-01 12:30:05 UTC</time>`,
						"loaded at <time datetime=\"2026-03-01T11:30:05Z\"",
						"<code>http5xx.yml:7: targets[0].url: missing scheme</code>",
					} {
						if !strings.Contains(body, want) {
							t.Errorf("%s: the banner lacks %s", path, want)
						}
					}
				}
			}
			var d Document
			resp, b := f.get(APIPath)
			if _, err := api.Decode(resp.StatusCode, []byte(b), &d); err != nil {
				t.Fatal(err)
			}
			if (d.LastReload != nil) != (tt.reload != nil) || d.LastReload != nil && d.LastReload.Success == tt.banner {
				t.Errorf("API last_reload = %+v", d.LastReload)
			}
		})
	}
}

func TestUTCTime(t *testing.T) {
	at := time.Date(2026, 12, 6, 21, 5, 9, 500e6, time.FixedZone("CET", 3600))
	tests := []struct {
		date bool
		want string
	}{
		{false, `<time datetime="2026-12-06T20:05:09.5Z" title="2026-12-06 20:05:09 UTC">20:05:09 UTC</time>`},
		{true, `<time datetime="2026-12-06T20:05:09.5Z" title="2026-12-06 20:05:09 UTC" data-date>2026-12-06 20:05:09 UTC</time>`},
	}
	for _, tt := range tests {
		if got := string(utcTime(at, tt.date)); got != tt.want {
			t.Errorf("utcTime(%v) = %s, want %s", tt.date, got, tt.want)
		}
	}
}
