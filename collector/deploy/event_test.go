package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func TestDecodePayload(t *testing.T) {
	long := strings.Repeat("a", MaxLabelLen+1)
	for _, tc := range []struct {
		name  string
		body  string
		field string // "" when the body is valid
		want  string // substring of the reason
		check func(t *testing.T, ev Event)
	}{
		{name: "minimal", body: `{"service":"checkout","version":"1.2.3"}`,
			check: func(t *testing.T, ev Event) {
				if ev.Service != "checkout" || ev.Version != "1.2.3" || !ev.Timestamp.IsZero() || ev.ID != "" || ev.Source != SourceAPI {
					t.Errorf("got %+v", ev)
				}
			}},
		{name: "every field", body: `{"service":"team/checkout","version":"v1.2.3+build.5","timestamp":"2026-03-04T06:00:00+01:00","environment":"prod-eu","url":"https://ci.example/run/7","author":"Zoë O'Neil <zoe@example.org>","id":"pipeline-7:deploy"}`,
			check: func(t *testing.T, ev Event) {
				if !ev.Timestamp.Equal(time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)) || ev.Timestamp.Location() != time.UTC {
					t.Errorf("timestamp %v", ev.Timestamp)
				}
				if ev.Environment != "prod-eu" || ev.URL != "https://ci.example/run/7" || ev.Author != "Zoë O'Neil <zoe@example.org>" || ev.ID != "pipeline-7:deploy" {
					t.Errorf("got %+v", ev)
				}
			}},
		{name: "fractional seconds", body: `{"service":"a","version":"b","timestamp":"2026-03-04T05:06:07.123456789Z"}`,
			check: func(t *testing.T, ev Event) {
				if ev.Timestamp.Nanosecond() != 123456789 {
					t.Errorf("timestamp %v", ev.Timestamp)
				}
			}},
		{name: "white space around", body: " \n{ \"service\" : \"a\" , \"version\" : \"b\" }\n "},

		{name: "empty body", body: ``, field: "body", want: "empty"},
		{name: "not json", body: `service=a&version=b`, field: "body", want: "not valid JSON"},
		{name: "array", body: `[{"service":"a","version":"b"}]`, field: "body", want: "not a JSON object"},
		{name: "string document", body: `"x"`, field: "body", want: "not a JSON object"},
		{name: "truncated", body: `{"service":"a","version":`, field: "body", want: "ends early"},
		{name: "trailing data", body: `{"service":"a","version":"b"} {}`, field: "body", want: "after the JSON object"},
		{name: "trailing garbage", body: `{"service":"a","version":"b"}x`, field: "body"},
		{name: "missing service", body: `{"version":"b"}`, field: "service", want: "required"},
		{name: "missing version", body: `{"service":"a"}`, field: "version", want: "required"},
		{name: "empty service", body: `{"service":"","version":"b"}`, field: "service", want: "required"},
		{name: "service not a string", body: `{"service":7,"version":"b"}`, field: "service", want: "JSON string"},
		{name: "version null", body: `{"service":"a","version":null}`, field: "version", want: "JSON string"},
		{name: "version object", body: `{"service":"a","version":{"v":1}}`, field: "version", want: "JSON string"},
		{name: "unknown field", body: `{"service":"a","version":"b","team":"x"}`, field: "team", want: "unknown field"},
		{name: "field names are exact", body: `{"Service":"a","version":"b"}`, field: "Service", want: "unknown field"},
		{name: "odd unknown field is quoted", body: `{"a b":"x"}`, field: `"a b"`, want: "unknown field"},
		{name: "repeated field", body: `{"service":"a","version":"b","service":"c"}`, field: "service", want: "more than once"},
		{name: "label values as the config allows them", body: `{"service":"Check out (EU)","version":"1.0 \"beta\" ß"}`,
			check: func(t *testing.T, ev Event) {
				if ev.Service != "Check out (EU)" || ev.Version != `1.0 "beta" ß` {
					t.Errorf("got %+v", ev)
				}
			}},
		{name: "128 characters, more bytes", body: `{"service":"` + strings.Repeat("ß", MaxLabelLen) + `","version":"b"}`},
		{name: "service too long", body: `{"service":"` + long + `","version":"b"}`, field: "service", want: "129 characters long, more than 128"},
		{name: "service with tab", body: `{"service":"check\tout","version":"b"}`, field: "service", want: "U+0009 at byte 5"},
		{name: "version with newline", body: `{"service":"a","version":"1\n2"}`, field: "version", want: "control character"},
		{name: "version with DEL", body: `{"service":"a","version":"1\u007f"}`, field: "version", want: "control character"},
		{name: "version with trailing space", body: `{"service":"a","version":"1.0 "}`, field: "version", want: "white space"},
		{name: "timestamp not rfc3339", body: `{"service":"a","version":"b","timestamp":"2026-03-04 05:06:07"}`, field: "timestamp", want: "RFC 3339"},
		{name: "timestamp unix number", body: `{"service":"a","version":"b","timestamp":1772600767}`, field: "timestamp", want: "JSON string"},
		{name: "timestamp in the future", body: `{"service":"a","version":"b","timestamp":"2026-03-04T05:12:08Z"}`, field: "timestamp", want: "future"},
		{name: "timestamp just within skew", body: `{"service":"a","version":"b","timestamp":"2026-03-04T05:11:07Z"}`},
		{name: "timestamp before 1970", body: `{"service":"a","version":"b","timestamp":"1969-12-31T23:59:59Z"}`, field: "timestamp", want: "before 1970"},
		{name: "environment empty", body: `{"service":"a","version":"b","environment":""}`, field: "environment", want: "empty"},
		{name: "environment bad", body: `{"service":"a","version":"b","environment":"prod\u0000"}`, field: "environment", want: "control character"},
		{name: "url relative", body: `{"service":"a","version":"b","url":"/run/7"}`, field: "url", want: "absolute"},
		{name: "url javascript", body: `{"service":"a","version":"b","url":"javascript:alert(1)"}`, field: "url", want: "absolute"},
		{name: "url too long", body: `{"service":"a","version":"b","url":"https://x/` + strings.Repeat("a", MaxURLLen) + `"}`, field: "url", want: "longer"},
		{name: "author control char", body: `{"service":"a","version":"b","author":"a\u0007b"}`, field: "author", want: "control character"},
		{name: "author too long", body: `{"service":"a","version":"b","author":"` + strings.Repeat("x", MaxAuthorLen+1) + `"}`, field: "author", want: "longer"},
		{name: "id empty", body: `{"service":"a","version":"b","id":""}`, field: "id", want: "empty"},
		{name: "id with slash", body: `{"service":"a","version":"b","id":"a/b"}`, field: "id", want: "not allowed"},
		{name: "id too long", body: `{"service":"a","version":"b","id":"` + strings.Repeat("i", MaxIDLen+1) + `"}`, field: "id", want: "longer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := decodePayload([]byte(tc.body), testNow)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tc.check != nil {
					tc.check(t, ev)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FieldError on %q, got %v", tc.field, err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Reason, tc.want) {
				t.Errorf("got field %q reason %q; want field %q reason containing %q", fe.Field, fe.Reason, tc.field, tc.want)
			}
		})
	}
}

// FuzzDecodePayload: the decoder never panics, and whatever it accepts is a
// valid event that survives a trip through JSON unchanged.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{
		`{"service":"checkout","version":"1.2.3"}`,
		`{"service":"a","version":"b","timestamp":"2026-03-04T05:06:07Z","environment":"prod","url":"https://ci.example/1","author":"me","id":"x-1"}`,
		`{"service":"a","version":"b","service":"c"}`,
		`{"service":"a","version":null}`,
		`[]`, `{`, ``, `{"a":{"b":[1,2,{"c":"d"}]}}`,
		"{\"service\":\"a\xffb\",\"version\":\"1\"}",
		"{\"service\":\"a\",\"version\":\"1\xc3\"}",
		`{"service":"a","version":"\ud800"}`,
		`{"service":"a","version":"\ud83d\ude00","author":"\udc00x"}`,
		`{"service":"a","version":"\ufffd\\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decodePayload(body, testNow)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		// Nothing was replaced on the way: no invalid byte got through, and
		// every U+FFFD stored was sent as one (raw or escaped).
		if !utf8.Valid(body) {
			t.Fatalf("accepted a body that is not UTF-8: %q", body)
		}
		stored := ev.Service + ev.Version + ev.Environment + ev.URL + ev.Author + ev.ID
		sent := bytes.Count(body, []byte("\uFFFD")) + bytes.Count(bytes.ToLower(body), []byte(`\ufffd`))
		if n := strings.Count(stored, "\uFFFD"); n > sent {
			t.Fatalf("%d U+FFFD stored, %d sent: a replacement slipped through in %q", n, sent, body)
		}
		if checkLabel("service", ev.Service) != nil || checkLabel("version", ev.Version) != nil {
			t.Fatalf("accepted invalid labels: %+v", ev)
		}
		if ev.ID != "" && checkID(ev.ID) != nil {
			t.Fatalf("accepted invalid id %q", ev.ID)
		}
		if ev.Timestamp.After(testNow.Add(MaxFutureSkew)) {
			t.Fatalf("accepted a future timestamp %v", ev.Timestamp)
		}
		// Re-encode as a request and decode again: same event.
		req := map[string]string{"service": ev.Service, "version": ev.Version}
		for k, v := range map[string]string{"environment": ev.Environment, "url": ev.URL, "author": ev.Author, "id": ev.ID} {
			if v != "" {
				req[k] = v
			}
		}
		if !ev.Timestamp.IsZero() {
			req["timestamp"] = ev.Timestamp.Format(time.RFC3339Nano)
		}
		again, _ := json.Marshal(req)
		ev2, err := decodePayload(again, testNow)
		if err != nil {
			t.Fatalf("re-encoded %s rejected: %v", again, err)
		}
		if !ev2.Timestamp.Equal(ev.Timestamp) {
			t.Fatalf("timestamp changed: %v -> %v", ev.Timestamp, ev2.Timestamp)
		}
		ev2.Timestamp = ev.Timestamp
		if ev2 != ev {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", ev, ev2)
		}
	})
}

// Request, the type clients marshal, has exactly the fields the decoder
// accepts.
func TestRequestMatchesPayloadFields(t *testing.T) {
	b, _ := json.Marshal(Request{"s", "v", "t", "e", "u", "a", "i"})
	var m map[string]string
	json.Unmarshal(b, &m)
	if len(m) != len(payloadFields) {
		t.Fatalf("Request has %d fields, the decoder knows %d", len(m), len(payloadFields))
	}
	for _, f := range payloadFields {
		if _, ok := m[f]; !ok {
			t.Errorf("Request lacks %q", f)
		}
	}
}
