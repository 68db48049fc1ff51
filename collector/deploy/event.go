package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sources of an event.
const (
	SourceAPI      = "api"      // posted to /api/v1/deploys (by CI or the deploy command)
	SourceDetected = "detected" // a target's version header or version_url changed
)

// Limits of the API and of stored values.
const (
	// MaxBodyBytes bounds a POST body.
	MaxBodyBytes = 64 << 10
	// MaxLabelLen bounds service, version and environment (label-like
	// values), in characters.
	MaxLabelLen = 128
	// MaxIDLen bounds the idempotency id.
	MaxIDLen = 128
	// MaxAuthorLen bounds the free-text author.
	MaxAuthorLen = 256
	// MaxURLLen bounds the deploy's URL (a pipeline run, a changelog).
	MaxURLLen = 2048
	// MaxFutureSkew is how far in the future a timestamp may lie (clock skew
	// of the pipeline's machine); later ones would pin "current version".
	MaxFutureSkew = 5 * time.Minute
)

// idChars spells out, for error messages, what an id may hold.
const idChars = "letters, digits and . _ - :"

// Event is one recorded deploy.
type Event struct {
	// ID is the idempotency key: an event is stored once per id.
	ID          string    `json:"id"`
	Service     string    `json:"service"`
	Version     string    `json:"version"`
	Timestamp   time.Time `json:"timestamp"`
	Environment string    `json:"environment,omitempty"`
	URL         string    `json:"url,omitempty"`
	Author      string    `json:"author,omitempty"`
	// Source is SourceAPI or SourceDetected.
	Source string `json:"source"`
	// Target and PreviousVersion describe a detected deploy: whose probes saw
	// it and which version they saw before.
	Target          string `json:"target,omitempty"`
	PreviousVersion string `json:"previous_version,omitempty"`
	// Recorded is when the exporter stored the event.
	Recorded time.Time `json:"recorded"`
	// Seq numbers the service's deploys from 1 in the order they were
	// recorded; http5xx_deploys_total is the highest, so the counter survives
	// the bounded history and compaction.
	Seq uint64 `json:"seq"`

	// retired marks an event that has left its service's history and is
	// kept only so a retry of its id is still answered as a duplicate.
	retired bool
	// window, when set, makes this a log record of a maintenance window
	// rather than a deploy: windows share the deploy log, its writer,
	// group commit and compaction (the other fields are then empty).
	window *Window
}

// newer reports whether a is a later deploy than b: by timestamp, then by
// recording order.
func newer(a, b *Event) bool {
	if !a.Timestamp.Equal(b.Timestamp) {
		return a.Timestamp.After(b.Timestamp)
	}
	return a.Seq > b.Seq
}

// FieldError says which field of a request is wrong and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// checkLabel validates a value that becomes a label value (service,
// version) or a filter, with the rules the config applies to label values:
// 1..MaxLabelLen characters of UTF-8 without control characters, and no
// white space around it (that would make a second, invisible series).
func checkLabel(field, v string) *FieldError {
	if v == "" {
		return fieldErr(field, "required")
	}
	if !utf8.ValidString(v) {
		return fieldErr(field, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > MaxLabelLen {
		return fieldErr(field, "%d characters long, more than %d", n, MaxLabelLen)
	}
	for i, r := range v {
		if unicode.IsControl(r) {
			return fieldErr(field, "control character %U at byte %d not allowed", r, i)
		}
	}
	if strings.TrimSpace(v) != v {
		return fieldErr(field, "white space around the value not allowed")
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func checkID(v string) *FieldError {
	if v == "" {
		return fieldErr("id", "empty; omit it to have one generated")
	}
	if len(v) > MaxIDLen {
		return fieldErr("id", "longer than %d bytes", MaxIDLen)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isAlnum(c) && strings.IndexByte("._-:", c) < 0 {
			return fieldErr("id", "character %q at byte %d not allowed; use %s", rune(c), i, idChars)
		}
	}
	return nil
}

// checkText validates free text (author): valid UTF-8, no control characters.
func checkText(field, v string, max int) *FieldError {
	if len(v) > max {
		return fieldErr(field, "longer than %d bytes", max)
	}
	if !utf8.ValidString(v) {
		return fieldErr(field, "not valid UTF-8")
	}
	for i, r := range v {
		if unicode.IsControl(r) {
			return fieldErr(field, "control character %U at byte %d not allowed", r, i)
		}
	}
	return nil
}

func checkURL(v string) *FieldError {
	if len(v) > MaxURLLen {
		return fieldErr("url", "longer than %d bytes", MaxURLLen)
	}
	if err := checkText("url", v, MaxURLLen); err != nil {
		return err
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fieldErr("url", "not an absolute http(s) URL")
	}
	return nil
}

// Request is the JSON body of POST /api/v1/deploys. Only Service and
// Version are required; Timestamp is RFC 3339 and defaults to the time the
// exporter receives the request; ID is the idempotency key.
type Request struct {
	Service     string `json:"service"`
	Version     string `json:"version"`
	Timestamp   string `json:"timestamp,omitempty"`
	Environment string `json:"environment,omitempty"`
	URL         string `json:"url,omitempty"`
	Author      string `json:"author,omitempty"`
	ID          string `json:"id,omitempty"`
}

// ParseRequest checks a POST body exactly as the API does, so a client can
// refuse a bad request before sending it. A *FieldError names the field.
func ParseRequest(body []byte, now time.Time) (Event, error) {
	return decodePayload(body, now)
}

// payloadFields are the fields a POST body may carry, in the order they are
// validated (so the reported field is deterministic).
var payloadFields = [...]string{"service", "version", "timestamp", "environment", "url", "author", "id"}

// decodePayload parses and validates a POST body strictly: one JSON object,
// string values only, no unknown or repeated fields, nothing after it. A
// *FieldError names the offending field ("body" for the document as a
// whole). The returned event has a zero Timestamp when none was given and
// an empty ID when none was given.
func decodePayload(body []byte, now time.Time) (Event, error) {
	vals, given, err := decodeStrings(body, payloadFields[:])
	if err != nil {
		return Event{}, err
	}
	ev := Event{
		Service:     vals[0],
		Version:     vals[1],
		Environment: vals[3],
		URL:         vals[4],
		Author:      vals[5],
		ID:          vals[6],
		Source:      SourceAPI,
	}
	if err := checkLabel("service", ev.Service); err != nil {
		return Event{}, err
	}
	if err := checkLabel("version", ev.Version); err != nil {
		return Event{}, err
	}
	if given[2] {
		ts, err := parseTimestamp(vals[2], now)
		if err != nil {
			return Event{}, err
		}
		ev.Timestamp = ts
	}
	if given[3] {
		if ev.Environment == "" {
			return Event{}, fieldErr("environment", "empty; omit the field instead")
		}
		if err := checkLabel("environment", ev.Environment); err != nil {
			return Event{}, err
		}
	}
	if given[4] {
		if err := checkURL(ev.URL); err != nil {
			return Event{}, err
		}
	}
	if err := checkText("author", ev.Author, MaxAuthorLen); err != nil {
		return Event{}, err
	}
	if given[6] {
		if err := checkID(ev.ID); err != nil {
			return Event{}, err
		}
	}
	return ev, nil
}

// decodeStrings parses body strictly as one JSON object whose fields are
// all strings out of fields: no unknown or repeated fields, nothing after
// it. It returns the values and which were given, in the order of fields.
// Shared by every POST body of this package (deploys, maintenance windows).
func decodeStrings(body []byte, fields []string) ([]string, []bool, error) {
	vals := make([]string, len(fields))
	given := make([]bool, len(fields))

	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, nil, fieldErr("body", "empty; want a JSON object")
	}
	if err != nil {
		return nil, nil, jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, fieldErr("body", "not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, jsonErr(err)
		}
		key, _ := tok.(string) // inside an object the decoder only yields string keys
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, jsonErr(err)
		}
		i := slices.Index(fields, key)
		if i < 0 {
			return nil, nil, fieldErr(printable(key), "unknown field; known fields are %s", strings.Join(fields, ", "))
		}
		if given[i] {
			return nil, nil, fieldErr(key, "given more than once")
		}
		given[i] = true
		if len(raw) == 0 || raw[0] != '"' {
			return nil, nil, fieldErr(key, "must be a JSON string")
		}
		// Checked on the raw bytes: decoding replaces invalid UTF-8 and
		// lone surrogate escapes with U+FFFD, which passes every later check.
		if err := checkRawString(key, raw); err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, &vals[i]); err != nil {
			return nil, nil, fieldErr(key, "must be a JSON string")
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fieldErr("body", "data after the JSON object")
	}
	return vals, given, nil
}

// checkRawString refuses a JSON string token (quotes included) that does
// not decode losslessly: invalid UTF-8 bytes, or a \u escape of half a
// surrogate pair. encoding/json would turn either into U+FFFD silently.
func checkRawString(field string, raw []byte) *FieldError {
	if !utf8.Valid(raw) {
		return fieldErr(field, "not valid UTF-8")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 < len(raw) && raw[i+1] != 'u' {
			i++ // a two-byte escape such as \" or \\
			continue
		}
		r := hexRune(raw[i+2:])
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return fieldErr(field, "not valid UTF-8: lone surrogate escape at byte %d", i)
		case r >= 0xD800 && r <= 0xDBFF:
			if next := i + 6; next+1 < len(raw) && raw[next] == '\\' && raw[next+1] == 'u' {
				if lo := hexRune(raw[next+2:]); lo >= 0xDC00 && lo <= 0xDFFF {
					i = next + 5
					continue
				}
			}
			return fieldErr(field, "not valid UTF-8: lone surrogate escape at byte %d", i)
		}
		i += 5
	}
	return nil
}

// hexRune decodes the four hex digits b starts with, or returns -1.
func hexRune(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

// parseTimestamp accepts RFC 3339 (with or without fractional seconds)
// between 1970 and MaxFutureSkew from now.
func parseTimestamp(v string, now time.Time) (time.Time, error) {
	ts, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fieldErr("timestamp", "not RFC 3339 (like 2026-01-02T15:04:05Z): %q", truncate(v, 64))
	}
	if ts.Before(time.Unix(0, 0)) {
		return time.Time{}, fieldErr("timestamp", "before 1970")
	}
	if ts.After(now.Add(MaxFutureSkew)) {
		return time.Time{}, fieldErr("timestamp", "more than %s in the future (exporter time %s)", MaxFutureSkew, now.UTC().Format(time.RFC3339))
	}
	return ts.UTC(), nil
}

func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fieldErr("body", "not valid JSON at byte %d: %v", se.Offset, se)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fieldErr("body", "JSON ends early")
	}
	return fieldErr("body", "not valid JSON: %v", err)
}

// printable makes an untrusted field name safe to echo: quoted when odd,
// and short.
func printable(s string) string {
	s = truncate(s, 64)
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && strings.IndexByte("._-", c) < 0 {
			return fmt.Sprintf("%q", s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// checkStored validates an event read back from storage, so a damaged but
// checksum-valid record can never reach the metrics.
func checkStored(ev *Event) error {
	if ev.Service == "" || len(ev.Service) > 1024 {
		return errors.New("service missing or too long")
	}
	if err := checkLabel("version", ev.Version); err != nil {
		return err
	}
	if err := checkID(ev.ID); err != nil {
		return err
	}
	if ev.Source != SourceAPI && ev.Source != SourceDetected {
		return fmt.Errorf("unknown source %q", truncate(ev.Source, 32))
	}
	if ev.Seq == 0 {
		return errors.New("seq missing")
	}
	if ev.Timestamp.IsZero() {
		return errors.New("timestamp missing")
	}
	return nil
}
