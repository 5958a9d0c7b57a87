package feeds

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"

	"recap/news"
)

// Field caps. Titles, summaries, authors and categories count characters
// (runes); content, text and URLs count bytes.
const (
	normMaxTitle        = 1000
	normMaxSummary      = 2000
	normMaxContent      = 200 << 10
	normMaxText         = 100 << 10
	normMaxAuthor       = 200
	normMaxURL          = news.MaxURLLength
	normMaxCategories   = 20
	normMaxCategory     = 100
	normMaxCategoryScan = 200 // categories looked at per item, kept or not
	// An item may be dated up to a day ahead of the moment it was collected
	// (time zones, clock skew); anything later is a wrong date.
	normMaxAhead = 24 * time.Hour
)

// normMinUnix (1990-01-01): an item date before it is junk (the epoch, year
// 1, a 0000-00-00 read leniently); no web feed predates the web.
const normMinUnix = 631152000

// ErrEmptyItem: an item with no title, no usable link and no content, which
// nothing could show or identify.
var ErrEmptyItem = errors.New("no title, link or content")

// Normalizer turns gofeed items into Recap articles. It holds the sanitizer
// policy, built once; it is safe for concurrent use.
type Normalizer struct {
	policy *bluemonday.Policy
}

// NewNormalizer builds a Normalizer.
func NewNormalizer() *Normalizer {
	return &Normalizer{policy: newNormPolicy()}
}

// Feed normalizes every item of pf. Relative links resolve against the feed's
// own link (its site), else feedURL. An item that cannot be normalized is
// skipped and reported in errs; it never fails the others.
func (n *Normalizer) Feed(pf *ParsedFeed, feedURL string, collected time.Time) (arts []news.Article, errs []error) {
	if pf == nil || pf.Feed == nil {
		return nil, []error{errors.New("normalize: no feed")}
	}
	base := normFeedBase(feedURL, pf.Feed.Link)
	arts = make([]news.Article, 0, len(pf.Feed.Items))
	for i, it := range pf.Feed.Items {
		a, err := n.Item(it, base, collected)
		if err != nil {
			errs = append(errs, fmt.Errorf("item %d: %w", i+1, err))
			continue
		}
		arts = append(arts, a)
	}
	return arts, errs
}

// Item normalizes one item: see the field rules on news.Article. base (may be
// nil) resolves relative links; collected is when the item was fetched.
func (n *Normalizer) Item(it *gofeed.Item, base *url.URL, collected time.Time) (news.Article, error) {
	if it == nil {
		return news.Article{}, errors.New("normalize: nil item")
	}
	guid := normCutBytes(strings.TrimSpace(it.GUID), normMaxURL)
	link := strings.TrimSpace(it.Link)
	for i := 0; link == "" && i < len(it.Links); i++ {
		link = strings.TrimSpace(it.Links[i])
	}
	link = normCutBytes(link, normMaxURL)
	target := link
	if target == "" && normIsHTTP(guid) {
		// An RSS guid is a permalink unless it says otherwise, and one
		// that looks like a URL is one in practice.
		target = guid
	}
	canon := ""
	if target != "" {
		if c, err := news.CanonicalURL(target, base); err == nil {
			canon = c
		}
	}

	title := normCutRunes(normPlain(it.Title, 4*normMaxTitle, false), normMaxTitle)

	body := it.Content
	if strings.TrimSpace(body) == "" {
		body = it.Description
	}
	contentHTML, text, contentImage := normSanitize(n.policy, body, base, normMaxContent, normMaxText)
	var summary string
	if body != it.Description && strings.TrimSpace(it.Description) != "" {
		summary = normPlain(it.Description, 4*normMaxSummary, false)
	} else {
		summary = strings.ReplaceAll(normCutBytes(text, 4*normMaxSummary), "\n", " ")
	}
	summary = normCutWords(summary, normMaxSummary)

	// Markup without text or a picture ("<p> </p>") is no content.
	if title == "" && canon == "" && text == "" && contentImage == "" {
		return news.Article{}, ErrEmptyItem
	}

	itemDate := normDate(it.PublishedParsed)
	updated := normDate(it.UpdatedParsed)
	published := itemDate
	if published.IsZero() {
		published = updated
	}
	if published.IsZero() {
		published = collected
	}
	limit := collected.Add(normMaxAhead)
	if published.After(limit) {
		published = limit
	}
	if updated.After(limit) {
		updated = limit
	}

	// The key must not change between fetches, so it takes the item's own
	// date, never the collection time; an untitled item is told apart by its
	// text rather than sharing the key of every other untitled one.
	keyTitle := title
	if keyTitle == "" {
		keyTitle = normCutRunes(summary, 200)
	}

	image := normItemImage(it, base)
	if image == "" {
		image = contentImage
	}

	return news.Article{
		ItemKey:     news.ItemKey(guid, canon, keyTitle, itemDate),
		GUID:        guid,
		Link:        link,
		URL:         canon,
		Title:       title,
		Summary:     summary,
		ContentHTML: contentHTML,
		Text:        text,
		Author:      normAuthor(it),
		Categories:  normCategories(it.Categories),
		ImageURL:    image,
		Published:   published,
		Updated:     updated,
		Collected:   collected,
	}, nil
}

// normFeedBase returns the URL relative item links resolve against: the
// feed's site link when it is (or resolves to) an http(s) URL, else the feed's
// own URL; nil when neither is absolute.
func normFeedBase(feedURL, siteLink string) *url.URL {
	fu, err := url.Parse(strings.TrimSpace(feedURL))
	if err != nil || !fu.IsAbs() {
		fu = nil
	}
	if l := strings.TrimSpace(siteLink); l != "" {
		if u, err := url.Parse(l); err == nil {
			if !u.IsAbs() && fu != nil {
				u = fu.ResolveReference(u)
			}
			if (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
				return u
			}
		}
	}
	return fu
}

// normDate returns t in UTC, or zero when it is missing or junk.
func normDate(t *time.Time) time.Time {
	if t == nil || t.Unix() < normMinUnix {
		return time.Time{}
	}
	return t.UTC()
}

func normAuthor(it *gofeed.Item) string {
	p := it.Author
	for _, a := range it.Authors {
		if a != nil {
			p = a
			break
		}
	}
	if p == nil {
		return ""
	}
	s := p.Name
	if strings.TrimSpace(s) == "" {
		s = p.Email
	}
	return normCutRunes(normPlain(s, 4*normMaxAuthor, false), normMaxAuthor)
}

// normCategories returns the item's categories as plain text, trimmed,
// without duplicates (ignoring case), at most normMaxCategories of at most
// normMaxCategory characters.
func normCategories(cats []string) []string {
	var out []string
	for i, c := range cats {
		if i == normMaxCategoryScan || len(out) == normMaxCategories {
			break
		}
		c = normCutRunes(normPlain(c, 4*normMaxCategory, false), normMaxCategory)
		if c == "" {
			continue
		}
		dup := false
		for _, o := range out {
			if strings.EqualFold(o, c) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// normItemImage returns the item's declared picture: its image, an image
// enclosure, or a Media RSS thumbnail or image; absolute http(s) only.
func normItemImage(it *gofeed.Item, base *url.URL) string {
	if it.Image != nil {
		if u, ok := normAbsURL(it.Image.URL, base, false); ok {
			return u
		}
	}
	for _, e := range it.Enclosures {
		if e != nil && strings.HasPrefix(strings.ToLower(e.Type), "image/") {
			if u, ok := normAbsURL(e.URL, base, false); ok {
				return u
			}
		}
	}
	media := it.Extensions["media"]
	if media == nil {
		return ""
	}
	if u := normMediaImage(media, base); u != "" {
		return u
	}
	for _, g := range media["group"] {
		if u := normMediaImage(g.Children, base); u != "" {
			return u
		}
	}
	return ""
}

func normMediaImage(m map[string][]ext.Extension, base *url.URL) string {
	for _, t := range m["thumbnail"] {
		if u, ok := normAbsURL(t.Attrs["url"], base, false); ok {
			return u
		}
	}
	for _, c := range m["content"] {
		if c.Attrs["medium"] == "image" || strings.HasPrefix(strings.ToLower(c.Attrs["type"]), "image/") {
			if u, ok := normAbsURL(c.Attrs["url"], base, false); ok {
				return u
			}
		}
	}
	return ""
}

func normIsHTTP(s string) bool {
	return len(s) > 8 && (strings.EqualFold(s[:7], "http://") || strings.EqualFold(s[:8], "https://"))
}

// normCutBytes returns s cut to at most n bytes, on a rune boundary.
func normCutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// normCutRunes returns s cut to at most n runes.
func normCutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// normCutWords returns s cut to at most n runes, at a word boundary when one
// is near, with "…" marking the cut.
func normCutWords(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := normCutRunes(s, n-1)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)*3/4 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:-") + "…"
}
