//go:build lab

package lab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/http5xx/http5xx_exporter/collector"
	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/saturation"
	"github.com/http5xx/http5xx_exporter/examples/loopback"
)

// The saturation lab: real nginx and php-fpm under a bounded number of
// concurrent clients, each server's own truth, and the ratio the exporter
// computes (collector/saturation's Manager, as the exporter runs it).
const (
	// satWorkerConnections is nginx's one worker's limit.
	satWorkerConnections = 64
	// satMaxChildren is each php-fpm pool's pm.max_children.
	satMaxChildren = 20
	// satTolerance is how far a ratio may be from the truth: absolute, as a
	// fraction of the capacity (0.10 is 6.4 nginx slots, 2 php children).
	satTolerance = 0.10
	// satHold bounds how long the origin and hold.php hold a request.
	satHold = 20 * time.Second
	// satWait bounds every wait for a state of the servers.
	satWait = 10 * time.Second
	// satMaxClients bounds the clients one fill opens.
	satMaxClients = satWorkerConnections
)

// satLab is one run: the rendered configs, the ports, the origin.
type satLab struct {
	t      *testing.T
	dir    string
	ports  map[string]int
	origin *holdOrigin
}

// TestSaturation checks the nginx and php-fpm saturation sources against
// the servers' own numbers, from idle to full (collector/saturation/README.md
// has the measurements).
func TestSaturation(t *testing.T) {
	s := newSatLab(t)
	t.Run("nginx", s.nginxLevels)
	t.Run("nginx full", s.nginxFull)
	t.Run("php-fpm", s.phpFPMLevels)
	t.Run("php-fpm full", s.phpFPMFull)
}

func newSatLab(t *testing.T) *satLab {
	s := &satLab{t: t, ports: map[string]int{}}
	bins := map[string]string{}
	for _, name := range []string{"nginx", "php-fpm8.2"} {
		bin, err := findBinary(name)
		if err != nil {
			t.Fatal(err)
		}
		bins[name] = bin
	}
	dir, err := os.MkdirTemp("", "http5xx-satlab-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{"nginx-error.log", "php-fpm.log", "php-error.log", "nginx.out", "php-fpm.out"} {
				raw, _ := os.ReadFile(filepath.Join(dir, f))
				t.Logf("--- %s (end)\n%s", f, tail(raw, 3000))
			}
		}
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	if err := os.CopyFS(filepath.Join(dir, "www"), os.DirFS("www")); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"nginx-tmp", "marks-tcp", "marks-unix"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o777); err != nil {
			t.Fatal(err)
		}
	}

	// Every port at once, held until all are chosen.
	var lns []net.Listener
	for _, name := range []string{"nginx", "origin", "fpm-tcp", "fpm-status"} {
		ln, err := loopback.Listen()
		if err != nil {
			t.Fatal(err)
		}
		s.ports[name] = ln.Addr().(*net.TCPAddr).Port
		lns = append(lns, ln)
	}
	s.origin = serveHoldOrigin(t, lns[1])
	for i, ln := range lns {
		if i != 1 {
			ln.Close()
		}
	}

	fpmArgs := []string{"-F", "-y", s.render("php-fpm-saturation.conf")}
	if os.Geteuid() == 0 {
		fpmArgs = append(fpmArgs, "-R")
	}
	fpm := startProcess(t, dir, "php-fpm", bins["php-fpm8.2"], "php-fpm.out", nil, fpmArgs...)
	ngx := startProcess(t, dir, "nginx", bins["nginx"], "nginx.out", nil, "-p", dir, "-c", s.render("nginx-saturation.conf"), "-e", filepath.Join(dir, "nginx-error.log"))
	for _, w := range []struct {
		port string
		p    *process
	}{{"fpm-tcp", fpm}, {"fpm-status", fpm}, {"nginx", ngx}} {
		if err := waitListening(s.ports[w.port], w.p); err != nil {
			t.Fatalf("%s: %v", w.port, err)
		}
	}
	return s
}

func (s *satLab) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", s.ports["nginx"], path)
}

// render writes the template <name>.tmpl into the lab's directory.
func (s *satLab) render(name string) string {
	s.t.Helper()
	tmpl, err := template.New(name + ".tmpl").Option("missingkey=error").Funcs(template.FuncMap{
		"port": func(name string) (int, error) {
			p, ok := s.ports[name]
			if !ok {
				return 0, fmt.Errorf("no port %q", name)
			}
			return p, nil
		},
	}).ParseFiles(name + ".tmpl")
	if err != nil {
		s.t.Fatal(err)
	}
	var b bytes.Buffer
	data := map[string]any{
		"Dir": s.dir, "WWW": filepath.Join(s.dir, "www"), "Root": os.Geteuid() == 0,
		"WorkerConnections": satWorkerConnections, "MaxChildren": satMaxChildren,
	}
	if err := tmpl.Execute(&b, data); err != nil {
		s.t.Fatal(err)
	}
	path := filepath.Join(s.dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		s.t.Fatal(err)
	}
	return path
}

// holdOrigin is the slow origin behind nginx: it holds every request until
// the test releases it, or satHold passes.
type holdOrigin struct {
	inflight atomic.Int64
	mu       sync.Mutex
	release  chan struct{}
}

func serveHoldOrigin(t *testing.T, ln net.Listener) *holdOrigin {
	o := &holdOrigin{release: make(chan struct{})}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		release := o.release
		o.mu.Unlock()
		o.inflight.Add(1)
		defer o.inflight.Add(-1)
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(satHold):
		}
		io.WriteString(w, "slow but done\n")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() {
		o.releaseAll()
		srv.Close()
	})
	return o
}

// releaseAll answers every held request; later ones are held again.
func (o *holdOrigin) releaseAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.release)
	o.release = make(chan struct{})
}

// clients are connections to nginx the test holds open: each either has a
// proxied request in flight or is idle.
type clients struct {
	conns []net.Conn
}

func (c *clients) close() {
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

// dial opens one connection to nginx, sending path on it unless path is "".
func (s *satLab) dial(c *clients, path string) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.ports["nginx"]), 2*time.Second)
	if err != nil {
		return nil, err
	}
	// No connection outlives the bound, whatever the test does.
	_ = conn.SetDeadline(time.Now().Add(satHold))
	c.conns = append(c.conns, conn)
	if path != "" {
		if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: saturation\r\n\r\n", path); err != nil {
			return conn, err
		}
	}
	return conn, nil
}

// satWaitFor polls cond until it holds or satWait passes.
func satWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(satWait); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", satWait, what)
		}
	}
}

// satTarget is a loaded target whose saturation block reads url once an
// hour (a reading right away, then none) unless the test says otherwise.
func satTarget(t *testing.T, typ, url string, max float64) *config.Target {
	t.Helper()
	cfg := loadSatConfig(t, fmt.Sprintf(`global: {interval: 1h, timeout: 2s}
targets:
  - name: lab
    url: http://127.0.0.1:1/
    saturation: {type: %s, url: %q, max: %v, timeout: 2s}
`, typ, url, max))
	return &cfg.Targets[0]
}

func loadSatConfig(t *testing.T, body string) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "http5xx.yml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// readRatio takes one reading of tg's source with a fresh manager, the way
// the exporter does, and returns the ratio.
func readRatio(t *testing.T, tg *config.Target) float64 {
	t.Helper()
	m := saturation.NewManager(saturation.Options{Version: "lab"})
	defer m.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collector())
	m.SetTargets([]*config.Target{tg})
	var ratio float64
	satWaitFor(t, "a reading of "+tg.Saturation.URL, func() bool {
		r, _, ok := m.Get(tg.Name)
		ratio = r
		return ok || len(satErrors(t, reg)) > 0
	})
	if errs := satErrors(t, reg); len(errs) > 0 {
		t.Fatalf("reading %s failed: %v", tg.Saturation.URL, errs)
	}
	return ratio
}

// satErrors returns the failed readings a registry counts, by reason.
func satErrors(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != contract.SaturationErrorsTotal.Name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == contract.LabelReason {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

func checkNear(t *testing.T, what string, ratio, truth float64) {
	t.Helper()
	if d := math.Abs(ratio - truth); d > satTolerance {
		t.Errorf("%s: ratio %.3f, the server's truth %.3f: off by %.3f, more than %.2f", what, ratio, truth, d, satTolerance)
	}
}

// --- nginx ---

// nginxWorker is the pid of nginx's one worker process.
func (s *satLab) nginxWorker(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(s.dir, "nginx.pid"))
	if err != nil {
		t.Fatal(err)
	}
	master, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so after the ')'.
		_, rest, _ := strings.Cut(string(stat), ") ")
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(master) {
			return pid
		}
	}
	t.Fatalf("no worker of nginx %d", master)
	return 0
}

// workerConnections counts the TCP connections nginx's worker holds, client
// and upstream: the sockets in its fd table that /proc/net/tcp lists in a
// state other than LISTEN. Each holds one of its worker_connections.
func workerConnections(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Scan() // header
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			// sl local_address rem_address st ... uid timeout inode
			if len(f) > 9 && f[3] != "0A" && inodes[f[9]] {
				n++
			}
		}
	}
	return n
}

// stubStatus fetches the page for the log, on a connection it closes: a
// kept-alive one would hold a slot.
func (s *satLab) stubStatus() string {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(s.url("/nginx_status"))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return strings.Join(strings.Fields(string(b)), " ")
}

// nginxLevels holds proxied requests (two slots each) and idle keep-alive
// connections (one slot) at 0, 25, 50 and 90 % of worker_connections, and
// compares the ratio with the connections the worker holds.
func (s *satLab) nginxLevels(t *testing.T) {
	worker := s.nginxWorker(t)
	tg := satTarget(t, contract.SaturationNginx, s.url("/nginx_status"), satWorkerConnections)
	for _, lv := range []struct {
		name          string
		proxied, idle int
	}{
		{"0%", 0, 0},
		{"25%", 8, 0},
		{"50%", 12, 8},
		{"90%", 29, 0},
	} {
		t.Run(lv.name, func(t *testing.T) {
			var c clients
			defer func() {
				c.close()
				s.origin.releaseAll()
				satWaitFor(t, "nginx let go of the level's connections", func() bool {
					return workerConnections(t, worker) == 0 && s.origin.inflight.Load() == 0
				})
			}()
			for i := 0; i < lv.proxied; i++ {
				if _, err := s.dial(&c, "/slow"); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < lv.idle; i++ {
				if _, err := s.dial(&c, ""); err != nil {
					t.Fatal(err)
				}
			}
			want := 2*lv.proxied + lv.idle
			satWaitFor(t, fmt.Sprintf("the origin holds %d requests and the worker %d connections", lv.proxied, want), func() bool {
				return s.origin.inflight.Load() == int64(lv.proxied) && workerConnections(t, worker) == want
			})
			// The truth before the reading: the reading's own connection
			// is on the page, and closes right after.
			held := workerConnections(t, worker)
			truth := float64(held) / satWorkerConnections
			ratio := readRatio(t, tg)
			page := s.stubStatus()
			var active float64
			fmt.Sscanf(page, "Active connections: %g", &active)
			t.Logf("nginx %s: %d proxied + %d idle clients; the worker holds %d connections (truth %.3f); ratio %.3f (Active / max alone: %.3f); stub_status after: %s",
				lv.name, lv.proxied, lv.idle, held, truth, ratio, active/satWorkerConnections, page)
			checkNear(t, "nginx "+lv.name, ratio, truth)
		})
	}
}

// nginxFull fills the worker with proxied requests until nginx drops new
// connections, then runs the exporter (probes and saturation poller, the
// manager as the engine's result sink, as serve.go wires it): the probes
// fail, the status request is dropped, and the ratio reads 1 with the
// reason counted.
func (s *satLab) nginxFull(t *testing.T) {
	worker := s.nginxWorker(t)
	var c clients
	defer func() {
		c.close()
		s.origin.releaseAll()
		// The next test starts with an empty worker: connections of this
		// one still closing would take its slots.
		satWaitFor(t, "the worker lets go of every connection", func() bool {
			return s.origin.inflight.Load() == 0 && workerConnections(t, worker) == 0
		})
	}()
	held := 0
	for i := 0; i < satMaxClients; i++ {
		conn, err := s.dial(&c, "/slow")
		if err != nil {
			t.Fatal(err)
		}
		if !s.reachesOrigin(conn, held+1) {
			break // nginx dropped it: no slot left
		}
		held++
	}
	conns := workerConnections(t, worker)
	t.Logf("nginx full: %d proxied requests held, the worker holds %d connections (+ its listening socket and channel = %d of %d); stub_status is dropped: %s",
		held, conns, conns+2, satWorkerConnections, s.stubStatus())
	if held == satMaxClients || conns+2 < satWorkerConnections {
		t.Fatalf("nginx did not fill up: %d requests, %d connections", held, conns)
	}

	reg := prometheus.NewRegistry()
	m := saturation.NewManager(saturation.Options{Version: "lab"})
	defer m.Close()
	reg.MustRegister(m.Collector())
	cfg := loadSatConfig(t, fmt.Sprintf(`global: {interval: 1s, timeout: 1s}
targets:
  - name: lab
    url: %q
    saturation: {type: nginx_stub_status, url: %q, max: %d, interval: 1s, timeout: 1s}
`, s.url("/ok"), s.url("/nginx_status"), satWorkerConnections))
	e, err := collector.New(collector.Options{
		Version: "lab", Registerer: reg,
		Sinks: []collector.Sink{m}, Followers: []collector.TargetSetter{m},
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	satWaitFor(t, "the ratio reads 1", func() bool { r, _, ok := m.Get("lab"); return ok && r == 1 })
	e.Stop()
	errs := satErrors(t, reg)
	if errs[string(contract.SaturationReset)]+errs[string(contract.SaturationTimeout)] == 0 {
		t.Errorf("the dropped readings are not counted as reset or timeout: %v", errs)
	}
	t.Logf("nginx full: ratio 1, failed readings by reason %v", errs)
}

// reachesOrigin waits until the origin holds want requests, or reports
// false when nginx closes conn first.
func (s *satLab) reachesOrigin(conn net.Conn, want int) bool {
	closed := make(chan struct{})
	go func() {
		// nginx answers nothing before the origin does: any byte or error
		// here is the connection being dropped (or answered with an error).
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		var b [1]byte
		if _, err := conn.Read(b[:]); !isTimeout(err) {
			close(closed)
		}
		_ = conn.SetReadDeadline(time.Now().Add(satHold))
	}()
	deadline := time.After(2 * time.Second)
	for {
		if s.origin.inflight.Load() >= int64(want) {
			return true
		}
		select {
		case <-closed:
			return false
		case <-deadline:
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// --- php-fpm ---

// fpmBusy is a pool's truth: the children running hold.php, each of which
// leaves a mark (its pid) in the pool's marks directory while it holds.
func (s *satLab) fpmBusy(t *testing.T, pool string) int {
	t.Helper()
	marks, err := os.ReadDir(filepath.Join(s.dir, "marks-"+pool))
	if err != nil {
		t.Fatal(err)
	}
	return len(marks)
}

// fpmBusyProcesses lists what the pool's busy processes serve, as its
// status page with ?full says (read through pm.status_listen for the TCP
// pool, so the reading takes none of its children): the evidence when a
// count is off.
func (s *satLab) fpmBusyProcesses(pool string) string {
	path := "/tcp/status-listen?json&full"
	if pool == "unix" {
		path = "/unix/status?json&full"
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(s.url(path))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var doc struct {
		Processes []struct {
			PID        int    `json:"pid"`
			State      string `json:"state"`
			RequestURI string `json:"request uri"`
			Duration   int64  `json:"request duration"`
		} `json:"processes"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, p := range doc.Processes {
		if p.State != "Idle" {
			fmt.Fprintf(&b, "[pid %d %s %s for %dµs] ", p.PID, p.State, p.RequestURI, p.Duration)
		}
	}
	return b.String()
}

// phpHolders are requests for hold.php in flight; they end when the hold
// file goes (or after satHold).
type phpHolders struct {
	wg sync.WaitGroup
}

func (s *satLab) holdPHP(h *phpHolders, path string, n int) {
	for i := 0; i < n; i++ {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			// A fresh connection per holder: on a reused keep-alive
			// connection that nginx had closed, Go's client sends the GET
			// again, and the pool then runs two holders for one client
			// (seen under load: 20 busy children for 18 clients).
			c := &http.Client{Timeout: satHold + 5*time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			if resp, err := c.Get(s.url(path)); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
}

// hold creates the hold file; the returned function removes it and waits
// for the holders and their marks.
func (s *satLab) hold(t *testing.T, h *phpHolders, pool string) func() {
	t.Helper()
	path := filepath.Join(s.dir, "hold")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		os.Remove(path)
		waitGroupTimeout(&h.wg, satHold)
		satWaitFor(t, "the pool's children let go", func() bool { return s.fpmBusy(t, pool) == 0 })
	}
}

// phpFPMLevels holds 0, 25, 50 and 90 % of each pool's children with
// hold.php and reads the pool's status every way the exporter can: through
// the pool (text, ?full, ?json, ?json&full) and through pm.status_listen.
func (s *satLab) phpFPMLevels(t *testing.T) {
	for _, pool := range []struct {
		name  string
		reads []string // status URLs the exporter reads
	}{
		{"tcp", []string{"/tcp/status", "/tcp/status?full", "/tcp/status?json&full", "/tcp/status-listen?full", "/tcp/status-listen?json&full"}},
		{"unix", []string{"/unix/status", "/unix/status?json", "/unix/status?full"}},
	} {
		t.Run(pool.name, func(t *testing.T) {
			var h phpHolders
			release := s.hold(t, &h, pool.name)
			defer release()
			held := 0
			for _, lv := range []struct {
				name string
				busy int
			}{{"0%", 0}, {"25%", 5}, {"50%", 10}, {"90%", 18}} {
				s.holdPHP(&h, "/"+pool.name+"/hold.php", lv.busy-held)
				held = lv.busy
				satWaitFor(t, fmt.Sprintf("%d children run hold.php", held), func() bool { return s.fpmBusy(t, pool.name) == held })
				truth := float64(held) / satMaxChildren
				for _, u := range pool.reads {
					ratio := readRatio(t, satTarget(t, contract.SaturationPHPFPM, s.url(u), satMaxChildren))
					t.Logf("php-fpm %s %s: %d clients hold a child (truth %.3f); %s reads %.3f", pool.name, lv.name, held, truth, u, ratio)
					checkNear(t, fmt.Sprintf("php-fpm %s %s %s", pool.name, lv.name, u), ratio, truth)
					// The counts are exact: the reading itself is never a busy child.
					if got := math.Round(ratio * satMaxChildren); got != float64(held) {
						t.Errorf("php-fpm %s %s %s: %v busy children, the pool runs %d; the pool's busy processes now: %s",
							pool.name, lv.name, u, got, held, s.fpmBusyProcesses(pool.name))
					}
				}
			}
		})
	}
}

// phpFPMFull fills a pool's every child. On the unix socket, the status
// served through the pool queues behind the work: the reading times out
// while the exporter's probes of the pool fail too, and reads 1. On TCP,
// pm.status_listen answers at once and the listen queue says full.
func (s *satLab) phpFPMFull(t *testing.T) {
	t.Run("unix, status through the pool", func(t *testing.T) {
		var h phpHolders
		release := s.hold(t, &h, "unix")
		defer release()
		s.holdPHP(&h, "/unix/hold.php", satMaxChildren)
		satWaitFor(t, "every child runs hold.php", func() bool { return s.fpmBusy(t, "unix") == satMaxChildren })

		reg := prometheus.NewRegistry()
		m := saturation.NewManager(saturation.Options{Version: "lab"})
		defer m.Close()
		reg.MustRegister(m.Collector())
		cfg := loadSatConfig(t, fmt.Sprintf(`global: {interval: 1s, timeout: 1s}
targets:
  - name: lab
    url: %q
    saturation: {type: php_fpm_status, url: %q, max: %d, interval: 1s, timeout: 1s}
`, s.url("/unix/ok.php"), s.url("/unix/status"), satMaxChildren))
		e, err := collector.New(collector.Options{
			Version: "lab", Registerer: reg,
			Sinks: []collector.Sink{m}, Followers: []collector.TargetSetter{m},
		}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Stop()
		satWaitFor(t, "the ratio reads 1", func() bool { r, _, ok := m.Get("lab"); return ok && r == 1 })
		e.Stop()
		errs := satErrors(t, reg)
		if errs[string(contract.SaturationTimeout)]+errs[string(contract.SaturationGateway)] == 0 {
			t.Errorf("the queued readings are not counted as timeout or gateway: %v", errs)
		}
		t.Logf("php-fpm unix full: %d of %d children busy; ratio 1, failed readings by reason %v", s.fpmBusy(t, "unix"), satMaxChildren, errs)
	})

	t.Run("tcp, status_listen with a queue", func(t *testing.T) {
		var h phpHolders
		release := s.hold(t, &h, "tcp")
		defer release()
		s.holdPHP(&h, "/tcp/hold.php", satMaxChildren+2) // two wait in the listen queue
		satWaitFor(t, "every child runs hold.php", func() bool { return s.fpmBusy(t, "tcp") == satMaxChildren })
		ratio := 0.0
		satWaitFor(t, "the listen queue shows", func() bool {
			ratio = readRatio(t, satTarget(t, contract.SaturationPHPFPM, s.url("/tcp/status-listen?full"), satMaxChildren))
			return ratio == 1
		})
		t.Logf("php-fpm tcp full: %d of %d children busy, 2 requests queued; /tcp/status-listen?full reads %.3f", s.fpmBusy(t, "tcp"), satMaxChildren, ratio)
	})
}
