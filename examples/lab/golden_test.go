//go:build lab

package lab

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// bodyLimit is how much of a body a fixture keeps.
const bodyLimit = 4096

// answer is one answer as it came off the wire: the status line and the
// header lines as sent (order, case and repeats kept), and the body after
// transfer decoding.
type answer struct {
	status    string
	lines     []string
	body      []byte
	truncated bool

	code   int
	header http.Header
}

// parseHead splits the raw bytes read from the connection into the status
// line and header lines.
func parseHead(raw []byte) (answer, error) {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return answer{}, fmt.Errorf("no end of the head in %q", tail(raw, 200))
	}
	lines := strings.Split(string(raw[:end]), "\r\n")
	return answer{status: lines[0], lines: lines[1:]}, nil
}

// Volatile parts of an answer and the stable values a fixture holds.
const (
	fixedDate = "Tue, 14 May 2024 09:12:01 GMT"
	fixedXID  = 32770
)

var (
	digits  = regexp.MustCompile(`[0-9]+`)
	bodyXID = regexp.MustCompile(`XID: [0-9]+`)
)

// golden renders the answer as a fixture: the raw HTTP/1.1 format of
// collector/fingerprint/testdata (LF line ends, a blank line, the body),
// with the ports chosen at run time replaced by their nominal ones and
// dates, ages and Varnish ids made stable.
func (a answer) golden(ports map[string]string, method string) []byte {
	replacePorts := func(s string) string {
		return digits.ReplaceAllStringFunc(s, func(d string) string {
			if n, ok := ports[d]; ok {
				return n
			}
			return d
		})
	}
	body := []byte(replacePorts(string(a.body)))
	body = bodyXID.ReplaceAll(body, []byte(fmt.Sprintf("XID: %d", fixedXID+1)))

	var b bytes.Buffer
	b.WriteString(replacePorts(a.status) + "\n")
	for _, line := range a.lines {
		line = replacePorts(line)
		name, value, ok := strings.Cut(line, ":")
		if ok {
			switch strings.ToLower(name) {
			case "date", "last-modified", "expires":
				value = " " + fixedDate
			case "etag":
				value = ` "lab-etag"`
			case "age":
				value = " 0"
			case "x-varnish":
				id := fixedXID
				value = digits.ReplaceAllStringFunc(value, func(string) string { id++; return strconv.Itoa(id - 1) })
			case "content-length":
				if !a.truncated && method != http.MethodHead {
					value = " " + strconv.Itoa(len(body))
				} else if n, err := strconv.Atoi(strings.TrimSpace(value)); err == nil {
					value = " " + strconv.Itoa(n+a.xidDelta())
				}
			}
			line = name + ":" + value
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n")
	b.Write(body)
	return b.Bytes()
}

// xidDelta is how much replacing the XID changes the length of Varnish's
// page, for a HEAD answer whose page is not seen: the page's XID is the
// backend fetch's, the one after X-Varnish's.
func (a answer) xidDelta() int {
	id, err := strconv.Atoi(strings.Fields(a.header.Get("X-Varnish") + " x")[0])
	if err != nil {
		return 0
	}
	return len(strconv.Itoa(fixedXID+1)) - len(strconv.Itoa(id+1))
}

// patchVersion is the patch level of a product version in a header or
// page: Debian's security updates move it, the golden comparison ignores it.
var patchVersion = regexp.MustCompile(`((?:nginx|Apache|PHP|Varnish|varnish)/[0-9]+\.[0-9]+)\.[0-9]+`)

var contentLength = regexp.MustCompile(`(?mi)^(Content-Length:) *[0-9]+$`)

// versionless is a fixture without patch levels (and so without the
// Content-Length they change).
func versionless(b []byte) []byte {
	b = patchVersion.ReplaceAll(b, []byte("$1.x"))
	return contentLength.ReplaceAll(b, []byte("$1 N"))
}

// checkGolden compares got with the scenario's fixture, or rewrites the
// fixture with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := fixturePath(name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -tags lab ./examples/lab -update records it)", err)
	}
	if !bytes.Equal(versionless(got), versionless(want)) {
		t.Errorf("the answer differs from %s (go test -tags lab ./examples/lab -update rewrites it):\n%s", path, lineDiff(want, got))
	}
}

// lineDiff shows the lines of want and got that differ, in order.
func lineDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  fixture: %q\n  answer:  %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}
