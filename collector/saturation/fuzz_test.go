package saturation

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// The fuzz targets feed any body (and any max the config accepts) to a
// source's ratio: it never panics, and a ratio it returns is a finite
// number >= 0; NaN, an infinity or a negative reading is an error.

// seedFiles adds every testdata file matching pattern as a body seed,
// once with each of rest's other arguments.
func seedFiles(f *testing.F, pattern string, rest ...[]any) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed matches testdata/%s (%v)", pattern, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, r := range rest {
			f.Add(append([]any{b}, r...)...)
		}
	}
}

// checkRatio reads body with the source cfg builds; a cfg config.Load
// would refuse (a max it does not accept, a field or selector that does not
// parse) is skipped.
func checkRatio(t *testing.T, cfg config.Saturation, body []byte) {
	t.Helper()
	if !maxAccepted(cfg.Type, cfg.Max) {
		return
	}
	src, err := newSource(&cfg)
	if err != nil {
		return
	}
	r, err := src.ratio(body)
	if err == nil && (math.IsNaN(r) || math.IsInf(r, 0) || r < 0) {
		t.Errorf("%s (max %v): ratio %v without an error, want a finite number >= 0\nbody: %q", cfg.Type, cfg.Max, r, body)
	}
}

// maxAccepted is config validation's rule for max: finite, not negative,
// and above 0 where the type divides by it.
func maxAccepted(typ string, max float64) bool {
	if math.IsNaN(max) || math.IsInf(max, 0) || max < 0 {
		return false
	}
	for _, s := range contract.SaturationSources() {
		if s.Type == typ {
			return max > 0 || !s.NeedsMax
		}
	}
	return false
}

const fuzzURL = "http://127.0.0.1:1/status"

func FuzzNginxStubStatus(f *testing.F) {
	seedFiles(f, "nginx_stub_status*.txt", []any{1024.0}, []any{0.5})
	f.Add([]byte("Active connections: 18446744073709551615\nReading: 0 Writing: 18446744073709551615 Waiting: 0\n"), 1e-300)
	f.Add([]byte("Active connections: -1\nReading: 0 Writing: 1 Waiting: 0\n"), 64.0)
	f.Add([]byte("Active connections: 1\r\nReading: 0 Writing: 0 Waiting: 1"), 64.0)
	f.Fuzz(func(t *testing.T, body []byte, max float64) {
		checkRatio(t, config.Saturation{Type: contract.SaturationNginx, URL: fuzzURL, Max: max}, body)
	})
}

// FuzzPHPFPMStatus reads text and JSON pages, with and without the process
// list (the query says which reading the page answers).
func FuzzPHPFPMStatus(f *testing.F) {
	seedFiles(f, "php_fpm_*", []any{"", 40.0}, []any{"full", 4.0}, []any{"json&full", 0.0})
	f.Add([]byte("pool: www\nprocess manager: static\nactive processes: NaN\ntotal processes: 4\n"), "", 0.0)
	f.Add([]byte("pool: www\nprocess manager: static\nactive processes: 1e308\ntotal processes: 1e-308\n"), "", 0.0)
	f.Add([]byte("process manager: static\nactive processes: Inf\ntotal processes: Inf\n"), "", 0.0)
	f.Add([]byte(`{"process manager":"static","active processes":1e308,"total processes":5e-324,"processes":[{"state":"Running","request uri":"/s?full"}]}`), "full", 0.0)
	f.Add([]byte(`{"active processes": -5, "listen queue": "NaN"}`), "json", 1e-300)
	f.Fuzz(func(t *testing.T, body []byte, query string, max float64) {
		checkRatio(t, config.Saturation{Type: contract.SaturationPHPFPM, URL: fuzzURL + "?" + query, Max: max}, body)
	})
}

func FuzzJSONSource(f *testing.F) {
	seedFiles(f, "*.json", []any{"pools.web.busy", 64.0}, []any{"workers.1.queue", 0.5}, []any{"active processes", 1.0})
	f.Add([]byte(`{"n": 1e308}`), "n", 0.5)
	f.Add([]byte(`{"n": "NaN"}`), "n", 64.0)
	f.Add([]byte(`{"n": " +Inf "}`), "n", 64.0)
	f.Add([]byte(`{"n": "0x1p-1074"}`), "n", 1e-300)
	f.Add([]byte(`[[[[{"a":[1,2,{"b":"3"}]}]]]]`), "0.0.0.0.a.2.b", 64.0)
	f.Fuzz(func(t *testing.T, body []byte, field string, max float64) {
		checkRatio(t, config.Saturation{Type: contract.SaturationJSON, URL: fuzzURL, Field: field, Max: max}, body)
	})
}

func FuzzPrometheusText(f *testing.F) {
	seedFiles(f, "*.prom", []any{`app_busy_workers{pool="web"}`, 64.0}, []any{`app_queue_wait_seconds_bucket{le="+Inf"}`, 0.5}, []any{`app_inflight`, 1.0})
	f.Add([]byte("x 1e308\nx{a=\"b\"} 1e308\n"), "x", 64.0)
	f.Add([]byte("x NaN\n"), "x", 64.0)
	f.Add([]byte("x +Inf\nx{a=\"1\"} -Inf\n"), "x", 64.0)
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_sum 1e308\nh_count 3\n"), "h_sum", 1e-300)
	f.Add([]byte("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum -1\ns_count 2\n"), `s{quantile="0.5"}`, 64.0)
	f.Fuzz(func(t *testing.T, body []byte, metric string, max float64) {
		checkRatio(t, config.Saturation{Type: contract.SaturationPrometheus, URL: fuzzURL, Metric: metric, Max: max}, body)
	})
}
