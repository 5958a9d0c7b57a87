package storetest

import (
	"slices"
	"testing"
	"time"

	"recap/store"
)

func articleIDs(recs []store.ArticleRecord) []int64 {
	out := make([]int64, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// testArticlesNewestFirst walks the whole list with cursors: every article
// once, newest published first, equal dates ordered by id.
func testArticlesNewestFirst(t *testing.T, s store.Store) {
	a := addSource(t, s, "https://a.example/feed")
	b := addSource(t, s, "https://b.example/feed")
	arts := items("a", 7)
	arts[3].Published = arts[2].Published // a tie, broken by id
	save(t, s, result(a, base, arts))
	save(t, s, result(b, base, items("b", 3)))

	recs := all(t, s)
	slices.SortFunc(recs, func(x, y store.ArticleRecord) int {
		if c := y.Published.Compare(x.Published); c != 0 {
			return c
		}
		return int(y.ID - x.ID)
	})
	want := articleIDs(recs)

	var got []int64
	var cur store.Cursor
	for range 20 { // bounded: 10 articles in pages of 3
		page, err := s.Articles(t.Context(), store.ArticleQuery{Limit: 3, Before: cur})
		if err != nil {
			t.Fatalf("Articles: %v", err)
		}
		if len(page) > 3 {
			t.Fatalf("Articles(limit 3) returned %d", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if r.Seen != nil {
				t.Errorf("article %d: Seen = %v, want nil in lists", r.ID, r.Seen)
			}
			if r.Title == "" || r.Source == "" {
				t.Errorf("article %d: title %q, source %q: want both", r.ID, r.Title, r.Source)
			}
		}
		got = append(got, articleIDs(page)...)
		last := page[len(page)-1]
		cur = store.Cursor{Published: last.Published, ID: last.ID}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages = %v, want %v", got, want)
	}

	page, err := s.Articles(t.Context(), store.ArticleQuery{SourceID: b.ID})
	if err != nil {
		t.Fatalf("Articles(source): %v", err)
	}
	if len(page) != 3 {
		t.Fatalf("Articles(source b) = %d articles, want 3", len(page))
	}
	for _, r := range page {
		if r.SourceID != b.ID {
			t.Errorf("Articles(source b) has article %d of source %d", r.ID, r.SourceID)
		}
	}
	if page, err := s.Articles(t.Context(), store.ArticleQuery{}); err != nil || len(page) != 10 {
		t.Errorf("Articles(no limit) = %d, %v; want all 10 (default limit %d)", len(page), err, store.DefaultLimit)
	}
}

// testSearch finds by title and summary words, takes query syntax
// literally, and pages with an offset.
func testSearch(t *testing.T, s store.Store) {
	src := addSource(t, s, "https://a.example/feed")
	arts := items("s", 12) // enough that "alpaca" is a rare word: bm25 needs it
	arts[0].Title = "Alpaca model beats chess engines"
	arts[1].Summary = "Alpaca, alpaca: an alpaca in the summary only."
	arts[2].Title = "Nothing related"
	save(t, s, result(src, base, arts))

	search := func(q store.SearchQuery) []int64 {
		t.Helper()
		// Backends may index in the background: wait, boundedly, for it.
		var recs []store.ArticleRecord
		for range 100 {
			var err error
			recs, err = s.Search(t.Context(), q)
			if err != nil {
				t.Fatalf("Search(%+v): %v", q, err)
			}
			if len(recs) > 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		return articleIDs(recs)
	}
	got := search(store.SearchQuery{Text: "alpaca"})
	if len(got) != 2 {
		t.Fatalf("Search(alpaca) = %v, want 2 articles", got)
	}
	recs := all(t, s)
	id := func(title string) int64 {
		for _, r := range recs {
			if r.Title == title {
				return r.ID
			}
		}
		t.Fatalf("no article %q", title)
		return 0
	}
	// A match in the title ranks above a match in the summary, though the
	// summary's article is shorter.
	if got := search(store.SearchQuery{Text: "alpaca"}); got[0] != id(arts[0].Title) {
		t.Errorf("Search(alpaca) = %v: the title match %d is not first", got, id(arts[0].Title))
	}
	if got := search(store.SearchQuery{Text: "alpaca chess"}); !slices.Equal(got, []int64{id(arts[0].Title)}) {
		t.Errorf("Search(alpaca chess) = %v, want only the title match", got)
	}
	if got := search(store.SearchQuery{Text: "alpaca", Limit: 1, Offset: 1}); len(got) != 1 {
		t.Errorf("Search(alpaca, second page of 1) = %v, want 1 article", got)
	}
	for _, q := range []string{`"unbalanced OR NEAR( title:`, "   ", "alpaca zebra"} {
		recs, err := s.Search(t.Context(), store.SearchQuery{Text: q})
		if err != nil || len(recs) != 0 {
			t.Errorf("Search(%q) = %d results, %v; want none and no error", q, len(recs), err)
		}
	}
}

// testVersion: every kind of change moves its counter, and only its own.
func testVersion(t *testing.T, s store.Store) {
	version := func() store.Version {
		t.Helper()
		v, err := s.Version(t.Context())
		if err != nil {
			t.Fatalf("Version: %v", err)
		}
		return v
	}
	v0 := version()
	src := addSource(t, s, "https://a.example/feed")
	v1 := version()
	if v1.Sources <= v0.Sources || v1.Articles != v0.Articles {
		t.Errorf("after AddSource: %+v -> %+v; want only Sources up", v0, v1)
	}
	save(t, s, result(src, base, items("v", 2)))
	v2 := version()
	if v2.Sources <= v1.Sources || v2.Articles <= v1.Articles || v2.ArticlesAt.IsZero() {
		t.Errorf("after new articles: %+v -> %+v; want both up", v1, v2)
	}
	// The new articles become searchable, and Searchable says so (bounded wait).
	for i := 0; i < 100 && version().Searchable == v1.Searchable; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if v := version(); v.Searchable == v1.Searchable {
		t.Errorf("Searchable stayed %d after new articles were stored", v.Searchable)
	}
	save(t, s, result(src, base.Add(time.Hour), items("v", 2))) // unchanged
	v3 := version()
	if v3.Sources <= v2.Sources || v3.Articles != v2.Articles {
		t.Errorf("after an unchanged fetch: %+v -> %+v; want only Sources up", v2, v3)
	}
	if err := s.SetSourceEnabled(t.Context(), src.ID, false); err != nil {
		t.Fatal(err)
	}
	v4 := version()
	if v4.Sources <= v3.Sources {
		t.Errorf("after SetSourceEnabled: %+v -> %+v; want Sources up", v3, v4)
	}
	if err := s.RemoveSource(t.Context(), src.ID); err != nil {
		t.Fatal(err)
	}
	v5 := version()
	if v5.Sources <= v4.Sources || v5.Articles <= v4.Articles {
		t.Errorf("after RemoveSource: %+v -> %+v; want both up", v4, v5)
	}
}
