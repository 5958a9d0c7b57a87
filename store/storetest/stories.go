package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

const leaseTTL = time.Minute

func lease(holder string) store.Lease { return store.Lease{Name: "stories", Holder: holder} }

func acquire(t *testing.T, s store.Store, l store.Lease) bool {
	t.Helper()
	ok, err := s.AcquireLease(t.Context(), l, leaseTTL)
	if err != nil {
		t.Fatalf("AcquireLease(%+v): %v", l, err)
	}
	return ok
}

func mustAcquire(t *testing.T, s store.Store, l store.Lease) {
	t.Helper()
	if !acquire(t, s, l) {
		t.Fatalf("AcquireLease(%+v) = false on a free lease", l)
	}
}

func saveStories(t *testing.T, s store.Store, l store.Lease, as []store.Assignment, stories ...news.Story) {
	t.Helper()
	if err := s.SaveStories(t.Context(), l, as, stories); err != nil {
		t.Fatalf("SaveStories: %v", err)
	}
}

// storyOf makes the story of members (stored records, in any order): its
// id is the earliest member's, and every member is assigned to it.
func storyOf(lead store.ArticleRecord, members ...store.ArticleRecord) (news.Story, []store.Assignment) {
	members = slices.Clone(members)
	sortPublished(members)
	st := news.Story{ID: members[0].ID, Lead: lead.ID, FirstSeen: members[0].Published, Updated: members[len(members)-1].Published}
	var as []store.Assignment
	for _, m := range members {
		st.Articles = append(st.Articles, m.ID)
		as = append(as, store.Assignment{ArticleID: m.ID, StoryID: st.ID})
	}
	return st, as
}

// sortPublished orders records as the story stage reads them: earliest
// published first, ties by id.
func sortPublished(recs []store.ArticleRecord) {
	slices.SortFunc(recs, func(x, y store.ArticleRecord) int {
		if c := x.Published.Compare(y.Published); c != 0 {
			return c
		}
		return int(x.ID - y.ID)
	})
}

func unclusteredIDs(t *testing.T, s store.Store, limit int) []int64 {
	t.Helper()
	arts, err := s.Unclustered(t.Context(), limit)
	if err != nil {
		t.Fatalf("Unclustered(%d): %v", limit, err)
	}
	out := make([]int64, 0, len(arts))
	for _, a := range arts {
		out = append(out, a.ID)
	}
	return out
}

func getStory(t *testing.T, s store.Store, id int64) store.StoryRecord {
	t.Helper()
	st, err := s.Story(t.Context(), id)
	if err != nil {
		t.Fatalf("Story(%d): %v", id, err)
	}
	return st
}

func storyIDsOf(recs []store.StoryRecord) []int64 {
	out := make([]int64, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// stored saves arts from src and returns every stored record by URL.
func stored(t *testing.T, s store.Store, src store.Source, arts []news.Article) map[string]store.ArticleRecord {
	t.Helper()
	save(t, s, result(src, base, arts))
	out := map[string]store.ArticleRecord{}
	for _, r := range all(t, s) {
		out[r.URL] = r
	}
	return out
}

// storedSorted stores arts and returns what was stored, earliest
// published first (ties by id).
func storedSorted(t *testing.T, s store.Store, src store.Source, arts []news.Article) []store.ArticleRecord {
	t.Helper()
	var out []store.ArticleRecord
	for _, r := range stored(t, s, src, arts) {
		out = append(out, r)
	}
	sortPublished(out)
	return out
}

// testUnclustered: the queue is in published order (late arrivals with old
// dates first), honours the limit, and loses what SaveStories clustered.
func testUnclustered(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	arts := items("u", 6)
	arts[3].Published = arts[2].Published // a tie, broken by id
	save(t, s, result(src, base, arts))
	late := item("late", 1)
	late.Published = base.Add(-24 * time.Hour) // stored last, published first
	save(t, s, result(src, base.Add(time.Hour), []news.Article{late}))

	recs := all(t, s)
	sortPublished(recs)
	want := articleIDs(recs)
	if recs[0].URL != late.URL {
		t.Fatalf("setup: the late article is not the earliest published")
	}

	got, err := s.Unclustered(t.Context(), 100)
	if err != nil {
		t.Fatalf("Unclustered: %v", err)
	}
	var ids []int64
	for _, a := range got {
		ids = append(ids, a.ID)
		if a.Title == "" || a.URL == "" || a.SourceID != src.ID || a.Published.IsZero() || a.StoryID != 0 {
			t.Errorf("unclustered article %+v: want title, url, source, published and no story", a)
		}
	}
	if !slices.Equal(ids, want) {
		t.Errorf("Unclustered = %v, want %v (published order)", ids, want)
	}
	if got := unclusteredIDs(t, s, 2); !slices.Equal(got, want[:2]) {
		t.Errorf("Unclustered(2) = %v, want %v", got, want[:2])
	}
	if got := unclusteredIDs(t, s, 0); !slices.Equal(got, want) {
		t.Errorf("Unclustered(0) = %v, want all %v (default limit)", got, want)
	}

	l := lease("one")
	mustAcquire(t, s, l)
	st, as := storyOf(recs[0], recs[0], recs[2])
	saveStories(t, s, l, as, st)
	rest := append([]int64{want[1]}, want[3:]...)
	if got := unclusteredIDs(t, s, 100); !slices.Equal(got, rest) {
		t.Errorf("Unclustered after clustering %d and %d = %v, want %v", want[0], want[2], got, rest)
	}
}

// testEachClustered: published order across pages with tied dates, only
// clustered articles, only from since on, and fn's error stops the walk.
func testEachClustered(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	arts := items("c", 1203)
	for i := range arts {
		// Runs of 7 equal dates: ties straddle any page size.
		arts[i].Published = base.Add(-time.Duration(i/7) * time.Minute)
	}
	sorted := storedSorted(t, s, src, arts)
	// Every article but the three most recent is a story of its own.
	l := lease("one")
	mustAcquire(t, s, l)
	var (
		as      []store.Assignment
		stories []news.Story
	)
	clustered := sorted[:len(sorted)-3]
	for _, r := range clustered {
		st, a := storyOf(r, r)
		as = append(as, a...)
		stories = append(stories, st)
	}
	saveStories(t, s, l, as, stories...)

	walk := func(since time.Time) []int64 {
		t.Helper()
		var out []int64
		if err := s.EachClustered(t.Context(), since, func(a news.Article) error {
			if a.StoryID == 0 {
				t.Errorf("EachClustered gave article %d without a story", a.ID)
			}
			out = append(out, a.ID)
			return nil
		}); err != nil {
			t.Fatalf("EachClustered(%v): %v", since, err)
		}
		return out
	}
	if got, want := walk(time.Time{}), articleIDs(clustered); !slices.Equal(got, want) {
		t.Errorf("EachClustered(zero): %d articles, want %d in published order (first difference at %d)",
			len(got), len(want), firstDiff(got, want))
	}
	since := clustered[700].Published // inside a run of ties: all of that run is at or after since
	var want []int64
	for _, r := range clustered {
		if !r.Published.Before(since) {
			want = append(want, r.ID)
		}
	}
	if got := walk(since); !slices.Equal(got, want) {
		t.Errorf("EachClustered(since): %d articles, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if got := walk(base.Add(time.Hour)); len(got) != 0 {
		t.Errorf("EachClustered(after everything) = %v, want none", got)
	}

	stop := errors.New("enough")
	calls := 0
	err := s.EachClustered(t.Context(), time.Time{}, func(news.Article) error {
		calls++
		if calls == 3 {
			return fmt.Errorf("consumer: %w", stop)
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("EachClustered with fn failing at call 3: err %v after %d calls", err, calls)
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// testLeaseExclusive: one holder at a time; the holder extends its lease;
// only the holder releases it; names are independent.
func testLeaseExclusive(t *testing.T, s store.Store) {
	a, b := lease("instance-a"), lease("instance-b")
	mustAcquire(t, s, a)
	if acquire(t, s, b) {
		t.Fatal("B took the lease A holds")
	}
	if !acquire(t, s, a) {
		t.Error("A could not extend its own lease")
	}
	if err := s.ReleaseLease(t.Context(), b); err != nil {
		t.Fatalf("ReleaseLease by a non-holder: %v", err)
	}
	if acquire(t, s, b) {
		t.Error("B's release freed A's lease")
	}
	other := store.Lease{Name: "digest", Holder: b.Holder}
	if !acquire(t, s, other) {
		t.Error("B could not take another lease name while A holds stories")
	}
	if err := s.ReleaseLease(t.Context(), a); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	if !acquire(t, s, b) {
		t.Fatal("B could not take the lease A released")
	}
	if acquire(t, s, a) {
		t.Error("A took the lease back from B")
	}
	if err := s.SaveStories(t.Context(), a, nil, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("SaveStories by A after B took over: err = %v, want ErrLeaseLost", err)
	}
	if err := s.SaveStories(t.Context(), b, nil, nil); err != nil {
		t.Errorf("SaveStories by the holder: %v", err)
	}
	if err := s.ReleaseLease(t.Context(), store.Lease{Name: "never", Holder: "x"}); err != nil {
		t.Errorf("ReleaseLease of a lease nobody holds: %v", err)
	}
}

// testLeaseExpires: an unrenewed lease frees itself after its ttl; renewing
// pushes the expiry out.
func testLeaseExpires(t *testing.T, s store.Store, c *Clock) {
	a, b := lease("instance-a"), lease("instance-b")
	mustAcquire(t, s, a)
	c.Advance(leaseTTL / 2)
	if acquire(t, s, b) {
		t.Fatal("B took A's lease halfway through its ttl")
	}
	if !acquire(t, s, a) {
		t.Fatal("A could not renew")
	}
	c.Advance(leaseTTL * 3 / 4) // past the first expiry, before the renewed one
	if acquire(t, s, b) {
		t.Fatal("B took A's renewed lease before it expired")
	}
	c.Advance(leaseTTL / 2)
	if !acquire(t, s, b) {
		t.Fatal("B could not take A's expired lease")
	}
	if acquire(t, s, a) {
		t.Error("A took the lease back from B")
	}
}

func testLeaseBadInput(t *testing.T, s store.Store) {
	for _, c := range []struct {
		l   store.Lease
		ttl time.Duration
	}{
		{store.Lease{Name: "", Holder: "a"}, leaseTTL},
		{store.Lease{Name: "stories", Holder: ""}, leaseTTL},
		{lease("a"), 0},
		{lease("a"), -time.Minute},
	} {
		if ok, err := s.AcquireLease(t.Context(), c.l, c.ttl); err == nil || ok {
			t.Errorf("AcquireLease(%+v, %v) = %v, %v; want an error", c.l, c.ttl, ok, err)
		}
	}
	// None of them left a lease behind.
	mustAcquire(t, s, lease("b"))
}

// testSaveStoriesLeaseLost: a write under an expired, released or never
// taken lease is refused whole.
func testSaveStoriesLeaseLost(t *testing.T, s store.Store, c *Clock) {
	src := addSource(t, s, "https://a.example/feed")
	members := storedSorted(t, s, src, items("l", 3))
	st, as := storyOf(members[0], members...)
	v0, err := s.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	queue := unclusteredIDs(t, s, 10)

	a := lease("instance-a")
	try := func(what string) {
		t.Helper()
		if err := s.SaveStories(t.Context(), a, as, []news.Story{st}); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("SaveStories %s: err = %v, want ErrLeaseLost", what, err)
		}
		if got := unclusteredIDs(t, s, 10); !slices.Equal(got, queue) {
			t.Errorf("after SaveStories %s: queue %v, want %v unchanged", what, got, queue)
		}
		if _, err := s.Story(t.Context(), st.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after SaveStories %s: Story(%d) err = %v, want ErrNotFound", what, st.ID, err)
		}
		if list, err := s.Stories(t.Context(), store.StoryQuery{}); err != nil || len(list) != 0 {
			t.Errorf("after SaveStories %s: Stories = %d, %v; want none", what, len(list), err)
		}
		if got := getArticle(t, s, st.ID); got.StoryID != 0 {
			t.Errorf("after SaveStories %s: article %d has story %d", what, st.ID, got.StoryID)
		}
		if v, err := s.Version(t.Context()); err != nil || v.Articles != v0.Articles {
			t.Errorf("after SaveStories %s: Version.Articles %d -> %d (%v), want unchanged", what, v0.Articles, v.Articles, err)
		}
	}
	try("without ever taking the lease")
	mustAcquire(t, s, a)
	c.Advance(leaseTTL + time.Second)
	try("after the lease expired")
	mustAcquire(t, s, a)
	if err := s.ReleaseLease(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	try("after releasing the lease")
	mustAcquire(t, s, a)
	saveStories(t, s, a, as, st)
	if got := unclusteredIDs(t, s, 10); len(got) != 0 {
		t.Errorf("queue after a held SaveStories = %v, want empty", got)
	}
}

// testSaveStoriesBadInput: ids and times a story cannot have are refused
// without a panic, and nothing of the batch is written.
func testSaveStoriesBadInput(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	members := storedSorted(t, s, src, items("b", 2))
	good, as := storyOf(members[0], members...)
	l := lease("one")
	mustAcquire(t, s, l)
	noLead, noTime := good, good
	noLead.Lead = 0
	noTime.FirstSeen = time.Time{}
	cases := []struct {
		name    string
		as      []store.Assignment
		stories []news.Story
	}{
		{"story id 0", as, []news.Story{good, {ID: 0, Lead: 1, FirstSeen: base, Updated: base}}},
		{"lead 0", as, []news.Story{noLead}},
		{"no first seen", as, []news.Story{noTime}},
		{"assignment to story 0", append(slices.Clone(as), store.Assignment{ArticleID: members[0].ID}), []news.Story{good}},
		{"negative duplicate", append(slices.Clone(as), store.Assignment{ArticleID: members[0].ID, StoryID: good.ID, DuplicateOf: -1}), []news.Story{good}},
	}
	for _, c := range cases {
		if err := s.SaveStories(t.Context(), l, c.as, c.stories); err == nil || errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("SaveStories with %s: err = %v, want a bad-input error", c.name, err)
		}
	}
	if got := unclusteredIDs(t, s, 10); len(got) != 2 {
		t.Errorf("after refused batches: %d articles in the queue, want 2", len(got))
	}
	if _, err := s.Story(t.Context(), good.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after refused batches: Story err = %v, want ErrNotFound", err)
	}
}

// testStoryRoundTrip: a story of three articles from two sources, one a
// near-copy, reads back whole from Story and summed up from Stories.
func testStoryRoundTrip(t *testing.T, s store.Store) {
	a := addSource(t, s, "https://a.example/feed")
	b := addSource(t, s, "https://b.example/feed")
	t0 := base.Add(-3 * time.Hour)
	a1, a2, b1 := item("a", 1), item("a", 2), item("b", 1)
	a1.Published, b1.Published, a2.Published = t0, t0.Add(5*time.Minute), t0.Add(10*time.Minute)
	save(t, s, result(a, base, []news.Article{a1, a2}))
	save(t, s, result(b, base, []news.Article{b1}))
	byURL := map[string]store.ArticleRecord{}
	for _, r := range all(t, s) {
		byURL[r.URL] = r
	}
	ra1, ra2, rb1 := byURL[a1.URL], byURL[a2.URL], byURL[b1.URL]

	st, as := storyOf(ra1, ra2, ra1, rb1)
	for i := range as {
		if as[i].ArticleID == ra2.ID {
			as[i].DuplicateOf = ra1.ID
		}
	}
	l := lease("one")
	mustAcquire(t, s, l)
	saveStories(t, s, l, as, st)

	got := getStory(t, s, st.ID)
	if got.ID != ra1.ID || got.Lead != ra1.ID || got.Title != a1.Title || got.Count != 3 {
		t.Errorf("Story = id %d lead %d title %q count %d; want %d, %d, %q, 3", got.ID, got.Lead, got.Title, got.Count, ra1.ID, ra1.ID, a1.Title)
	}
	if got.LeadArticle.ID != ra1.ID || got.LeadArticle.Title != a1.Title || got.LeadArticle.Source != a.Title ||
		got.LeadArticle.SourceURL != a.URL || got.LeadArticle.Seen != nil {
		t.Errorf("LeadArticle = %+v; want article %d with source %q and no sightings", got.LeadArticle, ra1.ID, a.Title)
	}
	sameTime(t, "FirstSeen", got.FirstSeen, t0)
	sameTime(t, "Updated", got.Updated, t0.Add(10*time.Minute))
	if want := []int64{ra1.ID, rb1.ID, ra2.ID}; !slices.Equal(got.Articles, want) {
		t.Errorf("Articles = %v, want %v (earliest first)", got.Articles, want)
	}
	if ids := articleIDs(got.Members); !slices.Equal(ids, got.Articles) {
		t.Errorf("Members = %v, want %v", ids, got.Articles)
	}
	for _, m := range got.Members {
		if len(m.Seen) == 0 || m.StoryID != st.ID {
			t.Errorf("member %d: %d sightings, story %d; want sightings and story %d", m.ID, len(m.Seen), m.StoryID, st.ID)
		}
		if want := map[int64]int64{ra2.ID: ra1.ID}[m.ID]; m.DuplicateOf != want {
			t.Errorf("member %d: DuplicateOf = %d, want %d", m.ID, m.DuplicateOf, want)
		}
	}
	if len(got.Outlets) != 2 || got.OutletCount != 2 {
		t.Fatalf("Outlets = %+v (count %d), want a and b", got.Outlets, got.OutletCount)
	}
	if o := got.Outlets[0]; o.SourceID != a.ID || o.Name != a.Title || o.URL != a.URL {
		t.Errorf("first outlet = %+v, want source a", o)
	}
	sameTime(t, "outlet a FirstSeen", got.Outlets[0].FirstSeen, t0)
	if o := got.Outlets[1]; o.SourceID != b.ID || o.Name != b.Title {
		t.Errorf("second outlet = %+v, want source b", o)
	}
	sameTime(t, "outlet b FirstSeen", got.Outlets[1].FirstSeen, t0.Add(5*time.Minute))

	if art := getArticle(t, s, ra2.ID); art.StoryID != st.ID || art.DuplicateOf != ra1.ID {
		t.Errorf("Article(%d): story %d duplicate_of %d; want %d and %d", ra2.ID, art.StoryID, art.DuplicateOf, st.ID, ra1.ID)
	}
	if art := getArticle(t, s, ra1.ID); art.StoryID != st.ID || art.DuplicateOf != 0 {
		t.Errorf("Article(%d): story %d duplicate_of %d; want %d and 0", ra1.ID, art.StoryID, art.DuplicateOf, st.ID)
	}

	list, err := s.Stories(t.Context(), store.StoryQuery{})
	if err != nil || len(list) != 1 {
		t.Fatalf("Stories = %d, %v; want 1", len(list), err)
	}
	r := list[0]
	if r.ID != st.ID || r.Title != a1.Title || r.Count != 3 || r.OutletCount != 2 || r.LeadArticle.Source != a.Title {
		t.Errorf("Stories[0] = id %d title %q count %d outlets %d source %q", r.ID, r.Title, r.Count, r.OutletCount, r.LeadArticle.Source)
	}
	if r.Articles != nil || r.Members != nil || r.Outlets != nil || r.LeadArticle.Seen != nil {
		t.Errorf("Stories[0] has members, outlets or sightings: the list leaves them out")
	}
	sameTime(t, "list Updated", r.Updated, t0.Add(10*time.Minute))

	if _, err := s.Story(t.Context(), ra2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Story(a member that started no story) err = %v, want ErrNotFound", err)
	}
}

// testStoryReplaced: saving a story again replaces it (new lead, more
// members, later update) rather than adding one, and moves it up the list.
func testStoryReplaced(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	sorted := storedSorted(t, s, src, items("r", 5))
	l := lease("one")
	mustAcquire(t, s, l)
	first, as := storyOf(sorted[0], sorted[0])
	other, as2 := storyOf(sorted[1], sorted[1])
	saveStories(t, s, l, append(as, as2...), first, other)
	if list, _ := s.Stories(t.Context(), store.StoryQuery{}); !slices.Equal(storyIDsOf(list), []int64{other.ID, first.ID}) {
		t.Fatalf("Stories = %v, want %d (updated later) then %d", storyIDsOf(list), other.ID, first.ID)
	}

	grown, as := storyOf(sorted[2], sorted[0], sorted[2], sorted[3])
	if grown.ID != first.ID {
		t.Fatal("setup: the grown story has another id")
	}
	saveStories(t, s, l, as[1:], grown) // only the new members need assigning

	got := getStory(t, s, first.ID)
	if got.Lead != sorted[2].ID || got.Title != sorted[2].Title || got.Count != 3 {
		t.Errorf("replaced story: lead %d title %q count %d; want %d, %q, 3", got.Lead, got.Title, got.Count, sorted[2].ID, sorted[2].Title)
	}
	if want := articleIDs(sorted[0:1]); !slices.Equal(got.Articles, append(want, sorted[2].ID, sorted[3].ID)) {
		t.Errorf("replaced story: Articles = %v", got.Articles)
	}
	sameTime(t, "replaced Updated", got.Updated, sorted[3].Published)
	list, err := s.Stories(t.Context(), store.StoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(storyIDsOf(list), []int64{first.ID, other.ID}) {
		t.Errorf("Stories after the update = %v, want %d first, and no third story", storyIDsOf(list), first.ID)
	}
	if list[0].Count != 3 || list[0].Title != sorted[2].Title {
		t.Errorf("Stories[0]: count %d title %q; want 3 and the new lead's", list[0].Count, list[0].Title)
	}
}

// testStoriesPaging walks the list with cursors: every story once, most
// recently updated first, ties by id, higher first.
func testStoriesPaging(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	sorted := storedSorted(t, s, src, items("p", 8))
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
	slices.SortFunc(stories, func(x, y news.Story) int {
		if c := y.Updated.Compare(x.Updated); c != 0 {
			return c
		}
		return int(y.ID - x.ID)
	})
	var want []int64
	for _, st := range stories {
		want = append(want, st.ID)
	}

	var got []int64
	var cur store.StoryCursor
	for range 20 { // bounded: 8 stories in pages of 3
		page, err := s.Stories(t.Context(), store.StoryQuery{Limit: 3, Before: cur})
		if err != nil {
			t.Fatalf("Stories: %v", err)
		}
		if len(page) > 3 {
			t.Fatalf("Stories(limit 3) returned %d", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, storyIDsOf(page)...)
		last := page[len(page)-1]
		cur = store.StoryCursor{Updated: last.Updated, ID: last.ID}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages = %v, want %v", got, want)
	}
	if page, err := s.Stories(t.Context(), store.StoryQuery{}); err != nil || len(page) != 8 {
		t.Errorf("Stories(no limit) = %d, %v; want all 8", len(page), err)
	}
}

// testStoryOutlets: outlets come from every sighting of every member: an
// article carried by two sources gives two outlets, each dated by the
// earliest member it carried; a source without a title is named by its URL.
func testStoryOutlets(t *testing.T, s store.Store) {
	a := addSource(t, s, "https://a.example/feed")
	b, err := s.AddSource(t.Context(), store.Source{URL: "https://b.example/feed"}) // no title
	if err != nil {
		t.Fatal(err)
	}
	c := addSource(t, s, "https://c.example/feed") // carries nothing of the story
	t0 := base.Add(-2 * time.Hour)
	shared, early, unrelated := item("x", 1), item("y", 1), item("z", 1)
	shared.Published, early.Published, unrelated.Published = t0, t0.Add(-time.Hour), t0
	save(t, s, result(a, base, []news.Article{shared}))
	sharedInB := shared
	sharedInB.GUID, sharedInB.Link = "urn:b:shared", shared.URL+"?utm_medium=b"
	sharedInB.ItemKey = news.ItemKey(sharedInB.GUID, shared.URL, shared.Title, shared.Published)
	save(t, s, result(b, base, []news.Article{sharedInB, early}))
	save(t, s, result(c, base, []news.Article{unrelated}))
	byURL := map[string]store.ArticleRecord{}
	for _, r := range all(t, s) {
		byURL[r.URL] = r
	}
	rs := byURL[shared.URL]
	if len(rs.Seen) != 2 {
		t.Fatalf("setup: the shared article has %d sightings, want 2", len(rs.Seen))
	}
	l := lease("one")
	mustAcquire(t, s, l)

	alone, as := storyOf(rs, rs)
	saveStories(t, s, l, as, alone)
	if got := getStory(t, s, alone.ID); got.OutletCount != 2 || len(got.Outlets) != 2 {
		t.Errorf("one article in two feeds: %d outlets (%+v), want 2", got.OutletCount, got.Outlets)
	}
	if list, err := s.Stories(t.Context(), store.StoryQuery{}); err != nil || len(list) != 1 || list[0].OutletCount != 2 {
		t.Errorf("Stories: one article in two feeds: %+v, %v; want OutletCount 2", list, err)
	}

	re := byURL[early.URL]
	both, as := storyOf(rs, rs, re)
	saveStories(t, s, l, as, both)
	got := getStory(t, s, both.ID)
	if len(got.Outlets) != 2 {
		t.Fatalf("Outlets = %+v, want b and a", got.Outlets)
	}
	// b carried the earlier member, so it comes first, dated by it.
	if o := got.Outlets[0]; o.SourceID != b.ID || o.Name != b.URL || o.URL != b.URL {
		t.Errorf("first outlet = %+v, want source b named by its URL", o)
	}
	sameTime(t, "outlet b FirstSeen", got.Outlets[0].FirstSeen, early.Published)
	if o := got.Outlets[1]; o.SourceID != a.ID || o.Name != a.Title {
		t.Errorf("second outlet = %+v, want source a", o)
	}
	sameTime(t, "outlet a FirstSeen", got.Outlets[1].FirstSeen, shared.Published)
	list, err := s.Stories(t.Context(), store.StoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list {
		want := map[int64]int{both.ID: 2}[r.ID]
		if r.OutletCount != want {
			t.Errorf("Stories: story %d has %d outlets, want %d", r.ID, r.OutletCount, want)
		}
	}
}

// testEachStory: every story once, in id order, with everything, across
// pages; fn's error stops the walk.
func testEachStory(t *testing.T, s store.Store) {
	a := addSource(t, s, "https://a.example/feed")
	b := addSource(t, s, "https://b.example/feed")
	arts := items("e", 250)
	sorted := storedSorted(t, s, a, arts)
	// One story of two members, the second also carried by b; the rest alone.
	i := slices.IndexFunc(arts, func(x news.Article) bool { return x.URL == sorted[1].URL })
	sharedInB := arts[i]
	sharedInB.GUID = "urn:b:e"
	sharedInB.ItemKey = news.ItemKey(sharedInB.GUID, sharedInB.URL, sharedInB.Title, sharedInB.Published)
	save(t, s, result(b, base, []news.Article{sharedInB}))

	l := lease("one")
	mustAcquire(t, s, l)
	pair, as := storyOf(sorted[0], sorted[0], sorted[1])
	stories := []news.Story{pair}
	for _, r := range sorted[2:] {
		st, a := storyOf(r, r)
		as = append(as, a...)
		stories = append(stories, st)
	}
	slices.Reverse(stories) // saved out of id order
	saveStories(t, s, l, as, stories...)

	var got []store.StoryRecord
	if err := s.EachStory(t.Context(), func(r store.StoryRecord) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatalf("EachStory: %v", err)
	}
	if len(got) != 249 {
		t.Fatalf("EachStory visited %d stories, want 249", len(got))
	}
	for i, r := range got {
		if i > 0 && r.ID <= got[i-1].ID {
			t.Fatalf("EachStory out of id order: %d after %d", r.ID, got[i-1].ID)
		}
		if len(r.Members) != r.Count || len(r.Articles) != r.Count || r.Title == "" || r.LeadArticle.ID != r.Lead {
			t.Errorf("story %d: %d members, %d ids, count %d, title %q, lead %d/%d", r.ID, len(r.Members), len(r.Articles), r.Count, r.Title, r.LeadArticle.ID, r.Lead)
		}
		want := 1
		if r.ID == pair.ID {
			want = 2
		}
		if r.OutletCount != want || len(r.Outlets) != want {
			t.Errorf("story %d: %d outlets (%d listed), want %d", r.ID, r.OutletCount, len(r.Outlets), want)
		}
	}

	stop := errors.New("enough")
	calls := 0
	err := s.EachStory(t.Context(), func(store.StoryRecord) error {
		calls++
		if calls == 3 {
			return fmt.Errorf("consumer: %w", stop)
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("EachStory with fn failing at call 3: err %v after %d calls", err, calls)
	}
}

// testStoriesVersion: SaveStories is a change of the articles (cached
// pages refresh), not of the sources.
func testStoriesVersion(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	members := storedSorted(t, s, src, items("v", 2))
	l := lease("one")
	mustAcquire(t, s, l)
	v0, err := s.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st, as := storyOf(members[0], members...)
	saveStories(t, s, l, as, st)
	v1, err := s.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if v1.Articles <= v0.Articles || v1.Sources != v0.Sources || v1.ArticlesAt.IsZero() {
		t.Errorf("after SaveStories: %+v -> %+v; want only Articles up", v0, v1)
	}
}

func testStoriesContextCanceled(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	members := storedSorted(t, s, src, items("k", 2))
	l := lease("one")
	mustAcquire(t, s, l)
	st, as := storyOf(members[0], members...)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := []struct {
		name string
		err  error
	}{
		{"Unclustered", func() error { _, err := s.Unclustered(ctx, 10); return err }()},
		{"EachClustered", s.EachClustered(ctx, time.Time{}, func(news.Article) error { return nil })},
		{"AcquireLease", func() error { _, err := s.AcquireLease(ctx, lease("two"), leaseTTL); return err }()},
		{"ReleaseLease", s.ReleaseLease(ctx, l)},
		{"SaveStories", s.SaveStories(ctx, l, as, []news.Story{st})},
		{"Stories", func() error { _, err := s.Stories(ctx, store.StoryQuery{}); return err }()},
		{"Story", func() error { _, err := s.Story(ctx, st.ID); return err }()},
		{"EachStory", s.EachStory(ctx, func(store.StoryRecord) error { return nil })},
	}
	for _, c := range calls {
		if c.err == nil {
			t.Errorf("%s with a canceled context: no error", c.name)
		}
	}
	if got := unclusteredIDs(t, s, 10); len(got) != 2 {
		t.Errorf("%d articles in the queue after canceled calls, want 2", len(got))
	}
	if acquire(t, s, lease("two")) {
		t.Error("a canceled ReleaseLease released the lease")
	}
}

// testStoriesMerge: when a story's founding article is assigned to another
// story, the two merged and the first is gone; its articles follow.
func testStoriesMerge(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	sorted := storedSorted(t, s, src, items("m", 4))
	l := lease("one")
	mustAcquire(t, s, l)
	big, as := storyOf(sorted[0], sorted[0], sorted[2])
	small, as2 := storyOf(sorted[1], sorted[1], sorted[3])
	saveStories(t, s, l, append(as, as2...), big, small)

	merged, as := storyOf(sorted[0], sorted[0], sorted[1], sorted[2], sorted[3])
	saveStories(t, s, l, as, merged)

	if _, err := s.Story(t.Context(), small.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Story(%d) after the merge: err %v, want ErrNotFound", small.ID, err)
	}
	list, err := s.Stories(t.Context(), store.StoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(storyIDsOf(list), []int64{big.ID}) || list[0].Count != 4 {
		t.Errorf("Stories after the merge = %v, want only %d with 4 articles", storyIDsOf(list), big.ID)
	}
	for _, r := range sorted {
		a, err := s.Article(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.StoryID != big.ID {
			t.Errorf("article %d: story %d after the merge, want %d", r.ID, a.StoryID, big.ID)
		}
	}
}
