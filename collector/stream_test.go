package collector

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/probe"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// streamAccepts are the Accept headers of the formats a scrape negotiates:
// text 0.0.4, OpenMetrics 1.0.0 and 0.0.1, delimited protobuf, and what
// Prometheus 3 sends (protobuf first, UTF-8 names allowed).
var streamAccepts = map[string]string{
	"text-default": "",
	"text":         "text/plain;version=0.0.4",
	"openmetrics1": "application/openmetrics-text;version=1.0.0",
	"openmetrics0": "application/openmetrics-text;version=0.0.1",
	"protobuf":     "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	"prometheus3": "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8;q=0.6," +
		"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
}

var streamOpts = promhttp.HandlerOpts{EnableOpenMetrics: true}

// scrape answers one request of h and returns the decompressed body.
func scrape(t testing.TB, h http.Handler, accept string, gz bool) (string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return string(decoded(t, rec)), rec.Header()
}

// decoded is rec's body, decompressed when it was sent gzipped.
func decoded(t testing.TB, rec *httptest.ResponseRecorder) []byte {
	t.Helper()
	body := rec.Body.Bytes()
	if rec.Header().Get("Content-Encoding") != "gzip" {
		return body
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body, err = io.ReadAll(zr); err != nil {
		t.Fatal(err)
	}
	return body
}

// compareStreamed checks that MetricsHandler writes what promhttp writes
// from the registry, in every format, with and without gzip.
func compareStreamed(t *testing.T, reg *prometheus.Registry, m *Metrics) {
	t.Helper()
	opts := streamOpts
	opts.Registry = reg
	streamed := m.MetricsHandler(reg, opts)
	registry := promhttp.HandlerFor(reg, opts) // today's path
	for name, accept := range streamAccepts {
		for _, gz := range []bool{false, true} {
			want, wantHeader := scrape(t, registry, accept, gz)
			got, gotHeader := scrape(t, streamed, accept, gz)
			if want != got {
				t.Errorf("%s (gzip %v): the streamed exposition differs from the registry's (%d vs %d bytes):\n%s",
					name, gz, len(got), len(want), lineDiff(want, got))
			}
			for _, h := range []string{"Content-Type", "Content-Encoding"} {
				if wantHeader.Get(h) != gotHeader.Get(h) {
					t.Errorf("%s (gzip %v): %s %q, want %q", name, gz, h, gotHeader.Get(h), wantHeader.Get(h))
				}
			}
			if len(want) == 0 {
				t.Errorf("%s: empty exposition", name)
			}
		}
	}
}

func TestStreamedGolden(t *testing.T) {
	reg, m := newGoldenRegistry(t, "eu")
	observeGolden(m)
	for _, c := range extraGoldenCollectors(t) {
		reg.MustRegister(c)
	}
	compareStreamed(t, reg, m)
}

// hostile are label values that need escaping in every format, or sort
// oddly: quotes, backslashes, newlines, UTF-8, the empty string.
var hostile = []string{`a"b`, `c\d`, "e\nf", "ünïcødé-☃", `\"`, "plain", "z", "A", "", "\\\n\"\"\n", `# HELP x`, " "}

// streamFleet is n targets whose names, services and owners (the team of
// some classes) are hostile label values.
func streamFleet(n int) []*config.Target {
	ts := make([]*config.Target, n)
	for i := range ts {
		ts[i] = &config.Target{
			Name:    fmt.Sprintf("%s-%d", hostile[i%len(hostile)], i),
			Service: hostile[(i/3)%len(hostile)],
			URL:     fmt.Sprintf("http://127.0.0.1:9/%d", i),
			Owner:   "team",
		}
		if i%4 != 0 {
			ts[i].Teams = []config.ClassTeam{
				{Class: "app", Team: hostile[(i/2)%len(hostile)]},
				{Class: "capacity", Team: hostile[(i/5)%len(hostile)]},
			}
		}
	}
	return ts
}

// randomResult is a probe with any code (1xx to 9xx and odd ones), any
// no-answer reason, and durations spread over many orders of magnitude so
// native histograms halve their resolution.
func randomResult(rnd *rand.Rand, t *config.Target, f *triage.Finisher) probe.Result {
	r := probe.Result{Target: t.Name, Start: time.Unix(1_700_000_000+rnd.Int64N(1000), rnd.Int64N(1e9))}
	r.Duration = time.Duration(rnd.ExpFloat64() * float64(time.Duration(1+rnd.IntN(3))*time.Duration(rnd.IntN(6)+1)*time.Millisecond*time.Duration(1<<rnd.IntN(12))))
	for p := contract.Phase(0); p < contract.NumPhases; p++ {
		if rnd.IntN(4) > 0 {
			r.Phases[p], r.PhaseSeen[p] = time.Duration(rnd.Int64N(int64(time.Second)>>rnd.IntN(20))), true
		}
	}
	if rnd.IntN(10) == 0 {
		r.Reason = contract.Reasons()[rnd.IntN(len(contract.Reasons())-1)] // not ReasonExporter
		r.Class, r.Owner = f.Reason(r.Reason)
		return r
	}
	codes := []int{200, 201, 204, 301, 404, 429, 500, 502, 503, 504, 520, 599, 100, 999, 777}
	r.StatusCode = codes[rnd.IntN(len(codes))]
	r.Success = r.StatusCode < 400
	r.RetryAfter = time.Duration(rnd.IntN(3)) * time.Second
	r.Class, r.Owner = f.Code(r.StatusCode)
	return r
}

func TestStreamedRandomFleet(t *testing.T) {
	for _, o := range []MetricsOptions{
		{Location: "eu\"\\\n☃", Buckets: goldenBuckets, PhaseBuckets: []float64{0.001, 0.01, 0.1}},
		{Buckets: goldenBuckets},
		{Buckets: nil, NoPhaseHistograms: true},
	} {
		reg := prometheus.NewRegistry()
		m := NewMetrics(o)
		if err := m.Register(reg); err != nil {
			t.Fatal(err)
		}
		f := triage.Default()
		ts := streamFleet(2*streamChunk + 37) // several chunks, and a partial one
		m.SetTargets(ts, f, true)
		rnd := rand.New(rand.NewPCG(7, 11))
		for i := range 40 {
			if i == 20 {
				// Native histogram resets: an hour since the last one, and
				// more than nativeMaxBuckets buckets in the rounds below.
				for _, tm := range m.order[:50] {
					tm.mu.Lock()
					tm.duration.reset -= int64(2 * nativeMinReset)
					tm.mu.Unlock()
				}
			}
			for _, tg := range ts {
				if rnd.IntN(5) == 0 {
					continue // some targets lag behind
				}
				r := randomResult(rnd, tg, f)
				m.Observe(&r)
			}
		}
		if len(ts) > 3 {
			m.Skipped(ts[3].Name, contract.SkipLimit)
		}
		compareStreamed(t, reg, m)
		compareChunks(t, reg, m)
	}
}

// compareChunks checks that the dto chunks BenchmarkExposition measures
// write what the direct writers write, in every format they serve.
func compareChunks(t *testing.T, reg *prometheus.Registry, m *Metrics) {
	t.Helper()
	for _, format := range []expfmt.Format{
		expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeOpenMetrics), expfmt.NewFormat(expfmt.TypeProtoDelim),
	} {
		var out [2]bytes.Buffer
		for i, direct := range []bool{true, false} {
			mfs, err := m.gatherRest(reg)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.series.streamWith(&out[i], format, mfs, direct); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(out[0].Bytes(), out[1].Bytes()) {
			t.Errorf("%s: the dto chunks differ from the direct writer (%d vs %d bytes):\n%s",
				format, out[1].Len(), out[0].Len(), lineDiff(out[0].String(), out[1].String()))
		}
	}
}

// TestStreamedNegotiation checks every Accept-Encoding gets the encoding
// and body promhttp gives: the ones the stream answers and the ones it
// leaves to promhttp (weights, zstd, a name[] filter).
func TestStreamedNegotiation(t *testing.T) {
	reg, m := newGoldenRegistry(t, "eu")
	streamed := m.MetricsHandler(reg, streamOpts)
	registry := promhttp.HandlerFor(reg, streamOpts)
	for _, target := range []string{"/metrics?name[]=http5xx_probes_total", "/metrics"} {
		for _, enc := range []string{"gzip;q=1.0, identity;q=0.5", "zstd", "identity, gzip", "gzip, deflate, br", "br", "gzip", ""} {
			var bodies [2]string
			for i, h := range []http.Handler{registry, streamed} {
				req := httptest.NewRequest(http.MethodGet, target, nil)
				req.Header.Set("Accept-Encoding", enc)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				bodies[i] = rec.Header().Get("Content-Encoding") + "\n" + string(decoded(t, rec))
			}
			if bodies[0] != bodies[1] {
				t.Errorf("%s, Accept-Encoding %q: the answer differs from promhttp's:\n%s", target, enc, lineDiff(bodies[0], bodies[1]))
			}
		}
	}
}

// TestStreamDoesNotBlockProbes records probes while scrapes stream: every
// Observe returns while the scrapes go on, and each scrape stays whole.
func TestStreamDoesNotBlockProbes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(MetricsOptions{Buckets: goldenBuckets})
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	f := triage.Default()
	ts := streamFleet(1000)
	m.SetTargets(ts, f, true)
	h := m.MetricsHandler(reg, streamOpts)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	observed := 0
	rnd := rand.New(rand.NewPCG(1, 2))
	untilStopped(&wg, stop, func(int) {
		r := randomResult(rnd, ts[rnd.IntN(len(ts))], f)
		m.Observe(&r)
		observed++
	})
	for range 5 {
		body, _ := scrape(t, h, "", false)
		if n := bytes.Count([]byte(body), []byte("\nhttp5xx_target_up{")); n != len(ts) {
			t.Errorf("%d http5xx_target_up series, want %d", n, len(ts))
		}
	}
	close(stop)
	wg.Wait()
	if observed == 0 {
		t.Error("no probe was recorded during five scrapes")
	}
}

// untilStopped calls step(0), step(1), ... in a goroutine of wg until stop
// is closed: the probes and reloads that run beside a test's scrapes.
func untilStopped(wg *sync.WaitGroup, stop <-chan struct{}, step func(i int)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			step(i)
		}
	}()
}
