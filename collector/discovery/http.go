package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/http5xx/http5xx_exporter/collector/config"
	"github.com/http5xx/http5xx_exporter/collector/contract"
)

// httpSource is one http_sd_config.
type httpSource struct {
	cfg    *config.HTTPSDConfig
	m      *Manager
	client *http.Client
	err    error // the client could not be built: every refresh fails with it

	mu     sync.Mutex
	groups []Group // last good
}

func newHTTPSource(c *config.HTTPSDConfig, m *Manager) *httpSource {
	s := &httpSource{cfg: c, m: m}
	s.client, s.err = commoncfg.NewClientFromConfig(c.HTTPClientConfig, "http_sd")
	s.refresh(context.Background()) // the first read, bounded by the timeout
	return s
}

func (s *httpSource) run(ctx context.Context, changed func()) {
	every(ctx, time.Duration(s.cfg.RefreshInterval), func() {
		if s.refresh(ctx) {
			changed()
		}
	})
}

// refresh fetches the list and reports whether it changed. A fetch that
// ctx ends (the source stopped) is neither a change nor a failure.
func (s *httpSource) refresh(ctx context.Context) bool {
	gs, err := s.fetch(ctx)
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		s.m.failed(contract.SDHTTP, s.cfg.String(), err)
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if reflect.DeepEqual(gs, s.groups) {
		return false
	}
	s.groups = gs
	return true
}

// fetch GETs the list within the timeout, reading at most body_size_limit.
func (s *httpSource) fetch(ctx context.Context) ([]Group, error) {
	if s.err != nil {
		return nil, s.err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(s.cfg.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if s.m.o.UserAgent != "" {
		req.Header.Set("User-Agent", s.m.o.UserAgent)
	}
	// What Prometheus sends, so inventories written for it can cache by it.
	req.Header.Set("X-Prometheus-Refresh-Interval-Seconds", strconv.FormatFloat(time.Duration(s.cfg.RefreshInterval).Seconds(), 'f', -1, 64))
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer within %s", s.cfg.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err // the *url.Error repeats the URL, which may hold secrets
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, fmt.Errorf("Content-Type %q, want application/json", resp.Header.Get("Content-Type"))
	}
	limit := int64(s.cfg.BodySizeLimit)
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no complete answer within %s", s.cfg.Timeout)
		}
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("the answer is larger than body_size_limit %d bytes", limit)
	}
	return parseJSON(body)
}

func (s *httpSource) snapshot(cfg *config.Config) []config.Discovered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return targets(s.cfg.String(), map[string]string{MetaURL: s.cfg.URL}, s.groups, cfg.RelabelConfigs)
}
