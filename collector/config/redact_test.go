package config

import "testing"

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		extra []string
		want  string
	}{
		{"http://example.com/", nil, "http://example.com/"},
		{"http://u:p@example.com/", nil, "http://u:xxxxx@example.com/"},
		{"http://u@example.com/", nil, "http://u@example.com/"},
		{"http://example.com/a?api_key=s&page=2", nil, "http://example.com/a?api_key=xxxxx&page=2"},
		{"http://example.com/?API_KEY=s&Token=t&sig=x&signature=y&password=z", nil,
			"http://example.com/?API_KEY=xxxxx&Token=xxxxx&sig=xxxxx&signature=xxxxx&password=xxxxx"},
		{"http://example.com/?key=a&key=b&keys=c", nil, "http://example.com/?key=xxxxx&key=xxxxx&keys=c"},
		{"http://example.com/?access%5Ftoken=s", nil, "http://example.com/?access%5Ftoken=xxxxx"},
		{"http://example.com/?session=s&sid=t", []string{"session"}, "http://example.com/?session=xxxxx&sid=t"},
		{"http://example.com/?token", nil, "http://example.com/?token"}, // no value, nothing to hide
		{"http://u:p@example.com/?token=s#frag", nil, "http://u:xxxxx@example.com/?token=xxxxx#frag"},
		// Unparsable: the password and everything after the path go.
		{"http://u:p@exa mple.com/?token=s", nil, "http://u:xxxxx@exa mple.com/?xxxxx"},
		{"ht tp://h/?api_key=s", nil, "ht tp://h/?xxxxx"},
	} {
		if got := RedactURL(tc.raw, tc.extra); got != tc.want {
			t.Errorf("RedactURL(%q, %v) = %q, want %q", tc.raw, tc.extra, got, tc.want)
		}
	}
	tgt := Target{URL: "https://api.example.com/v1?apikey=s&session=t", RedactQueryParams: []string{"Session"}}
	if got, want := tgt.RedactedURL(), "https://api.example.com/v1?apikey=xxxxx&session=xxxxx"; got != want {
		t.Errorf("RedactedURL() = %q, want %q", got, want)
	}
}
