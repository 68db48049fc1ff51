package status

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// parseSVG checks that body is well-formed XML whose root is an svg element
// and returns its text content.
func parseSVG(t *testing.T, body string) string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	var text strings.Builder
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("badge is not well-formed XML: %v\n%s", err, body)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = v.Name.Local
				if v.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("root namespace %q", v.Name.Space)
				}
			}
			for _, a := range v.Attr {
				// Self-contained: nothing loaded from elsewhere.
				if a.Name.Local == "href" || strings.Contains(a.Value, "http") && a.Name.Local != "xmlns" {
					t.Errorf("attribute %s=%q refers outside the badge", a.Name.Local, a.Value)
				}
			}
			if v.Name.Local == "script" || v.Name.Local == "image" || v.Name.Local == "foreignObject" {
				t.Errorf("badge holds a <%s>", v.Name.Local)
			}
		case xml.CharData:
			text.Write(v)
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return text.String()
}

func TestBadge(t *testing.T) {
	f := newFixture(t)
	f.probe("ok", "ok", "bad", "busy")
	f.serve(Options{Refresh: -1})

	tests := []struct {
		name   string
		path   string
		code   int
		text   string // in the badge's title
		colour string
	}{
		{"up", "/badge/ok.svg", 200, "ok: up · 100% 1d", colourUp},
		{"down", "/badge/bad.svg", 200, "bad: down · 0% 1d", colourDown},
		{"window", "/badge/busy.svg?window=90m", 200, "busy: down · 0% 1h30m", colourDown},
		{"window in days", "/badge/ok.svg?window=7d", 200, "ok: up · 100% 1w", colourUp},
		{"bad window", "/badge/ok.svg?window=soon", 400, "ok: bad window", colourGrey},
		{"negative window", "/badge/ok.svg?window=-1h", 400, "ok: bad window", colourGrey},
		{"unknown target", "/badge/nope.svg", 404, "nope: unknown target", colourGrey},
		{"not .svg", "/badge/ok.png", 404, "badge: NAME.svg", colourGrey},
		{"hostile name", "/badge/%3Cscript%3Ealert(1)%3C%2Fscript%3E%26%22'.svg", 404, `<script>alert(1)</script>&"': unknown target`, colourGrey},
		{"long name", "/badge/" + strings.Repeat("x", 300) + ".svg", 404, strings.Repeat("x", 63) + "…: unknown target", colourGrey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.get(tt.path)
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.code, body)
			}
			for k, want := range map[string]string{
				"Content-Type":           "image/svg+xml; charset=utf-8",
				"Cache-Control":          "no-cache, max-age=0",
				"X-Content-Type-Options": "nosniff",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			text := parseSVG(t, body)
			if !strings.HasPrefix(text, tt.text) {
				t.Errorf("badge text %q, want it to start with %q", text, tt.text)
			}
			if !strings.Contains(body, `fill="`+tt.colour+`"`) {
				t.Errorf("badge lacks colour %s:\n%s", tt.colour, body)
			}
			if strings.Contains(body, "<script") {
				t.Errorf("raw markup from the URL in the badge:\n%s", body)
			}
		})
	}

	// Revalidation: the same badge is 304 for its ETag, a new probe changes it.
	resp, _ := f.get("/badge/ok.svg")
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/badge/ok.svg", nil)
	req.Header.Set("If-None-Match", etag)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if etag == "" || r2.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d, want 304", etag, r2.StatusCode)
	}
	f.probe("ok")
	f.clock.advance(10 * time.Minute) // past the 5m window: not degraded, same text
	if resp, _ := f.get("/badge/ok.svg?window=1s"); resp.Header.Get("ETag") == etag {
		t.Error("a badge of another text kept the ETag")
	}
	// HEAD answers the headers alone.
	head, err := http.Head(f.srv.URL + "/badge/ok.svg")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(head.Body)
	head.Body.Close()
	if head.StatusCode != 200 || len(b) != 0 || head.Header.Get("Content-Type") == "" {
		t.Errorf("HEAD: %d, %d bytes", head.StatusCode, len(b))
	}
}

// TestUptimeOf: the window, what the history holds, and the percentage.
func TestUptimeOf(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	// probes every minute, newest first; ok[i] is the i-th newest.
	hist := func(ok ...bool) *Snapshot {
		s := &Snapshot{}
		for i, o := range ok {
			s.History = append(s.History, Sample{Start: now.Add(-time.Duration(i+1) * time.Minute), Duration: time.Second, Success: o})
		}
		return s
	}
	tests := []struct {
		name     string
		snap     *Snapshot
		window   time.Duration
		capacity int
		probes   int
		ok       int
		span     time.Duration
		text     string
	}{
		{"empty", hist(), time.Hour, 120, 0, 0, time.Hour, ""},
		{"all in window", hist(true, false, true, true), time.Hour, 120, 4, 3, time.Hour, "75%"},
		{"window cuts", hist(true, false, false, false), 150 * time.Second, 120, 2, 1, 150 * time.Second, "50%"},
		{"full history shorter than the window", hist(true, true, true, false), 24 * time.Hour, 4, 4, 3, 4 * time.Minute, "75%"},
		{"full history covering the window", hist(true, true, true, false), 2 * time.Minute, 4, 2, 2, 2 * time.Minute, "100%"},
		{"never rounds up to 100", hist(append([]bool{false}, make100(9999)...)...), 365 * 24 * time.Hour, 20000, 10000, 9999, 365 * 24 * time.Hour, "99.99%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := uptimeOf(tt.snap, now, tt.window, tt.capacity)
			if u.probes != tt.probes || u.ok != tt.ok || u.span != tt.span {
				t.Errorf("uptime %+v, want %d probes, %d ok over %v", u, tt.probes, tt.ok, tt.span)
			}
			if u.probes > 0 {
				if got := percent(u.ok, u.probes); got != tt.text {
					t.Errorf("percent %q, want %q", got, tt.text)
				}
			}
		})
	}
}

func make100(n int) []bool {
	b := make([]bool, n)
	for i := range b {
		b[i] = true
	}
	return b
}
