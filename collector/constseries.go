package collector

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// constChunk is how many series' memory scrapeSeries allocates at a time.
const constChunk = 256

// scrapeSeries holds the series one Collect writes from the targets'
// records (targetInfo, targetFamily) in a few allocations per chunk of
// series, where NewConstMetric makes a dozen per series: the records keep
// no label pairs, and a scrape does not pay for that in garbage. Not safe
// for concurrent use: a Collect makes its own.
type scrapeSeries struct {
	k      int // label pairs per series, for the chunks' size
	series []constSeries
	pairs  []dto.LabelPair
	ptrs   []*dto.LabelPair
	values []string
	// counters and their created times, apart: most series are gauges.
	counters []dto.Counter
	times    []timestamppb.Timestamp
}

// constSeries is one series as the registry reads it.
type constSeries struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair
	value   float64
	gauge   dto.Gauge
	counter *dto.Counter // nil for a gauge
}

func (s *constSeries) Desc() *prometheus.Desc { return s.desc }

func (s *constSeries) Write(out *dto.Metric) error {
	out.Label = s.labels
	if s.counter != nil {
		out.Counter = s.counter
	} else {
		out.Gauge = &s.gauge
	}
	return nil
}

// labels returns an empty list with room for k label pairs.
func (ss *scrapeSeries) labels(k int) []*dto.LabelPair {
	if len(ss.ptrs)+k > cap(ss.ptrs) {
		ss.ptrs = make([]*dto.LabelPair, 0, max(k, ss.k)*constChunk)
	}
	start := len(ss.ptrs)
	ss.ptrs = ss.ptrs[:start+k]
	return ss.ptrs[start : start : start+k]
}

// pair is the label pair name=value; name points to a string that
// outlives the scrape.
func (ss *scrapeSeries) pair(name *string, value string) *dto.LabelPair {
	if len(ss.pairs) == cap(ss.pairs) {
		ss.pairs = make([]dto.LabelPair, 0, ss.k*constChunk)
		ss.values = make([]string, 0, ss.k*constChunk)
	}
	ss.values = append(ss.values, value)
	ss.pairs = append(ss.pairs, dto.LabelPair{Name: name, Value: &ss.values[len(ss.values)-1]})
	return &ss.pairs[len(ss.pairs)-1]
}

// add is a gauge or counter series of labels, sorted here by name as
// client_golang sorts them, and false when a label value is not valid UTF-8 (the registry
// would fail the whole scrape; the configuration's checks keep that from
// happening). A counter's created time is ct.
func (ss *scrapeSeries) add(desc *prometheus.Desc, labels []*dto.LabelPair, typ prometheus.ValueType, v float64, ct time.Time) (prometheus.Metric, bool) {
	for _, l := range labels {
		if !utf8.ValidString(l.GetValue()) {
			return nil, false
		}
	}
	slices.SortFunc(labels, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	if len(ss.series) == cap(ss.series) {
		ss.series = make([]constSeries, 0, constChunk) // the ones given out stay where they are
	}
	ss.series = append(ss.series, constSeries{desc: desc, labels: labels, value: v})
	s := &ss.series[len(ss.series)-1]
	if typ == prometheus.GaugeValue {
		s.gauge.Value = &s.value
		return s, true
	}
	if len(ss.counters) == cap(ss.counters) {
		ss.counters = make([]dto.Counter, 0, constChunk)
		ss.times = make([]timestamppb.Timestamp, 0, constChunk)
	}
	ss.times = append(ss.times, timestamppb.Timestamp{Seconds: ct.Unix(), Nanos: int32(ct.Nanosecond())})
	ss.counters = append(ss.counters, dto.Counter{Value: &s.value, CreatedTimestamp: &ss.times[len(ss.times)-1]})
	s.counter = &ss.counters[len(ss.counters)-1]
	return s, true
}
