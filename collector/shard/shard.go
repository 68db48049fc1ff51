// Package shard splits the targets between exporters without coordination.
// Every exporter of a location loads the same full target list and keeps
// the targets whose rendezvous (highest random weight) hash of the target
// name picks its shard. Going from N to N+1 shards moves only the targets
// the new shard wins, about 1/(N+1) of them; Prometheus' hashmod would move
// most of them. docs/architecture.md, "Sharding".
package shard

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// Shard is this exporter's part of the targets: Index of Count.
type Shard struct {
	Index int
	Count int
}

// MaxCount bounds --shard.count: owning a target costs one hash per shard.
const MaxCount = 1024

// New checks index and count: count in 1..MaxCount, index in 0..count-1.
func New(index, count int) (Shard, error) {
	if count < 1 || count > MaxCount {
		return Shard{}, fmt.Errorf("--shard.count must be between 1 and %d, got %d", MaxCount, count)
	}
	if index < 0 || index >= count {
		return Shard{}, fmt.Errorf("--shard.index must be between 0 and --shard.count-1 (%d), got %d", count-1, index)
	}
	return Shard{Index: index, Count: count}, nil
}

// ParseIndex reads --shard.index: a number, or a StatefulSet pod name whose
// ordinal follows the last dash (http5xx-2 is 2), so the flag can be given
// as --shard.index=$(POD_NAME).
func ParseIndex(s string) (int, error) {
	digits := s
	if i := strings.LastIndexByte(s, '-'); i > 0 && s[i-1] != '-' {
		digits = s[i+1:]
	}
	n, err := strconv.Atoi(digits)
	if err != nil || digits == "" || digits[0] < '0' || digits[0] > '9' {
		return 0, fmt.Errorf("--shard.index %q is neither a number nor a pod name ending in -<ordinal>", s)
	}
	return n, nil
}

// Owner is the shard of count that owns the target called name. The hash is
// part of the contract between exporter versions (testdata/assignment.golden
// pins it): changing it reshuffles every deployment on upgrade.
func Owner(name string, count int) int {
	h := fnv.New64a()
	h.Write([]byte(name))
	key := h.Sum64()
	best, bestW := 0, uint64(0)
	for i := range count {
		// splitmix64's step and finaliser: independent weights per shard
		// from one hash of the name.
		if w := mix(key + uint64(i+1)*0x9e3779b97f4a7c15); i == 0 || w > bestW {
			best, bestW = i, w
		}
	}
	return best
}

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Owns reports whether the target called name is this shard's.
func (s Shard) Owns(name string) bool { return s.Count <= 1 || Owner(name, s.Count) == s.Index }

// Filter keeps this shard's targets (a reload.Filter). It returns cfg itself
// when it keeps every target, else a copy holding only the kept ones.
func (s Shard) Filter(cfg *config.Config) *config.Config {
	if s.Count <= 1 {
		return cfg
	}
	out := *cfg
	out.Targets = make([]config.Target, 0, len(cfg.Targets)/s.Count+1)
	for _, t := range cfg.Targets {
		if s.Owns(t.Name) {
			out.Targets = append(out.Targets, t)
		}
	}
	return &out
}
