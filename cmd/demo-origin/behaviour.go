package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Limits that keep the origin's state and work bounded.
const (
	maxDelay          = 5 * time.Minute // /delay and a scenario's delay
	maxControlBody    = 64 << 10        // bytes of a control API request body
	maxScenarios      = 1000
	maxLocations      = 100  // per scenario
	maxNameLen        = 64   // scenario and location names
	maxHeaderValue    = 256  // version, retry_after
	defaultRetryAfter = "30" // on /status/503 and /status/429
)

// Modes of a scenario: what happens after its delay.
const (
	modeOK      = "ok"      // an ordinary answer with the status (the default)
	modeHang    = "hang"    // no answer until the client leaves
	modeReset   = "reset"   // TCP RST
	modeGarbage = "garbage" // non-HTTP bytes
)

// behaviour is what a scenario path /t/{name} does, as set through
// PUT /-/control/{name}.
type behaviour struct {
	Status     int      `json:"status,omitempty"`
	Delay      duration `json:"delay,omitempty"`
	Mode       string   `json:"mode,omitempty"`
	RetryAfter string   `json:"retry_after,omitempty"`
	As         string   `json:"as,omitempty"`
	// Locations replaces the whole behaviour for probes from a location
	// (the part of X-Http5xx-Probe before the first "/").
	Locations map[string]behaviour `json:"locations,omitempty"`
}

// defaultBehaviour is what an unset scenario does.
func defaultBehaviour() behaviour { return behaviour{Status: http.StatusOK} }

// forLocation returns the behaviour for probes from loc.
func (b behaviour) forLocation(loc string) behaviour {
	if o, ok := b.Locations[loc]; ok && loc != "" {
		return o
	}
	return b
}

// normalize checks b and fills defaults; nested reports a location override.
func (b *behaviour) normalize(nested bool) error {
	if b.Status == 0 {
		b.Status = http.StatusOK
	}
	if b.Status < 100 || b.Status > 999 {
		return fmt.Errorf("status %d: want a code between 100 and 999", b.Status)
	}
	if b.Delay < 0 || time.Duration(b.Delay) > maxDelay {
		return fmt.Errorf("delay %s: want between 0s and %s", time.Duration(b.Delay), maxDelay)
	}
	switch b.Mode {
	case "", modeOK, modeHang, modeReset, modeGarbage:
	default:
		return fmt.Errorf("mode %q: want one of ok, hang, reset, garbage", b.Mode)
	}
	if err := checkHeaderValue("retry_after", b.RetryAfter); err != nil {
		return err
	}
	if !knownProduct(b.As) {
		return fmt.Errorf("as %q: want one of %s", b.As, productList)
	}
	if nested && b.Locations != nil {
		return errors.New("locations: a location's behaviour cannot have locations of its own")
	}
	if len(b.Locations) > maxLocations {
		return fmt.Errorf("locations: %d given, at most %d", len(b.Locations), maxLocations)
	}
	for loc, o := range b.Locations {
		if err := checkName(loc); err != nil {
			return fmt.Errorf("location %q: %w", loc, err)
		}
		if err := o.normalize(true); err != nil {
			return fmt.Errorf("location %q: %w", loc, err)
		}
		b.Locations[loc] = o
	}
	return nil
}

// checkName accepts scenario and location names: 1-64 of [A-Za-z0-9._-].
func checkName(s string) error {
	if s == "" || len(s) > maxNameLen {
		return fmt.Errorf("want 1 to %d characters", maxNameLen)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("character %q: want letters, digits, '.', '_' or '-'", c)
		}
	}
	return nil
}

// checkHeaderValue rejects values that cannot go into a header verbatim.
func checkHeaderValue(field, v string) error {
	if len(v) > maxHeaderValue {
		return fmt.Errorf("%s: %d bytes, at most %d", field, len(v), maxHeaderValue)
	}
	if i := strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 {
		return fmt.Errorf("%s %q: control characters are not allowed in a header", field, v)
	}
	return nil
}

// duration is a time.Duration written as a Go duration string ("2s") in JSON.
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("delay: want a duration string such as \"2s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("delay: %w", err)
	}
	*d = duration(v)
	return nil
}

// decodeJSON reads one JSON object from a control request into v, rejecting
// unknown fields, trailing data and bodies over maxControlBody. On error it
// returns the status code to answer with.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) (int, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return http.StatusBadRequest, errors.New("empty body: want a JSON object")
	default:
		return http.StatusBadRequest, fmt.Errorf("bad JSON: %w", err)
	}
}
