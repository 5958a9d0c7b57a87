package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

// singleStories stores n articles of src, makes each a story of its own
// under l, and returns the stories earliest first seen first (ties by id).
// Article n is published n minutes before base, so the last is the earliest.
func singleStories(t *testing.T, s store.Store, l store.Lease, src store.Source, prefix string, n int) []news.Story {
	t.Helper()
	var (
		as      []store.Assignment
		stories []news.Story
	)
	for _, r := range storedSorted(t, s, src, items(prefix, n)) {
		st, a := storyOf(r, r)
		as = append(as, a...)
		stories = append(stories, st)
	}
	saveStories(t, s, l, as, stories...)
	return stories
}

// analysisOf is an analysis with every field filled, naming keys (most
// central first), so a round trip that drops any part shows.
func analysisOf(score float64, keys ...string) news.Analysis {
	a := news.Analysis{
		Topics:    []news.Topic{news.TopicChips, news.TopicPolicy},
		Audiences: []news.Audience{{Who: news.AudienceDevelopers, Reason: "it is about chips: Nvidia, H100"}},
		Relevance: 0.8125,
		TLDR:      []news.Sentence{{Text: "DeepSeek V4 runs on Huawei Ascend chips.", Article: 7}},
		Takeaways: []news.Sentence{{Text: "The model bypasses US export rules — “officially”.", Article: 7}, {Text: "第二句。", Article: 9}},
		Rank: news.Rank{Score: score * 0.75, Base: score, Parts: []news.RankPart{
			{Name: "Outlets", Value: 1.5, Detail: "4 independent outlets"},
			{Name: "Recency", Value: 0.75, Detail: "18h old"},
		}},
	}
	for i, k := range keys {
		a.Entities = append(a.Entities, news.Entity{Key: k, Name: "Name of " + k, Kind: news.KindOrg, Weight: float64(len(keys) - i)})
	}
	return a
}

func analysisRec(id, version int64, outlets int, a news.Analysis) store.AnalysisRecord {
	return store.AnalysisRecord{StoryID: id, Version: version, Analysis: a, Outlets: outlets, Analysed: base.Add(time.Hour)}
}

func saveAnalyses(t *testing.T, s store.Store, l store.Lease, recs ...store.AnalysisRecord) {
	t.Helper()
	if err := s.SaveAnalyses(t.Context(), l, recs); err != nil {
		t.Fatalf("SaveAnalyses: %v", err)
	}
}

func toAnalyse(t *testing.T, s store.Store, limit int) []int64 {
	t.Helper()
	recs, err := s.StoriesToAnalyse(t.Context(), limit)
	if err != nil {
		t.Fatalf("StoriesToAnalyse(%d): %v", limit, err)
	}
	return storyIDsOf(recs)
}

func forInsight(t *testing.T, s store.Store, minOutlets, limit int) []store.StoryRecord {
	t.Helper()
	recs, err := s.StoriesForInsight(t.Context(), minOutlets, limit)
	if err != nil {
		t.Fatalf("StoriesForInsight(%d, %d): %v", minOutlets, limit, err)
	}
	return recs
}

func refIDs(t *testing.T, s store.Store, q store.RefQuery) []int64 {
	t.Helper()
	refs, err := s.StoryRefs(t.Context(), q)
	if err != nil {
		t.Fatalf("StoryRefs(%+v): %v", q, err)
	}
	out := []int64{}
	for _, r := range refs {
		out = append(out, r.ID)
	}
	return out
}

func articlesVersion(t *testing.T, s store.Store) int64 {
	t.Helper()
	v, err := s.Version(t.Context())
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	return v.Articles
}

func storyIDs(stories []news.Story) []int64 {
	out := make([]int64, 0, len(stories))
	for _, st := range stories {
		out = append(out, st.ID)
	}
	return out
}

// testStoryVersion: a story is at version 1 when first written and one more
// at each write, and every read of stories says so.
func testStoryVersion(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	l := lease("one")
	mustAcquire(t, s, l)
	members := storedSorted(t, s, src, items("v", 3))
	st, as := storyOf(members[0], members[:2]...)
	for want := int64(1); want <= 3; want++ {
		saveStories(t, s, l, as, st)
		if got := getStory(t, s, st.ID).Version; got != want {
			t.Errorf("Story after write %d: Version %d, want %d", want, got, want)
		}
	}
	// A story another batch does not write keeps its version.
	other, as2 := storyOf(members[2], members[2])
	saveStories(t, s, l, as2, other)
	list, err := s.Stories(t.Context(), store.StoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]int64{st.ID: 3, other.ID: 1}
	for _, r := range list {
		if r.Version != want[r.ID] {
			t.Errorf("Stories: story %d at version %d, want %d", r.ID, r.Version, want[r.ID])
		}
	}
	if err := s.EachStory(t.Context(), func(r store.StoryRecord) error {
		if r.Version != want[r.ID] {
			t.Errorf("EachStory: story %d at version %d, want %d", r.ID, r.Version, want[r.ID])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// testStoriesToAnalyse: the queue holds new stories and changed ones, not
// those analysed at their current version, earliest first seen first, with
// everything, and honours the limit.
func testStoriesToAnalyse(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	l := lease("one")
	mustAcquire(t, s, l)
	stories := singleStories(t, s, l, src, "q", 5)
	ids := storyIDs(stories)

	recs, err := s.StoriesToAnalyse(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := storyIDsOf(recs); !slices.Equal(got, ids) {
		t.Fatalf("StoriesToAnalyse = %v, want every new story earliest first %v", got, ids)
	}
	for _, r := range recs {
		if r.Version != 1 || len(r.Members) != 1 || len(r.Articles) != 1 || r.OutletCount != 1 || len(r.Outlets) != 1 || r.Title == "" {
			t.Errorf("story %d to analyse: version %d, %d members, %d ids, %d outlets (%d listed), title %q; want version 1 and everything",
				r.ID, r.Version, len(r.Members), len(r.Articles), r.OutletCount, len(r.Outlets), r.Title)
		}
	}
	if got := toAnalyse(t, s, 2); !slices.Equal(got, ids[:2]) {
		t.Errorf("StoriesToAnalyse(2) = %v, want %v", got, ids[:2])
	}
	if got := toAnalyse(t, s, 0); !slices.Equal(got, ids) {
		t.Errorf("StoriesToAnalyse(0) = %v, want all %v (default limit)", got, ids)
	}

	// 0 and 2 analysed at their version, 1 at an older one: only 1, 3, 4 wait.
	saveAnalyses(t, s, l,
		analysisRec(ids[0], 1, 1, analysisOf(1, "a")),
		analysisRec(ids[1], 0, 1, analysisOf(1, "a")),
		analysisRec(ids[2], 1, 1, analysisOf(1, "a")))
	if got, want := toAnalyse(t, s, 100), []int64{ids[1], ids[3], ids[4]}; !slices.Equal(got, want) {
		t.Errorf("after analysing %d and %d: StoriesToAnalyse = %v, want %v", ids[0], ids[2], got, want)
	}
	// Writing story 2 again makes its analysis stale.
	saveStories(t, s, l, []store.Assignment{{ArticleID: ids[2], StoryID: ids[2]}}, stories[2])
	recs, err = s.StoriesToAnalyse(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := storyIDsOf(recs), []int64{ids[1], ids[2], ids[3], ids[4]}; !slices.Equal(got, want) {
		t.Errorf("after rewriting %d: StoriesToAnalyse = %v, want %v", ids[2], got, want)
	}
	for _, r := range recs {
		if r.ID == ids[2] && r.Version != 2 {
			t.Errorf("rewritten story %d to analyse at version %d, want 2", r.ID, r.Version)
		}
	}
	saveAnalyses(t, s, l, analysisRec(ids[2], 2, 1, analysisOf(1, "a")))
	if got, want := toAnalyse(t, s, 100), []int64{ids[1], ids[3], ids[4]}; !slices.Equal(got, want) {
		t.Errorf("after analysing %d at version 2: StoriesToAnalyse = %v, want %v", ids[2], got, want)
	}
}

// testSaveAnalysesRoundTrip: the whole analysis reads back; a second save
// replaces it (and its entities); an analysis of a story not stored is
// skipped; each save counts as a change of the articles.
func testSaveAnalysesRoundTrip(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	l := lease("one")
	mustAcquire(t, s, l)
	stories := singleStories(t, s, l, src, "r", 2)
	id := stories[0].ID
	if _, err := s.Analysis(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Analysis before any: err %v, want ErrNotFound", err)
	}

	v0 := articlesVersion(t, s)
	first := analysisRec(id, 1, 3, analysisOf(2.5, "deepseek", "huawei", "sam altman"))
	gone := analysisRec(id+1000, 1, 1, analysisOf(9, "deepseek"))
	saveAnalyses(t, s, l, first, gone)
	if v := articlesVersion(t, s); v <= v0 {
		t.Errorf("Version.Articles %d -> %d after SaveAnalyses, want up", v0, v)
	}
	got, err := s.Analysis(t.Context(), id)
	if err != nil {
		t.Fatalf("Analysis(%d): %v", id, err)
	}
	sameTime(t, "Analysed", got.Analysed, first.Analysed)
	if got.StoryID != id || got.Version != 1 || got.Outlets != 3 {
		t.Errorf("Analysis = story %d version %d outlets %d; want %d, 1, 3", got.StoryID, got.Version, got.Outlets, id)
	}
	if !reflect.DeepEqual(got.Analysis, first.Analysis) {
		t.Errorf("Analysis round trip:\n got %+v\nwant %+v", got.Analysis, first.Analysis)
	}
	if _, err := s.Analysis(t.Context(), gone.StoryID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Analysis of a story never stored: err %v, want ErrNotFound (skipped)", err)
	}
	if got := refIDs(t, s, store.RefQuery{Entities: []string{"sam altman"}}); !slices.Equal(got, []int64{id}) {
		t.Errorf("StoryRefs(sam altman) = %v, want [%d]", got, id)
	}

	second := analysisRec(id, 1, 4, analysisOf(1.25, "nvidia"))
	second.Topics, second.Audiences, second.TLDR = nil, []news.Audience{}, nil
	saveAnalyses(t, s, l, second)
	got, err = s.Analysis(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Outlets != 4 || !reflect.DeepEqual(got.Analysis, second.Analysis) {
		t.Errorf("replaced analysis: outlets %d, %+v; want 4, %+v", got.Outlets, got.Analysis, second.Analysis)
	}
	for _, k := range []string{"deepseek", "huawei", "sam altman"} {
		if got := refIDs(t, s, store.RefQuery{Entities: []string{k}}); len(got) != 0 {
			t.Errorf("StoryRefs(%s) after the analysis without it = %v, want none", k, got)
		}
	}
	if got := refIDs(t, s, store.RefQuery{Entities: []string{"nvidia"}}); !slices.Equal(got, []int64{id}) {
		t.Errorf("StoryRefs(nvidia) = %v, want [%d]", got, id)
	}

	// An empty batch, or one of gone stories only, is no error.
	saveAnalyses(t, s, l)
	saveAnalyses(t, s, l, gone)
}

// testSaveAnalysesBadInput: a record no page could use is refused before
// anything of the batch is written.
func testSaveAnalysesBadInput(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	l := lease("one")
	mustAcquire(t, s, l)
	id := singleStories(t, s, l, src, "b", 1)[0].ID
	good := analysisRec(id, 1, 1, analysisOf(1, "a"))
	for _, bad := range []store.AnalysisRecord{
		analysisRec(0, 1, 1, analysisOf(1, "a")),
		analysisRec(-id, 1, 1, analysisOf(1, "a")),
		analysisRec(id, -1, 1, analysisOf(1, "a")),
		analysisRec(id, 1, -1, analysisOf(1, "a")),
	} {
		if err := s.SaveAnalyses(t.Context(), l, []store.AnalysisRecord{good, bad}); err == nil || errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("SaveAnalyses with story %d version %d outlets %d: err %v, want a bad-input error",
				bad.StoryID, bad.Version, bad.Outlets, err)
		}
	}
	if _, err := s.Analysis(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after refused batches: Analysis err %v, want ErrNotFound", err)
	}
	if err := s.SaveInsight(t.Context(), store.InsightRecord{StoryID: 0, Version: 1}); err == nil {
		t.Error("SaveInsight of story 0: no error")
	}
}

// testSaveAnalysesLeaseLost: without the lease (never taken, another's,
// expired) nothing of the batch is written.
func testSaveAnalysesLeaseLost(t *testing.T, s store.Store, c *Clock) {
	src := addSource(t, s, "https://a.example/feed")
	a, b := lease("instance-a"), lease("instance-b")
	mustAcquire(t, s, a)
	id := singleStories(t, s, a, src, "l", 1)[0].ID
	if err := s.ReleaseLease(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	recs := []store.AnalysisRecord{analysisRec(id, 1, 1, analysisOf(1, "openai"))}
	v0 := articlesVersion(t, s)
	try := func(what string, l store.Lease) {
		t.Helper()
		if err := s.SaveAnalyses(t.Context(), l, recs); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("SaveAnalyses %s: err %v, want ErrLeaseLost", what, err)
		}
		if _, err := s.Analysis(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after SaveAnalyses %s: Analysis err %v, want ErrNotFound", what, err)
		}
		if got := toAnalyse(t, s, 10); !slices.Equal(got, []int64{id}) {
			t.Errorf("after SaveAnalyses %s: queue %v, want [%d]", what, got, id)
		}
		if got := refIDs(t, s, store.RefQuery{Entities: []string{"openai"}}); len(got) != 0 {
			t.Errorf("after SaveAnalyses %s: StoryRefs %v, want none", what, got)
		}
		if v := articlesVersion(t, s); v != v0 {
			t.Errorf("after SaveAnalyses %s: Version.Articles %d -> %d, want unchanged", what, v0, v)
		}
	}
	try("without the lease", a)
	mustAcquire(t, s, b)
	try("while another holds it", a)
	c.Advance(leaseTTL + time.Second)
	try("after it expired", b)
	mustAcquire(t, s, b)
	saveAnalyses(t, s, b, recs...)
	if got := toAnalyse(t, s, 10); len(got) != 0 {
		t.Errorf("queue after a held SaveAnalyses = %v, want empty", got)
	}
}

// testAnalysisMerge: a story merged into another loses its analysis, its
// entity rows and its insight; the one it joined keeps its own (stale now).
func testAnalysisMerge(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	sorted := storedSorted(t, s, src, items("m", 4))
	l := lease("one")
	mustAcquire(t, s, l)
	big, as := storyOf(sorted[0], sorted[0], sorted[2])
	small, as2 := storyOf(sorted[1], sorted[1], sorted[3])
	saveStories(t, s, l, append(as, as2...), big, small)
	saveAnalyses(t, s, l,
		analysisRec(big.ID, 1, 2, analysisOf(2, "openai", "shared")),
		analysisRec(small.ID, 1, 2, analysisOf(1, "anthropic", "shared")))
	for _, id := range []int64{big.ID, small.ID} {
		if err := s.SaveInsight(t.Context(), store.InsightRecord{StoryID: id, Version: 1, Insight: insightOf("m")}); err != nil {
			t.Fatal(err)
		}
	}

	merged, as := storyOf(sorted[0], sorted...)
	saveStories(t, s, l, as, merged)

	if _, err := s.Analysis(t.Context(), small.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Analysis of the merged story: err %v, want ErrNotFound", err)
	}
	if _, err := s.Insight(t.Context(), small.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Insight of the merged story: err %v, want ErrNotFound", err)
	}
	if got := refIDs(t, s, store.RefQuery{Entities: []string{"anthropic"}}); len(got) != 0 {
		t.Errorf("StoryRefs(anthropic), only the merged story's: %v, want none", got)
	}
	if got := refIDs(t, s, store.RefQuery{Entities: []string{"shared"}}); !slices.Equal(got, []int64{big.ID}) {
		t.Errorf("StoryRefs(shared) = %v, want only [%d]", got, big.ID)
	}
	if an, err := s.Analysis(t.Context(), big.ID); err != nil || an.Version != 1 {
		t.Errorf("Analysis of the surviving story: version %d, %v; want its version 1 analysis", an.Version, err)
	}
	if got := toAnalyse(t, s, 10); !slices.Equal(got, []int64{big.ID}) {
		t.Errorf("queue after the merge = %v, want the surviving story [%d]", got, big.ID)
	}
}

// testStoryRefs: stories naming any of the keys, first seen in [From, To),
// without Exclude, best base score first (ties by id, higher first),
// limited, each with its title, dates, keys, topics, outlets and score.
func testStoryRefs(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	l := lease("one")
	mustAcquire(t, s, l)
	st := singleStories(t, s, l, src, "f", 6) // first seen 5, 4, ... 0 minutes before base
	id := storyIDs(st)
	analyses := []store.AnalysisRecord{
		analysisRec(id[0], 1, 1, analysisOf(1, "openai", "nvidia")),
		analysisRec(id[1], 1, 2, analysisOf(4, "nvidia")),
		analysisRec(id[2], 1, 3, analysisOf(3, "anthropic", "openai")),
		analysisRec(id[3], 1, 4, analysisOf(3, "openai")), // ties with 2: the higher id first
		analysisRec(id[4], 1, 5, analysisOf(5, "google")),
		// id[5] is not analysed: it is in no ref.
	}
	analyses[2].Topics = []news.Topic{news.TopicSafety}
	saveAnalyses(t, s, l, analyses...)
	hi, lo := max(id[2], id[3]), min(id[2], id[3])

	cases := []struct {
		name string
		q    store.RefQuery
		want []int64
	}{
		{"one key", store.RefQuery{Entities: []string{"openai"}}, []int64{hi, lo, id[0]}},
		{"any key, each story once", store.RefQuery{Entities: []string{"openai", "nvidia", "anthropic"}}, []int64{id[1], hi, lo, id[0]}},
		{"exclude", store.RefQuery{Entities: []string{"openai", "nvidia"}, Exclude: id[1]}, []int64{hi, lo, id[0]}},
		{"limit", store.RefQuery{Entities: []string{"openai", "nvidia"}, Limit: 2}, []int64{id[1], hi}},
		{"from inclusive", store.RefQuery{Entities: []string{"openai", "nvidia"}, From: st[1].FirstSeen}, []int64{id[1], hi, lo}},
		{"to exclusive", store.RefQuery{Entities: []string{"openai", "nvidia"}, To: st[2].FirstSeen}, []int64{id[1], id[0]}},
		{"from and to", store.RefQuery{Entities: []string{"openai", "nvidia"}, From: st[1].FirstSeen, To: st[3].FirstSeen}, []int64{id[1], id[2]}},
		{"unknown key", store.RefQuery{Entities: []string{"xai"}}, []int64{}},
		{"no keys", store.RefQuery{}, []int64{}},
		{"empty range", store.RefQuery{Entities: []string{"openai"}, From: st[3].FirstSeen, To: st[3].FirstSeen}, []int64{}},
	}
	for _, c := range cases {
		if got := refIDs(t, s, c.q); !slices.Equal(got, c.want) {
			t.Errorf("StoryRefs %s = %v, want %v", c.name, got, c.want)
		}
	}

	refs, err := s.StoryRefs(t.Context(), store.RefQuery{Entities: []string{"anthropic"}})
	if err != nil || len(refs) != 1 {
		t.Fatalf("StoryRefs(anthropic) = %+v, %v; want story %d", refs, err, id[2])
	}
	r := refs[0]
	rec := getStory(t, s, id[2])
	if r.ID != id[2] || r.Title != rec.Title || r.Title == "" || r.Outlets != 3 || r.Score != 3 ||
		!slices.Equal(r.Entities, []string{"anthropic", "openai"}) || !slices.Equal(r.Topics, []news.Topic{news.TopicSafety}) {
		t.Errorf("StoryRefs(anthropic)[0] = %+v; want id %d, title %q, outlets 3, score 3, keys [anthropic openai], topics [%s]",
			r, id[2], rec.Title, news.TopicSafety)
	}
	sameTime(t, "ref FirstSeen", r.FirstSeen, rec.FirstSeen)
	sameTime(t, "ref Updated", r.Updated, rec.Updated)
}

func insightOf(model string) news.Insight {
	return news.Insight{
		Model:        model,
		WhatChanged:  []news.Claim{{Text: "V4 runs on Ascend.", Cites: []int64{3, 5}}},
		WhyItMatters: []news.Claim{{Text: "Export rules bite less — “maybe”.", Cites: []int64{5}}},
		WhatToDoNext: []news.Claim{{Text: "Benchmark it.", Cites: []int64{3}}},
		Sections: []news.InsightSection{
			{Heading: "Comparison", Claims: []news.Claim{{Text: "Faster than V3.", Cites: []int64{3}}}},
			{Heading: "Implications", Claims: []news.Claim{{Text: "第二句。", Cites: []int64{5}}}},
		},
		Created: base,
	}
}

// testInsightRoundTrip: the whole insight reads back; a second save
// replaces it; an insight of a story not stored is skipped; each save
// counts as a change of the articles.
func testInsightRoundTrip(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	l := lease("one")
	mustAcquire(t, s, l)
	id := singleStories(t, s, l, src, "i", 1)[0].ID
	if _, err := s.Insight(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Insight before any: err %v, want ErrNotFound", err)
	}
	for i, model := range []string{"first-model", "second-model"} {
		v0 := articlesVersion(t, s)
		in := insightOf(model)
		in.Created = base.Add(time.Duration(i) * time.Hour).In(time.FixedZone("UTC+2", 2*3600))
		if i == 1 {
			in.Sections = nil
		}
		if err := s.SaveInsight(t.Context(), store.InsightRecord{StoryID: id, Version: int64(i + 1), Insight: in}); err != nil {
			t.Fatalf("SaveInsight %s: %v", model, err)
		}
		if v := articlesVersion(t, s); v <= v0 {
			t.Errorf("Version.Articles %d -> %d after SaveInsight, want up", v0, v)
		}
		got, err := s.Insight(t.Context(), id)
		if err != nil {
			t.Fatalf("Insight after %s: %v", model, err)
		}
		sameTime(t, "insight Created", got.Created, in.Created)
		gotIn := got.Insight
		gotIn.Created, in.Created = time.Time{}, time.Time{}
		if got.StoryID != id || got.Version != int64(i+1) || !reflect.DeepEqual(gotIn, in) {
			t.Errorf("Insight after %s = story %d version %d %+v; want %d, %d, %+v", model, got.StoryID, got.Version, gotIn, id, i+1, in)
		}
	}
	v0 := articlesVersion(t, s)
	if err := s.SaveInsight(t.Context(), store.InsightRecord{StoryID: id + 1000, Version: 1, Insight: insightOf("x")}); err != nil {
		t.Errorf("SaveInsight of a story not stored: %v, want it skipped", err)
	}
	if _, err := s.Insight(t.Context(), id+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Insight of a story not stored: err %v, want ErrNotFound", err)
	}
	if v := articlesVersion(t, s); v != v0 {
		t.Errorf("Version.Articles %d -> %d after a skipped SaveInsight, want unchanged", v0, v)
	}
}

// testStoriesForInsight: analysed stories of at least minOutlets outlets
// whose insight is missing or older than the story, most recently updated
// first, with everything, limited.
func testStoriesForInsight(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	l := lease("one")
	mustAcquire(t, s, l)
	st := singleStories(t, s, l, src, "n", 5) // updated in id order of st: the last most recently
	id := storyIDs(st)
	saveAnalyses(t, s, l,
		analysisRec(id[0], 1, 3, analysisOf(1, "a")),
		analysisRec(id[1], 1, 1, analysisOf(1, "a")),
		analysisRec(id[2], 1, 2, analysisOf(1, "a")),
		analysisRec(id[3], 1, 5, analysisOf(1, "a")))
	// id[4] is not analysed: its outlets are unknown, so it waits.

	check := func(what string, minOutlets, limit int, want []int64) {
		t.Helper()
		recs := forInsight(t, s, minOutlets, limit)
		if got := storyIDsOf(recs); !slices.Equal(got, want) {
			t.Errorf("%s: StoriesForInsight(%d, %d) = %v, want %v", what, minOutlets, limit, got, want)
		}
		for _, r := range recs {
			if r.Version == 0 || len(r.Members) == 0 || len(r.Outlets) == 0 || r.Title == "" {
				t.Errorf("%s: story %d: version %d, %d members, %d outlets, title %q; want everything",
					what, r.ID, r.Version, len(r.Members), len(r.Outlets), r.Title)
			}
		}
	}
	check("none written", 2, 10, []int64{id[3], id[2], id[0]})
	check("one outlet enough", 1, 10, []int64{id[3], id[2], id[1], id[0]})
	check("limit", 2, 2, []int64{id[3], id[2]})
	check("default limit", 2, 0, []int64{id[3], id[2], id[0]})
	check("many outlets", 6, 10, []int64{})

	if err := s.SaveInsight(t.Context(), store.InsightRecord{StoryID: id[2], Version: 1, Insight: insightOf("m")}); err != nil {
		t.Fatal(err)
	}
	check("one written at its version", 2, 10, []int64{id[3], id[0]})
	// Rewriting the story makes its insight stale.
	saveStories(t, s, l, []store.Assignment{{ArticleID: id[2], StoryID: id[2]}}, st[2])
	check("rewritten after its insight", 2, 10, []int64{id[3], id[2], id[0]})
	if err := s.SaveInsight(t.Context(), store.InsightRecord{StoryID: id[2], Version: 2, Insight: insightOf("m")}); err != nil {
		t.Fatal(err)
	}
	check("written again", 2, 10, []int64{id[3], id[0]})
}

func testAnalysisContextCanceled(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	l := lease("one")
	mustAcquire(t, s, l)
	id := singleStories(t, s, l, src, "k", 1)[0].ID
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := []struct {
		name string
		err  error
	}{
		{"StoriesToAnalyse", func() error { _, err := s.StoriesToAnalyse(ctx, 10); return err }()},
		{"SaveAnalyses", s.SaveAnalyses(ctx, l, []store.AnalysisRecord{analysisRec(id, 1, 1, analysisOf(1, "a"))})},
		{"Analysis", func() error { _, err := s.Analysis(ctx, id); return err }()},
		{"StoryRefs", func() error { _, err := s.StoryRefs(ctx, store.RefQuery{Entities: []string{"a"}}); return err }()},
		{"StoriesForInsight", func() error { _, err := s.StoriesForInsight(ctx, 1, 10); return err }()},
		{"SaveInsight", s.SaveInsight(ctx, store.InsightRecord{StoryID: id, Version: 1, Insight: insightOf("m")})},
		{"Insight", func() error { _, err := s.Insight(ctx, id); return err }()},
	}
	for _, c := range calls {
		if c.err == nil {
			t.Errorf("%s with a canceled context: no error", c.name)
		}
	}
	if _, err := s.Analysis(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a canceled SaveAnalyses: Analysis err %v, want ErrNotFound", err)
	}
	if _, err := s.Insight(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a canceled SaveInsight: Insight err %v, want ErrNotFound", err)
	}
}
