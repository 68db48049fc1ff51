package collector

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// streamChunk is the number of series a record family is written in at a
// time: the dto objects of one chunk are all a scrape holds of it.
const streamChunk = 256

// MetricsHandler serves reg, which Metrics is registered in, the way
// promhttp.HandlerFor(reg, opts) does, but writes the record-backed
// families (series.go) straight from the targets' records to the (gzip)
// writer: text and OpenMetrics lines by textWriter, delimited protobuf by
// protoWriter, with no dto object per series (the protobuf writer keeps
// one family's encoded bytes, for its length prefix). reg must hold m
// (Register). The other families are gathered from reg as before and
// merged by name. The body is byte for byte promhttp's once decompressed
// (TestStreamed*). Requests it cannot answer byte for byte as promhttp
// would (a name[] filter, an encoding other than identity or gzip, a
// format other than text, OpenMetrics or delimited protobuf) take the
// promhttp path.
func (m *Metrics) MetricsHandler(reg *prometheus.Registry, opts promhttp.HandlerOpts) http.Handler {
	fallback := promhttp.HandlerFor(prometheus.GathererFunc(m.gatherAll(reg)), opts)
	accepted := expfmt.DefaultAcceptedFormats()
	if opts.EnableOpenMetrics {
		accepted = expfmt.DefaultOpenMetricsAcceptedFormats()
	}
	streamable := opts.Timeout <= 0 && opts.MaxRequestsInFlight <= 0 && opts.ProcessStartTime.IsZero() &&
		!opts.EnableOpenMetricsTextCreatedSamples && opts.ErrorHandling == promhttp.HTTPErrorOnError &&
		len(opts.AcceptedFormats) == 0 && len(opts.OfferedCompressions) == 0 && !opts.DisableCompression && !opts.CoalesceGather
	// gzip at BestSpeed, not promhttp's default level: at 10k targets
	// (32.6 MB of text) compressing at the default level took 440 ms of
	// CPU per scrape, BestSpeed 76 ms, for a body 15% larger (2.13 vs
	// 1.85 MB; protobuf 3.17 vs 2.70 MB, 110 vs 480 ms): BenchmarkExposition's
	// -gzip and -gzip-fast. Clients see the same bytes once decompressed.
	gzips := sync.Pool{New: func() any {
		z, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
		return z
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		format := expfmt.NegotiateAccept(r.Header, accepted...)
		gz, ok := gzipOnly(r.Header.Values("Accept-Encoding"))
		if !streamable || !ok || r.URL == nil || r.URL.Query().Has("name[]") || !streamFormat(format) {
			fallback.ServeHTTP(w, r)
			return
		}
		mfs, err := m.gatherRest(reg)
		if err != nil {
			fallback.ServeHTTP(w, r) // the same error, answered as promhttp answers it
			return
		}
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Set("Content-Type", string(format))
		var out io.Writer = w
		if gz {
			w.Header().Set("Content-Encoding", "gzip")
			z := gzips.Get().(*gzip.Writer)
			z.Reset(w)
			defer func() { _ = z.Close(); gzips.Put(z) }()
			out = z
		}
		bw := bufio.NewWriterSize(out, 64<<10)
		if err := m.series.stream(bw, format, mfs); err != nil {
			if opts.ErrorLog != nil {
				opts.ErrorLog.Println("error encoding and sending metric family:", err)
			}
			return
		}
		_ = bw.Flush()
	})
}

// gzipOnly reports whether promhttp would pick gzip (gz) or identity for
// an Accept-Encoding of plain codings without weights: identity when it is
// listed (promhttp offers it first and takes the first best match), else
// gzip when listed. Anything else (weights, wildcards, zstd, several
// header lines) is not ok and takes the promhttp path.
func gzipOnly(values []string) (gz, ok bool) {
	if len(values) == 0 {
		return false, true
	}
	if len(values) > 1 || strings.ContainsAny(values[0], ";*") {
		return false, false
	}
	identity := false
	for c := range strings.SplitSeq(values[0], ",") {
		switch strings.TrimSpace(c) {
		case "gzip":
			gz = true
		case "identity":
			identity = true
		case "deflate", "br", "compress":
		default:
			return false, false
		}
	}
	return gz && !identity, true
}

func streamFormat(f expfmt.Format) bool {
	switch f.FormatType() {
	case expfmt.TypeTextPlain, expfmt.TypeOpenMetrics, expfmt.TypeProtoDelim:
		return true
	}
	return false
}

// gatherAll gathers reg with the record families, as the registry does
// alone; gatherRest without them. The record collector is told to stay
// silent for the length of gatherRest's Gather only, so a gatherAll
// waits for it (a few milliseconds: the other families are small).
func (m *Metrics) gatherAll(reg *prometheus.Registry) func() ([]*dto.MetricFamily, error) {
	return func() ([]*dto.MetricFamily, error) {
		m.series.gatherMu.RLock()
		defer m.series.gatherMu.RUnlock()
		return reg.Gather()
	}
}

func (m *Metrics) gatherRest(reg *prometheus.Registry) ([]*dto.MetricFamily, error) {
	s := m.series
	s.gatherMu.Lock()
	defer s.gatherMu.Unlock()
	s.silent.Store(true)
	defer s.silent.Store(false)
	return reg.Gather()
}

// recordFamily is one family the records write.
type recordFamily struct {
	desc  *prometheus.Desc
	name  string
	help  string
	typ   dto.MetricType
	value func(tm *targetMetrics) float64           // the counter or gauge; nil: histograms and responses
	write func(tm *targetMetrics, slot *seriesSlot) // nil: responses and phases
}

func (s *seriesCollector) families() []recordFamily {
	gauge := func(d *prometheus.Desc, c contract.Metric, v func(tm *targetMetrics) float64) recordFamily {
		return recordFamily{desc: d, name: c.Name, help: c.Help, typ: dto.MetricType_GAUGE, value: v,
			write: func(tm *targetMetrics, slot *seriesSlot) {
				slot.value = v(tm)
				slot.gauge = dto.Gauge{Value: &slot.value}
				slot.m = dto.Metric{Label: tm.labels, Gauge: &slot.gauge}
			}}
	}
	fs := []recordFamily{
		{desc: s.probes, name: contract.ProbesTotal.Name, help: contract.ProbesTotal.Help, typ: dto.MetricType_COUNTER,
			value: func(tm *targetMetrics) float64 { return float64(tm.probes) },
			write: func(tm *targetMetrics, slot *seriesSlot) {
				slot.counter(tm.labels, tm.probes, slot.timestamp(tm.created))
			}},
		{desc: s.duration, name: contract.RequestDuration.Name, help: contract.RequestDuration.Help, typ: dto.MetricType_HISTOGRAM,
			write: func(tm *targetMetrics, slot *seriesSlot) {
				slot.m = dto.Metric{Label: tm.labels}
				tm.duration.fill(&slot.hist, &slot.m, s.m.buckets, slot.timestamp(tm.duration.reset))
			}},
		{desc: s.responses, name: contract.ResponsesTotal.Name, help: contract.ResponsesTotal.Help, typ: dto.MetricType_COUNTER},
		gauge(s.up, contract.TargetUp, func(tm *targetMetrics) float64 { return tm.up }),
		gauge(s.code, contract.LastStatusCode, func(tm *targetMetrics) float64 { return tm.lastCode }),
		gauge(s.ts, contract.LastProbeTimestamp, func(tm *targetMetrics) float64 { return tm.lastTS }),
		gauge(s.ra, contract.RetryAfter, func(tm *targetMetrics) float64 { return tm.retryAfr }),
	}
	if !s.m.noPhases {
		fs = append(fs, recordFamily{desc: s.phases, name: contract.PhaseDuration.Name, help: contract.PhaseDuration.Help, typ: dto.MetricType_HISTOGRAM})
	}
	slices.SortFunc(fs, func(a, b recordFamily) int { return strings.Compare(a.name, b.name) })
	return fs
}

// stream writes rest and the record families merged by name in format:
// text and OpenMetrics by the textWriter, delimited protobuf by the
// protoWriter, straight from the records; anything else from chunks of
// reused dto objects through expfmt's encoder. Each target's lock is
// held while one family's series of it are copied out; no lock is held
// across a write.
func (s *seriesCollector) stream(w io.Writer, format expfmt.Format, rest []*dto.MetricFamily) error {
	return s.streamWith(w, format, rest, true)
}

// streamWith is stream, with the dto chunks for every format unless
// direct (BenchmarkExposition compares them).
func (s *seriesCollector) streamWith(w io.Writer, format expfmt.Format, rest []*dto.MetricFamily, direct bool) error {
	enc := expfmt.NewEncoder(w, format)
	s.m.mu.RLock()
	tms := s.m.order
	s.m.mu.RUnlock()
	var (
		write func(f recordFamily) error
		flush = func() error { return nil }
	)
	text, om := textFormat(format)
	switch {
	case direct && format.FormatType() == expfmt.TypeProtoDelim:
		pw := s.proto.Swap(nil)
		if pw == nil {
			pw = new(protoWriter) // a concurrent scrape has the spare
		}
		defer s.proto.Store(pw)
		pw.reset(w)
		defer func() { pw.w = nil }()
		write = func(f recordFamily) error { return s.writeProto(pw, f, tms) }
	case direct && text:
		tw := s.text.Swap(nil)
		if tw == nil {
			tw = new(textWriter) // a concurrent scrape has the spare
		}
		defer s.text.Store(tw)
		tw.reset(w, om, s.m.buckets, s.m.phaseBuckets)
		defer func() { tw.w = nil }()
		write = func(f recordFamily) error { return s.writeText(tw, f, tms) }
		flush = tw.flush
	default:
		fw, _ := s.writers.Get().(*familyWriter)
		if fw == nil {
			fw = new(familyWriter)
		}
		defer s.writers.Put(fw)
		fw.w, fw.enc, fw.proto = w, enc, format.FormatType() == expfmt.TypeProtoDelim
		fw.chunkEnc = expfmt.NewEncoder(&fw.scratch, format)
		defer func() { fw.w, fw.enc, fw.chunkEnc = nil, nil, nil }()
		write = func(f recordFamily) error { return s.writeChunks(fw, f, tms) }
	}
	fams := s.families()
	for len(rest) > 0 || len(fams) > 0 {
		if len(fams) == 0 || (len(rest) > 0 && rest[0].GetName() < fams[0].name) {
			if err := flush(); err != nil {
				return err
			}
			if err := enc.Encode(rest[0]); err != nil {
				return err
			}
			rest = rest[1:]
			continue
		}
		if err := write(fams[0]); err != nil {
			return err
		}
		fams = fams[1:]
	}
	if err := flush(); err != nil {
		return err
	}
	if c, ok := enc.(expfmt.Closer); ok {
		return c.Close()
	}
	return nil
}

// writeChunks writes family f in chunks of dto objects.
func (s *seriesCollector) writeChunks(fw *familyWriter, f recordFamily, tms []*targetMetrics) error {
	fw.begin(f)
	var err error
	switch {
	case f.desc == s.responses:
		err = s.streamResponses(fw, tms)
	case f.desc == s.phases:
		err = s.streamPhases(fw, tms)
	default:
		for _, tm := range tms {
			slot := fw.next()
			tm.mu.Lock()
			f.write(tm, slot)
			tm.mu.Unlock()
			if err = fw.flushIfFull(); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}
	return fw.end()
}

// writeText writes family f as text lines.
func (s *seriesCollector) writeText(t *textWriter, f recordFamily, tms []*targetMetrics) error {
	if len(tms) == 0 {
		return nil // no series: no family, as the registry drops it
	}
	if f.desc == s.responses {
		return s.textResponses(t, f, tms)
	}
	t.header(f)
	switch f.desc {
	case s.duration:
		for _, tm := range tms {
			tm.mu.Lock()
			t.histogram(f.name, s.locText, tm, &tm.duration, t.le)
			tm.mu.Unlock()
			if err := t.flushIfFull(); err != nil {
				return err
			}
		}
	case s.phases:
		for _, p := range s.phaseOrder {
			for _, tm := range tms {
				tm.mu.Lock()
				t.histogram(f.name, s.phaseText[p], tm, &tm.phases[p], t.phaseLe)
				tm.mu.Unlock()
				if err := t.flushIfFull(); err != nil {
					return err
				}
			}
		}
	default:
		head := append(append(t.head[:0], f.name...), '{')
		head = append(head, s.locText...)
		t.head = head
		for _, tm := range tms {
			tm.mu.Lock()
			v := f.value(tm)
			tm.mu.Unlock()
			t.scalar(head, tm, v)
			if err := t.flushIfFull(); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeProto writes family f as one delimited protobuf message.
func (s *seriesCollector) writeProto(p *protoWriter, f recordFamily, tms []*targetMetrics) error {
	loc := p.pre[:0]
	if s.m.location != nil {
		loc = appendPairs(loc, s.m.location)
	}
	switch f.desc {
	case s.responses:
		_ = s.eachResponse(tms, func(r *responseRef) error {
			l := r.labels // class, code, location, owner, service, target
			pre := appendPairs(loc[:0], l[:len(l)-2]...)
			p.counter(pre, r.tm, float64(r.count), r.created)
			loc = pre
			return nil
		})
	case s.duration:
		for _, tm := range tms {
			tm.mu.Lock()
			p.histogram(loc, tm, &tm.duration, s.m.buckets)
			tm.mu.Unlock()
		}
	case s.phases:
		for _, ph := range s.phaseOrder {
			pre := appendPairs(loc, s.phaseValues[ph])
			for _, tm := range tms {
				tm.mu.Lock()
				p.histogram(pre, tm, &tm.phases[ph], s.m.phaseBuckets)
				tm.mu.Unlock()
			}
		}
	default:
		for _, tm := range tms {
			tm.mu.Lock()
			v, created := f.value(tm), tm.created
			tm.mu.Unlock()
			if f.typ == dto.MetricType_COUNTER {
				p.counter(loc, tm, v, created)
			} else {
				p.gauge(loc, tm, v)
			}
		}
	}
	p.pre = loc[:0]
	return p.end(f)
}

// textResponses writes the code series in the registry's order
// (eachResponse).
func (s *seriesCollector) textResponses(t *textWriter, f recordFamily, tms []*targetMetrics) error {
	first := true
	return s.eachResponse(tms, func(r *responseRef) error {
		if first {
			t.header(f) // no series: no family, as the registry drops it
			first = false
		}
		t.buf = append(t.buf, f.name...)
		t.buf = append(t.buf, '{')
		t.buf = labelText(t.buf, contract.LabelClass, r.labels[0].GetValue())
		t.buf = labelText(t.buf, contract.LabelCode, r.labels[1].GetValue())
		t.buf = append(t.buf, s.locText...)
		t.buf = labelText(t.buf, contract.LabelOwner, r.labels[len(r.labels)-3].GetValue())
		t.scalar(nil, r.tm, float64(r.count))
		return t.flushIfFull()
	})
}

func (s *seriesCollector) streamPhases(fw *familyWriter, tms []*targetMetrics) error {
	for _, p := range s.phaseOrder {
		for _, tm := range tms {
			slot := fw.next()
			tm.mu.Lock()
			slot.m = dto.Metric{Label: tm.phaseLabels[p]}
			tm.phases[p].fill(&slot.hist, &slot.m, s.m.phaseBuckets, slot.timestamp(tm.phases[p].reset))
			tm.mu.Unlock()
			if err := fw.flushIfFull(); err != nil {
				return err
			}
		}
	}
	return nil
}

// responseRef is one http5xx_responses_total series copied out of its
// target's record.
type responseRef struct {
	tm      *targetMetrics
	labels  []*dto.LabelPair
	count   uint64
	created int64
	group   int32 // its class, code and owner (responseOrder.keys)
}

// streamResponses writes the code series in the registry's order
// (eachResponse).
func (s *seriesCollector) streamResponses(fw *familyWriter, tms []*targetMetrics) error {
	return s.eachResponse(tms, func(r *responseRef) error {
		slot := fw.next()
		slot.counter(r.labels, r.count, slot.timestamp(r.created))
		return fw.flushIfFull()
	})
}

// eachResponse calls fn with the code series of tms in the order the
// registry sorts them (responseOrder.sort), until fn fails. The sort's
// memory is kept for the next scrape, of any format.
func (s *seriesCollector) eachResponse(tms []*targetMetrics, fn func(r *responseRef) error) error {
	o := s.orders.Swap(nil)
	if o == nil {
		o = new(responseOrder) // a concurrent scrape has the spare
	}
	defer func() {
		clear(o.refs) // pins no target a reload removed
		s.orders.Store(o)
	}()
	o.sort(tms)
	for _, i := range o.perm {
		if err := fn(&o.refs[i]); err != nil {
			return err
		}
	}
	return nil
}

// responseOrder is the memory the code series are sorted in.
type responseOrder struct {
	refs        []responseRef
	perm        []int32 // refs' indexes in sorted order
	byPair      map[[3]*dto.LabelPair]int32
	byValue     map[[3]string]int32
	keys        [][3]string
	rank, start []int
}

// sort copies the code series of tms out and sorts them as the registry
// does: by their label values in name order (class, code, location,
// owner, service, target). The location is the same for all and tms are
// sorted by service and target, so the order is the class, code and owner
// groups sorted by value, each in target order: a counting sort over a
// few dozen groups instead of a comparison sort of every series' labels.
func (o *responseOrder) sort(tms []*targetMetrics) {
	if o.byPair == nil {
		o.byPair, o.byValue = map[[3]*dto.LabelPair]int32{}, map[[3]string]int32{}
	}
	clear(o.byPair)
	clear(o.byValue)
	o.keys = o.keys[:0]
	refs := o.refs[:0]
	for _, tm := range tms {
		tm.mu.Lock()
		for _, c := range tm.codes {
			l := c.labels
			pairs := [3]*dto.LabelPair{l[0], l[1], l[len(l)-3]} // class, code, owner
			g, ok := o.byPair[pairs]
			if !ok {
				k := [3]string{pairs[0].GetValue(), pairs[1].GetValue(), pairs[2].GetValue()}
				if g, ok = o.byValue[k]; !ok {
					g = int32(len(o.keys))
					o.byValue[k] = g
					o.keys = append(o.keys, k)
				}
				o.byPair[pairs] = g
			}
			refs = append(refs, responseRef{tm: tm, labels: l, count: c.count, created: c.created, group: g})
		}
		tm.mu.Unlock()
	}
	o.refs = refs
	// Each group's first position in the sorted series.
	order := make([]int, len(o.keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ka, kb := o.keys[a], o.keys[b]
		return cmp.Or(strings.Compare(ka[0], kb[0]), strings.Compare(ka[1], kb[1]), strings.Compare(ka[2], kb[2]))
	})
	o.rank = slices.Grow(o.rank[:0], len(order))[:len(order)]
	for r, g := range order {
		o.rank[g] = r
	}
	o.start = slices.Grow(o.start[:0], len(order))[:len(order)]
	clear(o.start)
	for _, r := range refs {
		o.start[o.rank[r.group]]++
	}
	pos := 0
	for r, n := range o.start {
		o.start[r], pos = pos, pos+n
	}
	o.perm = slices.Grow(o.perm[:0], len(refs))[:len(refs)]
	for i, r := range refs {
		rk := o.rank[r.group]
		o.perm[o.start[rk]] = int32(i)
		o.start[rk]++
	}
}

// familyWriter writes one family in chunks. Text and OpenMetrics: each
// chunk is encoded as a family of its own and its header lines are cut
// but for the first. Protobuf: the family is one delimited message, so
// its series are encoded into a buffer kept across families and scrapes,
// and the length is written before it.
type familyWriter struct {
	w        io.Writer
	enc      expfmt.Encoder
	chunkEnc expfmt.Encoder
	scratch  bytes.Buffer
	proto    bool

	mf      dto.MetricFamily
	metrics []*dto.Metric
	slots   [streamChunk]seriesSlot
	first   bool
	body    []byte
}

// seriesSlot is the memory one written series points to, reused chunk
// after chunk: a scrape allocates no dto objects per series.
type seriesSlot struct {
	m     dto.Metric
	c     dto.Counter
	gauge dto.Gauge
	value float64
	ts    timestamppb.Timestamp
	hist  histSlot
}

// timestamp is ns as the slot's created timestamp.
func (slot *seriesSlot) timestamp(ns int64) *timestamppb.Timestamp {
	t := time.Unix(0, ns) // as timestamppb.New(time.Unix(0, ns)), without the allocation
	slot.ts = timestamppb.Timestamp{Seconds: t.Unix(), Nanos: int32(t.Nanosecond())}
	return &slot.ts
}

func (slot *seriesSlot) counter(labels []*dto.LabelPair, v uint64, created *timestamppb.Timestamp) {
	slot.value = float64(v)
	slot.c = dto.Counter{Value: &slot.value, CreatedTimestamp: created}
	slot.m = dto.Metric{Label: labels, Counter: &slot.c}
}

// next is the slot of the chunk's next series.
func (fw *familyWriter) next() *seriesSlot {
	slot := &fw.slots[len(fw.metrics)]
	fw.metrics = append(fw.metrics, &slot.m)
	return slot
}

func (fw *familyWriter) begin(f recordFamily) {
	name, help, typ := f.name, f.help, f.typ
	fw.mf = dto.MetricFamily{Name: &name, Help: &help, Type: &typ}
	fw.first = true
	fw.metrics = fw.metrics[:0]
	fw.body = fw.body[:0]
}

func (fw *familyWriter) flushIfFull() error {
	if len(fw.metrics) < streamChunk {
		return nil
	}
	return fw.flush()
}

func (fw *familyWriter) flush() error {
	if len(fw.metrics) == 0 {
		return nil
	}
	defer func() {
		clear(fw.metrics)
		fw.metrics = fw.metrics[:0]
	}()
	if fw.proto {
		var err error
		for _, m := range fw.metrics {
			fw.body = protowire.AppendTag(fw.body, 4, protowire.BytesType)
			fw.body = protowire.AppendVarint(fw.body, uint64(proto.Size(m)))
			fw.body, err = proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(fw.body, m)
			if err != nil {
				return err
			}
		}
		fw.first = false
		return nil
	}
	fw.mf.Metric = fw.metrics
	fw.scratch.Reset()
	if err := fw.chunkEnc.Encode(&fw.mf); err != nil {
		return err
	}
	b := fw.scratch.Bytes()
	if !fw.first {
		for len(b) > 0 && b[0] == '#' { // the header lines; a series line starts with its name
			i := bytes.IndexByte(b, '\n')
			b = b[i+1:]
		}
	}
	fw.first = false
	_, err := fw.w.Write(b)
	return err
}

// end writes what is left of the family.
func (fw *familyWriter) end() error {
	if err := fw.flush(); err != nil {
		return err
	}
	if !fw.proto || fw.first {
		return nil // text: written; no series: no family, as the registry drops it
	}
	fw.mf.Metric = nil
	head, err := proto.Marshal(&fw.mf)
	if err != nil {
		return err
	}
	var n [binaryMaxVarint]byte
	l := protowire.AppendVarint(n[:0], uint64(len(head)+len(fw.body)))
	for _, b := range [][]byte{l, head, fw.body} {
		if _, err := fw.w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

const binaryMaxVarint = 10
