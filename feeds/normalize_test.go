package feeds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"

	"recap/news"
)

var testCollected = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func tp(t time.Time) *time.Time { return &t }

func TestNormalizeDates(t *testing.T) {
	pub := time.Date(2026, 3, 9, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	upd := time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		published     *time.Time
		updated       *time.Time
		wantPublished time.Time
		wantUpdated   time.Time
	}{
		{"published only", tp(pub), nil, pub.UTC(), time.Time{}},
		{"updated only", nil, tp(upd), upd, upd},
		{"both", tp(pub), tp(upd), pub.UTC(), upd},
		{"neither: collected", nil, nil, testCollected, time.Time{}},
		{"future beyond a day: clamped", tp(testCollected.Add(72 * time.Hour)), nil, testCollected.Add(24 * time.Hour), time.Time{}},
		{"exactly a day ahead: kept", tp(testCollected.Add(24 * time.Hour)), nil, testCollected.Add(24 * time.Hour), time.Time{}},
		{"just under a day ahead: kept", tp(testCollected.Add(23 * time.Hour)), nil, testCollected.Add(23 * time.Hour), time.Time{}},
		{"future updated clamped too", nil, tp(testCollected.Add(48 * time.Hour)), testCollected.Add(24 * time.Hour), testCollected.Add(24 * time.Hour)},
		{"year 1 is no date", tp(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)), nil, testCollected, time.Time{}},
		{"the epoch is no date", tp(time.Unix(0, 0)), tp(upd), upd, upd},
	}
	n := NewNormalizer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := &gofeed.Item{Title: "t", PublishedParsed: tt.published, UpdatedParsed: tt.updated}
			a, err := n.Item(it, nil, testCollected)
			if err != nil {
				t.Fatal(err)
			}
			if !a.Published.Equal(tt.wantPublished) {
				t.Errorf("published %v, want %v", a.Published, tt.wantPublished)
			}
			if !a.Updated.Equal(tt.wantUpdated) {
				t.Errorf("updated %v, want %v", a.Updated, tt.wantUpdated)
			}
			if !a.Collected.Equal(testCollected) {
				t.Errorf("collected %v, want %v", a.Collected, testCollected)
			}
		})
	}
}

func TestNormalizeItemKey(t *testing.T) {
	base := mustURL(t, "https://site.example/")
	d1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	n := NewNormalizer()
	key := func(it *gofeed.Item) string {
		t.Helper()
		a, err := n.Item(it, base, testCollected)
		if err != nil {
			t.Fatal(err)
		}
		return a.ItemKey
	}
	tests := []struct {
		name string
		it   *gofeed.Item
		want string
	}{
		{"guid", &gofeed.Item{GUID: " urn:x:1 ", Link: "/a", Title: "T"}, "g:urn:x:1"},
		{"canonical link", &gofeed.Item{Link: "/a?utm_source=rss#top", Title: "T"}, "u:https://site.example/a"},
		{"permalink guid as link", &gofeed.Item{GUID: "https://site.example/p", Title: "T"}, "g:https://site.example/p"},
		{"title and date", &gofeed.Item{Title: "T", PublishedParsed: tp(d1)}, news.ItemKey("", "", "T", d1)},
		{"unusable link: title and date", &gofeed.Item{Title: "T", Link: "javascript:void(0)", PublishedParsed: tp(d1)}, news.ItemKey("", "", "T", d1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := key(tt.it); got != tt.want {
				t.Errorf("key %q, want %q", got, tt.want)
			}
		})
	}

	k1 := key(&gofeed.Item{Title: "Same title", PublishedParsed: tp(d1)})
	k2 := key(&gofeed.Item{Title: "Same title", PublishedParsed: tp(d2)})
	k1again := key(&gofeed.Item{Title: "Same title", PublishedParsed: tp(d1)})
	if k1 == k2 {
		t.Error("same title, different dates: same key")
	}
	if k1 != k1again {
		t.Error("same item twice: different keys")
	}
	// Undated: the key must not depend on when the item was collected.
	a1, _ := n.Item(&gofeed.Item{Title: "Undated"}, nil, testCollected)
	a2, _ := n.Item(&gofeed.Item{Title: "Undated"}, nil, testCollected.Add(time.Hour))
	if a1.ItemKey != a2.ItemKey {
		t.Error("an undated item's key changes with the collection time")
	}
	// Untitled and unlinked items are told apart by their text.
	a3, _ := n.Item(&gofeed.Item{Description: "first note"}, nil, testCollected)
	a4, _ := n.Item(&gofeed.Item{Description: "second note"}, nil, testCollected)
	if a3.ItemKey == a4.ItemKey {
		t.Error("two untitled items with different text share a key")
	}
}

func TestNormalizeTitle(t *testing.T) {
	tests := []struct{ in, want string }{
		{"AT&amp;T profits", "AT&T profits"},                 // entities as gofeed leaves them in HTML titles
		{"double &amp;amp; encoded", "double &amp; encoded"}, // decoded once only
		{"<b>Bold</b> move", "Bold move"},
		{"  multi \n line\t title ", "multi line title"},
		{"x < y", "x < y"},
		{"&#8220;Quoted&#8221; &eacute;", "\u201cQuoted\u201d é"},
		{"<script>alert(1)</script>Safe", "Safe"},
		{"", ""},
	}
	n := NewNormalizer()
	for _, tt := range tests {
		a, err := n.Item(&gofeed.Item{Title: tt.in, Link: "https://e.example/"}, nil, testCollected)
		if err != nil {
			t.Fatal(err)
		}
		if a.Title != tt.want {
			t.Errorf("title %q -> %q, want %q", tt.in, a.Title, tt.want)
		}
	}
}

func TestNormalizeLinks(t *testing.T) {
	base := mustURL(t, "https://site.example/news/")
	tests := []struct {
		name             string
		it               *gofeed.Item
		wantURL, wantRaw string
	}{
		{"relative", &gofeed.Item{Title: "t", Link: " 2026/a?utm_medium=x&id=1 "}, "https://site.example/news/2026/a?id=1", "2026/a?utm_medium=x&id=1"},
		{"root relative", &gofeed.Item{Title: "t", Link: "/b"}, "https://site.example/b", "/b"},
		{"protocol relative", &gofeed.Item{Title: "t", Link: "//other.example/c"}, "https://other.example/c", "//other.example/c"},
		{"absolute, host case", &gofeed.Item{Title: "t", Link: "HTTP://Other.Example:80/d"}, "http://other.example/d", "HTTP://Other.Example:80/d"},
		{"from links", &gofeed.Item{Title: "t", Links: []string{"", "/e"}}, "https://site.example/e", "/e"},
		{"javascript", &gofeed.Item{Title: "t", Link: "javascript:alert(1)"}, "", "javascript:alert(1)"},
		{"non-URL guid is no link", &gofeed.Item{Title: "t", GUID: "12345"}, "", ""},
	}
	n := NewNormalizer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := n.Item(tt.it, base, testCollected)
			if err != nil {
				t.Fatal(err)
			}
			if a.URL != tt.wantURL || a.Link != tt.wantRaw {
				t.Errorf("URL %q, Link %q; want %q, %q", a.URL, a.Link, tt.wantURL, tt.wantRaw)
			}
		})
	}
}

func normFixture(t *testing.T, name, feedURL string) ([]news.Article, []error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "normalize", name))
	if err != nil {
		t.Fatal(err)
	}
	pf, err := Parse(context.Background(), b, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return NewNormalizer().Feed(pf, feedURL, testCollected)
}

func TestNormalizeFeedRelative(t *testing.T) {
	arts, errs := normFixture(t, "relative.xml", "https://feeds.example/relative.xml")
	if len(errs) != 1 || !errors.Is(errs[0], ErrEmptyItem) || !strings.HasPrefix(errs[0].Error(), "item 4: ") {
		t.Errorf("errs %v, want item 4 skipped as empty", errs)
	}
	if len(arts) != 3 {
		t.Fatalf("%d articles, want 3", len(arts))
	}
	a := arts[0]
	checks := []struct{ field, got, want string }{
		{"URL", a.URL, "https://site.example/news/2026/03/model-release?id=7"},
		{"Link", a.Link, "2026/03/model-release?utm_source=rss&id=7#comments"},
		{"GUID", a.GUID, "model-release-7"},
		{"ItemKey", a.ItemKey, "g:model-release-7"},
		{"Author", a.Author, "Ada Reporter"},
		{"Categories", strings.Join(a.Categories, "|"), "AI|Research"},
		{"ImageURL", a.ImageURL, "https://site.example/news/img/chart.png"},
		{"ContentHTML", a.ContentHTML, `<p>A lab <a href="https://site.example/labs/x" rel="noopener noreferrer nofollow">released</a> a model.</p><img src="https://site.example/news/img/chart.png" alt="chart">`},
		{"Summary", a.Summary, "A lab released a model."},
		{"Text", a.Text, "A lab released a model."},
		{"Published", a.Published.Format(time.RFC3339), "2026-03-03T08:00:00Z"},
		{"second URL", arts[1].URL, "https://site.example/2026/03/second"},
		{"second ImageURL", arts[1].ImageURL, "https://site.example/thumbs/second.jpg"},
		{"second Summary", arts[1].Summary, "Plain text & nothing else."},
		{"second ContentHTML", arts[1].ContentHTML, "Plain text &amp; nothing else."},
		{"third URL", arts[2].URL, "https://site.example/news/permalink-only"},
		{"third Link", arts[2].Link, ""},
		{"third ImageURL", arts[2].ImageURL, "https://cdn.site.example/pic.png"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
}

func TestNormalizeFeedWithoutSiteLink(t *testing.T) {
	arts, errs := normFixture(t, "no-site-link.xml", "https://feeds.example/atom/all.xml")
	if len(errs) != 0 || len(arts) != 1 {
		t.Fatalf("%d articles, errs %v", len(arts), errs)
	}
	a := arts[0]
	checks := []struct{ field, got, want string }{
		{"URL", a.URL, "https://feeds.example/atom/entries/1"},
		{"Author", a.Author, "desk@feeds.example"},
		{"Summary", a.Summary, "Short summary."},
		{"Text", a.Text, "First paragraph.\nSecond paragraph."},
		{"Published", a.Published.Format(time.RFC3339), "2026-03-01T09:00:00Z"},
		{"Updated", a.Updated.Format(time.RFC3339), "2026-03-02T09:00:00Z"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
}

// TestNormalizeXMLBase: gofeed resolves xml:base in links and content;
// the title, HTML in an HTML title, is text once decoded.
func TestNormalizeXMLBase(t *testing.T) {
	pf, err := Parse(context.Background(), readFixture(t, "atom.xml"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	arts, errs := NewNormalizer().Feed(pf, "https://feeds.example/atom.xml", testCollected)
	if len(arts) != 1 || len(errs) != 0 {
		t.Fatalf("%d articles, errs %v", len(arts), errs)
	}
	a := arts[0]
	if a.URL != "https://blog.example.net/posts/first-post" {
		t.Errorf("URL %q", a.URL)
	}
	if a.Title != "A <b>bold</b> claim" {
		t.Errorf("title %q", a.Title)
	}
	if want := `<p>See <a href="https://blog.example.net/about" rel="noopener noreferrer nofollow">about</a></p>`; a.ContentHTML != want {
		t.Errorf("content %q, want %q", a.ContentHTML, want)
	}
}

func TestNormalizeSummaryAndCaps(t *testing.T) {
	n := NewNormalizer()
	words := strings.Repeat("lorem ipsum dolor ", 400) // 7,200 characters
	a, err := n.Item(&gofeed.Item{Title: strings.Repeat("é", 1500), Description: words, Content: "<p>" + strings.Repeat("x", 300<<10) + "</p>",
		Authors: []*gofeed.Person{{Name: strings.Repeat("a", 300)}}}, nil, testCollected)
	if err != nil {
		t.Fatal(err)
	}
	if got := utf8.RuneCountInString(a.Title); got != normMaxTitle {
		t.Errorf("title %d runes, want %d", got, normMaxTitle)
	}
	if got := utf8.RuneCountInString(a.Summary); got > normMaxSummary || !strings.HasSuffix(a.Summary, "…") {
		t.Errorf("summary %d runes ending %q, want <= %d ending with …", got, a.Summary[len(a.Summary)-10:], normMaxSummary)
	}
	if s := strings.TrimSuffix(a.Summary, "…"); strings.HasSuffix(s, " ") || !strings.HasSuffix(words[:len(s)+1], " ") {
		t.Errorf("summary not cut on a word boundary: ...%q", s[len(s)-20:])
	}
	if len(a.ContentHTML) > normMaxContent || !strings.HasSuffix(a.ContentHTML, "</p>") {
		t.Errorf("content %d bytes, want <= %d and closed", len(a.ContentHTML), normMaxContent)
	}
	if len(a.Text) > normMaxText || len(a.Text) < normMaxText-10 {
		t.Errorf("text %d bytes, want about %d", len(a.Text), normMaxText)
	}
	if got := utf8.RuneCountInString(a.Author); got != normMaxAuthor {
		t.Errorf("author %d runes, want %d", got, normMaxAuthor)
	}

	// Without a description, the summary comes from the content, on one line.
	a, _ = n.Item(&gofeed.Item{Title: "t", Content: "<p>One.</p><p>Two.</p>"}, nil, testCollected)
	if a.Summary != "One. Two." || a.Text != "One.\nTwo." {
		t.Errorf("summary %q, text %q", a.Summary, a.Text)
	}
	// A short summary is left whole.
	if got := normCutWords("short text", 2000); got != "short text" {
		t.Errorf("normCutWords = %q", got)
	}
}

func TestNormalizeCategories(t *testing.T) {
	var many []string
	for i := range 50 {
		many = append(many, fmt.Sprintf("cat %d", i))
	}
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"trimmed and deduplicated", []string{" AI ", "ai", "", "  ", "<b>ML</b>", "Ai"}, []string{"AI", "ML"}},
		{"capped in number", many, many[:normMaxCategories]},
		{"capped in length", []string{strings.Repeat("c", 150)}, []string{strings.Repeat("c", normMaxCategory)}},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		if got := normCategories(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestNormalizeImage(t *testing.T) {
	base := mustURL(t, "https://site.example/")
	media := ext.Extensions{"media": {"group": {{Children: map[string][]ext.Extension{
		"content": {{Attrs: map[string]string{"url": "/video.mp4", "type": "video/mp4"}}, {Attrs: map[string]string{"url": "/g.jpg", "medium": "image"}}},
	}}}}}
	tests := []struct {
		name string
		it   *gofeed.Item
		want string
	}{
		{"item image", &gofeed.Item{Image: &gofeed.Image{URL: "/i.png"}}, "https://site.example/i.png"},
		{"image enclosure", &gofeed.Item{Enclosures: []*gofeed.Enclosure{{URL: "/a.mp3", Type: "audio/mpeg"}, {URL: "/e.jpg", Type: "Image/JPEG"}}}, "https://site.example/e.jpg"},
		{"media group", &gofeed.Item{Extensions: media}, "https://site.example/g.jpg"},
		{"not http", &gofeed.Item{Image: &gofeed.Image{URL: "file:///etc/passwd"}}, ""},
		{"from content", &gofeed.Item{Content: `<p><img src="/c.png"></p>`}, "https://site.example/c.png"},
	}
	n := NewNormalizer()
	for _, tt := range tests {
		tt.it.Title = "t"
		a, err := n.Item(tt.it, base, testCollected)
		if err != nil {
			t.Fatal(err)
		}
		if a.ImageURL != tt.want {
			t.Errorf("%s: image %q, want %q", tt.name, a.ImageURL, tt.want)
		}
	}
}

func TestNormalizeEmptyItems(t *testing.T) {
	n := NewNormalizer()
	for _, it := range []*gofeed.Item{
		nil,
		{},
		{GUID: "urn:only-a-guid", Description: "  <p> </p> "},
		{Link: "javascript:void(0)", Title: "<script>x</script>"},
	} {
		if _, err := n.Item(it, nil, testCollected); err == nil {
			t.Errorf("item %+v normalized without an error", it)
		}
	}
	arts, errs := n.Feed(&ParsedFeed{Feed: &gofeed.Feed{Items: []*gofeed.Item{{Title: "a"}, {}, {Title: "c"}}}}, "https://e.example/f", testCollected)
	if len(arts) != 2 || len(errs) != 1 || !errors.Is(errs[0], ErrEmptyItem) {
		t.Errorf("%d articles, errs %v; want 2 and one empty item", len(arts), errs)
	}
	if _, errs := n.Feed(nil, "", testCollected); len(errs) != 1 {
		t.Errorf("nil feed: errs %v", errs)
	}
}

// TestNormalizerConcurrent shares one Normalizer between goroutines; run with
// -race to see the policy is only read.
func TestNormalizerConcurrent(t *testing.T) {
	n := NewNormalizer()
	pf, err := Parse(context.Background(), benchFeed(20), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := n.Feed(pf, "https://news.example.com/feed", testCollected)
	var wg sync.WaitGroup
	results := make([][]news.Article, 4)
	for i := range results {
		wg.Go(func() { results[i], _ = n.Feed(pf, "https://news.example.com/feed", testCollected) })
	}
	wg.Wait()
	for i, got := range results {
		for j := range got {
			if got[j].ContentHTML != want[j].ContentHTML || got[j].ItemKey != want[j].ItemKey {
				t.Fatalf("goroutine %d, item %d differs", i, j)
			}
		}
	}
}

// BenchmarkNormalize normalizes the 50 items of a parsed feed; compare its
// ns/op with BenchmarkParse/Parse, which parses the same feed.
func BenchmarkNormalize(b *testing.B) {
	pf, err := Parse(context.Background(), benchFeed(50), "", 0)
	if err != nil {
		b.Fatal(err)
	}
	n := NewNormalizer()
	b.ReportAllocs()
	for b.Loop() {
		arts, errs := n.Feed(pf, "https://news.example.com/feed", testCollected)
		if len(arts) != 50 || len(errs) != 0 {
			b.Fatalf("%d articles, %v", len(arts), errs)
		}
	}
}
