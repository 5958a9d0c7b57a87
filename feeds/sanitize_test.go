package feeds

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSanitize(t *testing.T) {
	base := mustURL(t, "https://example.com/blog/post")
	const rel = ` rel="noopener noreferrer nofollow"`
	tests := []struct {
		name, in, want, wantImage string
	}{
		{"script removed with its content", `<p>Hello <script>alert(1)</script>world</p>`, `<p>Hello world</p>`, ""},
		{"style removed", `<style>p{color:red}</style><p>styled</p>`, `<p>styled</p>`, ""},
		{"event handler removed", `<p onclick="evil()">click</p>`, `<p>click</p>`, ""},
		{"javascript: href removed", `<a href="javascript:alert(1)">x</a>`, `x`, ""},
		{"mixed-case javascript:", `<a href="JaVaScRiPt:alert(1)">x</a>`, `x`, ""},
		{"entity-split javascript:", `<a href="java&#x09;script:alert(1)">x</a>`, `x`, ""},
		{"data: image removed", `<img src="data:image/png;base64,AAAA">`, ``, ""},
		{"relative image made absolute", `<img src="/img/a.png" alt="A">`, `<img src="https://example.com/img/a.png" alt="A">`, "https://example.com/img/a.png"},
		{"tracking pixel not the picture", `<img src="pixel.gif" width="1" height="1"><img src="//cdn.example.net/b.jpg">`,
			`<img src="https://example.com/blog/pixel.gif" width="1" height="1"><img src="https://cdn.example.net/b.jpg">`, "https://cdn.example.net/b.jpg"},
		{"relative link made absolute", `<a href="../other">rel</a>`, `<a href="https://example.com/other"` + rel + `>rel</a>`, ""},
		{"rel replaced, target dropped", `<a href="https://x.org/a" rel="dofollow" target="_blank">abs</a>`, `<a href="https://x.org/a"` + rel + `>abs</a>`, ""},
		{"mailto kept", `<a href="mailto:x@example.com">mail</a>`, `<a href="mailto:x@example.com"` + rel + `>mail</a>`, ""},
		{"iframe removed", `<iframe src="https://evil.example/"></iframe><p>after</p>`, `<p>after</p>`, ""},
		{"form removed", `<form action="/x"><input name="q"></form>`, ``, ""},
		{"svg removed", `<svg onload=alert(1)><circle/></svg>text`, `text`, ""},
		{"unclosed tags closed", `<div><p>unclosed <b>bold <i>both</div> tail`, `<div><p>unclosed <b>bold <i>both</i></b></p></div> tail`, ""},
		{"stray end tags dropped", `</b></i>stray ends<b>`, `stray ends<b></b>`, ""},
		{"entity-encoded script stays text", `&lt;script&gt;alert(1)&lt;/script&gt;`, `&lt;script&gt;alert(1)&lt;/script&gt;`, ""},
		{"plain text escaped", `plain "quoted" <3`, `plain &#34;quoted&#34; &lt;3`, ""},
		{"plain text fast path", `Tom and Jerry`, `Tom and Jerry`, ""},
		{"blank", " \n ", ``, ""},
		{"image without src dropped", `<p><img alt="x">y</p>`, `<p>y</p>`, ""},
		// A numeric reference without digits is text, as HTML reads it (found by FuzzSanitize).
		{"numeric reference without digits", `9&#X;0 &#; &#38;`, `9&amp;#X;0 &amp;#; &amp;`, ""},
		{"numeric reference to NUL at the end", `a &#0`, `a �`, ""},
		{"common numeric references stay", `it&#8217;s &#x201C;ok&#x201D;`, `it’s “ok”`, ""},
		// In an attribute it leaves the fast path: bluemonday's pattern for alt drops it.
		{"in an attribute too", `<img src="/a.png" alt="&#x;">`, `<img src="https://example.com/a.png">`, "https://example.com/a.png"},
	}
	p := newNormPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, img := normSanitize(p, tt.in, base, normMaxContent, normMaxText)
			if got != tt.want {
				t.Errorf("normSanitize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if img != tt.wantImage {
				t.Errorf("image %q, want %q", img, tt.wantImage)
			}
			if again, _, _ := normSanitize(p, got, base, normMaxContent, normMaxText); again != got {
				t.Errorf("not stable: sanitizing %q again gives %q", got, again)
			}
		})
	}
}

func TestSanitizeWithoutBase(t *testing.T) {
	got, _, img := normSanitize(newNormPolicy(), `<a href="/x">x</a><img src="/i.png"><a href="https://a.example/">a</a>`, nil, normMaxContent, normMaxText)
	want := `x<a href="https://a.example/" rel="noopener noreferrer nofollow">a</a>`
	if got != want || img != "" {
		t.Errorf("got %q (image %q), want %q: relative URLs cannot be resolved, so they go", got, img, want)
	}
}

func TestSanitizeCap(t *testing.T) {
	p := newNormPolicy()
	in := strings.Repeat(`<div><p>Some <b>bold</b> text &amp; more é</p>`, 500) // never closed
	for _, limit := range []int{10, 100, 1001, 4096} {
		got, _, _ := normSanitize(p, in, nil, limit, normMaxText)
		if len(got) > limit {
			t.Errorf("cap %d: %d bytes", limit, len(got))
		}
		if !utf8.ValidString(got) {
			t.Errorf("cap %d: invalid UTF-8", limit)
		}
		if opens, closes := strings.Count(got, "<div>"), strings.Count(got, "</div>"); opens != closes {
			t.Errorf("cap %d: %d <div> but %d </div> in %q", limit, opens, closes, got)
		}
		if i := strings.LastIndexByte(got, '&'); i >= 0 && !strings.Contains(got[i:], ";") {
			t.Errorf("cap %d: cut inside an entity: %q", limit, got[i:])
		}
	}
	plain := strings.Repeat("é", 100)
	if got, _, _ := normSanitize(p, plain, nil, 51, normMaxText); got != strings.Repeat("é", 25) {
		t.Errorf("plain text cut to %q", got)
	}
}

func TestPlain(t *testing.T) {
	tests := []struct {
		name, in string
		lines    bool
		want     string
	}{
		{"tags and entities", `<p>AT&amp;T &lt;3 <b>bold</b>s</p>`, false, "AT&T <3 bolds"},
		{"entities decoded once", `&amp;amp; &amp;lt;`, false, "&amp; &lt;"},
		{"whitespace collapsed", "  a \n\t b  \u00a0 c ", false, "a b c"},
		{"blocks become spaces", `<p>one</p><p>two</p><ul><li>three</li></ul>`, false, "one two three"},
		{"blocks become lines", `<p>one</p><p>two</p><ul><li>three</li></ul>`, true, "one\ntwo\nthree"},
		{"br is a break", `a<br>b<br/>c`, true, "a\nb\nc"},
		{"table cells spaced", `<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>`, true, "a b\nc"},
		{"script and style dropped", `x<script>var a = "<p>";</script><style>p{}</style>y`, false, "xy"},
		{"control characters dropped", "nul\x00 bell\x07 zero\u200bwidth", false, "nul bell zerowidth"},
		{"plain text keeps its lines", "first line\n\nsecond line", true, "first line\nsecond line"},
		{"plain text on one line", "first line\n\nsecond line", false, "first line second line"},
		{"broken markup", `<p>open <b unclosed`, false, "open"},
		{"a lone less-than", `x < y`, false, "x < y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normPlain(tt.in, 1000, tt.lines); got != tt.want {
				t.Errorf("normPlain(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPlainCap(t *testing.T) {
	in := "<p>" + strings.Repeat("word é ", 1000) + "</p>"
	for _, limit := range []int{1, 7, 100, 1001} {
		got := normPlain(in, limit, true)
		if len(got) > limit || !utf8.ValidString(got) {
			t.Errorf("cap %d: %d bytes, valid %v", limit, len(got), utf8.ValidString(got))
		}
		if strings.HasSuffix(got, " ") {
			t.Errorf("cap %d: trailing space", limit)
		}
	}
}

// TestScannerMatchesTokenizer: on markup the cheap scanner accepts, it must
// read what x/net/html reads; on the rest it must give up, never guess.
func TestScannerMatchesTokenizer(t *testing.T) {
	base := mustURL(t, "https://example.com/a/")
	tests := []struct {
		in       string
		scanning bool // the scanner handles it alone
	}{
		{`<p>Score: 949<br/>Comments: 465<br/>By: x<br/>Discussion: <a href="https://news.example.com/item?id=1">link</a></p>`, true},
		{`<P>Upper <A HREF="/u" TITLE=t>case</A></P>`, true},
		{`text &amp; &lt;tag&gt; &copy 2026 &notanentity; &#169; &#x2014;`, true},
		{`<a href='/x?a=1&amp;b=2'>q</a>`, true},
		{`<img src=i.png width=10 height="20%" alt="A &quot;B&quot;"/><br />`, true},
		{"line\r\nbreaks\rhere", true},
		{`<ul><li>one<li>two</ul></p></b>`, true},
		{`<a href="/x?a=1&copy=2">legacy entity in an attribute</a>`, false},
		{`<p class="lead">class</p>`, false},
		{`<!-- comment --><p>x</p>`, false},
		{`a < b`, false},
		{`<script>alert(1)</script>`, false},
		{`<p onclick="x()">x</p>`, false},
		{"nul\x00byte", false},
		{`<img src="x" width="ten">`, false},
		{`<a href="unterminated>x</a>`, false},
	}
	for _, tt := range tests {
		o1, t1, i1, ok := normRender(&normScanner{s: tt.in}, len(tt.in), base, true, 4096, 4096)
		if ok != tt.scanning {
			t.Errorf("%q: scanner handles it: %v, want %v", tt.in, ok, tt.scanning)
			continue
		}
		if !ok {
			continue
		}
		o2, t2, i2, ok2 := normRender(newNormHTMLTokens(tt.in), len(tt.in), base, true, 4096, 4096)
		if !ok2 || o1 != o2 || t1 != t2 || i1 != i2 {
			t.Errorf("%q:\n scanner %q %q %q\n x/net   %q %q %q", tt.in, o1, t1, i1, o2, t2, i2)
		}
	}
}
