// Package server is Recap's HTTP face: the web site, the feeds RSS readers
// subscribe to, the JSON API and the operations endpoints. New builds it from
// its dependencies; routes.go lists every route.
package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"recap/digest"
	"recap/store"
	"recap/web"
)

// SourceAdmin is what the admin API does that needs the feeds stage
// (fetching, discovery, OPML); main wires it, so server never imports feeds.
type SourceAdmin interface {
	// Add finds the feed at ns.URL (a feed, or a page that links one),
	// stores it as a source with ns's settings and polls it once.
	Add(ctx context.Context, ns NewSource) (AddResult, error)
	// Refresh polls one stored source now.
	Refresh(ctx context.Context, src store.Source) (PollResult, error)
	// Import adds the sources of an OPML document.
	Import(ctx context.Context, opml io.Reader) (ImportResult, error)
}

// PollResult is what one poll of a source did.
type PollResult struct {
	Status      int    `json:"status"`
	Items       int    `json:"items"`
	New         int    `json:"new"`
	Updated     int    `json:"updated"`
	NotModified bool   `json:"not_modified"`
	Error       string `json:"error,omitempty"`
}

// AddResult is a source added through the API and its first poll.
type AddResult struct {
	Source    store.Source
	FoundFrom string // the page the feed was discovered on; "" when given a feed
	Poll      PollResult
}

// ImportResult counts what an OPML import did.
type ImportResult struct {
	Added   int `json:"added"`
	Skipped int `json:"skipped"` // already present
}

// Input errors of SourceAdmin; the API answers them with 400 or 409.
var (
	ErrBadInput = errors.New("bad input")
	ErrNoFeed   = errors.New("no feed found")
)

// Config is everything the server needs; Store and BaseURL are required.
type Config struct {
	Store   store.Store
	BaseURL string // public base URL of the site, e.g. https://news.example.org
	Log     *slog.Logger
	Now     func() time.Time

	// AdminToken enables the admin API when not empty.
	AdminToken string
	Admin      SourceAdmin
	// WriteOPML writes the sources as OPML 2.0 (feeds.WriteOPML).
	WriteOPML func(w io.Writer, title string, sources []store.Source) error

	// VersionTTL is how long the store's version is trusted before it is
	// read again; Changed() forgets it at once. 0 reads it on every request.
	VersionTTL time.Duration
	// RateLimit is the API's requests per minute per client IP (0: 600).
	RateLimit int
	// Metrics, when set, gets the HTTP metrics; see NewMetrics.
	Metrics *Metrics
	// PageSize of lists (0: 30).
	PageSize int
	// Location is the time zone of the weekly digest's weeks (nil: UTC).
	Location *time.Location
	// Digest sets the digest's rules (nil: digest.DefaultOptions()).
	Digest *digest.Options
}

// Server holds the dependencies the handlers close over.
type Server struct {
	cfg   Config
	store store.Store
	base  *url.URL
	log   *slog.Logger
	now   func() time.Time
	tmpl  map[string]*template.Template

	cache       *respCache
	searchCache *respCache
	verMu       sync.Mutex
	ver         store.Version
	verRead     time.Time
	verOK       bool
	verGen      uint64 // counts Changed calls, so a read that raced one is not trusted
}

// New checks cfg and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: no store")
	}
	base, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 600
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 30
	}
	tmpl, err := parseTemplates(web.FS)
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:   cfg,
		store: cfg.Store,
		base:  base,
		log:   cfg.Log,
		now:   cfg.Now,
		tmpl:  tmpl,
		cache: newRespCache(64 << 20),
		// Search results: 16 MiB holds some thousands of result pages.
		searchCache: newRespCache(16 << 20),
	}, nil
}

// ParseBaseURL checks a public base URL: absolute http(s), no query or
// fragment; the path is kept without its trailing slash.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want an absolute http:// or https:// URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("base URL %q: no query, fragment or user info", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// abs returns the absolute public URL of a path of the site ("/feed.xml").
func (s *Server) abs(path string) string {
	return s.base.String() + path
}

// Changed tells the server the store changed (the poller saved a fetch), so
// the next request reads the version again instead of trusting its copy.
func (s *Server) Changed() {
	s.verMu.Lock()
	s.verOK = false
	s.verGen++
	s.verMu.Unlock()
}

// version returns the store's version, read at most once per VersionTTL.
func (s *Server) version(ctx context.Context) (store.Version, error) {
	now := time.Now()
	s.verMu.Lock()
	if s.verOK && now.Sub(s.verRead) < s.cfg.VersionTTL {
		v := s.ver
		s.verMu.Unlock()
		return v, nil
	}
	gen := s.verGen
	s.verMu.Unlock()
	v, err := s.store.Version(ctx)
	if err != nil {
		return store.Version{}, err
	}
	s.verMu.Lock()
	if gen == s.verGen {
		s.ver, s.verRead, s.verOK = v, now, true
	}
	s.verMu.Unlock()
	return v, nil
}
