package feeds

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html/charset"

	"recap/news"
	"recap/store"
)

// MaxOPMLSize bounds an OPML file: the largest real subscription lists are a
// few hundred kilobytes.
const MaxOPMLSize = 5 << 20

// opmlMaxWeight bounds a source's weight: it scales an outlet's say in
// ranking, and a typo such as 100 for 1.00 would let one source drown the rest.
const opmlMaxWeight = 10

//go:embed defaults.opml
var defaultOPML []byte

// OPMLSource is one feed of an OPML file, with Recap's own attributes.
type OPMLSource struct {
	URL      string // the feed (xmlUrl), as written
	Title    string // title, else text; may be empty
	SiteURL  string // htmlUrl; empty when absent or not an http(s) URL
	Filter   string // store.FilterAll (default) or store.FilterAI
	Weight   float64
	Interval time.Duration // 0: adapt to the feed
}

// StoreSource returns the source as Recap stores it, enabled.
func (o OPMLSource) StoreSource() store.Source {
	return store.Source{
		URL:      o.URL,
		Title:    o.Title,
		SiteURL:  o.SiteURL,
		Filter:   o.Filter,
		Weight:   o.Weight,
		Interval: o.Interval,
		Enabled:  true,
	}
}

// DefaultSources returns the bundled list of AI news feeds Recap starts from
// when it has no sources.
func DefaultSources() ([]OPMLSource, error) {
	srcs, err := ParseOPML(bytes.NewReader(defaultOPML))
	if err != nil {
		return nil, fmt.Errorf("bundled defaults.opml: %w", err)
	}
	return srcs, nil
}

// ParseOPML reads an OPML 1.0 or 2.0 subscription list. Folders are
// flattened; every outline with an xmlUrl is a source, and a URL listed twice
// is returned once (the first time). Recap's attributes filter ("all" or
// "ai"), weight (> 0) and interval (a Go duration from 5m to 24h) are checked,
// and an invalid one is an error naming the outline and its line.
//
// encoding/xml expands no external entities and reads no DTD, so an OPML file
// cannot make Recap fetch files or expand entity bombs.
func ParseOPML(r io.Reader) ([]OPMLSource, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxOPMLSize+1))
	if err != nil {
		return nil, fmt.Errorf("read opml: %w", err)
	}
	if len(data) > MaxOPMLSize {
		return nil, fmt.Errorf("read opml: larger than %d MiB", MaxOPMLSize>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("parse opml: empty file")
	}

	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charset.NewReaderLabel
	// OPML exported by web tools often carries HTML entities (&nbsp;, &eacute;).
	dec.Entity = xml.HTMLEntity

	var (
		out     []OPMLSource
		seen    = map[string]bool{}
		depth   int
		rootOK  bool
		inBody  int // depth of <body>, 0 outside
		sawBody bool
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse opml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			name := strings.ToLower(t.Name.Local)
			if depth == 1 {
				if name != "opml" {
					return nil, fmt.Errorf("parse opml: root element is <%s>, not <opml>", t.Name.Local)
				}
				rootOK = true
				continue
			}
			if depth == 2 && name == "body" {
				inBody, sawBody = depth, true
				continue
			}
			if inBody == 0 || name != "outline" {
				continue
			}
			line, _ := dec.InputPos()
			src, ok, err := opmlOutline(t.Attr)
			if err != nil {
				return nil, fmt.Errorf("parse opml: %s (line %d): %w", opmlOutlineName(t.Attr), line, err)
			}
			if !ok {
				continue // a folder, or a link that is not a feed
			}
			key := opmlDedupeKey(src.URL)
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, src)
		case xml.EndElement:
			if depth == inBody {
				inBody = 0
			}
			depth--
			if depth == 0 {
				if !sawBody {
					return nil, errors.New("parse opml: no <body> element")
				}
				// Whatever follows the root element is not OPML.
				return out, nil
			}
		}
	}
	if !rootOK {
		return nil, errors.New("parse opml: no <opml> element")
	}
	return nil, errors.New("parse opml: unexpected end of file")
}

// opmlOutline reads one outline; ok is false when it names no feed.
func opmlOutline(attrs []xml.Attr) (src OPMLSource, ok bool, err error) {
	get := func(name string) string {
		for _, a := range attrs {
			if strings.EqualFold(a.Name.Local, name) {
				return strings.TrimSpace(a.Value)
			}
		}
		return ""
	}
	feed := get("xmlUrl")
	if feed == "" {
		return src, false, nil
	}
	if err := opmlCheckURL(feed); err != nil {
		return src, false, fmt.Errorf("xmlUrl: %w", err)
	}
	src = OPMLSource{URL: feed, Filter: store.FilterAll, Weight: 1}
	src.Title = get("title")
	if src.Title == "" {
		src.Title = get("text")
	}
	if strings.TrimSpace(src.Title) == feed {
		// A URL standing in for a name (as WriteOPML writes an untitled
		// source) is no title: the feed's own title fills it on first poll.
		src.Title = ""
	}
	if site := get("htmlUrl"); site != "" && opmlCheckURL(site) == nil {
		// The site link is decoration: a broken one is dropped, not fatal.
		src.SiteURL = site
	}

	src.Filter = strings.ToLower(get("filter"))
	if w := get("weight"); w != "" {
		v, err := strconv.ParseFloat(w, 64)
		// Check reads a weight of 0 as "not given"; written out, it is wrong.
		if err != nil || v == 0 {
			return src, false, fmt.Errorf("weight %q: %s", w, opmlWeightRule)
		}
		src.Weight = v
	}
	if iv := get("interval"); iv != "" {
		d, err := time.ParseDuration(iv)
		if err != nil {
			return src, false, fmt.Errorf("interval %q: %s", iv, opmlIntervalRule)
		}
		src.Interval = d
	}
	if err := src.Check(); err != nil {
		return src, false, err
	}
	return src, true, nil
}

var (
	opmlWeightRule   = fmt.Sprintf("want a number above 0 and at most %d", opmlMaxWeight)
	opmlIntervalRule = fmt.Sprintf("want a duration from %s to %s, such as 30m or 6h",
		opmlFormatDuration(MinInterval), opmlFormatDuration(MaxInterval))
)

// Check fills in o's defaults (filter "all", weight 1) and validates it:
// the one rule for sources from OPML files and from the command line.
func (o *OPMLSource) Check() error {
	o.URL = strings.TrimSpace(o.URL)
	if err := opmlCheckURL(o.URL); err != nil {
		return err
	}
	if o.Filter == "" {
		o.Filter = store.FilterAll
	}
	if o.Filter != store.FilterAll && o.Filter != store.FilterAI {
		return fmt.Errorf("filter %q: want %q or %q", o.Filter, store.FilterAll, store.FilterAI)
	}
	if o.Weight == 0 {
		o.Weight = 1
	}
	if math.IsNaN(o.Weight) || o.Weight <= 0 || o.Weight > opmlMaxWeight {
		return fmt.Errorf("weight %q: %s", strconv.FormatFloat(o.Weight, 'g', -1, 64), opmlWeightRule)
	}
	if o.Interval != 0 && (o.Interval < MinInterval || o.Interval > MaxInterval) {
		return fmt.Errorf("interval %q: %s", o.Interval.String(), opmlIntervalRule)
	}
	return nil
}

func opmlCheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http(s) feed URL", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// opmlDedupeKey makes URLs that differ only in case, default port or tracking
// parameters count as one feed.
func opmlDedupeKey(s string) string {
	if c, err := news.CanonicalURL(s, nil); err == nil {
		return c
	}
	return s
}

// opmlOutlineName names an outline in an error message.
func opmlOutlineName(attrs []xml.Attr) string {
	for _, name := range []string{"title", "text", "xmlUrl"} {
		for _, a := range attrs {
			if strings.EqualFold(a.Name.Local, name) && strings.TrimSpace(a.Value) != "" {
				v := strings.TrimSpace(a.Value)
				if len(v) > 80 {
					v = v[:80] + "..."
				}
				return fmt.Sprintf("outline %q", v)
			}
		}
	}
	return "outline"
}

// The OPML document as WriteOPML writes it.
type opmlDoc struct {
	XMLName xml.Name    `xml:"opml"`
	Version string      `xml:"version,attr"`
	Title   string      `xml:"head>title"`
	Body    opmlBodyDoc `xml:"body"`
}

type opmlBodyDoc struct {
	Outlines []opmlOutlineDoc `xml:"outline"`
}

type opmlOutlineDoc struct {
	Type     string `xml:"type,attr"`
	Text     string `xml:"text,attr"`
	Title    string `xml:"title,attr,omitempty"`
	XMLURL   string `xml:"xmlUrl,attr"`
	HTMLURL  string `xml:"htmlUrl,attr,omitempty"`
	Filter   string `xml:"filter,attr,omitempty"`
	Weight   string `xml:"weight,attr,omitempty"`
	Interval string `xml:"interval,attr,omitempty"`
}

// WriteOPML writes sources as an OPML 2.0 subscription list that ParseOPML
// reads back. Recap's attributes appear only where they differ from the
// defaults, so that other readers see an ordinary list.
func WriteOPML(w io.Writer, title string, sources []store.Source) error {
	doc := opmlDoc{Version: "2.0", Title: title}
	for _, s := range sources {
		o := opmlOutlineDoc{Type: "rss", Text: s.Title, Title: s.Title, XMLURL: s.URL, HTMLURL: s.SiteURL}
		if o.Text == "" {
			// OPML 2.0 requires text; the URL is the only name we have.
			o.Text = s.URL
		}
		if s.Filter == store.FilterAI {
			o.Filter = store.FilterAI
		}
		if s.Weight > 0 && s.Weight != 1 {
			o.Weight = strconv.FormatFloat(s.Weight, 'g', -1, 64)
		}
		if s.Interval > 0 {
			o.Interval = opmlFormatDuration(s.Interval)
		}
		doc.Body.Outlines = append(doc.Body.Outlines, o)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	return nil
}

// opmlFormatDuration writes 6h, 30m or 1h30m rather than time.Duration's
// 6h0m0s, as a person would write it in the file.
func opmlFormatDuration(d time.Duration) string {
	if d <= 0 || d%time.Second != 0 {
		return d.String()
	}
	var b strings.Builder
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s := d % time.Minute / time.Second; s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}
