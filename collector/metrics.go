package collector

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// precreated are the codes every target exports from its first scrape, so
// rate() and absent-series alerts work before the first error.
var precreated = []int{200, 500, 502, 503, 504}

// maxExtraCodeSeries bounds the series a target's answers create beyond the
// precreated codes, in http5xx_responses_total and http5xx_error_layer_total
// together. Later new codes count under code="other" (CodeOther) with their
// own class and owner, and add no layer series: a target answering
// arbitrary codes adds at most one series per class of the class table and
// pseudo-class (1xx..9xx), so the count is bounded by the configuration,
// never by what a target sends, and the error ratios and owners stay right.
const maxExtraCodeSeries = 2

// CodeOther is the code label of answers past a target's code series
// budget; http5xx_last_status_code and the status page still show the exact
// code.
const CodeOther = "other"

// codeOther is the codeKey code of CodeOther.
const codeOther = -1

// Metrics holds every probe-path series. The series every target has
// (probes, durations, phases, up, last code, last time, Retry-After) are
// kept in the target's own compact record and written at scrape time by
// one collector (series.go); the series a target's answers create on the
// way (codes, reasons, layers, skips, connection) are client_golang
// children bound once, so observing a result allocates nothing.
type Metrics struct {
	series     *seriesCollector
	failures   *targetFamily
	layers     *prometheus.CounterVec
	targetInfo *targetInfo
	skipped    *prometheus.CounterVec
	certs      *targetFamily
	connInfo   *targetFamily

	Inflight   prometheus.Gauge
	Limit      prometheus.Gauge // the effective in-flight limit
	Lag        prometheus.Histogram
	ReloadOK   prometheus.Gauge
	ReloadTime prometheus.Gauge

	// buckets are fixed for the process lifetime (a reload cannot change
	// them without resetting every histogram).
	buckets, phaseBuckets []float64
	noPhases              bool
	location              *dto.LabelPair // nil without a location

	mu      sync.RWMutex
	targets map[string]*targetMetrics
	// order is targets in the order of their series in an exposition
	// (service, then name), so the registry's sort finds them sorted.
	order      []*targetMetrics
	classifier *triage.Finisher
}

// MetricsOptions are the settings fixed at start.
type MetricsOptions struct {
	Location     string
	Buckets      []float64 // classic buckets of the request duration
	PhaseBuckets []float64 // classic buckets of the phase histogram; nil: native only
	// NoPhaseHistograms drops http5xx_phase_duration_seconds, for fleets
	// where its series cost more than the detail is worth.
	NoPhaseHistograms bool
}

// NewMetrics builds the probe-path metrics; register them with Register.
func NewMetrics(o MetricsOptions) *Metrics {
	var cl prometheus.Labels
	if o.Location != "" {
		cl = prometheus.Labels{contract.LabelLocation: o.Location}
	}
	counter := func(m contract.Metric) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: m.Name, Help: m.Help, ConstLabels: cl}, labelNames(m))
	}
	one := func(m contract.Metric) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: m.Name, Help: m.Help, ConstLabels: cl})
	}
	m := &Metrics{
		layers:   counter(contract.ErrorLayerTotal),
		skipped:  counter(contract.SkippedProbesTotal),
		Inflight: one(contract.InflightProbes),
		Limit:    one(contract.ProbeConcurrencyLimit),
		// Native buckets beside the classic ones, as the probe durations
		// have: the lag quantiles of the dashboards and of bench-scale
		// read within 10% of the truth where Prometheus ingests them.
		Lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: contract.ScheduleLag.Name, Help: contract.ScheduleLag.Help, ConstLabels: cl,
			Buckets:                         []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5},
			NativeHistogramBucketFactor:     1.1,
			NativeHistogramMaxBucketNumber:  100,
			NativeHistogramMinResetDuration: time.Hour,
		}),
		ReloadOK:     one(contract.ConfigLastReloadSuccessful),
		ReloadTime:   one(contract.ConfigLastReloadSuccessTimestamp),
		buckets:      slices.Clone(o.Buckets),
		phaseBuckets: slices.Clone(o.PhaseBuckets),
		noPhases:     o.NoPhaseHistograms,
		targets:      map[string]*targetMetrics{},
	}
	if o.Location != "" {
		m.location = labelPair(contract.LabelLocation, o.Location)
	}
	m.series = newSeriesCollector(m, cl)
	m.targetInfo = newTargetInfo(m, cl)
	m.failures = newTargetFamily(m, contract.FailuresTotal, cl, writeFailures)
	m.connInfo = newTargetFamily(m, contract.ConnectionInfo, cl, writeConnection)
	m.certs = newTargetFamily(m, contract.TLSCertNotAfter, cl, writeCerts)
	return m
}

func labelNames(m contract.Metric) []string {
	var ls []string
	if m.PerTarget {
		ls = append(ls, contract.LabelTarget, contract.LabelService)
	}
	return append(ls, m.Labels...)
}

// Register registers every probe-path collector.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		m.series, m.failures, m.layers, m.targetInfo, m.skipped, m.certs, m.connInfo,
		m.Inflight, m.Limit, m.Lag, m.ReloadOK, m.ReloadTime,
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// targetMetrics are one target's series: its record of the fixed series
// and its bound children.
type targetMetrics struct {
	name, service, url, owner string
	classifier                *triage.Finisher
	// labels are the target's label pairs in name order (location,
	// service, target), phaseLabels the same with each phase's; shared by
	// every scrape.
	labels      []*dto.LabelPair
	phaseLabels [][]*dto.LabelPair
	labelText   string // `service="…",target="…"` escaped for the text formats

	mu sync.Mutex // guards everything below among Observe calls and scrapes
	// The fixed series, written by the seriesCollector.
	created                        int64                  // Unix nanoseconds the series were bound
	createdTS                      *timestamppb.Timestamp // created, made at the first scrape
	probes                         uint64
	up, lastCode, lastTS, retryAfr float64
	duration                       hist
	phases                         []hist // nil when the phase histograms are off

	extra    int             // code and layer series bound beyond the precreated codes
	codes    []codeSeries    // http5xx_responses_total, written by the seriesCollector
	failures []failureSeries // http5xx_failures_total by reason, in the order first seen
	layers   map[layerKey]prometheus.Counter
	skipped  map[contract.SkipReason]prometheus.Counter
	// certs are the leaf and chain NotAfter (Unix seconds), nil before
	// the first certificate seen; conn the label values of the target's
	// http5xx_connection_info, nil before the first answer.
	certs *[2]int64
	conn  *connKey
	// info is the target's configuration, which http5xx_target_info is
	// written from, and infoURL its redacted URL when that is not url.
	info    *config.Target
	infoURL string
}

// setInfo follows t, the target's configuration, which must not change
// afterwards.
func (tm *targetMetrics) setInfo(t *config.Target) {
	u := t.RedactedURL()
	if u == t.URL {
		u = ""
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.info, tm.infoURL = t, u
}

// failureSeries is one http5xx_failures_total series of a target; its
// class and owner are the target's Finisher's for the reason.
type failureSeries struct {
	reason  contract.Reason
	count   uint64
	created int64 // Unix nanoseconds
}

// connKey is the label values of one http5xx_connection_info series.
type connKey struct{ protocol, family, version, subject, issuer string }

// codeKey is one http5xx_responses_total child: the exact code and the class
// of its cause (the code's own unless the answer proved another, see
// collector/triage).
type codeKey struct {
	code  int
	class string
}

type layerKey struct {
	code           int
	layer, product string
}

// SetTargets binds children for new targets, keeps those of unchanged
// targets (their counters survive a reload) and deletes the series of
// targets that are gone or whose labels changed. A changed class table, or
// a target's changed teams, rebinds the code and reason children only,
// since only their class and owner labels change with it. The owner label
// is the target's team for the class (c.ForTarget).
func (m *Metrics) SetTargets(ts []*config.Target, c *triage.Finisher, classesChanged bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.classifier = c
	keep := make(map[string]bool, len(ts))
	for _, t := range ts {
		keep[t.Name] = true
		old, ok := m.targets[t.Name]
		tc := c.ForTarget(t) // the target's team per class
		if ok && old.service == t.Service && old.url == t.URL && old.owner == t.Owner {
			old.setInfo(t) // its labels may have changed; the counters stay
			if classesChanged || !old.classifier.SameTeams(tc) {
				m.reclassify(old, tc)
			}
			continue
		}
		if ok {
			m.deleteTarget(old.name)
		}
		m.targets[t.Name] = m.bind(t, tc)
	}
	for name := range m.targets {
		if !keep[name] {
			m.deleteTarget(name)
			delete(m.targets, name)
		}
	}
	// A new slice, never changed after: a scrape reads it without the lock.
	order := make([]*targetMetrics, 0, len(m.targets))
	for _, tm := range m.targets {
		order = append(order, tm)
	}
	slices.SortFunc(order, func(a, b *targetMetrics) int {
		return cmp.Or(strings.Compare(a.service, b.service), strings.Compare(a.name, b.name))
	})
	m.order = order
}

func (m *Metrics) deleteTarget(name string) {
	match := prometheus.Labels{contract.LabelTarget: name}
	// The record series go with the target's entry in m.targets.
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.layers, m.skipped,
	} {
		v.DeletePartialMatch(match)
	}
}

// reclassify moves a target's code and reason counters to the classes and
// teams of c, the target's Finisher.
// Their class and owner labels change, so they are new series from 0.
func (m *Metrics) reclassify(tm *targetMetrics, c *triage.Finisher) {
	tm.mu.Lock() // a scrape reads the codes and failures under it
	defer tm.mu.Unlock()
	tm.classifier = c
	tm.failures = nil
	tm.extra = len(tm.layers) // the layer series stay
	m.precreate(tm)
}

// precreate sets tm's code series to the precreated codes at 0.
func (m *Metrics) precreate(tm *targetMetrics) {
	now := time.Now().UnixNano()
	tm.codes = make([]codeSeries, 0, len(precreated)) // an extra code is rare: append grows it
	for _, code := range precreated {
		class, owner := tm.classifier.Code(code)
		tm.codes = append(tm.codes, m.series.codeSeries(tm, codeKey{code, class}, owner, now))
	}
}

func (m *Metrics) bind(t *config.Target, c *triage.Finisher) *targetMetrics {
	now := time.Now()
	tm := &targetMetrics{
		name: t.Name, service: t.Service, url: t.URL, owner: t.Owner, classifier: c,
		created:  now.UnixNano(),
		duration: newHist(len(m.buckets), true, now),
	}
	m.series.label(tm)
	if !m.noPhases {
		tm.phases = make([]hist, contract.NumPhases)
		for p := range tm.phases {
			tm.phases[p] = newHist(len(m.phaseBuckets), true, now)
		}
	}
	m.precreate(tm)
	tm.setInfo(t)
	return tm
}

// codeSeries returns the series of an answer, adding it within the
// target's budget; exact reports whether it has the answer's own code.
// tm.mu is held.
func (m *Metrics) codeSeries(tm *targetMetrics, r *probe.Result) (c *codeSeries, exact bool) {
	find := func(k codeKey) *codeSeries {
		for i := range tm.codes {
			if tm.codes[i].key == k {
				return &tm.codes[i]
			}
		}
		return nil
	}
	k := codeKey{r.StatusCode, r.Class}
	if c := find(k); c != nil {
		return c, true
	}
	if tm.extra < maxExtraCodeSeries {
		tm.extra++
		tm.codes = append(tm.codes, m.series.codeSeries(tm, k, r.Owner, time.Now().UnixNano()))
		return &tm.codes[len(tm.codes)-1], true
	}
	k = codeKey{codeOther, r.Class}
	if c := find(k); c != nil {
		return c, false
	}
	tm.codes = append(tm.codes, m.series.codeSeries(tm, k, r.Owner, time.Now().UnixNano()))
	return &tm.codes[len(tm.codes)-1], false
}

// Observe records one probe result. Unknown targets (a result racing a
// reload that removed its target) are dropped. The read lock is held
// throughout: a child bound lazily below after SetTargets deleted the
// target's series would bring them back for good.
func (m *Metrics) Observe(r *probe.Result) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	tm := m.targets[r.Target]
	if tm == nil {
		return
	}
	if r.Reason == contract.ReasonExporter {
		// The exporter failed, not the target: a skipped probe, and
		// nothing the target is judged by (probes, errors, up, last code,
		// durations) changes.
		m.skip(tm, contract.SkipExporter)
		return
	}
	now := time.Now()
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.probes++
	tm.duration.observe(r.Duration.Seconds(), m.buckets, now)
	for p := range tm.phases {
		if r.PhaseSeen[p] {
			tm.phases[p].observe(r.Phases[p].Seconds(), m.phaseBuckets, now)
		}
	}
	tm.up = 0
	if r.Success {
		tm.up = 1
	}
	tm.lastCode = float64(r.StatusCode)
	tm.lastTS = float64(r.Start.Add(r.Duration).UnixNano()) / 1e9
	tm.retryAfr = r.RetryAfter.Seconds()

	m.connection(tm, &r.Conn)
	if r.Reason != contract.ReasonNone {
		tm.fail(r.Reason, now)
		return
	}
	c, exact := m.codeSeries(tm, r)
	c.count++
	if exact && r.StatusCode >= 500 && r.Layer != "" {
		k := layerKey{r.StatusCode, r.Layer, r.Product}
		lc := tm.layers[k]
		if lc == nil && tm.extra < maxExtraCodeSeries {
			tm.extra++
			lc = m.layers.WithLabelValues(tm.name, tm.service, strconv.Itoa(r.StatusCode), r.Layer, r.Product)
			if tm.layers == nil {
				tm.layers = map[layerKey]prometheus.Counter{} // most targets never need one
			}
			tm.layers[k] = lc
		}
		if lc != nil {
			lc.Inc()
		}
	}
}

// connection records what a probe saw of its connection; tm.mu is held.
// A probe that saw less (no answer, no handshake) leaves the last values:
// a timeout says nothing new about the certificate.
func (m *Metrics) connection(tm *targetMetrics, c *probe.Conn) {
	if c.TLS.HasCert() {
		if tm.certs == nil {
			tm.certs = new([2]int64)
		}
		*tm.certs = [2]int64{c.TLS.LeafNotAfter.Unix(), c.TLS.ChainNotAfter.Unix()}
	}
	if c.Protocol == "" {
		return
	}
	if tm.conn != nil && *tm.conn == (connKey{c.Protocol, c.IPFamily, c.TLS.Version, c.TLS.Subject, c.TLS.Issuer}) {
		return // the usual case, and allocation-free
	}
	// One series per target: the old one goes when anything changes.
	tm.conn = &connKey{c.Protocol, c.IPFamily, c.TLS.Version, c.TLS.Subject, c.TLS.Issuer}
}

// fail counts a probe of tm without an answer; tm.mu is held.
func (tm *targetMetrics) fail(r contract.Reason, now time.Time) {
	for i := range tm.failures {
		if tm.failures[i].reason == r {
			tm.failures[i].count++
			return
		}
	}
	tm.failures = append(tm.failures, failureSeries{reason: r, count: 1, created: now.UnixNano()})
}

// targetFamily is a family of series a target's answers create, written
// from the target's record at scrape time: a client_golang child per
// series held its label pairs and created timestamp, some 800 bytes, where
// the record keeps a count and a time or nothing at all.
type targetFamily struct {
	m     *Metrics
	desc  *prometheus.Desc
	names []string // target, service, then the family's own label names
	// write adds tm's series to out; tm.mu is held.
	write func(f *targetFamily, tm *targetMetrics, ss *scrapeSeries, out []prometheus.Metric) []prometheus.Metric
}

func newTargetFamily(m *Metrics, c contract.Metric, constLabels prometheus.Labels,
	write func(*targetFamily, *targetMetrics, *scrapeSeries, []prometheus.Metric) []prometheus.Metric) *targetFamily {
	return &targetFamily{m: m, desc: prometheus.NewDesc(c.Name, c.Help, labelNames(c), constLabels), names: labelNames(c), write: write}
}

func (f *targetFamily) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }

// Collect writes the series of every target, each target's under its lock
// and sent after it.
func (f *targetFamily) Collect(ch chan<- prometheus.Metric) {
	f.m.mu.RLock()
	tms := f.m.order
	f.m.mu.RUnlock()
	ss := &scrapeSeries{k: len(f.names) - 2}
	var out []prometheus.Metric
	for _, tm := range tms {
		tm.mu.Lock()
		out = f.write(f, tm, ss, out[:0])
		tm.mu.Unlock()
		for _, s := range out {
			ch <- s
		}
	}
}

// series adds a series of tm to out: values are those of the labels after
// target and service, in names order.
func (f *targetFamily) series(ss *scrapeSeries, out []prometheus.Metric, tm *targetMetrics, typ prometheus.ValueType, v float64, ct time.Time, values ...string) []prometheus.Metric {
	ls := ss.labels(len(tm.labels) + len(values))
	ls = append(ls, tm.labels...) // location, service, target: shared by every scrape
	for i, value := range values {
		ls = append(ls, ss.pair(&f.names[2+i], value))
	}
	if s, ok := ss.add(f.desc, ls, typ, v, ct); ok {
		out = append(out, s)
	}
	return out
}

// writeFailures writes tm's http5xx_failures_total.
func writeFailures(f *targetFamily, tm *targetMetrics, ss *scrapeSeries, out []prometheus.Metric) []prometheus.Metric {
	for _, fs := range tm.failures {
		class, owner := tm.classifier.Reason(fs.reason)
		out = f.series(ss, out, tm, prometheus.CounterValue, float64(fs.count), time.Unix(0, fs.created), fs.reason.String(), class, owner)
	}
	return out
}

// writeCerts writes tm's http5xx_tls_cert_not_after_timestamp_seconds.
func writeCerts(f *targetFamily, tm *targetMetrics, ss *scrapeSeries, out []prometheus.Metric) []prometheus.Metric {
	if tm.certs == nil {
		return out
	}
	for i, which := range [2]string{contract.CertLeaf, contract.CertChain} {
		out = f.series(ss, out, tm, prometheus.GaugeValue, float64(tm.certs[i]), time.Time{}, which)
	}
	return out
}

// writeConnection writes tm's http5xx_connection_info.
func writeConnection(f *targetFamily, tm *targetMetrics, ss *scrapeSeries, out []prometheus.Metric) []prometheus.Metric {
	if k := tm.conn; k != nil {
		out = f.series(ss, out, tm, prometheus.GaugeValue, 1, time.Time{}, k.protocol, k.family, k.version, k.subject, k.issuer)
	}
	return out
}

// Skipped counts a probe slot the scheduler could not use.
func (m *Metrics) Skipped(target string, reason contract.SkipReason) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	tm := m.targets[target]
	if tm == nil {
		return
	}
	m.skip(tm, reason)
}

// skip counts a skipped probe of tm; m.mu is held.
func (m *Metrics) skip(tm *targetMetrics, reason contract.SkipReason) {
	tm.mu.Lock()
	c := tm.skipped[reason]
	if c == nil {
		c = m.skipped.WithLabelValues(tm.name, tm.service, string(reason))
		if tm.skipped == nil {
			tm.skipped = map[contract.SkipReason]prometheus.Counter{}
		}
		tm.skipped[reason] = c
	}
	tm.mu.Unlock()
	c.Inc()
}

// ResultGatherer holds the per-target series of one result alone, built with
// the same collectors as the scheduled probes so names, labels and buckets
// are identical; exporter-wide series (in-flight, lag, reload) mean nothing
// for one probe and are left out.
func ResultGatherer(o MetricsOptions, t *config.Target, f *triage.Finisher, r *probe.Result) (prometheus.Gatherer, error) {
	m := NewMetrics(o)
	reg := prometheus.NewRegistry()
	if err := m.Register(reg); err != nil {
		return nil, err
	}
	m.SetTargets([]*config.Target{t}, f, true)
	m.Observe(r)
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := reg.Gather()
		return slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool { return !hasTargetLabel(mf) }), err
	}), nil
}

func hasTargetLabel(mf *dto.MetricFamily) bool {
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == contract.LabelTarget {
				return true
			}
		}
	}
	return false
}
