package feeds

import (
	"errors"
	"html"
	"io"
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
// http, https and mailto URLs only, so no javascript: or data:), which
// normRender completes with absolute links, rel on every link and balanced
// tags.
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

// normSanitize returns content as safe HTML of at most maxOut bytes, its
// plain text (at most maxText bytes, block elements on their own lines) and
// the first picture worth showing as the item's image. Relative URLs resolve
// against base; links and images that cannot be made absolute http(s) go.
//
// Speed matters (every item of every feed comes through here), so bluemonday
// runs only when needed: plain text is only escaped, and markup made only of
// a small set of harmless elements (paragraphs, emphasis, lists, links,
// images; no attribute beyond href, src, alt, title and sizes) is rewritten
// by normRender's strict pass alone. Anything else goes through bluemonday
// first, then through the same rewriting.
func normSanitize(p *bluemonday.Policy, content string, base *url.URL, maxOut, maxText int) (string, string, string) {
	if strings.TrimSpace(content) == "" {
		return "", "", ""
	}
	if strings.IndexByte(content, '<') < 0 && strings.IndexByte(content, '&') < 0 {
		// An HTML parser reads CR and CRLF as LF; writing LF here makes the
		// output read back the same.
		if strings.IndexByte(content, '\r') >= 0 {
			content = strings.ReplaceAll(strings.ReplaceAll(content, "\r\n", "\n"), "\r", "\n")
		}
		return normCutText(html.EscapeString(normCutBytes(content, maxOut)), maxOut), normPlain(content, maxText, true), ""
	}
	out, text, image, ok := normRender(&normScanner{s: content}, len(content), base, true, maxOut, maxText)
	if !ok {
		clean := p.Sanitize(normCutBytes(content, normSanitizeMaxIn))
		out, text, image, _ = normRender(newNormHTMLTokens(clean), len(clean), base, false, maxOut, maxText)
	}
	if strings.TrimSpace(out) == "" {
		return "", text, image
	}
	return out, text, image
}

// normRender writes an HTML fragment out again, token by token: every tag
// serialized the same way (so sanitizing twice changes nothing), URLs made
// absolute against base, rel="noopener noreferrer nofollow" on every link,
// images kept only with an absolute http(s) src, stray end tags dropped and
// open elements closed (one unclosed <a> cannot swallow the rest of a page),
// and the whole cut at a token boundary to at most maxOut bytes. It collects
// the plain text and the first image on the way.
//
// In strict mode the input is raw feed content, and ok is false as soon as
// it holds anything outside normStrictAllowed: the caller then sanitizes with
// bluemonday and calls again, not strict, on bluemonday's output.
func normRender(z normTokens, size int, base *url.URL, strict bool, maxOut, maxText int) (out, text, image string, ok bool) {
	var (
		b        strings.Builder
		w        = normTextWriter{max: maxText, lines: true}
		stack    []atom.Atom
		stackLen int // bytes of the end tags that would close stack
		attrs    []xhtml.Attribute
		tag      strings.Builder
	)
	b.Grow(min(size+size/8, maxOut))
	w.b.Grow(min(size, maxText))
loop:
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			if z.Err() != io.EOF {
				return "", "", "", false
			}
			break loop
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name := z.Name()
			a := atom.Lookup([]byte(name))
			if strict && !normStrictAllowed(a) {
				return "", "", "", false
			}
			if a == 0 {
				continue // no element bluemonday keeps is unknown to atom
			}
			attrs = z.Attrs(attrs[:0])
			if strict && !normStrictAttrsOK(a, attrs) {
				return "", "", "", false
			}
			tag.Reset()
			if !normWriteTag(&tag, a, attrs, base) {
				continue
			}
			void := normIsVoid(a)
			add := 0
			if !void {
				add = len(a.String()) + 3
			}
			if b.Len()+tag.Len()+stackLen+add > maxOut {
				break loop
			}
			b.WriteString(tag.String())
			switch {
			case void:
			case tt == xhtml.SelfClosingTagToken:
				// "<p/>" opens a p in HTML; closing it at once keeps
				// the author's intent and the output balanced.
				normWriteEnd(&b, a)
			default:
				stack = append(stack, a)
				stackLen += add
			}
			if a == atom.Img && image == "" {
				image = normImageCandidate(attrs, base)
			}
			switch {
			case a == atom.Td || a == atom.Th || a == atom.Img:
				w.brk(' ')
			case normIsBlock(a):
				w.brk('\n')
			}
		case xhtml.EndTagToken:
			a := atom.Lookup([]byte(z.Name()))
			at := -1
			for i := len(stack) - 1; i >= 0 && i >= len(stack)-normEndTagSearch; i-- {
				if stack[i] == a && a != 0 {
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
			if normIsBlock(a) {
				w.brk('\n')
			}
		case xhtml.TextToken:
			t := z.Text()
			esc := html.EscapeString(t)
			if b.Len()+len(esc)+stackLen > maxOut {
				// Keep what fits, cut at a rune boundary and never inside
				// an entity.
				if room := maxOut - b.Len() - stackLen; room > 0 {
					b.WriteString(normCutText(esc, room))
				}
				w.text(t)
				break loop
			}
			b.WriteString(esc)
			w.text(t)
		default:
			// Comments and doctypes: bluemonday drops them, and a strict
			// pass leaves them to it.
			if strict {
				return "", "", "", false
			}
		}
	}
	for i := len(stack) - 1; i >= 0; i-- {
		normWriteEnd(&b, stack[i])
	}
	return b.String(), w.b.String(), image, true
}

// normTokens is what normRender reads: x/net/html's tokenizer for
// bluemonday's output, normScanner for the strict pass.
type normTokens interface {
	// Next returns the next token; ErrorToken at the end (Err is io.EOF) or
	// on input the tokens cannot represent (any other Err).
	Next() xhtml.TokenType
	Err() error
	Name() string                                  // lower-case tag name
	Attrs(dst []xhtml.Attribute) []xhtml.Attribute // the tag's attributes, appended to dst
	Text() string                                  // the text, entities decoded
}

// normHTMLTokens adapts x/net/html's tokenizer.
type normHTMLTokens struct {
	z       *xhtml.Tokenizer
	hasAttr bool
}

func newNormHTMLTokens(s string) *normHTMLTokens {
	return &normHTMLTokens{z: xhtml.NewTokenizer(strings.NewReader(s))}
}

func (t *normHTMLTokens) Next() xhtml.TokenType { return t.z.Next() }
func (t *normHTMLTokens) Err() error            { return t.z.Err() }
func (t *normHTMLTokens) Text() string          { return string(t.z.Text()) }

func (t *normHTMLTokens) Name() string {
	name, hasAttr := t.z.TagName()
	t.hasAttr = hasAttr
	return string(name)
}

func (t *normHTMLTokens) Attrs(dst []xhtml.Attribute) []xhtml.Attribute {
	for t.hasAttr {
		var k, v []byte
		k, v, t.hasAttr = t.z.TagAttr()
		dst = append(dst, xhtml.Attribute{Key: string(k), Val: string(v)})
	}
	return dst
}

// errNormScan: the strict scanner met markup it leaves to bluemonday.
var errNormScan = errors.New("markup beyond the strict scanner")

// normScanner tokenizes the plain markup most feed content is made of
// (text, start and end tags with simple attributes), far cheaper than
// x/net/html's tokenizer, which allocates a 4 KB buffer per fragment. On
// anything else (comments, declarations, a '<' that starts no tag, NUL, an
// attribute value with an entity that could read differently in an
// attribute) it stops with errNormScan and the caller takes the full path.
// Where it produces tokens, they are the ones x/net/html would; FuzzSanitize
// checks that.
type normScanner struct {
	s     string
	i     int
	err   error
	name  string
	text  string
	attrs []xhtml.Attribute
}

func (t *normScanner) Err() error                                    { return t.err }
func (t *normScanner) Name() string                                  { return t.name }
func (t *normScanner) Text() string                                  { return t.text }
func (t *normScanner) Attrs(dst []xhtml.Attribute) []xhtml.Attribute { return append(dst, t.attrs...) }

func (t *normScanner) fail() xhtml.TokenType {
	t.err = errNormScan
	return xhtml.ErrorToken
}

func (t *normScanner) Next() xhtml.TokenType {
	s := t.s
	if t.err != nil {
		return xhtml.ErrorToken
	}
	if t.i >= len(s) {
		t.err = io.EOF
		return xhtml.ErrorToken
	}
	if s[t.i] != '<' {
		j := strings.IndexByte(s[t.i:], '<')
		if j < 0 {
			j = len(s) - t.i
		}
		raw := s[t.i : t.i+j]
		t.i += j
		if strings.IndexByte(raw, 0) >= 0 {
			return t.fail()
		}
		if strings.IndexByte(raw, '\r') >= 0 {
			raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\r", "\n")
		}
		if strings.IndexByte(raw, '&') >= 0 {
			if !normNumericRefsSimple(raw) {
				return t.fail()
			}
			raw = html.UnescapeString(raw)
		}
		t.text = raw
		return xhtml.TextToken
	}
	i := t.i + 1
	end := false
	if i < len(s) && s[i] == '/' {
		end = true
		i++
	}
	n := normNameLen(s[i:])
	if n == 0 {
		return t.fail()
	}
	t.name = strings.ToLower(s[i : i+n])
	i += n
	t.attrs = t.attrs[:0]
	for {
		for i < len(s) && normIsHTMLSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return t.fail()
		}
		switch {
		case s[i] == '>':
			t.i = i + 1
			if end {
				return xhtml.EndTagToken
			}
			return xhtml.StartTagToken
		case s[i] == '/' && i+1 < len(s) && s[i+1] == '>' && !end:
			t.i = i + 2
			return xhtml.SelfClosingTagToken
		case end:
			return t.fail() // end tags carry no attributes
		}
		// Attribute: a name, then maybe = and a value.
		n := normNameLen(s[i:])
		if n == 0 {
			return t.fail()
		}
		key := strings.ToLower(s[i : i+n])
		i += n
		if i >= len(s) || (!normIsHTMLSpace(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/') {
			return t.fail()
		}
		for i < len(s) && normIsHTMLSpace(s[i]) {
			i++
		}
		val := ""
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && normIsHTMLSpace(s[i]) {
				i++
			}
			if i >= len(s) {
				return t.fail()
			}
			if q := s[i]; q == '"' || q == '\'' {
				j := strings.IndexByte(s[i+1:], q)
				if j < 0 {
					return t.fail()
				}
				val = s[i+1 : i+1+j]
				i += j + 2
			} else {
				j := i
				for j < len(s) && !normIsHTMLSpace(s[j]) && !strings.ContainsRune(">\"'=<`", rune(s[j])) {
					j++
				}
				if j == i {
					return t.fail()
				}
				val = s[i:j]
				i = j
			}
			if strings.ContainsAny(val, "\x00\r\n") || !normAttrEntitiesPlain(val) {
				return t.fail()
			}
			if strings.IndexByte(val, '&') >= 0 {
				val = html.UnescapeString(val)
			}
		}
		// As x/net/html does (and browsers), the first of repeated
		// attributes wins.
		dup := false
		for _, a := range t.attrs {
			if a.Key == key {
				dup = true
				break
			}
		}
		if !dup {
			t.attrs = append(t.attrs, xhtml.Attribute{Key: key, Val: val})
		}
	}
}

// normNameLen returns the length of the tag or attribute name at the start
// of s: a letter, then letters, digits and hyphens; 0 when there is none.
func normNameLen(s string) int {
	n := 0
	for n < len(s) {
		c := s[n]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case n > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return n
		}
		n++
	}
	return n
}

func normIsHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// normNumericRefsSimple reports whether every "&#" in s starts a numeric
// reference that html.UnescapeString and x/net/html decode alike: digits
// (or x and hex digits), a ';', and a plain code point. They differ on the
// rest ("&#;" and "&#X;" are text in HTML but U+FFFD for the former, "&#0"
// at the end is U+FFFD in HTML and text for the former; found by
// FuzzSanitize), which the scanner leaves to x/net/html. "&#8217;", the
// common case, stays on the fast path.
func normNumericRefsSimple(s string) bool {
	for {
		i := strings.Index(s, "&#")
		if i < 0 {
			return true
		}
		s = s[i+2:]
		base := 10
		if s != "" && (s[0] == 'x' || s[0] == 'X') {
			base, s = 16, s[1:]
		}
		n, v := 0, 0
		for n < len(s) && n < 8 && digitValue(s[n], base) >= 0 {
			v = v*base + digitValue(s[n], base)
			n++
		}
		if n == 0 || n == 8 || n >= len(s) || s[n] != ';' || !plainCodePoint(v) {
			return false
		}
		s = s[n+1:]
	}
}

// digitValue is c's value as a digit of base 10 or 16, else -1.
func digitValue(c byte, base int) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// plainCodePoint: printable, not a C0/C1 control, surrogate or noncharacter.
func plainCodePoint(v int) bool {
	switch {
	case v == '\t' || v == '\n':
		return true
	case v < 0x20, v >= 0x7f && v < 0xa0, v >= 0xd800 && v < 0xe000, v >= 0xfdd0 && v < 0xfdf0:
		return false
	case v&0xfffe == 0xfffe, v > 0x10ffff:
		return false
	}
	return true
}

// normAttrEntitiesPlain reports whether every '&' in an attribute value
// starts a reference closed by ';' ("&amp;", "&#38;"): those decode the
// same in attributes and in text, which html.UnescapeString implements.
// Others ("?a=1&copy=2") follow attribute-only rules the scanner leaves to
// x/net/html.
func normAttrEntitiesPlain(v string) bool {
	if !normNumericRefsSimple(v) {
		return false
	}
	for {
		i := strings.IndexByte(v, '&')
		if i < 0 {
			return true
		}
		v = v[i+1:]
		j := 0
		for j < len(v) && j < 32 && (v[j] == '#' || v[j] >= '0' && v[j] <= '9' || v[j] >= 'a' && v[j] <= 'z' || v[j] >= 'A' && v[j] <= 'Z') {
			j++
		}
		if j == 0 || j >= len(v) || v[j] != ';' {
			return false
		}
	}
}

// normStrictAllowed lists the elements the strict pass handles alone: a
// subset of what bluemonday's UGC policy keeps, none of which can run code or
// load anything but an image.
func normStrictAllowed(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Br, atom.Hr, atom.Div, atom.Span, atom.B, atom.I, atom.U, atom.S,
		atom.Strike, atom.Small, atom.Strong, atom.Em, atom.Code, atom.Pre, atom.Blockquote,
		atom.Sub, atom.Sup, atom.Mark, atom.Cite, atom.Abbr, atom.Figure, atom.Figcaption,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Li,
		atom.Dl, atom.Dt, atom.Dd, atom.Table, atom.Thead, atom.Tbody, atom.Tfoot, atom.Tr,
		atom.Td, atom.Th, atom.Caption, atom.A, atom.Img:
		return true
	}
	return false
}

// normStrictAttrsOK reports whether every attribute is one the strict pass
// handles: href, title and rel on links (rel is replaced), src, alt, title
// and numeric sizes on images, nothing elsewhere.
func normStrictAttrsOK(a atom.Atom, attrs []xhtml.Attribute) bool {
	for _, at := range attrs {
		switch {
		case a == atom.A && (at.Key == "href" || at.Key == "title" || at.Key == "rel"):
		case a == atom.Img && (at.Key == "src" || at.Key == "alt" || at.Key == "title"):
		case a == atom.Img && (at.Key == "width" || at.Key == "height"):
			if !normIsSize(at.Val) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// normIsSize matches what bluemonday allows in width and height: digits,
// then an optional percent sign.
func normIsSize(v string) bool {
	v = strings.TrimSuffix(v, "%")
	if v == "" || len(v) > 6 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// normWriteTag writes a start tag with its URLs made absolute and rel set on
// links. It returns false when the element must go: a link without a usable
// href or an image without a usable src, as bluemonday drops them (were this
// pass to keep one, sanitizing twice would not give the same).
func normWriteTag(b *strings.Builder, a atom.Atom, attrs []xhtml.Attribute, base *url.URL) bool {
	b.WriteByte('<')
	b.WriteString(a.String())
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
	if (a == atom.Img && !hasSrc) || (a == atom.A && !hasHref) {
		return false
	}
	if hasHref && (a == atom.A || a == atom.Area) {
		b.WriteString(` rel="` + normLinkRel + `"`)
	}
	b.WriteByte('>')
	return true
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
	if out, ok := normPlainTokens(&normScanner{s: s}, len(s), maxBytes, lines, true); ok {
		return out
	}
	out, _ := normPlainTokens(newNormHTMLTokens(s), len(s), maxBytes, lines, false)
	return out
}

// normPlainTokens is normPlain over tokens. With scanner set, ok is false
// when the scanner gives up or meets an element whose content HTML reads as
// raw text (script, title, ...), which only x/net/html reads right.
func normPlainTokens(z normTokens, size, maxBytes int, lines, scanner bool) (string, bool) {
	w := normTextWriter{max: maxBytes, lines: lines}
	w.b.Grow(min(size, maxBytes))
	skip := atom.Atom(0)
	for !w.full {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return w.b.String(), z.Err() == io.EOF
		case xhtml.TextToken:
			if skip == 0 {
				w.text(z.Text())
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			a := atom.Lookup([]byte(z.Name()))
			if scanner && normIsRawText(a) {
				return "", false
			}
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
	return w.b.String(), true
}

// normIsRawText reports the elements whose content HTML tokenizes as text
// (raw text and RCDATA), or that may switch the tokenizer's mode.
func normIsRawText(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Textarea, atom.Title, atom.Xmp, atom.Iframe,
		atom.Noembed, atom.Noframes, atom.Noscript, atom.Plaintext, atom.Template, atom.Svg, atom.Math:
		return true
	}
	return false
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
	for i := 0; i < len(s) && !w.full; {
		c := s[i]
		if c > ' ' && c < 0x7f {
			// A run of visible ASCII, the bulk of most text, in one write.
			j := i + 1
			for j < len(s) && s[j] > ' ' && s[j] < 0x7f {
				j++
			}
			w.word(s[i:j])
			i = j
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
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
		case r == utf8.RuneError && size == 1:
			w.word("\uFFFD")
		default:
			w.word(s[i : i+size])
		}
		i += size
	}
}

// word appends visible text, after the separator owed; what does not fit
// under max is cut at a rune boundary and ends the writing.
func (w *normTextWriter) word(s string) {
	sep := 0
	if w.pending != 0 {
		sep = 1
	}
	if w.b.Len()+sep+len(s) > w.max {
		w.full = true
		room := w.max - w.b.Len() - sep
		if room <= 0 {
			return
		}
		s = normCutBytes(s, room)
		if s == "" {
			return
		}
	}
	if sep == 1 {
		w.b.WriteByte(w.pending)
		w.pending = 0
	}
	w.b.WriteString(s)
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
