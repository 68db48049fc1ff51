package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
	"github.com/http5xx/http5xx_exporter/collector/fingerprint"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// TestSoftErrors: answers that met valid_status_codes but fail an expect
// condition, or whose page is a product's error page, fail with reason
// soft_error, keep their code and are classed by the class table.
func TestSoftErrors(t *testing.T) {
	pages := map[string]struct {
		code   int
		header map[string]string
		body   string
	}{
		"/ok":          {200, map[string]string{"Content-Type": "text/html"}, "<title>Shop</title> Add to cart"},
		"/maintenance": {200, map[string]string{"Content-Type": "text/html"}, "<h1>We are down for maintenance</h1>"},
		"/php":         {200, map[string]string{"Content-Type": "text/html"}, "<br />\n<b>Fatal error</b>:  Uncaught Error: db down in <b>/srv/index.php</b> on line <b>3</b><br />"},
		"/nginx-502":   {200, map[string]string{"Server": "nginx"}, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"},
		"/health":      {200, map[string]string{"Content-Type": "application/json"}, `{"status":"DOWN","checks":{"db":"timeout"}}`},
		"/health-up":   {200, map[string]string{"Content-Type": "application/json"}, `{"status":"UP"}`},
		"/500":         {500, nil, "Internal Server Error"},
		"/huge":        {200, nil, strings.Repeat("x", 2048)},
		"/redirect":    {302, map[string]string{"Location": "/ok"}, ""},
		"/503-page":    {503, nil, strings.Repeat("<p>filler</p>", 500) + "Back soon"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		for k, v := range p.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(p.code)
		if r.Method != http.MethodHead {
			w.Write([]byte(p.body))
		}
	}))
	defer srv.Close()

	notMaintenance := []config.Condition{{BodyNotMatches: `(?i)down for maintenance`}}
	tests := []struct {
		name   string
		path   string
		method string
		expect []config.Condition
		limit  config.ByteSize
		valid  config.StatusCodes
		reason contract.Reason
		code   int
		class  string
		err    string // part of the error
	}{
		{"holds", "/ok", "", notMaintenance, 0, nil, contract.ReasonNone, 200, "2xx", ""},
		{"body condition fails", "/maintenance", "", notMaintenance, 0, nil, contract.ReasonSoftError, 200, "app", `expect[0] failed: body does not match "(?i)down for maintenance"; got "<h1>We are down for maintenance</h1>"`},
		{"json condition fails", "/health", "", []config.Condition{{JSON: "status", Equals: ptr("UP")}}, 0, nil, contract.ReasonSoftError, 200, "app", `json status equals "UP"; got "DOWN"`},
		{"json condition holds", "/health-up", "", []config.Condition{{JSON: "status", Equals: ptr("UP")}}, 0, nil, contract.ReasonNone, 200, "2xx", ""},
		{"header condition fails", "/ok", "", []config.Condition{{Header: "Content-Type", Matches: "^application/json"}}, 0, nil, contract.ReasonSoftError, 200, "app", `got "text/html"`},
		{"no conditions: a PHP fatal error page", "/php", "", nil, 0, nil, contract.ReasonSoftError, 200, "app", "PHP printed a fatal error"},
		{"no conditions: nginx's 502 page with 200", "/nginx-502", "", nil, 0, nil, contract.ReasonSoftError, 200, "app", "nginx's own 502 error page"},
		{"no conditions: an ordinary page", "/ok", "", nil, 0, nil, contract.ReasonNone, 200, "2xx", ""},
		// A code outside the valid ones is judged by its code, not by
		// conditions.
		{"a 500 stays a 500", "/500", "", notMaintenance, 0, nil, contract.ReasonNone, 500, "app", ""},
		{"a status condition on a valid 3xx", "/redirect", "", []config.Condition{{Status: config.StatusCodes{{Lo: 200, Hi: 299}}}}, 0, config.StatusCodes{{Lo: 200, Hi: 399}}, contract.ReasonSoftError, 302, "app", "status is 2xx; got 302"},
		// A 5xx listed as valid is judged by its conditions on the whole
		// body, not only the fingerprints' first bytes.
		{"a valid 5xx's whole body", "/503-page", "", []config.Condition{{BodyContains: "Back soon"}}, 0, config.StatusCodes{{Lo: 200, Hi: 599}}, contract.ReasonNone, 503, "capacity", ""},
		{"a valid 5xx fails a condition", "/503-page", "", []config.Condition{{BodyContains: "Welcome"}}, 0, config.StatusCodes{{Lo: 200, Hi: 599}}, contract.ReasonSoftError, 503, "app", "body contains"},
		// The body is read up to body_size_limit and no further.
		{"over the body limit", "/huge", "", notMaintenance, 1024, nil, contract.ReasonTooLarge, 200, "app", "1024 bytes"},
		{"HEAD has no body to contain", "/ok", http.MethodHead, []config.Condition{{BodyContains: "Add to cart"}}, 0, nil, contract.ReasonSoftError, 200, "app", `got ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tgt := testTarget(srv.URL + tt.path)
			tgt.Expect = tt.expect
			if tt.method != "" {
				tgt.Method = tt.method
			}
			if tt.limit != 0 {
				tgt.BodySizeLimit = tt.limit
			}
			if tt.valid != nil {
				tgt.ValidStatusCodes = tt.valid
			}
			res := probeOnce(t, tgt)
			if res.Reason != tt.reason || res.StatusCode != tt.code || res.Class != tt.class {
				t.Fatalf("reason %q code %d class %q (err %v), want %q %d %q", res.Reason, res.StatusCode, res.Class, res.Err, tt.reason, tt.code, tt.class)
			}
			if res.Success != (tt.reason == contract.ReasonNone && tgt.ValidStatusCodes.Contains(tt.code)) {
				t.Errorf("Success = %v", res.Success)
			}
			if tt.reason == contract.ReasonSoftError && res.Owner != "app-team" {
				t.Errorf("owner %q, want app-team", res.Owner)
			}
			switch {
			case tt.err == "" && res.Err != nil:
				t.Errorf("error %v", res.Err)
			case tt.err != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tt.err)):
				t.Errorf("error %v, want …%s…", res.Err, tt.err)
			}
			// The Result keeps the fingerprints' first bytes of a 5xx only.
			if tt.code < 500 && res.BodyPrefix != nil || tt.code >= 500 && len(res.BodyPrefix) != min(fingerprint.MaxBody, len(pages[tt.path].body)) {
				t.Errorf("kept %d body bytes of a %d answer in the Result", len(res.BodyPrefix), tt.code)
			}
		})
	}
}

// TestSoftErrorClassRemapped: soft_error is a reason of the class table
// like any other, so a configuration may give it another class and owner;
// the layer and product of a proven error page come along.
func TestSoftErrorClassRemapped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx/1.24.0")
		w.Write([]byte("<html>\n<head><title>504 Gateway Time-out</title></head>\n<body>\n<center><h1>504 Gateway Time-out</h1></center>\n<hr><center>nginx/1.24.0</center>\n</body>\n</html>\n"))
	}))
	defer srv.Close()
	classes := config.DefaultClasses()
	classes[0].Reasons = []string{"too_large"}
	classes = append(classes, config.Class{Name: "soft", Reasons: []string{"soft_error"}, Owner: "web-team", FirstMove: "Read the page."})
	f, err := triage.New(classes, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(testTarget(srv.URL), Options{Finisher: f})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	res := p.Probe(context.Background())
	if res.Reason != contract.ReasonSoftError || res.Class != "soft" || res.Owner != "web-team" || res.FirstMove != "Read the page." {
		t.Fatalf("reason %q class %q owner %q first move %q", res.Reason, res.Class, res.Owner, res.FirstMove)
	}
	if res.Layer != contract.LayerProxy || res.Product != "nginx" || !strings.Contains(res.Cause, "504 error page") {
		t.Errorf("layer %q product %q cause %q", res.Layer, res.Product, res.Cause)
	}
}

func ptr(s string) *string { return &s }
