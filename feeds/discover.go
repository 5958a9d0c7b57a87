package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Discovery limits. A person pasting a site's address expects an answer in
// seconds, and a hostile page must not turn one request into many.
const (
	// discoverMaxRequests counts every fetch discovery makes, the given URL
	// included (redirects followed within one fetch count as one).
	discoverMaxRequests = 5
	// discoverMaxLinks bounds the feed links kept from one page.
	discoverMaxLinks = 20
	// discoverParseTimeout bounds parsing one candidate.
	discoverParseTimeout = 20 * time.Second
)

// discoverCommonPaths are where sites that link no feed usually keep one,
// tried from the site's root once the page's own links are used up.
var discoverCommonPaths = []string{"/feed", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml"}

// Errors Discover returns, to be matched with errors.Is.
var (
	// ErrNoFeed: the URL could be fetched (or not), but no feed was found
	// there. The error's message says why, for people.
	ErrNoFeed = errors.New("no feed found")
	// ErrInvalidURL: the URL is not an absolute http(s) URL; nothing was fetched.
	ErrInvalidURL = errors.New("invalid URL")
)

// Discovery is the feed found for a URL.
type Discovery struct {
	FeedURL string // the feed to poll
	Title   string // the feed's own title; may be empty
	// Page is the URL the feed was found from (a page that links it, or
	// whose site keeps it at a common path); "" when the URL was the feed.
	Page string
}

// discoverError says why no feed was found at a URL; it matches ErrNoFeed
// and whatever caused it (ErrPrivateNetwork, a *StatusError...).
type discoverError struct {
	url, reason string
	cause       error
}

func (e *discoverError) Error() string { return "no feed found at " + e.url + ": " + e.reason }

func (e *discoverError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrNoFeed}
	}
	return []error{ErrNoFeed, e.cause}
}

// Discover finds the feed at rawURL with the poller's fetcher, so discovery
// obeys the same limits and address checks as polling.
func (p *Poller) Discover(ctx context.Context, rawURL string) (Discovery, error) {
	return p.cfg.Fetcher.Discover(ctx, rawURL)
}

// Discover finds the feed a person means by rawURL: the URL itself when it
// is a feed; else, when it is a web page, the first feed it links with
// <link rel="alternate"> that really is a feed (RSS and Atom before JSON
// Feed, comment feeds last); else the first of the common feed paths on the
// same site that is one. It makes at most discoverMaxRequests fetches.
func (f *Fetcher) Discover(ctx context.Context, rawURL string) (Discovery, error) {
	u, err := discoverCheckURL(rawURL)
	if err != nil {
		return Discovery{}, err
	}
	d := &discoverer{f: f, left: discoverMaxRequests, tried: map[string]bool{}}
	given := u.String()
	resp, pf, ferr, perr := d.try(ctx, given)
	if ferr != nil {
		return Discovery{}, &discoverError{url: given, reason: d.reason(given, ferr), cause: ferr}
	}
	if perr == nil {
		return Discovery{FeedURL: discoverFeedURL(given, resp), Title: pf.Feed.Title}, nil
	}

	page, err := url.Parse(resp.FinalURL)
	if err != nil || page.Host == "" {
		page = u
	}
	isPage := discoverIsHTML(resp)
	var links []string
	if isPage {
		links = discoverLinks(resp.Body, page)
	}
	var firstFail string
	var firstErr error
	for _, link := range links {
		if d.left == 0 || ctx.Err() != nil {
			break
		}
		if d.tried[link] {
			continue
		}
		resp, pf, ferr, perr := d.try(ctx, link)
		if ferr == nil && perr == nil {
			return Discovery{FeedURL: discoverFeedURL(link, resp), Title: pf.Feed.Title, Page: given}, nil
		}
		if firstErr == nil {
			firstErr = errors.Join(ferr, perr)
			firstFail = link + ": " + d.reason(link, firstErr)
		}
	}
	var commonTried []string
	for _, p := range discoverCommonPaths {
		if d.left == 0 || ctx.Err() != nil {
			break
		}
		cand := (&url.URL{Scheme: page.Scheme, Host: page.Host, Path: p}).String()
		if d.tried[cand] {
			continue
		}
		resp, pf, ferr, perr := d.try(ctx, cand)
		if ferr == nil && perr == nil {
			return Discovery{FeedURL: discoverFeedURL(cand, resp), Title: pf.Feed.Title, Page: given}, nil
		}
		commonTried = append(commonTried, p)
	}

	var reason string
	switch {
	case !isPage:
		reason = "it is neither a feed nor a web page (" + d.reason(given, perr) + ")"
	case len(links) == 0:
		reason = "the page links no feed"
	case firstErr != nil:
		reason = fmt.Sprintf("the page links %d feeds but none could be read (first, %s)", len(links), firstFail)
	default:
		reason = "the page links no feed that could be fetched"
	}
	if len(commonTried) > 0 {
		reason += ", and none of " + strings.Join(commonTried, ", ") + " on its site is a feed"
	}
	if err := ctx.Err(); err != nil {
		reason += " (stopped: " + err.Error() + ")"
	}
	cause := perr
	if firstErr != nil {
		cause = firstErr
	}
	return Discovery{}, &discoverError{url: given, reason: reason, cause: cause}
}

// discoverer counts the fetches of one discovery.
type discoverer struct {
	f     *Fetcher
	left  int
	tried map[string]bool
}

// try fetches one URL and parses it as a feed: ferr when the fetch failed,
// perr when what came back is not a feed.
func (d *discoverer) try(ctx context.Context, u string) (resp *FetchResponse, pf *ParsedFeed, ferr, perr error) {
	d.left--
	d.tried[u] = true
	resp, ferr = d.f.Fetch(ctx, FetchRequest{URL: u})
	if ferr != nil {
		return resp, nil, ferr, nil
	}
	pctx, cancel := context.WithTimeout(ctx, discoverParseTimeout)
	defer cancel()
	pf, perr = Parse(pctx, resp.Body, resp.ContentType, 0)
	return resp, pf, nil, perr
}

// reason is err as a person reads it after the URL: the fetch and parse
// prefixes only repeat what the message already says.
func (d *discoverer) reason(u string, err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	s = strings.TrimPrefix(s, "fetch "+u+": ")
	return s
}

// discoverCheckURL accepts an absolute http(s) URL with a host.
func discoverCheckURL(rawURL string) (*url.URL, error) {
	s := strings.TrimSpace(rawURL)
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalidURL, s, strings.TrimPrefix(err.Error(), `parse "`+s+`": `))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %q is not an http:// or https:// URL", ErrInvalidURL, s)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %q has no host", ErrInvalidURL, s)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// discoverFeedURL is the URL to store for a feed fetched at u: the target of
// permanent redirects, else u itself (a temporary redirect may change).
func discoverFeedURL(u string, resp *FetchResponse) string {
	if resp != nil && resp.PermanentURL != "" {
		return resp.PermanentURL
	}
	return u
}

// discoverIsHTML reports whether a response is a web page, by its declared
// type or, when the server declares none or a generic one, by its bytes.
func discoverIsHTML(resp *FetchResponse) bool {
	if mt, _, err := mime.ParseMediaType(resp.ContentType); err == nil {
		switch mt {
		case "text/html", "application/xhtml+xml":
			return true
		case "", "text/plain", "application/octet-stream":
		default:
			return false
		}
	}
	return strings.HasPrefix(http.DetectContentType(resp.Body), "text/html")
}

// discoverLinks returns the feeds a page links with <link rel="alternate">,
// as absolute http(s) URLs resolved against the page (or its <base href>),
// without duplicates: RSS and Atom first, then JSON Feed, comment feeds
// last, each group in document order.
func discoverLinks(body []byte, page *url.URL) []string {
	const (
		xmlFeed = iota
		jsonFeed
		commentFeed
		groups
	)
	var found [groups][]string
	seen := map[string]bool{}
	base := page
	sawBase := false
	count := 0
	z := html.NewTokenizer(bytes.NewReader(body))
	for count < discoverMaxLinks {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		tag := string(name)
		if (tag != "link" && tag != "base") || !hasAttr {
			continue
		}
		attrs := map[string]string{}
		for {
			k, v, more := z.TagAttr()
			key := string(k)
			if _, dup := attrs[key]; !dup { // the first of a repeated attribute counts, as in browsers
				attrs[key] = string(v)
			}
			if !more {
				break
			}
		}
		if tag == "base" {
			// Only the first <base href> counts.
			if href, ok := attrs["href"]; ok && !sawBase {
				sawBase = true
				if b := discoverResolve(page, href); b != nil {
					base = b
				}
			}
			continue
		}
		if !discoverHasToken(attrs["rel"], "alternate") {
			continue
		}
		group := -1
		mt, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(attrs["type"])), ";")
		switch strings.TrimSpace(mt) {
		case "application/rss+xml", "application/atom+xml", "application/rdf+xml":
			group = xmlFeed
		case "application/feed+json", "application/json":
			group = jsonFeed
		}
		if group < 0 {
			continue
		}
		abs := discoverResolve(base, attrs["href"])
		if abs == nil {
			continue
		}
		link := abs.String()
		if seen[link] {
			continue
		}
		seen[link] = true
		if strings.Contains(strings.ToLower(attrs["title"]+" "+abs.Path), "comment") {
			group = commentFeed
		}
		found[group] = append(found[group], link)
		count++
	}
	var out []string
	for _, g := range found {
		out = append(out, g...)
	}
	return out
}

// discoverResolve resolves href against base and keeps it only when the
// result is an http(s) URL with a host: javascript:, data: and the like are
// dropped.
func discoverResolve(base *url.URL, href string) *url.URL {
	href = strings.TrimSpace(href)
	if href == "" {
		return nil
	}
	ref, err := url.Parse(href)
	if err != nil {
		return nil
	}
	abs := base.ResolveReference(ref)
	if (abs.Scheme != "http" && abs.Scheme != "https") || abs.Hostname() == "" {
		return nil
	}
	abs.Fragment, abs.RawFragment = "", ""
	return abs
}

// discoverHasToken reports whether a space-separated attribute (rel) holds
// tok, in any case.
func discoverHasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}
