package main

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/units"
)

// Bounds of the streaming paths.
const (
	defaultHugeBytes    = 64 << 20
	maxHugeBytes        = 16 << 30
	defaultTrickleBytes = 30
	maxTrickleBytes     = 3600
	rawWriteTimeout     = 5 * time.Second // writes on a hijacked connection
)

func (s *server) handleOK(w http.ResponseWriter, r *http.Request) {
	a, ok := answerFromQuery(w, r.URL.Query(), http.StatusOK)
	if ok {
		s.answer(w, a)
	}
}

// answerFromQuery builds an answer with the query's ?as= and ?retry_after=.
// 503 and 429 get Retry-After: 30 unless ?retry_after= says otherwise (an
// empty value sends none).
func answerFromQuery(w http.ResponseWriter, q url.Values, status int) (answer, bool) {
	a := answer{status: status, as: q.Get("as")}
	if !knownProduct(a.as) {
		badRequest(w, "as %q: want one of %s", a.as, productList)
		return a, false
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		a.retryAfter = defaultRetryAfter
	}
	if q.Has("retry_after") {
		a.retryAfter = q.Get("retry_after")
	}
	if err := checkHeaderValue("retry_after", a.retryAfter); err != nil {
		badRequest(w, "%v", err)
		return a, false
	}
	return a, true
}

func (s *server) handleStatus(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 100 || code > 999 {
		badRequest(w, "status %q: want a code between 100 and 999", r.PathValue("code"))
		return
	}
	if a, ok := answerFromQuery(w, r.URL.Query(), code); ok {
		s.answer(w, a)
	}
}

// handleRetryAfter answers 503 with the path's Retry-After sent verbatim, so
// malformed values can be tried as well as seconds and HTTP-dates.
func (s *server) handleRetryAfter(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	q.Set("retry_after", r.PathValue("value"))
	if a, ok := answerFromQuery(w, q, http.StatusServiceUnavailable); ok {
		s.answer(w, a)
	}
}

func (s *server) handleDelay(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("duration")
	d, err := time.ParseDuration(raw)
	if secs, aerr := strconv.Atoi(raw); aerr == nil {
		// Checked before multiplying: a huge count would wrap around into
		// a short, valid-looking delay.
		if secs > int(maxDelay/time.Second) {
			secs = -1
		}
		d, err = time.Duration(secs)*time.Second, nil
	}
	if err != nil || d < 0 || d > maxDelay {
		badRequest(w, "delay %q: want a duration such as 250ms, 10s or 10 (seconds), at most %s", raw, maxDelay)
		return
	}
	if a, ok := answerFromQuery(w, r.URL.Query(), http.StatusOK); ok {
		sleep(r, d)
		s.answer(w, a)
	}
}

// sleepSpin is how much of a delay sleep waits out by yielding instead of
// on a timer: an idle Go process waits for its next timer in the kernel
// in whole milliseconds, so a timer alone fires up to a millisecond late,
// as much as the accuracy a delay is there to test.
const sleepSpin = 2 * time.Millisecond

// sleep waits d, to within tens of microseconds when the machine has a
// core free. When the client leaves (or the server shuts down) first, it
// aborts the handler without an answer.
func sleep(r *http.Request, d time.Duration) {
	deadline := time.Now().Add(d)
	if d > sleepSpin {
		t := time.NewTimer(d - sleepSpin)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			abort()
		}
	}
	for time.Now().Before(deadline) {
		if r.Context().Err() != nil {
			abort()
		}
		runtime.Gosched()
	}
}

// abort ends the handler and its connection without an answer; returning
// would send an empty 200.
func abort() { panic(http.ErrAbortHandler) }

// handleHang never answers; it returns when the client leaves.
func handleHang(_ http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
	abort()
}

// hijack takes over the raw connection. A server that cannot hand it over
// (HTTP/2) gets the connection aborted instead, which is the closest thing.
func hijack(w http.ResponseWriter) net.Conn {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		abort()
	}
	return conn
}

// handleReset closes the connection with a TCP RST instead of answering.
func handleReset(w http.ResponseWriter, _ *http.Request) {
	conn := hijack(w)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST, not FIN
	}
	_ = conn.Close()
}

// garbage is what /garbage sends: no status line, binary noise, then close.
const garbage = "\x00\x01\x02\xffdemo-origin: this is not HTTP\r\n\x7fELF\x02\x01\x01\r\n\r\n"

func handleGarbage(w http.ResponseWriter, _ *http.Request) {
	conn := hijack(w)
	_ = conn.SetWriteDeadline(time.Now().Add(rawWriteTimeout))
	_, _ = conn.Write([]byte(garbage))
	_ = conn.Close()
}

// parseSize reads ?bytes= as a plain number or a base-2 size (64MiB).
func parseSize(q url.Values, def, limit int64) (int64, bool) {
	raw := q.Get("bytes")
	if raw == "" {
		return def, true
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		var b units.Base2Bytes
		b, err = units.ParseBase2Bytes(raw)
		n = int64(b)
	}
	return n, err == nil && n >= 0 && n <= limit
}

// handleHuge streams ?bytes= bytes (64MiB by default), stopping when the
// client leaves.
func handleHuge(w http.ResponseWriter, r *http.Request) {
	n, ok := parseSize(r.URL.Query(), defaultHugeBytes, maxHugeBytes)
	if !ok {
		badRequest(w, "bytes %q: want 0 to %d, e.g. 1048576 or 64MiB", r.URL.Query().Get("bytes"), int64(maxHugeBytes))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	chunk := bytes.Repeat([]byte("http5xx demo-origin /huge body, streamed until the limit or the client leaves\n"), 400)
	for n > 0 && r.Context().Err() == nil {
		c := chunk[:min(int64(len(chunk)), n)]
		if _, err := w.Write(c); err != nil {
			return
		}
		n -= int64(len(c))
	}
}

// handleTrickle sends ?bytes= body bytes (30 by default), one per second.
func handleTrickle(w http.ResponseWriter, r *http.Request) {
	n, ok := parseSize(r.URL.Query(), defaultTrickleBytes, maxTrickleBytes)
	if !ok {
		badRequest(w, "bytes %q: want 0 to %d", r.URL.Query().Get("bytes"), maxTrickleBytes)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush() // headers now, body later
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ; n > 0; n-- {
		select {
		case <-tick.C:
		case <-r.Context().Done():
			return
		}
		if _, err := w.Write([]byte{'.'}); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// handleRedirectLoop sends /redirect-loop to /a, /a to /b and /b back to /a.
func handleRedirectLoop(w http.ResponseWriter, r *http.Request) {
	next := map[string]string{"": "a", "a": "b", "b": "a"}[r.PathValue("side")]
	if next == "" {
		http.NotFound(w, r)
		return
	}
	http.Redirect(w, r, "/redirect-loop/"+next, http.StatusFound)
}

// handleFlaky answers a random code: ?p500=0.1&p503=0.05 gives 500 with
// probability 0.1, 503 with 0.05 and 200 otherwise. Any p<code> works.
func (s *server) handleFlaky(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	type weight struct {
		code int
		p    float64
	}
	var weights []weight
	sum := 0.0
	for key, vals := range q {
		if !strings.HasPrefix(key, "p") || key == "p" {
			continue
		}
		code, err := strconv.Atoi(key[1:])
		if err != nil || code < 100 || code > 999 {
			badRequest(w, "%s: want p<code> with a code between 100 and 999, e.g. p503", key)
			return
		}
		p, err := strconv.ParseFloat(vals[0], 64)
		if err != nil || p < 0 || p > 1 {
			badRequest(w, "%s=%q: want a probability between 0 and 1", key, vals[0])
			return
		}
		weights = append(weights, weight{code, p})
		sum += p
	}
	if sum > 1+1e-9 {
		badRequest(w, "probabilities add up to %g: want at most 1", sum)
		return
	}
	// Map iteration order is random; sort so a seed gives one sequence.
	slices.SortFunc(weights, func(a, b weight) int { return a.code - b.code })

	s.mu.Lock()
	x := s.rng.Float64()
	s.mu.Unlock()
	code := http.StatusOK
	for _, wt := range weights {
		if x < wt.p {
			code = wt.code
			break
		}
		x -= wt.p
	}
	if a, ok := answerFromQuery(w, q, code); ok {
		s.answer(w, a)
	}
}
