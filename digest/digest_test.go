package digest

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

var day0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // Monday of 2026-W48

// cand is a candidate of id led by source src, with score and outlets; it
// is new this week unless a test says otherwise.
func cand(id, src int64, score float64, outlets int) Candidate {
	return Candidate{
		Item: Item{
			Story: id, Title: "story", LeadSourceID: src, Score: score,
			FirstSeen: day0.Add(time.Duration(id) * time.Minute), Topics: []news.Topic{news.TopicModels},
		},
		Outlets: outlets, NewArticles: outlets, NewOutlets: outlets,
	}
}

func ids(items []Item) []int64 {
	out := []int64{}
	for _, it := range items {
		out = append(out, it.Story)
	}
	return out
}

func TestChooseRules(t *testing.T) {
	opts := Options{Limit: 12, MinOutlets: 2, MaxPerSource: 3, MinScore: 1}
	grown := func(c Candidate, before, newArticles, newOutlets int) Candidate {
		c.ArticlesBefore, c.OutletsBefore, c.NewArticles, c.NewOutlets = before, 2, newArticles, newOutlets
		return c
	}
	for _, tc := range []struct {
		name  string
		cands []Candidate
		prev  map[int64]bool
		opts  Options
		want  []int64
	}{
		{"a story needs two outlets",
			[]Candidate{cand(1, 1, 3, 1), cand(2, 2, 2, 2), cand(3, 3, 1.5, 0)}, nil, opts, []int64{2}},
		{"three outlets when the rules say so",
			[]Candidate{cand(1, 1, 3, 2), cand(2, 2, 2, 3)}, nil, Options{MinOutlets: 3, MinScore: 1}, []int64{2}},
		{"one source leads three stories at most",
			[]Candidate{cand(1, 7, 5, 2), cand(2, 7, 4, 2), cand(3, 7, 3, 2), cand(4, 7, 2.5, 2), cand(5, 8, 2, 2)}, nil, opts, []int64{1, 2, 3, 5}},
		{"a lead source of 0 is no source and has no cap",
			[]Candidate{cand(1, 0, 5, 2), cand(2, 0, 4, 2), cand(3, 0, 3, 2), cand(4, 0, 2.5, 2)}, nil, opts, []int64{1, 2, 3, 4}},
		{"a slow week is short: the minimum score",
			[]Candidate{cand(1, 1, 0.99, 5), cand(2, 2, 1, 2), cand(3, 3, 0.2, 2)}, nil, opts, []int64{2}},
		{"an empty week has no items",
			nil, nil, opts, []int64{}},
		{"a week of weak stories has no items",
			[]Candidate{cand(1, 1, 0.5, 2), cand(2, 2, 3, 1)}, nil, opts, []int64{}},
		{"a NaN score stays out",
			[]Candidate{cand(1, 1, math.NaN(), 3), cand(2, 2, 1.5, 2)}, nil, opts, []int64{2}},
		{"the limit",
			[]Candidate{cand(1, 1, 5, 2), cand(2, 2, 4, 2), cand(3, 3, 3, 2), cand(4, 4, 2, 2)}, nil, Options{Limit: 2, MinScore: 1}, []int64{1, 2}},
		{"last week's story that did not grow stays out",
			[]Candidate{grown(cand(1, 1, 5, 3), 6, 1, 1), cand(2, 2, 2, 2)}, map[int64]bool{1: true}, opts, []int64{2}},
		{"last week's story is back with two new outlets",
			[]Candidate{grown(cand(1, 1, 5, 4), 6, 2, 2), cand(2, 2, 2, 2)}, map[int64]bool{1: true}, opts, []int64{1, 2}},
		{"last week's story is back with as many new articles as it had",
			[]Candidate{grown(cand(1, 1, 5, 3), 3, 3, 0)}, map[int64]bool{1: true}, opts, []int64{1}},
		{"one new article is never enough, even to a story of one",
			[]Candidate{grown(cand(1, 1, 5, 3), 1, 1, 1)}, map[int64]bool{1: true}, opts, []int64{}},
		{"a skipped repeat leaves its source's share to others",
			[]Candidate{grown(cand(1, 7, 9, 3), 9, 0, 0), cand(2, 7, 5, 2), cand(3, 7, 4, 2), cand(4, 7, 3, 2)}, map[int64]bool{1: true}, opts, []int64{2, 3, 4}},
		{"a story listed twice is chosen once",
			[]Candidate{cand(1, 1, 5, 2), cand(1, 1, 5, 2), cand(2, 2, 4, 2)}, nil, opts, []int64{1, 2}},
		{"zero options take the defaults, MinScore as given",
			[]Candidate{cand(1, 1, 0.1, 2), cand(2, 2, 0.1, 1)}, nil, Options{}, []int64{1}},
	} {
		got := ids(Choose(tc.cands, tc.prev, tc.opts))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: chose %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestChooseOrdersByScoreThenOutletsThenFirstSeenThenID(t *testing.T) {
	a := cand(10, 1, 2, 2)
	b := cand(11, 2, 2, 3) // more outlets than a
	c := cand(12, 3, 2, 3)
	c.FirstSeen = day0.Add(-time.Hour) // earlier than b
	d := cand(13, 4, 2, 3)
	d.FirstSeen = c.FirstSeen // as early as c, higher id
	e := cand(14, 5, 4, 2)    // best score
	for _, order := range [][]Candidate{{a, b, c, d, e}, {e, d, c, b, a}, {c, a, e, b, d}} {
		got := ids(Choose(order, nil, DefaultOptions()))
		if want := []int64{14, 12, 13, 11, 10}; !slices.Equal(got, want) {
			t.Errorf("from %v: chose %v, want %v", ids(func() []Item {
				var it []Item
				for _, c := range order {
					it = append(it, c.Item)
				}
				return it
			}()), got, want)
		}
	}
}

func TestChooseMarksUpdatesWithTheirGrowth(t *testing.T) {
	mk := func(id int64, before, newArticles, newOutlets int) Candidate {
		c := cand(id, id, 3, 4)
		c.ArticlesBefore, c.NewArticles, c.NewOutlets = before, newArticles, newOutlets
		c.Update, c.Growth = true, "stale" // what a caller left must not leak through
		return c
	}
	cands := []Candidate{mk(1, 5, 4, 2), mk(2, 2, 2, 0), mk(3, 1, 2, 1), mk(4, 1, 2, 1)}
	got := Choose(cands, map[int64]bool{1: true, 2: true, 3: true}, DefaultOptions())
	want := map[int64]string{
		1: "4 new articles from 2 new outlets this week",
		2: "2 new articles this week",
		3: "2 new articles from 1 new outlet this week",
		4: "",
	}
	if len(got) != 4 {
		t.Fatalf("chose %v, want 4 stories", ids(got))
	}
	for _, it := range got {
		if it.Update != (want[it.Story] != "") || it.Growth != want[it.Story] {
			t.Errorf("story %d: Update %v, Growth %q; want %q", it.Story, it.Update, it.Growth, want[it.Story])
		}
	}
}

func TestGroupItemsByFirstTopicInTheOrderOfTheirBestItem(t *testing.T) {
	item := func(id int64, topic news.Topic, topics ...news.Topic) Item {
		return Item{Story: id, Topic: topic, Topics: topics}
	}
	items := []Item{
		item(1, news.TopicChips, news.TopicChips, news.TopicBusiness),
		item(2, news.TopicPolicy, news.TopicPolicy),
		item(3, "", news.TopicChips), // Topic unset: its first topic
		item(4, ""),                  // no topic at all: Other
		item(5, news.TopicBusiness, news.TopicBusiness, news.TopicChips),
		item(6, news.TopicPolicy, news.TopicPolicy),
	}
	got := GroupItems(items)
	type group struct {
		topic news.Topic
		name  string
		ids   []int64
	}
	want := []group{
		{news.TopicChips, news.TopicName(news.TopicChips), []int64{1, 3}},
		{news.TopicPolicy, news.TopicName(news.TopicPolicy), []int64{2, 6}},
		{"", "Other", []int64{4}},
		{news.TopicBusiness, news.TopicName(news.TopicBusiness), []int64{5}},
	}
	var gotG []group
	for _, g := range got {
		gotG = append(gotG, group{g.Topic, g.Name, ids(g.Items)})
	}
	if !reflect.DeepEqual(gotG, want) {
		t.Errorf("groups = %+v\nwant %+v", gotG, want)
	}
	if g := GroupItems(nil); g == nil || len(g) != 0 {
		t.Errorf("GroupItems(nil) = %#v, want an empty list", g)
	}
}

// fakeStore serves ActiveStories and CountBetween from memory; any other
// method panics through the nil interface, which would show that Build
// reads more than it should.
type fakeStore struct {
	store.Store
	stories []store.AnalysedStory
	counts  store.Counts
	calls   []string // "active from..to min limit", "count from..to"
	fail    error
}

func (f *fakeStore) ActiveStories(_ context.Context, from, to time.Time, minOutlets, limit int) ([]store.AnalysedStory, error) {
	f.calls = append(f.calls, "active "+from.Format(time.RFC3339)+".."+to.Format(time.RFC3339)+" "+itoa(minOutlets)+" "+itoa(limit))
	if f.fail != nil {
		return nil, f.fail
	}
	var out []store.AnalysedStory
	for _, s := range f.stories {
		active := false
		for _, m := range s.Members {
			if !m.Published.Before(from) && m.Published.Before(to) {
				active = true
			}
		}
		if active && s.Analysis.Outlets >= minOutlets {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b store.AnalysedStory) int {
		return -cmpFloat(a.Analysis.Rank.Base, b.Analysis.Rank.Base)
	})
	return out, nil
}

func (f *fakeStore) CountBetween(_ context.Context, from, to time.Time) (store.Counts, error) {
	f.calls = append(f.calls, "count "+from.Format(time.RFC3339)+".."+to.Format(time.RFC3339))
	return f.counts, nil
}

func itoa(n int) string { return formatInt(n) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// member is an article of source src (named name) published at.
func member(id, src int64, name string, at time.Time, url string) store.ArticleRecord {
	return store.ArticleRecord{
		Article: news.Article{ID: id, SourceID: src, Title: "member " + itoa(int(id)), URL: url, Published: at},
		Source:  name,
	}
}

// story builds a stored, analysed story from its members; outlets are the
// members' sources, earliest first, as the store reports them.
func story(id int64, base float64, topics []news.Topic, tldr []news.Sentence, members ...store.ArticleRecord) store.AnalysedStory {
	rec := store.StoryRecord{Title: "Story " + itoa(int(id)), Count: len(members), Members: members, Version: 1}
	rec.ID, rec.Lead = id, members[0].ID
	rec.LeadArticle = store.ArticleRecord{Article: members[0].Article, Source: members[0].Source}
	rec.FirstSeen, rec.Updated = members[0].Published, members[len(members)-1].Published
	seen := map[int64]bool{}
	for _, m := range members {
		rec.Articles = append(rec.Articles, m.ID)
		if !seen[m.SourceID] {
			seen[m.SourceID] = true
			rec.Outlets = append(rec.Outlets, store.Outlet{SourceID: m.SourceID, Name: m.Source, FirstSeen: m.Published})
		}
	}
	rec.OutletCount = len(rec.Outlets)
	return store.AnalysedStory{StoryRecord: rec, Analysis: store.AnalysisRecord{
		StoryID: id, Version: 1, Outlets: rec.OutletCount,
		Analysis: news.Analysis{Topics: topics, TLDR: tldr, Rank: news.Rank{Base: base, Score: base / 2}},
	}}
}

func TestBuildConvertsStoredStories(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	w := Week{2026, 48}
	start := w.Start(la)
	in := func(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }
	s := &fakeStore{counts: store.Counts{Sources: 42, Articles: 1234, Stories: 87}, stories: []store.AnalysedStory{
		story(100, 2.5, []news.Topic{news.TopicChips, news.TopicBusiness}, []news.Sentence{
			{Text: "Story 100.", Article: 101},               // repeats the title: left out
			{Text: "Nvidia ships a chip.", Article: 102},     // said by Wire
			{Text: "A sentence of no member.", Article: 999}, // cannot be attributed: left out
			{Text: "Blog post says more.", Article: 103},     // a javascript: link is no link
		},
			member(101, 1, "Lab Blog", in(-30), "https://lab.example/post"),
			member(102, 2, "Wire", in(2), "https://wire.example/a"),
			member(103, 3, "Wire", in(3), "javascript:alert(1)"),        // a second feed of one publisher
			member(104, 4, "Daily", in(200), "https://daily.example/b"), // after the week
		),
	}}
	d, err := Build(context.Background(), s, w, la, in(24), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if d.Week != w || !d.Start.Equal(start) || !d.End.Equal(w.End(la)) || d.Closed {
		t.Errorf("digest week %v %v..%v closed %v", d.Week, d.Start, d.End, d.Closed)
	}
	if d.Counts != s.counts {
		t.Errorf("counts %+v, want %+v", d.Counts, s.counts)
	}
	if len(d.Items) != 1 {
		t.Fatalf("items %v, want story 100", ids(d.Items))
	}
	it := d.Items[0]
	want := Item{
		Story: 100, Title: "Story 100", URL: "https://lab.example/post", LeadSource: "Lab Blog", LeadSourceID: 1,
		Topic: news.TopicChips, Topics: []news.Topic{news.TopicChips, news.TopicBusiness},
		TLDR: []Said{
			{Text: "Nvidia ships a chip.", Outlet: "Wire", URL: "https://wire.example/a"},
			{Text: "Blog post says more.", Outlet: "Wire", URL: ""},
		},
		Outlets: []string{"Lab Blog", "Wire"}, Articles: 3, Score: 2.5, // as at the week's end
		FirstSeen: in(-30), Updated: in(200),
	}
	if !reflect.DeepEqual(it, want) {
		t.Errorf("item\n%+v\nwant\n%+v", it, want)
	}
	if len(d.Groups) != 1 || d.Groups[0].Topic != news.TopicChips || len(d.Groups[0].Items) != 1 {
		t.Errorf("groups %+v", d.Groups)
	}
	// Two weeks read (this one and the previous, once each) and one count, in LA days.
	wantCalls := []string{
		"active 2026-11-23T00:00:00-08:00..2026-11-30T00:00:00-08:00 2 500",
		"active 2026-11-16T00:00:00-08:00..2026-11-23T00:00:00-08:00 2 500",
		"count 2026-11-23T00:00:00-08:00..2026-11-30T00:00:00-08:00",
	}
	if !slices.Equal(s.calls, wantCalls) {
		t.Errorf("store calls\n%s\nwant\n%s", strings.Join(s.calls, "\n"), strings.Join(wantCalls, "\n"))
	}
	if d, _ := Build(context.Background(), s, w, la, w.End(la), DefaultOptions()); !d.Closed {
		t.Errorf("a week is closed at its End")
	}
}

func TestCandidateRepeatFieldsCountAgainstTheWeek(t *testing.T) {
	w := Week{2026, 48}
	start, end := w.Start(time.UTC), w.End(time.UTC)
	st := story(1, 2, nil, nil,
		member(1, 1, "A", start.Add(-48*time.Hour), ""),
		member(2, 2, "B", start.Add(-time.Hour), ""),
		member(3, 2, "B", start, ""), // an outlet seen before: no new outlet
		member(4, 3, "C", start.Add(time.Hour), ""),
		member(5, 4, "C", start.Add(2*time.Hour), ""), // another feed named C: not independent
		member(6, 5, "D", end.Add(-time.Nanosecond), ""),
		member(7, 6, "E", end, ""), // the next week
	)
	c := candidateOf(st, start, end)
	got := [5]int{c.Outlets, c.ArticlesBefore, c.OutletsBefore, c.NewArticles, c.NewOutlets}
	if want := [5]int{4, 2, 2, 4, 2}; got != want {
		t.Errorf("outlets, articles before, outlets before, new articles, new outlets = %v, want %v", got, want)
	}
	if c.Topic != "" || c.Topics == nil || c.TLDR == nil || !slices.Equal(c.Item.Outlets, []string{"A", "B", "C", "D"}) || c.Articles != 6 {
		t.Errorf("item %+v", c.Item)
	}
}

// TestBuildRepeatRuleLooksOneWeekBack: a story chosen last week comes back
// only grown, and last week's choice is made without its own previous
// week (the store is read for two weeks, never three).
func TestBuildRepeatRuleLooksOneWeekBack(t *testing.T) {
	w := Week{2026, 48}
	start := w.Start(time.UTC)
	at := func(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }
	stories := []store.AnalysedStory{
		// In last week's digest, one more article this week: out.
		story(1, 3, nil, nil, member(10, 1, "A", at(-100), ""), member(11, 2, "B", at(-90), ""), member(12, 3, "C", at(5), "")),
		// In last week's digest, two new outlets this week: back as an update.
		story(2, 2.9, nil, nil, member(20, 1, "A", at(-100), ""), member(21, 2, "B", at(-90), ""),
			member(22, 3, "C", at(5), ""), member(23, 4, "D", at(6), "")),
		// New this week.
		story(3, 1.5, nil, nil, member(30, 5, "E", at(1), ""), member(31, 6, "F", at(2), "")),
		// One outlet last Sunday, its second this Monday: not in last
		// week's digest, though it has two outlets now.
		story(4, 1.2, nil, nil, member(40, 7, "G", at(-2), ""), member(41, 8, "H", at(1), "")),
	}
	s := &fakeStore{stories: stories}
	d, err := Build(context.Background(), s, w, time.UTC, at(500), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(d.Items); !slices.Equal(got, []int64{2, 3, 4}) {
		t.Fatalf("chose %v, want [2 3 4]", got)
	}
	if it := d.Items[0]; !it.Update || it.Growth != "2 new articles from 2 new outlets this week" {
		t.Errorf("story 2: Update %v Growth %q", it.Update, it.Growth)
	}
	if d.Items[1].Update || d.Items[2].Update {
		t.Errorf("a new story marked as an update")
	}
	if n := len(s.calls); n != 3 {
		t.Errorf("store calls %d, want 3 (this week, last week, counts): %v", n, s.calls)
	}
}

// TestBuildWeeksIsBuildOfEachWeek: n weeks built together are the digests
// Build makes one by one, read with n+1 weeks of stories instead of 2n.
func TestBuildWeeksIsBuildOfEachWeek(t *testing.T) {
	w := Week{2026, 48}
	start := w.Start(time.UTC)
	at := func(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }
	stories := []store.AnalysedStory{
		story(1, 3, nil, nil, member(10, 1, "A", at(-100), ""), member(11, 2, "B", at(-90), ""), member(12, 3, "C", at(5), "")),
		story(2, 2.9, nil, nil, member(20, 1, "A", at(-100), ""), member(21, 2, "B", at(-90), ""),
			member(22, 3, "C", at(5), ""), member(23, 4, "D", at(6), "")),
		story(3, 1.5, nil, nil, member(30, 5, "E", at(1), ""), member(31, 6, "F", at(2), "")),
		story(5, 2, nil, nil, member(50, 5, "E", at(-300), ""), member(51, 6, "F", at(-299), "")),
	}
	together := &fakeStore{stories: stories}
	got, err := BuildWeeks(context.Background(), together, w, 3, time.UTC, at(500), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d digests, want 3", len(got))
	}
	for i, wk := range []Week{w, w.Prev(), w.Prev().Prev()} {
		want, err := Build(context.Background(), &fakeStore{stories: stories}, wk, time.UTC, at(500), DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("week %s: BuildWeeks gives\n%+v\nBuild gives\n%+v", wk, got[i], want)
		}
	}
	if n := len(together.calls); n != 4+3 {
		t.Errorf("store calls %d, want 7 (4 weeks of stories, 3 counts): %v", n, together.calls)
	}
}

func TestBuildReportsStoreErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := Build(context.Background(), &fakeStore{fail: boom}, Week{2026, 48}, time.UTC, day0, DefaultOptions())
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "2026-W48") {
		t.Errorf("err = %v, want boom wrapped with the week", err)
	}
}

func TestDigestJSONIsSnakeCase(t *testing.T) {
	w := Week{2026, 48}
	d := Digest{Week: w, Start: w.Start(time.UTC), End: w.End(time.UTC), Counts: store.Counts{Sources: 1, Articles: 2, Stories: 3}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"week":"2026-W48","start":"2026-11-23T00:00:00Z","end":"2026-11-30T00:00:00Z","closed":false,` +
		`"counts":{"sources":1,"articles":2,"stories":3},"items":[],"groups":[]}`
	if string(b) != want {
		t.Errorf("json\n%s\nwant\n%s", b, want)
	}
	it := Item{Story: 7, Update: true, Growth: "2 new articles this week", TLDR: []Said{{Text: "t", Outlet: "o", URL: "u"}}}
	b, _ = json.Marshal(it)
	for _, key := range []string{`"story":7`, `"lead_source":""`, `"lead_source_id":0`, `"first_seen":`, `"update":true`,
		`"growth":"2 new articles this week"`, `"tldr":[{"text":"t","outlet":"o","url":"u"}]`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("item json %s lacks %s", b, key)
		}
	}
}
