// Package api is the one JSON envelope of every /api/v1 answer, the one
// Prometheus' HTTP API uses:
//
//	{"status": "success", "data": ..., "warnings": [...]}
//	{"status": "error", "errorType": "bad_data", "error": "limit: ..."}
//
// Handlers answer with WriteData and WriteError; clients read an answer
// with Decode. The HTTP status code still says what happened (400, 404,
// 429, ...); errorType is its category in Prometheus' words.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The values of Response.Status.
const (
	StatusSuccess = "success"
	StatusError   = "error"
)

// ErrorType is the category of a failed request. The values are those of
// Prometheus' web/api/v1; this exporter uses the five below.
type ErrorType string

// The error types the exporter answers with.
const (
	// ErrBadData: the request is wrong and the same request will fail
	// again: a parameter, the body, its Content-Type or size, the method,
	// missing or wrong credentials, a URL the ad-hoc guard refuses.
	ErrBadData ErrorType = "bad_data"
	// ErrNotFound: what the request names does not exist here (a target
	// that is not configured), or the endpoint is switched off.
	ErrNotFound ErrorType = "not_found"
	// ErrExecution: a well-formed request that cannot be carried out: an
	// idempotency id reused for another deploy, a limit of services.
	ErrExecution ErrorType = "execution"
	// ErrUnavailable: not now: over the rate limit, storage failing or
	// shutting down (the HTTP code and Retry-After say whether to retry),
	// or the feature is disabled by the exporter's flags.
	ErrUnavailable ErrorType = "unavailable"
	// ErrInternal: the exporter itself failed.
	ErrInternal ErrorType = "internal"
)

// Response is the body of every /api/v1 answer.
type Response struct {
	Status string `json:"status"` // StatusSuccess or StatusError
	// Data is the answer's document; on errors it is left out.
	Data      any       `json:"data,omitempty"`
	ErrorType ErrorType `json:"errorType,omitempty"`
	Error     string    `json:"error,omitempty"`
	// Warnings are notes on a success, such as a request that changed
	// nothing.
	Warnings []string `json:"warnings,omitempty"`
}

// WriteData answers code (a 2xx) with data and optional warnings.
func WriteData(w http.ResponseWriter, code int, data any, warnings ...string) {
	write(w, code, &Response{Status: StatusSuccess, Data: data, Warnings: warnings})
}

// WriteError answers code (a 4xx or 5xx) with the error envelope.
func WriteError(w http.ResponseWriter, code int, typ ErrorType, msg string) {
	write(w, code, &Response{Status: StatusError, ErrorType: typ, Error: msg})
}

func write(w http.ResponseWriter, code int, r *Response) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		// Marshal before the header is sent, so a document that cannot be
		// encoded is an error answer, not a 200 with half a body.
		code = http.StatusInternalServerError
		b, _ = json.MarshalIndent(&Response{Status: StatusError, ErrorType: ErrInternal, Error: "encoding the answer: " + err.Error()}, "", "  ")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n')) // an error means the client went away
}

// Bounds on what Decode keeps of another server's text: an error envelope
// is read for a one-line message, not a document.
const (
	maxMessage   = 512
	maxErrorType = 64
	maxWarnings  = 16
)

// Error is an answer without data: an error envelope, or (Type "")
// something that is not an envelope at all, such as a proxy's error page.
// Its text is bounded and may still hold control characters.
type Error struct {
	Code int       // the answer's HTTP status code
	Type ErrorType // the envelope's errorType; "" when there was no envelope
	Msg  string    // the envelope's error, or the start of the body
}

func (e *Error) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("HTTP %d, not an API answer: %s", e.Code, e.Msg)
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Code, e.Type, e.Msg)
}

// Decode reads an answer with HTTP status code and body. A success
// envelope (with a 2xx code) has its data decoded into out, unless out is
// nil, and its warnings returned. An error envelope, and any answer that is
// not an envelope, is an *Error. The caller bounds body.
func Decode(code int, body []byte, out any) (warnings []string, err error) {
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Warnings  warningList     `json:"warnings"`
	}
	if json.Unmarshal(body, &env) != nil {
		return nil, &Error{Code: code, Msg: start(body)}
	}
	switch {
	case env.Status == StatusError:
		msg := bound(env.Error, maxMessage)
		if msg == "" {
			msg = http.StatusText(code)
		}
		return nil, &Error{Code: code, Type: ErrorType(bound(env.ErrorType, maxErrorType)), Msg: msg}
	case env.Status != StatusSuccess || code/100 != 2:
		return nil, &Error{Code: code, Msg: start(body)}
	case out == nil:
		return env.Warnings, nil
	case len(env.Data) == 0 || string(env.Data) == "null":
		return nil, &Error{Code: code, Msg: "a success without data"}
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return nil, fmt.Errorf("the data of the answer: %w", err)
	}
	return env.Warnings, nil
}

// warningList keeps the first maxWarnings warnings, each bounded: a long
// list of tiny strings would otherwise cost far more memory than its bytes.
type warningList []string

func (ws *warningList) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("warnings is not a list")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		s, ok := tok.(string)
		if !ok {
			return errors.New("a warning is not a string")
		}
		if len(*ws) < maxWarnings {
			*ws = append(*ws, bound(s, maxMessage))
		}
	}
	_, err = dec.Token()
	return err
}

// start is the first line of a body that is not an envelope, bounded.
func start(body []byte) string {
	s := strings.TrimSpace(string(body[:min(len(body), 4*maxMessage)]))
	s, _, _ = strings.Cut(s, "\n")
	if s = strings.TrimSpace(s); s == "" {
		return "an empty body"
	}
	return bound(s, 200)
}

// bound cuts s to at most n bytes, on a rune boundary, marking the cut.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// MethodNotAllowed answers 405 in the envelope, with the Allow header, for a
// request whose method the endpoint does not take: the router's own 405 is
// plain text, and every /api/v1 answer is JSON.
func MethodNotAllowed(allow ...string) http.Handler {
	list := strings.Join(allow, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", list)
		WriteError(w, http.StatusMethodNotAllowed, ErrBadData, fmt.Sprintf("method %s not allowed; use %s", r.Method, list))
	})
}
