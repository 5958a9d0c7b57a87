package news

import (
	"net/url"
	"strings"
	"testing"
)

func TestCanonicalURL(t *testing.T) {
	feed := mustParse(t, "https://Example.com/blog/feed.xml?format=rss")
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength)
	almost := "https://example.com/" + strings.Repeat("b", MaxURLLength-len("https://example.com/"))

	tests := []struct {
		name string
		raw  string
		base *url.URL
		want string // "" means an error is expected
	}{
		// Already canonical.
		{"plain", "https://example.com/a/b", nil, "https://example.com/a/b"},
		{"root", "https://example.com/", nil, "https://example.com/"},
		{"empty path becomes slash", "https://example.com", nil, "https://example.com/"},
		{"http kept", "http://example.com/x", nil, "http://example.com/x"},

		// Case, ports, userinfo, fragments.
		{"upper scheme and host", "HTTPS://WWW.Example.COM/Path/To", nil, "https://www.example.com/Path/To"},
		{"default http port", "http://example.com:80/x", nil, "http://example.com/x"},
		{"default https port", "https://example.com:443/x", nil, "https://example.com/x"},
		{"http port on https kept", "https://example.com:80/x", nil, "https://example.com:80/x"},
		{"other port kept", "http://example.com:8080/x", nil, "http://example.com:8080/x"},
		{"leading zeros in port", "http://example.com:0080/x", nil, "http://example.com/x"},
		{"empty port", "http://example.com:/x", nil, "http://example.com/x"},
		{"userinfo dropped", "https://user:secret@example.com/x", nil, "https://example.com/x"},
		{"fragment dropped", "https://example.com/post#comments", nil, "https://example.com/post"},
		{"empty fragment dropped", "https://example.com/post#", nil, "https://example.com/post"},
		{"trailing dot in host", "https://example.com./x", nil, "https://example.com/x"},
		{"ipv4", "http://192.0.2.7:80/x", nil, "http://192.0.2.7/x"},
		{"ipv6 default port", "https://[::1]:443/x", nil, "https://[::1]/x"},
		{"ipv6 other port", "https://[2001:DB8::1]:8443/x", nil, "https://[2001:db8::1]:8443/x"},
		{"ipv6 zone refused", "http://[fe80::1%25eth0]/", nil, ""},
		{"idn host kept lower-cased", "https://BÜCHER.de/x", nil, "https://bücher.de/x"},
		{"punycode host kept", "https://xn--bcher-kva.de/x", nil, "https://xn--bcher-kva.de/x"},

		// Tracking parameters.
		{"utm only", "https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", nil, "https://example.com/a"},
		{"utm mixed with real", "https://example.com/a?id=7&utm_source=rss&page=2", nil, "https://example.com/a?id=7&page=2"},
		{"order kept, not sorted", "https://example.com/a?z=1&a=2&m=3", nil, "https://example.com/a?z=1&a=2&m=3"},
		{"upper-case tracking names", "https://example.com/a?UTM_Source=x&FBCLID=y&q=go", nil, "https://example.com/a?q=go"},
		{"click ids", "https://example.com/a?gclid=1&dclid=2&gbraid=3&wbraid=4&msclkid=5&yclid=6&x=1", nil, "https://example.com/a?x=1"},
		{"mail and crm ids", "https://example.com/a?mc_cid=1&mc_eid=2&_hsenc=3&_hsmi=4&mkt_tok=5&vero_id=6", nil, "https://example.com/a"},
		{"social ids", "https://example.com/a?igshid=1&ref_src=twsrc&ref_url=x&s_cid=9&spm=a.b", nil, "https://example.com/a"},
		{"analytics ids", "https://example.com/a?_ga=1&_gl=2&__s=3&oly_enc_id=4&oly_anon_id=5&keep=yes", nil, "https://example.com/a?keep=yes"},
		{"escaped tracking name", "https://example.com/a?utm%5Fsource=x&b=1", nil, "https://example.com/a?b=1"},
		{"ref is not tracking", "https://example.com/a?ref=main", nil, "https://example.com/a?ref=main"},
		{"utm lookalike kept", "https://example.com/a?utmost=1", nil, "https://example.com/a?utmost=1"},
		{"empty query dropped", "https://example.com/a?", nil, "https://example.com/a"},
		{"empty pairs dropped", "https://example.com/a?&&x=1&&", nil, "https://example.com/a?x=1"},
		{"flag parameter kept", "https://example.com/a?amp", nil, "https://example.com/a?amp"},
		{"repeated parameter kept", "https://example.com/a?tag=a&tag=b", nil, "https://example.com/a?tag=a&tag=b"},
		{"tracking then fragment", "https://example.com/a?utm_source=x#top", nil, "https://example.com/a"},

		// Paths.
		{"dot segments", "https://example.com/a/./b/../c", nil, "https://example.com/a/c"},
		{"dot segments past root", "https://example.com/../../x", nil, "https://example.com/x"},
		{"trailing slash kept", "https://example.com/a/b/", nil, "https://example.com/a/b/"},
		{"trailing dot-dot", "https://example.com/a/b/..", nil, "https://example.com/a/"},
		{"double slash kept", "https://example.com/a//b", nil, "https://example.com/a//b"},
		{"dots inside names kept", "https://example.com/v1.2/file..txt", nil, "https://example.com/v1.2/file..txt"},
		{"escaped dot segment", "https://example.com/a/%2e%2E/b", nil, "https://example.com/b"},
		{"unreserved decoded", "https://example.com/%7Euser/%41%62c", nil, "https://example.com/~user/Abc"},
		{"reserved hex upper-cased", "https://example.com/a%2fb?q=x%26y%3d", nil, "https://example.com/a%2Fb?q=x%26y%3D"},
		{"unicode path", "https://example.com/café/naïve", nil, "https://example.com/caf%C3%A9/na%C3%AFve"},
		{"unicode path already escaped", "https://example.com/caf%c3%a9", nil, "https://example.com/caf%C3%A9"},
		{"space in path", "https://example.com/a b", nil, "https://example.com/a%20b"},
		{"space in query", "https://example.com/s?q=a b", nil, "https://example.com/s?q=a%20b"},
		{"plus in query kept", "https://example.com/s?q=a+b", nil, "https://example.com/s?q=a+b"},
		{"bad escape in query", "https://example.com/s?q=100%", nil, "https://example.com/s?q=100%25"},
		{"unicode query", "https://example.com/s?q=日本", nil, "https://example.com/s?q=%E6%97%A5%E6%9C%AC"},

		// Relative links.
		{"relative path", "post/1", feed, "https://example.com/blog/post/1"},
		{"relative parent", "../x", feed, "https://example.com/x"},
		{"root-relative", "/about", feed, "https://example.com/about"},
		{"protocol-relative", "//CDN.example.net/img.png", feed, "https://cdn.example.net/img.png"},
		{"query-only relative", "?p=5&utm_source=x", feed, "https://example.com/blog/feed.xml?p=5"},
		{"fragment-only relative", "#top", feed, "https://example.com/blog/feed.xml?format=rss"},
		{"absolute ignores base", "http://other.org/x", feed, "http://other.org/x"},
		{"relative without base", "post/1", nil, ""},
		{"protocol-relative without base", "//example.com/x", nil, ""},

		// Whitespace and control characters.
		{"surrounding space", "  https://example.com/x \n", nil, "https://example.com/x"},
		{"wrapped line", "https://example.com/very/\n  long", nil, "https://example.com/very/%20%20long"},
		{"tab inside", "https://exam\tple.com/x", nil, "https://example.com/x"},
		{"nul inside", "https://example.com/a\x00b", nil, ""},
		{"escape char inside", "https://example.com/\x1b[31m", nil, ""},
		{"space in host", "https://exa mple.com/", nil, ""},

		// Refused.
		{"empty", "", nil, ""},
		{"only spaces", "   ", nil, ""},
		{"mailto", "mailto:someone@example.com", nil, ""},
		{"javascript", "javascript:alert(1)", nil, ""},
		{"javascript relative to base", "javascript:alert(1)", feed, ""},
		{"data", "data:text/html,<b>x</b>", nil, ""},
		{"ftp", "ftp://example.com/file", nil, ""},
		{"no host", "http:///path", nil, ""},
		{"dot host", "http://./", nil, ""},
		{"colon host", "http://::/", nil, ""},
		{"colon host from a hostless base", "//::", mustParse(t, "http:"), ""},
		{"two trailing dots", "http://example.com../", nil, ""},
		{"opaque", "http:example.com", nil, ""},
		{"bad port", "http://example.com:99999/", nil, ""},
		{"bad escape in path", "http://example.com/%zz", nil, ""},
		{"too long", long, nil, ""},
		{"at the limit", almost, nil, almost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalURL(tt.raw, tt.base)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("CanonicalURL(%q) = %q, want an error", tt.raw, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("CanonicalURL(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Fatalf("CanonicalURL(%q)\n got %q\nwant %q", tt.raw, got, tt.want)
			}
			checkCanonical(t, got)
		})
	}
}

// Two links to one article that differ only in what canonicalization removes
// must meet; links to two articles must not.
func TestCanonicalURLSameArticle(t *testing.T) {
	same := []string{
		"https://www.example.com/2026/04/story?id=9",
		"HTTPS://WWW.EXAMPLE.COM:443/2026/04/story?id=9#comments",
		"https://www.example.com/2026/04/./story?utm_source=twitter&id=9&fbclid=abc",
		"https://reader@www.example.com/2026/04/x/../story?id=9&utm_medium=social",
	}
	want, err := CanonicalURL(same[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range same[1:] {
		got, err := CanonicalURL(s, nil)
		if err != nil || got != want {
			t.Errorf("CanonicalURL(%q) = %q, %v; want %q", s, got, err, want)
		}
	}
	for _, s := range []string{
		"https://www.example.com/2026/04/story?id=10",
		"https://www.example.com/2026/04/Story?id=9",
		"https://www.example.com/2026/04/story/?id=9",
		"http://www.example.com/2026/04/story?id=9",
	} {
		if got, _ := CanonicalURL(s, nil); got == want {
			t.Errorf("CanonicalURL(%q) = %q, the same as another article", s, got)
		}
	}
}

func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a?utm_source=x&id=1#f",
		"HTTP://User:pw@EXAMPLE.com:80/a/./b/../c/?q=%7e",
		"//cdn.example.net/x",
		"../x/%2e%2e/y",
		"https://[::1]:443/",
		"https://bücher.de/café?q=日本",
		"javascript:alert(1)",
		"http://a.com/%zz?%zz",
		" \thttps://a.com/\n ",
	} {
		f.Add(s, "https://example.com/blog/feed.xml")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, raw, baseRaw string) {
		var base *url.URL
		if baseRaw != "" {
			b, err := url.Parse(baseRaw)
			if err != nil {
				return
			}
			base = b
		}
		got, err := CanonicalURL(raw, base)
		if err != nil {
			return
		}
		checkCanonical(t, got)
	})
}

// checkCanonical asserts what every result of CanonicalURL must satisfy.
func checkCanonical(t *testing.T, got string) {
	t.Helper()
	again, err := CanonicalURL(got, nil)
	if err != nil {
		t.Fatalf("CanonicalURL(%q) refuses its own output: %v", got, err)
	}
	if again != got {
		t.Fatalf("not idempotent:\n once %q\ntwice %q", got, again)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("output %q does not parse: %v", got, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		t.Fatalf("output %q has scheme %q", got, u.Scheme)
	}
	if u.Host == "" {
		t.Fatalf("output %q has no host", got)
	}
	if len(got) > MaxURLLength {
		t.Fatalf("output is %d bytes, over the limit", len(got))
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
