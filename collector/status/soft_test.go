package status

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector"
	"github.com/http5xx/http5xx_exporter/collector/config"
)

// TestSoftErrorShown: the status page and /api/v1/status show which
// condition a 200 failed and the bytes that failed it, escaped, redacted
// and bounded.
func TestSoftErrorShown(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<h1>Down for maintenance</h1><script>alert(1)</script> secret=hunter2 ` + strings.Repeat("z", 4096)))
	}))
	defer origin.Close()
	path := filepath.Join(t.TempDir(), "http5xx.yml")
	yml := "global:\n  interval: 1h\ntargets:\n  - name: shop\n    url: " + origin.URL + "/\n    expect:\n      - body_not_matches: (?i)down for maintenance\n"
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	store := NewStore(0)
	exp, err := collector.New(collector.Options{Sinks: []collector.Sink{store}, Followers: []collector.TargetSetter{store}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Stop()
	if _, err := exp.ProbeNow(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Options{Store: store, Exporter: exp, Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		path string
		want []string
	}{
		{"/targets/shop", []string{`expect[0] failed: body does not match &#34;(?i)down for maintenance&#34;; got &#34;&lt;h1&gt;Down for maintenance&lt;/h1&gt;&lt;script&gt;`, "secret=xxxxx"}},
		{"/api/v1/status?target=shop", []string{`"reason": "soft_error"`, `"code": 200`, `"class": "app"`, `expect[0] failed: body does not match \"(?i)down for maintenance\"`, `secret=xxxxx`}},
	}
	for _, tt := range tests {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		resp.Body.Close()
		body := b.String()
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %s\n%s", tt.path, w, body)
			}
		}
		if strings.Contains(body, "hunter2") || strings.Contains(body, "<script>alert") || strings.Contains(body, strings.Repeat("z", 200)) {
			t.Errorf("%s shows a secret, raw markup or more than the bounded evidence", tt.path)
		}
	}
}
