package collector

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/deploy"
	"github.com/http5xx/http5xx_exporter/collector/discovery"
	"github.com/http5xx/http5xx_exporter/collector/saturation"
	"github.com/http5xx/http5xx_exporter/collector/shard"
)

// extraGoldenCollectors are the collectors main registers beside Metrics,
// fed with fixed inputs, so the golden file holds the whole contract.
func extraGoldenCollectors(t *testing.T) []prometheus.Collector {
	t.Helper()
	return []prometheus.Collector{
		versioncollector.NewCollector("http5xx_exporter"),
		goldenSaturation(t),
		goldenDeploys(t),
		goldenShard(),
		discovery.New(discovery.Options{}).Collector("eu"),
	}
}

// goldenShard is shard 1 of 3, probing 2 of 7 configured targets.
func goldenShard() prometheus.Collector {
	s := shard.NewSelection(shard.Shard{Index: 1, Count: 3}, "eu")
	s.Record(7, 2)
	return s
}

// goldenDeploys records two deploys of service shop and a maintenance
// window of it through the real API.
func goldenDeploys(t *testing.T) prometheus.Collector {
	t.Helper()
	m, err := deploy.NewManager(deploy.Options{
		StoragePath: t.TempDir(), AllowUnauthenticated: true, MaxServices: 10,
		Now: func() time.Time { return time.Unix(1_700_000_000, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h := m.Handler()
	for _, body := range []string{
		`{"service":"shop","version":"1.0.0","timestamp":"2023-11-14T22:00:00Z"}`,
		`{"service":"shop","version":"1.1.0","timestamp":"2023-11-14T22:10:00Z"}`,
	} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/deploys", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			t.Fatalf("recording deploy %s: %d %s", body, rec.Code, rec.Body.String())
		}
	}
	req := httptest.NewRequest(http.MethodPost, deploy.MaintenancePath, strings.NewReader(`{"service":"shop","duration":"30m","reason":"database upgrade"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	m.MaintenanceHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("recording maintenance window: %d %s", rec.Code, rec.Body.String())
	}
	return m.Collector()
}

// goldenSaturation reads one good nginx source and one broken JSON source,
// once each (the interval is an hour), over loopback.
func goldenSaturation(t *testing.T) prometheus.Collector {
	t.Helper()
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/nginx_status" {
			w.Write([]byte("Active connections: 256 \nserver accepts handled requests\n 10 10 20 \nReading: 0 Writing: 1 Waiting: 255 \n"))
			return
		}
		w.Write([]byte("not json"))
	}))
	t.Cleanup(src.Close)
	sat := func(typ, path, field string) *config.Saturation {
		return &config.Saturation{Type: typ, URL: src.URL + path, Field: field, Max: 1024,
			Interval: model.Duration(time.Hour), Timeout: model.Duration(5 * time.Second), BodySizeLimit: 1 << 16}
	}
	targets := goldenTargets()
	targets[0].Saturation = sat("nginx_stub_status", "/nginx_status", "")
	targets[1].Saturation = sat("json", "/broken", "workers.busy")
	m := saturation.NewManager(saturation.Options{Location: "eu"})
	t.Cleanup(m.Close)
	m.SetTargets(targets)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collector())
	deadline := time.Now().Add(hangAfter)
	for {
		_, _, ok := m.Get("shop")
		if ok && strings.Contains(exposition(t, reg), "http5xx_saturation_errors_total{") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saturation sources were not read within %v", hangAfter)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return m.Collector()
}
