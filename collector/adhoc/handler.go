package adhoc

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/http5xx/http5xx_exporter/collector/api"
	"github.com/http5xx/http5xx_exporter/collector/config"
)

// ServeHTTP answers GET /api/v1/check?url=URL[&valid_status_codes=200-399]
// [&timeout=5s] with a Report in the api envelope: 200 whatever the target
// answered, 400 for a malformed request, 403 when the guard refuses the URL
// or a redirect hop, 404 when ad-hoc checks are off, 429 over the rate
// limit.
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		api.WriteError(w, http.StatusMethodNotAllowed, api.ErrBadData, "method "+r.Method+" not allowed; use GET")
		return
	}
	req, refusal := c.Admit(r.URL.Query(), r.RemoteAddr)
	if refusal != nil {
		refusal.WriteHeader(w)
		api.WriteError(w, refusal.Code, refusal.Type, refusal.Msg)
		return
	}
	rep, err := c.Check(r.Context(), req.URL, req.Valid, req.Timeout)
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		c.o.Logger.Info("ad-hoc check refused", "url", refused.URL, "reason", refused.Reason, "client", r.RemoteAddr)
		api.WriteError(w, http.StatusForbidden, api.ErrBadData, err.Error())
		return
	case err != nil:
		api.WriteError(w, http.StatusInternalServerError, api.ErrInternal, err.Error())
		return
	}
	c.o.Logger.Info("ad-hoc check", "url", rep.URL, "code", rep.Code, "reason", rep.Reason, "client", r.RemoteAddr)
	api.WriteData(w, http.StatusOK, rep)
}

// Request is an admitted check: what to pass to Check.
type Request struct {
	URL string
	// Valid is nil for the default 200-399; ValidText as asked.
	Valid     config.StatusCodes
	ValidText string
	// Timeout is 0 for the Checker's own.
	Timeout time.Duration
}

// Refusal is why a request is not checked, as the HTTP answer it gets.
type Refusal struct {
	Code       int
	Type       api.ErrorType
	Msg        string
	RetryAfter time.Duration // of a 429
}

// WriteHeader sets the headers the refusal needs (Retry-After of a 429);
// the caller writes the status and body in its own format.
func (f *Refusal) WriteHeader(w http.ResponseWriter) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
}

// Admit applies the rules of the endpoint to a request's parameters (url,
// valid_status_codes, timeout) from client, in the endpoint's order: ad-hoc
// checks on, parameters well formed, a token of the rate limit, the URL
// admitted by the guard. /api/v1/check and the status page's checker both
// go through it, so one rule guards both.
func (c *Checker) Admit(q url.Values, client string) (Request, *Refusal) {
	if c.guard == nil {
		return Request{}, &Refusal{Code: http.StatusNotFound, Type: api.ErrNotFound, Msg: "ad-hoc checks are off on this exporter (see --adhoc.enable)"}
	}
	req := Request{URL: q.Get("url"), ValidText: q.Get("valid_status_codes")}
	if req.URL == "" || len(req.URL) > 2048 {
		return Request{}, &Refusal{Code: http.StatusBadRequest, Type: api.ErrBadData, Msg: "url parameter is missing or longer than 2048 bytes"}
	}
	if req.ValidText != "" {
		var err error
		if req.Valid, err = config.ParseStatusCodes(req.ValidText); err != nil {
			return Request{}, &Refusal{Code: http.StatusBadRequest, Type: api.ErrBadData, Msg: "valid_status_codes: " + err.Error()}
		}
	}
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Request{}, &Refusal{Code: http.StatusBadRequest, Type: api.ErrBadData, Msg: "timeout must be a positive duration such as 5s"}
		}
		req.Timeout = d
	}
	if ok, wait := c.bucket.take(); !ok {
		return Request{}, &Refusal{Code: http.StatusTooManyRequests, Type: api.ErrUnavailable, Msg: "too many ad-hoc checks; try again later", RetryAfter: wait}
	}
	u, err := url.Parse(req.URL)
	if err == nil && u.IsAbs() {
		err = c.guard.CheckURL(u)
	} else {
		err = &RefusedError{URL: req.URL, Reason: "not an absolute http or https URL"}
	}
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			c.o.Logger.Info("ad-hoc check refused", "url", refused.URL, "reason", refused.Reason, "client", client)
		}
		return Request{}, &Refusal{Code: http.StatusForbidden, Type: api.ErrBadData, Msg: err.Error()}
	}
	return req, nil
}

// bucket is a token bucket: size tokens, one more every interval.
type bucket struct {
	size     float64
	interval time.Duration
	now      func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newBucket(size int, every time.Duration, now func() time.Time) *bucket {
	return &bucket{size: float64(size), interval: every, now: now, tokens: float64(size), last: now()}
}

// take spends a token; when none is left it says how long until one is.
func (b *bucket) take() (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.size, b.tokens+float64(el)/float64(b.interval))
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(b.interval))
}

// Enabled reports whether ad-hoc checks are on.
func (c *Checker) Enabled() bool { return c.guard != nil }
