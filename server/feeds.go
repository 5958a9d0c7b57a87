package server

import "net/http"

// Placeholder until the feed writers land: every feed answers 501.

type feedFormat int

const (
	formatRSS feedFormat = iota
	formatAtom
	formatJSON
)

func (s *Server) siteFeed(f feedFormat) renderFunc               { return notYet }
func (s *Server) sourceFeed(f feedFormat) renderFunc             { return notYet }
func (s *Server) sourcesOPML(r *http.Request) (*response, error) { return notYet(r) }

func notYet(r *http.Request) (*response, error) {
	return nil, errorf(http.StatusNotImplemented, "not implemented yet")
}
