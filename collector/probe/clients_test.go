package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	commoncfg "github.com/prometheus/common/config"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/triage"
)

// TestClientsShare: targets of the same client settings share their TLS
// configuration, dialer and transport and still probe as their own; a
// target whose transport keeps connections keeps its own transport, one
// that sends credentials or offers HTTP/2 its own TLS configuration too.
func TestClientsShare(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Probe", r.Header.Get("X-Http5xx-Probe"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	clients := NewClients()
	build := func(name string, edit func(tg *config.Target)) *Prober {
		t.Helper()
		tg := testTarget(srv.URL + "/" + name)
		tg.Name = name
		edit(tg)
		p, err := New(tg, Options{Location: "fra1", Version: "1.2.3", Finisher: triage.Default(), Clients: clients})
		if err != nil {
			t.Fatalf("New(%s): %v", name, err)
		}
		t.Cleanup(p.Close)
		return p
	}
	plain := func(*config.Target) {}
	a, b := build("a", plain), build("b", plain)
	if a.lean == nil || b.lean == nil {
		t.Fatal("plain http:// targets are not on the lean path")
	}
	if a.transport != b.transport || a.prefixes != b.prefixes || a.lean.req != b.lean.req {
		t.Errorf("targets of the same settings share transport %v, buffers %v, lean request %v; want all shared",
			a.transport == b.transport, a.prefixes == b.prefixes, a.lean.req == b.lean.req)
	}
	for _, tt := range []struct {
		name   string
		edit   func(tg *config.Target)
		ownTLS bool // else the TLS configuration is shared: HTTP/1.1 only
	}{
		{"keepalive", func(tg *config.Target) { tg.KeepAlive = true }, false},
		{"credential", func(tg *config.Target) { tg.BasicAuth = &commoncfg.BasicAuth{Username: "u", Password: "p"} }, true},
		{"http2", func(tg *config.Target) { tg.HTTP2 = true }, true},
	} {
		p := build(tt.name, tt.edit)
		if p.transport == a.transport {
			t.Errorf("%s: shares the plain targets' transport", tt.name)
		}
		if own := p.transport.TLSClientConfig != a.transport.TLSClientConfig; own != tt.ownTLS {
			t.Errorf("%s: own TLS configuration %v, want %v", tt.name, own, tt.ownTLS)
		}
	}
	for _, p := range []*Prober{a, b} {
		r := p.Probe(context.Background())
		if r.StatusCode != http.StatusNoContent || r.Header.Get("X-Probe") != "fra1/"+p.name {
			t.Errorf("%s: code %d, probe header %q; want 204 and its own name", p.name, r.StatusCode, r.Header.Get("X-Probe"))
		}
	}
}
