package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// BenchmarkTimeoutOvershoot measures by how much a probe outlives its timeout
// against a hostile target (one that never answers, one that trickles its
// body), next to the same request made by a plain http.Client with the same
// Timeout in the same process. It reports the mean overshoot of each as
// us-over-timeout; the promise is "a few milliseconds at most".
//
//	go test -run '^$' -bench TimeoutOvershoot ./collector/probe/
func BenchmarkTimeoutOvershoot(b *testing.B) {
	const timeout = 20 * time.Millisecond
	hostile := map[string]http.HandlerFunc{
		"hang": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"trickle": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			for range 1000 {
				if _, err := w.Write([]byte("x")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		},
	}
	for _, name := range []string{"hang", "trickle"} {
		srv := httptest.NewServer(hostile[name])
		var base float64
		b.Run(name+"/baseline", func(b *testing.B) {
			client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
			var over time.Duration
			for b.Loop() {
				start := time.Now()
				if resp, err := client.Get(srv.URL); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				over += time.Since(start) - timeout
			}
			base = float64(over.Microseconds()) / float64(b.N)
			b.ReportMetric(base, "us-over-timeout")
		})
		b.Run(name+"/prober", func(b *testing.B) {
			follow := false
			t := &config.Target{Name: "hostile", URL: srv.URL, Method: http.MethodGet,
				Interval: model.Duration(time.Second), Timeout: model.Duration(timeout),
				ValidStatusCodes: config.StatusCodes{{Lo: 200, Hi: 399}}, FollowRedirects: &follow,
				BodySizeLimit: 1 << 20}
			p, err := New(t, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			var over time.Duration
			for b.Loop() {
				start := time.Now()
				r := p.Probe(context.Background())
				if r.Reason != contract.ReasonTimeout {
					b.Fatalf("reason %v, want timeout", r.Reason)
				}
				over += time.Since(start) - timeout
			}
			mean := float64(over.Microseconds()) / float64(b.N)
			b.ReportMetric(mean, "us-over-timeout")
			if base > 0 {
				fmt.Printf("BenchmarkTimeoutOvershoot/%s: prober %.0f us over a %v timeout, plain client %.0f us\n", name, mean, timeout, base)
			}
		})
		srv.Close()
	}
}
