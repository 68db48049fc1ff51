package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
)

// runtimeSettings are the Go runtime's memory settings the exporter
// chooses when the environment does not: GOGC and GOMEMLIMIT.
//
// GOGC: the exporter's live heap is almost all long-lived per-target state
// (records, status history), so Go's default of 100 doubles it in RSS for
// little gain; 50 keeps RSS at about 1.5× the live heap for a few percent
// of CPU, the trade Prometheus made in 2.53 for the same reason.
// GOMEMLIMIT: in a container with a memory limit, a soft limit of 90% of it
// makes the collector work harder before the kernel kills the process,
// as Prometheus' --auto-gomemlimit does.
type runtimeSettings struct {
	gogc           int
	autoMemLimit   bool
	memLimitRatio  float64
	cgroupRoot     string // "/sys/fs/cgroup"; tests point it elsewhere
	getenv         func(string) string
	setGCPercent   func(int) int
	setMemoryLimit func(int64) int64
}

// apply sets GOGC and GOMEMLIMIT unless their environment variables are
// set, and logs what it chose.
func (r runtimeSettings) apply(logger *slog.Logger) error {
	if r.memLimitRatio <= 0 || r.memLimitRatio > 1 {
		return fmt.Errorf("--auto-gomemlimit.ratio must be in (0, 1], got %v", r.memLimitRatio)
	}
	if r.gogc < 0 {
		return fmt.Errorf("--runtime.gogc must be 0 or more, got %d", r.gogc)
	}
	if v := r.getenv("GOGC"); v != "" {
		logger.Info("GOGC is set in the environment: --runtime.gogc is ignored", "GOGC", v)
	} else if r.gogc > 0 {
		r.setGCPercent(r.gogc)
	}
	if !r.autoMemLimit {
		return nil
	}
	if v := r.getenv("GOMEMLIMIT"); v != "" {
		logger.Info("GOMEMLIMIT is set in the environment: --auto-gomemlimit is ignored", "GOMEMLIMIT", v)
		return nil
	}
	limit, err := cgroupMemoryLimit(r.cgroupRoot)
	if err != nil {
		logger.Debug("no container memory limit found: GOMEMLIMIT stays unset", "err", err)
		return nil
	}
	soft := int64(float64(limit) * r.memLimitRatio)
	r.setMemoryLimit(soft)
	logger.Info("GOMEMLIMIT set from the container's memory limit", "limit_bytes", limit, "gomemlimit_bytes", soft)
	return nil
}

// errNoLimit says the cgroup sets no memory limit.
var errNoLimit = errors.New("no memory limit")

// cgroupMemoryLimit is the memory limit of the cgroup this process runs in:
// cgroup v2's memory.max, else v1's memory.limit_in_bytes. Reading
// /proc/self/cgroup would name the exact group; inside a container the
// root of the mount is the container's own group, which is the case that
// matters here.
func cgroupMemoryLimit(root string) (int64, error) {
	for _, name := range []string{"memory.max", filepath.Join("memory", "memory.limit_in_bytes")} {
		b, err := os.ReadFile(filepath.Join(root, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		v := string(bytes.TrimSpace(b))
		if v == "max" {
			return 0, errNoLimit
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		// cgroup v1 writes a page-rounded MaxInt64 when unlimited.
		if n <= 0 || n >= math.MaxInt64/2 {
			return 0, errNoLimit
		}
		return n, nil
	}
	return 0, errNoLimit
}

func defaultRuntimeSettings() runtimeSettings {
	return runtimeSettings{
		cgroupRoot: "/sys/fs/cgroup", getenv: os.Getenv,
		setGCPercent: debug.SetGCPercent, setMemoryLimit: debug.SetMemoryLimit,
	}
}
