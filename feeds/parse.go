package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	gojson "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"
)

// Parse limits. The fetcher caps bodies at the same size; Parse checks again
// because it is also called on bodies that did not come through the fetcher.
const (
	parseMaxBytes        = 10 << 20
	parseDefaultMaxItems = 1000
	// A ttl beyond a year is nonsense; capping it keeps the conversion to a
	// Duration from overflowing.
	parseMaxTTL = 366 * 24 * time.Hour
)

// Errors Parse returns, to be matched with errors.Is. Their messages are
// what a source's health page shows. A body over the size cap gives the
// fetcher's ErrBodyTooLarge.
var (
	ErrEmptyBody         = errors.New("empty body")
	ErrNotAFeed          = errors.New("not a feed")
	ErrUnsupportedFormat = errors.New("unsupported format")
)

// ParsedFeed is a feed as gofeed read it, after Parse's own checks.
type ParsedFeed struct {
	Feed    *gofeed.Feed
	TTL     time.Duration // RSS <ttl>, 0 if none
	Dropped int           // items beyond maxItems, not kept
	// Encoding is the character encoding the body was read as.
	Encoding string
	// Repaired: the XML broke off (a truncated body, an unterminated CDATA
	// section) and was cut after its last complete item and closed.
	Repaired bool
}

type parseFormat int

const (
	parseFormatRSS parseFormat = iota + 1
	parseFormatAtom
	parseFormatJSON
)

func (f parseFormat) String() string {
	switch f {
	case parseFormatRSS:
		return "rss"
	case parseFormatAtom:
		return "atom"
	case parseFormatJSON:
		return "json"
	}
	return "unknown"
}

// Parse reads an RSS 0.9x/1.0/2.0, Atom or JSON Feed document with gofeed,
// after closing the gaps gofeed has on real-world bytes: the charset is
// taken from contentType, the XML declaration or the bytes and converted to
// UTF-8 (BOM removed); the prolog (declaration, comments, processing
// instructions, DOCTYPE) is cut so the root element comes first, since
// gofeed detects the type from the first 4 KB only and the DOCTYPE is the one
// place entity definitions could hide. Items beyond maxItems (1,000 when
// maxItems <= 0) are dropped and counted. ctx bounds the parse: gofeed reads
// through a reader that fails once ctx is done.
func Parse(ctx context.Context, body []byte, contentType string, maxItems int) (*ParsedFeed, error) {
	if len(body) > parseMaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrBodyTooLarge, len(body), parseMaxBytes)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if maxItems <= 0 {
		maxItems = parseDefaultMaxItems
	}

	doc, enc := parseToUTF8(body, contentType)
	start, format, err := parseFindRoot(doc)
	if err != nil {
		return nil, err
	}

	doc = doc[start:]
	// Cut a feed with too many items before gofeed builds them all: a 10 MB
	// feed of tiny items costs gofeed about 100 MB and seconds otherwise.
	dropped := 0
	if format == parseFormatJSON {
		doc, dropped = parseCutJSON(doc, maxItems)
	} else {
		doc, dropped = parseCutXML(ctx, doc, maxItems)
	}

	pf := &ParsedFeed{Encoding: enc}
	err = parseWith(ctx, format, doc, pf)
	if err != nil && format != parseFormatJSON && ctx.Err() == nil {
		if fixed := parseRepairXML(ctx, doc); fixed != nil {
			rf := &ParsedFeed{Encoding: enc, Repaired: true}
			// A repair that saves no item saves nothing worth a success.
			if parseWith(ctx, format, fixed, rf) == nil && len(rf.Feed.Items) > 0 {
				pf, err = rf, nil
			}
		}
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("parse %s: %w", format, cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", format, err)
	}
	if pf.Feed == nil {
		return nil, fmt.Errorf("parse %s: no feed", format)
	}
	pf.Dropped = dropped
	if n := len(pf.Feed.Items); n > maxItems {
		pf.Dropped += n - maxItems
		// Nil the tail so the dropped items can be collected while the
		// kept ones are in use.
		clear(pf.Feed.Items[maxItems:])
		pf.Feed.Items = pf.Feed.Items[:maxItems:maxItems]
	}
	return pf, nil
}

// parseWith runs gofeed's parser for format over doc and fills pf.
func parseWith(ctx context.Context, format parseFormat, doc []byte, pf *ParsedFeed) error {
	r := &parseCtxReader{ctx: ctx, r: bytes.NewReader(doc)}
	var err error
	switch format {
	case parseFormatRSS:
		var rf *rss.Feed
		if rf, err = (&rss.Parser{}).Parse(r); err == nil {
			pf.TTL = parseTTL(rf.TTL)
			// The translator's image scan runs a full HTML parse of every
			// item; the normalizer finds the first image while sanitizing.
			pf.Feed, err = (&gofeed.DefaultRSSTranslator{DisableContentImageScan: true}).Translate(rf)
		}
	case parseFormatAtom:
		var af *atom.Feed
		if af, err = (&atom.Parser{}).Parse(r); err == nil {
			pf.Feed, err = (&gofeed.DefaultAtomTranslator{}).Translate(af)
		}
	case parseFormatJSON:
		var jf *gojson.Feed
		if jf, err = (&gojson.Parser{}).Parse(r); err == nil {
			if strings.TrimSpace(jf.Version) == "" && len(jf.Items) == 0 {
				// Any JSON object parses; only these two say it is a feed.
				return fmt.Errorf("%w: JSON without a JSON Feed version or items", ErrNotAFeed)
			}
			pf.Feed, err = (&gofeed.DefaultJSONTranslator{}).Translate(jf)
		}
	default:
		err = ErrUnsupportedFormat
	}
	return err
}

// parseCutXML returns doc without the items after the first maxItems, and
// how many it removed. A count of start tags by their bytes decides whether
// the tokenizer needs to run at all; it runs only as far as the cut. The
// removed items are counted by their bytes too, so the count can be off when
// CDATA holds item tags.
func parseCutXML(ctx context.Context, doc []byte, maxItems int) ([]byte, int) {
	if parseCountItemTags(doc) <= maxItems {
		return doc, 0
	}
	var stack []string
	d := xml.NewDecoder(&parseCtxReader{ctx: ctx, r: bytes.NewReader(doc)})
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	seen := 0
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			return doc, 0 // let the parser report it
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + name
			}
			if len(stack) <= 2 && parseIsItemName(t.Name.Local) {
				seen++
				if seen > maxItems {
					var b bytes.Buffer
					b.Grow(int(off) + 64)
					b.Write(doc[:off])
					for i := len(stack) - 1; i >= 0; i-- {
						b.WriteString("</")
						b.WriteString(stack[i])
						b.WriteByte('>')
					}
					return b.Bytes(), 1 + parseCountItemTags(doc[d.InputOffset():])
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// parseCountItemTags counts the item and entry start tags in doc, prefixed
// or not, by their bytes.
func parseCountItemTags(doc []byte) int {
	n := 0
	for {
		i := bytes.IndexByte(doc, '<')
		if i < 0 {
			return n
		}
		doc = doc[i+1:]
		j := 0
		for j < len(doc) && j < 64 && !parseIsSpace(doc[j]) && doc[j] != '>' && doc[j] != '/' && doc[j] != '<' {
			j++
		}
		name := doc[:j]
		if k := bytes.LastIndexByte(name, ':'); k >= 0 {
			name = name[k+1:]
		}
		if bytes.EqualFold(name, []byte("item")) || bytes.EqualFold(name, []byte("entry")) {
			n++
		}
	}
}

func parseIsItemName(local string) bool {
	return strings.EqualFold(local, "item") || strings.EqualFold(local, "entry")
}

// parseCutJSON is parseCutXML for JSON Feed. Small documents are left alone:
// they cannot hold enough items to matter, and the check costs a pass.
func parseCutJSON(doc []byte, maxItems int) ([]byte, int) {
	if len(doc) < 256<<10 {
		return doc, 0
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(doc, &top) != nil {
		return doc, 0 // let the parser report it
	}
	var items []json.RawMessage
	if raw, ok := top["items"]; !ok || json.Unmarshal(raw, &items) != nil || len(items) <= maxItems {
		return doc, 0
	}
	kept, err := json.Marshal(items[:maxItems])
	if err != nil {
		return doc, 0
	}
	top["items"] = kept
	out, err := json.Marshal(top)
	if err != nil {
		return doc, 0
	}
	return out, len(items) - maxItems
}

// parseRepairXML returns doc cut where its XML stops being readable and
// closed, or nil when there is nothing to repair. The cut falls before the
// item or entry that was being read, so a half item is never kept: stored, it
// would later be updated by its complete version only if its id survived.
func parseRepairXML(ctx context.Context, doc []byte) []byte {
	type open struct {
		name  string // as written, prefix included
		start int64
	}
	var stack []open
	d := xml.NewDecoder(&parseCtxReader{ctx: ctx, r: bytes.NewReader(doc)})
	d.Strict = false
	// The body is UTF-8 by now; a later declaration must not switch it.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	good := int64(0)
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			if (errors.Is(err, io.EOF) && len(stack) == 0) || ctx.Err() != nil {
				return nil // complete (the failure was something else), or out of time
			}
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if t.Name.Space != "" {
				name = t.Name.Space + ":" + name
			}
			stack = append(stack, open{name, off})
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
		good = d.InputOffset()
	}
	for i, o := range stack {
		if parseIsItemName(o.name[strings.LastIndexByte(o.name, ':')+1:]) {
			good, stack = o.start, stack[:i]
			break
		}
	}
	if len(stack) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.Grow(int(good) + 64)
	b.Write(doc[:good])
	for i := len(stack) - 1; i >= 0; i-- {
		b.WriteString("</")
		b.WriteString(stack[i].name)
		b.WriteByte('>')
	}
	return b.Bytes()
}

// parseFindRoot skips the prolog of doc (whitespace, processing instructions,
// comments, DOCTYPE and other declarations) and returns the offset of the
// root element or of a JSON object, with the format that root announces.
func parseFindRoot(doc []byte) (int, parseFormat, error) {
	i := 0
	sawMarkup := false
	for {
		for i < len(doc) && parseIsSpace(doc[i]) {
			i++
		}
		if i == len(doc) {
			if sawMarkup {
				return 0, 0, fmt.Errorf("%w: no root element", ErrNotAFeed)
			}
			return 0, 0, ErrEmptyBody
		}
		rest := doc[i:]
		switch {
		case rest[0] == '{':
			return i, parseFormatJSON, nil
		case rest[0] == '[':
			return 0, 0, fmt.Errorf("%w: a JSON array, not a JSON Feed object", ErrUnsupportedFormat)
		case rest[0] != '<':
			return 0, 0, fmt.Errorf("%w: neither XML nor JSON", ErrUnsupportedFormat)
		case bytes.HasPrefix(rest, []byte("<?")):
			end := bytes.Index(rest[2:], []byte("?>"))
			if end < 0 {
				return 0, 0, fmt.Errorf("%w: unterminated processing instruction", ErrNotAFeed)
			}
			i += 2 + end + 2
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return 0, 0, fmt.Errorf("%w: unterminated comment", ErrNotAFeed)
			}
			i += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<!")):
			n := parseDeclLen(rest)
			if n < 0 {
				return 0, 0, fmt.Errorf("%w: unterminated declaration", ErrNotAFeed)
			}
			i += n
		default:
			name := parseRootName(rest[1:])
			local := name
			if j := strings.LastIndexByte(local, ':'); j >= 0 {
				local = local[j+1:]
			}
			switch strings.ToLower(local) {
			case "rss", "rdf":
				return i, parseFormatRSS, nil
			case "feed":
				return i, parseFormatAtom, nil
			case "html", "head", "body":
				return 0, 0, fmt.Errorf("%w: HTML page", ErrNotAFeed)
			case "opml":
				return 0, 0, fmt.Errorf("%w: OPML, a list of feeds", ErrUnsupportedFormat)
			case "":
				return 0, 0, fmt.Errorf("%w: neither XML nor JSON", ErrUnsupportedFormat)
			}
			return 0, 0, fmt.Errorf("%w: root element <%s>", ErrUnsupportedFormat, parseClip(name, 64))
		}
		sawMarkup = true
	}
}

// parseDeclLen returns the length of the declaration ("<!DOCTYPE ...>") at
// the start of b, internal subset included, or -1 when it does not end.
func parseDeclLen(b []byte) int {
	depth := 0
	var quote byte
	for i := 2; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			if depth > 0 {
				depth--
			}
		case c == '>' && depth == 0:
			return i + 1
		}
	}
	return -1
}

// parseRootName returns the element name at the start of b.
func parseRootName(b []byte) string {
	n := 0
	for n < len(b) && n < 256 {
		c := b[n]
		if parseIsSpace(c) || c == '/' || c == '>' || c == '<' {
			break
		}
		n++
	}
	return string(b[:n])
}

func parseIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// parseTTL reads RSS <ttl>, minutes; 0 when absent or not a positive number.
func parseTTL(s string) time.Duration {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	if n > int64(parseMaxTTL/time.Minute) {
		return parseMaxTTL
	}
	return time.Duration(n) * time.Minute
}

func parseClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// parseCtxReader fails reads once ctx is done, so a parser that knows nothing
// of contexts stops at its next read (encoding/xml reads 4 KB at a time).
type parseCtxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *parseCtxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
