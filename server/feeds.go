package server

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"recap/store"
)

// The feeds RSS readers subscribe to: the latest stories of the site and the
// latest articles of one source, as RSS 2.0, Atom 1.0 and JSON Feed 1.1, and
// the sources as OPML. A story's id and link are the absolute URL of its page
// on Recap, which never changes (a story keeps the id of the article that
// started it). An article's id is the URL of its own page, also stable; its
// link is its story's page once it is clustered. The original article is
// reached through that page or through the content's link, and a URL a
// polled feed carried reaches a reader only when it is a web link.

type feedFormat int

const (
	formatRSS feedFormat = iota
	formatAtom
	formatJSON
)

// ext is the file extension of the format in Recap's feed paths.
func (f feedFormat) ext() string {
	switch f {
	case formatAtom:
		return "atom"
	case formatJSON:
		return "json"
	default:
		return "xml"
	}
}

func (f feedFormat) contentType() string {
	switch f {
	case formatAtom:
		return "application/atom+xml; charset=utf-8"
	case formatJSON:
		// feed-extractor and other readers pick the JSON parser on this type.
		return "application/feed+json; charset=utf-8"
	default:
		return "application/rss+xml; charset=utf-8"
	}
}

const (
	feedGenerator = "Recap"
	siteFeedTitle = "Recap: latest AI news"
	opmlType      = "text/x-opml; charset=utf-8"
)

// feedDoc is a feed as every format writes it; its strings hold only
// characters XML 1.0 allows (see xmlText).
type feedDoc struct {
	Title       string
	Description string
	Page        string // absolute URL of the page the feed mirrors
	Self        string // absolute URL of the feed itself
	Updated     time.Time
	Items       []feedItem
}

// feedItem is one story or article in a feed.
type feedItem struct {
	ID        string // absolute URL of Recap's page of the story or article
	Link      string // absolute URL where it is read: ID, or the article's story
	Title     string
	Summary   string // plain text
	Content   string // HTML: the summary and a link to the original
	Original  string // the original article; "" when not a web link
	Source    string
	SourceURL string // the source's feed; "" when not a web link
	Published time.Time
	Updated   time.Time // never before Published
}

// siteFeed renders the latest stories, most recently updated first.
func (s *Server) siteFeed(f feedFormat) renderFunc {
	return func(r *http.Request) (*response, error) {
		recs, err := s.store.Stories(r.Context(), store.StoryQuery{Limit: store.DefaultLimit})
		if err != nil {
			return nil, unavailable(err)
		}
		doc := feedDoc{
			Title:       siteFeedTitle,
			Description: "The latest AI stories from every source Recap follows, each with the outlets that covered it, most recently updated first.",
			Page:        s.abs("/"),
			Self:        s.abs("/feed." + f.ext()),
		}
		return s.storiesFeed(r.Context(), f, doc, recs)
	}
}

// storiesFeed writes doc with the stories as its items.
func (s *Server) storiesFeed(ctx context.Context, f feedFormat, doc feedDoc, recs []store.StoryRecord) (*response, error) {
	var err error
	if doc.Items, err = s.storyFeedItems(ctx, recs); err != nil {
		return nil, err
	}
	doc.Updated = newestItem(doc.Items)
	if doc.Updated.IsZero() {
		// Nothing to show yet: the feed changed when the store last did.
		v, err := s.version(ctx)
		if err != nil {
			return nil, unavailable(err)
		}
		doc.Updated = v.ArticlesAt
		if doc.Updated.IsZero() {
			doc.Updated = v.SourcesAt
		}
	}
	return writeFeed(f, doc)
}

// sourceFeed renders the latest articles first stored from one source.
func (s *Server) sourceFeed(f feedFormat) renderFunc {
	return func(r *http.Request) (*response, error) {
		id, err := pathID(chi.URLParam(r, "id"))
		if err != nil {
			return nil, err
		}
		src, err := s.store.Source(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(http.StatusNotFound, "no source %d", id)
		}
		if err != nil {
			return nil, unavailable(err)
		}
		recs, err := s.store.Articles(r.Context(), store.ArticleQuery{Limit: store.DefaultLimit, SourceID: id})
		if err != nil {
			return nil, unavailable(err)
		}
		name := src.Title
		if name == "" {
			name = src.URL
		}
		p := fmt.Sprintf("/sources/%d", id)
		doc := feedDoc{
			Title:       xmlText(name + " on Recap"),
			Description: xmlText("The latest articles Recap collected from " + name + ", newest first."),
			Page:        s.abs(p),
			Self:        s.abs(p + "/feed." + f.ext()),
		}
		if doc.Items, err = s.feedItems(recs); err != nil {
			return nil, err
		}
		doc.Updated = newestItem(doc.Items)
		if doc.Updated.IsZero() {
			doc.Updated = src.LastCheck
			if doc.Updated.IsZero() {
				doc.Updated = src.Created
			}
		}
		return writeFeed(f, doc)
	}
}

// sourcesOPML lists every source as OPML 2.0, written by the feeds stage's
// writer that main wires in (server does not import feeds).
func (s *Server) sourcesOPML(r *http.Request) (*response, error) {
	if s.cfg.WriteOPML == nil {
		return nil, errorf(http.StatusNotImplemented, "the OPML export is not configured")
	}
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		return nil, unavailable(err)
	}
	var buf bytes.Buffer
	if err := s.cfg.WriteOPML(&buf, "Recap sources", srcs); err != nil {
		return nil, fmt.Errorf("sources.opml: %w", err)
	}
	return newResponse(buf.Bytes(), opmlType), nil
}

// feedContent is an article's HTML content. html/template escapes the
// summary and the source's name as text and the link as a URL attribute.
var feedContent = template.Must(template.New("content").Parse(
	`{{if .Summary}}<p>{{.Summary}}</p>{{else}}<p>{{.Title}}</p>{{end}}` +
		`{{if .URL}}<p><a href="{{.URL}}">Read at {{.Source}}</a></p>{{end}}`))

// storyFeedContent is a story's: the lead's summary and link, then every
// outlet that covered it, linked to its article.
var storyFeedContent = template.Must(template.New("story").Parse(
	`{{if .Summary}}<p>{{.Summary}}</p>{{else}}<p>{{.Title}}</p>{{end}}` +
		`{{if .URL}}<p><a href="{{.URL}}">Read at {{.Source}}</a></p>{{end}}` +
		`{{if .Outlets}}<p>Coverage, {{.Coverage}}: {{range $i, $o := .Outlets}}{{if $i}}, {{end}}` +
		`{{if $o.URL}}<a href="{{$o.URL}}">{{$o.Name}}</a>{{else}}{{$o.Name}}{{end}}{{end}}.</p>{{end}}`))

// feedOutlet is an outlet in a story's feed content, linked to the first
// article it carried that has a web link.
type feedOutlet struct{ Name, URL string }

func (s *Server) feedItems(recs []store.ArticleRecord) ([]feedItem, error) {
	now := s.now()
	items := make([]feedItem, 0, len(recs))
	var buf strings.Builder
	for _, rec := range recs {
		e := s.entryOf(rec, now)
		e.Title, e.Summary, e.Source = xmlText(e.Title), xmlText(e.Summary), xmlText(e.Source)
		buf.Reset()
		if err := feedContent.Execute(&buf, e); err != nil {
			return nil, fmt.Errorf("feed item %d: %w", rec.ID, err)
		}
		it := feedItem{
			ID:        s.abs("/articles/" + strconv.FormatInt(rec.ID, 10)),
			Link:      s.abs(e.Page),
			Title:     e.Title,
			Summary:   e.Summary,
			Content:   buf.String(),
			Original:  xmlText(e.URL),
			Source:    e.Source,
			SourceURL: xmlText(webLink(rec.SourceURL)),
			Published: rec.Published.UTC(),
			Updated:   rec.Published.UTC(),
		}
		if rec.Updated.After(rec.Published) {
			it.Updated = rec.Updated.UTC()
		}
		items = append(items, it)
	}
	return items, nil
}

// storyFeedItems makes the items of stories, reading each story whole for
// its coverage: the feed is rendered once per change of the store, so its
// fifty reads are paid once per poll, not per reader.
func (s *Server) storyFeedItems(ctx context.Context, recs []store.StoryRecord) ([]feedItem, error) {
	now := s.now()
	items := make([]feedItem, 0, len(recs))
	var buf strings.Builder
	for _, rec := range recs {
		full, err := s.store.Story(ctx, rec.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			full = rec // gone since the list was read: shown without coverage
		case err != nil:
			return nil, unavailable(err)
		}
		e := s.storyEntryOf(full, now)
		content := struct {
			entryView
			Outlets []feedOutlet
		}{entryView: e}
		content.Title, content.Summary, content.Source = xmlText(e.Title), xmlText(e.Summary), xmlText(e.Source)
		content.URL = xmlText(e.URL)
		for _, o := range coverageOf(full) {
			fo := feedOutlet{Name: xmlText(o.Name)}
			for _, m := range o.Members {
				if m.URL != "" {
					fo.URL = xmlText(m.URL)
					break
				}
			}
			content.Outlets = append(content.Outlets, fo)
		}
		buf.Reset()
		if err := storyFeedContent.Execute(&buf, content); err != nil {
			return nil, fmt.Errorf("feed item of story %d: %w", rec.ID, err)
		}
		page := s.abs(storyPath(rec.ID))
		it := feedItem{
			ID:        page,
			Link:      page,
			Title:     content.Title,
			Summary:   content.Summary,
			Content:   buf.String(),
			Original:  content.URL,
			Source:    content.Source,
			SourceURL: xmlText(webLink(full.LeadArticle.SourceURL)),
			Published: full.FirstSeen.UTC(),
			Updated:   full.Updated.UTC(),
		}
		if it.Updated.Before(it.Published) {
			it.Updated = it.Published
		}
		items = append(items, it)
	}
	return items, nil
}

// newestItem is the latest change among items; zero when there are none.
func newestItem(items []feedItem) time.Time {
	var t time.Time
	for _, it := range items {
		if it.Updated.After(t) {
			t = it.Updated
		}
	}
	return t
}

func writeFeed(f feedFormat, doc feedDoc) (*response, error) {
	var (
		body []byte
		err  error
	)
	switch f {
	case formatAtom:
		body, err = atomOf(doc)
	case formatJSON:
		body, err = jsonFeedOf(doc)
	default:
		body, err = rssOf(doc)
	}
	if err != nil {
		return nil, fmt.Errorf("render feed %s: %w", doc.Self, err)
	}
	return newResponse(body, f.contentType()), nil
}

// xmlText drops what XML 1.0 cannot carry (control characters, U+FFFE,
// U+FFFF, bytes that are not UTF-8) and the C1 controls it discourages:
// encoding/xml would write U+FFFD in their place, and one such character
// makes strict parsers reject the whole feed.
func xmlText(s string) string {
	ok := true
	for i, r := range s {
		if !xmlChar(r) || (r == utf8.RuneError && isBadByte(s, i)) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if xmlChar(r) && !(r == utf8.RuneError && isBadByte(s, i)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return false
	case r <= 0xd7ff:
		return true
	case r >= 0xe000 && r <= 0xfffd:
		return true
	default:
		return r >= 0x10000 && r <= 0x10ffff
	}
}

// isBadByte reports whether the RuneError at s[i] stands for a byte that is
// not UTF-8 rather than an encoded U+FFFD.
func isBadByte(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 1
}

// RSS 2.0 (https://www.rssboard.org/rss-specification), with atom:link
// rel="self" and content:encoded as the RSS Advisory Board recommends.

type rssDoc struct {
	XMLName   xml.Name   `xml:"rss"`
	Version   string     `xml:"version,attr"`
	AtomNS    string     `xml:"xmlns:atom,attr"`
	ContentNS string     `xml:"xmlns:content,attr"`
	Channel   rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string      `xml:"title"`
	Link          string      `xml:"link"`
	Description   string      `xml:"description"`
	Self          rssAtomLink `xml:"atom:link"`
	Generator     string      `xml:"generator"`
	Docs          string      `xml:"docs"`
	LastBuildDate string      `xml:"lastBuildDate"`
	Items         []rssItem   `xml:"item"`
}

type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string     `xml:"title"`
	Link        string     `xml:"link"`
	Description string     `xml:"description,omitempty"`
	Content     string     `xml:"content:encoded"`
	GUID        rssGUID    `xml:"guid"`
	PubDate     string     `xml:"pubDate"`
	Source      *rssSource `xml:"source"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type rssSource struct {
	URL  string `xml:"url,attr"`
	Name string `xml:",chardata"`
}

// rssDate is RFC 822 as RSS 2.0 wants it, with a four-digit year and a
// numeric zone.
func rssDate(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

func rssOf(doc feedDoc) ([]byte, error) {
	out := rssDoc{
		Version:   "2.0",
		AtomNS:    "http://www.w3.org/2005/Atom",
		ContentNS: "http://purl.org/rss/1.0/modules/content/",
		Channel: rssChannel{
			Title:         doc.Title,
			Link:          doc.Page,
			Description:   doc.Description,
			Self:          rssAtomLink{Href: doc.Self, Rel: "self", Type: "application/rss+xml"},
			Generator:     feedGenerator,
			Docs:          "https://www.rssboard.org/rss-specification",
			LastBuildDate: rssDate(doc.Updated),
			Items:         make([]rssItem, len(doc.Items)),
		},
	}
	for i, it := range doc.Items {
		ri := rssItem{
			Title: it.Title,
			Link:  it.Link,
			// description holds HTML in RSS: the plain-text summary is
			// escaped once as HTML here, and once more as XML by Marshal.
			Description: template.HTMLEscapeString(it.Summary),
			Content:     it.Content,
			GUID:        rssGUID{IsPermaLink: "true", Value: it.ID},
			PubDate:     rssDate(it.Published),
		}
		if it.SourceURL != "" {
			// url is required on <source>; without a web link it is left out.
			ri.Source = &rssSource{URL: it.SourceURL, Name: it.Source}
		}
		out.Channel.Items[i] = ri
	}
	return marshalXML(out)
}

// Atom 1.0 (RFC 4287).

type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title     atomText    `xml:"title"`
	Subtitle  atomText    `xml:"subtitle"`
	ID        string      `xml:"id"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     atomText    `xml:"title"`
	Links     []atomLink  `xml:"link"`
	ID        string      `xml:"id"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Author    atomPerson  `xml:"author"`
	Summary   *atomText   `xml:"summary"`
	Content   atomText    `xml:"content"`
	Source    *atomSource `xml:"source"`
}

type atomSource struct {
	ID    string     `xml:"id,omitempty"`
	Title atomText   `xml:"title"`
	Links []atomLink `xml:"link"`
}

func atomDate(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func atomOf(doc feedDoc) ([]byte, error) {
	out := atomFeed{
		Title:    atomText{Type: "text", Body: doc.Title},
		Subtitle: atomText{Type: "text", Body: doc.Description},
		ID:       doc.Self,
		Updated:  atomDate(doc.Updated),
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: doc.Self},
			{Rel: "alternate", Type: "text/html", Href: doc.Page},
		},
		Generator: feedGenerator,
		Entries:   make([]atomEntry, len(doc.Items)),
	}
	for i, it := range doc.Items {
		e := atomEntry{
			Title: atomText{Type: "text", Body: it.Title},
			Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: it.Link}},
			ID:    it.ID,
			// RFC 4287 wants an author for every entry (or the feed); the
			// outlet that published the article is the honest one.
			Author:    atomPerson{Name: it.Source},
			Published: atomDate(it.Published),
			Updated:   atomDate(it.Updated),
			Content:   atomText{Type: "html", Body: it.Content},
		}
		if it.Original != "" {
			e.Links = append(e.Links, atomLink{Rel: "related", Type: "text/html", Href: it.Original})
		}
		if it.Summary != "" {
			e.Summary = &atomText{Type: "text", Body: it.Summary}
		}
		e.Source = &atomSource{ID: it.SourceURL, Title: atomText{Type: "text", Body: it.Source}}
		if it.SourceURL != "" {
			e.Source.Links = []atomLink{{Rel: "self", Href: it.SourceURL}}
		}
		out.Entries[i] = e
	}
	return marshalXML(out)
}

func marshalXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).

type jsonFeed struct {
	Version     string     `json:"version"`
	Title       string     `json:"title"`
	HomePageURL string     `json:"home_page_url"`
	FeedURL     string     `json:"feed_url"`
	Description string     `json:"description,omitempty"`
	Items       []jsonItem `json:"items"`
}

type jsonItem struct {
	ID            string       `json:"id"`
	URL           string       `json:"url"`
	ExternalURL   string       `json:"external_url,omitempty"`
	Title         string       `json:"title"`
	Summary       string       `json:"summary,omitempty"`
	ContentHTML   string       `json:"content_html"`
	DatePublished string       `json:"date_published"`
	DateModified  string       `json:"date_modified,omitempty"`
	Authors       []jsonAuthor `json:"authors"`
}

type jsonAuthor struct {
	Name string `json:"name"`
}

func jsonFeedOf(doc feedDoc) ([]byte, error) {
	out := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       doc.Title,
		HomePageURL: doc.Page,
		FeedURL:     doc.Self,
		Description: doc.Description,
		Items:       make([]jsonItem, len(doc.Items)),
	}
	for i, it := range doc.Items {
		ji := jsonItem{
			ID:            it.ID,
			URL:           it.Link,
			ExternalURL:   it.Original,
			Title:         it.Title,
			Summary:       it.Summary,
			ContentHTML:   it.Content,
			DatePublished: atomDate(it.Published),
			Authors:       []jsonAuthor{{Name: it.Source}},
		}
		if it.Updated.After(it.Published) {
			ji.DateModified = atomDate(it.Updated)
		}
		out.Items[i] = ji
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append(body, '\n'), nil
}
