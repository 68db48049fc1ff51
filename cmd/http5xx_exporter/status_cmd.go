package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/kingpin/v2"

	"github.com/http5xx/http5xx_exporter/collector/fanout"
	"github.com/http5xx/http5xx_exporter/collector/shard"
	"github.com/http5xx/http5xx_exporter/collector/status"
)

// statusCommand is `status --from NAME=URL...`: every location's
// /api/v1/status at once, a target x location matrix and a verdict per
// target.
type statusCommand struct {
	cmd    *kingpin.CmdClause
	remote remoteFlags
	output string
}

func newStatusCommand(app *kingpin.Application) *statusCommand {
	c := &statusCommand{}
	c.cmd = app.Command("status", "Ask the exporters of several locations for their status and tell, per target, whether it fails from one location (LOCAL), several (PARTIAL) or all (GLOBAL); UNKNOWN when only one location has a result. Give a location once per exporter it runs (shards, replicas): a target's state there comes from the shard that probes it. Exit 0 when every target is OK, 1 otherwise, 2 on usage errors.")
	c.remote.register(c.cmd, "timeout")
	// A location may run several exporters: shards, and replicas of each.
	c.remote.spec.Several = true
	c.cmd.Flag("output", "Output format.").Short('o').Default("text").EnumVar(&c.output, "text", "json")
	return c
}

func (c *statusCommand) run(ctx context.Context, stdout, stderr io.Writer) int {
	locs, client, err := c.remote.spec.Locations()
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return 2
	}
	docs := make([]*remoteStatus, len(locs))
	errs := make([]error, len(locs))
	var wg sync.WaitGroup
	for i, l := range locs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lctx, cancel := context.WithTimeout(ctx, c.remote.timeout)
			defer cancel()
			var d remoteStatus
			if errs[i] = l.Get(lctx, client, status.APIPath, nil, maxRemoteBody, &d); errs[i] == nil {
				docs[i] = &d
			}
		}()
	}
	wg.Wait()

	m := newStatusMatrix(locs, docs, errs)
	if c.output == "json" {
		if !writeJSON(stdout, stderr, "status", m) {
			return 2
		}
	} else {
		m.print(stdout)
	}
	if !m.OK {
		return 1
	}
	return 0
}

// The cell states beyond status.State*.
const (
	cellUnreachable = "unreachable" // the location's exporter did not answer
	cellAbsent      = "absent"      // that exporter does not probe the target
)

// statusMatrix is the output of the status command; its JSON names are
// stable.
type statusMatrix struct {
	Locations []matrixLocation `json:"locations"`
	Targets   []matrixTarget   `json:"targets"`
	// OK is true when every target's verdict is OK.
	OK bool `json:"ok"`
}

type matrixLocation struct {
	Name      string `json:"name"`
	URL       string `json:"url"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	// ExporterLocation is the location the exporter itself reports.
	ExporterLocation string `json:"exporter_location,omitempty"`
	// Exporters lists the location's exporters when it has several
	// (shards, replicas); URL, Reachable and Error are then the first's,
	// any reachable, and those of the unreachable ones.
	Exporters []matrixExporter `json:"exporters,omitempty"`
}

// matrixExporter is one exporter of a location with several.
type matrixExporter struct {
	URL       string `json:"url"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	// Shard is the exporter's --shard.index and --shard.count.
	Shard *remoteShard `json:"shard,omitempty"`
}

type matrixTarget struct {
	Name    string       `json:"name"`
	Verdict string       `json:"verdict"`
	Failing []string     `json:"failing,omitempty"`
	Summary string       `json:"summary"`
	Results []matrixCell `json:"results"`
}

type matrixCell struct {
	Location string `json:"location"`
	// State is up, degraded, down, pending, unreachable or absent.
	State  string `json:"state"`
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	Class  string `json:"class,omitempty"`
	Owner  string `json:"owner,omitempty"`
}

func (c *matrixCell) answered() bool {
	return c.State == status.StateUp || c.State == status.StateDegraded || c.State == status.StateDown
}

// remoteStatus is what the matrix needs of another exporter's
// /api/v1/status (the data of its envelope, a status.Document). Only these fields are decoded, and at
// most maxRemoteTargets targets: the answer is bounded in bytes, but values
// of a few bytes such as {} in a history or a target list would each
// become a Go value of hundreds, and a broken or hostile location could
// turn its 16 MiB into gigabytes.
type remoteStatus struct {
	Location string        `json:"location"`
	Shard    *remoteShard  `json:"shard"`
	Targets  remoteTargets `json:"targets"`
}

// remoteShard is the shard part of another exporter's status; exporters
// before sharding have none, and are shard 0 of 1.
type remoteShard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

type remoteTarget struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	LastProbe *struct {
		Time   time.Time `json:"time"`
		Code   int       `json:"code"`
		Reason string    `json:"reason"`
		Class  string    `json:"class"`
		Owner  string    `json:"owner"`
	} `json:"last_probe"`
}

// maxRemoteTargets is far more than a status document within maxRemoteBody
// can hold (a target takes a few hundred bytes).
const maxRemoteTargets = 100_000

type remoteTargets []remoteTarget

// UnmarshalJSON decodes the targets one at a time and stops past
// maxRemoteTargets.
func (ts *remoteTargets) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*ts = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("targets is not a list")
	}
	*ts = (*ts)[:0]
	for dec.More() {
		if len(*ts) == maxRemoteTargets {
			return fmt.Errorf("more than %d targets", maxRemoteTargets)
		}
		*ts = append(*ts, remoteTarget{})
		if err := dec.Decode(&(*ts)[len(*ts)-1]); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

// locationGroup is one location of the matrix: its exporters (shards and
// replicas) and what the reachable ones answered.
type locationGroup struct {
	name    string
	members []int // indexes into locs, docs and errs
	targets map[string]*remoteTarget
	// shards holds, per shard count seen, the shard indexes that answered.
	shards      map[int]map[int]bool
	unreachable int
}

// groupLocations gathers the exporters of each location name, in the order
// the names were first given.
func groupLocations(locs []fanout.Location, docs []*remoteStatus) []*locationGroup {
	var groups []*locationGroup
	byName := map[string]*locationGroup{}
	for i, l := range locs {
		g := byName[l.Name]
		if g == nil {
			g = &locationGroup{name: l.Name, targets: map[string]*remoteTarget{}, shards: map[int]map[int]bool{}}
			byName[l.Name] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, i)
		d := docs[i]
		if d == nil {
			g.unreachable++
			continue
		}
		sh := remoteShard{Index: 0, Count: 1}
		if d.Shard != nil && d.Shard.Count > 0 {
			sh = *d.Shard
		}
		if g.shards[sh.Count] == nil {
			g.shards[sh.Count] = map[int]bool{}
		}
		g.shards[sh.Count][sh.Index] = true
		for j := range d.Targets {
			ts := &d.Targets[j]
			if prev := g.targets[ts.Name]; prev == nil || newer(ts, prev) {
				g.targets[ts.Name] = ts
			}
		}
	}
	return groups
}

// newer reports whether a has a later last probe than b: replicas of a
// shard probe the same target, and the latest word wins.
func newer(a, b *remoteTarget) bool {
	switch {
	case a.LastProbe == nil:
		return false
	case b.LastProbe == nil:
		return true
	}
	return a.LastProbe.Time.After(b.LastProbe.Time)
}

// cell is the target's state in the location: from the exporter that
// probes it; unreachable when the shard that owns it did not answer.
func (g *locationGroup) cell(name string) matrixCell {
	cell := matrixCell{Location: g.name, State: cellUnreachable}
	if ts := g.targets[name]; ts != nil {
		cell.State = ts.State
		if lp := ts.LastProbe; lp != nil {
			cell.Code, cell.Reason, cell.Class, cell.Owner = lp.Code, lp.Reason, lp.Class, lp.Owner
		}
		return cell
	}
	if len(g.shards) == 0 {
		return cell // no exporter of the location answered
	}
	for count, answered := range g.shards {
		if g.unreachable > 0 && !answered[shard.Owner(name, count)] {
			return cell // the owner may be the exporter that did not answer
		}
	}
	cell.State = cellAbsent
	return cell
}

func newStatusMatrix(locs []fanout.Location, docs []*remoteStatus, errs []error) *statusMatrix {
	m := &statusMatrix{OK: true}
	groups := groupLocations(locs, docs)
	var names []string
	seen := map[string]bool{}
	reachable := 0
	for _, d := range docs {
		if d == nil {
			continue
		}
		reachable++
		for j := range d.Targets {
			if n := d.Targets[j].Name; !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	for _, g := range groups {
		first := locs[g.members[0]]
		ml := matrixLocation{Name: g.name, URL: first.Base.String()}
		var problems []string
		for _, i := range g.members {
			me := matrixExporter{URL: locs[i].Base.String(), Reachable: docs[i] != nil}
			if errs[i] != nil {
				me.Error = errs[i].Error()
				problems = append(problems, me.Error)
			}
			if docs[i] != nil {
				me.Shard = docs[i].Shard
				ml.Reachable = true
				if ml.ExporterLocation == "" {
					ml.ExporterLocation = docs[i].Location
				}
			}
			if len(g.members) > 1 {
				ml.Exporters = append(ml.Exporters, me)
			}
		}
		ml.Error = strings.Join(problems, "; ")
		m.Locations = append(m.Locations, ml)
	}
	if reachable == 0 {
		m.OK = false
	}
	for _, name := range names {
		mt := matrixTarget{Name: name}
		answered := 0
		for _, g := range groups {
			cell := g.cell(name)
			if cell.answered() {
				answered++
				if cell.State == status.StateDown {
					mt.Failing = append(mt.Failing, g.name)
				}
			}
			mt.Results = append(mt.Results, cell)
		}
		mt.Verdict = fanout.Judge(len(mt.Failing), answered)
		cl, owner := commonClass(&mt)
		mt.Summary = fanout.Summary(mt.Verdict, mt.Failing, answered, cl, owner)
		if mt.Verdict != fanout.VerdictOK {
			m.OK = false
		}
		m.Targets = append(m.Targets, mt)
	}
	return m
}

// commonClass is the error class every failing location agrees on, if any.
func commonClass(t *matrixTarget) (class, owner string) {
	for _, c := range t.Results {
		if c.State != status.StateDown {
			continue
		}
		if class == "" {
			class, owner = c.Class, c.Owner
		} else if c.Class != class {
			return "", ""
		}
	}
	return class, owner
}

func (c *matrixCell) text() string {
	what := fmt.Sprint(c.Code)
	if c.Reason != "" {
		what = c.Reason
	}
	switch c.State {
	case status.StateUp:
		return "up " + what
	case status.StateDegraded:
		return "degraded " + what
	case status.StateDown:
		return strings.TrimSpace("DOWN " + what + " " + c.Class)
	case cellAbsent:
		return "-"
	default:
		return c.State
	}
}

func (m *statusMatrix) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "TARGET")
	for _, l := range m.Locations {
		fmt.Fprintf(tw, "\t%s", l.Name)
	}
	fmt.Fprintln(tw, "\tVERDICT")
	for _, t := range m.Targets {
		fmt.Fprint(tw, termSafe(t.Name))
		for i := range t.Results {
			fmt.Fprintf(tw, "\t%s", termSafe(t.Results[i].text()))
		}
		fmt.Fprintf(tw, "\t%s\n", termSafe(t.Summary))
	}
	_ = tw.Flush()
	if len(m.Targets) == 0 {
		fmt.Fprintln(w, "no targets")
	}
	for _, l := range m.Locations {
		switch {
		case !l.Reachable:
			fmt.Fprintf(w, "%s unreachable (not counted in the verdicts): %s\n", l.Name, termSafe(l.Error))
		case l.Error != "":
			fmt.Fprintf(w, "%s: an exporter did not answer (the targets of its shard are unreachable there): %s\n", l.Name, termSafe(l.Error))
		}
	}
}

// termSafe escapes what must not reach a terminal from text another
// exporter sent (target names, classes, errors): control characters would
// drive the terminal (escape sequences) or forge lines of the output
// (newlines, carriage returns, tabs in a table), and bidirectional
// controls would reorder what is shown.
func termSafe(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unsafeForTerminal) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			// A byte that is not UTF-8 (0x9b is CSI to an 8-bit terminal).
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unsafeForTerminal(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeForTerminal(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// remoteFlags are the flags of the commands that ask other exporters.
type remoteFlags struct {
	spec    fanout.Spec
	timeout time.Duration
}

// register adds the flags to cmd; timeoutFlag names the flag of the
// per-location timeout (check already has a --timeout of its own).
func (f *remoteFlags) register(cmd *kingpin.CmdClause, timeoutFlag string) {
	cmd.Flag("from", "A location to ask, NAME=URL of its exporter (repeatable); user:password@ in the URL sets basic auth for it.").PlaceHolder("NAME=URL").StringsVar(&f.spec.From)
	cmd.Flag("locations.file", "File of locations: NAME=URL lines, or a YAML mapping of NAME: URL (or NAME: [URL, ...]).").PlaceHolder("FILE").StringVar(&f.spec.File)
	cmd.Flag("auth.user", "Basic auth user for the locations whose URL has none.").PlaceHolder("USER").StringVar(&f.spec.User)
	cmd.Flag("auth.password-file", "File whose first line is the basic auth password.").PlaceHolder("FILE").StringVar(&f.spec.PasswordFile)
	cmd.Flag("tls.ca-file", "CA certificates to verify the exporters' TLS certificates with.").PlaceHolder("FILE").StringVar(&f.spec.CAFile)
	cmd.Flag("tls.insecure", "Do not verify the exporters' TLS certificates.").BoolVar(&f.spec.Insecure)
	cmd.Flag(timeoutFlag, "How long to wait for each location.").Default("10s").DurationVar(&f.timeout)
}

// used reports whether any location was given.
func (f *remoteFlags) used() bool { return f.spec.Used() }

// maxRemoteBody bounds the status document read from another exporter.
const maxRemoteBody = 16 << 20
