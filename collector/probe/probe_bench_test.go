package probe

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkProbe compares one probe with the cheapest equivalent request: a
// plain http.Client GET with keep-alives off (a fresh connection each time,
// like the prober's default) against the same loopback server. Run both
// sub-benchmarks together: the prober one reports its ratio to the baseline
// as x-baseline.
//
//	go test -run '^$' -bench 'Probe$' -benchmem ./collector/probe/
func BenchmarkProbe(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	}))
	defer srv.Close()

	baseline := benchBaseline(b, srv.URL)
	b.Run("prober", func(b *testing.B) { benchProber(b, newProber(b, testTarget(srv.URL)), baseline) })
}

// benchBaseline runs the baseline sub-benchmark, a plain http.Client GET
// with keep-alives off against url, and returns its ns/op for the ratios.
func benchBaseline(b *testing.B, url string) float64 {
	var baseline float64
	b.Run("baseline", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	return baseline
}

// benchProber probes with p until the benchmark is done and reports its
// time per probe as x-baseline when the baseline ran.
func benchProber(b *testing.B, p *Prober, baseline float64) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := p.Probe(ctx); !res.Success {
			b.Fatalf("probe failed: %d %v", res.StatusCode, res.Err)
		}
	}
	if baseline > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
	}
}
