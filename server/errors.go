package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"recap/store"
)

// statusError is an error the client gets to read, with its HTTP status.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// errorf is a client-facing error with an HTTP status.
func errorf(status int, format string, args ...any) error {
	return &statusError{status: status, msg: fmt.Sprintf(format, args...)}
}

// errUnavailable marks a failure of the store: 503, so load balancers and
// readers retry instead of caching an error.
var errUnavailable = errors.New("the store is unavailable")

// unavailable marks err, a failure of the store, as errUnavailable.
func unavailable(err error) error { return fmt.Errorf("%w: %w", errUnavailable, err) }

// statusOf maps an error to its status and the message the client may see.
// Anything unexpected is a 500 whose details stay in the log.
func statusOf(err error) (int, string) {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.status, se.msg
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not found"
	case errors.Is(err, errUnavailable):
		return http.StatusServiceUnavailable, errUnavailable.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "the request took too long"
	default:
		return http.StatusInternalServerError, "internal error"
	}
}

// isAPI reports whether the request is answered in JSON.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// fail answers err: JSON {"error": ...} on the API, an HTML page elsewhere.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	h := w.Header()
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Del("Content-Encoding")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	if isAPI(r) {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	body, rerr := s.renderHTML("error", s.pageData(r, errorTitle(status), errorView{Status: status, Message: msg}))
	if rerr != nil {
		s.log.Error("render error page", "err", rerr)
		http.Error(w, msg, status)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

func errorTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusBadRequest:
		return "Bad request"
	default:
		return http.StatusText(status)
	}
}

// writeJSON writes v as indented-free JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
