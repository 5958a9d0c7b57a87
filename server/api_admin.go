package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"recap/store"
)

// The admin API changes the sources. It exists only when an admin token is
// configured; every answer is personal, so none is stored by caches.

// Body limits of the admin API.
const (
	apiMaxJSONBody = 1 << 20
	apiMaxOPMLBody = 5 << 20
)

// NewSource is what POST /api/v1/sources asks for.
type NewSource struct {
	URL    string // a feed, or a page that links one
	Title  string // "": the feed's own
	Filter string // "": store.FilterAll
	Weight float64
}

// requireAdmin lets a request through only with the admin token as a
// Bearer token. Without a configured token the routes do not exist.
func (s *Server) requireAdmin(next http.Handler) http.Handler {
	if s.cfg.AdminToken == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, errorf(http.StatusNotFound, "no page at %s", r.URL.Path))
		})
	}
	// Hashes have a fixed length, so the comparison's time tells nothing
	// about the token's length either.
	want := sha256.Sum256([]byte(s.cfg.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		token, ok := bearerToken(r.Header.Get("Authorization"))
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !ok {
			challenge := `Bearer realm="recap"`
			msg := "this needs the admin token: Authorization: Bearer TOKEN"
			if ok {
				challenge += `, error="invalid_token"`
				msg = "wrong admin token"
			}
			w.Header().Set("WWW-Authenticate", challenge)
			s.fail(w, r, errorf(http.StatusUnauthorized, "%s", msg))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken reads "Bearer TOKEN" (the scheme in any case).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// addSourceRequest is the body of POST /api/v1/sources.
type addSourceRequest struct {
	URL    string   `json:"url"`
	Title  string   `json:"title"`
	Filter string   `json:"filter"`
	Weight *float64 `json:"weight"`
}

// sourceChangeJSON answers an add or a refresh: the source as it now is and
// what polling it did.
type sourceChangeJSON struct {
	Source    sourceJSON `json:"source"`
	FoundFrom string     `json:"found_from,omitempty"`
	Poll      PollResult `json:"poll"`
}

// apiAddSource: POST /api/v1/sources.
func (s *Server) apiAddSource(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Admin == nil {
		s.fail(w, r, errNoAdmin)
		return
	}
	var req addSourceRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	ns := NewSource{URL: strings.TrimSpace(req.URL), Title: strings.TrimSpace(req.Title), Filter: req.Filter}
	if ns.URL == "" {
		s.fail(w, r, errorf(http.StatusBadRequest, `"url" is required: a feed, or a page that links one`))
		return
	}
	if req.Weight != nil {
		if *req.Weight <= 0 {
			s.fail(w, r, errorf(http.StatusBadRequest, `"weight" must be above 0`))
			return
		}
		ns.Weight = *req.Weight
	}
	res, err := s.cfg.Admin.Add(r.Context(), ns)
	if res.Source.ID != 0 {
		s.Changed()
	}
	if err != nil {
		s.fail(w, r, adminError(err))
		return
	}
	w.Header().Set("Location", s.abs("/api/v1/sources/"+strconv.FormatInt(res.Source.ID, 10)))
	writeJSON(w, http.StatusCreated, sourceChangeJSON{Source: s.sourceJSONOf(res.Source), FoundFrom: res.FoundFrom, Poll: res.Poll})
}

// apiDeleteSource: DELETE /api/v1/sources/{id}; its articles stay.
func (s *Server) apiDeleteSource(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.RemoveSource(r.Context(), id); err != nil {
		s.fail(w, r, apiLookupError(err, "source", id))
		return
	}
	s.Changed()
	w.WriteHeader(http.StatusNoContent)
}

// apiRefreshSource: POST /api/v1/sources/{id}/refresh polls it now.
func (s *Server) apiRefreshSource(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(chi.URLParam(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.cfg.Admin == nil {
		s.fail(w, r, errNoAdmin)
		return
	}
	src, err := s.store.Source(r.Context(), id)
	if err != nil {
		s.fail(w, r, apiLookupError(err, "source", id))
		return
	}
	poll, err := s.cfg.Admin.Refresh(r.Context(), src)
	s.Changed()
	if err != nil {
		s.fail(w, r, adminError(err))
		return
	}
	if after, err := s.store.Source(r.Context(), id); err == nil {
		src = after
	}
	writeJSON(w, http.StatusOK, sourceChangeJSON{Source: s.sourceJSONOf(src), Poll: poll})
}

// apiImportSources: POST /api/v1/sources/import with an OPML body.
func (s *Server) apiImportSources(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Admin == nil {
		s.fail(w, r, errNoAdmin)
		return
	}
	switch mediaType(r) {
	case "text/x-opml", "application/xml", "text/xml", "application/x-opml":
	default:
		s.fail(w, r, errorf(http.StatusUnsupportedMediaType, "want an OPML document with Content-Type text/x-opml or application/xml"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, apiMaxOPMLBody))
	if err != nil {
		s.fail(w, r, bodyError(err, apiMaxOPMLBody))
		return
	}
	res, err := s.cfg.Admin.Import(r.Context(), bytes.NewReader(body))
	s.Changed()
	if err != nil {
		s.fail(w, r, adminError(err))
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// errNoAdmin: a token is set but main wired no SourceAdmin.
var errNoAdmin = errorf(http.StatusNotImplemented, "this server cannot change sources")

// adminError gives the errors of a SourceAdmin their status; their messages
// are written for the person who asked.
func adminError(err error) error {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, errUnavailable):
		return err
	case errors.Is(err, store.ErrExists):
		return errorf(http.StatusConflict, "%s", err)
	case errors.Is(err, ErrNoFeed):
		return errorf(http.StatusUnprocessableEntity, "%s", err)
	case errors.Is(err, ErrBadInput):
		return errorf(http.StatusBadRequest, "%s", err)
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "%s", err)
	}
	return err
}

// mediaType is the request's Content-Type without parameters, lower case.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// decodeJSON reads exactly one JSON object of known fields from a body of
// at most apiMaxJSONBody bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mediaType(r) != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "want a JSON body with Content-Type application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, apiMaxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return errorf(http.StatusBadRequest, "invalid JSON: more than one value in the body")
	default:
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bodyError(err, apiMaxJSONBody)
		}
		return errorf(http.StatusBadRequest, "invalid JSON: unexpected data after the object")
	}
}

// jsonError says what is wrong with a JSON body, without echoing it.
func jsonError(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		tooBig  *http.MaxBytesError
		unknown = strings.HasPrefix(err.Error(), "json: unknown field ")
	)
	switch {
	case errors.As(err, &tooBig):
		return bodyError(err, apiMaxJSONBody)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "invalid JSON: the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "invalid JSON: the body ends too early")
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, "invalid JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errorf(http.StatusBadRequest, "invalid JSON: want an object, not a %s", typ.Value)
		}
		return errorf(http.StatusBadRequest, "invalid JSON: %q must be a %s, not a %s", typ.Field, jsonKind(typ.Type), typ.Value)
	case unknown:
		return errorf(http.StatusBadRequest, "invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return errorf(http.StatusBadRequest, "invalid JSON")
}

// jsonKind names a Go type as JSON calls it.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// bodyError answers a body that could not be read: 413 past the limit.
func bodyError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errorf(http.StatusRequestEntityTooLarge, "the body is larger than %d MiB", limit>>20)
	}
	return errorf(http.StatusBadRequest, "could not read the body")
}
