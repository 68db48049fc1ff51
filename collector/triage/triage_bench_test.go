package triage

import (
	"net/http"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// BenchmarkVerdict is the triage of every probe: a table read for the class
// and, for a 5xx, the fingerprints.
func BenchmarkVerdict(b *testing.B) {
	f := Default()
	h := http.Header{"Server": {"nginx/1.22.1"}, "Content-Type": {"text/html"}}
	body := []byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n")
	codes := []int{200, 404, 500, 502, 503, 504, 520, 599}
	b.ReportAllocs()
	var i int
	for b.Loop() {
		f.Verdict(codes[i%len(codes)], contract.ReasonNone, h, body)
		f.Verdict(0, contract.Reason(i%int(contract.NumReasons-1))+1, nil, nil)
		i++
	}
}

func TestVerdictAllocatesNothing(t *testing.T) {
	f := Default()
	h := http.Header{"Server": {"nginx"}}
	body := []byte("<hr><center>nginx</center>")
	if n := testing.AllocsPerRun(100, func() {
		f.Verdict(502, contract.ReasonNone, h, body)
		f.Verdict(0, contract.ReasonTimeout, nil, nil)
	}); n != 0 {
		t.Errorf("Verdict allocates %v times per call, want 0", n)
	}
}

func TestVerdictFinishes(t *testing.T) {
	f := Default()
	v := f.Verdict(502, contract.ReasonNone, http.Header{"Server": {"nginx/1.22.1"}}, []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.22.1</center></body></html>"))
	if v.Class != "gateway" || v.Owner != "app-infra" || v.Layer != contract.LayerProxy || v.Product != "nginx" || v.FirstMove == "" {
		t.Errorf("nginx 502: %+v", v)
	}
	if v := f.Verdict(0, contract.ReasonTimeout, nil, nil); v.Class != "timeout" || v.Layer != "" || v.FirstMove == "" {
		t.Errorf("timeout: %+v", v)
	}
	if v := f.Verdict(200, contract.ReasonNone, nil, nil); v.Class != "2xx" || v.Owner != "" || v.Layer != "" || v.FirstMove != "" {
		t.Errorf("200: %+v", v)
	}
	if _, err := New(nil, []config.FingerprintRule{{Header: "Server", Match: "(", Layer: "proxy"}}); err == nil {
		t.Error("a rule that does not compile builds a Finisher")
	}
}
