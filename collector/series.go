package collector

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// seriesCollector writes the series every target has from the targets'
// own records: http5xx_probes_total, http5xx_responses_total, the duration
// and phase histograms, http5xx_target_up, http5xx_last_status_code,
// http5xx_last_probe_timestamp_seconds and http5xx_retry_after_seconds.
// A client_golang child per series and target cost about 30 KB per target
// (a sync.Map entry per native bucket, hot and cold copies, label pairs per
// child); a target's record takes a tenth of that, and a scrape writes it
// without walking sync.Maps. The output is what the children wrote: the
// golden exposition is unchanged and TestHistMatchesClientGolang compares
// the histograms bucket by bucket.
type seriesCollector struct {
	m                                          *Metrics
	probes, duration, phases, up, code, ts, ra *prometheus.Desc
	responses                                  *prometheus.Desc
	phaseValues                                [contract.NumPhases]*dto.LabelPair
	phaseOrder                                 []contract.Phase // by name

	// silent keeps Collect from writing while MetricsHandler gathers the
	// other families (gatherRest); gatherMu keeps a full Gather out of
	// that window.
	silent   atomic.Bool
	gatherMu sync.RWMutex
	// writers keeps a streamed scrape's chunk memory for the next; text,
	// proto and orders the direct writers' and the code series' sort (a
	// protobuf family's bytes, the series), across collections as a pool
	// would not.
	writers sync.Pool
	text    atomic.Pointer[textWriter]
	proto   atomic.Pointer[protoWriter]
	orders  atomic.Pointer[responseOrder]
	// locText is `location="…",` as the text formats write it, "" without
	// a location; phaseText the same followed by each phase's label.
	locText   string
	phaseText [contract.NumPhases]string

	pairMu sync.Mutex
	// pairs are the label pairs of the code series' code, class and owner
	// labels, shared by every target.
	pairs map[[2]string]*dto.LabelPair
}

// codeSeries is one http5xx_responses_total series of a target.
type codeSeries struct {
	key     codeKey
	count   uint64
	created int64 // Unix nanoseconds
	labels  []*dto.LabelPair
}

// pair returns the shared label pair name=value.
func (s *seriesCollector) pair(name, value string) *dto.LabelPair {
	s.pairMu.Lock()
	defer s.pairMu.Unlock()
	p := s.pairs[[2]string{name, value}]
	if p == nil {
		p = labelPair(name, value)
		s.pairs[[2]string{name, value}] = p
	}
	return p
}

// codeSeries is a new series of tm for code k, at 0.
func (s *seriesCollector) codeSeries(tm *targetMetrics, k codeKey, owner string, created int64) codeSeries {
	code := CodeOther
	if k.code != codeOther {
		code = strconv.Itoa(k.code)
	}
	// By name: class, code, location, owner, service, target.
	labels := make([]*dto.LabelPair, 0, 6)
	labels = append(labels, s.pair(contract.LabelClass, k.class), s.pair(contract.LabelCode, code))
	if s.m.location != nil {
		labels = append(labels, s.m.location)
	}
	labels = append(labels, s.pair(contract.LabelOwner, owner))
	labels = append(labels, tm.labels[len(tm.labels)-2:]...) // service, target
	return codeSeries{key: k, created: created, labels: labels}
}

func newSeriesCollector(m *Metrics, constLabels prometheus.Labels) *seriesCollector {
	desc := func(c contract.Metric) *prometheus.Desc {
		return prometheus.NewDesc(c.Name, c.Help, labelNames(c), constLabels)
	}
	s := &seriesCollector{
		m: m, probes: desc(contract.ProbesTotal), duration: desc(contract.RequestDuration),
		phases: desc(contract.PhaseDuration), up: desc(contract.TargetUp), code: desc(contract.LastStatusCode),
		ts: desc(contract.LastProbeTimestamp), ra: desc(contract.RetryAfter), responses: desc(contract.ResponsesTotal),
		pairs: map[[2]string]*dto.LabelPair{},
	}
	if m.location != nil {
		s.locText = string(labelText(nil, contract.LabelLocation, m.location.GetValue()))
	}
	for p := contract.Phase(0); p < contract.NumPhases; p++ {
		s.phaseValues[p] = labelPair(contract.LabelPhase, p.String())
		s.phaseOrder = append(s.phaseOrder, p)
		s.phaseText[p] = s.locText + string(labelText(nil, contract.LabelPhase, p.String()))
	}
	slices.SortFunc(s.phaseOrder, func(a, b contract.Phase) int { return strings.Compare(a.String(), b.String()) })
	return s
}

func labelPair(name, value string) *dto.LabelPair {
	return &dto.LabelPair{Name: &name, Value: &value}
}

// label sets tm's label pairs: location, service, target by name (the
// order client_golang writes them in), phase between location and service.
func (s *seriesCollector) label(tm *targetMetrics) {
	base := make([]*dto.LabelPair, 0, 3)
	if s.m.location != nil {
		base = append(base, s.m.location)
	}
	service, target := labelPair(contract.LabelService, tm.service), labelPair(contract.LabelTarget, tm.name)
	tm.labels = append(base, service, target)
	text := labelText(labelText(nil, contract.LabelService, tm.service), contract.LabelTarget, tm.name)
	tm.labelText = string(text[:len(text)-1])
	if s.m.noPhases {
		return
	}
	all := make([]*dto.LabelPair, 0, contract.NumPhases*4)
	tm.phaseLabels = make([][]*dto.LabelPair, contract.NumPhases)
	for p := range tm.phaseLabels {
		start := len(all)
		all = append(all, base...)
		all = append(all, s.phaseValues[p], service, target)
		tm.phaseLabels[p] = all[start:len(all):len(all)]
	}
}

func (s *seriesCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.probes, s.duration, s.up, s.code, s.ts, s.ra, s.responses} {
		ch <- d
	}
	if !s.m.noPhases {
		ch <- s.phases
	}
}

// Collect writes every target's series, in exposition order. The targets
// are taken under the read lock and written after it: a reload waiting for
// the write lock does not hold up the probes' Observe for the length of a
// scrape. Each target's own lock is held while its series are copied out,
// a few microseconds.
func (s *seriesCollector) Collect(ch chan<- prometheus.Metric) {
	if s.silent.Load() {
		return
	}
	s.m.mu.RLock()
	tms := s.m.order
	s.m.mu.RUnlock()
	phases := make([][]*written, 0, len(tms))
	for _, tm := range tms {
		ws, phase := s.write(tm)
		for _, w := range ws {
			ch <- w
		}
		if len(phase) > 0 {
			phases = append(phases, phase)
		}
	}
	// Phase series sort by phase before service and target.
	for _, p := range s.phaseOrder {
		for _, ws := range phases {
			ch <- ws[p]
		}
	}
}

// written is one series as it will be exposed.
type written struct {
	desc *prometheus.Desc
	dto.Metric
}

func (w *written) Desc() *prometheus.Desc { return w.desc }

func (w *written) Write(out *dto.Metric) error {
	out.Label, out.Counter, out.Gauge, out.Histogram = w.Label, w.Counter, w.Gauge, w.Histogram
	return nil
}

// write copies tm's series out under its lock: the phase series apart,
// they are sent last.
func (s *seriesCollector) write(tm *targetMetrics) (series, phases []*written) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	n := 6 + len(tm.phases) + len(tm.codes)
	ws := make([]written, n)
	out := make([]*written, n)
	for i := range ws {
		out[i] = &ws[i]
		ws[i].Label = tm.labels
	}
	// One allocation per kind instead of one per value.
	values := make([]float64, 5+len(tm.codes))
	counters := make([]dto.Counter, 1+len(tm.codes))
	gauges := make([]dto.Gauge, 4)
	created := tm.createdTS
	if created == nil {
		created = timestamppb.New(time.Unix(0, tm.created))
		tm.createdTS = created
	}
	timestamp := func(ns int64) *timestamppb.Timestamp {
		if ns == tm.created {
			return created
		}
		return timestamppb.New(time.Unix(0, ns))
	}
	values[0] = float64(tm.probes)
	counters[0].Value, counters[0].CreatedTimestamp = &values[0], created
	ws[0].desc, ws[0].Counter = s.probes, &counters[0]
	for i, g := range []struct {
		desc *prometheus.Desc
		v    float64
	}{{s.up, tm.up}, {s.code, tm.lastCode}, {s.ts, tm.lastTS}, {s.ra, tm.retryAfr}} {
		values[1+i] = g.v
		gauges[i].Value = &values[1+i]
		ws[1+i].desc, ws[1+i].Gauge = g.desc, &gauges[i]
	}
	ws[5].desc = s.duration
	tm.duration.write(&ws[5].Metric, s.m.buckets, timestamp(tm.duration.reset))
	for i := range tm.codes {
		c, w := &tm.codes[i], &ws[6+i]
		values[5+i] = float64(c.count)
		counters[1+i].Value, counters[1+i].CreatedTimestamp = &values[5+i], timestamp(c.created)
		w.desc, w.Label, w.Counter = s.responses, c.labels, &counters[1+i]
	}
	for p := range tm.phases {
		w := &ws[6+len(tm.codes)+p]
		w.desc, w.Label = s.phases, tm.phaseLabels[p]
		tm.phases[p].write(&w.Metric, s.m.phaseBuckets, timestamp(tm.phases[p].reset))
	}
	return out[:6+len(tm.codes)], out[6+len(tm.codes):]
}
