package probe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPhrase: the reason phrase kept from any status line is at most
// maxPhrase bytes, never half a character, and a part of the line.
func FuzzPhrase(f *testing.F) {
	for _, s := range []string{
		"503 Service Unavailable", "200 OK", "502", "", " ", "520 ",
		"503 " + strings.Repeat("ü", 40), "500 \x00\xff\r\n", "999 " + strings.Repeat("x", 1<<16),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, status string) {
		p := phrase(status)
		if len(p) > maxPhrase {
			t.Errorf("phrase of %q is %d bytes, bound %d", status, len(p), maxPhrase)
		}
		if !strings.Contains(status, p) {
			t.Errorf("phrase %q is not part of %q", p, status)
		}
		if utf8.ValidString(status) && !utf8.ValidString(p) {
			t.Errorf("phrase %q of a valid line splits a character", p)
		}
	})
}
