package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

// Parsed forms of the three formats, read back with encoding/xml (strict)
// and encoding/json: what a careful reader sees.

type rssParsed struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		// Before Link: a field without a namespace would also take atom:link.
		AtomLinks     []parsedLink `xml:"http://www.w3.org/2005/Atom link"`
		Title         string       `xml:"title"`
		Link          string       `xml:"link"`
		Description   string       `xml:"description"`
		Generator     string       `xml:"generator"`
		LastBuildDate string       `xml:"lastBuildDate"`
		Items         []struct {
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			Description string `xml:"description"`
			Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			GUID        struct {
				IsPermaLink string `xml:"isPermaLink,attr"`
				Value       string `xml:",chardata"`
			} `xml:"guid"`
			PubDate string `xml:"pubDate"`
			Source  struct {
				URL  string `xml:"url,attr"`
				Name string `xml:",chardata"`
			} `xml:"source"`
		} `xml:"item"`
	} `xml:"channel"`
}

type parsedLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type parsedText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomParsed struct {
	XMLName   xml.Name     `xml:"http://www.w3.org/2005/Atom feed"`
	Title     parsedText   `xml:"http://www.w3.org/2005/Atom title"`
	ID        string       `xml:"http://www.w3.org/2005/Atom id"`
	Updated   string       `xml:"http://www.w3.org/2005/Atom updated"`
	Links     []parsedLink `xml:"http://www.w3.org/2005/Atom link"`
	Generator string       `xml:"http://www.w3.org/2005/Atom generator"`
	Entries   []struct {
		Title     parsedText   `xml:"http://www.w3.org/2005/Atom title"`
		Links     []parsedLink `xml:"http://www.w3.org/2005/Atom link"`
		ID        string       `xml:"http://www.w3.org/2005/Atom id"`
		Published string       `xml:"http://www.w3.org/2005/Atom published"`
		Updated   string       `xml:"http://www.w3.org/2005/Atom updated"`
		Author    string       `xml:"http://www.w3.org/2005/Atom author>name"`
		Summary   parsedText   `xml:"http://www.w3.org/2005/Atom summary"`
		Content   parsedText   `xml:"http://www.w3.org/2005/Atom content"`
		Source    struct {
			ID    string     `xml:"http://www.w3.org/2005/Atom id"`
			Title parsedText `xml:"http://www.w3.org/2005/Atom title"`
		} `xml:"http://www.w3.org/2005/Atom source"`
	} `xml:"http://www.w3.org/2005/Atom entry"`
}

type jsonParsed struct {
	Version     string `json:"version"`
	Title       string `json:"title"`
	HomePageURL string `json:"home_page_url"`
	FeedURL     string `json:"feed_url"`
	Description string `json:"description"`
	Items       []struct {
		ID            string `json:"id"`
		URL           string `json:"url"`
		ExternalURL   string `json:"external_url"`
		Title         string `json:"title"`
		Summary       string `json:"summary"`
		ContentHTML   string `json:"content_html"`
		DatePublished string `json:"date_published"`
		DateModified  string `json:"date_modified"`
		Authors       []struct {
			Name string `json:"name"`
		} `json:"authors"`
	} `json:"items"`
}

// feedEntry is an item of any format, as the checks compare them.
type feedEntry struct {
	ID, Link, Title, Summary, Content, Source string
	Published, Updated                        time.Time
}

// parsedFeed is a feed of any format, read back.
type parsedFeed struct {
	Title, Self, Page string
	Updated           time.Time
	Entries           []feedEntry
}

func parseRSS(t *testing.T, body []byte) parsedFeed {
	t.Helper()
	var doc rssParsed
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("RSS does not parse: %v", err)
	}
	if doc.Version != "2.0" {
		t.Errorf("rss version = %q, want 2.0", doc.Version)
	}
	c := doc.Channel
	f := parsedFeed{Title: c.Title, Page: c.Link}
	for _, l := range c.AtomLinks {
		if l.Rel == "self" {
			f.Self = l.Href
			if l.Type != "application/rss+xml" {
				t.Errorf("atom:link self type = %q", l.Type)
			}
		}
	}
	if c.Generator == "" || c.Description == "" {
		t.Errorf("channel generator %q, description %q: want both", c.Generator, c.Description)
	}
	f.Updated = parseTime(t, "lastBuildDate", time.RFC1123Z, c.LastBuildDate)
	for _, it := range c.Items {
		// The guid is a permalink: a story's page (also its link), or an
		// article's page (its link is the story's once clustered; the
		// exact checks below hold each item to the store).
		if it.GUID.IsPermaLink != "true" || !strings.HasPrefix(it.GUID.Value, "http") {
			t.Errorf("item %q: guid %+v, want isPermaLink=true and an absolute URL", it.Title, it.GUID)
		}
		pub := parseTime(t, "pubDate", time.RFC1123Z, it.PubDate)
		f.Entries = append(f.Entries, feedEntry{
			ID: it.GUID.Value, Link: it.Link, Title: it.Title, Summary: it.Description, Content: it.Content,
			Source: it.Source.Name, Published: pub, Updated: pub,
		})
	}
	return f
}

func parseAtom(t *testing.T, body []byte) parsedFeed {
	t.Helper()
	var doc atomParsed
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("Atom does not parse: %v", err)
	}
	f := parsedFeed{Title: doc.Title.Body, Updated: parseTime(t, "feed updated", time.RFC3339, doc.Updated)}
	for _, l := range doc.Links {
		switch l.Rel {
		case "self":
			f.Self = l.Href
		case "alternate":
			f.Page = l.Href
		}
	}
	if doc.ID != f.Self || doc.Generator == "" {
		t.Errorf("feed id %q (want the self link %q), generator %q", doc.ID, f.Self, doc.Generator)
	}
	for _, e := range doc.Entries {
		if e.Title.Type != "text" || e.Content.Type != "html" {
			t.Errorf("entry %q: title type %q, content type %q; want text and html", e.Title.Body, e.Title.Type, e.Content.Type)
		}
		var link string
		for _, l := range e.Links {
			if l.Rel == "alternate" {
				link = l.Href
			}
		}
		if e.Author == "" || e.Author != e.Source.Title.Body {
			t.Errorf("entry %q: author %q, source %q: want the source as both", e.Title.Body, e.Author, e.Source.Title.Body)
		}
		f.Entries = append(f.Entries, feedEntry{
			ID: e.ID, Link: link, Title: e.Title.Body, Summary: e.Summary.Body, Content: e.Content.Body,
			Source:    e.Source.Title.Body,
			Published: parseTime(t, "published", time.RFC3339, e.Published),
			Updated:   parseTime(t, "updated", time.RFC3339, e.Updated),
		})
	}
	return f
}

func parseJSONFeed(t *testing.T, body []byte) parsedFeed {
	t.Helper()
	var doc jsonParsed
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields() // the parsed struct lists every field Recap writes
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("JSON Feed does not decode: %v", err)
	}
	if doc.Version != "https://jsonfeed.org/version/1.1" {
		t.Errorf("version = %q", doc.Version)
	}
	if doc.Items == nil {
		t.Errorf("items is missing; JSON Feed requires it, even empty")
	}
	f := parsedFeed{Title: doc.Title, Self: doc.FeedURL, Page: doc.HomePageURL}
	for _, it := range doc.Items {
		if len(it.Authors) != 1 {
			t.Errorf("item %q: authors %+v, want the source", it.Title, it.Authors)
			continue
		}
		e := feedEntry{
			ID: it.ID, Link: it.URL, Title: it.Title, Summary: it.Summary, Content: it.ContentHTML,
			Source: it.Authors[0].Name, Published: parseTime(t, "date_published", time.RFC3339, it.DatePublished),
		}
		e.Updated = e.Published
		if it.DateModified != "" {
			e.Updated = parseTime(t, "date_modified", time.RFC3339, it.DateModified)
		}
		if e.Updated.After(f.Updated) {
			f.Updated = e.Updated // JSON Feed has no feed-level date
		}
		f.Entries = append(f.Entries, e)
	}
	return f
}

func parseTime(t *testing.T, what, layout, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(layout, s)
	if err != nil {
		t.Errorf("%s %q does not parse as %s: %v", what, s, layout, err)
	}
	if layout == time.RFC1123Z && !strings.Contains(s, " 20") {
		t.Errorf("%s %q: want a four-digit year", what, s)
	}
	return tm
}

var feedFormats = []struct {
	name  string
	ext   string
	ctype string
	parse func(*testing.T, []byte) parsedFeed
}{
	{"RSS", "xml", "application/rss+xml; charset=utf-8", parseRSS},
	{"Atom", "atom", "application/atom+xml; charset=utf-8", parseAtom},
	{"JSON Feed", "json", "application/feed+json; charset=utf-8", parseJSONFeed},
}

// feedTestOPML stands in for feeds.WriteOPML, which server may not import.
func feedTestOPML(w io.Writer, title string, srcs []store.Source) error {
	type outline struct {
		Text   string `xml:"text,attr"`
		Type   string `xml:"type,attr"`
		XMLURL string `xml:"xmlUrl,attr"`
	}
	doc := struct {
		XMLName  xml.Name  `xml:"opml"`
		Version  string    `xml:"version,attr"`
		Title    string    `xml:"head>title"`
		Outlines []outline `xml:"body>outline"`
	}{Version: "2.0", Title: title}
	for _, s := range srcs {
		doc.Outlines = append(doc.Outlines, outline{Text: s.Title, Type: "rss", XMLURL: s.URL})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	return xml.NewEncoder(w).Encode(doc)
}

// withoutControls is a title as XML can carry it: the control characters
// XML 1.0 forbids removed.
func withoutControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		return r
	}, s)
}

// feedTestStore is the store most feed tests read: 3 sources of 20
// articles, hostile titles, and articles whose item link, GUID or URL is a
// javascript: URL; in 62 stories (more than a feed's 50): one led by a
// hostile title with three outlets, one led by the article whose URL is a
// script URL, the others of one article each.
func feedTestStore(t *testing.T, st store.Store) []store.Source {
	t.Helper()
	srcs := fillStore(t, st, 3, 20)
	var arts []news.Article
	for i, title := range hostileTitles {
		a := testArticle(srcs[1], 30+i)
		a.Title = title
		a.Summary = "Summary with " + title
		a.Published = testNow.Add(-time.Duration(i+1) * time.Minute) // among the newest
		a.Collected = a.Published.Add(time.Minute)
		arts = append(arts, a)
	}
	evil := testArticle(srcs[1], 40)
	evil.Title = "Item link and GUID are script URLs"
	evil.Link, evil.GUID = "javascript:alert(1)", "javascript:alert(2)"
	evil.Published = testNow.Add(-30 * time.Second)
	evil.Collected = testNow
	evil.Updated = testNow.Add(-10 * time.Second) // edited after publication
	evil2 := testArticle(srcs[1], 41)
	evil2.Title = "Its URL is a script URL"
	evil2.URL, evil2.Link, evil2.GUID = "javascript:alert(3)", "javascript:alert(4)", ""
	evil2.Published = testNow.Add(-40 * time.Second)
	evil2.Collected = testNow
	saveArticles(t, st, srcs[1], append(arts, evil, evil2))
	ids := articleIDs(t, st)
	saveStories(t, st,
		testStory{members: []int64{ids[hostileTitles[0]], ids["Article 0 of Source 1: models and chips"], ids["Article 0 of Source 3: models and chips"]}},
		testStory{members: []int64{ids[evil2.Title], ids[evil.Title], ids["Article 1 of Source 3: models and chips"]}})
	clusterRest(t, st)
	return srcs
}

func TestFeedRoutesServeWithValidatorsAndGzip(t *testing.T) {
	srv, st := newTestServer(t, func(c *Config) { c.WriteOPML = feedTestOPML })
	srcs := feedTestStore(t, st)
	h := srv.Handler()

	type route struct {
		path, ctype string
		gzip        bool // big enough to be sent compressed
	}
	var routes []route
	for _, f := range feedFormats {
		routes = append(routes,
			route{"/feed." + f.ext, f.ctype, true},
			route{fmt.Sprintf("/sources/%d/feed.%s", srcs[2].ID, f.ext), f.ctype, true})
	}
	routes = append(routes, route{"/sources.opml", "text/x-opml; charset=utf-8", false})

	for _, rt := range routes {
		t.Run(rt.path, func(t *testing.T) {
			w := get(t, h, rt.path)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200: %s", rt.path, w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != rt.ctype {
				t.Errorf("Content-Type = %q, want %q", ct, rt.ctype)
			}
			etag, lm := w.Header().Get("ETag"), w.Header().Get("Last-Modified")
			if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
				t.Errorf("ETag = %q, want a quoted strong validator", etag)
			}
			if _, err := http.ParseTime(lm); err != nil {
				t.Errorf("Last-Modified = %q: %v", lm, err)
			}
			plain := w.Body.Bytes()

			for _, hdr := range [][]string{{"If-None-Match", etag}, {"If-Modified-Since", lm}} {
				w := get(t, h, rt.path, hdr...)
				if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
					t.Errorf("GET with %s = %d with %d bytes, want 304 and no body", hdr[0], w.Code, w.Body.Len())
				}
			}
			if w := get(t, h, rt.path, "If-None-Match", `"something-else"`); w.Code != http.StatusOK {
				t.Errorf("GET with a stale If-None-Match = %d, want 200", w.Code)
			}

			w = get(t, h, rt.path, "Accept-Encoding", "gzip")
			if !rt.gzip {
				return
			}
			if w.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("Accept-Encoding: gzip answered without Content-Encoding: gzip (%d bytes plain)", len(plain))
			}
			if !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary = %q, want Accept-Encoding", w.Header().Get("Vary"))
			}
			zr, err := gzip.NewReader(w.Body)
			if err != nil {
				t.Fatalf("gzip: %v", err)
			}
			unzipped, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("gunzip: %v", err)
			}
			if !bytes.Equal(unzipped, plain) {
				t.Errorf("gzipped body differs from the plain one (%d vs %d bytes)", len(unzipped), len(plain))
			}
			gzTag := w.Header().Get("ETag")
			if gzTag == etag {
				t.Errorf("gzip and plain share the ETag %s", etag)
			}
			if w := get(t, h, rt.path, "Accept-Encoding", "gzip", "If-None-Match", gzTag); w.Code != http.StatusNotModified {
				t.Errorf("GET gzip with its own ETag = %d, want 304", w.Code)
			}
		})
	}
}

func TestFeedErrors(t *testing.T) {
	srv, st := newTestServer(t, nil)
	fillStore(t, st, 1, 2)
	h := srv.Handler()
	// Ids that are not positive integers answer what pathID says for every
	// route with an id, so feeds and pages agree.
	_, idErr := pathID("abc")
	badID, _ := statusOf(idErr)

	tests := []struct {
		path   string
		status int
	}{
		{"/sources/999/feed.xml", http.StatusNotFound},
		{"/sources/999/feed.atom", http.StatusNotFound},
		{"/sources/999/feed.json", http.StatusNotFound},
		{"/sources/abc/feed.xml", badID},
		{"/sources/0/feed.atom", badID},
		{"/sources/-1/feed.json", badID},
		{"/sources/99999999999999999999/feed.xml", badID},
		{"/sources/1/feed.rss", http.StatusNotFound},
		{"/sources.opml", http.StatusNotImplemented}, // no OPML writer configured
	}
	for _, tt := range tests {
		w := get(t, h, tt.path)
		if w.Code != tt.status {
			t.Errorf("GET %s = %d, want %d", tt.path, w.Code, tt.status)
		}
		if w.Header().Get("ETag") != "" || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: ETag %q, Cache-Control %q; errors are not cached", tt.path, w.Header().Get("ETag"), w.Header().Get("Cache-Control"))
		}
	}
	if w := request(t, h, http.MethodPost, "/feed.xml", nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /feed.xml = %d, want 405", w.Code)
	}
}

// TestSiteFeedsCarryEveryStoryExactly reads each site feed back and checks
// every item against the store: count, order, exact titles, dates, ids,
// sources, and the coverage in the content.
func TestSiteFeedsCarryEveryStoryExactly(t *testing.T) {
	srv, st := newTestServer(t, nil)
	feedTestStore(t, st)
	h := srv.Handler()
	latest, err := st.Stories(t.Context(), store.StoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != store.DefaultLimit {
		t.Fatalf("store gave %d stories, want a full page of %d", len(latest), store.DefaultLimit)
	}
	multi := 0
	for _, f := range feedFormats {
		path := "/feed." + f.ext
		t.Run(path, func(t *testing.T) {
			w := get(t, h, path)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d", path, w.Code)
			}
			body := w.Body.Bytes()
			if bytes.Contains(bytes.ToLower(body), []byte("javascript:")) {
				t.Errorf("%s carries a javascript: URL", path)
			}
			feed := f.parse(t, body)
			if feed.Self != testBaseURL+path || feed.Page != testBaseURL+"/" || feed.Title != "Recap: latest AI news" {
				t.Errorf("self %q, page %q, title %q", feed.Self, feed.Page, feed.Title)
			}
			if len(feed.Entries) != len(latest) {
				t.Fatalf("%d items, want %d", len(feed.Entries), len(latest))
			}
			var newest time.Time
			for i, e := range feed.Entries {
				rec, err := st.Story(t.Context(), latest[i].ID)
				if err != nil {
					t.Fatal(err)
				}
				id := fmt.Sprintf("%s/stories/%d", testBaseURL, rec.ID)
				if e.ID != id || e.Link != id {
					t.Errorf("item %d: id %q, link %q; want both %q", i, e.ID, e.Link, id)
				}
				if e.Title != withoutControls(rec.Title) {
					t.Errorf("item %d: title %q, want the lead's %q", i, e.Title, withoutControls(rec.Title))
				}
				if !e.Published.Equal(rec.FirstSeen.Truncate(time.Second)) {
					t.Errorf("item %d: published %v, want the story's first seen %v", i, e.Published, rec.FirstSeen)
				}
				if f.ext != "xml" && !e.Updated.Equal(rec.Updated.Truncate(time.Second)) {
					t.Errorf("item %d: updated %v, want the story's %v", i, e.Updated, rec.Updated)
				}
				if rec.Updated.After(newest) {
					newest = rec.Updated
				}
				if e.Source != rec.LeadArticle.Source {
					t.Errorf("item %d: source %q, want the lead's %q", i, e.Source, rec.LeadArticle.Source)
				}
				checkContent(t, f.ext, e, rec.LeadArticle)
				checkCoverage(t, e, rec)
				if len(rec.Outlets) > 1 {
					multi++
				}
			}
			if !feed.Updated.Equal(newest.Truncate(time.Second)) {
				t.Errorf("feed updated %v, want the newest story's %v", feed.Updated, newest)
			}
		})
	}
	if multi != 2*len(feedFormats) {
		t.Errorf("checked %d items of several outlets, want the 2 such stories in each of %d feeds", multi, len(feedFormats))
	}
}

// checkCoverage checks that a story's item names every outlet, linked to
// the first article with a web link it carried, in the store's order.
func checkCoverage(t *testing.T, e feedEntry, rec store.StoryRecord) {
	t.Helper()
	i := strings.Index(e.Content, "Coverage, ")
	if i < 0 {
		t.Errorf("story %d: content %q has no coverage", rec.ID, e.Content)
		return
	}
	cov := e.Content[i:]
	if !strings.HasPrefix(cov, "Coverage, "+coverageLabel(rec.OutletCount, rec.Count)+": ") {
		t.Errorf("story %d: coverage %q does not count %d outlets and %d articles", rec.ID, cov, rec.OutletCount, rec.Count)
	}
	at := 0
	for _, o := range rec.Outlets {
		var link string
		for _, m := range rec.Members {
			carried := false
			for _, g := range m.Seen {
				carried = carried || g.SourceID == o.SourceID
			}
			if carried && webLink(m.URL) != "" {
				link = m.URL
				break
			}
		}
		want := escapeHTMLText(withoutControls(o.Name))
		if link != "" {
			want = `<a href="` + link + `">` + want + `</a>`
		}
		i := strings.Index(cov[at:], want)
		if i < 0 {
			t.Errorf("story %d: coverage %q lacks %s after position %d", rec.ID, cov, want, at)
			continue
		}
		at += i + len(want)
	}
}

// TestSourceFeedsCarryEveryArticleExactly reads each feed of a source back
// and checks every item against the store: count, order, exact titles,
// dates, ids, sources; an article in a story links to the story.
func TestSourceFeedsCarryEveryArticleExactly(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := feedTestStore(t, st)
	// One article of the source waits for the story stage: its link is its
	// own page.
	src := srcs[1]
	late := testArticle(src, 90)
	late.Title = "Not in a story yet"
	late.Published = testNow.Add(-10 * time.Second)
	saveArticles(t, st, src, []news.Article{late})
	h := srv.Handler()

	recs, err := st.Articles(t.Context(), store.ArticleQuery{SourceID: src.ID})
	if err != nil {
		t.Fatal(err)
	}
	clustered := 0
	for _, f := range feedFormats {
		path := fmt.Sprintf("/sources/%d/feed.%s", src.ID, f.ext)
		t.Run(path, func(t *testing.T) {
			w := get(t, h, path)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d", path, w.Code)
			}
			body := w.Body.Bytes()
			if bytes.Contains(bytes.ToLower(body), []byte("javascript:")) {
				t.Errorf("%s carries a javascript: URL", path)
			}
			feed := f.parse(t, body)
			self, page := fmt.Sprintf("%s/sources/%d/feed.%s", testBaseURL, src.ID, f.ext), fmt.Sprintf("%s/sources/%d", testBaseURL, src.ID)
			if feed.Self != self || feed.Page != page || feed.Title != "Source 2 on Recap" {
				t.Errorf("self %q, page %q, title %q; want %q, %q, %q", feed.Self, feed.Page, feed.Title, self, page, "Source 2 on Recap")
			}
			if len(feed.Entries) != len(recs) {
				t.Fatalf("%d items, want %d", len(feed.Entries), len(recs))
			}
			var newest time.Time
			for i, e := range feed.Entries {
				rec := recs[i]
				id := fmt.Sprintf("%s/articles/%d", testBaseURL, rec.ID)
				link := id
				if rec.StoryID != 0 {
					link = fmt.Sprintf("%s/stories/%d", testBaseURL, rec.StoryID)
					clustered++
				}
				if e.ID != id || e.Link != link {
					t.Errorf("item %d: id %q, link %q; want %q and %q", i, e.ID, e.Link, id, link)
				}
				if e.Title != withoutControls(rec.Title) {
					t.Errorf("item %d: title %q, want %q", i, e.Title, withoutControls(rec.Title))
				}
				if !e.Published.Equal(rec.Published.Truncate(time.Second)) {
					t.Errorf("item %d: published %v, want %v", i, e.Published, rec.Published)
				}
				updated := rec.Published
				if rec.Updated.After(updated) {
					updated = rec.Updated
				}
				if f.ext != "xml" && !e.Updated.Equal(updated.Truncate(time.Second)) {
					t.Errorf("item %d: updated %v, want %v", i, e.Updated, updated)
				}
				if updated.After(newest) {
					newest = updated
				}
				if e.Source != rec.Source {
					t.Errorf("item %d: source %q, want %q", i, e.Source, rec.Source)
				}
				checkContent(t, f.ext, e, rec)
			}
			if !feed.Updated.Equal(newest.Truncate(time.Second)) {
				t.Errorf("feed updated %v, want the newest item's %v", feed.Updated, newest)
			}
		})
	}
	if clustered != len(feedFormats)*(len(recs)-1) {
		t.Errorf("%d items linked to stories, want all but the unclustered one in each feed", clustered)
	}
}

// checkContent checks an item's summary and HTML content: the summary
// escaped, and a link to the original only when it is a web link. A story's
// coverage, after the article's part, is checkCoverage's.
func checkContent(t *testing.T, ext string, e feedEntry, rec store.ArticleRecord) {
	t.Helper()
	if i := strings.Index(e.Content, "<p>Coverage, "); i >= 0 {
		e.Content = e.Content[:i]
	}
	summary := withoutControls(rec.Summary)
	if ext == "xml" {
		// RSS descriptions are HTML: the plain summary arrives escaped once.
		summary = escapeHTMLText(summary)
	}
	if e.Summary != summary {
		t.Errorf("item %d: summary %q, want %q", rec.ID, e.Summary, summary)
	}
	if !strings.Contains(e.Content, "<p>"+escapeHTMLText(withoutControls(rec.Summary))+"</p>") {
		t.Errorf("item %d: content %q lacks the escaped summary", rec.ID, e.Content)
	}
	link := `<a href="` + rec.URL + `">Read at ` + escapeHTMLText(rec.Source) + `</a>`
	if webLink(rec.URL) != "" && !strings.Contains(e.Content, link) {
		t.Errorf("item %d: content %q lacks %s", rec.ID, e.Content, link)
	}
	if webLink(rec.URL) == "" && strings.Contains(e.Content, "<a ") {
		t.Errorf("item %d: content %q links a URL that is not a web link", rec.ID, e.Content)
	}
	if strings.Contains(e.Content, "<b>") || strings.Contains(e.Content, "<script") {
		t.Errorf("item %d: content %q carries markup from the summary", rec.ID, e.Content)
	}
}

// escapeHTMLText is html/template's escaping of text, spelled out so the
// test does not check the code with itself.
func escapeHTMLText(s string) string {
	return strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;", `'`, "&#39;", "\x00", "\uFFFD").Replace(s)
}

// TestFeedIDsStayStable: an item keeps its id when the feed is rendered
// again, when newer stories push it down, and when a story gains a member;
// a source's item keeps its id when its article joins a story.
func TestFeedIDsStayStable(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := fillStore(t, st, 2, 5)
	clusterRest(t, st)
	h := srv.Handler()
	for n, f := range feedFormats {
		idsByTitle := func(path string) map[string]string {
			w := get(t, h, path)
			out := map[string]string{}
			for _, e := range f.parse(t, w.Body.Bytes()).Entries {
				out[e.Title] = e.ID
			}
			return out
		}
		before := idsByTitle("/feed." + f.ext)
		// Another server over the same store renders from scratch.
		again, err := New(srv.cfg)
		if err != nil {
			t.Fatal(err)
		}
		w := get(t, again.Handler(), "/feed."+f.ext)
		for _, e := range f.parse(t, w.Body.Bytes()).Entries {
			if before[e.Title] != e.ID {
				t.Errorf("%s: %q has id %q in one render, %q in another", f.name, e.Title, before[e.Title], e.ID)
			}
		}
		// A newer story, and a new article joining the oldest story: it
		// moves to the top under the same id.
		newer := testArticle(srcs[0], 100+n)
		newer.Title = "A newer article in " + f.name
		newer.Published, newer.Collected = testNow, testNow
		follow := testArticle(srcs[1], 200+n)
		follow.Title = "A follow-up in " + f.name
		follow.Published, follow.Collected = testNow.Add(-time.Second), testNow
		saveArticles(t, st, srcs[0], []news.Article{newer})
		saveArticles(t, st, srcs[1], []news.Article{follow})
		oldest, err := st.Stories(t.Context(), store.StoryQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		old, err := st.Story(t.Context(), oldest[len(oldest)-1].ID) // with its members
		if err != nil {
			t.Fatal(err)
		}
		saveStories(t, st, testStory{members: append(slices.Clone(old.Articles), articleIDs(t, st)[follow.Title])})
		clusterRest(t, st)
		after := idsByTitle("/feed." + f.ext)
		if _, ok := after[newer.Title]; !ok {
			t.Fatalf("%s: the new story is missing", f.name)
		}
		if got, want := after[old.Title], fmt.Sprintf("%s/stories/%d", testBaseURL, old.ID); got != want {
			t.Errorf("%s: the story that gained a member has id %q, want %q", f.name, got, want)
		}
		for title, id := range before {
			if after[title] != "" && after[title] != id {
				t.Errorf("%s: %q changed id from %q to %q", f.name, title, id, after[title])
			}
		}
	}

	// A source's feed: the item of an article keeps its id when the
	// article joins a story; only its link moves to the story.
	src := srcs[0]
	lone := testArticle(src, 300)
	lone.Title = "Waits for the story stage"
	lone.Published = testNow
	saveArticles(t, st, src, []news.Article{lone})
	path := fmt.Sprintf("/sources/%d/feed.xml", src.ID)
	find := func() feedEntry {
		for _, e := range parseRSS(t, get(t, h, path).Body.Bytes()).Entries {
			if e.Title == lone.Title {
				return e
			}
		}
		t.Fatalf("%s lacks %q", path, lone.Title)
		return feedEntry{}
	}
	before := find()
	clusterRest(t, st)
	after := find()
	id := articleIDs(t, st)[lone.Title]
	if before.ID != after.ID || after.ID != fmt.Sprintf("%s/articles/%d", testBaseURL, id) {
		t.Errorf("the item's id went from %q to %q when clustered, want %s/articles/%d throughout", before.ID, after.ID, testBaseURL, id)
	}
	if before.Link != before.ID || after.Link != fmt.Sprintf("%s/stories/%d", testBaseURL, id) {
		t.Errorf("the item's link went from %q to %q, want its page, then its story's", before.Link, after.Link)
	}
}

func TestFeedsOfAnEmptyStoreAreValid(t *testing.T) {
	srv, st := newTestServer(t, nil)
	src := addTestSource(t, st, "Quiet source", "https://quiet.example.com/feed.xml")
	h := srv.Handler()
	for _, f := range feedFormats {
		for _, path := range []string{"/feed." + f.ext, fmt.Sprintf("/sources/%d/feed.%s", src.ID, f.ext)} {
			w := get(t, h, path)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d: %s", path, w.Code, w.Body)
			}
			feed := f.parse(t, w.Body.Bytes())
			if len(feed.Entries) != 0 {
				t.Errorf("%s: %d items, want none", path, len(feed.Entries))
			}
			if feed.Self != testBaseURL+path {
				t.Errorf("%s: self %q", path, feed.Self)
			}
			if f.ext != "json" && (feed.Updated.IsZero() || feed.Updated.Year() < 2000) {
				t.Errorf("%s: updated %v, want the store's or the source's time", path, feed.Updated)
			}
		}
	}
}

func TestSourcesOPMLListsEverySource(t *testing.T) {
	srv, st := newTestServer(t, func(c *Config) { c.WriteOPML = feedTestOPML })
	srcs := fillStore(t, st, 3, 1)
	w := get(t, srv.Handler(), "/sources.opml")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /sources.opml = %d: %s", w.Code, w.Body)
	}
	var doc struct {
		Title    string `xml:"head>title"`
		Outlines []struct {
			Text   string `xml:"text,attr"`
			XMLURL string `xml:"xmlUrl,attr"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("OPML does not parse: %v", err)
	}
	if doc.Title != "Recap sources" || len(doc.Outlines) != len(srcs) {
		t.Fatalf("OPML title %q with %d outlines, want %q with %d", doc.Title, len(doc.Outlines), "Recap sources", len(srcs))
	}
	for i, o := range doc.Outlines {
		if o.Text != srcs[i].Title || o.XMLURL != srcs[i].URL {
			t.Errorf("outline %d = %+v, want %q %q", i, o, srcs[i].Title, srcs[i].URL)
		}
	}
}

func TestXMLTextDropsWhatXMLCannotCarry(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"", ""},
		{"tab\tnew\nline\rend", "tab\tnew\nline\rend"},
		{"ctl \x01\x08\x0b\x0c\x1f here", "ctl  here"},
		{"nul \x00 byte", "nul  byte"},
		{"del \x7f and C1 \u0085\u009f", "del  and C1 "},
		{"non-characters \uFFFE\uFFFF", "non-characters "},
		{"bad UTF-8 \xff\xfe here", "bad UTF-8  here"},
		{"a real \uFFFD stays", "a real \uFFFD stays"},
		{"ünïcödé — 🚀 \U0010FFFD", "ünïcödé — 🚀 \U0010FFFD"},
		{`AT&T <b>bold</b> "q" 'a'`, `AT&T <b>bold</b> "q" 'a'`}, // escaping is encoding/xml's job
	}
	for _, tt := range tests {
		if got := xmlText(tt.in); got != tt.want {
			t.Errorf("xmlText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFeedDates checks the two layouts against the examples of their specs.
func TestFeedDates(t *testing.T) {
	tm := time.Date(2026, 4, 1, 9, 5, 3, 999_000_000, time.FixedZone("CEST", 2*3600))
	if got, want := rssDate(tm), "Wed, 01 Apr 2026 07:05:03 +0000"; got != want {
		t.Errorf("rssDate = %q, want %q", got, want)
	}
	if got, want := atomDate(tm), "2026-04-01T07:05:03Z"; got != want {
		t.Errorf("atomDate = %q, want %q", got, want)
	}
	if got := rssDate(time.Date(999, 1, 2, 0, 0, 0, 0, time.UTC)); !slices.Contains(strings.Fields(got), "0999") {
		t.Errorf("rssDate of year 999 = %q, want a four-digit year", got)
	}
}
