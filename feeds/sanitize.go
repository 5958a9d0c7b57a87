package feeds

import (
	"html"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Sanitizer limits.
const (
	// normSanitizeMaxIn bounds what bluemonday reads: its cost grows with the
	// input, and what is cut could not fit in the output cap anyway unless
	// the input is mostly markup that gets removed.
	normSanitizeMaxIn = 1 << 20
	// normEndTagSearch bounds how far down the open-element stack an end
	// tag looks for its start tag, so that many stray end tags under deep
	// nesting cost linear time, not quadratic.
	normEndTagSearch = 64
	normLinkRel      = "noopener noreferrer nofollow"
)

// newNormPolicy builds the bluemonday policy for feed content: bluemonday's
// UGC policy (no scripts, styles, event handlers, iframes, embeds or forms;
// http, https and mailto URLs only, so no javascript: or data:), which the
// pass in normFinish completes with absolute links, rel on every link and
// balanced tags.
func newNormPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	// A policy fills its maps on first use, which is not safe to race;
	// doing it here makes the policy read-only from now on.
	p.Sanitize("<p>x</p>")
	return p
}

// normSanitize returns content as safe HTML, at most maxOut bytes, with
// relative URLs resolved against base (links and images that cannot be made
// absolute are dropped), and the first image worth showing as the item's
// picture. Plain text skips bluemonday: it only needs escaping.
func normSanitize(p *bluemonday.Policy, content string, base *url.URL, maxOut int) (string, string) {
	if strings.TrimSpace(content) == "" {
		return "", ""
	}
	if strings.IndexByte(content, '<') < 0 && strings.IndexByte(content, '&') < 0 {
		// An HTML parser reads CR and CRLF as LF; writing LF here makes the
		// output read back the same.
		if strings.IndexByte(content, '\r') >= 0 {
			content = strings.ReplaceAll(strings.ReplaceAll(content, "\r\n", "\n"), "\r", "\n")
		}
		return normCutText(html.EscapeString(normCutBytes(content, maxOut)), maxOut), ""
	}
	clean := p.Sanitize(normCutBytes(content, normSanitizeMaxIn))
	out, image := normFinish(clean, base, maxOut)
	if strings.TrimSpace(out) == "" {
		return "", image
	}
	return out, image
}

// normFinish rewrites bluemonday's output: URLs made absolute against base,
// rel="noopener noreferrer nofollow" on every link, images kept only with an
// absolute http(s) src, stray end tags dropped and open elements closed (so
// one unclosed <a> cannot swallow the rest of a page), and the whole cut at a
// tag boundary to at most maxOut bytes. It returns the HTML and the first
// image's URL.
func normFinish(s string, base *url.URL, maxOut int) (string, string) {
	var b strings.Builder
	b.Grow(min(len(s)+len(s)/8, maxOut))
	var (
		stack    []atom.Atom
		stackLen int // bytes of the end tags that would close stack
		image    string
		attrs    []xhtml.Attribute
	)
	z := xhtml.NewTokenizer(strings.NewReader(s))
loop:
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			break loop
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			raw := z.Raw()
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			out := ""
			if hasAttr && normHasURLAttr(a) {
				attrs = attrs[:0]
				for {
					k, v, more := z.TagAttr()
					attrs = append(attrs, xhtml.Attribute{Key: string(k), Val: string(v)})
					if !more {
						break
					}
				}
				var keep bool
				out, keep = normRewriteTag(a, string(name), attrs, base, tt == xhtml.SelfClosingTagToken)
				if !keep {
					continue
				}
				if a == atom.Img && image == "" {
					image = normImageCandidate(attrs, base)
				}
			} else if a == atom.Img || a == atom.A {
				continue // no src, no href
			}
			void := tt == xhtml.SelfClosingTagToken || normIsVoid(a)
			add := 0
			if !void {
				add = len(name) + 3
			}
			size := len(raw)
			if out != "" {
				size = len(out)
			}
			if b.Len()+size+stackLen+add > maxOut {
				break loop
			}
			if out != "" {
				b.WriteString(out)
			} else {
				b.Write(raw)
			}
			if !void {
				stack = append(stack, a)
				stackLen += add
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			at := -1
			for i := len(stack) - 1; i >= 0 && i >= len(stack)-normEndTagSearch; i-- {
				if stack[i] == a {
					at = i
					break
				}
			}
			if at < 0 {
				continue
			}
			for i := len(stack) - 1; i >= at; i-- {
				normWriteEnd(&b, stack[i])
				stackLen -= len(stack[i].String()) + 3
			}
			stack = stack[:at]
		case xhtml.TextToken:
			raw := z.Raw()
			if b.Len()+len(raw)+stackLen > maxOut {
				// Keep what fits of the text, cut at a rune boundary and
				// never inside an entity.
				room := maxOut - b.Len() - stackLen
				if room > 0 {
					b.WriteString(normCutText(string(raw), room))
				}
				break loop
			}
			b.Write(raw)
		default:
			// Comments and doctypes: bluemonday drops them; anything left
			// is not worth keeping.
		}
	}
	for i := len(stack) - 1; i >= 0; i-- {
		normWriteEnd(&b, stack[i])
	}
	return b.String(), image
}

func normWriteEnd(b *strings.Builder, a atom.Atom) {
	b.WriteString("</")
	b.WriteString(a.String())
	b.WriteByte('>')
}

// normCutText cuts escaped HTML text to at most n bytes without splitting a
// rune or an entity.
func normCutText(s string, n int) string {
	s = normCutBytes(s, n)
	if i := strings.LastIndexByte(s, '&'); i >= 0 && strings.IndexByte(s[i:], ';') < 0 {
		s = s[:i]
	}
	return s
}

// normHasURLAttr reports whether bluemonday's policy lets element a carry a
// URL attribute (href, src or cite).
func normHasURLAttr(a atom.Atom) bool {
	switch a {
	case atom.A, atom.Area, atom.Img, atom.Blockquote, atom.Q, atom.Del, atom.Ins:
		return true
	}
	return false
}

// normRewriteTag writes a start tag with its URLs made absolute and rel set
// on links. keep is false when the element must go (an image without a
// usable src).
func normRewriteTag(a atom.Atom, name string, attrs []xhtml.Attribute, base *url.URL, selfClosing bool) (string, bool) {
	var b strings.Builder
	b.WriteByte('<')
	b.WriteString(name)
	hasHref, hasSrc := false, false
	for _, at := range attrs {
		switch at.Key {
		case "rel":
			continue // replaced below
		case "href", "src", "cite":
			u, ok := normAbsURL(at.Val, base, at.Key != "src")
			if !ok {
				continue
			}
			at.Val = u
			if at.Key == "href" {
				hasHref = true
			} else if at.Key == "src" {
				hasSrc = true
			}
		}
		b.WriteByte(' ')
		b.WriteString(at.Key)
		b.WriteString(`="`)
		b.WriteString(html.EscapeString(at.Val))
		b.WriteByte('"')
	}
	// bluemonday drops an <a> without href and an <img> without src; so
	// must this pass when it removes one, or sanitizing is not idempotent.
	if (a == atom.Img && !hasSrc) || (a == atom.A && !hasHref) {
		return "", false
	}
	if hasHref && (a == atom.A || a == atom.Area) {
		b.WriteString(` rel="` + normLinkRel + `"`)
	}
	if selfClosing {
		b.WriteString("/>")
	} else {
		b.WriteByte('>')
	}
	return b.String(), true
}

// normAbsURL resolves raw against base and returns it when it is an http(s)
// URL (or mailto, when allowed) no longer than a canonical URL may be.
func normAbsURL(raw string, base *url.URL, mailto bool) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > normMaxURL {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	if !u.IsAbs() {
		if base == nil {
			return "", false
		}
		u = base.ResolveReference(u)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return "", false
		}
	case "mailto":
		if !mailto {
			return "", false
		}
	default:
		return "", false
	}
	s := u.String()
	if len(s) > normMaxURL {
		return "", false
	}
	return s, true
}

// normImageCandidate returns the img's src unless its size marks it as a
// tracking pixel.
func normImageCandidate(attrs []xhtml.Attribute, base *url.URL) string {
	src := ""
	for _, at := range attrs {
		switch at.Key {
		case "width", "height":
			if v := strings.TrimSpace(at.Val); v == "0" || v == "1" {
				return ""
			}
		case "src":
			src = at.Val
		}
	}
	u, _ := normAbsURL(src, base, false)
	return u
}

func normIsVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img,
		atom.Input, atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

// normPlain returns the plain text of an HTML fragment, at most maxBytes:
// tags removed, entities decoded once, script and style content dropped,
// control characters removed and whitespace collapsed. With lines, block
// elements start a new line; without, everything is on one line.
func normPlain(s string, maxBytes int, lines bool) string {
	if strings.IndexByte(s, '<') < 0 && strings.IndexByte(s, '&') < 0 {
		// In plain text, unlike HTML, a line break is one.
		w := normTextWriter{max: maxBytes, lines: lines, plainNL: lines}
		w.b.Grow(min(len(s), maxBytes))
		w.text(s)
		return w.b.String()
	}
	w := normTextWriter{max: maxBytes, lines: lines}
	w.b.Grow(min(len(s), maxBytes))
	z := xhtml.NewTokenizer(strings.NewReader(s))
	skip := atom.Atom(0)
	for !w.full {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return w.b.String()
		case xhtml.TextToken:
			if skip == 0 {
				w.text(string(z.Text()))
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case a == atom.Script || a == atom.Style || a == atom.Noscript || a == atom.Template:
				if tt == xhtml.StartTagToken {
					skip = a
				} else if tt == xhtml.EndTagToken && skip == a {
					skip = 0
				}
			case a == atom.Td || a == atom.Th || a == atom.Img:
				w.brk(' ')
			case normIsBlock(a):
				w.brk('\n')
			}
		}
	}
	return w.b.String()
}

// normTextWriter collapses whitespace as text is appended: a run of spaces
// becomes one space, a run containing a line break one newline (when lines).
type normTextWriter struct {
	b       strings.Builder
	max     int
	lines   bool
	pending byte // 0, ' ' or '\n': the separator owed before the next word
	plainNL bool // a '\n' in the text is a line break, not a space
	full    bool
}

// brk records a separator owed before the next word: ' ' or '\n' (a space
// when not keeping lines). Inline tags call nothing: "<b>AI</b>s" is one word.
func (w *normTextWriter) brk(sep byte) {
	if w.b.Len() == 0 {
		return
	}
	if sep == '\n' && !w.lines {
		sep = ' '
	}
	if w.pending != '\n' {
		w.pending = sep
	}
}

func (w *normTextWriter) text(s string) {
	for _, r := range s {
		if w.full {
			return
		}
		switch {
		case r == '\n' || r == '\r' || r == '\f' || r == '\v':
			if w.b.Len() > 0 && w.pending != '\n' {
				w.pending = ' '
				if r == '\n' && w.plainNL {
					w.pending = '\n'
				}
			}
		case unicode.IsSpace(r):
			if w.b.Len() > 0 && w.pending == 0 {
				w.pending = ' '
			}
		case r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u200b' || r == '\ufeff':
			// Control characters and invisible marks carry no text.
		default:
			n := utf8.RuneLen(r)
			if w.pending != 0 {
				n++
			}
			if w.b.Len()+n > w.max {
				w.full = true
				return
			}
			if w.pending != 0 {
				w.b.WriteByte(w.pending)
				w.pending = 0
			}
			w.b.WriteRune(r)
		}
	}
}

func normIsBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Br, atom.Li, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Pre,
		atom.Table, atom.Tr, atom.Thead, atom.Tbody, atom.Tfoot, atom.Caption,
		atom.Section, atom.Article, atom.Aside, atom.Header, atom.Footer, atom.Nav,
		atom.Figure, atom.Figcaption, atom.Hr, atom.Main, atom.Details, atom.Summary,
		atom.Address, atom.Center, atom.Form, atom.Fieldset, atom.Iframe, atom.Video:
		return true
	}
	return false
}
