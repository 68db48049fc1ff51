package saturation

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSourceRatio(t *testing.T) {
	const url = "http://127.0.0.1:1/status"
	nginx := config.Saturation{Type: contract.SaturationNginx, URL: url, Max: 1024}
	fpm := config.Saturation{Type: contract.SaturationPHPFPM, URL: url, Max: 40}
	fpmNoMax := config.Saturation{Type: contract.SaturationPHPFPM, URL: url}
	// fpmAt reads a recorded pool of maxChildren through a status URL with
	// query (the process list comes with "full").
	fpmAt := func(query string, maxChildren float64) config.Saturation {
		return config.Saturation{Type: contract.SaturationPHPFPM, URL: url + query, Max: maxChildren}
	}
	nginx64 := config.Saturation{Type: contract.SaturationNginx, URL: url, Max: 64}
	js := func(field string) config.Saturation {
		return config.Saturation{Type: contract.SaturationJSON, URL: url, Field: field, Max: 64}
	}
	prom := func(metric string) config.Saturation {
		return config.Saturation{Type: contract.SaturationPrometheus, URL: url, Metric: metric, Max: 64}
	}
	tests := []struct {
		name    string
		cfg     config.Saturation
		file    string // or body
		body    string
		want    float64
		wantErr string
	}{
		// Slots in use: Active + Writing - 1 (the reading itself proxies nowhere).
		{name: "nginx", cfg: nginx, file: "nginx_stub_status.txt", want: (291.0 + 178) / 1024},
		{name: "nginx over max", cfg: config.Saturation{Type: contract.SaturationNginx, URL: url, Max: 100}, file: "nginx_stub_status.txt", want: 4.69},
		// Recorded from Debian's nginx 1.22 (worker_connections 64): 10
		// proxied requests in flight, 3 idle connections and the reading;
		// the worker held 24 client and upstream connections.
		{name: "nginx proxied, recorded", cfg: nginx64, file: "nginx_stub_status_proxied.txt", want: 24.0 / 64},
		{name: "nginx idle, recorded", cfg: nginx64, file: "nginx_stub_status_idle.txt", want: 1.0 / 64},
		{name: "nginx only the reading writes", cfg: nginx64, body: "Active connections: 5\nReading: 0 Writing: 1 Waiting: 4\n", want: 5.0 / 64},
		{name: "nginx garbage", cfg: nginx, body: "<html>hello</html>", wantErr: `no "Active connections:" line`},
		{name: "nginx bad count", cfg: nginx, body: "Active connections: many\n", wantErr: `"many" is not a count`},
		{name: "nginx no states", cfg: nginx, body: "Active connections: 3\n", wantErr: `no "Reading: Writing: Waiting:" line`},
		{name: "nginx bad states", cfg: nginx, body: "Active connections: 3\nReading: 0 Writing: x Waiting: 2\n", wantErr: `Writing "x" is not a count`},
		{name: "nginx states out of order", cfg: nginx, body: "Active connections: 3\nReading: 0 Waiting: 2 Writing: 1\n", wantErr: `is not "Reading: N Writing: N Waiting: N"`},

		// Without ?full the reading is one of the active processes.
		{name: "php-fpm text", cfg: fpm, file: "php_fpm_status.txt", want: 17.0 / 40},
		{name: "php-fpm json", cfg: fpm, file: "php_fpm_status.json", want: 9.0 / 40},
		{name: "php-fpm static pool without max", cfg: fpmNoMax, file: "php_fpm_status_static.txt", want: 3.0 / 16},
		{name: "php-fpm dynamic pool without max", cfg: fpmNoMax, file: "php_fpm_status.txt", wantErr: `pool "www" uses pm = dynamic, set max`},
		{name: "php-fpm listen queue means full", cfg: fpm, file: "php_fpm_status_queue.txt", want: 1},
		// Recorded from Debian's php-fpm 8.2: an idle one-child pool read
		// through its own pm.status_path shows the reading as its one
		// active process.
		{name: "php-fpm idle one-child pool, text", cfg: fpmAt("", 1), file: "php_fpm_one_child_idle.txt", want: 0},
		{name: "php-fpm idle one-child pool, json", cfg: fpmAt("?json", 1), file: "php_fpm_one_child_idle.json", want: 0},
		// A unix-socket pool of 4: two slow.php running, the reading, and an
		// idle process whose last request was a reading. The queue reads 0.
		{name: "php-fpm unix pool, full list", cfg: fpmAt("?full", 4), file: "php_fpm_unix_full.txt", want: 2.0 / 4},
		{name: "php-fpm pool, json full list", cfg: fpmAt("?json&full", 4), file: "php_fpm_pool_full.json", want: 2.0 / 4},
		// Served by pm.status_listen: the reading is not in the pool's list.
		{name: "php-fpm status_listen, json full list", cfg: fpmAt("?json&full", 4), file: "php_fpm_status_listen_full.json", want: 2.0 / 4},
		{name: "php-fpm status_listen, full pool with a queue", cfg: fpmAt("?full", 4), file: "php_fpm_status_listen_queue_full.txt", want: 1},
		// A full unix-socket pool answered the reading once a child was
		// free: three requests and the reading; the queue behind it is
		// invisible.
		{name: "php-fpm unix pool, reading queued", cfg: fpmAt("", 4), file: "php_fpm_unix_queued.txt", want: 3.0 / 4},
		// The list names the reading by its query string; another reader's
		// on the same path (another exporter) is left out too.
		{name: "php-fpm full list, two readers", cfg: fpmAt("?full", 4), body: fpmFull(
			proc{"Running", "/fpm-status?full"}, proc{"Running", "/fpm-status?json&full"},
			proc{"Running", "/cart.php?id=7"}, proc{"Idle", "/fpm-status?full"}), want: 1.0 / 4},
		{name: "php-fpm full list without the reading", cfg: fpmAt("?full", 4), body: fpmFull(
			proc{"Running", "/cart.php"}, proc{"Reading headers", "-"}, proc{"Idle", "/fpm-status?full"}), want: 2.0 / 4},
		{name: "php-fpm asked for full, got no list", cfg: fpmAt("?full", 4), file: "php_fpm_one_child_idle.txt", want: 0},
		{name: "php-fpm garbage", cfg: fpm, body: "Fatal error: something\n", wantErr: `no "active processes"`},
		{name: "php-fpm broken json", cfg: fpm, body: `{"active processes": `, wantErr: "php-fpm status: unexpected EOF"},

		{name: "json nested", cfg: js("pools.web.busy"), file: "app_status.json", want: 48.0 / 64},
		{name: "json numeric string", cfg: js("pools.jobs.busy"), file: "app_status.json", want: 3.0 / 64},
		{name: "json array index", cfg: js("workers.1.queue"), file: "app_status.json", want: 7.0 / 64},
		{name: "json missing", cfg: js("pools.api.busy"), file: "app_status.json", wantErr: `no "pools.api"`},
		{name: "json not a number", cfg: js("status"), file: "app_status.json", wantErr: `strconv.ParseFloat: parsing "ok"`},
		{name: "json bool", cfg: js("draining"), file: "app_status.json", wantErr: `"draining" is bool, want a number`},
		{name: "json index out of range", cfg: js("workers.2.queue"), file: "app_status.json", wantErr: `"workers" is an array of 2, "2" is no index`},
		{name: "json through a scalar", cfg: js("version.major"), file: "app_status.json", wantErr: `"version" is not an object`},
		{name: "json negative", cfg: js("n"), body: `{"n": -1}`, wantErr: "n is -1, want a finite number >= 0"},
		{name: "json huge over a small max", cfg: config.Saturation{Type: contract.SaturationJSON, URL: url, Field: "n", Max: 0.5}, body: `{"n": 1e308}`,
			wantErr: "n 1e+308 over max 0.5 is not a finite ratio"},
		{name: "json garbage", cfg: js("n"), body: "<html>", wantErr: "json: invalid character"},
		{name: "json trailing data", cfg: js("n"), body: `{"n": 1} {"n": 2}`, wantErr: "data after the document"},

		{name: "prometheus sum over label", cfg: prom(`app_busy_workers{pool="web"}`), file: "exposition.prom", want: 32.0 / 64},
		{name: "prometheus all series", cfg: prom(`app_busy_workers`), file: "exposition.prom", want: 35.0 / 64},
		{name: "prometheus two matchers", cfg: prom(`app_busy_workers{pool="web", instance!="a"}`), file: "exposition.prom", want: 12.0 / 64},
		{name: "prometheus regexp", cfg: prom(`app_busy_workers{pool=~"we.|jobs",instance=~"a"}`), file: "exposition.prom", want: 23.0 / 64},
		{name: "prometheus negative regexp", cfg: prom(`app_busy_workers{pool!~"web"}`), file: "exposition.prom", want: 3.0 / 64},
		{name: "prometheus missing label is empty", cfg: prom(`app_inflight{zone=""}`), file: "exposition.prom", want: 7.0 / 64},
		{name: "prometheus histogram count", cfg: prom(`app_queue_wait_seconds_bucket{le="0.1"}`), file: "exposition.prom", want: 990.0 / 64},
		{name: "prometheus no such metric", cfg: prom(`app_idle_workers`), file: "exposition.prom", wantErr: `no metric "app_idle_workers"`},
		{name: "prometheus no series matches", cfg: prom(`app_busy_workers{pool="api"}`), file: "exposition.prom", wantErr: `no series matches app_busy_workers{pool="api"}`},
		{name: "prometheus garbage", cfg: prom(`up`), body: "<html><body>Login</body></html>\n", wantErr: "exposition: text format parsing error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := newSource(&tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(tt.body)
			if tt.file != "" {
				body = fixture(t, tt.file)
			}
			got, err := src.ratio(body)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("ratio = %v, want %v", got, tt.want)
			}
		})
	}
}

// proc is one process of a php-fpm ?full list.
type proc struct{ state, uri string }

// fpmFull renders a php-fpm text status page with ?full for procs, in the
// layout of the recorded ones.
func fpmFull(procs ...proc) string {
	active := 0
	for _, p := range procs {
		if p.state != "Idle" {
			active++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pool:                 www\nprocess manager:      static\nlisten queue:         0\n")
	fmt.Fprintf(&b, "idle processes:       %d\nactive processes:     %d\ntotal processes:      %d\n", len(procs)-active, active, len(procs))
	for i, p := range procs {
		fmt.Fprintf(&b, "\n************************\npid:                  %d\nstate:                %s\nrequest URI:          %s\nscript:               -\n", 100+i, p.state, p.uri)
	}
	return b.String()
}

// What config.Load accepts, the manager can read: every saturation block of
// the good configs and the example builds a source and a client.
func TestLoadedConfigsBuildSources(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "config", "testdata", "good-*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "examples", "http5xx.yml"))
	m := NewManager(Options{})
	defer m.Close()
	blocks := 0
	for _, f := range files {
		cfg, err := config.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		for i := range cfg.Targets {
			tg := &cfg.Targets[i]
			if tg.Saturation == nil {
				continue
			}
			blocks++
			if p := m.newPoller(specOf(tg)); p.srcErr != nil {
				t.Errorf("%s: target %s loads but its saturation source fails: %v", f, tg.Name, p.srcErr)
			}
		}
	}
	if blocks == 0 {
		t.Fatal("no saturation block in the good configs")
	}
}

// The manager trusts a loaded config, but a block Load would have refused
// becomes a failing source, never a panic.
func TestNewSourceDefends(t *testing.T) {
	for _, tc := range []struct {
		cfg     *config.Saturation
		wantErr string
	}{
		{nil, "no saturation block"},
		{&config.Saturation{Type: "redis"}, `unknown type "redis"`},
		{&config.Saturation{Type: contract.SaturationJSON, Field: "a..b"}, "empty path element"},
		{&config.Saturation{Type: contract.SaturationPrometheus, Metric: `x{a=b}`}, "want a double-quoted value"},
	} {
		if _, err := newSource(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%+v: %v, want an error containing %q", tc.cfg, err, tc.wantErr)
		}
	}
	// A max of 0 (refused by Load for this type) divides nothing.
	src, _ := newSource(&config.Saturation{Type: contract.SaturationNginx})
	if r, err := src.ratio(fixture(t, "nginx_stub_status.txt")); err == nil {
		t.Errorf("nginx without max: ratio %v, want an error", r)
	}
}
