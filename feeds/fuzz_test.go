package feeds

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
)

// fuzzMaxItems is small so the cut before gofeed runs on short inputs too.
const fuzzMaxItems = 3

func FuzzParse(f *testing.F) {
	for _, name := range []string{
		"atom.xml", "feed.json", "truncated.xml", "billion-laughs.xml", "utf-16be-nobom.xml",
		"iso-8859-1-declared.xml", "invalid-utf8.xml", "many-items.xml", "page.html",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "parse", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
	}
	b, err := os.ReadFile(filepath.Join("testdata", "normalize", "relative.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, "text/xml; charset=windows-1252")
	f.Add([]byte(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><item><title>a</title></item><item/><item/><item/></rdf:RDF>`), "")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1","items":[{"id":"1","content_html":"<p>x</p>"}]}`), "application/json")

	n := NewNormalizer()
	collected := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pf, err := Parse(ctx, body, contentType, fuzzMaxItems)
		if err != nil {
			if pf != nil {
				t.Fatal("a feed and an error")
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if pf == nil || pf.Feed == nil {
			t.Fatal("no feed and no error")
		}
		if len(pf.Feed.Items) > fuzzMaxItems {
			t.Fatalf("%d items, the cap is %d", len(pf.Feed.Items), fuzzMaxItems)
		}
		arts, errs := n.Feed(pf, "https://fuzz.example/feed", collected)
		if len(arts)+len(errs) != len(pf.Feed.Items) {
			t.Fatalf("%d items gave %d articles and %d errors", len(pf.Feed.Items), len(arts), len(errs))
		}
		for _, a := range arts {
			if a.ItemKey == "" {
				t.Fatal("empty item key")
			}
			if a.Published.After(collected.Add(normMaxAhead)) {
				t.Fatalf("published %v after collected + 1 day", a.Published)
			}
			if !utf8.ValidString(a.Title) || !utf8.ValidString(a.Summary) || !utf8.ValidString(a.Text) {
				t.Fatal("invalid UTF-8 in text fields")
			}
			if msg := fuzzUnsafeHTML(a.ContentHTML); msg != "" {
				t.Fatalf("content %q: %s", a.ContentHTML, msg)
			}
		}
	})
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		`<p>Hello <script>alert(1)</script>world</p>`,
		`<a href="javascript:alert(1)" onclick="x()">x</a>`,
		`<a href="java&#x09;script:alert(1)">x</a>`,
		`<img src="data:image/png;base64,AAAA"><img src=/rel.png>`,
		`<div><p>unclosed <b>bold <i>both</div> tail</b></i>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`<svg onload=alert(1)><math><mi xlink:href="javascript:alert(1)">x</mi></math>`,
		`<iframe src="//evil"></iframe><style>*{}</style><form><input></form>`,
		`<table><tr><td>a<td>b</table><ul><li>x<li>y</ul>`,
		`plain "text" & more`,
		" <A",  // found by fuzzing: blank output must be empty
		"\"\r", // found by fuzzing: CR is LF once parsed
		`<p class=x>a &copy 2026 &amp; <a href='/x?a=1&amp;b=2' title=t>l</a><br/><img src=i.png width=10 alt="A &quot;B&quot;"></p>`,
		"<img srC=0 srC>", // found by fuzzing: the first of repeated attributes wins
		"<P>Upper <A HREF=\"/u\">case</A></P>\r\n<ul><li>one<li>two</ul>",
	} {
		f.Add(s)
	}
	p := newNormPolicy()
	base := mustURL(f, "https://example.com/dir/page")
	f.Fuzz(func(t *testing.T, in string) {
		out, text, _ := normSanitize(p, in, base, 4096, 2048)
		if len(out) > 4096 {
			t.Fatalf("%d bytes, the cap is 4096", len(out))
		}
		if msg := fuzzUnsafeHTML(out); msg != "" {
			t.Fatalf("normSanitize(%q) = %q: %s", in, out, msg)
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("normSanitize(%q) = %q: invalid UTF-8", in, out)
		}
		if len(text) > 2048 || (utf8.ValidString(in) && !utf8.ValidString(text)) {
			t.Fatalf("text %q: over the cap or invalid UTF-8", text)
		}
		// Where the cheap scanner reads the markup, x/net/html must read
		// the same tokens.
		if o1, t1, i1, ok := normRender(&normScanner{s: in}, len(in), base, true, 4096, 2048); ok {
			o2, t2, i2, ok2 := normRender(newNormHTMLTokens(in), len(in), base, true, 4096, 2048)
			if !ok2 || o1 != o2 || t1 != t2 || i1 != i2 {
				t.Fatalf("scanner and x/net/html disagree on %q:\n scanner %q %q %q\n x/net   %q %q %q (ok %v)", in, o1, t1, i1, o2, t2, i2, ok2)
			}
		}
		if p1, ok := normPlainTokens(&normScanner{s: in}, len(in), 2048, true, true); ok {
			if p2, _ := normPlainTokens(newNormHTMLTokens(in), len(in), 2048, true, false); p1 != p2 {
				t.Fatalf("plain text of %q: scanner %q, x/net %q", in, p1, p2)
			}
		}
		if again, _, _ := normSanitize(p, out, base, 4096, 2048); again != out {
			t.Fatalf("not stable:\n in    %q\n once  %q\n twice %q", in, out, again)
		}
	})
}

// fuzzUnsafeHTML returns what is unsafe in sanitized HTML, or "": a script
// element, an event handler attribute, or a URL attribute that is not
// http(s) or mailto.
func fuzzUnsafeHTML(s string) string {
	if strings.Contains(strings.ToLower(s), "<script") {
		return "contains <script"
	}
	z := xhtml.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return ""
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "style", "iframe", "object", "embed", "form", "svg", "math":
			return "element <" + tok.Data + ">"
		}
		for _, a := range tok.Attr {
			k := strings.ToLower(a.Key)
			if strings.HasPrefix(k, "on") {
				return "event attribute " + a.Key
			}
			if k == "style" {
				return "style attribute"
			}
			if k == "href" || k == "src" || k == "cite" {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "mailto:") {
					return k + "=" + a.Val
				}
			}
		}
	}
}
