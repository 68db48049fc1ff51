package collector

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// TestStreamsStayWholeUnderProbesAndReloads scrapes in every format while
// probes are recorded (new code and reason series appear mid-scrape) and
// reloads add and drop targets: each answer must parse as its format, with
// every family once and every series once, as Prometheus needs to take
// the scrape at all. The golden and random-fleet tests compare bytes on a
// still exporter; this one is about the moments in between.
func TestStreamsStayWholeUnderProbesAndReloads(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(MetricsOptions{Location: "eu", Buckets: goldenBuckets})
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	f := triage.Default()
	fleet := streamFleet(160)
	m.SetTargets(fleet[:120], f, true)
	h := m.MetricsHandler(reg, streamOpts)

	var mu sync.Mutex // guards live: the targets the probes may report
	live := fleet[:120]
	stop := make(chan struct{})
	var wg sync.WaitGroup
	probes := rand.New(rand.NewPCG(3, 5))
	untilStopped(&wg, stop, func(int) {
		mu.Lock()
		tg := live[probes.IntN(len(live))]
		mu.Unlock()
		r := randomResult(probes, tg, f)
		m.Observe(&r)
	})
	reloads := rand.New(rand.NewPCG(7, 9))
	untilStopped(&wg, stop, func(i int) { // a sliding window over the fleet
		lo := reloads.IntN(40)
		next := fleet[lo : lo+80+reloads.IntN(40)]
		m.SetTargets(next, f, i%5 == 0)
		mu.Lock()
		live = next
		mu.Unlock()
	})
	defer func() {
		close(stop)
		wg.Wait()
	}()

	names := slices.Sorted(func(yield func(string) bool) {
		for n := range streamAccepts {
			if !yield(n) {
				return
			}
		}
	})
	for round := range 2 {
		for _, name := range names {
			for _, gz := range []bool{false, true} {
				body, header := scrape(t, h, streamAccepts[name], gz)
				if err := wholeExposition(body, header.Get("Content-Type")); err != nil {
					t.Fatalf("round %d, %s (gzip %v): %v", round, name, gz, err)
				}
			}
		}
	}
}

// wholeExposition parses body as the format contentType names and checks
// that no family and no series comes twice.
func wholeExposition(body, contentType string) error {
	switch {
	case strings.HasPrefix(contentType, "application/vnd.google.protobuf"):
		dec := expfmt.NewDecoder(strings.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
		var mfs []*dto.MetricFamily
		for {
			mf := new(dto.MetricFamily)
			if err := dec.Decode(mf); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("family %d: %w", len(mfs), err)
			}
			mfs = append(mfs, mf)
		}
		return uniqueFamilies(mfs)
	case strings.HasPrefix(contentType, "text/plain"):
		if err := typesOnce(body); err != nil {
			return err
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			return err
		}
		mfs := make([]*dto.MetricFamily, 0, len(fams))
		for _, mf := range fams {
			mfs = append(mfs, mf)
		}
		return uniqueFamilies(mfs)
	case strings.HasPrefix(contentType, "application/openmetrics-text"):
		if err := typesOnce(body); err != nil {
			return err
		}
		return wholeOpenMetrics(body)
	}
	return fmt.Errorf("unexpected Content-Type %q", contentType)
}

// uniqueFamilies fails for a family name or a series that comes twice.
func uniqueFamilies(mfs []*dto.MetricFamily) error {
	fams := map[string]bool{}
	for _, mf := range mfs {
		if fams[mf.GetName()] {
			return fmt.Errorf("family %s comes twice", mf.GetName())
		}
		fams[mf.GetName()] = true
		series := map[string]bool{}
		for _, mt := range mf.GetMetric() {
			var b strings.Builder
			for _, l := range mt.GetLabel() {
				fmt.Fprintf(&b, "%q=%q,", l.GetName(), l.GetValue())
			}
			if series[b.String()] {
				return fmt.Errorf("%s{%s} comes twice", mf.GetName(), b.String())
			}
			series[b.String()] = true
		}
	}
	if len(fams) == 0 {
		return errors.New("no family")
	}
	return nil
}

// wholeOpenMetrics checks the OpenMetrics frame (one # EOF, last) and
// that no series line comes twice: its name and labels, up to the closing
// brace outside the quoted values, are its identity.
func wholeOpenMetrics(body string) error {
	rest, ok := strings.CutSuffix(body, "# EOF\n")
	if !ok || strings.Contains(rest, "# EOF") {
		return errors.New("not one # EOF at the end")
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(rest, "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		k := seriesKey(line)
		if k == "" {
			return fmt.Errorf("not a series line: %q", line)
		}
		if seen[k] {
			return fmt.Errorf("%s comes twice", k)
		}
		seen[k] = true
	}
	if len(seen) == 0 {
		return errors.New("no series")
	}
	return nil
}

// seriesKey is the name and labels of a series line, "" when the line has
// no value after them.
func seriesKey(line string) string {
	quoted, escaped := false, false
	for i, c := range line {
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == ' ':
			if i+1 < len(line) {
				return line[:i]
			}
			return ""
		}
	}
	return ""
}

// typesOnce fails for a text exposition that declares a family twice,
// which a parser may merge rather than reject.
func typesOnce(body string) error {
	seen := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		if seen[name] {
			return fmt.Errorf("family %s is declared twice", name)
		}
		seen[name] = true
	}
	return nil
}

// The checks above catch what they are for: a family declared twice, a
// series twice, a cut OpenMetrics answer, a protobuf family twice.
func TestWholeExpositionCatchesRepeats(t *testing.T) {
	reg, m := newGoldenRegistry(t, "eu")
	h := m.MetricsHandler(reg, streamOpts)
	for _, name := range []string{"text", "openmetrics1", "protobuf"} {
		body, header := scrape(t, h, streamAccepts[name], false)
		ct := header.Get("Content-Type")
		if err := wholeExposition(body, ct); err != nil {
			t.Fatalf("%s: the golden exposition fails the check: %v", name, err)
		}
		var broken []string
		if name == "protobuf" {
			broken = []string{body + body}
		} else {
			lines := strings.SplitAfter(body, "\n")
			i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "http5xx_probes_total{") })
			j := slices.IndexFunc(lines, func(l string) bool {
				return strings.HasPrefix(l, "# HELP http5xx_probes_total ") || strings.HasPrefix(l, "# HELP http5xx_probes ")
			})
			if i < 0 || j < 0 {
				t.Fatalf("%s: no http5xx_probes_total in the golden exposition", name)
			}
			broken = []string{
				strings.Join(slices.Insert(slices.Clone(lines), i, lines[i]), ""),        // a series twice
				strings.Join(slices.Insert(slices.Clone(lines), j, lines[j:i+1]...), ""), // a family twice
			}
			if name == "openmetrics1" {
				broken = append(broken, strings.TrimSuffix(body, "# EOF\n")) // cut short
			}
		}
		for k, b := range broken {
			if err := wholeExposition(b, ct); err == nil {
				t.Errorf("%s: broken exposition %d passes the check", name, k)
			}
		}
	}
}

// Every histogram the exporter exports has native buckets: the rule pack
// and the dashboards read each one under its own name, as Prometheus
// stores a native histogram, before they fall back to the classic _bucket
// series (rules/rulepack's consistency test takes the bare name of every
// histogram family for that reason).
func TestEveryHistogramIsNative(t *testing.T) {
	reg, m := newGoldenRegistry(t, "eu")
	m.Lag.Observe(0.002)
	body, header := scrape(t, m.MetricsHandler(reg, streamOpts), streamAccepts["protobuf"], false)
	if !strings.HasPrefix(header.Get("Content-Type"), "application/vnd.google.protobuf") {
		t.Fatalf("Content-Type %q", header.Get("Content-Type"))
	}
	dec := expfmt.NewDecoder(strings.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
	histograms := 0
	for {
		mf := new(dto.MetricFamily)
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if mf.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		histograms++
		for _, mt := range mf.GetMetric() {
			if mt.GetHistogram().Schema == nil {
				t.Errorf("%s%v has no native buckets", mf.GetName(), mt.GetLabel())
			}
		}
	}
	if histograms < 3 {
		t.Errorf("%d histogram families, want the request and phase durations and the schedule lag", histograms)
	}
}
