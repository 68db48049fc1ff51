package dashboards

import (
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
	for _, b := range Boards() {
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
	for _, b := range Boards() {
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
