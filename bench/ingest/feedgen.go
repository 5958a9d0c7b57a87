package main

import (
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"recap/internal/newsdata"
	"recap/news"
)

// dataItem is one real news item with what the generator derives from it.
type dataItem struct {
	newsdata.Item
	canonical string // news.CanonicalURL(Link); "" when it has none
	pub       time.Time
}

// loadItems reads the real AI news items.
func loadItems(path string) ([]dataItem, error) {
	raw, err := newsdata.Load(path)
	if err != nil {
		return nil, err
	}
	return derive(raw), nil
}

// readItems reads items from r (the tests' fixtures).
func readItems(r io.Reader) ([]dataItem, error) {
	raw, err := newsdata.Read(r)
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	return derive(raw), nil
}

func derive(raw []newsdata.Item) []dataItem {
	items := make([]dataItem, len(raw))
	for i, it := range raw {
		items[i].Item = it
		if c, err := news.CanonicalURL(it.Link, nil); err == nil {
			items[i].canonical = c
		}
		items[i].pub, _ = it.PublishedTime()
	}
	return items
}

// genFeed is one generated feed: which pool items it carries and its RSS.
type genFeed struct {
	Name  string // file name, also the last URL path segment
	Items []int  // indices into the pool, newest first
	Body  []byte
}

// feedSet is the whole benchmark workload.
type feedSet struct {
	Pool  []dataItem
	Feeds []genFeed
	Bytes int64
}

// buildFeeds picks perFeed items for each of n feeds from the pool, the same
// for the same seed. Items repeat across feeds, as a story carried by several
// outlets does, but never within one feed (no two items of a feed share a
// GUID or a canonical link), so every served item is one sighting and every
// distinct canonical link one article.
func buildFeeds(pool []dataItem, n, perFeed int, seed uint64) (*feedSet, error) {
	usable := 0
	for _, it := range pool {
		if it.canonical != "" && it.GUID != "" {
			usable++
		}
	}
	if perFeed > usable/2 {
		return nil, fmt.Errorf("build feeds: %d items a feed from a pool of %d usable items", perFeed, usable)
	}
	set := &feedSet{Pool: pool, Feeds: make([]genFeed, n)}
	for f := range n {
		rng := rand.New(rand.NewPCG(seed, uint64(f)))
		guids := make(map[string]bool, perFeed)
		links := make(map[string]bool, perFeed)
		picked := make([]int, 0, perFeed)
		// Bounded: with perFeed at most half the usable pool, a draw succeeds
		// with probability at least 1/2, so this many tries never runs out in
		// practice; if it does, the error says so rather than looping.
		for tries := 0; len(picked) < perFeed && tries < perFeed*200; tries++ {
			i := rng.IntN(len(pool))
			it := pool[i]
			if it.canonical == "" || it.GUID == "" || guids[it.GUID] || links[it.canonical] {
				continue
			}
			guids[it.GUID], links[it.canonical] = true, true
			picked = append(picked, i)
		}
		if len(picked) < perFeed {
			return nil, fmt.Errorf("build feed %d: only %d distinct items found", f, len(picked))
		}
		slices.SortStableFunc(picked, func(a, b int) int { return pool[b].pub.Compare(pool[a].pub) })
		g := genFeed{Name: fmt.Sprintf("feed-%04d.xml", f), Items: picked}
		g.Body = renderRSS(f, pool, picked)
		set.Bytes += int64(len(g.Body))
		set.Feeds[f] = g
	}
	return set, nil
}

// writeFeeds stores each feed as a file in dir, for the server process.
func writeFeeds(dir string, set *feedSet) error {
	for _, g := range set.Feeds {
		if err := os.WriteFile(filepath.Join(dir, g.Name), g.Body, 0o644); err != nil {
			return fmt.Errorf("write feed: %w", err)
		}
	}
	return nil
}

// renderRSS writes the RSS 2.0 document of feed f, shaped like a real news
// site's feed: escaped HTML in description and full HTML in content:encoded.
func renderRSS(f int, pool []dataItem, picked []int) []byte {
	var b strings.Builder
	b.Grow(len(picked) * 800)
	site := fmt.Sprintf("https://outlet-%04d.example.com/", f)
	origin := pool[picked[0]].Feed
	built := pool[picked[0]].pub
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">` + "\n<channel>\n")
	fmt.Fprintf(&b, "<title>Bench outlet %04d (%s)</title>\n<link>%s</link>\n", f, xmlEscape(origin), site)
	fmt.Fprintf(&b, "<description>AI news as carried by bench outlet %04d</description>\n<language>en</language>\n", f)
	fmt.Fprintf(&b, "<lastBuildDate>%s</lastBuildDate>\n", built.Format(time.RFC1123Z))
	for n, i := range picked {
		it := pool[i]
		title := it.Title
		if title == "" {
			title = it.Link
		}
		summary := it.Summary
		if summary == "" {
			summary = title
		}
		b.WriteString("<item>\n")
		fmt.Fprintf(&b, "<title>%s</title>\n", xmlEscape(title))
		fmt.Fprintf(&b, "<link>%s</link>\n", xmlEscape(it.Link))
		fmt.Fprintf(&b, "<guid isPermaLink=\"false\">%s</guid>\n", xmlEscape(it.GUID))
		if !it.pub.IsZero() {
			fmt.Fprintf(&b, "<pubDate>%s</pubDate>\n", it.pub.Format(time.RFC1123Z))
		}
		fmt.Fprintf(&b, "<description>%s</description>\n", xmlEscape(teaser(summary, 100)))
		b.WriteString("<content:encoded><![CDATA[")
		b.WriteString(cdataEscape(contentHTML(it, title, summary, n)))
		b.WriteString("]]></content:encoded>\n</item>\n")
	}
	b.WriteString("</channel>\n</rss>\n")
	return []byte(b.String())
}

// contentHTML builds an article body from the item's own words: the
// summary (HTML in about half the items) as a paragraph, and on every fourth
// item a figure and a link to the original, so the sanitizer has real markup
// to work through.
func contentHTML(it dataItem, title, summary string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<p>%s</p>", summary)
	if n%4 == 0 {
		host := "example.com"
		if u, err := url.Parse(it.Link); err == nil && u.Host != "" {
			host = u.Host
		}
		fmt.Fprintf(&b, `<figure><img src="https://%s/media/%s.jpg" alt="%s"></figure><p><a href="%s">Read more</a></p>`,
			htmlAttr(host), htmlAttr(it.GUID), htmlAttr(title), htmlAttr(it.Link))
	}
	return b.String()
}

// teaser is the plain-text start of an HTML summary, cut at a word boundary,
// as feeds put in description when content:encoded has the full text.
func teaser(summary string, maxRunes int) string {
	var b strings.Builder
	in := false
	for _, r := range summary {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	t := strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
	r := []rune(t)
	if len(r) <= maxRunes {
		return t
	}
	cut := string(r[:maxRunes])
	if i := strings.LastIndexByte(cut, ' '); i > maxRunes/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

var xmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func xmlEscape(s string) string { return xmlReplacer.Replace(stripXMLInvalid(s)) }

func htmlAttr(s string) string { return xmlReplacer.Replace(s) }

// cdataEscape splits any "]]>" so it cannot end the CDATA section early.
func cdataEscape(s string) string {
	return strings.ReplaceAll(stripXMLInvalid(s), "]]>", "]]]]><![CDATA[>")
}

// stripXMLInvalid drops the control characters XML 1.0 forbids, which real
// data sometimes carries; the workload is about speed, not hostile input.
func stripXMLInvalid(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return -1
		}
		return r
	}, s)
}
