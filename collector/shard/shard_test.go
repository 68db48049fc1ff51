package shard_test

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/shard"
)

var update = flag.Bool("update", false, "rewrite testdata/assignment.golden")

// names are sample target names in the shapes users give them.
func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		switch i % 3 {
		case 0:
			out[i] = fmt.Sprintf("api-%d", i)
		case 1:
			out[i] = fmt.Sprintf("shop.eu-west.example.com/health/%d", i)
		default:
			out[i] = fmt.Sprintf("checkout_%05d", i)
		}
	}
	return out
}

// sigmas is the margin of the statistical bounds below: the rendezvous
// hash behaves as a fair die per name, so a count stays within 5 standard
// deviations of its binomial mean but for a one-in-a-million fluke, and the
// names are fixed, so a pass or a failure repeats.
const sigmas = 5

// binomialBound is the allowed distance from the mean of a count of n
// trials that each succeed with probability p.
func binomialBound(n int, p float64) float64 { return sigmas * math.Sqrt(float64(n)*p*(1-p)) }

// TestEveryTargetInExactlyOneShard: for every shard count, every name is
// owned by exactly one shard, the filters partition the targets, and the
// shards are balanced.
func TestEveryTargetInExactlyOneShard(t *testing.T) {
	const m = 6000
	ns := names(m)
	cfg := &config.Config{}
	for _, n := range ns {
		cfg.Targets = append(cfg.Targets, config.Target{Name: n})
	}
	for count := 1; count <= 16; count++ {
		seen := map[string]int{}
		for index := range count {
			s, err := shard.New(index, count)
			if err != nil {
				t.Fatal(err)
			}
			kept := s.Filter(cfg).Targets
			for _, tg := range kept {
				seen[tg.Name]++
				if !s.Owns(tg.Name) || shard.Owner(tg.Name, count) != index {
					t.Fatalf("N=%d: shard %d kept %q, which it does not own", count, index, tg.Name)
				}
			}
			mean, bound := float64(m)/float64(count), binomialBound(m, 1/float64(count))
			if got := float64(len(kept)); math.Abs(got-mean) > bound {
				t.Errorf("N=%d: shard %d holds %v targets, want %.0f ± %.0f", count, index, got, mean, bound)
			}
		}
		for _, n := range ns {
			if seen[n] != 1 {
				t.Errorf("N=%d: %q is kept by %d shards, want 1", count, n, seen[n])
			}
		}
	}
	if len(cfg.Targets) != m {
		t.Error("Filter changed its argument")
	}
}

// TestMovementOnReshard: going from N to N+1 shards moves only targets to
// the new shard, about 1/(N+1) of them (hashmod would move about N/(N+1)).
func TestMovementOnReshard(t *testing.T) {
	const m = 20000
	ns := names(m)
	for count := 1; count <= 16; count++ {
		moved := 0
		for _, n := range ns {
			before, after := shard.Owner(n, count), shard.Owner(n, count+1)
			if before == after {
				continue
			}
			moved++
			if after != count {
				t.Fatalf("N=%d→%d: %q moved from shard %d to %d, not to the new shard", count, count+1, n, before, after)
			}
		}
		p := 1 / float64(count+1)
		mean, bound := m*p, binomialBound(m, p)
		if math.Abs(float64(moved)-mean) > bound {
			t.Errorf("N=%d→%d: %d of %d targets moved, want %.0f ± %.0f", count, count+1, moved, m, mean, bound)
		}
	}
}

// TestAssignmentGolden pins the hash: an exporter upgrade must not move
// targets between shards. Run with -update only when changing the hash on
// purpose, and say so in the changelog.
func TestAssignmentGolden(t *testing.T) {
	var b strings.Builder
	b.WriteString("# target name, then its shard for --shard.count=1..16\n")
	for _, n := range append([]string{"api", "checkout", "search", "shop-eu", "reports", "x"}, names(60)...) {
		b.WriteString(n)
		for count := 1; count <= 16; count++ {
			fmt.Fprintf(&b, " %d", shard.Owner(n, count))
		}
		b.WriteString("\n")
	}
	const path = "testdata/assignment.golden"
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./collector/shard -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("the shard assignment changed: every deployment would reshuffle on upgrade.\ngot:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		index, count int
		err          string // "" when valid
	}{
		{0, 1, ""},
		{3, 4, ""},
		{1023, 1024, ""},
		{0, 0, "--shard.count must be between 1 and 1024, got 0"},
		{0, -2, "--shard.count must be between 1 and 1024, got -2"},
		{0, 1025, "--shard.count must be between 1 and 1024, got 1025"},
		{4, 4, "--shard.index must be between 0 and --shard.count-1 (3), got 4"},
		{-1, 4, "--shard.index must be between 0 and --shard.count-1 (3), got -1"},
	}
	for _, tt := range tests {
		s, err := shard.New(tt.index, tt.count)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("New(%d, %d): %v", tt.index, tt.count, err)
		case tt.err == "" && (s.Index != tt.index || s.Count != tt.count):
			t.Errorf("New(%d, %d) = %+v", tt.index, tt.count, s)
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("New(%d, %d) error = %v, want %q", tt.index, tt.count, err, tt.err)
		}
	}
}

func TestParseIndex(t *testing.T) {
	tests := []struct {
		in   string
		want int // -1: an error
	}{
		{"0", 0},
		{"7", 7},
		{"http5xx-2", 2},
		{"http5xx-eu-west-11", 11},
		{"http5xx", -1},
		{"http5xx-", -1},
		{"-1", -1},
		{"", -1},
		{"2a", -1},
		{"pod-+3", -1},
		{"pod--3", -1},
	}
	for _, tt := range tests {
		got, err := shard.ParseIndex(tt.in)
		switch {
		case tt.want < 0 && err == nil:
			t.Errorf("ParseIndex(%q) = %d, want an error", tt.in, got)
		case tt.want < 0 && !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)):
			t.Errorf("ParseIndex(%q) error %q does not quote the value", tt.in, err)
		case tt.want >= 0 && (err != nil || got != tt.want):
			t.Errorf("ParseIndex(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestSelectionSeries(t *testing.T) {
	s := shard.NewSelection(shard.Shard{Index: 2, Count: 3}, "eu")
	s.Record(10, 4)
	want := `# HELP http5xx_configured_targets Targets in the running configuration before sharding; this shard probes those with an http5xx_target_info series.
# TYPE http5xx_configured_targets gauge
http5xx_configured_targets{location="eu"} 10
# HELP http5xx_shard_info 1, labelled with this exporter's shard (--shard.index) and the number of shards (--shard.count).
# TYPE http5xx_shard_info gauge
http5xx_shard_info{location="eu",shard="2",shards="3"} 1
`
	if err := testutil.CollectAndCompare(s, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if got, want := s.Status(), (shard.Status{Index: 2, Count: 3, Configured: 10, Skipped: 6}); got != want {
		t.Errorf("Status() = %+v, want %+v", got, want)
	}
}
