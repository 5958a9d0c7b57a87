package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"recap/store"
)

func TestHookIsTheFirstSentence(t *testing.T) {
	long := strings.Repeat("word ", 80)
	tests := []struct{ in, want string }{
		{"", ""},
		{"One sentence.", "One sentence."},
		{"First one. Second one.", "First one."},
		{"Is it out? Yes it is.", "Is it out?"},
		{"It ships v1.5 today. More later.", "It ships v1.5 today."},
		{"Labs, e.g. OpenAI, agree. Others do not.", "Labs, e.g. OpenAI, agree."},
		{"It rose 3. 5 more to go.", "It rose 3."},
		{"No end mark at all", "No end mark at all"},
		{"  Spaces around.  Next.", "Spaces around."},
		{"Written by J. Smith today. Next.", "Written by J. Smith today."},
		{long, strings.TrimSpace(long[:240]) + "…"},
		// A feed's wrapping is not the outlet's sentence.
		{"Gemini 2.5 Pro codes better. | Organization: Google | Source: Google (news)", "Gemini 2.5 Pro codes better."},
		{"Organization: Google | Gemini 2.5 Pro codes better.", "Gemini 2.5 Pro codes better."},
		{"Score: 394 Comments: 202 By: pg Discussion: https://news.ycombinator.com/item?id=1", ""},
		{"The post GPT-5 is here appeared first on AI Blog.", ""},
	}
	for _, tc := range tests {
		if got := hook(tc.in); got != tc.want {
			t.Errorf("hook(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := hook(strings.Repeat("é", 300)); !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "éé") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("hook of a long word without spaces = %q, want it cut on a rune boundary", got)
	}
}

func TestShortDurationReadsLikePeopleWrite(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Second, "45s"},
		{16 * time.Minute, "16m"},
		{3 * time.Hour, "3h"},
		{3*time.Hour + 5*time.Minute, "3h 5m"},
		{11*time.Hour + 5*time.Minute, "11h"},
		{26 * time.Hour, "1d 2h"},
		{4*24*time.Hour + 3*time.Hour, "4d"},
		{21 * 24 * time.Hour, "3w"},
		{800 * 24 * time.Hour, "2y"},
	}
	for _, tc := range tests {
		if got := shortDuration(tc.d); got != tc.want {
			t.Errorf("shortDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := agoLabel(-time.Hour); got != "just now" {
		t.Errorf("agoLabel(future) = %q, want \"just now\"", got)
	}
}

func TestCoverageLabelCountsOutletsAndArticlesWhenTheyDiffer(t *testing.T) {
	tests := []struct {
		outlets, articles int
		want              string
	}{
		{1, 1, "1 outlet"},
		{5, 5, "5 outlets"},
		{2, 3, "2 outlets · 3 articles"},
		{3, 1, "3 outlets · 1 article"}, // one article syndicated by three
		{1, 2, "1 outlet · 2 articles"},
	}
	for _, tc := range tests {
		if got := coverageLabel(tc.outlets, tc.articles); got != tc.want {
			t.Errorf("coverageLabel(%d, %d) = %q, want %q", tc.outlets, tc.articles, got, tc.want)
		}
	}
}

func TestStoryCursorRoundTripAndRejects(t *testing.T) {
	c, err := parseStoryCursor("1719838383000-42")
	if err != nil || c.ID != 42 || c.Updated.UnixMilli() != 1719838383000 {
		t.Fatalf("parseStoryCursor = %+v, %v", c, err)
	}
	if got := formatStoryCursor(c); got != "1719838383000-42" {
		t.Errorf("formatStoryCursor = %q", got)
	}
	if c, err := parseStoryCursor(""); err != nil || !c.IsZero() {
		t.Errorf("empty story cursor = %+v, %v; want the start of the list", c, err)
	}
	for _, bad := range []string{"x", "12-", "-5", "12-0", "12-x", "o50", "99999999999999999999-1"} {
		if _, err := parseStoryCursor(bad); err == nil {
			t.Errorf("parseStoryCursor(%q) accepted", bad)
		}
	}
}

func TestHighlightMarksWordPrefixesAndEscapes(t *testing.T) {
	tests := []struct {
		text  string
		words []string
		want  string
	}{
		{"Models & <chips>", []string{"model"}, "<mark>Models</mark> &amp; &lt;chips&gt;"},
		{"Émile's MODEL", []string{"émile", "model"}, "<mark>Émile</mark>&#39;s <mark>MODEL</mark>"},
		{"remodel", []string{"model"}, "remodel"},
		{"Transforming transforms transform trans", searchWords("transforms"), "<mark>Transforming</mark> <mark>transforms</mark> <mark>transform</mark> trans"},
		{"Models, modeling and a modem", searchWords("models"), "<mark>Models</mark>, <mark>modeling</mark> and a modem"},
		{"plain <b>", nil, "plain &lt;b&gt;"},
	}
	for _, tc := range tests {
		if got := string(highlight(tc.text, tc.words)); got != tc.want {
			t.Errorf("highlight(%q, %q) = %q, want %q", tc.text, tc.words, got, tc.want)
		}
	}
}

func TestWebLinkOnlyHTTP(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example/x":   "https://a.example/x",
		"http://a.example":      "http://a.example",
		"javascript:alert(1)":   "",
		"data:text/html,<b>":    "",
		"//a.example/x":         "",
		"":                      "",
		"https:///no-host":      "",
		"ftp://files.example/x": "",
	} {
		if got := webLink(in); got != want {
			t.Errorf("webLink(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://news.example.org":        "https://news.example.org",
		"https://news.example.org/recap/": "https://news.example.org/recap",
		" http://127.0.0.1:8080 ":         "http://127.0.0.1:8080",
	} {
		u, err := ParseBaseURL(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseBaseURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, in := range []string{"", "news.example.org", "ftp://x.example", "https://x.example/?a=1", "https://x.example/#f", "https://u:p@x.example"} {
		if _, err := ParseBaseURL(in); err == nil {
			t.Errorf("ParseBaseURL(%q) accepted", in)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for in, want := range map[string]bool{
		"gzip": true, "deflate, gzip;q=1.0": true, "GZIP": true, "*": true,
		"": false, "br": false, "gzip;q=0": false, "gzip; q=0": false, "identity": false,
	} {
		if got := acceptsGzip(in); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCursorRoundTripAndRejects(t *testing.T) {
	c, err := parseCursor("1719838383000-42")
	if err != nil || c.ID != 42 || c.Published.UnixMilli() != 1719838383000 {
		t.Fatalf("parseCursor = %+v, %v", c, err)
	}
	if got := formatCursor(c); got != "1719838383000-42" {
		t.Errorf("formatCursor = %q", got)
	}
	if c, err := parseCursor("-86400000-7"); err != nil || c.ID != 7 || c.Published.Year() != 1969 {
		t.Errorf("cursor before 1970 = %+v, %v", c, err)
	}
	for _, bad := range []string{"x", "12-", "-5", "12-0", "12-x", "a-1", "1-2-3-", "99999999999999999999-1"} {
		if _, err := parseCursor(bad); err == nil {
			t.Errorf("parseCursor(%q) accepted", bad)
		}
	}
}

// TestCacheRendersOncePerVersion: concurrent requests for one key and tag
// share one render; a new tag renders again.
func TestCacheRendersOncePerVersion(t *testing.T) {
	c := newRespCache(1 << 20)
	var renders atomic.Int32
	release := make(chan struct{})
	render := func() (*response, error) {
		renders.Add(1)
		<-release
		return newResponse([]byte("body"), "text/plain"), nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := c.get(context.Background(), "/", "v1", render); err != nil || string(r.body) != "body" {
				t.Errorf("get = %v, %v", r, err)
			}
		}()
	}
	// Let every goroutine reach get before the render returns (bounded wait).
	for i := 0; i < 200 && renders.Load() == 0; i++ {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := renders.Load(); n != 1 {
		t.Errorf("20 concurrent requests rendered %d times, want 1", n)
	}
	c.get(context.Background(), "/", "v2", render)
	if n := renders.Load(); n != 2 {
		t.Errorf("a new version rendered %d times in all, want 2", n)
	}
}

func TestCacheStaysWithinItsBytes(t *testing.T) {
	c := newRespCache(64 << 10)
	for i := range 200 {
		key := fmt.Sprintf("/articles/%d", i)
		c.get(context.Background(), key, "v", func() (*response, error) {
			return newResponse([]byte(strings.Repeat("x", 1000)), "text/plain"), nil
		})
	}
	if c.cur > c.max || len(c.byKey) == 0 || len(c.byKey) == 200 {
		t.Errorf("cache holds %d bytes in %d entries, limit %d", c.cur, len(c.byKey), c.max)
	}
	// The most recent entry survives.
	if _, ok := c.byKey["/articles/199"]; !ok {
		t.Error("the most recent entry was evicted")
	}
}

// TestClockTagsTurnOverAtStaggeredSeconds: a response on the clock changes
// tag once a minute, and different keys change at different seconds, so
// cached pages do not all render again at once.
func TestClockTagsTurnOverAtStaggeredSeconds(t *testing.T) {
	v := store.Version{Articles: 3, Sources: 4}
	start := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	turnovers := map[int]bool{} // second of the minute at which a key's tag changes
	for i := range 50 {
		key := fmt.Sprintf("/articles/%d?", i)
		changes, at := 0, -1
		prev := tagOf(key, onArticles|onClock, v, start)
		for s := 1; s <= 60; s++ {
			tag := tagOf(key, onArticles|onClock, v, start.Add(time.Duration(s)*time.Second))
			if tag != prev {
				changes++
				at = s % 60
			}
			prev = tag
		}
		if changes != 1 {
			t.Fatalf("%s changed tag %d times in a minute, want once", key, changes)
		}
		turnovers[at] = true
	}
	if len(turnovers) < 20 {
		t.Errorf("50 keys turn over at only %d distinct seconds: not staggered", len(turnovers))
	}
	if tagOf("/", onArticles, v, start) != tagOf("/", onArticles, v, start.Add(time.Hour)) {
		t.Error("a response off the clock changed tag with time")
	}
}
