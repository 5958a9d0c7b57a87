package feeds

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

const (
	discoverRSS  = `<?xml version="1.0"?><rss version="2.0"><channel><title>The RSS feed</title><link>https://site.example/</link><item><title>One</title><link>https://site.example/1</link></item></channel></rss>`
	discoverAtom = `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>The Atom feed</title><id>urn:x</id><updated>2026-03-02T10:00:00Z</updated><entry><id>urn:x:1</id><title>One</title><updated>2026-03-02T10:00:00Z</updated></entry></feed>`
	discoverJSON = `{"version": "https://jsonfeed.org/version/1.1", "title": "The JSON feed", "items": [{"id": "1", "title": "One"}]}`
)

// discoverFile is one URL of a test site.
type discoverFile struct {
	ctype, body string
	redirect    string // a path to redirect to, with status 301
}

func discoverPage(head string) discoverFile {
	return discoverFile{ctype: "text/html; charset=utf-8", body: "<!DOCTYPE html><html><head><title>Blog</title>" + head + "</head><body><p>Posts</p></body></html>"}
}

// discoverSite serves files by path (404 otherwise) and records every
// request it gets.
type discoverSite struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
}

func newDiscoverSite(t *testing.T, files map[string]discoverFile) *discoverSite {
	s := &discoverSite{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits = append(s.hits, r.URL.RequestURI())
		s.mu.Unlock()
		f, ok := files[r.URL.RequestURI()]
		switch {
		case !ok:
			http.NotFound(w, r)
		case f.redirect != "":
			http.Redirect(w, r, f.redirect, http.StatusMovedPermanently)
		default:
			if f.ctype != "" {
				w.Header().Set("Content-Type", f.ctype)
			}
			fmt.Fprint(w, f.body)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *discoverSite) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.hits...)
}

func TestDiscover(t *testing.T) {
	xml := func(body string) discoverFile { return discoverFile{ctype: "application/xml", body: body} }
	tests := []struct {
		name     string
		files    map[string]discoverFile
		start    string // path given to Discover
		feed     string // path of the feed found; "" when none
		title    string
		fromPage bool
		err      string // part of the error when no feed is found
		hits     []string
	}{
		{
			name:  "the URL is an RSS feed",
			files: map[string]discoverFile{"/feed.xml": {ctype: "application/rss+xml", body: discoverRSS}},
			start: "/feed.xml", feed: "/feed.xml", title: "The RSS feed",
			hits: []string{"/feed.xml"},
		},
		{
			name:  "the URL is a JSON feed",
			files: map[string]discoverFile{"/feed.json": {ctype: "application/feed+json", body: discoverJSON}},
			start: "/feed.json", feed: "/feed.json", title: "The JSON feed",
			hits: []string{"/feed.json"},
		},
		{
			name: "a page links its feed with a relative href",
			files: map[string]discoverFile{
				"/blog":          discoverPage(`<link rel="alternate" type="application/rss+xml" title="RSS" href="posts/rss.xml">`),
				"/posts/rss.xml": xml(discoverRSS),
			},
			start: "/blog", feed: "/posts/rss.xml", title: "The RSS feed", fromPage: true,
			hits: []string{"/blog", "/posts/rss.xml"},
		},
		{
			name: "Atom is preferred to JSON Feed listed first",
			files: map[string]discoverFile{
				"/": discoverPage(`<link rel="alternate" type="application/feed+json" href="/feed.json">` +
					`<link rel="alternate" type="application/atom+xml" href="/feed.atom">`),
				"/feed.json": {ctype: "application/feed+json", body: discoverJSON},
				"/feed.atom": xml(discoverAtom),
			},
			start: "/", feed: "/feed.atom", title: "The Atom feed", fromPage: true,
			hits: []string{"/", "/feed.atom"},
		},
		{
			name: "JSON Feed when it is the only one linked",
			files: map[string]discoverFile{
				"/":          discoverPage(`<link rel="alternate" type="application/json" href="/feed.json">`),
				"/feed.json": {ctype: "application/json", body: discoverJSON},
			},
			start: "/", feed: "/feed.json", title: "The JSON feed", fromPage: true,
			hits: []string{"/", "/feed.json"},
		},
		{
			name: "javascript: and data: hrefs are never requested",
			files: map[string]discoverFile{
				"/": discoverPage(`<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">` +
					`<link rel="alternate" type="application/rss+xml" href="data:application/rss+xml,` + url.PathEscape(discoverRSS) + `">` +
					`<link rel="alternate" type="application/rss+xml" href="  ">` +
					`<link rel="ALTERNATE feed" type="Application/RSS+XML; charset=utf-8" href="/real.xml#top">`),
				"/real.xml": xml(discoverRSS),
			},
			start: "/", feed: "/real.xml", title: "The RSS feed", fromPage: true,
			hits: []string{"/", "/real.xml"},
		},
		{
			name: "links are resolved against <base href>",
			files: map[string]discoverFile{
				"/": discoverPage(`<base href="/blog/"><base href="/ignored/">` +
					`<link rel="alternate" type="application/atom+xml" href="feed.atom">`),
				"/blog/feed.atom": xml(discoverAtom),
			},
			start: "/", feed: "/blog/feed.atom", title: "The Atom feed", fromPage: true,
			hits: []string{"/", "/blog/feed.atom"},
		},
		{
			name: "links are resolved against the page after redirects",
			files: map[string]discoverFile{
				"/old":          {redirect: "/new/"},
				"/new/":         discoverPage(`<link rel="alternate" type="application/rss+xml" href="feed.xml">`),
				"/new/feed.xml": xml(discoverRSS),
			},
			start: "/old", feed: "/new/feed.xml", title: "The RSS feed", fromPage: true,
			hits: []string{"/old", "/new/", "/new/feed.xml"},
		},
		{
			name: "a permanently moved feed is stored at its new URL",
			files: map[string]discoverFile{
				"/rss":      {redirect: "/feed.xml"},
				"/feed.xml": xml(discoverRSS),
			},
			start: "/rss", feed: "/feed.xml", title: "The RSS feed",
			hits: []string{"/rss", "/feed.xml"},
		},
		{
			name: "a broken link is skipped for the next",
			files: map[string]discoverFile{
				"/": discoverPage(`<link rel="alternate" type="application/rss+xml" href="/gone.xml">` +
					`<link rel="alternate" type="application/rss+xml" href="/page.xml">` +
					`<link rel="alternate" type="application/atom+xml" href="/feed.atom">`),
				"/page.xml":  discoverPage(""),
				"/feed.atom": xml(discoverAtom),
			},
			start: "/", feed: "/feed.atom", title: "The Atom feed", fromPage: true,
			hits: []string{"/", "/gone.xml", "/page.xml", "/feed.atom"},
		},
		{
			name: "comment feeds come last",
			files: map[string]discoverFile{
				"/": discoverPage(`<link rel="alternate" type="application/rss+xml" title="Comments Feed" href="/comments/feed/">` +
					`<link rel="alternate" type="application/rss+xml" title="Feed" href="/feed/">`),
				"/comments/feed/": xml(discoverRSS),
				"/feed/":          xml(discoverAtom),
			},
			start: "/", feed: "/feed/", title: "The Atom feed", fromPage: true,
			hits: []string{"/", "/feed/"},
		},
		{
			name: "a page that links nothing: common paths",
			files: map[string]discoverFile{
				"/":         discoverPage(`<link rel="stylesheet" href="/style.css"><link rel="alternate" hreflang="fr" href="/fr/">`),
				"/feed.xml": xml(discoverRSS),
			},
			start: "/", feed: "/feed.xml", title: "The RSS feed", fromPage: true,
			hits: []string{"/", "/feed", "/rss.xml", "/feed.xml"},
		},
		{
			name: "common paths are tried from the site's root",
			files: map[string]discoverFile{
				"/deep/page.html": discoverPage(""),
				"/feed":           xml(discoverAtom),
			},
			start: "/deep/page.html", feed: "/feed", title: "The Atom feed", fromPage: true,
			hits: []string{"/deep/page.html", "/feed"},
		},
		{
			name:  "a page without a feed anywhere: at most 5 requests",
			files: map[string]discoverFile{"/": discoverPage("")},
			start: "/",
			err:   "/: the page links no feed, and none of /feed, /rss.xml, /feed.xml, /atom.xml on its site is a feed",
			hits:  []string{"/", "/feed", "/rss.xml", "/feed.xml", "/atom.xml"},
		},
		{
			name: "a page linking many broken feeds: at most 5 requests",
			files: map[string]discoverFile{"/": discoverPage(strings.Repeat(`<link rel="alternate" type="application/rss+xml" href="/x">`, 1) +
				`<link rel="alternate" type="application/rss+xml" href="/a"><link rel="alternate" type="application/rss+xml" href="/b">` +
				`<link rel="alternate" type="application/rss+xml" href="/c"><link rel="alternate" type="application/rss+xml" href="/d">` +
				`<link rel="alternate" type="application/rss+xml" href="/e"><link rel="alternate" type="application/rss+xml" href="/f">`)},
			start: "/",
			err:   "the page links 7 feeds but none could be read (first, ",
			hits:  []string{"/", "/x", "/a", "/b", "/c"},
		},
		{
			name:  "neither a feed nor a page",
			files: map[string]discoverFile{"/data": {ctype: "application/json", body: `{"hello": "world"}`}},
			start: "/data",
			err:   "it is neither a feed nor a web page (parse json: not a feed: JSON without a JSON Feed version or items), and none of /feed, /rss.xml, /feed.xml, /atom.xml",
			hits:  []string{"/data", "/feed", "/rss.xml", "/feed.xml", "/atom.xml"},
		},
		{
			name:  "the URL answers 404",
			files: map[string]discoverFile{},
			start: "/missing",
			err:   "/missing: HTTP 404 Not Found",
			hits:  []string{"/missing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newDiscoverSite(t, tt.files)
			f := newTestFetcher(FetcherConfig{})
			got, err := f.Discover(t.Context(), site.srv.URL+tt.start)
			if tt.feed == "" {
				if err == nil {
					t.Fatalf("Discover = %+v, want an error", got)
				}
				if !errors.Is(err, ErrNoFeed) {
					t.Errorf("error %v does not match ErrNoFeed", err)
				}
				want := "no feed found at " + site.srv.URL + tt.start + ": "
				if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %q\nwant it to start with %q and hold %q", err, want, tt.err)
				}
			} else {
				if err != nil {
					t.Fatalf("Discover: %v", err)
				}
				want := Discovery{FeedURL: site.srv.URL + tt.feed, Title: tt.title}
				if tt.fromPage {
					want.Page = site.srv.URL + tt.start
				}
				if got != want {
					t.Errorf("Discover = %+v\nwant       %+v", got, want)
				}
			}
			if hits := site.requests(); strings.Join(hits, " ") != strings.Join(tt.hits, " ") {
				t.Errorf("requests %q, want %q", hits, tt.hits)
			}
			if n := len(site.requests()); n > discoverMaxRequests+1 { // +1: a redirect is two requests to the server
				t.Errorf("%d requests, the limit is %d", n, discoverMaxRequests)
			}
		})
	}
}

func TestDiscoverRefusesBadURLs(t *testing.T) {
	f := newTestFetcher(FetcherConfig{})
	for _, u := range []string{"", "   ", "ftp://site.example/feed", "javascript:alert(1)", "/feed.xml", "site.example/feed", "http://", "http://[::1"} {
		_, err := f.Discover(t.Context(), u)
		if !errors.Is(err, ErrInvalidURL) {
			t.Errorf("Discover(%q) = %v, want ErrInvalidURL", u, err)
		}
	}
}

func TestDiscoverObeysTheAddressGuard(t *testing.T) {
	site := newDiscoverSite(t, map[string]discoverFile{"/feed.xml": {body: discoverRSS}})
	f := NewFetcher(FetcherConfig{}) // private networks refused, as in production
	_, err := f.Discover(t.Context(), site.srv.URL+"/feed.xml")
	if !errors.Is(err, ErrPrivateNetwork) || !errors.Is(err, ErrNoFeed) {
		t.Errorf("Discover on 127.0.0.1 = %v, want ErrNoFeed and ErrPrivateNetwork", err)
	}
	if hits := site.requests(); len(hits) != 0 {
		t.Errorf("the guarded fetcher reached the server: %q", hits)
	}
}

func TestDiscoverLinks(t *testing.T) {
	page, _ := url.Parse("https://site.example/blog/post?x=1")
	var many strings.Builder
	for i := range 50 {
		fmt.Fprintf(&many, `<link rel="alternate" type="application/rss+xml" href="/f%d">`, i)
	}
	tests := []struct {
		name, html string
		want       []string
	}{
		{"none", `<html><head></head></html>`, nil},
		{"not alternate", `<link rel="stylesheet" type="application/rss+xml" href="/a">`, nil},
		{"other type", `<link rel="alternate" type="text/html" href="/a">`, nil},
		{"no type", `<link rel="alternate" href="/a">`, nil},
		{"absolute", `<link rel="alternate" type="application/rss+xml" href="https://other.example/feed">`, []string{"https://other.example/feed"}},
		{"protocol-relative", `<link rel="alternate" type="application/rss+xml" href="//cdn.example/feed">`, []string{"https://cdn.example/feed"}},
		{"relative to the path", `<link rel="alternate" type="application/atom+xml" href="atom">`, []string{"https://site.example/blog/atom"}},
		{"duplicates once", `<link rel="alternate" type="application/rss+xml" href="/a"><link rel="alternate" type="application/atom+xml" href="https://site.example/a">`, []string{"https://site.example/a"}},
		{"in the body too", `<body><link rel="alternate" type="application/rss+xml" href="/a"></body>`, []string{"https://site.example/a"}},
		{"first of a repeated attribute", `<link rel="alternate" type="application/rss+xml" href="/a" href="/b">`, []string{"https://site.example/a"}},
		{"vbscript and mailto dropped", `<link rel="alternate" type="application/rss+xml" href="vbscript:x"><link rel="alternate" type="application/rss+xml" href="mailto:a@b">`, nil},
		{"entities decoded", `<link rel="alternate" type="application/rss+xml" href="/feed?a=1&amp;b=2">`, []string{"https://site.example/feed?a=1&b=2"}},
		{"bounded", many.String(), nil}, // checked by length below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := discoverLinks([]byte(tt.html), page)
			if tt.name == "bounded" {
				if len(got) != discoverMaxLinks {
					t.Errorf("%d links kept, want %d", len(got), discoverMaxLinks)
				}
				return
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("discoverLinks = %q, want %q", got, tt.want)
			}
		})
	}
}
