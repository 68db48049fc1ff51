package dashboards

import (
	"github.com/http5xx/http5xx_exporter/rules/pack"
	"strings"

	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// TestCheckedInJSONIsGenerated fails when the JSON next to this file is not
// byte for byte what the Go definitions produce: regenerate with
// `make dashboards` (or `go test -run CheckedIn -update`) and review the diff.
func TestCheckedInJSONIsGenerated(t *testing.T) {
	for _, b := range Boards(packSettings(t)) {
		t.Run(b.UID, func(t *testing.T) {
			want, err := b.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(b.File, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(b.File)
			if err != nil {
				t.Fatalf("%v (run `make dashboards`)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the generated dashboard; run `make dashboards` and review the diff", b.File)
			}
		})
	}
}

// TestDashboardsLoad decodes each file twice: as plain JSON, and strictly into
// the SDK's dashboard schema, which rejects unknown or mistyped fields.
func TestDashboardsLoad(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, b := range Boards(packSettings(t)) {
		t.Run(b.UID, func(t *testing.T) {
			raw, err := os.ReadFile(b.File)
			if err != nil {
				t.Fatal(err)
			}
			var generic map[string]any
			if err := json.Unmarshal(raw, &generic); err != nil {
				t.Fatalf("%s is not JSON: %v", b.File, err)
			}
			var d dashboard.Dashboard
			if err := strictErr(d.UnmarshalJSONStrict(raw)); err != nil {
				t.Fatalf("%s does not match the dashboard schema: %v", b.File, err)
			}
			if d.Uid == nil || *d.Uid != b.UID {
				t.Errorf("%s: uid %v, want %q", b.File, d.Uid, b.UID)
			}
		})
	}
}

// strictErr undoes the SDK returning an empty cog.BuildErrors as a non-nil error.
func strictErr(err error) error {
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

// packSettings are the settings of the shipped rule pack, which the
// checked-in dashboards are generated from.
func packSettings(t *testing.T) Settings {
	t.Helper()
	cfg, err := pack.Load("../rules/pack.yml")
	if err != nil {
		t.Fatal(err)
	}
	return SettingsOf(cfg)
}

// TestPackSettingsDriveTheLinks: a pack of one's own changes the runbook
// link and the job the variables offer, and nothing of the defaults stays.
func TestPackSettingsDriveTheLinks(t *testing.T) {
	def := packSettings(t)
	own := Settings{JobSelector: `job="probes"`, RunbookURL: "https://wiki.corp.invalid/http5xx"}
	for _, b := range Boards(own) {
		out, err := b.JSON()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"url": "https://wiki.corp.invalid/http5xx"`, `label_values(http5xx_`, `{job=\"probes\"`} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: no %s", b.File, want)
			}
		}
		for _, stale := range []string{def.RunbookURL, def.JobSelector} {
			if strings.Contains(string(out), stale) || strings.Contains(string(out), strings.ReplaceAll(stale, `"`, `\"`)) {
				t.Errorf("%s still holds the default %s", b.File, stale)
			}
		}
	}
}
