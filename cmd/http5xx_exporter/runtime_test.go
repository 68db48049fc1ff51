package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRuntimeSettings(t *testing.T) {
	const noCall = -1
	cases := []struct {
		name    string
		env     map[string]string
		self    string            // /proc/self/cgroup; "0::/" when empty
		files   map[string]string // under the cgroup root
		gogc    int
		auto    bool
		ratio   float64
		wantGC  int   // noCall: SetGCPercent not called
		wantMem int64 // noCall: SetMemoryLimit not called
		wantLog string
		wantErr string
	}{
		{name: "defaults outside a container", gogc: 50, auto: true, ratio: 0.9, wantGC: 50, wantMem: noCall},
		{name: "GOGC in the environment wins", env: map[string]string{"GOGC": "200"}, gogc: 50, auto: true, ratio: 0.9,
			wantGC: noCall, wantMem: noCall, wantLog: "GOGC is set in the environment"},
		{name: "gogc 0 keeps Go's default", gogc: 0, auto: true, ratio: 0.9, wantGC: noCall, wantMem: noCall},
		{name: "cgroup v2 limit", files: map[string]string{"memory.max": "1073741824\n"}, gogc: 50, auto: true, ratio: 0.9,
			wantGC: 50, wantMem: 966367641, wantLog: "GOMEMLIMIT set from the container's memory limit"},
		{name: "cgroup v2 unlimited", files: map[string]string{"memory.max": "max\n"}, gogc: 50, auto: true, ratio: 0.9,
			wantGC: 50, wantMem: noCall},
		{name: "cgroup v1 limit", self: "4:memory:/\n0::/\n", files: map[string]string{"memory/memory.limit_in_bytes": "536870912\n"}, gogc: 50, auto: true, ratio: 0.5,
			wantGC: 50, wantMem: 268435456},
		{name: "cgroup v1 unlimited", self: "4:memory:/\n", files: map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712\n"}, gogc: 50, auto: true, ratio: 0.9,
			wantGC: 50, wantMem: noCall},
		{name: "cgroup v2 systemd unit: its own group's limit", self: "0::/system.slice/http5xx_exporter.service\n",
			files: map[string]string{"system.slice/http5xx_exporter.service/memory.max": "1000000\n", "system.slice/memory.max": "max\n"},
			gogc:  50, auto: true, ratio: 0.5, wantGC: 50, wantMem: 500000},
		{name: "cgroup v2: a parent's smaller limit wins", self: "0::/a/b\n",
			files: map[string]string{"a/b/memory.max": "1000000\n", "a/memory.max": "600000\n", "memory.max": "max\n"},
			gogc:  50, auto: true, ratio: 0.5, wantGC: 50, wantMem: 300000},
		{name: "cgroup v1 hybrid host: the memory controller's group", self: "4:cpu,memory:/process_api/abc\n1:cpu:/\n0::/\n",
			files: map[string]string{"memory/process_api/abc/memory.limit_in_bytes": "2000000\n", "memory/memory.limit_in_bytes": "9223372036854771712\n"},
			gogc:  50, auto: true, ratio: 0.5, wantGC: 50, wantMem: 1000000},
		{name: "cgroup v1 container: its group at the mount's root", self: "4:memory:/docker/abc\n",
			files: map[string]string{"memory/memory.limit_in_bytes": "4000000\n"},
			gogc:  50, auto: true, ratio: 0.5, wantGC: 50, wantMem: 2000000},
		{name: "GOMEMLIMIT in the environment wins", env: map[string]string{"GOMEMLIMIT": "2GiB"}, files: map[string]string{"memory.max": "1073741824"},
			gogc: 50, auto: true, ratio: 0.9, wantGC: 50, wantMem: noCall, wantLog: "GOMEMLIMIT is set in the environment"},
		{name: "auto off", files: map[string]string{"memory.max": "1073741824"}, gogc: 50, auto: false, ratio: 0.9, wantGC: 50, wantMem: noCall},
		{name: "garbage in memory.max", files: map[string]string{"memory.max": "lots"}, gogc: 50, auto: true, ratio: 0.9, wantGC: 50, wantMem: noCall},
		{name: "ratio above 1", gogc: 50, auto: true, ratio: 1.5, wantGC: noCall, wantMem: noCall, wantErr: "--auto-gomemlimit.ratio must be in (0, 1]"},
		{name: "negative gogc", gogc: -1, auto: true, ratio: 0.9, wantGC: noCall, wantMem: noCall, wantErr: "--runtime.gogc must be 0 or more"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range tc.files {
				path := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			self := filepath.Join(t.TempDir(), "cgroup")
			if tc.self == "" {
				tc.self = "0::/\n"
			}
			if err := os.WriteFile(self, []byte(tc.self), 0o644); err != nil {
				t.Fatal(err)
			}
			gotGC, gotMem := noCall, int64(noCall)
			r := runtimeSettings{
				gogc: tc.gogc, autoMemLimit: tc.auto, memLimitRatio: tc.ratio, cgroupRoot: root, selfCgroup: self,
				getenv:         func(k string) string { return tc.env[k] },
				setGCPercent:   func(v int) int { gotGC = v; return 100 },
				setMemoryLimit: func(v int64) int64 { gotMem = v; return 0 },
			}
			var log bytes.Buffer
			err := r.apply(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if gotGC != tc.wantGC || gotMem != tc.wantMem {
				t.Errorf("SetGCPercent(%d) SetMemoryLimit(%d), want %d and %d", gotGC, gotMem, tc.wantGC, tc.wantMem)
			}
			if !strings.Contains(log.String(), tc.wantLog) {
				t.Errorf("log %q lacks %q", log.String(), tc.wantLog)
			}
		})
	}
}
