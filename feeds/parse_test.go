package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "parse", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file, contentType string
		wantEnc           string
		wantTitle         string // first item's title as gofeed reads it
		wantItems         int
	}{
		{"iso-8859-1-declared.xml", "", "windows-1252", "Café crème à la carte", 1},
		{"windows-1252-header.xml", "text/xml; charset=windows-1252", "windows-1252", "“Quoted” costs 5€", 1},
		{"utf-16le-bom.xml", "", "utf-16le", "Grüße aus Köln", 1},
		{"utf-16be-nobom.xml", "", "utf-16be", "日本語のタイトル", 1},
		// The NUL pattern says UTF-16 whatever the header claims.
		{"utf-16be-nobom.xml", "application/rss+xml; charset=iso-8859-1", "utf-16be", "日本語のタイトル", 1},
		{"utf-8-bom.xml", "", "utf-8", "Ünïcödé with BOM", 1},
		{"invalid-utf8.xml", "", "utf-8", "bad \uFFFD( bytes", 1},
		{"header-wins.xml", "application/rss+xml; charset=ISO-8859-1", "windows-1252", "Señor Müller", 1},
		{"header-wins.xml", `text/xml; charset="iso-8859-1"`, "windows-1252", "Señor Müller", 1},
		// Without the header, the declaration (UTF-8) is wrong about the bytes.
		{"header-wins.xml", "", "utf-8", "Se\uFFFDor M\uFFFDller", 1},
		{"latin1-declared-utf8-bytes.xml", "", "utf-8", "naïve café ☃", 1},
		{"latin1-declared-utf8-bytes.xml", "text/xml; charset=iso-8859-1", "utf-8", "naïve café ☃", 1},
		{"unknown-encoding.xml", "", "utf-8", "Plain title", 1},
		{"undeclared-cp1252.xml", "", "windows-1252", "Résumé – fin", 1},
		{"root-after-comments.xml", "", "utf-8", "Late root", 1},
		{"billion-laughs.xml", "", "utf-8", "&lol9;", 1},
		{"xxe.xml", "", "utf-8", "&xxe;", 1}, // nothing fetched, nothing read
		{"truncated.xml", "", "utf-8", "Item 0", 3},
		{"feed.json", "application/feed+json", "utf-8", "First &amp; foremost", 2},
		{"atom.xml", "", "utf-8", "A &lt;b&gt;bold&lt;/b&gt; claim", 1},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.contentType, func(t *testing.T) {
			pf, err := Parse(context.Background(), readFixture(t, tt.file), tt.contentType, 0)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if pf.Encoding != tt.wantEnc {
				t.Errorf("encoding %q, want %q", pf.Encoding, tt.wantEnc)
			}
			if len(pf.Feed.Items) != tt.wantItems {
				t.Fatalf("%d items, want %d", len(pf.Feed.Items), tt.wantItems)
			}
			if got := pf.Feed.Items[0].Title; got != tt.wantTitle {
				t.Errorf("title %q, want %q", got, tt.wantTitle)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    []byte
		want    error
		wantMsg string
	}{
		{"html page", readFixture(t, "page.html"), ErrNotAFeed, "not a feed: HTML page"},
		{"html fragment", []byte("\n<body><p>hi</p></body>"), ErrNotAFeed, "not a feed: HTML page"},
		{"whitespace", readFixture(t, "empty.xml"), ErrEmptyBody, "empty body"},
		{"nothing", nil, ErrEmptyBody, "empty body"},
		{"only a BOM", []byte{0xEF, 0xBB, 0xBF}, ErrEmptyBody, "empty body"},
		{"only a prolog", []byte(`<?xml version="1.0"?><!-- c -->`), ErrNotAFeed, "not a feed: no root element"},
		{"unterminated comment", []byte(`<!-- c`), ErrNotAFeed, "not a feed: unterminated comment"},
		{"opml", readFixture(t, "opml.xml"), ErrUnsupportedFormat, "unsupported format: OPML, a list of feeds"},
		{"other xml", []byte(`<catalog><book/></catalog>`), ErrUnsupportedFormat, "unsupported format: root element <catalog>"},
		{"plain text", []byte("hello"), ErrUnsupportedFormat, "unsupported format: neither XML nor JSON"},
		{"json array", []byte(" [1,2]"), ErrUnsupportedFormat, "unsupported format: a JSON array, not a JSON Feed object"},
		{"json not a feed", readFixture(t, "not-jsonfeed.json"), ErrNotAFeed, "parse json: not a feed: JSON without a JSON Feed version or items"},
		{"too large", bytes.Repeat([]byte(" "), parseMaxBytes+1), ErrBodyTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, err := Parse(context.Background(), tt.body, "", 0)
			if err == nil {
				t.Fatalf("no error, %d items", len(pf.Feed.Items))
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want one matching %v", err, tt.want)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("message %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestParseGofeedErrorWrapped(t *testing.T) {
	_, err := Parse(context.Background(), []byte(`{"version": 5}`), "", 0)
	if err == nil || !strings.HasPrefix(err.Error(), "parse json: ") {
		t.Fatalf("error %v, want gofeed's error behind %q", err, "parse json: ")
	}
	// Broken before any item: the repair saves nothing, so the error stays.
	_, err = Parse(context.Background(), []byte(`<rss><channel><title>x</ti`), "", 0)
	if err == nil || !strings.HasPrefix(err.Error(), "parse rss: ") {
		t.Fatalf("error %v, want gofeed's error behind %q", err, "parse rss: ")
	}
}

func TestParseTTLAndRepair(t *testing.T) {
	pf, err := Parse(context.Background(), readFixture(t, "root-after-comments.xml"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if pf.TTL != 90*time.Minute {
		t.Errorf("TTL %v, want 90m", pf.TTL)
	}
	if pf.Repaired {
		t.Error("a whole feed reported as repaired")
	}
	pf, err = Parse(context.Background(), readFixture(t, "truncated.xml"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !pf.Repaired {
		t.Error("truncated feed not reported as repaired")
	}
	if last := pf.Feed.Items[len(pf.Feed.Items)-1]; last.Title != "Item 2" || last.Link != "https://example.com/2" {
		t.Errorf("last kept item %q %q, want the last complete one", last.Title, last.Link)
	}
}

func TestParseTTLValues(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"60", time.Hour}, {" 15 ", 15 * time.Minute}, {"-5", 0}, {"0", 0}, {"abc", 0},
		{"99999999999999", parseMaxTTL}, {"9999999999999999999999", 0},
	}
	for _, tt := range tests {
		if got := parseTTL(tt.in); got != tt.want {
			t.Errorf("parseTTL(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseMaxItems(t *testing.T) {
	rss := readFixture(t, "many-items.xml")
	json := []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[` +
		`{"id":"0","title":"Item 0"},{"id":"1","title":"Item 1"},{"id":"2","title":"Item 2"}]}`)
	// Over 256 KB, so the JSON is cut before gofeed reads it.
	var big strings.Builder
	big.WriteString(`{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[`)
	for i := range 3000 {
		if i > 0 {
			big.WriteByte(',')
		}
		fmt.Fprintf(&big, `{"id":"%d","title":"Item %d","content_text":"%s"}`, i, i, strings.Repeat("x", 80))
	}
	big.WriteString(`]}`)

	tests := []struct {
		name      string
		body      []byte
		max       int
		wantItems int
		wantDrop  int
	}{
		{"rss under the cap", rss, 25, 25, 0},
		{"rss over the cap", rss, 10, 10, 15},
		{"rss default cap", rss, 0, 25, 0},
		{"small json over the cap", json, 2, 2, 1},
		{"big json over the cap", []byte(big.String()), 1000, 1000, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf, err := Parse(context.Background(), tt.body, "", tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if len(pf.Feed.Items) != tt.wantItems || pf.Dropped != tt.wantDrop {
				t.Fatalf("%d items, %d dropped; want %d and %d", len(pf.Feed.Items), pf.Dropped, tt.wantItems, tt.wantDrop)
			}
			for i, it := range pf.Feed.Items {
				if want := fmt.Sprintf("Item %d", i); it.Title != want {
					t.Fatalf("item %d is %q, want %q: the feed's order must be kept", i, it.Title, want)
				}
			}
		})
	}
}

func TestParseCutXMLKeepsStructure(t *testing.T) {
	// Items of RSS 1.0 sit beside the channel, under a prefixed root.
	var b strings.Builder
	b.WriteString(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel><title>r</title></channel>`)
	for i := range 5 {
		fmt.Fprintf(&b, `<item rdf:about="https://example.com/%d"><title>Item %d</title><link>https://example.com/%d</link></item>`, i, i, i)
	}
	b.WriteString(`</rdf:RDF>`)
	pf, err := Parse(context.Background(), []byte(b.String()), "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pf.Feed.Items) != 2 || pf.Dropped != 3 || pf.Feed.Title != "r" {
		t.Fatalf("%d items, %d dropped, title %q; want 2, 3, %q", len(pf.Feed.Items), pf.Dropped, pf.Feed.Title, "r")
	}
}

// flipCtx is a context whose Err turns to Canceled after a number of calls:
// a deadline that passes in the middle of a parse, without a clock.
type flipCtx struct {
	context.Context
	calls, after int64
}

func (c *flipCtx) Err() error {
	if atomic.AddInt64(&c.calls, 1) > c.after {
		return context.Canceled
	}
	return nil
}

func TestParseContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Parse(ctx, readFixture(t, "atom.xml"), "", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled before: error %v, want context.Canceled", err)
	}

	// Many reads' worth of feed, canceled after a few of them.
	var b strings.Builder
	b.WriteString(`<rss version="2.0"><channel><title>big</title>`)
	for i := range 500 {
		fmt.Fprintf(&b, "<item><title>Item %d</title><description>%s</description></item>", i, strings.Repeat("text ", 40))
	}
	b.WriteString(`</channel></rss>`)
	fc := &flipCtx{Context: context.Background(), after: 5}
	if _, err := Parse(fc, []byte(b.String()), "", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled during: error %v, want context.Canceled", err)
	}
	if fc.calls > 100 {
		t.Errorf("ctx checked %d times: reads are too small or not checked", fc.calls)
	}
}

func TestParseHeaderCharset(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"text/xml", ""},
		{"text/xml; charset=UTF-8", "UTF-8"},
		{`application/rss+xml; charset="windows-1252"`, "windows-1252"},
		{"text/xml;charset=iso-8859-1;foo", "iso-8859-1"}, // invalid for mime, still read
		{"text/xml; Charset='koi8-r' ", "koi8-r"},
		// Invalid UTF-8 before the parameter (found by FuzzParse: it
		// panicked, since lower-casing changed the string's length).
		{"\xffChArset=", ""},
		{"\xff\xfe text/xml; CHARSET=utf-8", "utf-8"},
	}
	for _, tt := range tests {
		if got := parseHeaderCharset(tt.in); got != tt.want {
			t.Errorf("parseHeaderCharset(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseXMLDeclEncoding(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<?xml version="1.0" encoding="ISO-8859-1"?><rss/>`, "ISO-8859-1"},
		{"\n <?xml version='1.0' encoding = 'koi8-r' ?>", "koi8-r"},
		{`<?xml version="1.0"?><rss encoding="x"/>`, ""},
		{`<rss/>`, ""},
		{`<?xml version="1.0" encoding="utf-8"`, ""},
	}
	for _, tt := range tests {
		if got := parseXMLDeclEncoding([]byte(tt.in)); got != tt.want {
			t.Errorf("parseXMLDeclEncoding(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseToUTF8(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		ct       string
		want     string
		wantName string
	}{
		{"utf-8", []byte("<a>é</a>"), "", "<a>é</a>", "utf-8"},
		{"utf-32 le bom", []byte{0xFF, 0xFE, 0, 0, '<', 0, 0, 0, 'a', 0, 0, 0}, "", "<a", "utf-32le"},
		{"utf-32 be no bom", []byte{0, 0, 0, '<', 0, 0, 0, 'a'}, "", "<a", "utf-32be"},
		{"utf-16 le no bom", []byte{'<', 0, 'a', 0}, "", "<a", "utf-16le"},
		{"koi8-r header", []byte{'<', 'a', '>', 0xF0, 0xD2, 0xC9}, "text/xml; charset=koi8-r", "<a>При", "koi8-r"},
		{"utf-16 label on ascii bytes", []byte("<a>x</a>"), "text/xml; charset=utf-16", "<a>x</a>", "utf-8"},
		{"noncharacter", []byte("<a>\uFFFE</a>"), "", "<a>\uFFFD</a>", "utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, name := parseToUTF8(tt.in, tt.ct)
			if string(got) != tt.want || name != tt.wantName {
				t.Errorf("got %q as %s, want %q as %s", got, name, tt.want, tt.wantName)
			}
		})
	}
}

// benchFeed builds an RSS feed of n items shaped like the real ones of
// ../shared/data: a title, a link, a guid, a date and a short HTML summary.
func benchFeed(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Bench</title><link>https://news.example.com/</link><description>d</description>` + "\n")
	for i := range n {
		fmt.Fprintf(&b, `<item><title>Open model %d beats the benchmark &amp; ships weights</title>`+
			`<link>https://news.example.com/2026/03/story-%d?utm_source=rss</link><guid isPermaLink="false">story-%d</guid>`+
			`<pubDate>Mon, 02 Mar 2026 10:%02d:00 +0000</pubDate><dc:creator>Reporter %d</dc:creator><category>AI</category>`+
			`<description><![CDATA[Score: %d<br/>Comments: 42<br/>Discussion: <a href="https://forum.example.com/item?id=%d">thread</a> — the lab says it trained on public data.]]></description></item>`+"\n",
			i, i, i, i%60, i%7, 100+i, i)
	}
	b.WriteString("</channel></rss>\n")
	return []byte(b.String())
}

// BenchmarkParse compares Parse (own detection, format parser called
// directly, translator without its HTML image scan) with gofeed's universal
// parser on the same 50-item feed.
func BenchmarkParse(b *testing.B) {
	body := benchFeed(50)
	b.Run("Parse", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(context.Background(), body, "application/rss+xml", 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gofeed-universal", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
