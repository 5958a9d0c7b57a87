package server

import "net/http"

// Placeholder until the API lands.

func (s *Server) apiArticles(r *http.Request) (*response, error) { return notYet(r) }
func (s *Server) apiArticle(r *http.Request) (*response, error)  { return notYet(r) }
func (s *Server) apiSources(r *http.Request) (*response, error)  { return notYet(r) }
func (s *Server) apiSource(r *http.Request) (*response, error)   { return notYet(r) }

func (s *Server) requireAdmin(next http.Handler) http.Handler             { return http.NotFoundHandler() }
func (s *Server) apiAddSource(w http.ResponseWriter, r *http.Request)     {}
func (s *Server) apiDeleteSource(w http.ResponseWriter, r *http.Request)  {}
func (s *Server) apiRefreshSource(w http.ResponseWriter, r *http.Request) {}
func (s *Server) apiImportSources(w http.ResponseWriter, r *http.Request) {}
