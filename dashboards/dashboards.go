// Package dashboards defines the http5xx Grafana dashboards as Go code with the
// Grafana foundation SDK. cmd/gen writes them as the JSON files checked in next
// to this package; the tests fail when those files drift from this code.
//
// It is its own Go module so that neither the SDK nor Prometheus (used by the
// tests to parse PromQL) enters the exporter binary.
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/http5xx/http5xx_exporter/rules/pack"
)

// SchemaVersion is the dashboard JSON schema the SDK models; pinned so that a
// new SDK cannot change what Grafana migrates on import without a diff here.
const SchemaVersion = 42

// Settings are what the rule pack's configuration (rules/pack.yml) decides
// for the dashboards too, so that alerts and dashboards agree.
type Settings struct {
	// JobSelector narrows the job variable to the exporters the rules read.
	JobSelector string
	// RunbookURL is linked from every dashboard.
	RunbookURL string
	// CertWarningDays and CertCriticalDays colour the certificate expiry
	// panel at the thresholds of HTTP5xxCertificateExpiring.
	CertWarningDays, CertCriticalDays float64
}

// SettingsOf takes the dashboards' settings from the pack's configuration.
func SettingsOf(c pack.Config) Settings {
	day := (24 * time.Hour).Hours()
	return Settings{
		JobSelector: c.JobSelector, RunbookURL: c.RunbookURL,
		CertWarningDays:  time.Duration(c.Certificate.Warning).Hours() / day,
		CertCriticalDays: time.Duration(c.Certificate.Critical).Hours() / day,
	}
}

// Board is one generated dashboard.
type Board struct {
	UID      string
	File     string // name of the checked-in JSON, relative to this directory
	build    func(Settings) *dashboard.DashboardBuilder
	settings Settings
}

// Boards lists every dashboard, in the order the README describes them.
func Boards(s Settings) []Board {
	return []Board{
		{UID: uidOverview, File: "http5xx-overview.json", build: overview, settings: s},
		{UID: uidTarget, File: "http5xx-target.json", build: target, settings: s},
		{UID: uidExporter, File: "http5xx-exporter.json", build: exporter, settings: s},
	}
}

// Dashboard builds the dashboard, numbers its panels and pins the schema.
func (b Board) Dashboard() (dashboard.Dashboard, error) {
	d, err := b.build(b.settings).Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("dashboard %s: %w", b.UID, err)
	}
	d.SchemaVersion = SchemaVersion
	numberPanels(&d)
	return d, nil
}

// JSON renders the dashboard exactly as it is checked in.
func (b Board) JSON() ([]byte, error) {
	d, err := b.Dashboard()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep PromQL's <, > and & readable in review
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", b.UID, err)
	}
	return buf.Bytes(), nil
}

// numberPanels gives every panel and row a stable id in layout order, so
// links such as ?viewPanel=N keep working across regenerations.
func numberPanels(d *dashboard.Dashboard) {
	var id uint32
	next := func() uint32 { id++; return id }
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			n := next()
			p.Panel.Id = &n
		case p.RowPanel != nil:
			p.RowPanel.Id = next()
			for i := range p.RowPanel.Panels {
				n := next()
				p.RowPanel.Panels[i].Id = &n
			}
		}
	}
}
