package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

// publishedAt is item(prefix, n) published at t.
func publishedAt(prefix string, n int, t time.Time) news.Article {
	a := item(prefix, n)
	a.Published = t
	return a
}

func analysedIDs(recs []store.AnalysedStory) []int64 {
	out := make([]int64, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// checkAnalysed fails unless r carries want's analysis, as stored for its
// story at version 1.
func checkAnalysed(t *testing.T, what string, r store.AnalysedStory, want store.AnalysisRecord) {
	t.Helper()
	an := r.Analysis
	if an.StoryID != r.ID || an.Version != want.Version || an.Outlets != want.Outlets || !reflect.DeepEqual(an.Analysis, want.Analysis) {
		t.Errorf("%s: story %d analysis = story %d version %d outlets %d %+v; want %d, %d, %d, %+v",
			what, r.ID, an.StoryID, an.Version, an.Outlets, an.Analysis, r.ID, want.Version, want.Outlets, want.Analysis)
	}
	sameTime(t, what+": Analysed", an.Analysed, want.Analysed)
}

// testActiveStories: the analysed stories with a member in [from, to) —
// first seen before to, updated at or after from — of at least minOutlets
// outlets as analysed, best base score first (ties by id, lower first),
// limited, with everything and their analysis.
func testActiveStories(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	from := base
	to := from.Add(24 * time.Hour)
	h := func(n int) time.Time { return from.Add(time.Duration(n) * time.Hour) }
	// Each story by its members' dates: first seen is the earliest,
	// updated the latest.
	shapes := []struct {
		name    string
		members []time.Time
	}{
		{"before from, updated in range", []time.Time{h(-2), h(1)}},
		{"in range", []time.Time{h(3)}},
		{"first seen at to", []time.Time{to}},
		{"updated before from", []time.Time{h(-3), h(-1)}},
		{"first seen in range, updated after to", []time.Time{h(23), h(30)}},
		{"updated at from", []time.Time{from}},
		{"not analysed", []time.Time{h(5)}},
	}
	var arts []news.Article
	for i, sh := range shapes {
		for j, pub := range sh.members {
			arts = append(arts, publishedAt("act", 10*i+j, pub))
		}
	}
	byURL := stored(t, s, src, arts)
	l := lease("one")
	mustAcquire(t, s, l)
	var (
		as      []store.Assignment
		stories []news.Story
	)
	for i, sh := range shapes {
		var members []store.ArticleRecord
		for j := range sh.members {
			members = append(members, byURL[item("act", 10*i+j).URL])
		}
		st, a := storyOf(members[0], members...)
		as = append(as, a...)
		stories = append(stories, st)
	}
	saveStories(t, s, l, as, stories...)
	id := storyIDs(stories)
	recs := []store.AnalysisRecord{
		analysisRec(id[0], 1, 2, analysisOf(3, "openai")),
		analysisRec(id[1], 1, 1, analysisOf(9, "nvidia")),
		analysisRec(id[2], 1, 4, analysisOf(8, "google")),
		analysisRec(id[3], 1, 4, analysisOf(7, "meta")),
		analysisRec(id[4], 1, 3, analysisOf(5, "anthropic")),
		analysisRec(id[5], 1, 2, analysisOf(3, "deepseek")), // ties with 0: the lower id first
	}
	saveAnalyses(t, s, l, recs...)
	tied := []int64{min(id[0], id[5]), max(id[0], id[5])}

	active := func(from, to time.Time, minOutlets, limit int) []store.AnalysedStory {
		t.Helper()
		got, err := s.ActiveStories(t.Context(), from, to, minOutlets, limit)
		if err != nil {
			t.Fatalf("ActiveStories(%v, %v, %d, %d): %v", from, to, minOutlets, limit, err)
		}
		return got
	}
	cases := []struct {
		name           string
		from, to       time.Time
		minOutlets, lm int
		want           []int64
	}{
		{"two outlets", from, to, 2, 10, append([]int64{id[4]}, tied...)},
		{"one outlet", from, to, 1, 10, append([]int64{id[1], id[4]}, tied...)},
		{"limit", from, to, 1, 2, []int64{id[1], id[4]}},
		{"default limit", from, to, 1, 0, append([]int64{id[1], id[4]}, tied...)},
		{"too many outlets", from, to, 5, 10, []int64{}},
		{"to later", from, to.Add(time.Hour), 2, 10, append([]int64{id[2], id[4]}, tied...)},
		{"from later", h(2), to, 1, 10, []int64{id[1], id[4]}},
		{"updated after the span", h(31), h(40), 1, 10, []int64{}},
		{"empty span", h(3), h(3), 1, 10, []int64{}},
	}
	for _, c := range cases {
		if got := analysedIDs(active(c.from, c.to, c.minOutlets, c.lm)); !slices.Equal(got, c.want) {
			t.Errorf("ActiveStories %s = %v, want %v", c.name, got, c.want)
		}
	}

	for _, r := range active(from, to, 1, 10) {
		i := slices.Index(id, r.ID)
		full := getStory(t, s, r.ID)
		if r.Version != 1 || r.Title != full.Title || r.Title == "" || r.Count != len(shapes[i].members) ||
			!slices.Equal(r.Articles, full.Articles) || len(r.Members) != len(shapes[i].members) ||
			r.OutletCount != 1 || len(r.Outlets) != 1 || r.LeadArticle.ID != full.LeadArticle.ID {
			t.Errorf("active story %d (%s): version %d, title %q, count %d, ids %v, %d members, %d outlets (%d listed); want everything as Story has it",
				r.ID, shapes[i].name, r.Version, r.Title, r.Count, r.Articles, len(r.Members), r.OutletCount, len(r.Outlets))
		}
		sameTime(t, "active FirstSeen", r.FirstSeen, full.FirstSeen)
		sameTime(t, "active Updated", r.Updated, full.Updated)
		checkAnalysed(t, "ActiveStories", r, recs[i])
	}
}

// testCountBetween: the articles published in [from, to), every source
// that carried one (a sighting of an article another source stored first
// counts), and the stories they are in; nothing outside the span counts.
func testCountBetween(t *testing.T, s store.Store) {
	a := addSource(t, s, "https://a.example/feed")
	b := addSource(t, s, "https://b.example/feed")
	c := addSource(t, s, "https://c.example/feed")
	d := addSource(t, s, "https://d.example/feed")
	from := base
	to := from.Add(24 * time.Hour)
	x := []news.Article{
		publishedAt("cx", 0, from.Add(time.Hour)),
		publishedAt("cx", 1, from.Add(2*time.Hour)),
		publishedAt("cx", 2, from.Add(-time.Hour)),  // before the span
		publishedAt("cx", 3, to),                    // at its end, out
		publishedAt("cx", 4, from.Add(3*time.Hour)), // never clustered
	}
	save(t, s, result(a, base, x))
	save(t, s, result(b, base, []news.Article{publishedAt("cy", 0, from)}))
	// d carries only x[1], first stored from a; c only x[2], before the span.
	seenBy := func(art news.Article, src store.Source) news.Article {
		art.GUID = "urn:" + src.URL + ":" + art.GUID
		art.ItemKey = news.ItemKey(art.GUID, art.URL, art.Title, art.Published)
		return art
	}
	save(t, s, result(d, base, []news.Article{seenBy(x[1], d)}))
	save(t, s, result(c, base, []news.Article{seenBy(x[2], c)}))

	byURL := map[string]store.ArticleRecord{}
	for _, r := range all(t, s) {
		byURL[r.URL] = r
	}
	rec := func(art news.Article) store.ArticleRecord { return byURL[art.URL] }
	if len(rec(x[1]).Seen) != 2 {
		t.Fatalf("setup: x1 has %d sightings, want 2 (a and d)", len(rec(x[1]).Seen))
	}
	l := lease("one")
	mustAcquire(t, s, l)
	pair, as := storyOf(rec(x[0]), rec(x[0]), rec(x[1]))
	cy := byURL[publishedAt("cy", 0, from).URL]
	y, as2 := storyOf(cy, cy)
	early, as3 := storyOf(rec(x[2]), rec(x[2]))
	late, as4 := storyOf(rec(x[3]), rec(x[3]))
	saveStories(t, s, l, slices.Concat(as, as2, as3, as4), pair, y, early, late)

	cases := []struct {
		name     string
		from, to time.Time
		want     store.Counts
	}{
		{"the span", from, to, store.Counts{Sources: 3, Articles: 4, Stories: 2}},
		{"empty", from, from, store.Counts{}},
		{"at its end", to, to.Add(time.Millisecond), store.Counts{Sources: 1, Articles: 1, Stories: 1}},
		{"before it", from.Add(-2 * time.Hour), from, store.Counts{Sources: 2, Articles: 1, Stories: 1}},
		{"only the unclustered one", from.Add(3 * time.Hour), from.Add(4 * time.Hour), store.Counts{Sources: 1, Articles: 1}},
		{"everything", from.Add(-48 * time.Hour), to.Add(48 * time.Hour), store.Counts{Sources: 4, Articles: 6, Stories: 4}},
	}
	for _, tc := range cases {
		got, err := s.CountBetween(t.Context(), tc.from, tc.to)
		if err != nil {
			t.Fatalf("CountBetween %s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("CountBetween %s = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// testTopicStories: the analysed stories of a topic, most recently updated
// first (ties by id, higher first), page by page from a cursor, with the
// fields Stories fills and their analysis; a merged story leaves its
// topics, a moved story moves in them, a re-analysed one changes topic.
func testTopicStories(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	sorted := storedSorted(t, s, src, items("tp", 7))
	l := lease("one")
	mustAcquire(t, s, l)
	var (
		as      []store.Assignment
		stories []news.Story
	)
	for i, r := range sorted {
		st, a := storyOf(r, r)
		st.Updated = base.Add(time.Duration(i%3) * time.Hour) // ties
		as = append(as, a...)
		stories = append(stories, st)
	}
	saveStories(t, s, l, as, stories...)
	id := storyIDs(stories)
	topics := [][]news.Topic{
		{news.TopicChips, news.TopicPolicy},
		{news.TopicChips},
		{news.TopicPolicy, news.TopicChips},
		{news.TopicChips},
		{news.TopicPolicy},
		{news.TopicChips},
		// id[6] is not analysed: in no topic.
	}
	recs := make([]store.AnalysisRecord, len(topics))
	for i, tp := range topics {
		an := analysisOf(float64(i), "k")
		an.Topics = tp
		recs[i] = analysisRec(id[i], 1, 1, an)
	}
	saveAnalyses(t, s, l, recs...)

	// newestFirst orders story indexes as the page must: updated, then id,
	// both descending.
	newestFirst := func(idx ...int) []int64 {
		slices.SortFunc(idx, func(x, y int) int {
			if c := stories[y].Updated.Compare(stories[x].Updated); c != 0 {
				return c
			}
			return int(id[y] - id[x])
		})
		out := []int64{}
		for _, i := range idx {
			out = append(out, id[i])
		}
		return out
	}
	page := func(q store.TopicQuery) []store.AnalysedStory {
		t.Helper()
		got, err := s.TopicStories(t.Context(), q)
		if err != nil {
			t.Fatalf("TopicStories(%+v): %v", q, err)
		}
		if q.Limit > 0 && len(got) > q.Limit {
			t.Fatalf("TopicStories(limit %d) returned %d", q.Limit, len(got))
		}
		return got
	}
	walk := func(topic news.Topic, limit int) []int64 {
		t.Helper()
		var got []int64
		var cur store.StoryCursor
		for range 20 { // bounded: at most 7 stories
			p := page(store.TopicQuery{Topic: topic, Limit: limit, Before: cur})
			if len(p) == 0 {
				break
			}
			got = append(got, analysedIDs(p)...)
			last := p[len(p)-1]
			cur = store.StoryCursor{Updated: last.Updated, ID: last.ID}
		}
		return got
	}
	chips := newestFirst(0, 1, 2, 3, 5)
	if got := analysedIDs(page(store.TopicQuery{Topic: news.TopicChips})); !slices.Equal(got, chips) {
		t.Errorf("TopicStories(chips) = %v, want %v", got, chips)
	}
	if got := walk(news.TopicChips, 2); !slices.Equal(got, chips) {
		t.Errorf("TopicStories(chips) in pages of 2 = %v, want %v", got, chips)
	}
	if got, want := walk(news.TopicPolicy, 1), newestFirst(0, 2, 4); !slices.Equal(got, want) {
		t.Errorf("TopicStories(policy) in pages of 1 = %v, want %v", got, want)
	}
	if got := page(store.TopicQuery{Topic: news.TopicSafety}); len(got) != 0 {
		t.Errorf("TopicStories(safety) = %v, want none", analysedIDs(got))
	}

	list, err := s.Stories(t.Context(), store.StoryQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page(store.TopicQuery{Topic: news.TopicChips}) {
		i := slices.Index(id, r.ID)
		want := list[slices.IndexFunc(list, func(x store.StoryRecord) bool { return x.ID == r.ID })]
		if r.Title != want.Title || r.Title == "" || r.LeadArticle.ID != want.LeadArticle.ID || r.Count != want.Count ||
			r.OutletCount != want.OutletCount || r.OutletCount != 1 || r.Version != want.Version {
			t.Errorf("TopicStories story %d: title %q lead %d count %d outlets %d version %d; want as Stories has it: %q %d %d %d %d",
				r.ID, r.Title, r.LeadArticle.ID, r.Count, r.OutletCount, r.Version,
				want.Title, want.LeadArticle.ID, want.Count, want.OutletCount, want.Version)
		}
		sameTime(t, "topic story Updated", r.Updated, want.Updated)
		checkAnalysed(t, "TopicStories", r, recs[i])
	}

	// Story 3 written again, updated later than any: first in its topic at
	// once, before it is analysed again.
	moved := stories[3]
	moved.Updated = base.Add(10 * time.Hour)
	stories[3] = moved
	saveStories(t, s, l, []store.Assignment{{ArticleID: moved.ID, StoryID: moved.ID}}, moved)
	chips = newestFirst(0, 1, 2, 3, 5)
	if chips[0] != moved.ID {
		t.Fatalf("setup: the moved story %d is not the newest of %v", moved.ID, chips)
	}
	if got := walk(news.TopicChips, 2); !slices.Equal(got, chips) {
		t.Errorf("TopicStories(chips) after story %d moved = %v, want %v", moved.ID, got, chips)
	}

	// Re-analysed with another topic, story 5 leaves chips for safety.
	an := analysisOf(1, "k")
	an.Topics = []news.Topic{news.TopicSafety}
	saveAnalyses(t, s, l, analysisRec(id[5], 1, 1, an))
	if got, want := walk(news.TopicChips, 3), newestFirst(0, 1, 2, 3); !slices.Equal(got, want) {
		t.Errorf("TopicStories(chips) after story %d was re-analysed = %v, want %v", id[5], got, want)
	}
	if got := walk(news.TopicSafety, 3); !slices.Equal(got, []int64{id[5]}) {
		t.Errorf("TopicStories(safety) = %v, want [%d]", got, id[5])
	}

	// Story 2 (chips, policy) merges into story 0: gone from both.
	merged, mas := storyOf(sorted[0], sorted[0], sorted[2])
	merged.Updated = stories[0].Updated
	saveStories(t, s, l, mas, merged)
	if got, want := walk(news.TopicChips, 3), newestFirst(0, 1, 3); !slices.Equal(got, want) {
		t.Errorf("TopicStories(chips) after story %d merged = %v, want %v", id[2], got, want)
	}
	if got, want := walk(news.TopicPolicy, 3), newestFirst(0, 4); !slices.Equal(got, want) {
		t.Errorf("TopicStories(policy) after story %d merged = %v, want %v", id[2], got, want)
	}
}

func testDigestContextCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := []struct {
		name string
		err  error
	}{
		{"ActiveStories", func() error { _, err := s.ActiveStories(ctx, base, base.Add(time.Hour), 1, 10); return err }()},
		{"CountBetween", func() error { _, err := s.CountBetween(ctx, base, base.Add(time.Hour)); return err }()},
		{"TopicStories", func() error { _, err := s.TopicStories(ctx, store.TopicQuery{Topic: news.TopicChips}); return err }()},
	}
	for _, c := range calls {
		if c.err == nil {
			t.Errorf("%s with a canceled context: no error", c.name)
		}
	}
}
