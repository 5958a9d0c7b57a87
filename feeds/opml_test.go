package feeds

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"recap/store"
)

func TestParseOPMLFiles(t *testing.T) {
	tests := []struct {
		file string
		want []OPMLSource
	}{
		{"subscriptions.opml", []OPMLSource{
			{URL: "https://lab.example.com/feed.xml", Title: "Lab One & Friends", SiteURL: "https://lab.example.com/", Filter: "all", Weight: 1.5},
			{URL: "https://papers.example.org/rss", Title: "Papers\u00a0Daily", Filter: "all", Weight: 1, Interval: 6 * time.Hour},
			{URL: "https://caps.example.net/atom", Title: "No title attribute", SiteURL: "https://caps.example.net/", Filter: "all", Weight: 1},
			{URL: "https://tech.example.com/feed/", Title: "General Tech", Filter: "ai", Weight: 0.8, Interval: 90 * time.Minute},
			{URL: "https://spaced.example.com/feed", Title: "Spaced", Filter: "all", Weight: 1},
		}},
		{"opml1.opml", []OPMLSource{
			{URL: "http://weblog.example.com/index.rss", Title: "Example Weblog", SiteURL: "http://weblog.example.com/", Filter: "all", Weight: 1},
			{URL: "http://top.example.com/rss.xml", Title: "Top level", Filter: "all", Weight: 1},
		}},
		{"latin1.opml", []OPMLSource{
			{URL: "https://cafe.example.fr/flux", Title: "Café des réseaux", Filter: "all", Weight: 1},
		}},
		{"folders_only.opml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseOPML(openFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseOPML:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseOPMLErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of the error
	}{
		{"empty.opml", []string{"empty file"}},
		{"malformed.opml", []string{"parse opml", "line 6"}},
		{"not_opml.html", []string{"parse opml"}},
		{"no_body.opml", []string{"no <body>"}},
		{"bad_filter.opml", []string{`outline "Picky Outlet"`, "line 6", `filter "tech"`}},
		{"bad_weight.opml", []string{`outline "Heavy"`, "line 5", `weight "-1"`}},
		{"bad_interval.opml", []string{`outline "Impatient"`, `interval "30s"`, "5m"}},
		{"bad_url.opml", []string{`outline "Local file"`, "xmlUrl", "not an http"}},
		// encoding/xml neither reads the DTD nor expands its entities: both
		// files fail on the undefined entity instead of reading a local file
		// or expanding a billion laughs.
		{"xxe.opml", []string{"xxe"}},
		{"entity_bomb.opml", []string{"lol9"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseOPML(openFixture(t, tt.file))
			if err == nil {
				t.Fatalf("ParseOPML = %+v, want an error", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "root:") {
				t.Errorf("error %q leaks a local file", err)
			}
		})
	}
}

func TestParseOPMLAttributes(t *testing.T) {
	outline := func(attrs string) string {
		return `<opml version="2.0"><head/><body><outline text="S" xmlUrl="https://s.example.com/f" ` +
			attrs + `/></body></opml>`
	}
	tests := []struct {
		attrs   string
		want    OPMLSource
		wantErr bool
	}{
		{``, OPMLSource{Filter: "all", Weight: 1}, false},
		{`filter="ai"`, OPMLSource{Filter: "ai", Weight: 1}, false},
		{`filter=" All "`, OPMLSource{Filter: "all", Weight: 1}, false},
		{`filter="none"`, OPMLSource{}, true},
		{`weight="2"`, OPMLSource{Filter: "all", Weight: 2}, false},
		{`weight="0.25"`, OPMLSource{Filter: "all", Weight: 0.25}, false},
		{`weight="0"`, OPMLSource{}, true},
		{`weight="heavy"`, OPMLSource{}, true},
		{`weight="NaN"`, OPMLSource{}, true},
		{`weight="Inf"`, OPMLSource{}, true},
		{`weight="1e9"`, OPMLSource{}, true},
		{`interval="5m"`, OPMLSource{Filter: "all", Weight: 1, Interval: 5 * time.Minute}, false},
		{`interval="24h"`, OPMLSource{Filter: "all", Weight: 1, Interval: 24 * time.Hour}, false},
		{`interval="4m59s"`, OPMLSource{}, true},
		{`interval="25h"`, OPMLSource{}, true},
		{`interval="30"`, OPMLSource{}, true},
		{`interval="-1h"`, OPMLSource{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.attrs, func(t *testing.T) {
			got, err := ParseOPML(strings.NewReader(outline(tt.attrs)))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseOPML = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.URL, tt.want.Title = "https://s.example.com/f", "S"
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("ParseOPML = %+v, want [%+v]", got, tt.want)
			}
		})
	}
}

func TestParseOPMLSizeCap(t *testing.T) {
	// A valid start, then a comment that never ends before the cap.
	head := `<?xml version="1.0"?><opml version="2.0"><head/><body><!--`
	big := io.MultiReader(strings.NewReader(head), io.LimitReader(zeroes{}, MaxOPMLSize))
	_, err := ParseOPML(big)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("ParseOPML of %d bytes: err = %v, want a size error", MaxOPMLSize+len(head), err)
	}
}

// zeroes is an endless reader of 'x'.
type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestParseOPMLReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := ParseOPML(io.MultiReader(strings.NewReader("<opml>"), errReader{boom}))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestWriteOPMLRoundTrip(t *testing.T) {
	sources := []store.Source{
		{URL: "https://a.example.com/feed.xml", Title: "Plain", SiteURL: "https://a.example.com/", Filter: store.FilterAll, Weight: 1},
		{URL: "https://b.example.com/rss?x=1&y=2", Title: `Quotes "and" <tags> & ampersands`, Filter: store.FilterAI, Weight: 1.25, Interval: 6 * time.Hour},
		{URL: "https://c.example.com/atom", Title: "Ünïcödé — 日本語 ✓", Weight: 0.5, Interval: 90 * time.Minute},
		{URL: "https://d.example.com/feed", Title: "", Filter: store.FilterAll, Weight: 0}, // weight unset
		{URL: "https://e.example.com/feed", Title: "Tab\tand\nnewline", Weight: 1, Interval: 5 * time.Minute},
	}
	var buf bytes.Buffer
	if err := WriteOPML(&buf, "Recap & friends", sources); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`<opml version="2.0">`, `<title>Recap &amp; friends</title>`, `filter="ai"`, `weight="1.25"`, `interval="6h"`, `interval="1h30m"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	// Defaults are not written: an ordinary reader sees an ordinary list.
	if strings.Contains(out, `filter="all"`) || strings.Contains(out, `weight="1"`) {
		t.Errorf("output writes default attributes:\n%s", out)
	}

	got, err := ParseOPML(&buf)
	if err != nil {
		t.Fatalf("ParseOPML of WriteOPML's output: %v\n%s", err, out)
	}
	want := []OPMLSource{
		{URL: "https://a.example.com/feed.xml", Title: "Plain", SiteURL: "https://a.example.com/", Filter: "all", Weight: 1},
		{URL: "https://b.example.com/rss?x=1&y=2", Title: `Quotes "and" <tags> & ampersands`, Filter: "ai", Weight: 1.25, Interval: 6 * time.Hour},
		{URL: "https://c.example.com/atom", Title: "Ünïcödé — 日本語 ✓", Filter: "all", Weight: 0.5, Interval: 90 * time.Minute},
		{URL: "https://d.example.com/feed", Title: "", Filter: "all", Weight: 1}, // untitled stays untitled: the feed names itself on first poll
		{URL: "https://e.example.com/feed", Title: "Tab\tand\nnewline", Filter: "all", Weight: 1, Interval: 5 * time.Minute},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

// Titles come from feeds: characters XML cannot carry must not make the
// export unreadable.
func TestWriteOPMLInvalidCharacters(t *testing.T) {
	var buf bytes.Buffer
	src := store.Source{URL: "https://a.example.com/f", Title: "bell\x07 and \xff byte"}
	if err := WriteOPML(&buf, "x\x00", []store.Source{src}); err != nil {
		t.Fatal(err)
	}
	got, err := ParseOPML(&buf)
	if err != nil {
		t.Fatalf("ParseOPML: %v\n%s", err, buf.Bytes())
	}
	if len(got) != 1 || got[0].Title != "bell\uFFFD and \uFFFD byte" {
		t.Fatalf("got %+v", got)
	}
}

func TestWriteOPMLWriteError(t *testing.T) {
	boom := errors.New("pipe closed")
	err := WriteOPML(failWriter{boom}, "x", []store.Source{{URL: "https://a.example.com/f"}})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap %v", err, boom)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestOPMLFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{5 * time.Minute, "5m"},
		{6 * time.Hour, "6h"},
		{90 * time.Minute, "1h30m"},
		{24 * time.Hour, "24h"},
		{time.Hour + time.Second, "1h1s"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tt := range tests {
		got := opmlFormatDuration(tt.d)
		if got != tt.want {
			t.Errorf("opmlFormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != tt.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, tt.d)
		}
	}
}

// The bundled list, read from the file itself and through DefaultSources.
func TestDefaultSources(t *testing.T) {
	f, err := os.Open("defaults.opml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fromFile, err := ParseOPML(f)
	if err != nil {
		t.Fatalf("defaults.opml: %v", err)
	}
	embedded, err := DefaultSources()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFile, embedded) {
		t.Fatal("DefaultSources differs from defaults.opml")
	}
	srcs := fromFile
	if len(srcs) < 30 {
		t.Fatalf("%d default sources, want at least 30", len(srcs))
	}
	t.Logf("%d default sources", len(srcs))

	urls := map[string]bool{}
	filtered := 0
	for _, s := range srcs {
		u, err := url.Parse(s.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("%q: not an https URL", s.URL)
		}
		// ParseOPML drops duplicates silently, so count them in the raw file.
		if urls[s.URL] {
			t.Errorf("%q listed twice", s.URL)
		}
		urls[s.URL] = true
		if s.Title == "" {
			t.Errorf("%q has no title", s.URL)
		}
		if s.SiteURL == "" {
			t.Errorf("%q has no htmlUrl", s.URL)
		}
		if s.Filter == store.FilterAI {
			filtered++
		}
	}
	raw, err := os.ReadFile("defaults.opml")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "xmlUrl="); n != len(srcs) {
		t.Errorf("defaults.opml has %d xmlUrl attributes but %d distinct sources", n, len(srcs))
	}
	if filtered == 0 {
		t.Error(`no source has filter="ai"`)
	}
	for _, cat := range []string{"cs.AI", "cs.CL", "cs.LG"} {
		if u := "https://rss.arxiv.org/rss/" + cat; !urls[u] {
			t.Errorf("%s missing", u)
		}
	}
}

// Everything the defaults hold survives an export and an import.
func TestDefaultSourcesRoundTrip(t *testing.T) {
	srcs, err := DefaultSources()
	if err != nil {
		t.Fatal(err)
	}
	var stored []store.Source
	for _, s := range srcs {
		st := s.StoreSource()
		if !st.Enabled {
			t.Fatal("StoreSource returned a disabled source")
		}
		stored = append(stored, st)
	}
	var buf bytes.Buffer
	if err := WriteOPML(&buf, "Recap", stored); err != nil {
		t.Fatal(err)
	}
	back, err := ParseOPML(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, srcs) {
		t.Fatalf("round trip of the defaults changed them:\n got %+v\nwant %+v", back, srcs)
	}
}

func openFixture(t *testing.T, name string) io.Reader {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "opml", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// FuzzParseOPML: any input ends in sources that satisfy ParseOPML's promises,
// or an error, and whatever it returns survives WriteOPML and back.
func FuzzParseOPML(f *testing.F) {
	for _, name := range []string{"subscriptions.opml", "opml1.opml", "latin1.opml", "bad_filter.opml", "xxe.opml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "opml", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srcs, err := ParseOPML(bytes.NewReader(data))
		if err != nil {
			return
		}
		var stored []store.Source
		for _, s := range srcs {
			u, err := url.Parse(s.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("source URL %q is not http(s)", s.URL)
			}
			if s.Filter != store.FilterAll && s.Filter != store.FilterAI {
				t.Fatalf("filter %q", s.Filter)
			}
			if !(s.Weight > 0) || (s.Interval != 0 && (s.Interval < MinInterval || s.Interval > MaxInterval)) {
				t.Fatalf("weight %v, interval %v out of bounds", s.Weight, s.Interval)
			}
			stored = append(stored, s.StoreSource())
		}
		var buf bytes.Buffer
		if err := WriteOPML(&buf, "fuzz", stored); err != nil {
			t.Fatal(err)
		}
		back, err := ParseOPML(&buf)
		if err != nil {
			t.Fatalf("re-reading WriteOPML output: %v\n%s", err, buf.Bytes())
		}
		if len(back) != len(srcs) {
			t.Fatalf("round trip: %d sources, want %d", len(back), len(srcs))
		}
	})
}
