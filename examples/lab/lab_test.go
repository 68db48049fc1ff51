//go:build lab

package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/loopback"
)

// Bounds of the lab: no step waits longer than these.
const (
	startTimeout   = 20 * time.Second // a product accepts connections
	requestTimeout = 15 * time.Second // one probe, answer and body
	logTimeout     = 5 * time.Second  // a log line appears
	stopTimeout    = 5 * time.Second  // a product exits after SIGTERM
)

// apacheModules is where Debian's apache2 package installs its modules:
// lib/apache2/modules beside the sbin directory of the binary.
func apacheModules(bin string) string {
	return filepath.Join(filepath.Dir(filepath.Dir(bin)), "lib", "apache2", "modules")
}

// product is one Debian binary the lab starts, and the version Debian
// bookworm ships (the fixtures were recorded with it).
type product struct {
	bin     string
	version []string // arguments that print the version
	want    *regexp.Regexp
}

func products() map[string]product {
	return map[string]product{
		"nginx":   {"nginx", []string{"-v"}, regexp.MustCompile(`nginx/1\.22\.`)},
		"haproxy": {"haproxy", []string{"-v"}, regexp.MustCompile(`HAProxy version 2\.6\.`)},
		"apache":  {"apache2", []string{"-v"}, regexp.MustCompile(`Apache/2\.4\.`)},
		"varnish": {"varnishd", []string{"-V"}, regexp.MustCompile(`varnish-7\.1\.`)},
		"varnlog": {"varnishlog", []string{"-V"}, regexp.MustCompile(`varnish-7\.1\.`)},
		"caddy":   {"caddy", []string{"version"}, regexp.MustCompile(`^v?2\.6\.`)},
		"php-fpm": {"php-fpm8.2", []string{"-v"}, regexp.MustCompile(`PHP 8\.2\.`)},
	}
}

// findBinary looks in PATH and in the sbin directories beside its bin
// directories, which an unprivileged user's PATH often lacks.
func findBinary(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.Base(dir) != "bin" {
			continue
		}
		p := filepath.Join(filepath.Dir(dir), "sbin", name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found: apt-get install nginx haproxy apache2 varnish caddy php8.2-fpm", name)
}

// nominalPorts replace the ports chosen at run time in the fixtures, so a
// rerun writes the same bytes. Five digits, like the ephemeral ports they
// stand for, so lengths do not change.
func nominalPorts() map[string]int {
	return map[string]int{
		"nginx": 18080, "haproxy": 18081, "apache": 18082, "varnish": 18083, "caddy": 18084,
		"fpm-main": 19000, "fpm-small": 19001, "fpm-term": 19002,
		"refused": 19100, "ok": 19102, "app500": 19103, "maint503": 19104,
		"hang": 19105, "hang2": 19106, "garbage": 19107, "close": 19108,
	}
}

// lab is one run: a directory with the rendered configs, pid files, logs
// and sockets, the ports, and the processes started.
type lab struct {
	t        *testing.T
	dir      string
	www      string
	ports    map[string]int
	listener map[string]net.Listener // the Go origins' own
	origins  []*tcpOrigin
	bins     map[string]string
}

func TestLab(t *testing.T) {
	l := newLab(t)
	l.startOrigins()
	l.startProducts()

	var occupiers sync.WaitGroup
	defer func() {
		// The background requests end when their proxies give up; they
		// must end before the products are stopped.
		waitGroupTimeout(&occupiers, requestTimeout)
	}()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) { l.run(t, sc, &occupiers) })
	}
}

func newLab(t *testing.T) *lab {
	l := &lab{t: t, ports: map[string]int{}, listener: map[string]net.Listener{}, bins: map[string]string{}}
	for name, p := range products() {
		bin, err := findBinary(p.bin)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, bin, p.version...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", bin, strings.Join(p.version, " "), err, out)
		}
		if !p.want.Match(out) {
			t.Fatalf("%s is not the version the lab was recorded with (%s): %s", bin, p.want, out)
		}
		l.bins[name] = bin
	}

	dir, err := os.MkdirTemp("", "http5xx-lab-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			l.dumpLogs()
		}
		os.RemoveAll(dir)
	})
	// Apache's children run as www-data when the lab runs as root: they
	// read the document root.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l.dir = dir
	l.www = filepath.Join(dir, "www")
	if err := os.CopyFS(l.www, os.DirFS("www")); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"nginx-tmp", "apache-run", "busy", "caddy-data", "varnish"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// Every port is chosen now, so the configs can name each other. All
	// are held until all are chosen, so no two are the same.
	var release []net.Listener
	for name := range nominalPorts() {
		ln, err := loopback.Listen()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		l.ports[name] = ln.Addr().(*net.TCPAddr).Port
		switch name {
		case "ok", "app500", "maint503", "hang", "hang2", "garbage", "close":
			l.listener[name] = ln
		default:
			release = append(release, ln) // a product binds it, or nothing does (refused)
		}
	}
	for _, ln := range release {
		ln.Close()
	}
	return l
}

func (l *lab) startOrigins() {
	serveHTTP(l.t, l.listener["ok"], appOK)
	serveHTTP(l.t, l.listener["app500"], appError)
	serveHTTP(l.t, l.listener["maint503"], appMaintenance)
	for name, behave := range map[string]func(net.Conn){"hang": hang, "hang2": hang, "garbage": garbage, "close": hangUp} {
		l.origins = append(l.origins, serveTCP(l.t, l.listener[name], behave))
	}
}

// render writes the template examples/lab/<name>.tmpl into the lab's
// directory and returns the path.
func (l *lab) render(name string) string {
	l.t.Helper()
	root := os.Geteuid() == 0
	tmpl, err := template.New(name + ".tmpl").Option("missingkey=error").Funcs(template.FuncMap{
		"port": func(name string) (int, error) {
			p, ok := l.ports[name]
			if !ok {
				return 0, fmt.Errorf("no port %q", name)
			}
			return p, nil
		},
	}).ParseFiles(name + ".tmpl")
	if err != nil {
		l.t.Fatal(err)
	}
	var b bytes.Buffer
	data := map[string]any{"Dir": l.dir, "WWW": l.www, "Root": root, "ApacheModules": apacheModules(l.bins["apache"])}
	if err := tmpl.Execute(&b, data); err != nil {
		l.t.Fatal(err)
	}
	path := filepath.Join(l.dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return path
}

func (l *lab) startProducts() {
	root := os.Geteuid() == 0
	fpmArgs := []string{"-F", "-y", l.render("php-fpm.conf")}
	if root {
		fpmArgs = append(fpmArgs, "-R")
	}
	procs := []struct {
		name, out string
		ports     []string
		args      []string
		env       []string
	}{
		{"php-fpm", "php-fpm.out", []string{"fpm-main", "fpm-small", "fpm-term"}, fpmArgs, nil},
		{"nginx", "nginx.out", []string{"nginx"}, []string{"-p", l.dir, "-c", l.render("nginx.conf"), "-e", filepath.Join(l.dir, "nginx-error.log")}, nil},
		{"haproxy", "haproxy.log", []string{"haproxy"}, []string{"-db", "-f", l.render("haproxy.cfg")}, nil},
		{"apache", "apache.out", []string{"apache"}, []string{"-f", l.render("apache2.conf"), "-D", "FOREGROUND"}, nil},
		{"varnish", "varnishd.out", []string{"varnish"}, []string{
			"-F", "-j", "none", "-n", filepath.Join(l.dir, "varnish"), "-T", "none",
			"-a", fmt.Sprintf("127.0.0.1:%d", l.ports["varnish"]),
			"-f", l.render("varnish.vcl"), "-s", "malloc,16m",
			"-p", "thread_pools=1", "-p", "thread_pool_min=5", "-p", "thread_pool_max=50",
		}, nil},
		{"caddy", "caddy.log", []string{"caddy"}, []string{"run", "--adapter", "caddyfile", "--config", l.render("Caddyfile")},
			[]string{"HOME=" + l.dir, "XDG_CONFIG_HOME=" + l.dir, "XDG_DATA_HOME=" + filepath.Join(l.dir, "caddy-data")}},
	}
	var started []*process
	for _, p := range procs {
		started = append(started, l.start(p.name, p.out, p.env, p.args...))
	}
	for i, p := range procs {
		for _, port := range p.ports {
			if err := waitListening(l.ports[port], started[i]); err != nil {
				l.t.Fatalf("%s: %v", p.name, err)
			}
		}
	}
}

// process is a product running in its own process group.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (l *lab) start(name, out string, env []string, args ...string) *process {
	l.t.Helper()
	return startProcess(l.t, l.dir, name, l.bins[name], out, env, args...)
}

// startProcess starts bin in dir in its own process group, its output
// appended to dir/out; the test's cleanup stops the whole group.
func startProcess(t *testing.T, dir, name, bin, out string, env []string, args ...string) *process {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, out), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		// The whole group: nginx and apache workers, varnish's child,
		// php-fpm's pool children.
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			t.Logf("%s did not stop in %s: killed", name, stopTimeout)
		}
		syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			t.Errorf("%s (pid %d) still running", name, pgid)
		}
	})
	return p
}

// waitListening waits until port accepts connections, or p exits.
func waitListening(port int, p *process) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before listening on %d: %v", port, p.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("not listening on %d after %s", port, startTimeout)
}

// dumpLogs shows the end of every log of the lab, for a failed run.
func (l *lab) dumpLogs() {
	entries, _ := os.ReadDir(l.dir)
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".log") || strings.HasSuffix(e.Name(), ".out")) {
			continue
		}
		raw, _ := os.ReadFile(filepath.Join(l.dir, e.Name()))
		if len(raw) > 3000 {
			raw = raw[len(raw)-3000:]
		}
		l.t.Logf("--- %s (end)\n%s", e.Name(), raw)
	}
}

// run sends one scenario's request and checks the answer against the
// table and the golden fixture, and the product's log against the truth.
func (l *lab) run(t *testing.T, sc scenario, occupiers *sync.WaitGroup) {
	if sc.WaitFor.Pattern != "" {
		if _, err := l.waitLog(sc.Name, sc.WaitFor, 0, startTimeout); err != nil {
			t.Fatalf("before the probe: %v", err)
		}
	}
	if sc.Before != "" {
		if a, err := l.send(sc, "GET", sc.Before); err != nil {
			t.Fatalf("before the probe: %v", err)
		} else {
			t.Logf("before the probe: GET %s: %s", sc.Before, a.status)
		}
	}
	// The truth's log starts before the occupier: a full pool is logged by
	// php-fpm's once-a-second check as soon as its child is busy, which
	// can come before occupy sees the child's mark.
	offset := l.logSize(sc.Truth.Log.Source)
	if sc.Occupy != "" {
		l.occupy(t, sc, occupiers)
	}
	method := sc.Method
	if method == "" {
		method = "GET"
	}
	a, res, err := l.probe(sc, method, sc.Path)
	if err != nil {
		t.Fatal(err)
	}
	if a.code != sc.Code {
		t.Errorf("%s %s: got %s, want code %d", method, sc.Path, a.status, sc.Code)
	}
	if got := strings.Join(a.header.Values("Retry-After"), ", "); got != sc.RetryAfter {
		t.Errorf("Retry-After: got %q, want %q", got, sc.RetryAfter)
	}
	checkVerdict(t, sc, res.Verdict, a.header.Get("Retry-After"))
	// The exported Retry-After: the answer's, unless it is the product's
	// default rather than a maintenance window.
	if exported := res.RetryAfter.Seconds(); res.CannedRetryAfter && exported != 0 || !res.CannedRetryAfter && sc.RetryAfter != "" && exported <= 0 {
		t.Errorf("exported Retry-After %gs for %q (canned %v)", exported, sc.RetryAfter, res.CannedRetryAfter)
	}
	t.Logf("exporter: %s %s, owner %s, %s/%s; %s", method, res.Class, res.Owner, res.Layer, res.Product, res.Cause)
	if line, err := l.waitLog(sc.Name, sc.Truth.Log, offset, logTimeout); err != nil {
		t.Errorf("the truth's log line: %v", err)
	} else {
		t.Logf("%s log: %s", sc.Truth.Log.Source, line)
	}
	checkGolden(t, sc.Name, a.golden(l.portMap(), method))
}

// occupy sends sc.Occupy in the background and waits until the backend
// holds it: a Go origin counts it, or slow.php marks it in busy/.
func (l *lab) occupy(t *testing.T, sc scenario, occupiers *sync.WaitGroup) {
	before := l.busy()
	occupiers.Add(1)
	go func() {
		defer occupiers.Done()
		l.send(sc, "GET", sc.Occupy)
	}()
	deadline := time.Now().Add(startTimeout)
	for l.busy() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not reach its backend in %s", sc.Occupy, startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// busy counts the requests the backends have seen or hold.
func (l *lab) busy() int64 {
	var n int64
	for _, o := range l.origins {
		n += o.inflight.Load()
	}
	marks, _ := os.ReadDir(filepath.Join(l.dir, "busy"))
	return n + int64(len(marks))
}

func (l *lab) portMap() map[string]string {
	nominal, m := nominalPorts(), map[string]string{}
	for name, p := range l.ports {
		m[fmt.Sprint(p)] = fmt.Sprint(nominal[name])
	}
	return m
}

func (l *lab) logPath(source string) (string, error) {
	file, ok := logFile(source)
	if !ok {
		return "", fmt.Errorf("no log source %q", source)
	}
	return filepath.Join(l.dir, file), nil
}

// logSize is where the new lines of a log will start.
func (l *lab) logSize(source string) int64 {
	path, err := l.logPath(source)
	if err != nil {
		return 0 // waitLog reports it
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// waitLog waits until the log of want.Source, from offset on, has a line
// matching want.Pattern, and returns that line. Varnish's log is what
// varnishlog shows of the scenario's request.
func (l *lab) waitLog(scenarioName string, want logLine, offset int64, timeout time.Duration) (string, error) {
	re, err := regexp.Compile("(?m)" + want.Pattern)
	if err != nil {
		return "", err
	}
	path, err := l.logPath(want.Source)
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(timeout)
	for {
		if want.Source == "varnish" {
			if err := l.varnishLog(scenarioName, path, offset); err != nil {
				return "", err
			}
		}
		raw, _ := os.ReadFile(path)
		if int64(len(raw)) >= offset {
			raw = raw[offset:]
		}
		if loc := re.FindIndex(raw); loc != nil {
			start := bytes.LastIndexByte(raw[:loc[0]], '\n') + 1
			end := bytes.IndexByte(raw[loc[0]:], '\n')
			if end < 0 {
				end = len(raw) - loc[0]
			}
			return string(raw[start : loc[0]+end]), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s: no line matches %q in %s:\n%s", want.Source, want.Pattern, timeout, tail(raw, 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// varnishLog writes what varnishlog holds of the scenario's request (and
// its backend fetch) to varnish.log, replacing what it wrote before for
// the same scenario from offset on.
func (l *lab) varnishLog(scenarioName, path string, offset int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, l.bins["varnlog"], "-n", filepath.Join(l.dir, "varnish"), "-d", "-g", "request",
		"-q", fmt.Sprintf(`ReqHeader:X-Lab-Scenario eq "%s"`, scenarioName)).CombinedOutput()
	if err != nil {
		out = append(out, fmt.Sprintf("varnishlog: %v\n", err)...)
	}
	if err := os.Truncate(path, offset); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func waitGroupTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// send makes one request on a fresh connection to sc.Front and returns
// the answer as it came off the wire.
func (l *lab) send(sc scenario, method, path string) (answer, error) {
	var rec recorder
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &recordingConn{Conn: c, rec: &rec}, nil
		},
		DisableKeepAlives:  true,
		DisableCompression: true, // the answer as sent, not gunzipped
		Proxy:              nil,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", l.ports[sc.Front], path)
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("User-Agent", "http5xx-lab")
	req.Header.Set("X-Lab-Scenario", sc.Name)
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, bodyLimit+1))
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: body: %w", method, url, err)
	}
	a, err := parseHead(rec.bytes())
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	a.code, a.header = resp.StatusCode, resp.Header
	a.truncated = len(body) > bodyLimit
	a.body = body[:min(len(body), bodyLimit)]
	return a, nil
}

// recorder keeps every byte read from the connection; the transport reads
// on its own goroutine.
type recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

type recordingConn struct {
	net.Conn
	rec *recorder
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.rec.mu.Lock()
	c.rec.buf.Write(p[:n])
	c.rec.mu.Unlock()
	return n, err
}
