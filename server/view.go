package server

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"recap/news"
	"recap/store"
)

// The pages show entries: a story on the home page (its lead article, with
// its coverage counted), an article on source pages and in search results.
// One view serves both, so the lists share one template.

// freshFor is how long an entry is labelled "Fresh".
const freshFor = 6 * time.Hour

// entryView is one news entry as pages show it.
type entryView struct {
	ID        int64
	Title     string
	Page      string // path of its page on Recap: the story's once clustered
	URL       string // the original article; "" when not a web link
	Source    string
	SourceID  int64
	Hook      string // first sentence of the summary
	Summary   string
	Published time.Time
	ISO       string // Published for <time datetime>
	Date      string // Published for people
	Ago       string // "3h ago"
	Fresh     string // "Fresh", "Today" or ""
	Collected string // "collected in 16m"; "" when unknown

	// Stories only: "5 outlets · 7 articles"; "" for an article.
	Coverage string
	// Stories only: when the latest member arrived, if after the lead.
	UpdatedAgo, UpdatedISO string
}

func (s *Server) entryOf(rec store.ArticleRecord, now time.Time) entryView {
	a := rec.Article
	e := entryView{
		ID:        a.ID,
		Title:     a.Title,
		Page:      articlePath(a),
		URL:       webLink(a.URL),
		Source:    rec.Source,
		SourceID:  a.SourceID,
		Hook:      hook(a.Summary),
		Summary:   a.Summary,
		Published: a.Published,
		ISO:       a.Published.UTC().Format(time.RFC3339),
		Date:      a.Published.UTC().Format("2 Jan 2006 15:04 MST"),
	}
	if e.Title == "" {
		e.Title = "(untitled)"
	}
	if e.Source == "" {
		e.Source = "unknown source"
	}
	age := now.Sub(a.Published)
	e.Ago = agoLabel(age)
	switch {
	case age < freshFor:
		e.Fresh = "Fresh"
	case age < 24*time.Hour:
		e.Fresh = "Today"
	}
	if lag := a.Collected.Sub(a.Published); !a.Collected.IsZero() && lag >= 0 {
		e.Collected = "collected in " + shortDuration(lag)
	}
	return e
}

// articlePath is where an article is read: its story's page once it is
// clustered, else its own page.
func articlePath(a news.Article) string {
	if a.StoryID != 0 {
		return storyPath(a.StoryID)
	}
	return "/articles/" + strconv.FormatInt(a.ID, 10)
}

func storyPath(id int64) string { return "/stories/" + strconv.FormatInt(id, 10) }

// storyEntryOf is a story as lists show it: its lead article, linking to the
// story, with how many outlets and articles cover it.
func (s *Server) storyEntryOf(rec store.StoryRecord, now time.Time) entryView {
	e := s.entryOf(rec.LeadArticle, now)
	e.ID = rec.ID
	e.Page = storyPath(rec.ID)
	if rec.Title != "" {
		e.Title = rec.Title
	}
	e.Coverage = coverageLabel(rec.OutletCount, rec.Count)
	// The list is ordered by the latest member; say so when that is not
	// the lead, or an old lead at the top of the page would look misplaced.
	if rec.Updated.Sub(rec.LeadArticle.Published) >= time.Minute {
		e.UpdatedAgo = "updated " + agoLabel(now.Sub(rec.Updated))
		e.UpdatedISO = rec.Updated.UTC().Format(time.RFC3339)
	}
	return e
}

// coverageLabel counts a story's outlets, and its articles when their
// number differs: "1 outlet", "5 outlets · 7 articles", "3 outlets · 1
// article" (one article syndicated).
func coverageLabel(outlets, articles int) string {
	l := plural(outlets, "outlet", "outlets")
	if articles != outlets {
		l += " · " + plural(articles, "article", "articles")
	}
	return l
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// webLink returns u when it is an http(s) URL, else "": pages link only to
// web pages, never to javascript: or data: URLs a feed may carry.
func webLink(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}

// agoLabel says how long ago something happened, "in the future" for clock skew.
func agoLabel(d time.Duration) string {
	if d < 0 {
		return "just now"
	}
	if d < time.Minute {
		return "just now"
	}
	return shortDuration(d) + " ago"
}

// shortDuration formats d the way people read it: 45s, 16m, 3h 5m, 2d 4h, 3w.
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 || h >= 10 {
			return strconv.Itoa(h) + "h"
		}
		return fmt.Sprintf("%dh %dm", h, m)
	case d < 14*24*time.Hour:
		days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 || days >= 3 {
			return strconv.Itoa(days) + "d"
		}
		return fmt.Sprintf("%dd %dh", days, h)
	case d < 365*24*time.Hour:
		return strconv.Itoa(int(d/(7*24*time.Hour))) + "w"
	default:
		return strconv.Itoa(int(d/(365*24*time.Hour))) + "y"
	}
}

// hookMax bounds a hook that has no sentence end early enough.
const hookMax = 240

// hook returns the first sentence of a summary that is the outlet's own
// words (news.Hook), cut at a word past hookMax.
func hook(summary string) string {
	s := news.Hook(summary)
	if len(s) <= hookMax {
		return s
	}
	cut := strings.LastIndexByte(s[:hookMax], ' ')
	if cut <= 0 {
		cut = hookMax
		for !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	return strings.TrimRight(s[:cut], " ,;:") + "…"
}

// feedLink is a <link rel="alternate"> of a page.
type feedLink struct {
	Type, Title, Href string
}

// Attrs renders the link's attributes. html/template would write the "+" of
// "application/rss+xml" as "&#43;": valid HTML, but feed autodiscovery in
// some readers matches the attribute text as is.
func (l feedLink) Attrs() template.HTMLAttr {
	esc := template.HTMLEscapeString
	return template.HTMLAttr(`type="` + esc(l.Type) + `" title="` + esc(l.Title) + `" href="` + esc(l.Href) + `"`)
}

// pageData is what the layout needs around a page's own content.
type pageData struct {
	Title   string
	Path    string // for aria-current in the navigation
	Query   string // the search box's value
	Feeds   []feedLink
	Content any
}

func (s *Server) siteFeeds() []feedLink {
	return []feedLink{
		{"application/rss+xml", "Recap: latest AI news (RSS)", s.abs("/feed.xml")},
		{"application/atom+xml", "Recap: latest AI news (Atom)", s.abs("/feed.atom")},
		{"application/feed+json", "Recap: latest AI news (JSON Feed)", s.abs("/feed.json")},
	}
}

func (s *Server) pageData(r *http.Request, title string, content any) pageData {
	return pageData{Title: title, Path: r.URL.Path, Query: r.URL.Query().Get("q"), Feeds: s.siteFeeds(), Content: content}
}

// parseTemplates builds one template per page: the layout (base.html) with
// the page's own file, which defines "content".
func parseTemplates(fsys fs.FS) (map[string]*template.Template, error) {
	pages, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if name == "base" || name == "partials" {
			continue
		}
		t, err := template.New("base.html").Funcs(template.FuncMap{
			"highlight": highlight,
		}).ParseFS(fsys, "templates/base.html", "templates/partials.html", p)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// renderHTML executes the page template name with data.
func (s *Server) renderHTML(name string, data pageData) ([]byte, error) {
	t, ok := s.tmpl[name]
	if !ok {
		return nil, fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// htmlPage renders a page into a cacheable response.
func (s *Server) htmlPage(r *http.Request, name, title string, content any) (*response, error) {
	return s.htmlPageWith(s.pageData(r, title, content), name)
}

func (s *Server) htmlPageWith(data pageData, name string) (*response, error) {
	body, err := s.renderHTML(name, data)
	if err != nil {
		return nil, err
	}
	return newResponse(body, "text/html; charset=utf-8"), nil
}

// errorView is the content of the error page.
type errorView struct {
	Status  int
	Message string
}
