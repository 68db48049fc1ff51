package deploy

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseTokens(t *testing.T) {
	ts := parseTokens([]byte("# CI\n\n  " + tokenA + "  \r\nshort\n#" + tokenB + "\n"))
	if len(ts.digests) != 2 || ts.weak != 1 {
		t.Fatalf("%d tokens, %d weak; want 2, 1", len(ts.digests), ts.weak)
	}
	for tok, want := range map[string]bool{tokenA: true, "short": true, tokenB: false, "#" + tokenB: false, "": false, tokenA + " ": false} {
		if got := ts.match(tok); got != want {
			t.Errorf("match(%q) = %v", tok, got)
		}
	}
}

func TestWebConfigHasBasicAuth(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	for _, tc := range []struct {
		name, path string
		want, err  bool
	}{
		{"no web config", "", false, false},
		{"basic auth users", write("auth.yml", "basic_auth_users:\n  ci: $2y$10$abcdefghijklmnopqrstuv\n"), true, false},
		{"tls only", write("tls.yml", "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"), false, false},
		{"empty users", write("empty.yml", "basic_auth_users: {}\n"), false, false},
		{"missing file", filepath.Join(dir, "nope.yml"), false, true},
		{"not YAML", write("bad.yml", "basic_auth_users: [\n"), false, true},
	} {
		got, err := WebConfigHasBasicAuth(tc.path)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: %v, %v", tc.name, got, err)
		}
	}
}
