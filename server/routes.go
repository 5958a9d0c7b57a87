package server

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"
)

// Handler returns every route of Recap, top to bottom.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.observe, securityHeaders, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errorf(http.StatusNotFound, "no page at %s", r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s", r.Method, r.URL.Path))
	})

	// Pages
	r.Get("/", s.cached(onArticles|onClock, s.homePage, "before"))
	r.Get("/stories/{id}", s.cached(onArticles|onClock, s.storyPage))
	r.Get("/articles/{id}", s.cached(onArticles|onClock, s.articlePage)) // redirects to its story once clustered
	r.Get("/digest", s.cached(onArticles|onSources|onClock, s.digestPage(true)))
	r.Get("/digest/{week}", s.cached(onArticles|onSources|onClock, s.digestPage(false)))
	// The archive and the digest feeds build a digest per week listed (12
	// and up to 52): rendered at most once a minute, not on every poll.
	r.Get("/digests", s.cached(onClock, s.digestsPage, "before"))
	r.Get("/topics/{slug}", s.cached(onArticles|onClock, s.topicPage, "before"))
	r.Get("/sources", s.cached(onSources|onClock, s.sourcesPage))
	r.Get("/sources/{id}", s.cached(onArticles|onSources|onClock, s.sourcePage, "before"))
	r.Get("/search", s.cached(onArticles|onSearch|onClock, s.searchPage, "q", "page"))
	r.Get("/static/*", s.static())

	// Feeds for RSS readers: the site's feeds list stories, a source's feeds its articles
	r.Get("/feed.xml", s.cached(onArticles|onSources, s.siteFeed(formatRSS)))
	r.Get("/feed.atom", s.cached(onArticles|onSources, s.siteFeed(formatAtom)))
	r.Get("/feed.json", s.cached(onArticles|onSources, s.siteFeed(formatJSON)))
	r.Get("/stories/{id}/feed.xml", s.cached(onArticles|onSources, s.storyFeed(formatRSS)))
	r.Get("/digest.xml", s.cached(onClock, s.digestFeed(formatRSS)))
	r.Get("/digest.atom", s.cached(onClock, s.digestFeed(formatAtom)))
	r.Get("/digest.json", s.cached(onClock, s.digestFeed(formatJSON)))
	r.Get("/topics/{slug}/feed.xml", s.cached(onArticles|onSources, s.topicFeed(formatRSS)))
	r.Get("/sources/{id}/feed.xml", s.cached(onArticles|onSources, s.sourceFeed(formatRSS)))
	r.Get("/sources/{id}/feed.atom", s.cached(onArticles|onSources, s.sourceFeed(formatAtom)))
	r.Get("/sources/{id}/feed.json", s.cached(onArticles|onSources, s.sourceFeed(formatJSON)))
	r.Get("/sources.opml", s.cached(onSources, s.sourcesOPML))

	// JSON API, rate-limited per client IP
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(httprate.Limit(s.cfg.RateLimit, time.Minute,
			httprate.WithKeyFuncs(httprate.KeyByIP),
			httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
				s.fail(w, r, errorf(http.StatusTooManyRequests, "too many requests: at most %d a minute", s.cfg.RateLimit))
			})))
		r.Get("/stories", s.cached(onArticles|onSources, s.apiStories, "limit", "before"))
		r.Get("/stories/{id}", s.cached(onArticles|onSources, s.apiStory))
		r.Get("/articles", s.cachedPagesOrSearches(onArticles|onSources, s.apiArticles, "limit", "before", "source", "q"))
		r.Get("/articles/{id}", s.cached(onArticles|onSources, s.apiArticle))
		r.Get("/sources", s.cached(onSources, s.apiSources))
		r.Get("/sources/{id}", s.cached(onSources, s.apiSource))
		// Admin: only with RECAP_ADMIN_TOKEN set; 404 otherwise.
		r.Group(func(r chi.Router) {
			r.Use(s.requireAdmin)
			r.Post("/sources", s.apiAddSource)
			r.Delete("/sources/{id}", s.apiDeleteSource)
			r.Post("/sources/{id}/refresh", s.apiRefreshSource)
			r.Post("/sources/import", s.apiImportSources)
		})
	})

	// Operations
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	if s.cfg.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", s.cfg.Metrics.Handler())
	}
	return r
}
