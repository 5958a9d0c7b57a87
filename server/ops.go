package server

import (
	"context"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"recap/web"
)

// healthz: the process is up and serving.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz: the store answers, so requests can be served.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "the store is unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// static serves the embedded files, with validators from their content and a
// day of caching (their names do not change with their content).
func (s *Server) static() http.HandlerFunc {
	sub, err := fs.Sub(web.FS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the folder
	}
	files := map[string]*response{}
	fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		files["/static/"+p] = newResponse(body, staticType(p))
		return nil
	})
	return func(w http.ResponseWriter, r *http.Request) {
		resp, ok := files[r.URL.Path]
		if !ok {
			s.fail(w, r, errorf(http.StatusNotFound, "no file at %s", r.URL.Path))
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		serve(w, r, resp)
	}
}

func staticType(name string) string {
	switch {
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		return "image/svg+xml"
	case strings.HasSuffix(name, ".png"):
		return "image/png"
	default:
		return "application/octet-stream"
	}
}
