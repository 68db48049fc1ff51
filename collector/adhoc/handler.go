package adhoc

import (
	"errors"
	"net/http"
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
	if c.guard == nil {
		api.WriteError(w, http.StatusNotFound, api.ErrNotFound, "ad-hoc checks are off on this exporter (see --adhoc.enable)")
		return
	}
	q := r.URL.Query()
	raw := q.Get("url")
	if raw == "" || len(raw) > 2048 {
		api.WriteError(w, http.StatusBadRequest, api.ErrBadData, "url parameter is missing or longer than 2048 bytes")
		return
	}
	var valid config.StatusCodes
	if v := q.Get("valid_status_codes"); v != "" {
		var err error
		if valid, err = config.ParseStatusCodes(v); err != nil {
			api.WriteError(w, http.StatusBadRequest, api.ErrBadData, "valid_status_codes: "+err.Error())
			return
		}
	}
	var timeout time.Duration
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			api.WriteError(w, http.StatusBadRequest, api.ErrBadData, "timeout must be a positive duration such as 5s")
			return
		}
		timeout = d
	}
	if ok, wait := c.bucket.take(); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		api.WriteError(w, http.StatusTooManyRequests, api.ErrUnavailable, "too many ad-hoc checks; try again later")
		return
	}
	rep, err := c.Check(r.Context(), raw, valid, timeout)
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
