package examples

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestKubernetesScale parses kubernetes/scale.yaml (no cluster needed) and
// checks that its objects fit together and fit the exporter: the replica
// sets are the same pods, one per shard, spread by anti-affinity; the
// Service is headless and selects them; the PodDisruptionBudget and the
// ServiceMonitor select them; the Prometheus pair's replica label is the one
// VictoriaMetrics drops; and the exporter accepts every pod's arguments.
func TestKubernetesScale(t *testing.T) {
	docs := readManifests(t, "kubernetes/scale.yaml")
	byKind := map[string][]obj{}
	for _, d := range docs {
		k, _ := d["kind"].(string)
		byKind[k] = append(byKind[k], d)
	}
	for kind, n := range map[string]int{"ConfigMap": 2, "Service": 1, "StatefulSet": 2, "PodDisruptionBudget": 1, "ServiceMonitor": 1, "Prometheus": 1} {
		if len(byKind[kind]) != n {
			t.Fatalf("kubernetes/scale.yaml: %d %s, want %d", len(byKind[kind]), kind, n)
		}
	}
	svc := byKind["Service"][0]
	if ip := str(svc, "spec", "clusterIP"); ip != "None" {
		t.Errorf("Service: clusterIP %q, want None (headless: every replica is scraped on its own)", ip)
	}

	// The replica sets: the same pod, one per shard, apart from their names.
	sets := byKind["StatefulSet"]
	bin := buildExporter(t)
	var templates []obj
	for _, s := range sets {
		name := str(s, "metadata", "name")
		labels := strMap(s, "spec", "template", "metadata", "labels")
		if sel := strMap(s, "spec", "selector", "matchLabels"); !subset(sel, labels) {
			t.Errorf("StatefulSet %s: selector %v does not match its pods %v", name, sel, labels)
		}
		if !subset(strMap(svc, "spec", "selector"), labels) {
			t.Errorf("StatefulSet %s: the Service does not select its pods %v", name, labels)
		}
		if got, want := str(s, "spec", "serviceName"), str(svc, "metadata", "name"); got != want {
			t.Errorf("StatefulSet %s: serviceName %q, want the headless Service %q", name, got, want)
		}
		pod := dig(s, "spec", "template", "spec").(obj)
		c := dig(pod, "containers").([]any)[0].(obj)
		args := strs(c["args"])
		replicas := fmt.Sprint(dig(s, "spec", "replicas"))
		if !slices.Contains(args, "--shard.count="+replicas) {
			t.Errorf("StatefulSet %s: %s replicas, one per shard, but args %v", name, replicas, args)
		}
		if !slices.Contains(args, "--shard.index=$(POD_NAME)") || !strings.Contains(fmt.Sprint(c["env"]), "fieldPath:metadata.name") {
			t.Errorf("StatefulSet %s: the shard index is not the pod name: args %v, env %v", name, args, c["env"])
		}
		anti := fmt.Sprint(dig(pod, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"))
		for _, want := range []string{"apps.kubernetes.io/pod-index", "kubernetes.io/hostname"} {
			if !strings.Contains(anti, want) {
				t.Errorf("StatefulSet %s: the required pod anti-affinity does not keep a shard's replicas (%s) apart: %s", name, want, anti)
			}
		}
		// Everything but the replica-set label is the same in both.
		tmpl := dig(s, "spec", "template").(obj)
		tmpl = cloneWithout(tmpl, "http5xx.io/replica-set")
		templates = append(templates, tmpl)
		checkPodArgs(t, bin, name, byKind["ConfigMap"], args, atoi(t, replicas))
	}
	if !reflect.DeepEqual(templates[0], templates[1]) {
		t.Errorf("the two StatefulSets run different pods:\n%v\n%v", templates[0], templates[1])
	}

	pdb := byKind["PodDisruptionBudget"][0]
	if got := fmt.Sprint(dig(pdb, "spec", "maxUnavailable")); got != "1" {
		t.Errorf("PodDisruptionBudget: maxUnavailable %s, want 1 (every shard keeps a replica)", got)
	}
	for _, s := range sets {
		if !subset(strMap(pdb, "spec", "selector", "matchLabels"), strMap(s, "spec", "template", "metadata", "labels")) {
			t.Errorf("PodDisruptionBudget: does not cover the pods of %s", str(s, "metadata", "name"))
		}
	}
	sm := byKind["ServiceMonitor"][0]
	if !subset(strMap(sm, "spec", "selector", "matchLabels"), strMap(svc, "metadata", "labels")) {
		t.Error("ServiceMonitor: does not select the Service")
	}
	if got := fmt.Sprint(dig(sm, "spec", "endpoints")); !strings.Contains(got, "replacement:http5xx") || !strings.Contains(got, "targetLabel:job") {
		t.Errorf("ServiceMonitor: does not set the job the rule pack's job_selector matches: %s", got)
	}

	prom := byKind["Prometheus"][0]
	if got := fmt.Sprint(dig(prom, "spec", "replicas")); got != "2" {
		t.Errorf("Prometheus: %s replicas, want an HA pair", got)
	}
	if dig(prom, "spec", "ruleSelector") != nil {
		t.Error("Prometheus: a location's pair evaluates no rules (vmalert does, on every location)")
	}
	if !subset(strMap(prom, "spec", "serviceMonitorSelector", "matchLabels"), strMap(sm, "metadata", "labels")) {
		t.Error("Prometheus: does not select the ServiceMonitor")
	}
	replicaLabel := str(prom, "spec", "replicaExternalLabelName")
	relabel, err := os.ReadFile("global/vm-relabel.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules []struct{ Action, Regex string }
	if err := yaml.Unmarshal(relabel, &rules); err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].Action != "labeldrop" || rules[0].Regex != replicaLabel {
		t.Errorf("global/vm-relabel.yml: %+v, want only a labeldrop of the pair's replica label %q", rules, replicaLabel)
	}
	for _, f := range []string{"global/prometheus-eu.yml", "global/prometheus-us.yml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(replicaLabel+": ${PROMETHEUS_REPLICA}")) {
			t.Errorf("%s: no external label %s that tells the pair apart", f, replicaLabel)
		}
	}
}

// checkPodArgs runs the exporter with the arguments of every pod of a
// replica set (its shard index from the pod name) on the ConfigMaps'
// configuration and inventory: kingpin refuses unknown flags, the exporter
// a bad shard index.
func checkPodArgs(t *testing.T, bin, set string, configMaps []obj, args []string, pods int) {
	t.Helper()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory")
	if err := os.Mkdir(inv, 0o755); err != nil {
		t.Fatal(err)
	}
	var config string
	for _, cm := range configMaps {
		for name, v := range strMap(cm, "data") {
			if name == "http5xx.yml" {
				config = v
				continue
			}
			if err := os.WriteFile(filepath.Join(inv, name), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !strings.Contains(config, "/etc/http5xx-inventory/") {
		t.Fatalf("the configuration does not read the inventory ConfigMap's mount:\n%s", config)
	}
	cfg := filepath.Join(dir, "http5xx.yml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(config, "/etc/http5xx-inventory/", inv+"/")), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range pods {
		pod := fmt.Sprintf("%s-%d", set, i)
		var run []string
		for _, a := range args {
			switch {
			case strings.HasPrefix(a, "--config.file="):
				a = "--config.file=" + cfg
			case strings.HasPrefix(a, "--storage.path="):
				a = "--storage.path=" + dir
			}
			run = append(run, strings.ReplaceAll(a, "$(POD_NAME)", pod))
		}
		out, err := exec.Command(bin, append(run, "--config.check")...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK, 2 targets from 1 files and 1 discovery config") {
			t.Errorf("pod %s: the exporter with %v: %v\n%s", pod, run, err, out)
		}
	}
}

type obj = map[string]any

func readManifests(t *testing.T, path string) []obj {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []obj
	for {
		var d obj
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

// dig walks nested mappings; nil when a key is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(obj)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, keys ...string) string {
	s, _ := dig(v, keys...).(string)
	return s
}

func strMap(v any, keys ...string) map[string]string {
	out := map[string]string{}
	m, _ := dig(v, keys...).(obj)
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

func strs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// subset reports whether every label of sel is in labels (and sel has one).
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// cloneWithout deep-copies v without the mapping key drop, wherever it is.
func cloneWithout(v obj, drop string) obj {
	out := obj{}
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if k == drop {
			continue
		}
		out[k] = cloneAny(v[k], drop)
	}
	return out
}

func cloneAny(v any, drop string) any {
	switch x := v.(type) {
	case obj:
		return cloneWithout(x, drop)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = cloneAny(x[i], drop)
		}
		return out
	}
	return v
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
		t.Fatalf("replicas %q: want a positive number", s)
	}
	return n
}
