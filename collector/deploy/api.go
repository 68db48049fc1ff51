package deploy

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/http5xx/http5xx_exporter/collector/api"
)

// List limits of GET.
const (
	DefaultListLimit = 20
	MaxListLimit     = 1000
)

func (m *Manager) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		m.serveList(w, r)
	case http.MethodPost:
		m.servePost(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		api.WriteError(w, http.StatusMethodNotAllowed, api.ErrBadData, fmt.Sprintf("method %s not allowed; use GET or POST", r.Method))
	}
}

// authorize decides whether r may record a deploy or change a maintenance
// window (both take the same credentials). It returns 0 when it
// may, or the status code, error type and reason of the refusal.
func (m *Manager) authorize(r *http.Request) (int, api.ErrorType, string) {
	webAuth, err := m.webAuth()
	if err != nil {
		// exporter-toolkit fails every request on a web config it cannot
		// read; this one slipped through a change of the file.
		return http.StatusInternalServerError, api.ErrInternal, "cannot tell whether the web config sets basic auth"
	}
	if webAuth {
		// exporter-toolkit let the request through: its basic auth passed.
		return 0, "", ""
	}
	if m.opts.TokenFile != "" {
		ts, err := m.readTokens()
		if err != nil {
			// Fail-closed: a token file that is gone may have been deleted
			// to revoke its tokens.
			return http.StatusServiceUnavailable, api.ErrUnavailable, "the deploy token file cannot be read; deploys and maintenance windows are refused until it can"
		}
		tok, ok := bearer(r)
		if !ok {
			return http.StatusUnauthorized, api.ErrBadData, "missing bearer token: send Authorization: Bearer <token>"
		}
		if !ts.match(tok) {
			return http.StatusUnauthorized, api.ErrBadData, "invalid bearer token"
		}
		return 0, "", ""
	}
	if m.opts.AllowUnauthenticated {
		return 0, "", ""
	}
	// Disabled by the exporter's flags, not by what the request sent.
	return http.StatusForbidden, api.ErrUnavailable, "recording deploys and maintenance windows is disabled: the exporter needs --deploy.token-file, basic auth in --web.config.file or --deploy.allow-unauthenticated"
}

// isJSON accepts application/json and application/*+json, with parameters.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// acceptPost checks the credentials and reads the JSON body of a POST; the
// deploy and maintenance APIs share it. It answers the request itself and
// returns false when the request goes no further.
func (m *Manager) acceptPost(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if !m.allowWrite(w, r) {
		return nil, false
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		api.WriteError(w, http.StatusUnsupportedMediaType, api.ErrBadData, fmt.Sprintf("Content-Type must be application/json, not %q", truncate(ct, 64)))
		return nil, false
	}
	if r.ContentLength > MaxBodyBytes {
		api.WriteError(w, http.StatusRequestEntityTooLarge, api.ErrBadData, fmt.Sprintf("body over %d bytes", MaxBodyBytes))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			api.WriteError(w, http.StatusRequestEntityTooLarge, api.ErrBadData, fmt.Sprintf("body over %d bytes", MaxBodyBytes))
			return nil, false
		}
		api.WriteError(w, http.StatusBadRequest, api.ErrBadData, "body: reading it: "+err.Error())
		return nil, false
	}
	return body, true
}

// allowWrite answers a request that may not change anything (see
// authorize) and returns false for it.
func (m *Manager) allowWrite(w http.ResponseWriter, r *http.Request) bool {
	code, typ, reason := m.authorize(r)
	if code == 0 {
		return true
	}
	switch code {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="http5xx_exporter deploys"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "10")
	}
	api.WriteError(w, code, typ, reason)
	return false
}

func (m *Manager) servePost(w http.ResponseWriter, r *http.Request) {
	body, ok := m.acceptPost(w, r)
	if !ok {
		return
	}
	ev, err := decodePayload(body, m.now())
	if err != nil {
		var fe *FieldError
		errors.As(err, &fe)
		api.WriteError(w, http.StatusBadRequest, api.ErrBadData, fe.Error())
		return
	}
	stored, created, err := m.record(ev, false)
	var conflict *conflictError
	switch {
	case err == nil && created:
		m.log.Info("deploy recorded", "service", stored.Service, "version", stored.Version, "id", stored.ID, "source", stored.Source)
		api.WriteData(w, http.StatusCreated, stored)
	case err == nil:
		// 200 rather than 201 tells a client nothing new was stored.
		api.WriteData(w, http.StatusOK, stored, fmt.Sprintf("id %q is already recorded: nothing new was stored", stored.ID))
	case errors.As(err, &conflict):
		api.WriteError(w, http.StatusConflict, api.ErrExecution, err.Error())
	case errors.Is(err, errTooManyServices):
		api.WriteError(w, http.StatusUnprocessableEntity, api.ErrExecution,
			fmt.Sprintf("service: new service %q would pass the limit of %d services (--deploy.max-services)", ev.Service, m.opts.MaxServices))
	default:
		// Storage failed or the exporter is shutting down: nothing was
		// acknowledged, the client may retry with the same id.
		w.Header().Set("Retry-After", "1")
		api.WriteError(w, http.StatusServiceUnavailable, api.ErrUnavailable, "deploy not stored: "+err.Error())
	}
}

func (m *Manager) serveList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	service := q.Get("service")
	if q.Has("service") {
		if err := checkText("service", service, 1024); err != nil {
			api.WriteError(w, http.StatusBadRequest, api.ErrBadData, err.Error())
			return
		}
		if service == "" {
			api.WriteError(w, http.StatusBadRequest, api.ErrBadData, "service: empty; omit it to list every service")
			return
		}
	}
	limit := DefaultListLimit
	if v := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			api.WriteError(w, http.StatusBadRequest, api.ErrBadData, fmt.Sprintf("limit: want an integer from 1 to %d, got %q", MaxListLimit, truncate(v, 32)))
			return
		}
		limit = n
	}
	events := m.List(service, limit)
	api.WriteData(w, http.StatusOK, events)
}
