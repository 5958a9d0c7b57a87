// Package storetest is the conformance suite of store.Store: every backend
// runs the same tests, so SQLite and PostgreSQL keep the same behaviour.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

// Clock is the time a store under test reads: the real time plus an
// offset that only a test moves, forward, so a lease expires without the
// test waiting for it.
type Clock struct {
	offset atomic.Int64
}

// Now is the clock's time.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Run runs the whole suite. open must return a new, empty store for each
// subtest, which reads the time from now wherever it reads the time; Run
// closes it when the subtest ends (before open's own cleanups run, so those
// may delete what the store leaves behind).
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"AddSourceDefaults", testAddSourceDefaults},
		{"AddSourceKeepsValues", testAddSourceKeepsValues},
		{"AddSourceDuplicate", testAddSourceDuplicate},
		{"NotFound", testNotFound},
		{"SourcesOrderAndCounts", testSourcesOrderAndCounts},
		{"SetSourceEnabled", testSetSourceEnabled},
		{"DueSources", testDueSources},
		{"NewItemsRoundTrip", testNewItemsRoundTrip},
		{"SameItemTwice", testSameItemTwice},
		{"EditedItem", testEditedItem},
		{"EditedLink", testEditedLink},
		{"SameURLTwoSources", testSameURLTwoSources},
		{"ItemWithoutLinkOrGUID", testItemWithoutLinkOrGUID},
		{"SameURLInOneBatch", testSameURLInOneBatch},
		{"SameKeyInOneBatch", testSameKeyInOneBatch},
		{"LargeBatch", testLargeBatch},
		{"FetchRecords", testFetchRecords},
		{"ErrorFetch", testErrorFetch},
		{"NewURL", testNewURL},
		{"NewURLTaken", testNewURLTaken},
		{"TitleOnlyWhenEmpty", testTitleOnlyWhenEmpty},
		{"RemoveSource", testRemoveSource},
		{"EachArticle", testEachArticle},
		{"TimesRoundTrip", testTimesRoundTrip},
		{"UnicodeRoundTrip", testUnicodeRoundTrip},
		{"ContextCanceled", testContextCanceled},
		{"Ping", testPing},
		{"ArticlesNewestFirst", testArticlesNewestFirst},
		{"Search", testSearch},
		{"Version", testVersion},
		{"Unclustered", testUnclustered},
		{"EachClustered", testEachClustered},
		{"LeaseExclusive", testLeaseExclusive},
		{"LeaseBadInput", testLeaseBadInput},
		{"SaveStoriesBadInput", testSaveStoriesBadInput},
		{"StoryRoundTrip", testStoryRoundTrip},
		{"StoryReplaced", testStoryReplaced},
		{"StoriesMerge", testStoriesMerge},
		{"StoriesPaging", testStoriesPaging},
		{"StoryOutlets", testStoryOutlets},
		{"EachStory", testEachStory},
		{"StoriesVersion", testStoriesVersion},
		{"StoriesContextCanceled", testStoriesContextCanceled},
		{"StoryVersion", testStoryVersion},
		{"StoriesToAnalyse", testStoriesToAnalyse},
		{"SaveAnalysesRoundTrip", testSaveAnalysesRoundTrip},
		{"SaveAnalysesBadInput", testSaveAnalysesBadInput},
		{"AnalysisMerge", testAnalysisMerge},
		{"StoryRefs", testStoryRefs},
		{"InsightRoundTrip", testInsightRoundTrip},
		{"StoriesForInsight", testStoriesForInsight},
		{"AnalysisContextCanceled", testAnalysisContextCanceled},
		{"ActiveStories", testActiveStories},
		{"CountBetween", testCountBetween},
		{"TopicStories", testTopicStories},
		{"DigestContextCanceled", testDigestContextCanceled},
	}
	// The tests that move the store's clock.
	clocked := []struct {
		name string
		fn   func(t *testing.T, s store.Store, c *Clock)
	}{
		{"LeaseExpires", testLeaseExpires},
		{"SaveStoriesLeaseLost", testSaveStoriesLeaseLost},
		{"SaveAnalysesLeaseLost", testSaveAnalysesLeaseLost},
	}
	run := func(name string, fn func(t *testing.T, s store.Store, c *Clock)) {
		t.Run(name, func(t *testing.T) {
			c := &Clock{}
			s := open(t, c.Now)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			fn(t, s, c)
		})
	}
	for _, tc := range tests {
		run(tc.name, func(t *testing.T, s store.Store, _ *Clock) { tc.fn(t, s) })
	}
	for _, tc := range clocked {
		run(tc.name, tc.fn)
	}
}

// base has a sub-millisecond part, so precision loss beyond what the
// contract allows (milliseconds) shows.
var base = time.Date(2026, 4, 1, 12, 0, 0, 123_456_789, time.UTC)

func addSource(t *testing.T, s store.Store, url string) store.Source {
	t.Helper()
	src, err := s.AddSource(t.Context(), store.Source{URL: url, Title: "Source " + url})
	if err != nil {
		t.Fatalf("AddSource(%s): %v", url, err)
	}
	return src
}

// item builds a normalized article as the feeds stage hands it over.
func item(prefix string, n int) news.Article {
	url := fmt.Sprintf("https://example.com/%s/%d", prefix, n)
	guid := fmt.Sprintf("urn:%s:%d", prefix, n)
	pub := base.Add(-time.Duration(n) * time.Minute)
	title := fmt.Sprintf("Title %s %d", prefix, n)
	return news.Article{
		ItemKey:     news.ItemKey(guid, url, title, pub),
		GUID:        guid,
		Link:        url + "?utm_source=feed",
		URL:         url,
		Title:       title,
		Summary:     fmt.Sprintf("Summary of %s %d.", prefix, n),
		ContentHTML: fmt.Sprintf("<p>Content of <b>%s</b> %d.</p>", prefix, n),
		Text:        fmt.Sprintf("Content of %s %d.", prefix, n),
		Author:      "Ada Lovelace",
		Categories:  []string{"AI", "Research"},
		ImageURL:    url + "/image.png",
		Published:   pub,
		Collected:   base,
	}
}

func items(prefix string, n int) []news.Article {
	out := make([]news.Article, n)
	for i := range out {
		out[i] = item(prefix, i)
	}
	return out
}

func result(src store.Source, at time.Time, arts []news.Article) store.FetchResult {
	return store.FetchResult{
		Fetch:     store.Fetch{SourceID: src.ID, At: at, Status: 200, Duration: 150 * time.Millisecond, Bytes: 4096, Items: len(arts)},
		Articles:  arts,
		NextCheck: at.Add(30 * time.Minute),
	}
}

// save saves r and checks that every item was counted exactly once.
func save(t *testing.T, s store.Store, r store.FetchResult) store.SaveStats {
	t.Helper()
	st, err := s.SaveFetch(t.Context(), r)
	if err != nil {
		t.Fatalf("SaveFetch(source %d): %v", r.Fetch.SourceID, err)
	}
	if sum := st.New + st.Updated + st.Sightings + st.Unchanged; sum != len(r.Articles) {
		t.Fatalf("SaveFetch stats %+v add up to %d, want %d items", st, sum, len(r.Articles))
	}
	return st
}

func wantStats(t *testing.T, got, want store.SaveStats) {
	t.Helper()
	if got != want {
		t.Fatalf("SaveStats = %+v, want %+v", got, want)
	}
}

func all(t *testing.T, s store.Store) []store.ArticleRecord {
	t.Helper()
	var out []store.ArticleRecord
	if err := s.EachArticle(t.Context(), func(r store.ArticleRecord) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("EachArticle: %v", err)
	}
	n, err := s.CountArticles(t.Context())
	if err != nil {
		t.Fatalf("CountArticles: %v", err)
	}
	if n != len(out) {
		t.Fatalf("CountArticles = %d, EachArticle visited %d", n, len(out))
	}
	return out
}

func getSource(t *testing.T, s store.Store, id int64) store.Source {
	t.Helper()
	src, err := s.Source(t.Context(), id)
	if err != nil {
		t.Fatalf("Source(%d): %v", id, err)
	}
	return src
}

func getArticle(t *testing.T, s store.Store, id int64) store.ArticleRecord {
	t.Helper()
	a, err := s.Article(t.Context(), id)
	if err != nil {
		t.Fatalf("Article(%d): %v", id, err)
	}
	return a
}

// sameTime accepts the store's precision (milliseconds at worst) and
// requires UTC back.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", what, got)
		}
		return
	}
	if got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, got.Location())
	}
	if d := got.Sub(want); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("%s = %v, want %v (off by %v)", what, got, want, d)
	}
}

func sighting(t *testing.T, rec store.ArticleRecord, sourceID int64) store.Sighting {
	t.Helper()
	for _, g := range rec.Seen {
		if g.SourceID == sourceID {
			return g
		}
	}
	t.Fatalf("article %d: no sighting from source %d in %+v", rec.ID, sourceID, rec.Seen)
	return store.Sighting{}
}

func testAddSourceDefaults(t *testing.T, s store.Store) {
	before := time.Now()
	src, err := s.AddSource(t.Context(), store.Source{URL: "https://example.com/feed.xml"})
	if err != nil {
		t.Fatalf("AddSource: %v", err)
	}
	if src.ID <= 0 {
		t.Errorf("ID = %d, want > 0", src.ID)
	}
	if src.Filter != store.FilterAll || src.Weight != 1 || !src.Enabled {
		t.Errorf("defaults: Filter %q Weight %v Enabled %v, want all 1 true", src.Filter, src.Weight, src.Enabled)
	}
	if src.Created.Before(before.Add(-time.Second)) || src.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("Created = %v, want about now", src.Created)
	}
	got := getSource(t, s, src.ID)
	if got != src {
		t.Errorf("Source = %+v\nAddSource returned %+v", got, src)
	}
	if !got.NextCheck.IsZero() || !got.LastCheck.IsZero() || got.ErrorCount != 0 || got.Articles != 0 {
		t.Errorf("new source state = %+v, want nothing checked yet", got)
	}
}

func testAddSourceKeepsValues(t *testing.T, s store.Store) {
	want := store.Source{
		URL:      "https://example.com/tech.rss",
		Title:    "Tech",
		SiteURL:  "https://example.com/",
		Filter:   store.FilterAI,
		Weight:   2.5,
		Interval: 15 * time.Minute,
		Created:  base,
	}
	src, err := s.AddSource(t.Context(), want)
	if err != nil {
		t.Fatalf("AddSource: %v", err)
	}
	got := getSource(t, s, src.ID)
	if got.URL != want.URL || got.Title != want.Title || got.SiteURL != want.SiteURL ||
		got.Filter != want.Filter || got.Weight != want.Weight || got.Interval != want.Interval || !got.Enabled {
		t.Errorf("Source = %+v, want the values of %+v", got, want)
	}
	sameTime(t, "Created", got.Created, want.Created)
}

func testAddSourceDuplicate(t *testing.T, s store.Store) {
	addSource(t, s, "https://example.com/a")
	_, err := s.AddSource(t.Context(), store.Source{URL: "https://example.com/a", Title: "again"})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("AddSource of a present URL: err = %v, want ErrExists", err)
	}
	srcs, err := s.Sources(t.Context())
	if err != nil {
		t.Fatalf("Sources: %v", err)
	}
	if len(srcs) != 1 || srcs[0].Title != "Source https://example.com/a" {
		t.Errorf("Sources = %+v, want the first source alone, untouched", srcs)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	src := addSource(t, s, "https://example.com/a")
	missing := src.ID + 1000
	checks := []struct {
		name string
		err  error
	}{
		{"Source", func() error { _, err := s.Source(ctx, missing); return err }()},
		{"RemoveSource", s.RemoveSource(ctx, missing)},
		{"SetSourceEnabled", s.SetSourceEnabled(ctx, missing, false)},
		{"Article", func() error { _, err := s.Article(ctx, 1); return err }()},
		{"SaveFetch", func() error {
			_, err := s.SaveFetch(ctx, result(store.Source{ID: missing}, base, items("x", 2)))
			return err
		}()},
	}
	for _, c := range checks {
		if !errors.Is(c.err, store.ErrNotFound) {
			t.Errorf("%s of a missing row: err = %v, want ErrNotFound", c.name, c.err)
		}
	}
	if n, err := s.CountArticles(ctx); err != nil || n != 0 {
		t.Errorf("CountArticles = %d, %v; want 0 after a refused SaveFetch", n, err)
	}
}

func testSourcesOrderAndCounts(t *testing.T, s store.Store) {
	a := addSource(t, s, "https://example.com/a")
	b := addSource(t, s, "https://example.com/b")
	c := addSource(t, s, "https://example.com/c")
	save(t, s, result(b, base, items("b", 3)))
	save(t, s, result(a, base, items("a", 2)))
	// c carries one of b's articles: a sighting, not an article of c.
	save(t, s, result(c, base, []news.Article{item("b", 0)}))

	srcs, err := s.Sources(t.Context())
	if err != nil {
		t.Fatalf("Sources: %v", err)
	}
	var ids []int64
	counts := map[int64]int{}
	for _, src := range srcs {
		ids = append(ids, src.ID)
		counts[src.ID] = src.Articles
	}
	if want := []int64{a.ID, b.ID, c.ID}; !slices.Equal(ids, want) {
		t.Errorf("Sources ids = %v, want %v", ids, want)
	}
	if want := map[int64]int{a.ID: 2, b.ID: 3, c.ID: 0}; fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("Articles counts = %v, want %v", counts, want)
	}
	if got := getSource(t, s, b.ID).Articles; got != 3 {
		t.Errorf("Source(b).Articles = %d, want 3", got)
	}
}

func testSetSourceEnabled(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	for _, enabled := range []bool{false, true, false} {
		if err := s.SetSourceEnabled(t.Context(), src.ID, enabled); err != nil {
			t.Fatalf("SetSourceEnabled(%v): %v", enabled, err)
		}
		if got := getSource(t, s, src.ID).Enabled; got != enabled {
			t.Errorf("Enabled = %v, want %v", got, enabled)
		}
	}
}

func testDueSources(t *testing.T, s store.Store) {
	now := base
	never := addSource(t, s, "https://example.com/never")
	future := addSource(t, s, "https://example.com/future")
	overdue := addSource(t, s, "https://example.com/overdue")
	disabled := addSource(t, s, "https://example.com/disabled")
	atNow := addSource(t, s, "https://example.com/now")
	recent := addSource(t, s, "https://example.com/recent")
	schedule := func(src store.Source, next time.Time) {
		t.Helper()
		save(t, s, store.FetchResult{Fetch: store.Fetch{SourceID: src.ID, At: now.Add(-3 * time.Hour), Status: 304}, NextCheck: next})
	}
	schedule(future, now.Add(time.Hour))
	schedule(overdue, now.Add(-2*time.Hour))
	schedule(disabled, now.Add(-3*time.Hour))
	schedule(atNow, now)
	schedule(recent, now.Add(-time.Minute))
	if err := s.SetSourceEnabled(t.Context(), disabled.ID, false); err != nil {
		t.Fatalf("SetSourceEnabled: %v", err)
	}

	tests := []struct {
		limit int
		want  []int64
	}{
		{0, []int64{never.ID, overdue.ID, recent.ID, atNow.ID}},
		{10, []int64{never.ID, overdue.ID, recent.ID, atNow.ID}},
		{2, []int64{never.ID, overdue.ID}},
	}
	for _, tc := range tests {
		due, err := s.DueSources(t.Context(), now, tc.limit)
		if err != nil {
			t.Fatalf("DueSources(limit %d): %v", tc.limit, err)
		}
		var got []int64
		for _, d := range due {
			got = append(got, d.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("DueSources(limit %d) = %v, want %v", tc.limit, got, tc.want)
		}
	}
	due, err := s.DueSources(t.Context(), now.Add(-24*time.Hour), 0)
	if err != nil {
		t.Fatalf("DueSources: %v", err)
	}
	if len(due) != 1 || due[0].ID != never.ID {
		t.Errorf("DueSources a day back = %+v, want only the never-checked source", due)
	}
}

func testNewItemsRoundTrip(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	arts := items("a", 3)
	arts[1].Updated = base.Add(-time.Minute)
	arts[2].Categories = nil
	arts[2].ContentHTML, arts[2].Text, arts[2].ImageURL, arts[2].Author = "", "", "", ""
	wantStats(t, save(t, s, result(src, base, arts)), store.SaveStats{New: 3})

	recs := all(t, s)
	if len(recs) != 3 {
		t.Fatalf("%d articles, want 3", len(recs))
	}
	for i, rec := range recs {
		want := arts[i]
		got := rec.Article
		if got.ID <= 0 || got.SourceID != src.ID || got.URL != want.URL || got.Title != want.Title ||
			got.Summary != want.Summary || got.ContentHTML != want.ContentHTML || got.Text != want.Text ||
			got.Author != want.Author || got.ImageURL != want.ImageURL || !slices.Equal(got.Categories, want.Categories) ||
			got.ItemKey != want.ItemKey || got.GUID != want.GUID || got.Link != want.Link {
			t.Errorf("article %d = %+v\nwant fields of %+v", i, got, want)
		}
		if got.StoryID != 0 || got.DuplicateOf != 0 {
			t.Errorf("article %d: StoryID %d DuplicateOf %d, want 0 before clustering", i, got.StoryID, got.DuplicateOf)
		}
		sameTime(t, "Published", got.Published, want.Published)
		sameTime(t, "Updated", got.Updated, want.Updated)
		sameTime(t, "Collected", got.Collected, want.Collected)
		if rec.Source != src.Title || rec.SourceURL != src.URL {
			t.Errorf("article %d: Source %q %q, want %q %q", i, rec.Source, rec.SourceURL, src.Title, src.URL)
		}
		if len(rec.Seen) != 1 {
			t.Fatalf("article %d: Seen = %+v, want one sighting", i, rec.Seen)
		}
		g := rec.Seen[0]
		if g.SourceID != src.ID || g.Source != src.Title || g.SourceURL != src.URL || g.GUID != want.GUID || g.Link != want.Link {
			t.Errorf("article %d: sighting %+v, want source %d with GUID %q link %q", i, g, src.ID, want.GUID, want.Link)
		}
		sameTime(t, "FirstSeen", g.FirstSeen, base)
		if one := getArticle(t, s, got.ID); fmt.Sprint(one) != fmt.Sprint(rec) {
			t.Errorf("Article(%d) = %+v\nEachArticle gave %+v", got.ID, one, rec)
		}
	}
}

func testSameItemTwice(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	arts := items("a", 2)
	wantStats(t, save(t, s, result(src, base, arts)), store.SaveStats{New: 2})
	before := all(t, s)

	again := items("a", 2)
	for i := range again {
		// A later fetch: new collection time, new tracking parameters; still
		// the same items.
		again[i].Collected = base.Add(time.Hour)
		again[i].Link = again[i].URL + "?utm_source=other"
	}
	wantStats(t, save(t, s, result(src, base.Add(time.Hour), again)), store.SaveStats{Unchanged: 2})
	after := all(t, s)
	if len(after) != 2 {
		t.Fatalf("%d articles after the same items twice, want 2", len(after))
	}
	for i := range after {
		if after[i].ID != before[i].ID || after[i].Title != before[i].Title {
			t.Errorf("article %d changed: %+v -> %+v", i, before[i].Article, after[i].Article)
		}
		sameTime(t, "Collected", after[i].Collected, base)
	}
}

func testEditedItem(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	arts := items("a", 2)
	save(t, s, result(src, base, arts))
	id := all(t, s)[0].ID

	edited := items("a", 2)
	edited[0].Title = "Corrected: " + edited[0].Title
	edited[0].Summary = "A corrected summary."
	edited[0].Collected = base.Add(time.Hour)
	wantStats(t, save(t, s, result(src, base.Add(time.Hour), edited)), store.SaveStats{Updated: 1, Unchanged: 1})

	recs := all(t, s)
	if len(recs) != 2 {
		t.Fatalf("%d articles after an edit, want 2", len(recs))
	}
	got := getArticle(t, s, id)
	if got.Title != edited[0].Title || got.Summary != edited[0].Summary {
		t.Errorf("after the edit: title %q summary %q, want %q %q", got.Title, got.Summary, edited[0].Title, edited[0].Summary)
	}
	sameTime(t, "Collected after an edit", got.Collected, base)

	// The same edit again is no change.
	wantStats(t, save(t, s, result(src, base.Add(2*time.Hour), edited)), store.SaveStats{Unchanged: 2})
	// Nor is an edit of a field the reader does not see as text.
	edited[1].Author = "Someone Else"
	wantStats(t, save(t, s, result(src, base.Add(3*time.Hour), edited)), store.SaveStats{Unchanged: 2})
	// Content edits are.
	edited[1].ContentHTML = "<p>New paragraph.</p>"
	edited[1].Text = "New paragraph."
	wantStats(t, save(t, s, result(src, base.Add(4*time.Hour), edited)), store.SaveStats{Updated: 1, Unchanged: 1})
	if got := getArticle(t, s, recs[1].ID); got.Text != "New paragraph." {
		t.Errorf("Text after a content edit = %q", got.Text)
	}
}

func testEditedLink(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	arts := items("a", 2)
	save(t, s, result(src, base, arts))
	recs := all(t, s)

	// Same GUID, corrected link: the article follows it.
	const corrected = "https://example.com/a/0-corrected"
	moved := items("a", 2)
	moved[0].URL, moved[0].Link = corrected, corrected
	wantStats(t, save(t, s, result(src, base.Add(time.Hour), moved)), store.SaveStats{Updated: 1, Unchanged: 1})
	if got := getArticle(t, s, recs[0].ID); got.URL != corrected {
		t.Errorf("URL after a corrected link = %q, want %q", got.URL, corrected)
	}

	// A link that now points at another stored article: no failure, and the
	// URL stays unique.
	clash := items("a", 2)
	clash[0].URL = arts[1].URL
	clash[0].Title = "Now clashing"
	wantStats(t, save(t, s, result(src, base.Add(2*time.Hour), clash)), store.SaveStats{Updated: 1, Unchanged: 1})
	if got := getArticle(t, s, recs[0].ID); got.URL != corrected || got.Title != "Now clashing" {
		t.Errorf("after a clashing link: URL %q title %q, want %q %q", got.URL, got.Title, corrected, "Now clashing")
	}
	if got := getArticle(t, s, recs[1].ID); got.URL != arts[1].URL {
		t.Errorf("the other article's URL = %q, want %q", got.URL, arts[1].URL)
	}
}

func testSameURLTwoSources(t *testing.T, s store.Store) {
	a := addSource(t, s, "https://a.example/feed")
	b := addSource(t, s, "https://b.example/feed")
	fromA := item("story", 1)
	fromA.GUID, fromA.Link = "a-guid-1", fromA.URL+"?utm_source=a"
	fromA.ItemKey = news.ItemKey(fromA.GUID, fromA.URL, fromA.Title, fromA.Published)
	fromB := item("story", 1)
	fromB.GUID, fromB.Link = "b-guid-77", fromB.URL+"?utm_campaign=b#top"
	fromB.ItemKey = news.ItemKey(fromB.GUID, fromB.URL, fromB.Title, fromB.Published)
	fromB.Title = "B's own headline for the same story"
	fromB.Collected = base.Add(10 * time.Minute)

	wantStats(t, save(t, s, result(a, base, []news.Article{fromA})), store.SaveStats{New: 1})
	wantStats(t, save(t, s, result(b, base.Add(10*time.Minute), []news.Article{fromB})), store.SaveStats{Sightings: 1})

	recs := all(t, s)
	if len(recs) != 1 {
		t.Fatalf("%d articles for one URL from two sources, want 1", len(recs))
	}
	rec := recs[0]
	if rec.SourceID != a.ID || rec.Source != a.Title || rec.SourceURL != a.URL || rec.Title != fromA.Title {
		t.Errorf("article = source %d %q %q title %q; want the first source %d and its title %q",
			rec.SourceID, rec.Source, rec.SourceURL, rec.Title, a.ID, fromA.Title)
	}
	if len(rec.Seen) != 2 {
		t.Fatalf("Seen = %+v, want two sightings", rec.Seen)
	}
	for _, w := range []struct {
		src  store.Source
		item news.Article
		at   time.Time
	}{{a, fromA, base}, {b, fromB, base.Add(10 * time.Minute)}} {
		g := sighting(t, rec, w.src.ID)
		if g.GUID != w.item.GUID || g.Link != w.item.Link || g.Source != w.src.Title || g.SourceURL != w.src.URL {
			t.Errorf("sighting from %s = %+v, want GUID %q link %q as published", w.src.URL, g, w.item.GUID, w.item.Link)
		}
		sameTime(t, "FirstSeen", g.FirstSeen, w.at)
	}
	wantCounts := map[int64]int{a.ID: 1, b.ID: 0}
	for id, want := range wantCounts {
		if got := getSource(t, s, id).Articles; got != want {
			t.Errorf("source %d Articles = %d, want %d", id, got, want)
		}
	}

	// B again: unchanged. B's edit of its copy does not rewrite A's article.
	wantStats(t, save(t, s, result(b, base.Add(time.Hour), []news.Article{fromB})), store.SaveStats{Unchanged: 1})
	fromB.Title = "B edits its headline"
	st := save(t, s, result(b, base.Add(2*time.Hour), []news.Article{fromB}))
	if st.New != 0 || st.Updated != 0 || st.Sightings != 0 {
		t.Errorf("B's edit of a shared article: stats %+v, want no new, updated or sighting", st)
	}
	if got := getArticle(t, s, rec.ID); got.Title != fromA.Title {
		t.Errorf("title after B's edit = %q, want A's %q", got.Title, fromA.Title)
	}
	// A's edit does.
	fromA.Title = "A edits its headline"
	wantStats(t, save(t, s, result(a, base.Add(3*time.Hour), []news.Article{fromA})), store.SaveStats{Updated: 1})
	if got := getArticle(t, s, rec.ID); got.Title != fromA.Title {
		t.Errorf("title after A's edit = %q, want %q", got.Title, fromA.Title)
	}
}

func testItemWithoutLinkOrGUID(t *testing.T, s store.Store) {
	a := addSource(t, s, "https://a.example/feed")
	b := addSource(t, s, "https://b.example/feed")
	bare := func(title string) news.Article {
		it := item("bare", 0)
		it.GUID, it.Link, it.URL, it.ImageURL = "", "", "", ""
		it.Title = title
		it.ItemKey = news.ItemKey("", "", it.Title, it.Published)
		return it
	}
	arts := []news.Article{bare("A note without a link"), bare("Another note")}
	wantStats(t, save(t, s, result(a, base, arts)), store.SaveStats{New: 2})
	wantStats(t, save(t, s, result(a, base.Add(time.Hour), arts)), store.SaveStats{Unchanged: 2})
	// Nothing ties another source's linkless item to these: a new article.
	wantStats(t, save(t, s, result(b, base, arts[:1])), store.SaveStats{New: 1})

	recs := all(t, s)
	if len(recs) != 3 {
		t.Fatalf("%d articles, want 3", len(recs))
	}
	for _, rec := range recs {
		if rec.URL != "" {
			t.Errorf("article %d URL = %q, want empty", rec.ID, rec.URL)
		}
		if len(rec.Seen) != 1 || rec.Seen[0].GUID != "" || rec.Seen[0].Link != "" {
			t.Errorf("article %d Seen = %+v, want one sighting without GUID or link", rec.ID, rec.Seen)
		}
	}
}

func testSameURLInOneBatch(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	one := item("a", 1)
	two := item("a", 1)
	two.GUID = "another-guid-same-link"
	two.ItemKey = news.ItemKey(two.GUID, two.URL, two.Title, two.Published)
	wantStats(t, save(t, s, result(src, base, []news.Article{one, two, item("a", 2)})), store.SaveStats{New: 2, Sightings: 1})
	recs := all(t, s)
	if len(recs) != 2 {
		t.Fatalf("%d articles, want 2", len(recs))
	}
	if len(recs[0].Seen) != 2 {
		t.Errorf("Seen = %+v, want both item keys recorded", recs[0].Seen)
	}
	wantStats(t, save(t, s, result(src, base.Add(time.Hour), []news.Article{one, two, item("a", 2)})), store.SaveStats{Unchanged: 3})
}

func testSameKeyInOneBatch(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	one := item("a", 1)
	edited := one
	edited.Title = "A different title under the same GUID"
	tests := []struct {
		name  string
		batch []news.Article
	}{
		{"identical", []news.Article{one, one}},
		{"edited", []news.Article{one, edited}},
	}
	for _, tc := range tests {
		save(t, s, result(src, base, tc.batch))
		if n := len(all(t, s)); n != 1 {
			t.Errorf("%s: %d articles, want 1", tc.name, n)
		}
	}
}

func testLargeBatch(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	arts := items("big", 1000)
	wantStats(t, save(t, s, result(src, base, arts)), store.SaveStats{New: 1000})
	wantStats(t, save(t, s, result(src, base.Add(time.Hour), arts)), store.SaveStats{Unchanged: 1000})
	recs := all(t, s)
	if len(recs) != 1000 {
		t.Fatalf("%d articles, want 1000", len(recs))
	}
	urls := map[string]bool{}
	for _, rec := range recs {
		urls[rec.URL] = true
	}
	for _, a := range arts {
		if !urls[a.URL] {
			t.Fatalf("article %s missing", a.URL)
		}
	}
	if got := getSource(t, s, src.ID); got.Articles != 1000 || got.LastItems != 1000 {
		t.Errorf("source Articles %d LastItems %d, want 1000 1000", got.Articles, got.LastItems)
	}
}

func testFetchRecords(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	other := addSource(t, s, "https://example.com/b")
	save(t, s, result(src, base, items("a", 2)))
	edited := items("a", 3)
	edited[0].Title = "edited"
	second := result(src, base.Add(time.Hour), edited)
	second.Fetch.Duration = 1234 * time.Millisecond
	second.Fetch.Bytes = 99999
	save(t, s, second)
	save(t, s, store.FetchResult{Fetch: store.Fetch{SourceID: src.ID, At: base.Add(2 * time.Hour), Status: 304, Duration: 20 * time.Millisecond}})
	save(t, s, result(other, base.Add(3*time.Hour), nil))

	fs, err := s.Fetches(t.Context(), src.ID, 0)
	if err != nil {
		t.Fatalf("Fetches: %v", err)
	}
	if len(fs) != 3 {
		t.Fatalf("Fetches = %+v, want 3 records", fs)
	}
	want := []store.Fetch{
		{SourceID: src.ID, At: base.Add(2 * time.Hour), Status: 304, Duration: 20 * time.Millisecond},
		{SourceID: src.ID, At: base.Add(time.Hour), Status: 200, Duration: 1234 * time.Millisecond, Bytes: 99999, Items: 3, New: 1, Updated: 1},
		{SourceID: src.ID, At: base, Status: 200, Duration: 150 * time.Millisecond, Bytes: 4096, Items: 2, New: 2},
	}
	for i, w := range want {
		g := fs[i]
		sameTime(t, fmt.Sprintf("fetch %d At", i), g.At, w.At)
		if d := g.Duration - w.Duration; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("fetch %d Duration = %v, want %v", i, g.Duration, w.Duration)
		}
		g.At, g.Duration, w.At, w.Duration = time.Time{}, 0, time.Time{}, 0
		if g != w {
			t.Errorf("fetch %d = %+v, want %+v", i, g, w)
		}
	}
	fs, err = s.Fetches(t.Context(), src.ID, 2)
	if err != nil {
		t.Fatalf("Fetches(limit 2): %v", err)
	}
	if len(fs) != 2 || fs[0].Status != 304 || fs[1].New != 1 {
		t.Errorf("Fetches(limit 2) = %+v, want the two newest", fs)
	}
}

func testErrorFetch(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	ok := result(src, base, items("a", 3))
	ok.ETag, ok.LastModified = `"v1"`, "Wed, 01 Apr 2026 11:00:00 GMT"
	save(t, s, ok)

	failed := store.FetchResult{
		Fetch:        store.Fetch{SourceID: src.ID, At: base.Add(time.Hour), Status: 500, Duration: time.Second, Err: "fetch https://example.com/a: 500 Internal Server Error"},
		ETag:         ok.ETag,
		LastModified: ok.LastModified,
		NextCheck:    base.Add(2 * time.Hour),
		ErrorCount:   1,
	}
	wantStats(t, save(t, s, failed), store.SaveStats{})
	got := getSource(t, s, src.ID)
	if got.LastError != failed.Fetch.Err || got.LastStatus != 500 || got.ErrorCount != 1 || got.LastItems != 3 ||
		got.ETag != ok.ETag || got.LastModified != ok.LastModified || got.Articles != 3 {
		t.Errorf("source after an error = %+v", got)
	}
	sameTime(t, "LastCheck", got.LastCheck, failed.Fetch.At)
	sameTime(t, "NextCheck", got.NextCheck, failed.NextCheck)
	fs, err := s.Fetches(t.Context(), src.ID, 1)
	if err != nil || len(fs) != 1 || fs[0].Err != failed.Fetch.Err || fs[0].New != 0 || fs[0].Updated != 0 {
		t.Errorf("latest fetch = %+v, %v; want the error recorded", fs, err)
	}

	// A second failure with no response at all.
	failed.Fetch = store.Fetch{SourceID: src.ID, At: base.Add(2 * time.Hour), Err: "dial tcp: connection refused"}
	failed.ErrorCount = 2
	save(t, s, failed)
	if got := getSource(t, s, src.ID); got.ErrorCount != 2 || got.LastStatus != 0 || got.LastError != failed.Fetch.Err {
		t.Errorf("source after a second error = %+v", got)
	}

	// Recovery clears the error.
	good := result(src, base.Add(3*time.Hour), items("a", 4))
	good.ETag = `"v2"`
	wantStats(t, save(t, s, good), store.SaveStats{New: 1, Unchanged: 3})
	got = getSource(t, s, src.ID)
	if got.ErrorCount != 0 || got.LastError != "" || got.LastStatus != 200 || got.LastItems != 4 || got.ETag != `"v2"` {
		t.Errorf("source after recovery = %+v", got)
	}
}

func testNewURL(t *testing.T, s store.Store) {
	src := addSource(t, s, "http://example.com/old.xml")
	r := result(src, base, items("a", 1))
	r.NewURL = "https://example.com/new.xml"
	save(t, s, r)
	got := getSource(t, s, src.ID)
	if got.URL != r.NewURL || got.LastStatus != 200 {
		t.Errorf("source after a permanent redirect = %+v, want URL %s", got, r.NewURL)
	}
	rec := all(t, s)[0]
	if rec.SourceURL != r.NewURL || rec.Seen[0].SourceURL != r.NewURL {
		t.Errorf("article shows source URL %q / %q, want the new %q", rec.SourceURL, rec.Seen[0].SourceURL, r.NewURL)
	}
	if _, err := s.AddSource(t.Context(), store.Source{URL: r.NewURL}); !errors.Is(err, store.ErrExists) {
		t.Errorf("AddSource of the moved URL: err = %v, want ErrExists", err)
	}
}

func testNewURLTaken(t *testing.T, s store.Store) {
	a := addSource(t, s, "http://example.com/a.xml")
	b := addSource(t, s, "https://example.com/b.xml")
	r := result(a, base, items("a", 2))
	r.NewURL = b.URL
	r.ETag = `"etag-a"`
	wantStats(t, save(t, s, r), store.SaveStats{New: 2})
	got := getSource(t, s, a.ID)
	if got.URL != a.URL || got.ETag != `"etag-a"` || got.LastItems != 2 {
		t.Errorf("source after a redirect onto another source = %+v, want the old URL and the new state", got)
	}
	if got := getSource(t, s, b.ID); got.URL != b.URL {
		t.Errorf("the other source's URL = %q, want %q", got.URL, b.URL)
	}
}

func testTitleOnlyWhenEmpty(t *testing.T, s store.Store) {
	untitled, err := s.AddSource(t.Context(), store.Source{URL: "https://example.com/untitled"})
	if err != nil {
		t.Fatalf("AddSource: %v", err)
	}
	titled := addSource(t, s, "https://example.com/titled")
	for _, src := range []store.Source{untitled, titled} {
		r := result(src, base, nil)
		r.Title, r.SiteURL = "Feed's own title", "https://example.com/home"
		save(t, s, r)
	}
	if got := getSource(t, s, untitled.ID); got.Title != "Feed's own title" || got.SiteURL != "https://example.com/home" {
		t.Errorf("untitled source = %q %q, want the feed's title and site", got.Title, got.SiteURL)
	}
	if got := getSource(t, s, titled.ID); got.Title != titled.Title {
		t.Errorf("titled source title = %q, want its own %q kept", got.Title, titled.Title)
	}
}

func testRemoveSource(t *testing.T, s store.Store) {
	a := addSource(t, s, "https://a.example/feed")
	b := addSource(t, s, "https://b.example/feed")
	shared := item("shared", 1)
	onlyA := item("a", 1)
	onlyB := item("b", 1)
	save(t, s, result(a, base, []news.Article{shared, onlyA}))
	save(t, s, result(b, base.Add(time.Minute), []news.Article{shared, onlyB}))

	if err := s.RemoveSource(t.Context(), a.ID); err != nil {
		t.Fatalf("RemoveSource: %v", err)
	}
	if _, err := s.Source(t.Context(), a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Source of a removed source: err = %v, want ErrNotFound", err)
	}
	if fs, err := s.Fetches(t.Context(), a.ID, 0); err != nil || len(fs) != 0 {
		t.Errorf("Fetches of a removed source = %+v, %v; want none", fs, err)
	}
	recs := all(t, s)
	if len(recs) != 3 {
		t.Fatalf("%d articles after RemoveSource, want all 3 kept", len(recs))
	}
	for _, rec := range recs {
		if rec.SourceID == a.ID {
			t.Errorf("article %s still names the removed source", rec.URL)
		}
		for _, g := range rec.Seen {
			if g.SourceID == a.ID {
				t.Errorf("article %s keeps a sighting of the removed source", rec.URL)
			}
		}
		switch rec.URL {
		case shared.URL, onlyB.URL:
			g := sighting(t, rec, b.ID)
			if g.GUID != shared.GUID && g.GUID != onlyB.GUID {
				t.Errorf("sighting of %s = %+v", rec.URL, g)
			}
		case onlyA.URL:
			if len(rec.Seen) != 0 {
				t.Errorf("article only the removed source carried: Seen = %+v, want none", rec.Seen)
			}
		}
	}
	// The remaining source keeps working on the shared article.
	wantStats(t, save(t, s, result(b, base.Add(time.Hour), []news.Article{shared, onlyB})), store.SaveStats{Unchanged: 2})
	if err := s.RemoveSource(t.Context(), a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second RemoveSource: err = %v, want ErrNotFound", err)
	}
}

func testEachArticle(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	save(t, s, result(src, base, items("a", 7)))
	save(t, s, result(src, base.Add(time.Hour), items("b", 5)))
	recs := all(t, s)
	if len(recs) != 12 {
		t.Fatalf("%d articles, want 12", len(recs))
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].ID <= recs[i-1].ID {
			t.Fatalf("EachArticle out of id order: %d after %d", recs[i].ID, recs[i-1].ID)
		}
	}

	stop := errors.New("enough")
	calls := 0
	err := s.EachArticle(t.Context(), func(store.ArticleRecord) error {
		calls++
		if calls == 3 {
			return fmt.Errorf("consumer: %w", stop)
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("EachArticle with fn failing at call 3: err %v after %d calls, want the error after 3", err, calls)
	}

	empty := 0
	if err := s.EachArticle(t.Context(), func(store.ArticleRecord) error { empty++; return nil }); err != nil || empty != 12 {
		t.Errorf("EachArticle again: %d calls, %v", empty, err)
	}
}

func testTimesRoundTrip(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	india := time.FixedZone("IST", 5*3600+1800)
	a := item("a", 1)
	a.Published = time.Date(2025, 12, 31, 23, 59, 59, 999_999_999, india)
	a.Updated = time.Date(1999, 1, 2, 3, 4, 5, 6_000_000, time.FixedZone("PST", -8*3600))
	a.Collected = base.Add(time.Nanosecond)
	at := time.Date(2026, 4, 1, 13, 14, 15, 987_654_321, india)
	r := result(src, at, []news.Article{a})
	r.NextCheck = at.Add(17*time.Minute + 333*time.Millisecond)
	save(t, s, r)

	rec := all(t, s)[0]
	sameTime(t, "Published", rec.Published, a.Published)
	sameTime(t, "Updated", rec.Updated, a.Updated)
	sameTime(t, "Collected", rec.Collected, a.Collected)
	sameTime(t, "FirstSeen", rec.Seen[0].FirstSeen, at)
	got := getSource(t, s, src.ID)
	sameTime(t, "LastCheck", got.LastCheck, at)
	sameTime(t, "NextCheck", got.NextCheck, r.NextCheck)
	fs, err := s.Fetches(t.Context(), src.ID, 1)
	if err != nil || len(fs) != 1 {
		t.Fatalf("Fetches = %+v, %v", fs, err)
	}
	sameTime(t, "fetch At", fs[0].At, at)
	if rec.Published.After(rec.Collected.Add(24*time.Hour)) || !rec.Published.Before(rec.Collected) {
		t.Errorf("Published %v, Collected %v: order lost", rec.Published, rec.Collected)
	}
}

func testUnicodeRoundTrip(t *testing.T, s store.Store) {
	src, err := s.AddSource(t.Context(), store.Source{URL: "https://例え.jp/フィード", Title: "Zoë's 日本 AI ニュース"})
	if err != nil {
		t.Fatalf("AddSource: %v", err)
	}
	a := item("unicode", 1)
	a.URL = "https://example.com/文章/深度求索-v4"
	a.Link = a.URL + "?ref=rss"
	a.GUID = "guid-ü-🤖"
	a.ItemKey = news.ItemKey(a.GUID, a.URL, a.Title, a.Published)
	a.Title = "DeepSeek V4 · 深度求索 — Déjà vu 🤖 مرحبا עברית"
	a.Summary = "Combining e\u0301, ZWJ 👩\u200d💻, line separator \u2028 and quotes \"'`"
	a.ContentHTML = "<p>Ångström &amp; naïve café — 100 %</p>"
	a.Text = "Ångström & naïve café — 100 %"
	a.Author = "Zoë Ångström"
	a.Categories = []string{"机器学习", "IA générative", `quote "and" comma,`}
	save(t, s, result(src, base, []news.Article{a}))

	rec := all(t, s)[0]
	if rec.URL != a.URL || rec.Title != a.Title || rec.Summary != a.Summary || rec.ContentHTML != a.ContentHTML ||
		rec.Text != a.Text || rec.Author != a.Author || !slices.Equal(rec.Categories, a.Categories) {
		t.Errorf("unicode article = %+v\nwant %+v", rec.Article, a)
	}
	if rec.Source != src.Title || rec.Seen[0].GUID != a.GUID || rec.Seen[0].Link != a.Link || rec.Seen[0].SourceURL != src.URL {
		t.Errorf("unicode source/sighting = %q %+v", rec.Source, rec.Seen)
	}
	wantStats(t, save(t, s, result(src, base.Add(time.Hour), []news.Article{a})), store.SaveStats{Unchanged: 1})
}

func testContextCanceled(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://example.com/a")
	save(t, s, result(src, base, items("a", 2)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := []struct {
		name string
		err  error
	}{
		{"AddSource", func() error { _, err := s.AddSource(ctx, store.Source{URL: "https://example.com/b"}); return err }()},
		{"Source", func() error { _, err := s.Source(ctx, src.ID); return err }()},
		{"Sources", func() error { _, err := s.Sources(ctx); return err }()},
		{"DueSources", func() error { _, err := s.DueSources(ctx, base, 0); return err }()},
		{"SaveFetch", func() error { _, err := s.SaveFetch(ctx, result(src, base, items("c", 5))); return err }()},
		{"Fetches", func() error { _, err := s.Fetches(ctx, src.ID, 0); return err }()},
		{"EachArticle", s.EachArticle(ctx, func(store.ArticleRecord) error { return nil })},
		{"Article", func() error { _, err := s.Article(ctx, 1); return err }()},
		{"CountArticles", func() error { _, err := s.CountArticles(ctx); return err }()},
		{"RemoveSource", s.RemoveSource(ctx, src.ID)},
		{"SetSourceEnabled", s.SetSourceEnabled(ctx, src.ID, false)},
	}
	for _, c := range calls {
		if c.err == nil {
			t.Errorf("%s with a canceled context: no error", c.name)
		}
	}
	// Nothing of the canceled calls happened.
	if n := len(all(t, s)); n != 2 {
		t.Errorf("%d articles after canceled calls, want 2", n)
	}
	srcs, err := s.Sources(t.Context())
	if err != nil || len(srcs) != 1 || !srcs[0].Enabled {
		t.Errorf("Sources after canceled calls = %+v, %v; want the one enabled source", srcs, err)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
