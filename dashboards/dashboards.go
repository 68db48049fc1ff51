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

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// SchemaVersion is the dashboard JSON schema the SDK models; pinned so that a
// new SDK cannot change what Grafana migrates on import without a diff here.
const SchemaVersion = 42

// Board is one generated dashboard.
type Board struct {
	UID   string
	File  string // name of the checked-in JSON, relative to this directory
	build func() *dashboard.DashboardBuilder
}

// Boards lists every dashboard, in the order the README describes them.
func Boards() []Board {
	return []Board{
		{UID: uidOverview, File: "http5xx-overview.json", build: overview},
		{UID: uidTarget, File: "http5xx-target.json", build: target},
		{UID: uidExporter, File: "http5xx-exporter.json", build: exporter},
	}
}

// Dashboard builds the dashboard, numbers its panels and pins the schema.
func (b Board) Dashboard() (dashboard.Dashboard, error) {
	d, err := b.build().Build()
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
