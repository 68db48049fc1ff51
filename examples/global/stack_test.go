//go:build e2e

package global

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/http5xx/http5xx_exporter/examples/stacktest"
	"go.yaml.in/yaml/v3"
)

// speedup is how much faster than real time the stack runs, as in
// examples/e2e: the 15s probe, scrape and evaluation intervals become 1s and
// the rule pack's 5m windows 20s (stacktest.CompressTime); the durations on
// VictoriaMetrics' and vmalert's command lines are divided alike.
const speedup = 15

// interval is the probe and scrape interval at the test's speed.
const interval = time.Second

var locations = []string{"eu", "us"}

// The replica sets of every shard, as README.md names them.
var replicas = []string{"a", "b"}

// The addresses of the reference setup (README.md); the test replaces them
// with free loopback ports in its copies.
const (
	refOrigin          = "127.0.0.1:10506"
	refVictoriaMetrics = "127.0.0.1:8428"
	refAlertmanager    = "127.0.0.1:9093"
)

// refExporter is the address of an exporter of the reference setup: shards
// 0 and 1, replicas a and b, at 10515-10518 in eu and 10525-10528 in us.
func refExporter(loc string, shard int, replica string) string {
	base := map[string]int{"eu": 10515, "us": 10525}[loc]
	return fmt.Sprintf("127.0.0.1:%d", base+2*shard+slices.Index(replicas, replica))
}

// load is how many targets the test adds to the reference inventory: enough
// for the shards and the move on resharding to be more than a handful.
const load = 45

// exporter is one running exporter: a replica of a shard of a location.
type exporter struct {
	loc     string
	shard   int
	shards  int
	replica string
	addr    string
	p       *stacktest.Process
}

func (e *exporter) name() string { return fmt.Sprintf("exporter-%s-%d%s", e.loc, e.shard, e.replica) }

// stack is the running setup.
type stack struct {
	t        *testing.T
	tl       *stacktest.Timeline
	ps       *stacktest.Processes
	rec      *stacktest.Recorder
	origin   *origin
	bin      string
	tmp      string // the copy of the repository's files
	vm       stacktest.PromAPI
	vmalert  stacktest.PromAPI
	proms    []string               // base URLs of the Prometheus servers
	exp      map[string][]*exporter // location -> exporters
	targets  []string               // every target's name
	spare    []string               // free addresses for added shards
	restarts int
}

func startStack(ctx context.Context, t *testing.T, tl *stacktest.Timeline) *stack {
	t.Helper()
	// The origin before the workspace, whose recorder comes before the
	// processes: their servers close after the processes stop (cleanups run
	// last-in first-out).
	o := newOrigin()
	site := httptest.NewServer(o)
	t.Cleanup(site.Close)
	w := stacktest.NewWorkspace(t, tl,
		[]string{"http5xx_exporter", "prometheus", "promtool", "alertmanager", "amtool", "victoria-metrics", "vmalert"},
		"data", "rules", filepath.Join("examples", "global", "inventory"))
	root, bin, tmp, rec, hook, ps := w.Root, w.Bin, w.Dir, w.Rec, w.Hook, w.Procs
	gl := filepath.Join(tmp, "examples", "global")

	const spare = 2 // the shard resharding adds in eu
	nExp := len(locations) * 2 * len(replicas)
	ports, err := stacktest.FreePorts(3 + 2*len(locations) + nExp + spare)
	if err != nil {
		t.Fatal(err)
	}
	at := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[i]) }
	addr := map[string]string{
		refOrigin:          strings.TrimPrefix(site.URL, "http://"),
		refVictoriaMetrics: at(0),
		refAlertmanager:    at(1),
	}
	s := &stack{
		t: t, tl: tl, ps: ps, rec: rec, origin: o, bin: bin, tmp: tmp,
		vm:      stacktest.PromAPI{Base: "http://" + at(0), Client: &http.Client{Timeout: 10 * time.Second}},
		vmalert: stacktest.PromAPI{Base: "http://" + at(2), Client: &http.Client{Timeout: 10 * time.Second}},
		exp:     map[string][]*exporter{},
	}
	next := 3 + 2*len(locations)
	for _, loc := range locations {
		for shard := range 2 {
			for _, r := range replicas {
				e := &exporter{loc: loc, shard: shard, shards: 2, replica: r, addr: at(next)}
				addr[refExporter(loc, shard, r)] = e.addr
				s.exp[loc] = append(s.exp[loc], e)
				next++
			}
		}
	}
	for range spare {
		s.spare = append(s.spare, at(next))
		next++
	}

	// The copies: the rule pack, the reference files, the inventory plus the
	// test's load, Alertmanager's routing with the recorder as receiver.
	rules, err := filepath.Glob(filepath.Join(root, "rules", "http5xx-*.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files in rules/ (%v)", err)
	}
	var ruleArgs []string
	for _, f := range rules {
		dst := filepath.Join(tmp, "rules", filepath.Base(f))
		stacktest.WriteCompressed(t, f, dst, speedup, nil)
		ruleArgs = append(ruleArgs, "-rule="+dst)
	}
	ref := filepath.Join(root, "examples", "global")
	for _, f := range []string{"http5xx.yml", "prometheus-eu.yml", "prometheus-us.yml", "exporters-eu.yml", "exporters-us.yml", "vm-relabel.yml"} {
		stacktest.WriteCompressed(t, filepath.Join(ref, f), filepath.Join(gl, f), speedup, func(b []byte) ([]byte, error) {
			return stacktest.ReplaceAddresses(b, addr), nil
		})
	}
	inv, err := os.ReadFile(filepath.Join(ref, "inventory", "sites.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gl, "inventory", "sites.json"), stacktest.ReplaceAddresses(inv, addr), 0o644); err != nil {
		t.Fatal(err)
	}
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	var groups []group
	for i := range load {
		name := fmt.Sprintf("site-%02d", i)
		groups = append(groups, group{[]string{addr[refOrigin]}, map[string]string{"name": name, "app": "sites", "team": "web-team", "path": "/t/" + name}})
	}
	b, err := json.MarshalIndent(groups, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gl, "inventory", "load.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	amConfig := filepath.Join(tmp, "examples", "alertmanager.yml")
	stacktest.WriteCompressed(t, filepath.Join(root, "examples", "alertmanager.yml"), amConfig, speedup, func(b []byte) ([]byte, error) {
		return stacktest.PointReceivers(b, hook.URL)
	})
	s.targets = s.configuredTargets(filepath.Join(gl, "http5xx.yml"), filepath.Join(gl, "inventory"))

	// The real tools judge the copies before anything starts.
	for _, r := range replicas {
		stacktest.RunEnv(t, []string{"PROMETHEUS_REPLICA=" + r}, filepath.Join(bin, "promtool"), "check", "config",
			filepath.Join(gl, "prometheus-eu.yml"), filepath.Join(gl, "prometheus-us.yml"))
	}
	stacktest.Run(t, filepath.Join(bin, "amtool"), "check-config", amConfig)
	stacktest.Run(t, filepath.Join(bin, "http5xx_exporter"), "config", "check", filepath.Join(gl, "http5xx.yml"))
	stacktest.Run(t, filepath.Join(bin, "victoria-metrics"), "-dryRun", "-loggerLevel=ERROR", "-relabelConfig="+filepath.Join(gl, "vm-relabel.yml"))
	stacktest.Run(t, filepath.Join(bin, "vmalert"), append([]string{"-dryRun", "-loggerLevel=ERROR"}, ruleArgs...)...)

	type component struct {
		p     *stacktest.Process
		ready string
	}
	var all []component
	start := func(name string, env []string, b, ready string, args ...string) {
		p, err := ps.StartEnv(name, env, filepath.Join(bin, b), args...)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, component{p, ready})
	}
	data := func(name string) string { return filepath.Join(tmp, "data", name) }
	// The command lines of README.md, their durations divided by speedup.
	d := func(s string) string {
		c, err := stacktest.CompressDuration(s, speedup)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Except one: VictoriaMetrics makes a sample searchable up to 2s after
	// it arrives (it flushes pending rows every 2s, a constant), and that
	// does not run faster with the test. Queries that look less far back
	// (30s/15 = 2s) miss the newest samples now and then, and the rule pack's
	// exact counts over 1m15s (5s here) come out one probe short. So
	// -search.latencyOffset and vmalert's -rule.evalDelay to match stay at
	// 5s, which is 75s at real speed: the time to page measured here is
	// longer by 3s than a compressed 30s would give.
	const visible = "5s"
	start("victoria-metrics", nil, "victoria-metrics", s.vm.Base+"/health",
		"-storageDataPath="+data("victoria-metrics"),
		"-httpListenAddr="+at(0),
		"-relabelConfig="+filepath.Join(gl, "vm-relabel.yml"),
		"-dedup.minScrapeInterval="+d("15s"),
		"-search.latencyOffset="+visible,
		"-loggerLevel=WARN")
	start("alertmanager", nil, "alertmanager", "http://"+at(1)+"/-/ready",
		"--config.file="+amConfig,
		"--storage.path="+data("alertmanager"),
		"--web.listen-address="+at(1),
		"--cluster.listen-address=") // empty: no clustering, no gossip port
	start("vmalert", nil, "vmalert", s.vmalert.Base+"/health", append(ruleArgs,
		"-datasource.url="+s.vm.Base,
		"-remoteWrite.url="+s.vm.Base,
		"-remoteRead.url="+s.vm.Base,
		"-notifier.url=http://"+at(1),
		"-httpListenAddr="+at(2),
		"-evaluationInterval="+d("15s"),
		"-rule.evalDelay="+visible,
		"-datasource.queryStep="+d("5m"),
		"-remoteWrite.flushInterval="+d("2s"),
		"-loggerLevel=WARN")...)
	for _, loc := range locations {
		for _, e := range s.exp[loc] {
			p, err := s.startExporter(e)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, component{p, "http://" + e.addr + "/-/ready"})
		}
	}
	for i, loc := range locations {
		for j, r := range replicas {
			a := at(3 + 2*i + j)
			s.proms = append(s.proms, "http://"+a)
			start("prometheus-"+loc+"-"+r, []string{"PROMETHEUS_REPLICA=" + r}, "prometheus", "http://"+a+"/-/ready",
				"--config.file="+filepath.Join(gl, "prometheus-"+loc+".yml"),
				"--storage.tsdb.path="+data("prometheus-"+loc+"-"+r),
				"--web.listen-address="+a)
		}
	}
	for _, c := range all {
		if err := c.p.WaitReady(ctx, c.ready, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	tl.Logf("stack ready: %d targets, %d exporters in %v, Prometheus pairs %v, VictoriaMetrics %s, vmalert %s, recorder %s",
		len(s.targets), nExp, locations, s.proms, s.vm.Base, s.vmalert.Base, hook.URL)
	return s
}

// configuredTargets lists the target names of the exporter configuration:
// its own targets and the inventory's, named by their name label.
func (s *stack) configuredTargets(config, inventory string) []string {
	b, err := os.ReadFile(config)
	if err != nil {
		s.t.Fatal(err)
	}
	var cfg struct {
		Targets []struct {
			Name string `yaml:"name"`
		} `yaml:"targets"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		s.t.Fatal(err)
	}
	var names []string
	for _, tg := range cfg.Targets {
		names = append(names, tg.Name)
	}
	files, _ := filepath.Glob(filepath.Join(inventory, "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			s.t.Fatal(err)
		}
		var groups []struct {
			Labels map[string]string `json:"labels"`
		}
		if err := json.Unmarshal(b, &groups); err != nil {
			s.t.Fatalf("%s: %v", f, err)
		}
		for _, g := range groups {
			names = append(names, g.Labels["name"])
		}
	}
	slices.Sort(names)
	return names
}

// startExporter starts (or restarts) one exporter with the flags of
// README.md.
func (s *stack) startExporter(e *exporter) (*stacktest.Process, error) {
	name := e.name()
	if e.p != nil {
		s.restarts++
		name = fmt.Sprintf("%s.%d", name, s.restarts)
	}
	p, err := s.ps.Start(name, filepath.Join(s.bin, "http5xx_exporter"),
		"--config.file="+filepath.Join(s.tmp, "examples", "global", "http5xx.yml"),
		"--location="+e.loc,
		fmt.Sprintf("--shard.count=%d", e.shards),
		fmt.Sprintf("--shard.index=%d", e.shard),
		"--web.listen-address="+e.addr,
		"--storage.path="+filepath.Join(s.tmp, "data", name))
	if err != nil {
		return nil, err
	}
	e.p = p
	return p, nil
}

// restart ends an exporter (SIGTERM, as a rolling update does), starts it
// again with shards shards and waits until it is ready.
func (s *stack) restart(ctx context.Context, e *exporter, shards int) error {
	if err := e.p.Terminate(); err != nil {
		return err
	}
	e.shards = shards
	p, err := s.startExporter(e)
	if err != nil {
		return err
	}
	return p.WaitReady(ctx, "http://"+e.addr+"/-/ready", 30*time.Second)
}

// addToScrape lists more exporters in a location's exporters-LOC.yml, which
// its Prometheus pair reads again on change.
func (s *stack) addToScrape(loc string, addrs ...string) error {
	path := filepath.Join(s.tmp, "examples", "global", "exporters-"+loc+".yml")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var groups []map[string]any
	if err := yaml.Unmarshal(b, &groups); err != nil {
		return err
	}
	groups = append(groups, map[string]any{"targets": addrs})
	out, err := yaml.Marshal(groups)
	if err != nil {
		return err
	}
	// Written whole and renamed into place: Prometheus never reads half.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
