package triage

import (
	"net/http"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
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
		a := fingerprint.Answer{Code: codes[i%len(codes)], Header: h, Body: body}
		f.Verdict(contract.ReasonNone, &a)
		f.Verdict(contract.Reason(i%int(contract.NumReasons-1))+1, nil)
		i++
	}
}

func TestVerdictAllocatesNothing(t *testing.T) {
	f := Default()
	h := http.Header{"Server": {"nginx"}}
	body := []byte("<hr><center>nginx</center>")
	a := &fingerprint.Answer{Code: 502, Phrase: "Bad Gateway", Header: h, Body: body}
	if n := testing.AllocsPerRun(100, func() {
		f.Verdict(contract.ReasonNone, a)
		f.Verdict(contract.ReasonTimeout, nil)
	}); n != 0 {
		t.Errorf("Verdict allocates %v times per call, want 0", n)
	}
}

func TestVerdictFinishes(t *testing.T) {
	f := Default()
	v := f.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 502, Header: http.Header{"Server": {"nginx/1.22.1"}}, Body: []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.22.1</center></body></html>")})
	if v.Class != "gateway" || v.Owner != "app-infra" || v.Layer != contract.LayerProxy || v.Product != "nginx" || v.FirstMove == "" {
		t.Errorf("nginx 502: %+v", v)
	}
	if v := f.Verdict(contract.ReasonTimeout, nil); v.Class != "timeout" || v.Layer != "" || v.FirstMove == "" {
		t.Errorf("timeout: %+v", v)
	}
	if v := f.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 200}); v.Class != "2xx" || v.Owner != "" || v.Layer != "" || v.FirstMove != "" {
		t.Errorf("200: %+v", v)
	}
	if _, err := New(nil, []config.FingerprintRule{{Header: "Server", Match: "(", Layer: "proxy"}}); err == nil {
		t.Error("a rule that does not compile builds a Finisher")
	}
}

// A page that proves another cause moves the answer to that cause's class
// and owner and says why; a user rule's class wins over the code's.
func TestVerdictByCause(t *testing.T) {
	f := Default()
	haproxy := &fingerprint.Answer{Code: 503, Phrase: "Service Unavailable",
		Header: http.Header{"Cache-Control": {"no-cache"}, "Content-Type": {"text/html"}},
		Body:   []byte("<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n")}
	if v := f.Verdict(contract.ReasonNone, haproxy); v.Class != "gateway" || v.Owner != "app-infra" || v.CodeClass != "capacity" || v.Cause == "" || v.FirstMove == "" {
		t.Errorf("haproxy without a server: %+v", v)
	}
	busy := &fingerprint.Answer{Code: 503, Header: http.Header{"Retry-After": {"120"}}}
	if v := f.Verdict(contract.ReasonNone, busy); v.Class != "capacity" || v.CodeClass != "" || v.Cause != "" {
		t.Errorf("a plain 503: %+v", v)
	}
	rules := []config.FingerprintRule{{Body: "backend pool empty", Layer: "proxy", Product: "acme", Class: "gateway"}}
	custom, err := New(config.DefaultClasses(), rules)
	if err != nil {
		t.Fatal(err)
	}
	if v := custom.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 503, Body: []byte("sorry: backend pool empty")}); v.Class != "gateway" || v.CodeClass != "capacity" || v.Product != "acme" || v.Cause == "" {
		t.Errorf("user rule with a class: %+v", v)
	}
	// A class the table does not have leaves the code's (config validation
	// refuses such a rule; a Finisher built without it stays safe).
	odd, _ := New(config.DefaultClasses(), []config.FingerprintRule{{Body: "x", Layer: "proxy", Product: "acme", Class: "nope"}})
	if v := odd.Verdict(contract.ReasonNone, &fingerprint.Answer{Code: 503, Body: []byte("x")}); v.Class != "capacity" {
		t.Errorf("unknown class: %+v", v)
	}
}
