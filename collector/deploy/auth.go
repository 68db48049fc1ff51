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
	"sync"

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

// sum identifies the set's content, to log a change only once.
func (ts *tokenSet) sum() [sha256.Size]byte {
	h := sha256.New()
	for _, d := range ts.digests {
		h.Write(d[:])
	}
	var s [sha256.Size]byte
	h.Sum(s[:0])
	return s
}

// tokenFileState is what the token file held when it was last read. The
// file is read again for every POST (and every scrape), like the web config:
// deleting it or a token in it revokes at once, and a file that cannot be
// read refuses every POST (fail-closed) until it can be read again.
type tokenFileState struct {
	mu      sync.Mutex
	checked bool
	ok      bool
	sum     [sha256.Size]byte
}

// readTokens reads the token file now. It logs when the file becomes
// unreadable, readable again, or changes.
func (m *Manager) readTokens() (*tokenSet, error) {
	ts, err := loadTokens(m.opts.TokenFile)
	st := &m.tokenFile
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		if !st.checked || st.ok {
			m.log.Error("deploy token file cannot be read: every deploy POST is refused (503) until it can", "file", m.opts.TokenFile, "err", err)
		}
		st.checked, st.ok = true, false
		return nil, err
	}
	sum := ts.sum()
	switch {
	case st.checked && !st.ok:
		m.log.Info("deploy token file readable again: deploy POSTs are accepted", "file", m.opts.TokenFile, "tokens", len(ts.digests))
	case st.checked && sum != st.sum:
		m.log.Info("deploy tokens changed", "file", m.opts.TokenFile, "tokens", len(ts.digests))
	}
	if !st.checked || !st.ok || sum != st.sum {
		if len(ts.digests) == 0 {
			m.log.Warn("deploy token file holds no token: every POST is refused", "file", m.opts.TokenFile)
		}
		if ts.weak > 0 {
			m.log.Warn("deploy token file holds short tokens", "file", m.opts.TokenFile, "count", ts.weak, "min_length", minTokenLen)
		}
	}
	st.checked, st.ok, st.sum = true, true, sum
	return ts, nil
}

// tokenFileOK reports whether the token file could be read when last
// tried; true when none is configured.
func (m *Manager) tokenFileOK() bool {
	if m.opts.TokenFile == "" {
		return true
	}
	_, err := m.readTokens()
	return err == nil
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
