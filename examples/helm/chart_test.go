//go:build helm

package helm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const chart = "http5xx-exporter"

// tool returns a binary make helm-test built into the repository's .bin/.
func tool(t *testing.T, name string) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", ".bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run `make helm-test`, which builds it into .bin/ (%v)", name, err)
	}
	return bin
}

// helmTemplate renders the chart as release "probe" in namespace
// "monitoring" with the given helm flags; it returns helm's error output
// when rendering fails.
func helmTemplate(t *testing.T, flags ...string) ([]byte, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(tool(t, "helm"), append([]string{"template", "probe", chart, "--namespace", "monitoring"}, flags...)...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm template %v: %v: %s", flags, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

type meta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace"`
	Labels    map[string]string `yaml:"labels"`
}

type object struct {
	Kind     string `yaml:"kind"`
	Metadata meta   `yaml:"metadata"`
	node     *yaml.Node
}

type securityContext struct {
	RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
	RunAsUser                *int64 `yaml:"runAsUser"`
	ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type httpProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

type envVar struct {
	Name      string `yaml:"name"`
	ValueFrom struct {
		FieldRef struct {
			FieldPath string `yaml:"fieldPath"`
		} `yaml:"fieldRef"`
	} `yaml:"valueFrom"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env             []envVar         `yaml:"env"`
	ReadinessProbe  httpProbe        `yaml:"readinessProbe"`
	LivenessProbe   httpProbe        `yaml:"livenessProbe"`
	SecurityContext *securityContext `yaml:"securityContext"`
	VolumeMounts    []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
	} `yaml:"secret"`
	EmptyDir *struct{} `yaml:"emptyDir"`
}

type statefulSet struct {
	Metadata meta `yaml:"metadata"`
	Spec     struct {
		Replicas    int    `yaml:"replicas"`
		ServiceName string `yaml:"serviceName"`
		Selector    struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata meta `yaml:"metadata"`
			Spec     struct {
				SecurityContext *securityContext `yaml:"securityContext"`
				InitContainers  []container      `yaml:"initContainers"`
				Containers      []container      `yaml:"containers"`
				Volumes         []volume         `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata meta `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

type servicePort struct {
	Name       string `yaml:"name"`
	Port       int    `yaml:"port"`
	TargetPort string `yaml:"targetPort"`
}

type service struct {
	Metadata meta `yaml:"metadata"`
	Spec     struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []servicePort     `yaml:"ports"`
	} `yaml:"spec"`
}

type serviceMonitor struct {
	Metadata meta `yaml:"metadata"`
	Spec     struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Endpoints []struct {
			Port        string `yaml:"port"`
			Relabelings []struct {
				TargetLabel string `yaml:"targetLabel"`
				Replacement string `yaml:"replacement"`
			} `yaml:"relabelings"`
		} `yaml:"endpoints"`
	} `yaml:"spec"`
}

// ruleGroup is one group of a rule file or of a PrometheusRule's spec.
type ruleGroup struct {
	Name  string           `yaml:"name"`
	Rules []map[string]any `yaml:"rules"`
}

type prometheusRule struct {
	Metadata meta `yaml:"metadata"`
	Spec     struct {
		Groups []ruleGroup `yaml:"groups"`
	} `yaml:"spec"`
}

// dataObject is a ConfigMap's data or a Secret's stringData.
type dataObject struct {
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
}

// rendered is one rendering of the chart, split by kind.
type rendered struct {
	objects         []object
	statefulSets    []statefulSet
	services        []service
	serviceMonitors []serviceMonitor
	prometheusRules []prometheusRule
	// files holds the files of every ConfigMap and Secret, by object name.
	files map[string]map[string]string
}

func parse(t *testing.T, manifests []byte) rendered {
	t.Helper()
	r := rendered{files: map[string]map[string]string{}}
	dec := yaml.NewDecoder(bytes.NewReader(manifests))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered manifests: %v", err)
		}
		if len(n.Content) == 0 {
			continue // an empty document
		}
		var o object
		decode(t, &n, &o)
		o.node = &n
		r.objects = append(r.objects, o)
		switch o.Kind {
		case "StatefulSet":
			var s statefulSet
			decode(t, &n, &s)
			r.statefulSets = append(r.statefulSets, s)
		case "Service":
			var s service
			decode(t, &n, &s)
			r.services = append(r.services, s)
		case "ServiceMonitor":
			var s serviceMonitor
			decode(t, &n, &s)
			r.serviceMonitors = append(r.serviceMonitors, s)
		case "PrometheusRule":
			var p prometheusRule
			decode(t, &n, &p)
			r.prometheusRules = append(r.prometheusRules, p)
		case "ConfigMap", "Secret":
			var d dataObject
			decode(t, &n, &d)
			files := d.Data
			if files == nil {
				files = d.StringData
			}
			r.files[o.Metadata.Name] = files
		}
	}
	return r
}

func decode(t *testing.T, n *yaml.Node, v any) {
	t.Helper()
	if err := n.Decode(v); err != nil {
		t.Fatalf("rendered manifests: decoding into %T: %v", v, err)
	}
}

func (r rendered) kinds() []string {
	var ks []string
	for _, o := range r.objects {
		ks = append(ks, o.Kind)
	}
	slices.Sort(ks)
	return slices.Compact(ks)
}

// flag returns the value of --name=value in args and how often it is given.
func flag(args []string, name string) (string, int) {
	var v string
	n := 0
	for _, a := range args {
		if after, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			v = after
			n++
		}
	}
	return v, n
}

// subset reports whether every label of want is in have with the same value.
func subset(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return len(want) > 0
}

// The value sets make helm-test renders, and what each must produce.
var cases = []struct {
	name  string
	flags []string
	// Kinds rendered, sorted.
	kinds []string
	// The --location of each StatefulSet ("" for none), in order.
	locations []string
	// Pods per StatefulSet; with shards above 1 there is one per shard.
	replicas, shards int
	// The ConfigMap the config volume names; rendered is false for one the
	// user manages.
	configMap         string
	configMapRendered bool
	persistent        bool
	// Whether --deploy.token-file and --web.config.file are set.
	tokens, webConfig bool
}{
	{
		name:              "defaults",
		kinds:             []string{"ConfigMap", "Service", "ServiceAccount", "StatefulSet"},
		locations:         []string{""},
		replicas:          1,
		shards:            1,
		configMap:         "probe-http5xx-exporter",
		configMapRendered: true,
	},
	{
		name:              "everything on",
		flags:             []string{"-f", "testdata/all.yaml"},
		kinds:             []string{"ConfigMap", "PrometheusRule", "Secret", "Service", "ServiceAccount", "ServiceMonitor", "StatefulSet"},
		locations:         []string{"eu-west", "us-east"},
		replicas:          3,
		shards:            3,
		configMap:         "probe-http5xx-exporter",
		configMapRendered: true,
		persistent:        true,
		tokens:            true,
		webConfig:         true,
	},
	{
		name:      "existing objects",
		flags:     []string{"-f", "testdata/existing.yaml", "--set", "locations={eu-west}"},
		kinds:     []string{"Service", "StatefulSet"},
		locations: []string{"eu-west"},
		replicas:  2,
		configMap: "my-http5xx-config",
		tokens:    true,
		webConfig: true,
	},
}

// TestChart renders each value set and checks the manifests hang together:
// the workloads per location, their security, the config the args name, the
// Service, the ServiceMonitor and the deploy log's volume. The exporter
// itself checks the rendered config and accepts the rendered args.
func TestChart(t *testing.T) {
	exporter := tool(t, "http5xx_exporter")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := helmTemplate(t, tc.flags...)
			if err != nil {
				t.Fatal(err)
			}
			r := parse(t, out)

			if got := r.kinds(); !slices.Equal(got, tc.kinds) {
				t.Errorf("kinds rendered: got %v, want %v", got, tc.kinds)
			}
			seen := map[string]bool{}
			for _, o := range r.objects {
				if id := o.Kind + "/" + o.Metadata.Name; seen[id] {
					t.Errorf("%s is rendered twice", id)
				} else {
					seen[id] = true
				}
				if o.Metadata.Namespace != "monitoring" {
					t.Errorf("%s/%s: namespace %q, want the release's", o.Kind, o.Metadata.Name, o.Metadata.Namespace)
				}
			}

			if len(r.services) != 1 {
				t.Fatalf("%d Services, want 1", len(r.services))
			}
			svc := r.services[0]

			var locations []string
			for _, s := range r.statefulSets {
				name := s.Metadata.Name
				pod := s.Spec.Template.Spec
				if len(pod.Containers) != 1 {
					t.Fatalf("%s: %d containers, want the exporter alone", name, len(pod.Containers))
				}
				c := pod.Containers[0]
				loc, n := flag(c.Args, "location")
				if n > 1 {
					t.Errorf("%s: --location given %d times", name, n)
				}
				locations = append(locations, loc)
				if want := "probe-http5xx-exporter"; loc != "" {
					want += "-" + loc
					if name != want {
						t.Errorf("StatefulSet of location %s is named %s, want %s", loc, name, want)
					}
				}
				if s.Spec.Replicas != tc.replicas {
					t.Errorf("%s: %d replicas, want %d", name, s.Spec.Replicas, tc.replicas)
				}
				if s.Spec.ServiceName != svc.Metadata.Name {
					t.Errorf("%s: serviceName %q, want the Service %q", name, s.Spec.ServiceName, svc.Metadata.Name)
				}
				labels := s.Spec.Template.Metadata.Labels
				if !subset(s.Spec.Selector.MatchLabels, labels) {
					t.Errorf("%s: selector %v does not select its pods %v", name, s.Spec.Selector.MatchLabels, labels)
				}
				if !subset(svc.Spec.Selector, labels) {
					t.Errorf("%s: the Service's selector %v does not select its pods %v", name, svc.Spec.Selector, labels)
				}
				for _, other := range r.statefulSets {
					if other.Metadata.Name != name && subset(other.Spec.Selector.MatchLabels, labels) {
						t.Errorf("the pods of %s are also selected by %s", name, other.Metadata.Name)
					}
				}

				for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
					checkSecurity(t, name+"/"+c.Name, pod.SecurityContext, c.SecurityContext)
				}
				checkVolumes(t, name, tc.configMap, tc.persistent, c, pod.Volumes, len(s.Spec.VolumeClaimTemplates) > 0)
				if _, n := flag(c.Args, "deploy.token-file"); (n == 1) != tc.tokens {
					t.Errorf("%s: --deploy.token-file given %d times, want it: %v", name, n, tc.tokens)
				}
				if _, n := flag(c.Args, "web.config.file"); (n == 1) != tc.webConfig {
					t.Errorf("%s: --web.config.file given %d times, want it: %v", name, n, tc.webConfig)
				}
				if len(c.Ports) != 1 || !slices.ContainsFunc(svc.Spec.Ports, func(p servicePort) bool {
					return p.TargetPort == c.Ports[0].Name
				}) {
					t.Errorf("%s: the Service's ports %+v do not target the container's port %+v", name, svc.Spec.Ports, c.Ports)
				}
				if listen, _ := flag(c.Args, "web.listen-address"); len(c.Ports) != 1 || listen != fmt.Sprintf(":%d", c.Ports[0].ContainerPort) {
					t.Errorf("%s: --web.listen-address=%s is not the container's port %+v", name, listen, c.Ports)
				}
				checkShards(t, name, tc.shards, c)
				if tc.configMapRendered {
					checkWithExporter(t, exporter, s, r.files)
				}
			}
			if !slices.Equal(locations, tc.locations) {
				t.Errorf("locations: got %q, want %q", locations, tc.locations)
			}

			if _, ok := r.files[tc.configMap]; ok != tc.configMapRendered {
				t.Errorf("ConfigMap %s rendered: %v, want %v", tc.configMap, ok, tc.configMapRendered)
			}

			for _, sm := range r.serviceMonitors {
				if !subset(sm.Spec.Selector.MatchLabels, svc.Metadata.Labels) {
					t.Errorf("ServiceMonitor selects %v, the Service's labels are %v", sm.Spec.Selector.MatchLabels, svc.Metadata.Labels)
				}
				for _, e := range sm.Spec.Endpoints {
					if !slices.ContainsFunc(svc.Spec.Ports, func(p servicePort) bool {
						return p.Name == e.Port
					}) {
						t.Errorf("ServiceMonitor endpoint port %q is not a port name of the Service %+v", e.Port, svc.Spec.Ports)
					}
				}
				if sm.Metadata.Labels["release"] != "prometheus" {
					t.Errorf("ServiceMonitor labels %v lack additionalLabels", sm.Metadata.Labels)
				}
			}
		})
	}
}

// checkShards: above one shard, the pod's name gives --shard.index; with
// one, no shard flag is set.
func checkShards(t *testing.T, name string, shards int, c container) {
	t.Helper()
	count, n := flag(c.Args, "shard.count")
	index, m := flag(c.Args, "shard.index")
	if shards <= 1 {
		if n+m > 0 {
			t.Errorf("%s: unsharded, yet args %q", name, c.Args)
		}
		return
	}
	if n != 1 || count != fmt.Sprint(shards) || m != 1 || index != "$(POD_NAME)" {
		t.Errorf("%s: --shard.count=%s (%d times), --shard.index=%s (%d times); want %d and $(POD_NAME) once", name, count, n, index, m, shards)
	}
	if !slices.ContainsFunc(c.Env, func(e envVar) bool {
		return e.Name == "POD_NAME" && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
	}) {
		t.Errorf("%s: no POD_NAME from metadata.name in env %+v", name, c.Env)
	}
}

// checkSecurity: the container runs as a non-root user, on a read-only root
// filesystem, without privilege escalation or capabilities.
func checkSecurity(t *testing.T, name string, pod, c *securityContext) {
	t.Helper()
	if pod == nil {
		pod = &securityContext{}
	}
	if c == nil {
		c = &securityContext{}
	}
	nonRoot, user := c.RunAsNonRoot, c.RunAsUser
	if nonRoot == nil {
		nonRoot = pod.RunAsNonRoot
	}
	if user == nil {
		user = pod.RunAsUser
	}
	if nonRoot == nil || !*nonRoot {
		t.Errorf("%s: runAsNonRoot is not true", name)
	}
	if user == nil || *user == 0 {
		t.Errorf("%s: runAsUser is not a non-zero uid", name)
	}
	if c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem is not true", name)
	}
	if c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation is not false", name)
	}
	if !slices.Equal(c.Capabilities.Drop, []string{"ALL"}) {
		t.Errorf("%s: capabilities dropped %v, want [ALL]", name, c.Capabilities.Drop)
	}
}

// mountOf returns the volume mounted at the directory of path.
func mountOf(c container, volumes []volume, path string) (volume, bool) {
	for _, m := range c.VolumeMounts {
		if filepath.Clean(m.MountPath) == filepath.Dir(path) || filepath.Clean(m.MountPath) == filepath.Clean(path) {
			for _, v := range volumes {
				if v.Name == m.Name {
					return v, true
				}
			}
		}
	}
	return volume{}, false
}

// checkVolumes: --config.file is a key of the expected ConfigMap, mounted;
// --storage.path is on a volume, a claim with persistence.
func checkVolumes(t *testing.T, name, configMap string, persistent bool, c container, volumes []volume, claims bool) {
	t.Helper()
	cfg, n := flag(c.Args, "config.file")
	if n != 1 {
		t.Fatalf("%s: --config.file given %d times in %q", name, n, c.Args)
	}
	v, ok := mountOf(c, volumes, cfg)
	if !ok || v.ConfigMap == nil || v.ConfigMap.Name != configMap {
		t.Errorf("%s: --config.file=%s is not on the ConfigMap %s (volume %+v)", name, cfg, configMap, v)
	}

	storage, n := flag(c.Args, "storage.path")
	if n != 1 {
		t.Fatalf("%s: --storage.path given %d times", name, n)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if filepath.Clean(m.MountPath) != filepath.Clean(storage) {
			continue
		}
		mounted = true
		var inPod *volume
		for i := range volumes {
			if volumes[i].Name == m.Name {
				inPod = &volumes[i]
			}
		}
		switch {
		case persistent && (inPod != nil || !claims):
			t.Errorf("%s: the deploy log's volume %q is not the persistent claim", name, m.Name)
		case !persistent && (inPod == nil || inPod.EmptyDir == nil || claims):
			t.Errorf("%s: without persistence the deploy log's volume %q should be an emptyDir", name, m.Name)
		}
	}
	if !mounted {
		t.Errorf("%s: --storage.path=%s is not a volume (the root filesystem is read-only)", name, storage)
	}
}

// podFiles writes the files of the ConfigMaps and Secrets the container
// mounts into a directory per volume, as the kubelet would, and returns the
// container's args with the mount paths moved there and $(POD_NAME) expanded
// to the name of the StatefulSet's last pod.
func podFiles(t *testing.T, s statefulSet, files map[string]map[string]string) (args []string, dirs map[string]string) {
	t.Helper()
	pod := s.Spec.Template.Spec
	c := pod.Containers[0]
	root := t.TempDir()
	args = slices.Clone(c.Args)
	dirs = map[string]string{}
	for _, m := range c.VolumeMounts {
		dir := filepath.Join(root, m.Name)
		dirs[m.MountPath] = dir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, v := range pod.Volumes {
			var object string
			switch {
			case v.Name != m.Name:
			case v.ConfigMap != nil:
				object = v.ConfigMap.Name
			case v.Secret != nil:
				object = v.Secret.SecretName
			}
			for file, content := range files[object] {
				if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i, a := range args {
			if flagName, path, ok := strings.Cut(a, "="); ok && (path == m.MountPath || strings.HasPrefix(path, m.MountPath+"/")) {
				args[i] = flagName + "=" + dir + strings.TrimPrefix(path, m.MountPath)
			}
		}
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "$(POD_NAME)", fmt.Sprintf("%s-%d", s.Metadata.Name, s.Spec.Replicas-1))
	}
	return args, dirs
}

// checkWithExporter runs the exporter on the pod's files: `config check` on
// the config, and the container's own args with --config.check (kingpin
// refuses a flag the exporter does not have).
func checkWithExporter(t *testing.T, exporter string, s statefulSet, files map[string]map[string]string) {
	t.Helper()
	args, _ := podFiles(t, s, files)
	cfg, _ := flag(args, "config.file")
	for _, run := range [][]string{
		{"config", "check", cfg},
		append(args, "--config.check"),
	} {
		out, err := exec.Command(exporter, run...).CombinedOutput()
		if err != nil {
			t.Errorf("%s: http5xx_exporter %q: %v\n%s", s.Metadata.Name, run, err, out)
		} else if !regexp.MustCompile(`OK, [1-9][0-9]* targets`).Match(out) {
			t.Errorf("%s: http5xx_exporter %q: %s", s.Metadata.Name, run, out)
		}
	}
}

// TestBadValues: values the chart refuses (values.schema.json or its
// templates), with a message that names them.
func TestBadValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"location twice", []string{"--set", "locations={eu,eu}"}, `locations: name "eu" is listed twice`},
		{"location not a DNS label", []string{"--set", "locations={EU_West}"}, `locations: name "EU_West" must be a DNS label`},
		{"location without a name", []string{"--set", "locations[0].nodeSelector.zone=a"}, `at '/locations/0': 'anyOf' failed`},
		{"location with an empty name", []string{"--set-json", `locations=[{"name":""}]`}, `locations: name "" must be a DNS label`},
		{"shards and replicas", []string{"--set", "shards=2", "--set", "replicas=2"}, "shards and replicas cannot both be above 1"},
		{"no shard", []string{"--set", "shards=0"}, "at '/shards': minimum: got 0, want 1"},
		{"misspelt switch", []string{"--set", "serviceMonitor.enable=true"}, "at '/serviceMonitor': additional properties 'enable' not allowed"},
		{"replicas not a number", []string{"--set-string", "replicas=2"}, "at '/replicas': got string, want integer"},
		{"name too long", []string{"--set", "locations={" + strings.Repeat("a", 40) + "}"}, "is longer than 52 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helmTemplate(t, tc.flags...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template %v: got error %v, want one containing %q", tc.flags, err, tc.want)
			}
		})
	}
}

// TestPrometheusRuleIsThePack: the PrometheusRule's groups are the shipped
// rule files' groups, rule for rule, and its alerts those of
// rules/http5xx-alerts.yml.
func TestPrometheusRuleIsThePack(t *testing.T) {
	out, err := helmTemplate(t, "--set", "prometheusRule.enabled=true")
	if err != nil {
		t.Fatal(err)
	}
	r := parse(t, out)
	if len(r.prometheusRules) != 1 {
		t.Fatalf("%d PrometheusRules rendered, want 1", len(r.prometheusRules))
	}
	got := map[string]ruleGroup{}
	for _, g := range r.prometheusRules[0].Spec.Groups {
		got[g.Name] = g
	}

	files, err := filepath.Glob("../../rules/http5xx-*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files: %v", err)
	}
	want := map[string]ruleGroup{}
	var wantAlerts []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var file struct {
			Groups []ruleGroup `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &file); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range file.Groups {
			want[g.Name] = g
			if filepath.Base(f) == "http5xx-alerts.yml" {
				for _, rule := range g.Rules {
					if a, ok := rule["alert"].(string); ok {
						wantAlerts = append(wantAlerts, a)
					}
				}
			}
		}
	}
	if len(wantAlerts) == 0 {
		t.Fatal("rules/http5xx-alerts.yml has no alerts")
	}

	var gotAlerts []string
	for _, g := range got {
		for _, rule := range g.Rules {
			if a, ok := rule["alert"].(string); ok {
				gotAlerts = append(gotAlerts, a)
			}
		}
	}
	slices.Sort(gotAlerts)
	slices.Sort(wantAlerts)
	if !slices.Equal(gotAlerts, wantAlerts) {
		t.Errorf("alerts: the chart has %q, rules/http5xx-alerts.yml %q: run make helm-generate", gotAlerts, wantAlerts)
	}
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Errorf("groups: the chart has %q, rules/ %q: run make helm-generate", g, w)
	}
	for name, w := range want {
		if g := got[name]; !reflect.DeepEqual(g, w) {
			t.Errorf("group %s differs from rules/: run make helm-generate\nchart: %v\nrules: %v", name, g, w)
		}
	}
}

// TestAgreesWithKubernetesManifest: with the default values the chart runs
// what examples/kubernetes/exporter.yaml runs, and names the image make image
// builds: image, port, probes, config and storage paths, security, the
// config itself, and the job label the rule pack expects.
func TestAgreesWithKubernetesManifest(t *testing.T) {
	b, err := os.ReadFile("../kubernetes/exporter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	manifest := parse(t, b)
	out, err := helmTemplate(t, "--set", "serviceMonitor.enabled=true")
	if err != nil {
		t.Fatal(err)
	}
	chart := parse(t, out)
	if len(manifest.statefulSets) != 1 || len(chart.statefulSets) != 1 {
		t.Fatalf("StatefulSets: %d in the manifest, %d in the chart, want 1 each", len(manifest.statefulSets), len(chart.statefulSets))
	}
	m, c := manifest.statefulSets[0].Spec.Template.Spec, chart.statefulSets[0].Spec.Template.Spec
	mc, cc := m.Containers[0], c.Containers[0]

	mk, err := os.ReadFile("../container/container.mk")
	if err != nil {
		t.Fatal(err)
	}
	image := regexp.MustCompile(`(?m)^IMAGE_NAME\s*\?=\s*(\S+)$`).FindSubmatch(mk)
	if image == nil {
		t.Fatal("examples/container/container.mk sets no IMAGE_NAME")
	}
	if repo, _, _ := strings.Cut(cc.Image, ":"); repo != string(image[1]) {
		t.Errorf("the chart's image %s is not the one make image builds, %s", cc.Image, image[1])
	}

	for _, tc := range []struct {
		what           string
		chart, example any
	}{
		{"image", cc.Image, mc.Image},
		{"ports", cc.Ports, mc.Ports},
		{"readiness probe", cc.ReadinessProbe, mc.ReadinessProbe},
		{"liveness probe", cc.LivenessProbe, mc.LivenessProbe},
		{"container security", cc.SecurityContext, mc.SecurityContext},
		{"pod user", *c.SecurityContext.RunAsUser, *m.SecurityContext.RunAsUser},
		{"service ports", chart.services[0].Spec.Ports, manifest.services[0].Spec.Ports},
		{"job label", chart.serviceMonitors[0].Spec.Endpoints[0].Relabelings, manifest.serviceMonitors[0].Spec.Endpoints[0].Relabelings},
	} {
		if !reflect.DeepEqual(tc.chart, tc.example) {
			t.Errorf("%s: the chart has %+v, examples/kubernetes/exporter.yaml %+v", tc.what, tc.chart, tc.example)
		}
	}
	for _, f := range []string{"config.file", "storage.path", "web.listen-address"} {
		cv, _ := flag(cc.Args, f)
		mv, _ := flag(mc.Args, f)
		if cv != mv {
			t.Errorf("--%s: the chart has %q, examples/kubernetes/exporter.yaml %q", f, cv, mv)
		}
	}

	// The same configuration, compared as data.
	var cfgs [2]any
	for i, files := range []map[string]string{chart.files["probe-http5xx-exporter"], manifest.files["http5xx-exporter"]} {
		if err := yaml.Unmarshal([]byte(files["http5xx.yml"]), &cfgs[i]); err != nil || cfgs[i] == nil {
			t.Fatalf("http5xx.yml of the %s: %v (%q)", []string{"chart", "manifest"}[i], err, files["http5xx.yml"])
		}
	}
	if !reflect.DeepEqual(cfgs[0], cfgs[1]) {
		t.Errorf("the chart's default config differs from examples/kubernetes/exporter.yaml's:\nchart:    %v\nmanifest: %v", cfgs[0], cfgs[1])
	}
}

// TestPodRuns starts the exporter the way the rendered pod would (every
// switch on: a location, the last shard of three, deploy tokens, a web config,
// the deploy log on its volume) against loopback targets, then uses it as
// Kubernetes and a pipeline would: the readiness and liveness probes' paths
// on the container's port, /metrics with the pod's location and shard, and a
// deploy POST with a token from the rendered Secret, stored under the deploy
// log's mount.
func TestPodRuns(t *testing.T) {
	exporter := tool(t, "http5xx_exporter")
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer origin.Close()
	// Twelve targets, so that the last of three shards probes some: the
	// rendezvous hash is fixed, so which ones is too.
	var targets []map[string]string
	for i := range 12 {
		targets = append(targets, map[string]string{"name": fmt.Sprintf("t%d", i), "url": origin.URL + "/"})
	}
	config := fmt.Sprintf(`config={"global":{"interval":"1s","timeout":"1s"},"targets":%s}`, jsonOf(t, targets))
	out, err := helmTemplate(t, "-f", "testdata/all.yaml", "--set-json", config)
	if err != nil {
		t.Fatal(err)
	}
	r := parse(t, out)
	if len(r.statefulSets) == 0 {
		t.Fatal("no StatefulSet rendered")
	}
	s := r.statefulSets[0]
	c := s.Spec.Template.Spec.Containers[0]
	args, dirs := podFiles(t, s, r.files)
	location, _ := flag(args, "location")
	storage, _ := flag(c.Args, "storage.path")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the exporter binds it next; if another process took it, the start fails loudly
	for i, a := range args {
		if strings.HasPrefix(a, "--web.listen-address=") {
			args[i] = "--web.listen-address=" + addr
		}
	}

	var logs bytes.Buffer
	cmd := exec.Command(exporter, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	base := "http://" + addr
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// until polls path until ok accepts its answer, the exporter exits, or a
	// generous deadline passes (the machine is shared and loaded).
	until := func(what, path string, ok func(int, string) bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			code, body := get(path)
			if ok(code, body) {
				return
			}
			select {
			case err := <-exited:
				exited <- err
				t.Fatalf("the exporter exited (%v) before %s; args %q:\n%s", err, what, args, logs.String())
			case <-ctx.Done():
				if len(body) > 2000 {
					body = body[len(body)-2000:]
				}
				t.Fatalf("%s: %s answers %d after 2m, ending with %q", what, path, code, body)
			case <-tick.C:
			}
		}
	}
	for _, p := range []httpProbe{c.ReadinessProbe, c.LivenessProbe} {
		if p.HTTPGet.Port != c.Ports[0].Name {
			t.Errorf("probe %s on port %q, not the container's %q", p.HTTPGet.Path, p.HTTPGet.Port, c.Ports[0].Name)
		}
		until("the probe "+p.HTTPGet.Path, p.HTTPGet.Path, func(code int, _ string) bool { return code == http.StatusOK })
	}
	loc := `location="` + regexp.QuoteMeta(location) + `"`
	shard := regexp.MustCompile(fmt.Sprintf(`(?m)^http5xx_shard_info\{%s,shard="%d",shards="3"\} 1$`, loc, s.Spec.Replicas-1))
	probed := regexp.MustCompile(`(?m)^http5xx_probes_total\{` + loc + `,[^}]*\} [1-9]`)
	until("a probe from the pod's location and shard", "/metrics", func(code int, body string) bool {
		return code == http.StatusOK && shard.MatchString(body) && probed.MatchString(body)
	})

	tokens := strings.Fields(r.files["probe-http5xx-exporter-deploy-tokens"]["tokens"])
	if len(tokens) == 0 {
		t.Fatal("no deploy token rendered")
	}
	for _, tc := range []struct {
		token string
		want  int
	}{
		{"", http.StatusUnauthorized},
		{"not-a-token", http.StatusUnauthorized},
		{tokens[len(tokens)-1], http.StatusCreated},
	} {
		req, err := http.NewRequest(http.MethodPost, base+"/api/v1/deploys", strings.NewReader(`{"service":"t0","version":"1.2.3"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("deploy POST with token %q: %d %s, want %d", tc.token, resp.StatusCode, b, tc.want)
		}
	}
	entries, err := os.ReadDir(dirs[storage])
	if err != nil || len(entries) == 0 {
		t.Errorf("nothing under the deploy log's mount %s (%v)", storage, err)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
