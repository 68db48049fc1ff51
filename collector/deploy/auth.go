package deploy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// minTokenLen is the length below which a token is reported as weak.
const minTokenLen = 16

// tokenSet holds the SHA-256 of every accepted bearer token. Comparing
// digests keeps the comparison constant-time whatever the lengths.
type tokenSet struct {
	digests [][sha256.Size]byte
	weak    int // tokens shorter than minTokenLen
}

// parseTokens reads one token per line; blank lines and lines starting
// with # are skipped, surrounding white space is dropped.
func parseTokens(data []byte) *tokenSet {
	ts := &tokenSet{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		tok := strings.TrimSpace(sc.Text())
		if tok == "" || strings.HasPrefix(tok, "#") {
			continue
		}
		if len(tok) < minTokenLen {
			ts.weak++
		}
		ts.digests = append(ts.digests, sha256.Sum256([]byte(tok)))
	}
	return ts
}

func loadTokens(path string) (*tokenSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading deploy token file: %w", err)
	}
	return parseTokens(data), nil
}

// match compares tok with every token without stopping at the first match,
// so the time taken says nothing about which token (or how much of it)
// matched.
func (ts *tokenSet) match(tok string) bool {
	d := sha256.Sum256([]byte(tok))
	ok := 0
	for i := range ts.digests {
		ok |= subtle.ConstantTimeCompare(d[:], ts.digests[i][:])
	}
	return ok == 1
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// webAuth reports whether the web config sets basic auth now.
func (m *Manager) webAuth() (bool, error) {
	if m.opts.WebConfigFile == "" {
		return m.opts.WebAuth, nil
	}
	return WebConfigHasBasicAuth(m.opts.WebConfigFile)
}

// WebConfigHasBasicAuth reports whether an exporter-toolkit web config file
// sets basic_auth_users, i.e. whether every request already carries checked
// basic-auth credentials when it reaches the deploy API (Options.WebAuth).
// An empty path means no web config.
func WebConfigHasBasicAuth(path string) (bool, error) {
	if path == "" {
		return false, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("reading web config: %w", err)
	}
	var c struct {
		Users map[string]string `yaml:"basic_auth_users"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		return false, fmt.Errorf("parsing web config %s: %w", path, err)
	}
	return len(c.Users) > 0, nil
}
