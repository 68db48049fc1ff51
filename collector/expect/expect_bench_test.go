package expect

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
)

// BenchmarkCheck judges a 1 MiB page (the default body_size_limit) against
// the conditions of the README's example, against the cheapest equivalent
// scan: one bytes.Contains over the same body. The check reports its ratio
// to the baseline as x-baseline.
//
//	go test -run '^$' -bench 'Check$' -benchmem ./collector/expect/
func BenchmarkCheck(b *testing.B) {
	body := []byte(strings.Repeat("<p>an ordinary line of an ordinary shop page</p>\n", 1<<20/50) + "Add to cart")
	h := http.Header{"Content-Type": {"text/html"}}
	var baseline float64
	b.Run("baseline", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if !bytes.Contains(body, []byte("Add to cart")) {
				b.Fatal("not found")
			}
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("check", func(b *testing.B) {
		c, err := Compile([]config.Condition{
			{Status: config.StatusCodes{{Lo: 200, Hi: 200}}},
			{Header: "Content-Type", Matches: "^text/html"},
			{BodyContains: "Add to cart"},
			{BodyNotMatches: "(?i)down for maintenance"},
		}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if f := c.Check(200, h, body); f != nil {
				b.Fatal(f)
			}
		}
		if baseline > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
		}
	})
}
