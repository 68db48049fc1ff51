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
	"slices"
	"strconv"
	"strings"
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
	selfCgroup     string // "/proc/self/cgroup"
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
	limit, err := cgroupMemoryLimit(r.cgroupRoot, r.selfCgroup)
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

// cgroupMemoryLimit is the memory limit of the cgroup this process runs in,
// as /proc/self/cgroup (selfCgroup) names it under the cgroup mount root:
// the smallest of its group's and its ancestors' limits, cgroup v2's
// memory.max or v1's memory.limit_in_bytes. A group directory that does not
// exist (a container that sees only its own group at the root of the
// mount) is skipped, so the walk ends at the mount's root either way.
func cgroupMemoryLimit(root, selfCgroup string) (int64, error) {
	b, err := os.ReadFile(selfCgroup)
	if err != nil {
		return 0, err
	}
	var v2, v1 string
	haveV2, haveV1 := false, false
	for line := range strings.SplitSeq(string(b), "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		controllers, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		switch {
		case id == "0" && controllers == "":
			v2, haveV2 = path, true
		case slices.Contains(strings.Split(controllers, ","), "memory"):
			v1, haveV1 = path, true
		}
	}
	limit := int64(math.MaxInt64)
	walk := func(base, group, file string) error {
		for dir := filepath.Join(base, group); ; dir = filepath.Dir(dir) {
			n, err := readLimit(filepath.Join(dir, file))
			switch {
			case err == nil:
				limit = min(limit, n)
			case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNoLimit):
				return err
			}
			if len(dir) <= len(base) {
				return nil
			}
		}
	}
	switch {
	case haveV1: // a hybrid host mounts v1's memory controller; v2 there has none
		err = walk(filepath.Join(root, "memory"), v1, "memory.limit_in_bytes")
	case haveV2:
		err = walk(root, v2, "memory.max")
	default:
		return 0, errNoLimit
	}
	if err != nil {
		return 0, err
	}
	if limit == math.MaxInt64 {
		return 0, errNoLimit
	}
	return limit, nil
}

// readLimit reads one memory limit file: errNoLimit for "max" or v1's
// page-rounded MaxInt64.
func readLimit(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	v := string(bytes.TrimSpace(b))
	if v == "max" {
		return 0, errNoLimit
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if n <= 0 || n >= math.MaxInt64/2 {
		return 0, errNoLimit
	}
	return n, nil
}

func defaultRuntimeSettings() runtimeSettings {
	return runtimeSettings{
		cgroupRoot: "/sys/fs/cgroup", selfCgroup: "/proc/self/cgroup", getenv: os.Getenv,
		setGCPercent: debug.SetGCPercent, setMemoryLimit: debug.SetMemoryLimit,
	}
}
