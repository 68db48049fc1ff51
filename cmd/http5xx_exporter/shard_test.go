package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestShardsSplitTheTargets: two exporters on the same configuration, one
// given its index as a StatefulSet pod name, probe disjoint sets of targets
// that together are all of them, and say so in /metrics and the status API.
func TestShardsSplitTheTargets(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer origin.Close()
	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("t%02d", i))
	}
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, targetsYAML(origin.URL, names...))

	info := regexp.MustCompile(`(?m)^http5xx_target_info\{.*target="([^"]+)".*\} 1$`)
	owner := map[string]int{}
	for i, index := range []string{"0", "http5xx-1"} {
		e := startExporter(t, "--config.file="+cfg, "--config.watch-interval=0", "--shard.count=2", "--shard.index="+index)
		if v := e.metric(fmt.Sprintf(`http5xx_shard_info{shard="%d",shards="2"}`, i)); v != 1 {
			t.Errorf("shard %s: http5xx_shard_info = %v, want 1", index, v)
		}
		if v := e.metric("http5xx_configured_targets"); v != 20 {
			t.Errorf("shard %s: http5xx_configured_targets = %v, want 20", index, v)
		}
		_, body := e.get("/metrics")
		kept := 0
		for _, m := range info.FindAllStringSubmatch(body, -1) {
			if prev, dup := owner[m[1]]; dup {
				t.Errorf("%s is probed by shards %d and %d", m[1], prev, i)
			}
			owner[m[1]] = i
			kept++
		}
		var st struct {
			Data struct {
				Shard struct {
					Index   int `json:"index"`
					Count   int `json:"count"`
					Skipped int `json:"skipped_targets"`
				} `json:"shard"`
			} `json:"data"`
		}
		_, doc := e.get("/api/v1/status")
		if err := json.Unmarshal([]byte(doc), &st); err != nil {
			t.Fatal(err)
		}
		if s := st.Data.Shard; s.Index != i || s.Count != 2 || s.Skipped != 20-kept {
			t.Errorf("shard %s: status API says %+v, want index %d of 2, %d skipped", index, s, i, 20-kept)
		}
		if kept == 0 || kept == 20 {
			t.Errorf("shard %s keeps %d of 20 targets", index, kept)
		}
	}
	if len(owner) != len(names) {
		t.Errorf("the shards probe %d of %d targets", len(owner), len(names))
	}
}

// TestBadShardFlagsFailAtStart: a shard that cannot exist stops the exporter
// before it probes anything, with a message naming the flag.
func TestBadShardFlagsFailAtStart(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, targetsYAML("http://127.0.0.1:1", "a"))
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--shard.count=0"}, "--shard.count must be between 1 and 1024, got 0"},
		{[]string{"--shard.count=3", "--shard.index=3"}, "--shard.index must be between 0 and --shard.count-1 (2), got 3"},
		{[]string{"--shard.count=3", "--shard.index=http5xx-7"}, "--shard.index must be between 0 and --shard.count-1 (2), got 7"},
		{[]string{"--shard.count=3", "--shard.index=http5xx"}, `is neither a number nor a pod name ending in -<ordinal>`},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		args := append([]string{"--config.file=" + cfg, "--web.listen-address=" + freeAddr(t), "--storage.path=" + t.TempDir()}, tt.args...)
		if code := run(context.Background(), args, &out, &out); code != 1 || !strings.Contains(out.String(), tt.msg) {
			t.Errorf("%v: exit %d, output %q; want exit 1 and %q", tt.args, code, out.String(), tt.msg)
		}
	}
}

// TestDiscoveryUpdateKeepsCounters: an http_sd answer that changes goes
// through the reload pipeline; the counters of unchanged targets survive,
// and a broken inventory keeps the targets.
func TestDiscoveryUpdateKeepsCounters(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer origin.Close()
	host := strings.TrimPrefix(origin.URL, "http://")
	var mu sync.Mutex
	answer := `[{"targets": ["` + host + `"], "labels": {"name": "alpha"}}]`
	inventory := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body := answer
		mu.Unlock()
		if body == "" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	defer inventory.Close()
	setAnswer := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		answer = s
	}

	cfg := filepath.Join(t.TempDir(), "http5xx.yml")
	writeConfig(t, cfg, fmt.Sprintf(`global:
  interval: 1s
  timeout: 500ms
http_sd_configs:
  - url: %s
    refresh_interval: 1s
relabel_configs:
  - source_labels: [name]
    target_label: service
`, inventory.URL))
	e := startExporter(t, "--config.file="+cfg, "--config.watch-interval=0")
	alpha := `http5xx_probes_total{service="alpha",target="alpha"}`
	e.waitFor("alpha to be probed twice", func() bool { return e.metric(alpha) >= 2 })

	setAnswer(`[{"targets": ["` + host + `"], "labels": {"name": "alpha"}}, {"targets": ["` + host + `"], "labels": {"name": "beta"}}]`)
	before := e.metric(alpha)
	e.waitFor("beta to be discovered and probed", func() bool {
		return e.metric(`http5xx_probes_total{service="beta",target="beta"}`) >= 1
	})
	if after := e.metric(alpha); after < before {
		t.Errorf("alpha's counter went from %v to %v across a discovery update", before, after)
	}
	if v := e.metric("http5xx_configured_targets"); v != 2 {
		t.Errorf("http5xx_configured_targets = %v, want 2", v)
	}

	setAnswer("")
	e.waitFor("a failed refresh to be counted", func() bool {
		return e.metric(`http5xx_sd_refresh_failures_total{mechanism="http"}`) >= 1
	})
	n := e.metric(`http5xx_probes_total{service="beta",target="beta"}`)
	e.waitFor("beta to keep being probed", func() bool {
		return e.metric(`http5xx_probes_total{service="beta",target="beta"}`) > n
	})
}
