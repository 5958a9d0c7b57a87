package server

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"recap/store"
)

// listView is a page of entries with the link to the next (older) page.
type listView struct {
	Heading    string
	Intro      string
	Entries    []entryView
	Older      string // URL of the next page; "" on the last
	OlderLabel string // its link's text: "Older stories"
	Empty      string // what to say when there is nothing
}

func (s *Server) entries(recs []store.ArticleRecord) []entryView {
	now := s.now()
	out := make([]entryView, len(recs))
	for i, rec := range recs {
		out[i] = s.entryOf(rec, now)
	}
	return out
}

func (s *Server) storyEntries(recs []store.StoryRecord) []entryView {
	now := s.now()
	out := make([]entryView, len(recs))
	for i, rec := range recs {
		out[i] = s.storyEntryOf(rec, now)
	}
	return out
}

// homePage: the latest stories, most recently updated first, a page at a time.
func (s *Server) homePage(r *http.Request) (*response, error) {
	before, err := parseStoryCursor(r.URL.Query().Get("before"))
	if err != nil {
		return nil, err
	}
	recs, err := s.store.Stories(r.Context(), store.StoryQuery{Limit: s.cfg.PageSize, Before: before})
	if err != nil {
		return nil, unavailable(err)
	}
	v := listView{
		Heading: "Latest AI news", Entries: s.storyEntries(recs), OlderLabel: "Older stories",
		Empty: "Nothing collected yet: the sources are being polled. Come back in a minute.",
	}
	if c := nextStoryCursor(recs, s.cfg.PageSize); c != "" {
		v.Older = "/?before=" + c
	}
	switch {
	case !before.IsZero():
		v.Heading = "Earlier AI news"
		v.Empty = "No older stories."
	case len(recs) == 0:
		// Articles are grouped into stories shortly after they are stored;
		// an empty page must not claim nothing was collected meanwhile.
		n, err := s.store.CountArticles(r.Context())
		if err != nil {
			return nil, unavailable(err)
		}
		if n > 0 {
			v.Empty = plural(n, "article", "articles") + " collected, being grouped into stories. Come back in a minute."
		}
	}
	return s.htmlPage(r, "home", "Recap: AI news", v)
}

// articleView is the article page.
type articleView struct {
	entryView
	Outlets []outletView
	// MoreThanHook: the summary says more than its first sentence, so it
	// is shown whole below the hook rather than repeated.
	MoreThanHook bool
}

// outletView is one outlet that carried the article.
type outletView struct {
	Name, Page, Seen, ISO string
}

// articlePage: an article not yet in a story; once it is, its story's page
// is where it is read, and the old link leads there.
func (s *Server) articlePage(r *http.Request) (*response, error) {
	id, err := pathID(chi.URLParam(r, "id"))
	if err != nil {
		return nil, err
	}
	rec, err := s.store.Article(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if rec.StoryID != 0 {
		return redirectResponse(storyPath(rec.StoryID)), nil
	}
	v := articleView{entryView: s.entryOf(rec, s.now())}
	v.MoreThanHook = strings.TrimSpace(v.Summary) != v.Hook
	for _, g := range rec.Seen {
		v.Outlets = append(v.Outlets, outletView{
			Name: g.Source, Page: fmt.Sprintf("/sources/%d", g.SourceID),
			Seen: g.FirstSeen.UTC().Format("2 Jan 2006 15:04 MST"), ISO: g.FirstSeen.UTC().Format(time.RFC3339),
		})
	}
	return s.htmlPage(r, "article", v.Title+" · Recap", v)
}

// storyView is the story page: the lead article, then the full coverage.
// The analysis of the story-page issue (TL;DR, who should care, takeaways,
// timeline, related updates, why ranked) joins it as fields of its own.
type storyView struct {
	entryView    // the lead article; Coverage counts the outlets
	MoreThanHook bool
	Outlets      []coverageOutlet
	Analysis     *analysisView // nil until the story stage has analysed it
	Numbered     bool          // the members show their numbers, for an insight's citations
	FeedURL      string        // the story's own feed
}

// coverageOutlet is one outlet of a story with the members it carried.
type coverageOutlet struct {
	Name, Page string
	ISO, Date  string // when it first published on the story
	Members    []coverageMember
}

// coverageMember is one member article as an outlet carried it.
type coverageMember struct {
	N         int // its number among the members, earliest first: what AI-generated claims cite
	Title     string
	URL       string // the article; "" when not a web link
	ISO, Date string // when it was published
	Copy      bool   // a near-copy of another member
}

// storyPage: the lead article and every outlet that covered the story.
func (s *Server) storyPage(r *http.Request) (*response, error) {
	rec, moved, err := s.storyAt(r, "")
	if moved != nil || err != nil {
		return moved, err
	}
	id := rec.ID
	now := s.now()
	v := storyView{entryView: s.storyEntryOf(rec, now), Outlets: coverageOf(rec), FeedURL: storyPath(id) + "/feed.xml"}
	v.MoreThanHook = strings.TrimSpace(v.Summary) != v.Hook
	if v.Analysis, err = s.storyAnalysis(r.Context(), rec, now); err != nil {
		return nil, err
	}
	v.Numbered = v.Analysis != nil && v.Analysis.Insight != nil
	if v.Analysis != nil && len(v.Analysis.TLDR) > 0 {
		v.MoreThanHook = false // the TL;DR says more than the lead's summary
		if v.Analysis.TLDR[0].Text == v.Hook {
			v.Hook = "" // said once, in the TL;DR, with its outlet
		}
	}
	data := s.pageData(r, v.Title+" · Recap", v)
	data.Feeds = append(data.Feeds, feedLink{"application/rss+xml", "This story on Recap (RSS)", s.abs(v.FeedURL)})
	return s.htmlPageWith(data, "story")
}

// coverageOf groups a story's members by the outlets that carried them, in
// the store's order of outlets (earliest first), each outlet's members
// earliest first. A member syndicated by two outlets shows under both.
func coverageOf(rec store.StoryRecord) []coverageOutlet {
	var out []coverageOutlet
	at := map[int64]int{} // source id -> index in out
	add := func(id int64, name string, first time.Time) int {
		if name == "" {
			name = "unknown source"
		}
		o := coverageOutlet{Name: name, ISO: first.UTC().Format(time.RFC3339), Date: first.UTC().Format("2 Jan 2006 15:04 MST")}
		if id > 0 { // 0: a source since removed, with no page
			o.Page = fmt.Sprintf("/sources/%d", id)
		}
		at[id] = len(out)
		out = append(out, o)
		return at[id]
	}
	for _, o := range rec.Outlets {
		add(o.SourceID, o.Name, o.FirstSeen)
	}
	for n, m := range rec.Members {
		cm := coverageMember{
			N: n + 1, Title: m.Title, URL: webLink(m.URL),
			ISO: m.Published.UTC().Format(time.RFC3339), Date: m.Published.UTC().Format("2 Jan 2006 15:04 MST"),
			Copy: m.DuplicateOf != 0,
		}
		if cm.Title == "" {
			cm.Title = "(untitled)"
		}
		type outlet struct {
			id   int64
			name string
		}
		carriers := make([]outlet, 0, len(m.Seen)+1)
		for _, g := range m.Seen {
			carriers = append(carriers, outlet{g.SourceID, g.Source})
		}
		if len(carriers) == 0 {
			carriers = append(carriers, outlet{m.SourceID, m.Source})
		}
		done := map[int64]bool{} // one source may have carried it under two item keys
		for _, c := range carriers {
			if done[c.id] {
				continue
			}
			done[c.id] = true
			i, ok := at[c.id]
			if !ok { // not in the store's list of outlets: still shown
				i = add(c.id, c.name, m.Published)
			}
			out[i].Members = append(out[i].Members, cm)
		}
	}
	return out
}

// sourceView is one source with its health, as people read it.
type sourceView struct {
	ID        int64
	Title     string
	URL       string
	Site      string
	Page      string
	Enabled   bool
	Health    string // "ok", "failing", "never fetched", "paused"
	LastCheck string
	LastISO   string
	Status    string
	Items     int
	Articles  int
	NextCheck string
	LastError string
	Feeds     []feedLink
}

func (s *Server) sourceViewOf(src store.Source, now time.Time) sourceView {
	v := sourceView{
		ID: src.ID, Title: src.Title, URL: src.URL, Site: webLink(src.SiteURL),
		Page: fmt.Sprintf("/sources/%d", src.ID), Enabled: src.Enabled,
		Items: src.LastItems, Articles: src.Articles, LastError: src.LastError,
	}
	if v.Title == "" {
		v.Title = src.URL
	}
	switch {
	case !src.Enabled:
		v.Health = "paused"
	case src.LastCheck.IsZero():
		v.Health = "never fetched"
	case src.LastError != "":
		v.Health = "failing"
	default:
		v.Health = "ok"
	}
	if !src.LastCheck.IsZero() {
		v.LastCheck = agoLabel(now.Sub(src.LastCheck))
		v.LastISO = src.LastCheck.UTC().Format(time.RFC3339)
	}
	if src.LastStatus != 0 {
		v.Status = fmt.Sprintf("%d %s", src.LastStatus, http.StatusText(src.LastStatus))
	}
	switch d := src.NextCheck.Sub(now); {
	case !src.Enabled:
		v.NextCheck = "paused"
	case src.NextCheck.IsZero() || d <= 0:
		v.NextCheck = "due now"
	default:
		v.NextCheck = "in " + shortDuration(d)
	}
	return v
}

// sourcesPage: every source with its health.
func (s *Server) sourcesPage(r *http.Request) (*response, error) {
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		return nil, unavailable(err)
	}
	now := s.now()
	var v struct {
		Sources            []sourceView
		OK, Failing, Total int
	}
	for _, src := range srcs {
		sv := s.sourceViewOf(src, now)
		v.Sources = append(v.Sources, sv)
		switch sv.Health {
		case "ok":
			v.OK++
		case "failing":
			v.Failing++
		}
	}
	v.Total = len(srcs)
	data := s.pageData(r, "Sources · Recap", v)
	data.Feeds = append(data.Feeds, feedLink{"text/x-opml", "Recap's sources (OPML)", s.abs("/sources.opml")})
	return s.htmlPageWith(data, "sources")
}

// sourcePage: one source, its health and its latest articles.
func (s *Server) sourcePage(r *http.Request) (*response, error) {
	id, err := pathID(chi.URLParam(r, "id"))
	if err != nil {
		return nil, err
	}
	src, err := s.store.Source(r.Context(), id)
	if err != nil {
		return nil, err
	}
	before, err := parseCursor(r.URL.Query().Get("before"))
	if err != nil {
		return nil, err
	}
	recs, err := s.store.Articles(r.Context(), store.ArticleQuery{Limit: s.cfg.PageSize, Before: before, SourceID: id})
	if err != nil {
		return nil, unavailable(err)
	}
	sv := s.sourceViewOf(src, s.now())
	v := struct {
		Source sourceView
		List   listView
	}{Source: sv, List: listView{Heading: "Latest articles", Entries: s.entries(recs), OlderLabel: "Older articles", Empty: "No articles from this source yet."}}
	if c := nextCursor(recs, s.cfg.PageSize); c != "" {
		v.List.Older = fmt.Sprintf("/sources/%d?before=%s", id, c)
	}
	data := s.pageData(r, sv.Title+" · Recap", v)
	data.Feeds = append(s.sourceFeeds(src), data.Feeds...)
	return s.htmlPageWith(data, "source")
}

func (s *Server) sourceFeeds(src store.Source) []feedLink {
	name := src.Title
	if name == "" {
		name = src.URL
	}
	p := fmt.Sprintf("/sources/%d/feed", src.ID)
	return []feedLink{
		{"application/rss+xml", name + " on Recap (RSS)", s.abs(p + ".xml")},
		{"application/atom+xml", name + " on Recap (Atom)", s.abs(p + ".atom")},
		{"application/feed+json", name + " on Recap (JSON Feed)", s.abs(p + ".json")},
	}
}

// searchMaxLen bounds a query; longer ones are refused, not cut silently.
const searchMaxLen = 200

// searchPage: full-text search, best match first, matches highlighted.
func (s *Server) searchPage(r *http.Request) (*response, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > searchMaxLen {
		return nil, errorf(http.StatusBadRequest, "the search is longer than %d characters", searchMaxLen)
	}
	page := 0
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 100 {
			return nil, errorf(http.StatusBadRequest, "invalid page %q: want a number from 1 to 100", p)
		}
		page = n - 1
	}
	v := struct {
		Query   string
		Words   []string
		List    listView
		Page    int
		Newer   string
		Results bool
	}{Query: q, Words: searchWords(q), Page: page + 1}
	if q != "" {
		recs, err := s.store.Search(r.Context(), store.SearchQuery{Text: q, Limit: s.cfg.PageSize, Offset: page * s.cfg.PageSize})
		if err != nil {
			return nil, unavailable(err)
		}
		v.Results = true
		v.List = listView{Entries: s.entries(recs), Empty: "No article matches every word of your search."}
		if len(recs) == s.cfg.PageSize && page < 99 {
			v.List.Older = fmt.Sprintf("/search?q=%s&page=%d", url.QueryEscape(q), page+2)
		}
		if page > 0 {
			v.Newer = fmt.Sprintf("/search?q=%s&page=%d", url.QueryEscape(q), page)
		}
	}
	title := "Search · Recap"
	if q != "" {
		title = q + " · Search · Recap"
	}
	return s.htmlPage(r, "search", title, v)
}

// searchWords are the words of a query as highlight looks for them: lower
// case, with common English endings cut, since the index stems words
// ("transforms" also finds "transforming").
func searchWords(q string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out = append(out, stemPrefix(strings.ToLower(w)))
	}
	return out
}

// stemPrefix cuts one common ending off a word, keeping at least three
// letters, so the prefix covers the word's other forms.
func stemPrefix(w string) string {
	for _, suf := range []string{"ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s", "e", "y"} {
		if stem, ok := strings.CutSuffix(w, suf); ok && utf8.RuneCountInString(stem) >= 3 {
			return stem
		}
	}
	return w
}

// highlight escapes text and wraps in <mark> each word that starts with one
// of the search words (stem prefixes, see searchWords).
func highlight(text string, words []string) template.HTML {
	if len(words) == 0 {
		return template.HTML(template.HTMLEscapeString(text))
	}
	var b strings.Builder
	start := -1 // start of the current word
	flush := func(end int) {
		w := text[start:end]
		lw := strings.ToLower(w)
		hit := false
		for _, q := range words {
			if strings.HasPrefix(lw, q) {
				hit = true
				break
			}
		}
		if hit {
			b.WriteString("<mark>" + template.HTMLEscapeString(w) + "</mark>")
		} else {
			b.WriteString(template.HTMLEscapeString(w))
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case inWord && start < 0:
			start = i
		case !inWord && start >= 0:
			flush(i)
			start = -1
		}
		if !inWord {
			b.WriteString(template.HTMLEscapeString(text[i : i+size]))
		}
		i += size
	}
	if start >= 0 {
		flush(len(text))
	}
	return template.HTML(b.String())
}
