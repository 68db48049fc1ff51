package collector

import (
	"math"
	"slices"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Native histogram settings of the probe histograms, as client_golang's
// HistogramOpts would take them: a bucket factor of 1.1 is schema 3 (eight
// buckets per doubling, each about 9% wide), at most 100 populated
// buckets, and a histogram that would need more is reset when it has not
// been for an hour, else its resolution halves.
const (
	nativeSchema        = 3
	nativeMaxBuckets    = 100
	nativeMinReset      = time.Hour
	nativeZeroThreshold = 2.938735877055719e-39 // client_golang's default, 2^-128
	nativeMinSchema     = -4
)

// nativeBounds are the fractions of a power of two where the buckets of
// schemas 1 to 3 start (client_golang's tables).
var nativeBounds = [nativeSchema + 1][]float64{
	1: {0.5, 0.7071067811865475},
	2: {0.5, 0.5946035575013605, 0.7071067811865475, 0.8408964152537144},
	3: {
		0.5, 0.5452538663326288, 0.5946035575013605, 0.6484197773255048,
		0.7071067811865475, 0.7711054127039704, 0.8408964152537144, 0.9170040432046711,
	},
}

// nativeBucket is one populated native bucket.
type nativeBucket struct {
	key   int32
	count uint32
}

// hist is one histogram series kept compactly: the classic buckets'
// counts (not cumulative) and the populated native buckets in key order.
// It writes the same dto.Histogram as a client_golang histogram with
// classic buckets and native schema 3 fed the same observations
// (TestHistMatchesClientGolang), at a fraction of the memory: no sync.Map
// per bucket, no hot and cold copies. Not safe for concurrent use: the
// target's lock guards it.
type hist struct {
	count, zero uint64
	sum         float64
	classic     []uint64 // len(bounds); the +Inf bucket is count
	native      []nativeBucket
	schema      int8
	noNative    bool
	reset       int64 // Unix nanoseconds of the creation or last reset
}

func newHist(classic int, native bool, now time.Time) hist {
	h := hist{schema: nativeSchema, noNative: !native, reset: now.UnixNano()}
	if classic > 0 {
		h.classic = make([]uint64, classic)
	}
	return h
}

func (h *hist) observe(v float64, bounds []float64, now time.Time) {
	if math.IsNaN(v) {
		return // client_golang counts NaN in count and sum only; durations are never NaN
	}
	h.count++
	h.sum += v
	if i := sort.SearchFloat64s(bounds, v); i < len(bounds) {
		h.classic[i]++
	}
	if h.noNative {
		return
	}
	if v <= nativeZeroThreshold {
		h.zero++ // durations are never negative
		return
	}
	h.addNative(nativeKey(v, h.schema), 1)
	if len(h.native) > nativeMaxBuckets {
		h.limit(v, bounds, now)
	}
}

// nativeKey is the key of the bucket of v > 0 at schema, as client_golang
// computes it.
func nativeKey(v float64, schema int8) int32 {
	isInf := math.IsInf(v, 1)
	if isInf {
		v = math.MaxFloat64
	}
	frac, exp := math.Frexp(v)
	var key int
	if schema > 0 {
		bounds := nativeBounds[schema] // schemas only go down from 3
		key = sort.SearchFloat64s(bounds, frac) + (exp-1)*len(bounds)
	} else {
		key = exp
		if frac == 0.5 {
			key--
		}
		offset := (1 << -schema) - 1
		key = (key + offset) >> -schema
	}
	if isInf {
		key++
	}
	return int32(key)
}

func (h *hist) addNative(key int32, n uint32) {
	i, found := slices.BinarySearchFunc(h.native, key, func(b nativeBucket, k int32) int { return int(b.key - k) })
	if found {
		h.native[i].count += n
		return
	}
	if len(h.native) == cap(h.native) {
		// A quarter more, not twice as many: every series keeps its slack,
		// and a new bucket is rare once a target's latencies were seen.
		h.native = append(make([]nativeBucket, 0, len(h.native)+len(h.native)/4+1), h.native...)
	}
	h.native = slices.Insert(h.native, i, nativeBucket{key: key, count: n})
}

// limit brings the native buckets back under nativeMaxBuckets the way
// client_golang does: a reset when the last one is nativeMinReset ago
// (keeping the newest observation), else half the resolution (once per
// observation over the limit).
func (h *hist) limit(v float64, bounds []float64, now time.Time) {
	if now.UnixNano()-h.reset >= int64(nativeMinReset) {
		*h = hist{classic: h.classic, native: h.native[:0], schema: nativeSchema, reset: now.UnixNano()}
		clear(h.classic)
		h.observe(v, bounds, now)
		return
	}
	if h.schema == nativeMinSchema {
		return
	}
	h.schema--
	old := h.native
	h.native = make([]nativeBucket, 0, len(old)/2+1)
	for _, b := range old {
		k := b.key
		if k > 0 {
			k++
		}
		h.addNative(k/2, b.count)
	}
}

// histScratch holds the scalar fields of one written histogram: one
// allocation for what would be five.
type histScratch struct {
	count, zero  uint64
	sum, zeroThr float64
	schema       int32
}

// spanCell is a written span and the values its fields point to.
type spanCell struct {
	span   dto.BucketSpan
	offset int32
	length uint32
}

// write fills out as client_golang's histogram does. The bucket bounds
// point into bounds (fixed for the process lifetime) and created is the
// caller's shared timestamp of h.reset.
func (h *hist) write(out *dto.Metric, bounds []float64, created *timestamppb.Timestamp) {
	h.fill(&histSlot{}, out, bounds, created)
}

// histSlot is what a written histogram points to, kept by a streamed
// scrape from one series to the next (collector/stream.go).
type histSlot struct {
	h       dto.Histogram
	sc      histScratch
	buckets []dto.Bucket
	ptrs    []*dto.Bucket
	cums    []uint64
	cells   []spanCell
	spans   []*dto.BucketSpan
	deltas  []int64
}

// fill is write into slot's memory: out points into slot until the next
// fill of it.
func (h *hist) fill(slot *histSlot, out *dto.Metric, bounds []float64, created *timestamppb.Timestamp) {
	sc := &slot.sc
	*sc = histScratch{count: h.count, zero: h.zero, sum: h.sum, zeroThr: nativeZeroThreshold, schema: int32(h.schema)}
	slot.h = dto.Histogram{
		SampleCount:      &sc.count,
		SampleSum:        &sc.sum,
		CreatedTimestamp: created,
	}
	d := &slot.h
	if len(bounds) > 0 {
		if len(slot.buckets) != len(bounds) {
			slot.buckets = make([]dto.Bucket, len(bounds))
			slot.cums = make([]uint64, len(bounds))
			slot.ptrs = make([]*dto.Bucket, len(bounds))
		}
		var cum uint64
		for i := range bounds {
			cum += h.classic[i]
			slot.cums[i] = cum
			slot.buckets[i] = dto.Bucket{CumulativeCount: &slot.cums[i], UpperBound: &bounds[i]}
			slot.ptrs[i] = &slot.buckets[i]
		}
		d.Bucket = slot.ptrs
	} else {
		d.Bucket = []*dto.Bucket{}
	}
	if !h.noNative {
		d.ZeroThreshold = &sc.zeroThr
		d.Schema = &sc.schema
		d.ZeroCount = &sc.zero
		d.PositiveSpan, d.PositiveDelta = slot.nativeSpans(h.native)
	}
	out.Histogram = d
}

// nativeSpans encodes the buckets as spans and deltas, a gap of up to two
// empty buckets inside a span, as client_golang does.
func (slot *histSlot) nativeSpans(bs []nativeBucket) ([]*dto.BucketSpan, []int64) {
	if len(bs) == 0 {
		return nil, nil
	}
	n := 1
	for i := 1; i < len(bs); i++ {
		if bs[i].key-bs[i-1].key > 3 { // a gap of more than two empty buckets
			n++
		}
	}
	if cap(slot.cells) < n {
		slot.cells = make([]spanCell, n)
		slot.spans = make([]*dto.BucketSpan, 0, n)
	}
	cells := slot.cells[:n]
	clear(cells)
	spans := slot.spans[:0]
	width := int(bs[len(bs)-1].key-bs[0].key) + 1 // at most every key in range
	if cap(slot.deltas) < width {
		slot.deltas = make([]int64, 0, width)
	}
	deltas := slot.deltas[:0]
	var (
		prev int64
		next int32
	)
	appendDelta := func(c int64) {
		cells[len(spans)-1].length++
		deltas = append(deltas, c-prev)
		prev = c
	}
	for i, b := range bs {
		gap := b.key - next
		if i == 0 || gap > 2 {
			c := &cells[len(spans)]
			c.offset = gap
			c.span = dto.BucketSpan{Offset: &c.offset, Length: &c.length}
			spans = append(spans, &c.span)
		} else {
			for range gap {
				appendDelta(0)
			}
		}
		appendDelta(int64(b.count))
		next = b.key + 1
	}
	slot.spans, slot.deltas = spans, deltas
	return spans, deltas
}
