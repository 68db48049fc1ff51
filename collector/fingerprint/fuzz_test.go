package fingerprint

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// FuzzMatch feeds Match hostile answers: any status line, any header
// block, any body. Match must not panic, must name a known layer, and with
// the built-in rules alone must allocate nothing. The seeds are the
// fixtures of real products' pages.
func FuzzMatch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.http"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		head, body, _ := bytes.Cut(raw, []byte("\n\n"))
		f.Add(string(head), body)
	}
	f.Add("HTTP/1.1 502 \r\nServer: \x00\xff\r\nVia: 1.1 varnish, 1.1 varnish\r\n", []byte("\xff\xfe<html"))
	f.Add("HTTP/1.1 999 x\r\nX-Cache: Error from cloudfront\r\nCF-RAY: -", bytes.Repeat([]byte("a"), 2*MaxBody))
	m, err := New(nil)
	if err != nil {
		f.Fatal(err)
	}
	layers := contract.Layers()
	f.Fuzz(func(t *testing.T, head string, body []byte) {
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(head+"\r\n\r\n")), nil)
		if err != nil {
			// Not an answer net/http would hand over; the fuzzed header
			// block still reaches Match as raw fields.
			resp = &http.Response{StatusCode: 500, Status: "500 x", Header: rawHeader(head)}
		}
		_, phrase, _ := strings.Cut(resp.Status, " ")
		a := &Answer{Code: resp.StatusCode, Phrase: phrase, Header: resp.Header, Body: body}
		got := m.Match(a)
		if got.Layer != "" && !containsString(layers, got.Layer) {
			t.Errorf("Match named layer %q, not one of %v", got.Layer, layers)
		}
		if n := testing.AllocsPerRun(3, func() { m.Match(a) }); n != 0 {
			t.Errorf("built-in Match allocates %v times on %q", n, head)
		}
	})
}

// rawHeader reads "Name: value" lines without net/http's checks.
func rawHeader(head string) http.Header {
	h := http.Header{}
	for line := range strings.Lines(head) {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":"); ok {
			h[http.CanonicalHeaderKey(strings.TrimSpace(k))] = append(h[http.CanonicalHeaderKey(strings.TrimSpace(k))], strings.TrimSpace(v))
		}
	}
	return h
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
