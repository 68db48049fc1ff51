package collector

import (
	"bytes"
	"io"
	"math"
	"mime"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// textFlush is how much a textWriter appends before it writes: about a
// hundred targets' lines of the largest family.
const textFlush = 64 << 10

// textWriter writes the record families as text 0.0.4 or OpenMetrics 1.0
// lines straight from the records: no dto object, no label pair is
// looked at per series. A target's service and target labels are escaped
// once, when it is bound (targetMetrics.labelText), so a scrape appends
// its pieces and the numbers. The output is what expfmt's
// MetricFamilyToText and MetricFamilyToOpenMetrics write for the same
// series (TestStreamed* compare whole scrapes byte for byte): the same
// escaping (backslash, newline, and the double quote in label values and
// in OpenMetrics help), the same number formatting (writeFloat,
// writeOpenMetricsFloat), OpenMetrics' counter names without _total in
// HELP and TYPE, the +Inf bucket written from the count, no _created
// lines (the stream only serves when promhttp writes none).
type textWriter struct {
	w   io.Writer
	buf []byte
	om  bool
	// le are the rendered bucket lines' tails, `,le="0.05"} `, of the
	// duration and the phase buckets, and of +Inf.
	le, phaseLe [][]byte
	inf         []byte
	head        []byte // a family's `name{location="…",`
}

// textFormat reports whether the text writer writes format: text 0.0.4
// and OpenMetrics before 2.0 (om).
func textFormat(format expfmt.Format) (ok, om bool) {
	switch format.FormatType() {
	case expfmt.TypeTextPlain:
		return true, false
	case expfmt.TypeOpenMetrics:
		_, params, err := mime.ParseMediaType(string(format))
		return err == nil && params["version"] != expfmt.OpenMetricsVersion_2_0_0, true
	}
	return false, false
}

func (t *textWriter) reset(w io.Writer, om bool, buckets, phaseBuckets []float64) {
	t.w, t.om, t.buf = w, om, t.buf[:0]
	le := func(bounds []float64) [][]byte {
		out := make([][]byte, len(bounds))
		for i, b := range bounds {
			out[i] = t.leTail(b)
		}
		return out
	}
	t.le, t.phaseLe, t.inf = le(buckets), le(phaseBuckets), t.leTail(math.Inf(+1))
}

func (t *textWriter) leTail(bound float64) []byte {
	return append(t.appendFloat(append([]byte(nil), `,le="`...), bound), `"} `...)
}

// flushIfFull writes the buffer once it holds textFlush bytes; never
// called with a target's lock held.
func (t *textWriter) flushIfFull() error {
	if len(t.buf) < textFlush {
		return nil
	}
	return t.flush()
}

func (t *textWriter) flush() error {
	if len(t.buf) == 0 {
		return nil
	}
	_, err := t.w.Write(t.buf)
	t.buf = t.buf[:0]
	return err
}

// header appends the HELP and TYPE lines of f.
func (t *textWriter) header(f recordFamily) {
	name, typ := f.name, ""
	switch f.typ {
	case dto.MetricType_COUNTER:
		typ = "counter"
		if t.om {
			if n, ok := strings.CutSuffix(name, "_total"); ok {
				name = n
			} else {
				typ = "unknown"
			}
		}
	case dto.MetricType_GAUGE:
		typ = "gauge"
	case dto.MetricType_HISTOGRAM:
		typ = "histogram"
	}
	t.buf = append(t.buf, "# HELP "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = appendEscaped(t.buf, f.help, t.om)
	t.buf = append(t.buf, "\n# TYPE "...)
	t.buf = append(t.buf, name...)
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, typ...)
	t.buf = append(t.buf, '\n')
}

// scalar appends one counter or gauge line: head is `name{` and the
// labels before the target's.
func (t *textWriter) scalar(head []byte, tm *targetMetrics, v float64) {
	t.buf = append(t.buf, head...)
	t.buf = append(t.buf, tm.labelText...)
	t.buf = append(t.buf, "} "...)
	t.buf = t.appendFloat(t.buf, v)
	t.buf = append(t.buf, '\n')
}

// histogram appends h's lines: the classic buckets, +Inf, _sum, _count.
// name is the family name, labels the series' labels but the target's.
func (t *textWriter) histogram(name, labels string, tm *targetMetrics, h *hist, le [][]byte) {
	line := func(suffix string) {
		t.buf = append(t.buf, name...)
		t.buf = append(t.buf, suffix...)
		t.buf = append(t.buf, '{')
		t.buf = append(t.buf, labels...)
		t.buf = append(t.buf, tm.labelText...)
	}
	var cum uint64
	for i, tail := range le {
		cum += h.classic[i]
		line("_bucket")
		t.buf = append(t.buf, tail...)
		t.buf = t.appendCount(t.buf, cum)
		t.buf = append(t.buf, '\n')
	}
	if len(le) == 0 || !bytes.Equal(le[len(le)-1], t.inf) {
		line("_bucket")
		t.buf = append(t.buf, t.inf...)
		t.buf = t.appendCount(t.buf, h.count)
		t.buf = append(t.buf, '\n')
	}
	line("_sum")
	t.buf = append(t.buf, "} "...)
	t.buf = t.appendFloat(t.buf, h.sum)
	t.buf = append(t.buf, '\n')
	line("_count")
	t.buf = append(t.buf, "} "...)
	t.buf = t.appendCount(t.buf, h.count)
	t.buf = append(t.buf, '\n')
}

// appendCount appends a histogram count: a float in text (as expfmt
// converts it), an integer in OpenMetrics.
func (t *textWriter) appendCount(b []byte, n uint64) []byte {
	if t.om {
		return strconv.AppendUint(b, n, 10)
	}
	return t.appendFloat(b, float64(n))
}

// appendFloat appends f as expfmt's writeFloat (text) or
// writeOpenMetricsFloat (OpenMetrics: integers get ".0") write it.
func (t *textWriter) appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return t.omSuffix(append(b, '1'))
	case f == 0:
		return t.omSuffix(append(b, '0'))
	case f == -1:
		return t.omSuffix(append(b, "-1"...))
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	n := len(b)
	b = strconv.AppendFloat(b, f, 'g', -1, 64)
	if t.om && bytes.IndexAny(b[n:], "e.") < 0 {
		b = append(b, '.', '0')
	}
	return b
}

func (t *textWriter) omSuffix(b []byte) []byte {
	if t.om {
		return append(b, '.', '0')
	}
	return b
}

// appendEscaped appends s as expfmt escapes it: backslash and newline,
// and the double quote when quote is set (label values, OpenMetrics
// help).
func appendEscaped(b []byte, s string, quote bool) []byte {
	special := "\\\n"
	if quote {
		special = "\\\n\""
	}
	if !strings.ContainsAny(s, special) {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// labelText is `name="value",` escaped as a label of the text formats.
func labelText(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value, true)
	return append(b, '"', ',')
}
