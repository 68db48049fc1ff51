package lab

import (
	"bufio"
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fixtures (with -tags lab) and scenarios.md")

// fixtureDir holds the lab's recorded answers, beside the fingerprint
// package's other fixtures.
const fixtureDir = "../../collector/fingerprint/testdata/lab"

func fixturePath(name string) string { return filepath.Join(fixtureDir, name+".http") }

// readFixture parses a fixture the way collector/fingerprint's tests do:
// only the head goes through the HTTP parser.
func readFixture(t *testing.T, name string) (*http.Response, []byte) {
	t.Helper()
	raw, err := os.ReadFile(fixturePath(name))
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		t.Fatalf("%s: no blank line after the headers", name)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(append(head, "\n\n"...))), nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return resp, body
}

// TestFixtures checks, without the products, that every scenario has its
// recorded answer and that it agrees with the table; and that no fixture
// is left without a scenario.
func TestFixtures(t *testing.T) {
	names := map[string]bool{}
	for _, sc := range scenarios {
		if names[sc.Name] {
			t.Errorf("scenario %s twice", sc.Name)
		}
		names[sc.Name] = true
		t.Run(sc.Name, func(t *testing.T) {
			resp, body := readFixture(t, sc.Name)
			if resp.StatusCode != sc.Code {
				t.Errorf("code %d, the table says %d", resp.StatusCode, sc.Code)
			}
			if got := strings.Join(resp.Header.Values("Retry-After"), ", "); got != sc.RetryAfter {
				t.Errorf("Retry-After %q, the table says %q", got, sc.RetryAfter)
			}
			if sc.Method == http.MethodHead && len(body) != 0 {
				t.Errorf("a HEAD answer with a body")
			}
		})
	}
	checkAlike(t)
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".http"); !ok || !names[name] {
			t.Errorf("%s: no scenario records it", filepath.Join(fixtureDir, e.Name()))
		}
	}
}

// checkAlike: scenarios whose answers are byte for byte the same cannot be
// told apart by the answer, so the ones whose cause the answer shows must
// agree on the class.
func checkAlike(t *testing.T) {
	shown := map[string]scenario{} // by answer
	for _, sc := range scenarios {
		raw, err := os.ReadFile(fixturePath(sc.Name))
		if err != nil || !sc.Truth.CauseShown {
			continue
		}
		if other, ok := shown[string(raw)]; ok && other.Truth.Class != sc.Truth.Class {
			t.Errorf("%s (%s) and %s (%s) answer alike: at most one class can be shown by the answer",
				other.Name, other.Truth.Class, sc.Name, sc.Truth.Class)
		}
		shown[string(raw)] = sc
	}
}
