package collector

import (
	"io"
	"math"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// Field numbers of io.prometheus.client's messages (client_model's
// metrics.proto) that the record families use.
const (
	pbFamilyName, pbFamilyHelp, pbFamilyType, pbFamilyMetric = 1, 2, 3, 4
	pbMetricLabel, pbMetricGauge, pbMetricCounter            = 1, 2, 3
	pbMetricHistogram                                        = 7
	pbLabelName, pbLabelValue                                = 1, 2
	pbValue                                                  = 1 // Gauge and Counter
	pbCounterCreated                                         = 3
	pbHistCount, pbHistSum, pbHistBucket                     = 1, 2, 3
	pbHistSchema, pbHistZeroThreshold, pbHistZeroCount       = 5, 6, 7
	pbHistPositiveSpan, pbHistPositiveDelta                  = 12, 13
	pbHistCreated                                            = 15
	pbBucketCount, pbBucketBound                             = 1, 2
	pbSpanOffset, pbSpanLength                               = 1, 2
	pbSeconds, pbNanos                                       = 1, 2 // google.protobuf.Timestamp
)

// protoWriter writes the record families as delimited MetricFamily
// messages encoded straight from the records with protowire: the bytes
// proto.Marshal writes for the dto objects the registry would build
// (fields in number order, proto2 optional fields present when set, the
// Timestamp's proto3 zero fields left out, repeated deltas unpacked),
// without the objects. TestStreamed* compare whole scrapes byte for byte
// with promhttp's. A family is one message whose length comes first, so
// its series are encoded into body, kept from scrape to scrape, and
// written when the family is complete.
type protoWriter struct {
	w     io.Writer
	body  []byte // the family's metrics
	head  []byte // the family's name, help and type; then the length
	sub   []byte // one metric's counter, gauge or histogram
	pre   []byte // one metric's labels before service
	spans histSlot
}

func (p *protoWriter) reset(w io.Writer) { p.w, p.body = w, p.body[:0] }

// end writes the family f whose metrics body holds; nothing when it has
// none, as the registry drops an empty family.
func (p *protoWriter) end(f recordFamily) error {
	defer func() { p.body = p.body[:0] }()
	if len(p.body) == 0 {
		return nil
	}
	h := p.head[:0]
	h = protowire.AppendTag(h, pbFamilyName, protowire.BytesType)
	h = protowire.AppendString(h, f.name)
	h = protowire.AppendTag(h, pbFamilyHelp, protowire.BytesType)
	h = protowire.AppendString(h, f.help)
	h = protowire.AppendTag(h, pbFamilyType, protowire.VarintType)
	h = protowire.AppendVarint(h, uint64(f.typ))
	n := len(h)
	h = protowire.AppendVarint(h, uint64(n+len(p.body)))
	p.head = h
	if _, err := p.w.Write(h[n:]); err != nil {
		return err
	}
	if _, err := p.w.Write(h[:n]); err != nil {
		return err
	}
	_, err := p.w.Write(p.body)
	return err
}

// metric appends one Metric of tm whose value, p.sub, is field: its
// labels are pre, the encoded labels before service (location, phase;
// class, code, location, owner), then tm's service and target. The
// values come from tm's own strings, not from its label pairs: a scrape
// does not chase their pointers.
func (p *protoWriter) metric(pre []byte, tm *targetMetrics, field protowire.Number) {
	size := len(pre) + labelSize(contract.LabelService, tm.service) + labelSize(contract.LabelTarget, tm.name) +
		protowire.SizeTag(field) + protowire.SizeBytes(len(p.sub))
	b := protowire.AppendTag(p.body, pbFamilyMetric, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = append(b, pre...)
	b = appendLabel(b, contract.LabelService, tm.service)
	b = appendLabel(b, contract.LabelTarget, tm.name)
	b = protowire.AppendTag(b, field, protowire.BytesType)
	b = protowire.AppendBytes(b, p.sub)
	p.body = b
}

// appendLabel appends the Metric's label field name=value.
func appendLabel(b []byte, name, value string) []byte {
	b = protowire.AppendTag(b, pbMetricLabel, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(labelPairSize(name, value)))
	b = protowire.AppendTag(b, pbLabelName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, pbLabelValue, protowire.BytesType)
	return protowire.AppendString(b, value)
}

// labelSize is the size appendLabel appends.
func labelSize(name, value string) int {
	return protowire.SizeTag(pbMetricLabel) + protowire.SizeBytes(labelPairSize(name, value))
}

func labelPairSize(name, value string) int {
	return protowire.SizeTag(pbLabelName) + protowire.SizeBytes(len(name)) +
		protowire.SizeTag(pbLabelValue) + protowire.SizeBytes(len(value))
}

// appendPairs appends labels as the Metric's label fields.
func appendPairs(b []byte, labels ...*dto.LabelPair) []byte {
	for _, l := range labels {
		b = appendLabel(b, l.GetName(), l.GetValue())
	}
	return b
}

func (p *protoWriter) gauge(pre []byte, tm *targetMetrics, v float64) {
	s := protowire.AppendTag(p.sub[:0], pbValue, protowire.Fixed64Type)
	p.sub = protowire.AppendFixed64(s, math.Float64bits(v))
	p.metric(pre, tm, pbMetricGauge)
}

// counter appends a counter created at ns (Unix nanoseconds).
func (p *protoWriter) counter(pre []byte, tm *targetMetrics, v float64, ns int64) {
	s := protowire.AppendTag(p.sub[:0], pbValue, protowire.Fixed64Type)
	s = protowire.AppendFixed64(s, math.Float64bits(v))
	p.sub = appendTimestamp(s, pbCounterCreated, ns)
	p.metric(pre, tm, pbMetricCounter)
}

// histogram appends h as hist.fill builds it: the classic buckets
// cumulative, the native ones as spans and deltas unless h has none.
func (p *protoWriter) histogram(pre []byte, tm *targetMetrics, h *hist, bounds []float64) {
	s := protowire.AppendTag(p.sub[:0], pbHistCount, protowire.VarintType)
	s = protowire.AppendVarint(s, h.count)
	s = protowire.AppendTag(s, pbHistSum, protowire.Fixed64Type)
	s = protowire.AppendFixed64(s, math.Float64bits(h.sum))
	var cum uint64
	for i, bound := range bounds {
		cum += h.classic[i]
		s = protowire.AppendTag(s, pbHistBucket, protowire.BytesType)
		s = protowire.AppendVarint(s, uint64(protowire.SizeTag(pbBucketCount)+protowire.SizeVarint(cum)+protowire.SizeTag(pbBucketBound)+protowire.SizeFixed64()))
		s = protowire.AppendTag(s, pbBucketCount, protowire.VarintType)
		s = protowire.AppendVarint(s, cum)
		s = protowire.AppendTag(s, pbBucketBound, protowire.Fixed64Type)
		s = protowire.AppendFixed64(s, math.Float64bits(bound))
	}
	if !h.noNative {
		s = protowire.AppendTag(s, pbHistSchema, protowire.VarintType)
		s = protowire.AppendVarint(s, protowire.EncodeZigZag(int64(h.schema)))
		s = protowire.AppendTag(s, pbHistZeroThreshold, protowire.Fixed64Type)
		s = protowire.AppendFixed64(s, math.Float64bits(nativeZeroThreshold))
		s = protowire.AppendTag(s, pbHistZeroCount, protowire.VarintType)
		s = protowire.AppendVarint(s, h.zero)
		spans, deltas := p.spans.nativeSpans(h.native)
		for _, sp := range spans {
			off, length := protowire.EncodeZigZag(int64(sp.GetOffset())), uint64(sp.GetLength())
			s = protowire.AppendTag(s, pbHistPositiveSpan, protowire.BytesType)
			s = protowire.AppendVarint(s, uint64(protowire.SizeTag(pbSpanOffset)+protowire.SizeVarint(off)+protowire.SizeTag(pbSpanLength)+protowire.SizeVarint(length)))
			s = protowire.AppendTag(s, pbSpanOffset, protowire.VarintType)
			s = protowire.AppendVarint(s, off)
			s = protowire.AppendTag(s, pbSpanLength, protowire.VarintType)
			s = protowire.AppendVarint(s, length)
		}
		for _, d := range deltas {
			s = protowire.AppendTag(s, pbHistPositiveDelta, protowire.VarintType)
			s = protowire.AppendVarint(s, protowire.EncodeZigZag(d))
		}
	}
	p.sub = appendTimestamp(s, pbHistCreated, h.reset)
	p.metric(pre, tm, pbMetricHistogram)
}

// appendTimestamp appends field as the Timestamp of ns, as
// timestamppb.New(time.Unix(0, ns)) marshals.
func appendTimestamp(b []byte, field protowire.Number, ns int64) []byte {
	t := time.Unix(0, ns)
	sec, nanos := uint64(t.Unix()), uint64(int64(t.Nanosecond()))
	size := 0
	if sec != 0 {
		size += protowire.SizeTag(pbSeconds) + protowire.SizeVarint(sec)
	}
	if nanos != 0 {
		size += protowire.SizeTag(pbNanos) + protowire.SizeVarint(nanos)
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	if sec != 0 {
		b = protowire.AppendTag(b, pbSeconds, protowire.VarintType)
		b = protowire.AppendVarint(b, sec)
	}
	if nanos != 0 {
		b = protowire.AppendTag(b, pbNanos, protowire.VarintType)
		b = protowire.AppendVarint(b, nanos)
	}
	return b
}
