package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// List limits of GET.
const (
	DefaultListLimit = 20
	MaxListLimit     = 1000
)

// response is the body of every answer, shaped like Prometheus' HTTP API.
type response struct {
	Status string `json:"status"` // success or error
	// Data is the event (POST) or the events (GET).
	Data any `json:"data,omitempty"`
	// Duplicate is true when a POST's id was already recorded: nothing new
	// was stored and Data is the stored event.
	Duplicate bool `json:"duplicate,omitempty"`
	// Field names the offending request field of a 400 or 409.
	Field string `json:"field,omitempty"`
	Error string `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, body response) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, code int, field, msg string) {
	writeJSON(w, code, response{Status: "error", Field: field, Error: msg})
}

func (m *Manager) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		m.serveList(w, r)
	case http.MethodPost:
		m.servePost(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeError(w, http.StatusMethodNotAllowed, "", fmt.Sprintf("method %s not allowed; use GET or POST", r.Method))
	}
}

// authorize decides whether r may record a deploy. It returns 0 when it
// may, or the status code and reason of the refusal.
func (m *Manager) authorize(r *http.Request) (int, string) {
	webAuth, err := m.webAuth()
	if err != nil {
		// exporter-toolkit fails every request on a web config it cannot
		// read; this one slipped through a change of the file.
		return http.StatusInternalServerError, "cannot tell whether the web config sets basic auth"
	}
	if webAuth {
		// exporter-toolkit let the request through: its basic auth passed.
		return 0, ""
	}
	if ts := m.tokens.Load(); ts != nil {
		tok, ok := bearer(r)
		if !ok {
			return http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>"
		}
		if !ts.match(tok) {
			return http.StatusUnauthorized, "invalid bearer token"
		}
		return 0, ""
	}
	if m.opts.AllowUnauthenticated {
		return 0, ""
	}
	return http.StatusForbidden, "recording deploys is disabled: the exporter needs --deploy.token-file, basic auth in --web.config.file or --deploy.allow-unauthenticated"
}

// isJSON accepts application/json and application/*+json, with parameters.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

func (m *Manager) servePost(w http.ResponseWriter, r *http.Request) {
	if code, reason := m.authorize(r); code != 0 {
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="http5xx_exporter deploys"`)
		}
		writeError(w, code, "", reason)
		return
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		writeError(w, http.StatusUnsupportedMediaType, "", fmt.Sprintf("Content-Type must be application/json, not %q", truncate(ct, 64)))
		return
	}
	if r.ContentLength > MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("body over %d bytes", MaxBodyBytes))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("body over %d bytes", MaxBodyBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "body", "reading body: "+err.Error())
		return
	}
	ev, err := decodePayload(body, m.now())
	if err != nil {
		var fe *FieldError
		errors.As(err, &fe)
		writeError(w, http.StatusBadRequest, fe.Field, fe.Error())
		return
	}
	stored, created, err := m.record(ev, false)
	var conflict *conflictError
	switch {
	case err == nil && created:
		m.log.Info("deploy recorded", "service", stored.Service, "version", stored.Version, "id", stored.ID, "source", stored.Source)
		writeJSON(w, http.StatusCreated, response{Status: "success", Data: stored})
	case err == nil:
		writeJSON(w, http.StatusOK, response{Status: "success", Data: stored, Duplicate: true})
	case errors.As(err, &conflict):
		writeError(w, http.StatusConflict, "id", err.Error())
	case errors.Is(err, errTooManyServices):
		writeError(w, http.StatusUnprocessableEntity, "service",
			fmt.Sprintf("service: new service %q would pass the limit of %d services (--deploy.max-services)", ev.Service, m.opts.MaxServices))
	default:
		// Storage failed or the exporter is shutting down: nothing was
		// acknowledged, the client may retry with the same id.
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "", "deploy not stored: "+err.Error())
	}
}

func (m *Manager) serveList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	service := q.Get("service")
	if q.Has("service") {
		if err := checkText("service", service, 1024); err != nil {
			writeError(w, http.StatusBadRequest, err.Field, err.Error())
			return
		}
		if service == "" {
			writeError(w, http.StatusBadRequest, "service", "service: empty; omit it to list every service")
			return
		}
	}
	limit := DefaultListLimit
	if v := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			writeError(w, http.StatusBadRequest, "limit", fmt.Sprintf("limit: want an integer from 1 to %d, got %q", MaxListLimit, truncate(v, 32)))
			return
		}
		limit = n
	}
	events := m.List(service, limit)
	writeJSON(w, http.StatusOK, response{Status: "success", Data: events})
}
