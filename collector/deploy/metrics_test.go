package deploy

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	m, _ := openManager(t, dir, Options{})
	at := func(s int) time.Time { return time.Unix(1772600000+int64(s), 500e6).UTC() }
	mustRecord(t, m, Event{Service: "checkout", Version: "1.0", Timestamp: at(0)})
	mustRecord(t, m, Event{Service: "checkout", Version: "1.1", Timestamp: at(60)})
	// A backfilled older deploy counts but does not become current.
	mustRecord(t, m, Event{Service: "checkout", Version: "0.9", Timestamp: at(-60)})
	mustRecord(t, m, Event{Service: "search", Version: "7", Timestamp: at(30)})

	const want = `
# HELP http5xx_deploy_info 1 for the service's current version.
# TYPE http5xx_deploy_info gauge
http5xx_deploy_info{service="checkout",version="1.1"} 1
http5xx_deploy_info{service="search",version="7"} 1
# HELP http5xx_deploy_timestamp_seconds Unix time of the last deploy of the service.
# TYPE http5xx_deploy_timestamp_seconds gauge
http5xx_deploy_timestamp_seconds{service="checkout"} 1.7726000605e+09
http5xx_deploy_timestamp_seconds{service="search"} 1.7726000305e+09
# HELP http5xx_deploy_token_file_ok 0 while --deploy.token-file cannot be read and every deploy POST is refused; 1 otherwise (also when no token file is set).
# TYPE http5xx_deploy_token_file_ok gauge
http5xx_deploy_token_file_ok 1
# HELP http5xx_deploys_total Deploys recorded for the service.
# TYPE http5xx_deploys_total counter
http5xx_deploys_total{service="checkout"} 3
http5xx_deploys_total{service="search"} 1
`
	if err := testutil.CollectAndCompare(m.Collector(), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.CollectAndLint(m.Collector()); err != nil || len(problems) != 0 {
		t.Errorf("lint: %v %v", problems, err)
	}

	// A new version replaces the info series; the old one is gone.
	mustRecord(t, m, Event{Service: "checkout", Version: "1.2", Timestamp: at(120)})
	const after = `
# HELP http5xx_deploy_info 1 for the service's current version.
# TYPE http5xx_deploy_info gauge
http5xx_deploy_info{service="checkout",version="1.2"} 1
http5xx_deploy_info{service="search",version="7"} 1
`
	if err := testutil.CollectAndCompare(m.Collector(), strings.NewReader(after), "http5xx_deploy_info"); err != nil {
		t.Fatal(err)
	}
	m.Close()

	// Restored from storage at start.
	m, _ = openManager(t, dir, Options{})
	const restored = `
# HELP http5xx_deploy_info 1 for the service's current version.
# TYPE http5xx_deploy_info gauge
http5xx_deploy_info{service="checkout",version="1.2"} 1
http5xx_deploy_info{service="search",version="7"} 1
# HELP http5xx_deploys_total Deploys recorded for the service.
# TYPE http5xx_deploys_total counter
http5xx_deploys_total{service="checkout"} 4
http5xx_deploys_total{service="search"} 1
`
	if err := testutil.CollectAndCompare(m.Collector(), strings.NewReader(restored), "http5xx_deploy_info", "http5xx_deploys_total"); err != nil {
		t.Fatal(err)
	}
}

// The counter survives the bounded history: it is the highest sequence
// number, not the number of kept events.
func TestDeploysTotalSurvivesBoundedHistory(t *testing.T) {
	dir := t.TempDir()
	m, _ := openManagerCompact(t, dir, Options{MaxEventsPerService: 2}, 3)
	for i := range 10 {
		mustRecord(t, m, Event{Service: "s", Version: "v" + string(rune('a'+i))})
	}
	m.Close()
	m, _ = openManagerCompact(t, dir, Options{MaxEventsPerService: 2}, 3)
	const want = `
# HELP http5xx_deploys_total Deploys recorded for the service.
# TYPE http5xx_deploys_total counter
http5xx_deploys_total{service="s"} 10
`
	if err := testutil.CollectAndCompare(m.Collector(), strings.NewReader(want), "http5xx_deploys_total"); err != nil {
		t.Fatal(err)
	}
	if n := len(m.List("s", 0)); n != 2 {
		t.Errorf("%d events kept, want 2", n)
	}
}
