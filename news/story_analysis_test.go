package news

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

var analysisNow = time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC)

// deepseekStory is a story about DeepSeek V4 and Huawei Ascend chips.
func deepseekStory() (StoryRef, []Entity) {
	story := StoryRef{ID: 1000, Title: "DeepSeek V4 optimized for Huawei Ascend", FirstSeen: analysisNow,
		Entities: []string{"deepseek-v4", "deepseek", "huawei", "ascend"}, Topics: []Topic{TopicModels, TopicChips}, Outlets: 5}
	main := []Entity{
		{Key: "deepseek-v4", Name: "DeepSeek V4", Kind: KindModel, Weight: 3},
		{Key: "deepseek", Name: "DeepSeek", Kind: KindOrg, Weight: 2.5},
		{Key: "huawei", Name: "Huawei", Kind: KindOrg, Weight: 1.5},
		{Key: "ascend", Name: "Ascend", Kind: KindChip, Weight: 1.5},
	}
	return story, main
}

func TestBuildTimeline(t *testing.T) {
	story, main := deepseekStory()
	day := 24 * time.Hour
	cands := []StoryRef{
		{ID: 1, Title: "DeepSeek V4 preview leaks", FirstSeen: analysisNow.Add(-40 * day), Entities: []string{"deepseek-v4", "deepseek"}, Outlets: 3},
		{ID: 2, Title: "Huawei ships Ascend 910C", FirstSeen: analysisNow.Add(-200 * day), Entities: []string{"huawei", "ascend"}, Outlets: 4},
		{ID: 3, Title: "DeepSeek R1 shakes markets", FirstSeen: analysisNow.Add(-450 * day), Entities: []string{"deepseek", "deepseek-r1"}, Outlets: 9, Score: 4},
		{ID: 4, Title: "A later DeepSeek story", FirstSeen: analysisNow.Add(2 * day), Entities: []string{"deepseek-v4", "deepseek"}, Outlets: 9},
		{ID: 5, Title: "Same-day follow-up", FirstSeen: analysisNow.Add(-3 * time.Hour), Entities: []string{"deepseek-v4"}, Outlets: 9},
		{ID: 6, Title: "Unrelated: OpenAI raises money", FirstSeen: analysisNow.Add(-60 * day), Entities: []string{"openai"}, Outlets: 12},
		{ID: 7, Title: "Huawei phone sales", FirstSeen: analysisNow.Add(-90 * day), Entities: []string{"huawei"}, Outlets: 2},
		{ID: 1000, Title: "the story itself", FirstSeen: analysisNow.Add(-10 * day), Entities: story.Entities},
		{ID: 8, Title: "No time", Entities: []string{"deepseek-v4"}},
	}
	events := BuildTimeline(story, main, cands, 0)
	var ids []int64
	for _, e := range events {
		ids = append(ids, e.Story)
		if e.Month != e.When.UTC().Format("2006-01") {
			t.Errorf("event %d: month %q for %v", e.Story, e.Month, e.When)
		}
		if len(e.Shared) == 0 {
			t.Errorf("event %d shares nothing", e.Story)
		}
	}
	// Oldest first; never later, same-day, unrelated, the story itself,
	// nor one sharing only a minor org.
	if want := []int64{3, 2, 1}; !slices.Equal(ids, want) {
		t.Errorf("timeline %v, want %v", ids, want)
	}
	if len(events) == 3 && !slices.Equal(events[2].Shared, []string{"deepseek-v4", "deepseek"}) {
		t.Errorf("shared %v, want the model then the maker", events[2].Shared)
	}
}

func TestBuildTimelineStrongBeatsWeak(t *testing.T) {
	story, main := deepseekStory()
	month := 30 * 24 * time.Hour
	// Two stories of one month: the one sharing the model family and the
	// maker beats the one sharing only the maker, though that one had
	// more outlets.
	cands := []StoryRef{
		{ID: 1, FirstSeen: analysisNow.Add(-month), Entities: []string{"deepseek"}, Outlets: 20},
		{ID: 2, FirstSeen: analysisNow.Add(-month - time.Hour), Entities: []string{"deepseek-v4", "deepseek"}, Outlets: 2},
	}
	events := BuildTimeline(story, main, cands, 1)
	if len(events) != 1 || events[0].Story != 2 {
		t.Errorf("got %+v, want story 2", events)
	}
}

func TestBuildTimelineSpreadsOverMonths(t *testing.T) {
	story, main := deepseekStory()
	var cands []StoryRef
	id := int64(1)
	// A busy last week: ten strong stories.
	for i := range 10 {
		cands = append(cands, StoryRef{ID: id, FirstSeen: analysisNow.Add(-time.Duration(2+i%5) * 24 * time.Hour), Entities: []string{"deepseek-v4", "deepseek", "ascend"}, Outlets: 10})
		id++
	}
	// One weaker story in each of five older months.
	for m := 1; m <= 5; m++ {
		cands = append(cands, StoryRef{ID: id, FirstSeen: analysisNow.AddDate(0, -m, -10), Entities: []string{"deepseek-v4"}, Outlets: 1})
		id++
	}
	for _, max := range []int{0, 3, 6, 10} {
		events := BuildTimeline(story, main, cands, max)
		limit := max
		if limit <= 0 {
			limit = 6
		}
		if len(events) > limit {
			t.Errorf("max %d: %d events", max, len(events))
		}
		months := make(map[string]int)
		for i, e := range events {
			months[e.Month]++
			if i > 0 && e.When.Before(events[i-1].When) {
				t.Errorf("max %d: not oldest first", max)
			}
		}
		for m, n := range months {
			if n > 2 {
				t.Errorf("max %d: %d events in %s", max, n, m)
			}
		}
		// Six months have stories: every one is on the timeline before
		// any month has a second.
		if len(months) != min(limit, 6) {
			t.Errorf("max %d: %d events in %d months: %v", max, len(events), len(months), months)
		}
	}
}

func TestBuildTimelineEdgeCases(t *testing.T) {
	story, main := deepseekStory()
	old := StoryRef{ID: 1, FirstSeen: analysisNow.AddDate(0, -2, 0), Entities: []string{"deepseek-v4"}}
	if got := BuildTimeline(story, main, nil, 0); len(got) != 0 {
		t.Errorf("no candidates: %v", got)
	}
	zero := story
	zero.FirstSeen = time.Time{}
	if got := BuildTimeline(zero, main, []StoryRef{old}, 0); len(got) != 0 {
		t.Errorf("story without time: %v", got)
	}
	// Without main entities, the story's keys stand in.
	if got := BuildTimeline(story, nil, []StoryRef{old}, 0); len(got) != 1 {
		t.Errorf("keys only: %v", got)
	}
	bad := []Entity{{Key: "deepseek-v4", Weight: math.NaN()}, {Key: "", Weight: 1}, {Key: "x", Weight: -1}}
	if got := BuildTimeline(story, bad, []StoryRef{old}, 0); len(got) != 0 {
		t.Errorf("unsound weights: %v", got)
	}
	// The same candidate twice appears once.
	if got := BuildTimeline(story, main, []StoryRef{old, old}, 0); len(got) != 1 {
		t.Errorf("duplicate candidate: %v", got)
	}
}

func TestRelatedStories(t *testing.T) {
	story, _ := deepseekStory()
	hour := time.Hour
	cands := []StoryRef{
		story, // the story itself
		{ID: 1, Title: "Ascend 920 specs", FirstSeen: analysisNow.Add(-30 * hour), Entities: []string{"ascend", "huawei"}, Topics: []Topic{TopicChips}},
		{ID: 2, Title: "Huawei earnings", FirstSeen: analysisNow.Add(-30 * hour), Entities: []string{"huawei"}},
		{ID: 3, Title: "Huawei cloud deal", FirstSeen: analysisNow.Add(-20 * hour), Entities: []string{"huawei"}},
		{ID: 4, Title: "Huawei phones", FirstSeen: analysisNow.Add(-10 * hour), Entities: []string{"huawei", "kirin"}},
		{ID: 5, Title: "OpenAI ships a model", FirstSeen: analysisNow.Add(-hour), Entities: []string{"openai", "gpt-5"}, Topics: []Topic{TopicModels, TopicChips}},
		{ID: 6, Title: "DeepSeek V4 benchmarks", FirstSeen: analysisNow.Add(-5 * hour), Entities: []string{"deepseek-v4", "deepseek"}, Topics: []Topic{TopicModels}},
	}
	got := RelatedStories(story, cands, 0)
	var ids []int64
	for _, r := range got {
		ids = append(ids, r.Story)
		if r.Story == story.ID {
			t.Errorf("the story itself is related to itself")
		}
		if len(r.SharedKeys) == 0 {
			t.Errorf("story %d shares no key", r.Story)
		}
	}
	// 6 shares the model and the maker; 1 shares Ascend, rarer than
	// Huawei, which 2, 3, 4 share alone: too common to count alone. 5
	// shares only topics.
	if want := []int64{6, 1}; !slices.Equal(ids, want) {
		t.Errorf("related %v, want %v (%+v)", ids, want, got)
	}
	if len(got) == 2 && (!slices.Equal(got[1].SharedKeys, []string{"huawei", "ascend"}) || !slices.Equal(got[1].SharedTopics, []Topic{TopicChips})) {
		t.Errorf("story 1 shares %v %v", got[1].SharedKeys, got[1].SharedTopics)
	}
}

func TestRelatedStoriesRarerKeyRanksHigher(t *testing.T) {
	story := StoryRef{ID: 100, FirstSeen: analysisNow, Entities: []string{"nvidia", "h200"}}
	var cands []StoryRef
	for i := range 8 {
		cands = append(cands, StoryRef{ID: int64(i + 1), FirstSeen: analysisNow, Entities: []string{"nvidia"}})
	}
	cands = append(cands, StoryRef{ID: 50, FirstSeen: analysisNow, Entities: []string{"h200"}})
	got := RelatedStories(story, cands, 3)
	if len(got) == 0 || got[0].Story != 50 {
		t.Fatalf("got %+v, want story 50 first: the rare key", got)
	}
	if len(got) > 3 {
		t.Errorf("%d stories, max 3", len(got))
	}
	for _, r := range got[1:] {
		if r.Score > got[0].Score {
			t.Errorf("not best first: %+v", got)
		}
	}
	if got := RelatedStories(StoryRef{ID: 1}, cands, 0); len(got) != 0 {
		t.Errorf("a story without entities: %v", got)
	}
}

func TestRankStory(t *testing.T) {
	first := analysisNow.Add(-18 * time.Hour)
	outlets := func(n int, w float64, spread time.Duration) []RankOutlet {
		var os []RankOutlet
		for i := range n {
			os = append(os, RankOutlet{Name: fmt.Sprint("outlet", i), Weight: w, FirstSeen: first.Add(time.Duration(i) * spread)})
		}
		return os
	}
	base := RankInput{Outlets: outlets(3, 1, time.Hour), FirstSeen: first, Relevance: 0.9}
	r := RankStory(base, analysisNow)

	more := base
	more.Outlets = outlets(6, 1, time.Hour)
	heavier := base
	heavier.Outlets = outlets(3, 1.5, time.Hour)
	slower := base
	slower.Outlets = outlets(3, 1, 10*time.Hour)
	irrelevant := base
	irrelevant.Relevance = 0
	tests := []struct {
		name  string
		in    RankInput
		above bool // ranks above base
	}{
		{"more independent outlets", more, true},
		{"heavier outlets", heavier, true},
		{"slower coverage", slower, false},
		{"no AI relevance", irrelevant, false},
	}
	for _, tt := range tests {
		got := RankStory(tt.in, analysisNow)
		if (got.Base > r.Base) != tt.above || got.Base == r.Base {
			t.Errorf("%s: Base %.3f against %.3f", tt.name, got.Base, r.Base)
		}
	}
	if got := RankStory(irrelevant, analysisNow); got.Base > 0.2*r.Base {
		t.Errorf("relevance 0 still ranks %.3f of %.3f", got.Base, r.Base)
	}
	// The same story two days later: lower Score, the same Base.
	later := RankStory(base, analysisNow.Add(48*time.Hour))
	if later.Base != r.Base || later.Score >= r.Score {
		t.Errorf("later: %+v against %+v", later, r)
	}
	if math.Abs(later.Score/r.Score-0.25) > 1e-9 {
		t.Errorf("two half-lives later the score is %.4f of before", later.Score/r.Score)
	}
	// Outlets of one name count once.
	dup := base
	dup.Outlets = append(append([]RankOutlet(nil), base.Outlets...), base.Outlets[0])
	if got := RankStory(dup, analysisNow); got.Base != r.Base {
		t.Errorf("a repeated outlet changed Base: %.3f against %.3f", got.Base, r.Base)
	}
}

func TestRankStoryParts(t *testing.T) {
	first := analysisNow.Add(-18 * time.Hour)
	in := RankInput{FirstSeen: first, Relevance: 0.92, Outlets: []RankOutlet{
		{Name: "a", Weight: 1, FirstSeen: first},
		{Name: "b", Weight: 1.5, FirstSeen: first.Add(2 * time.Hour)},
		{Name: "c", Weight: 1, FirstSeen: first.Add(5 * time.Hour)},
	}}
	r := RankStory(in, analysisNow)
	want := map[string]string{
		"Outlets":           "3 independent outlets",
		"Outlet weights":    "weights 1.0, 1.5, 1.0",
		"Speed of coverage": "2 outlets within 6h",
		"Recency":           "18h old, half-life 24h",
		"AI relevance":      "AI relevance 0.92",
	}
	if len(r.Parts) != len(want) {
		t.Fatalf("parts %+v", r.Parts)
	}
	product := 1.0
	for _, p := range r.Parts {
		if want[p.Name] != p.Detail {
			t.Errorf("%s: %q, want %q", p.Name, p.Detail, want[p.Name])
		}
		if p.Name != "Outlet weights" {
			product *= p.Value
		}
	}
	// The parts are the score: their product is it.
	if math.Abs(product-r.Score) > 1e-9 {
		t.Errorf("parts multiply to %.6f, score %.6f", product, r.Score)
	}
}

func TestRankStoryNoNaN(t *testing.T) {
	tests := []struct {
		name string
		in   RankInput
		now  time.Time
	}{
		{"zero", RankInput{}, time.Time{}},
		{"zero input, a clock", RankInput{}, analysisNow},
		{"outlets without times", RankInput{Outlets: []RankOutlet{{}, {}}}, analysisNow},
		{"NaN and infinite weights", RankInput{Outlets: []RankOutlet{{Name: "a", Weight: math.NaN()}, {Name: "b", Weight: math.Inf(1)}, {Name: "c", Weight: -2}}, Relevance: math.NaN()}, analysisNow},
		{"future first report", RankInput{Outlets: []RankOutlet{{Name: "a", Weight: 1}}, FirstSeen: analysisNow.Add(time.Hour), Relevance: 2}, analysisNow},
		{"ancient", RankInput{Outlets: []RankOutlet{{Name: "a", Weight: 1}}, FirstSeen: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), Relevance: 1}, analysisNow},
	}
	for _, tt := range tests {
		r := RankStory(tt.in, tt.now)
		vals := []float64{r.Score, r.Base}
		for _, p := range r.Parts {
			vals = append(vals, p.Value)
			if strings.Contains(p.Detail, "NaN") || strings.Contains(p.Detail, "Inf") {
				t.Errorf("%s: detail %q", tt.name, p.Detail)
			}
		}
		for _, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Errorf("%s: value %v in %+v", tt.name, v, r)
			}
		}
		if r.Score > r.Base {
			t.Errorf("%s: Score %v above Base %v", tt.name, r.Score, r.Base)
		}
	}
}

func TestRankAtMovesOnlyRecency(t *testing.T) {
	first := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	in := RankInput{FirstSeen: first, Relevance: 0.9, Outlets: []RankOutlet{
		{Name: "a", Weight: 1, FirstSeen: first}, {Name: "b", Weight: 1, FirstSeen: first.Add(time.Hour)}}}
	stored := RankStory(in, first.Add(time.Hour))
	later := stored.At(first, first.Add(49*time.Hour))
	fresh := RankStory(in, first.Add(49*time.Hour))
	if later.Base != stored.Base || math.Abs(later.Score-fresh.Score) > 1e-12 {
		t.Errorf("At(49h) = base %v score %v, want base %v and the score RankStory gives then, %v", later.Base, later.Score, stored.Base, fresh.Score)
	}
	for i, p := range later.Parts {
		if p != fresh.Parts[i] {
			t.Errorf("part %d: At gives %+v, RankStory %+v", i, p, fresh.Parts[i])
		}
	}
	if stored.Parts[3].Detail != "1h old, half-life 24h" {
		t.Errorf("At changed the stored rank's parts: %+v", stored.Parts[3])
	}
}
