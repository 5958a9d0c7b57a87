package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"recap/store"
)

// The JSON API (/api/v1) serves what the pages show, for programs; docs/api.md
// is its contract and a test holds the routes to it. Field names follow
// `recap export articles` where they overlap: add fields, never rename them.

// API list limits.
const (
	apiDefaultLimit = store.DefaultLimit
	apiMaxLimit     = 200
	// apiMaxSearchOffset bounds how deep search results can be paged: a deep
	// offset costs the index the whole prefix, and nobody reads that far.
	apiMaxSearchOffset = 10_000
)

// articleJSON is one article in the API.
type articleJSON struct {
	ID         int64    `json:"id"`
	URL        string   `json:"url"`
	Title      string   `json:"title"`
	Summary    string   `json:"summary"`
	Published  string   `json:"published"`
	Collected  string   `json:"collected"`
	Source     string   `json:"source"`
	SourceID   int64    `json:"source_id"`
	SourceURL  string   `json:"source_url"`
	Author     string   `json:"author"`
	Categories []string `json:"categories"`
	Image      string   `json:"image"`
	Page       string   `json:"page"`
	// The story stage's placement: 0 until the article is clustered, and
	// duplicate_of 0 when it is no near-copy of another.
	StoryID     int64 `json:"story_id"`
	DuplicateOf int64 `json:"duplicate_of"`
}

// articleDetailJSON is an article with where it was seen. The items' own
// GUIDs and links stay private: only the canonical URL is published.
type articleDetailJSON struct {
	articleJSON
	Seen []sightingJSON `json:"seen"`
}

type sightingJSON struct {
	Source    string `json:"source"`
	SourceID  int64  `json:"source_id"`
	SourceURL string `json:"source_url"`
	FirstSeen string `json:"first_seen"`
}

type articleListJSON struct {
	Articles []articleJSON `json:"articles"`
	Next     string        `json:"next"` // cursor of the next page; "" on the last
}

// sourceJSON is one source with its health.
type sourceJSON struct {
	ID         int64   `json:"id"`
	URL        string  `json:"url"`
	Title      string  `json:"title"`
	SiteURL    string  `json:"site_url"`
	Filter     string  `json:"filter"`
	Weight     float64 `json:"weight"`
	Enabled    bool    `json:"enabled"`
	Interval   int64   `json:"interval"` // seconds; 0 adapts to the feed
	Created    string  `json:"created"`
	LastCheck  string  `json:"last_check"`
	NextCheck  string  `json:"next_check"`
	LastStatus int     `json:"last_status"`
	LastError  string  `json:"last_error"`
	ErrorCount int     `json:"error_count"`
	LastItems  int     `json:"last_items"`
	Articles   int     `json:"articles"`
	Page       string  `json:"page"`
}

// storyJSON is one story in the API: its lead article and counts.
type storyJSON struct {
	ID           int64       `json:"id"`
	Title        string      `json:"title"`
	LeadArticle  int64       `json:"lead_article"`
	FirstSeen    string      `json:"first_seen"`
	Updated      string      `json:"updated"`
	ArticleCount int         `json:"article_count"`
	OutletCount  int         `json:"outlet_count"`
	Page         string      `json:"page"`
	Lead         articleJSON `json:"lead"`
}

// storyDetailJSON is a story with everything: its members' ids (as `recap
// export stories` writes them), its outlets and the members themselves.
type storyDetailJSON struct {
	storyJSON
	Articles []int64             `json:"articles"`
	Outlets  []outletJSON        `json:"outlets"`
	Members  []articleDetailJSON `json:"members"`
	// Analysis is null until the story stage has analysed the story.
	Analysis *analysisJSON `json:"analysis"`
}

// analysisJSON is what the story page shows of a story's analysis.
type analysisJSON struct {
	Version   int64          `json:"version"`
	Topics    []string       `json:"topics"` // slugs
	Entities  []entityJSON   `json:"entities"`
	Audiences []audienceJSON `json:"audiences"`
	Relevance float64        `json:"relevance"`
	TLDR      []sentenceJSON `json:"tldr"`
	Takeaways []sentenceJSON `json:"takeaways"`
	Score     float64        `json:"score"`
	BaseScore float64        `json:"base_score"`
	WhyRanked []rankPartJSON `json:"why_ranked"`
	Timeline  []eventJSON    `json:"timeline"`
	Related   []eventJSON    `json:"related"`
	// AIGenerated is the optional LLM analysis; null without one.
	AIGenerated *insightJSON `json:"ai_generated"`
}

type entityJSON struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type audienceJSON struct {
	Who    string `json:"who"`
	Reason string `json:"reason"`
}

// sentenceJSON is an outlet's own sentence and the member it is from.
type sentenceJSON struct {
	Text      string `json:"text"`
	ArticleID int64  `json:"article_id"`
	Source    string `json:"source"`
}

type rankPartJSON struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Detail string  `json:"detail"`
}

// eventJSON is another story: on the timeline (month precision) or related.
type eventJSON struct {
	StoryID int64  `json:"story_id"`
	Title   string `json:"title"`
	When    string `json:"when"`
	Month   string `json:"month,omitempty"`
	Page    string `json:"page"`
}

type insightJSON struct {
	Model        string        `json:"model"`
	WhatChanged  []claimJSON   `json:"what_changed"`
	WhyItMatters []claimJSON   `json:"why_it_matters"`
	WhatToDoNext []claimJSON   `json:"what_to_do_next"`
	Sections     []sectionJSON `json:"sections"`
}

type sectionJSON struct {
	Heading string      `json:"heading"`
	Claims  []claimJSON `json:"claims"`
}

// claimJSON cites members by their number in `articles` (1 is the first).
type claimJSON struct {
	Text  string `json:"text"`
	Cites []int  `json:"cites"`
}

// outletJSON is one source that carried a story.
type outletJSON struct {
	Source    string `json:"source"`
	SourceID  int64  `json:"source_id"`
	SourceURL string `json:"source_url"`
	FirstSeen string `json:"first_seen"` // its earliest member's published time
}

type storyListJSON struct {
	Stories []storyJSON `json:"stories"`
	Next    string      `json:"next"` // cursor of the next page; "" on the last
}

type sourceListJSON struct {
	Sources []sourceJSON `json:"sources"`
}

// apiTime formats t in RFC 3339, UTC; "" for never.
func apiTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) articleJSONOf(rec store.ArticleRecord) articleJSON {
	a := rec.Article
	cats := a.Categories
	if cats == nil {
		cats = []string{}
	}
	return articleJSON{
		ID: a.ID, URL: a.URL, Title: a.Title, Summary: a.Summary,
		Published: apiTime(a.Published), Collected: apiTime(a.Collected),
		Source: rec.Source, SourceID: a.SourceID, SourceURL: rec.SourceURL,
		Author: a.Author, Categories: cats, Image: webLink(a.ImageURL),
		Page:    s.abs("/articles/" + strconv.FormatInt(a.ID, 10)),
		StoryID: a.StoryID, DuplicateOf: a.DuplicateOf,
	}
}

func (s *Server) articleDetailJSONOf(rec store.ArticleRecord) articleDetailJSON {
	out := articleDetailJSON{articleJSON: s.articleJSONOf(rec), Seen: make([]sightingJSON, len(rec.Seen))}
	for i, g := range rec.Seen {
		out.Seen[i] = sightingJSON{Source: g.Source, SourceID: g.SourceID, SourceURL: g.SourceURL, FirstSeen: apiTime(g.FirstSeen)}
	}
	return out
}

func (s *Server) storyJSONOf(rec store.StoryRecord) storyJSON {
	return storyJSON{
		ID: rec.ID, Title: rec.Title, LeadArticle: rec.Lead,
		FirstSeen: apiTime(rec.FirstSeen), Updated: apiTime(rec.Updated),
		ArticleCount: rec.Count, OutletCount: rec.OutletCount,
		Page: s.abs(storyPath(rec.ID)), Lead: s.articleJSONOf(rec.LeadArticle),
	}
}

func (s *Server) sourceJSONOf(src store.Source) sourceJSON {
	return sourceJSON{
		ID: src.ID, URL: src.URL, Title: src.Title, SiteURL: webLink(src.SiteURL),
		Filter: src.Filter, Weight: src.Weight, Enabled: src.Enabled,
		Interval: int64(src.Interval / time.Second), Created: apiTime(src.Created),
		LastCheck: apiTime(src.LastCheck), NextCheck: apiTime(src.NextCheck),
		LastStatus: src.LastStatus, LastError: src.LastError, ErrorCount: src.ErrorCount,
		LastItems: src.LastItems, Articles: src.Articles,
		Page: s.abs("/sources/" + strconv.FormatInt(src.ID, 10)),
	}
}

// jsonResponse renders v into a cacheable response.
func jsonResponse(v any) (*response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return newResponse(append(body, '\n'), "application/json; charset=utf-8"), nil
}

// cachedPagesOrSearches serves render from the cache of pages and feeds, and
// searches (q) from the cache of searches.
func (s *Server) cachedPagesOrSearches(d deps, render renderFunc, params ...string) http.HandlerFunc {
	pages, searches := s.cached(d, render, params...), s.cached(d|onSearch, render, params...)
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.TrimSpace(r.URL.Query().Get("q")) != "" {
			searches(w, r)
			return
		}
		pages(w, r)
	}
}

// apiLimit reads the limit parameter: 1 to apiMaxLimit, default apiDefaultLimit.
func apiLimit(v string) (int, error) {
	if v == "" {
		return apiDefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > apiMaxLimit {
		return 0, errorf(http.StatusBadRequest, "invalid limit %q: want a whole number from 1 to %d", v, apiMaxLimit)
	}
	return n, nil
}

// Search results are ranked, not dated, so their cursor is an offset:
// "o" and the number of results before the page.

func formatSearchCursor(offset int) string { return "o" + strconv.Itoa(offset) }

func parseSearchCursor(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(v, "o"))
	if !strings.HasPrefix(v, "o") || err != nil || n < 1 || n > apiMaxSearchOffset {
		return 0, errorf(http.StatusBadRequest, "invalid cursor %q for a search", v)
	}
	return n, nil
}

// apiArticles: GET /api/v1/articles, newest first, or search results with q.
func (s *Server) apiArticles(r *http.Request) (*response, error) {
	q := r.URL.Query()
	limit, err := apiLimit(q.Get("limit"))
	if err != nil {
		return nil, err
	}
	if text := strings.TrimSpace(q.Get("q")); text != "" {
		return s.apiSearch(r, text, limit)
	}
	before, err := parseCursor(q.Get("before"))
	if err != nil {
		return nil, err
	}
	var sourceID int64
	if v := q.Get("source"); v != "" {
		sourceID, err = strconv.ParseInt(v, 10, 64)
		if err != nil || sourceID <= 0 {
			return nil, errorf(http.StatusBadRequest, "invalid source %q: want a source id", v)
		}
		if _, err := s.store.Source(r.Context(), sourceID); err != nil {
			return nil, apiLookupError(err, "source", sourceID)
		}
	}
	recs, err := s.store.Articles(r.Context(), store.ArticleQuery{Limit: limit, Before: before, SourceID: sourceID})
	if err != nil {
		return nil, unavailable(err)
	}
	return s.articleList(recs, nextCursor(recs, limit))
}

// apiSearch is GET /api/v1/articles?q=: best match first.
func (s *Server) apiSearch(r *http.Request, text string, limit int) (*response, error) {
	q := r.URL.Query()
	if len(text) > searchMaxLen {
		return nil, errorf(http.StatusBadRequest, "the search is longer than %d characters", searchMaxLen)
	}
	if q.Get("source") != "" {
		return nil, errorf(http.StatusBadRequest, "q and source cannot be combined")
	}
	offset, err := parseSearchCursor(q.Get("before"))
	if err != nil {
		return nil, err
	}
	recs, err := s.store.Search(r.Context(), store.SearchQuery{Text: text, Limit: limit, Offset: offset})
	if err != nil {
		return nil, unavailable(err)
	}
	next := ""
	if len(recs) == limit && offset+limit <= apiMaxSearchOffset {
		next = formatSearchCursor(offset + limit)
	}
	return s.articleList(recs, next)
}

func (s *Server) articleList(recs []store.ArticleRecord, next string) (*response, error) {
	out := articleListJSON{Articles: make([]articleJSON, len(recs)), Next: next}
	for i, rec := range recs {
		out.Articles[i] = s.articleJSONOf(rec)
	}
	return jsonResponse(out)
}

// apiArticle: GET /api/v1/articles/{id}, with its sightings.
func (s *Server) apiArticle(r *http.Request) (*response, error) {
	id, err := pathID(chi.URLParam(r, "id"))
	if err != nil {
		return nil, err
	}
	rec, err := s.store.Article(r.Context(), id)
	if err != nil {
		return nil, apiLookupError(err, "article", id)
	}
	return jsonResponse(s.articleDetailJSONOf(rec))
}

// apiStories: GET /api/v1/stories, most recently updated first.
func (s *Server) apiStories(r *http.Request) (*response, error) {
	q := r.URL.Query()
	limit, err := apiLimit(q.Get("limit"))
	if err != nil {
		return nil, err
	}
	before, err := parseStoryCursor(q.Get("before"))
	if err != nil {
		return nil, err
	}
	recs, err := s.store.Stories(r.Context(), store.StoryQuery{Limit: limit, Before: before})
	if err != nil {
		return nil, unavailable(err)
	}
	out := storyListJSON{Stories: make([]storyJSON, len(recs)), Next: nextStoryCursor(recs, limit)}
	for i, rec := range recs {
		out.Stories[i] = s.storyJSONOf(rec)
	}
	return jsonResponse(out)
}

// apiStory: GET /api/v1/stories/{id}, with its outlets and members.
func (s *Server) apiStory(r *http.Request) (*response, error) {
	id, err := pathID(chi.URLParam(r, "id"))
	if err != nil {
		return nil, err
	}
	rec, err := s.store.Story(r.Context(), id)
	if err != nil {
		return nil, apiLookupError(err, "story", id)
	}
	out := storyDetailJSON{
		storyJSON: s.storyJSONOf(rec),
		Articles:  rec.Articles,
		Outlets:   make([]outletJSON, len(rec.Outlets)),
		Members:   make([]articleDetailJSON, len(rec.Members)),
	}
	if out.Articles == nil {
		out.Articles = []int64{}
	}
	for i, o := range rec.Outlets {
		out.Outlets[i] = outletJSON{Source: o.Name, SourceID: o.SourceID, SourceURL: o.URL, FirstSeen: apiTime(o.FirstSeen)}
	}
	for i, m := range rec.Members {
		out.Members[i] = s.articleDetailJSONOf(m)
	}
	av, err := s.storyAnalysis(r.Context(), rec, s.now())
	if err != nil {
		return nil, err
	}
	out.Analysis = analysisJSONOf(av)
	return jsonResponse(out)
}

func analysisJSONOf(av *analysisView) *analysisJSON {
	if av == nil {
		return nil
	}
	an := av.Stored
	out := &analysisJSON{
		Version: an.Version, Relevance: an.Relevance, Score: av.Rank.Score, BaseScore: av.Rank.Base,
		Topics: []string{}, Entities: []entityJSON{}, Audiences: []audienceJSON{}, TLDR: []sentenceJSON{},
		Takeaways: []sentenceJSON{}, WhyRanked: []rankPartJSON{}, Timeline: []eventJSON{}, Related: []eventJSON{},
	}
	for _, t := range an.Topics {
		out.Topics = append(out.Topics, string(t))
	}
	for _, e := range an.Entities {
		out.Entities = append(out.Entities, entityJSON{Key: e.Key, Name: e.Name, Kind: string(e.Kind)})
	}
	for _, a := range an.Audiences {
		out.Audiences = append(out.Audiences, audienceJSON{Who: a.Who, Reason: a.Reason})
	}
	for _, sv := range av.TLDR {
		out.TLDR = append(out.TLDR, sentenceJSON{Text: sv.Text, ArticleID: sv.Article, Source: sv.Outlet})
	}
	for _, sv := range av.Takeaways {
		out.Takeaways = append(out.Takeaways, sentenceJSON{Text: sv.Text, ArticleID: sv.Article, Source: sv.Outlet})
	}
	for _, p := range av.Rank.Parts {
		out.WhyRanked = append(out.WhyRanked, rankPartJSON{Name: p.Name, Value: p.Value, Detail: p.Detail})
	}
	for _, ev := range av.Timeline {
		out.Timeline = append(out.Timeline, eventJSON{StoryID: ev.Story, Title: ev.Title, When: ev.ISO, Month: ev.Month, Page: ev.Page})
	}
	for _, r := range av.Related {
		out.Related = append(out.Related, eventJSON{StoryID: r.Story, Title: r.Title, When: r.ISO, Page: r.Page})
	}
	if in := av.Insight; in != nil {
		claims := func(cs []claimView) []claimJSON {
			out := []claimJSON{}
			for _, c := range cs {
				cj := claimJSON{Text: c.Text, Cites: []int{}}
				for _, n := range c.Cites {
					cj.Cites = append(cj.Cites, n.N)
				}
				out = append(out, cj)
			}
			return out
		}
		ij := &insightJSON{Model: in.Model, WhatChanged: claims(in.WhatChanged), WhyItMatters: claims(in.WhyItMatters),
			WhatToDoNext: claims(in.WhatToDoNext), Sections: []sectionJSON{}}
		for _, sec := range in.Sections {
			ij.Sections = append(ij.Sections, sectionJSON{Heading: sec.Heading, Claims: claims(sec.Claims)})
		}
		out.AIGenerated = ij
	}
	return out
}

// apiSources: GET /api/v1/sources, every source with its health.
func (s *Server) apiSources(r *http.Request) (*response, error) {
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		return nil, unavailable(err)
	}
	out := sourceListJSON{Sources: make([]sourceJSON, len(srcs))}
	for i, src := range srcs {
		out.Sources[i] = s.sourceJSONOf(src)
	}
	return jsonResponse(out)
}

// apiSource: GET /api/v1/sources/{id}.
func (s *Server) apiSource(r *http.Request) (*response, error) {
	id, err := pathID(chi.URLParam(r, "id"))
	if err != nil {
		return nil, err
	}
	src, err := s.store.Source(r.Context(), id)
	if err != nil {
		return nil, apiLookupError(err, "source", id)
	}
	return jsonResponse(s.sourceJSONOf(src))
}

// apiLookupError names what was not found; any other failure is the store's.
func apiLookupError(err error, what string, id int64) error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "no %s with id %d", what, id)
	}
	return unavailable(err)
}
