package main

import (
	"bufio"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"recap/news"
	"recap/store"
	"recap/store/sqlite"
)

// storyFixture stores, straight through the store, a story of three
// articles from two outlets (the last a near-copy of the first) and one
// article not clustered yet; it returns the database's path and the ids by
// title.
func storyFixture(t *testing.T) (string, map[string]int64) {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "recap.db")
	s, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	article := func(title string, at time.Time) news.Article {
		url := "https://news.example/" + strings.ReplaceAll(title, " ", "-")
		return news.Article{ItemKey: news.ItemKey("", url, title, at), Link: url, URL: url,
			Title: title, Summary: title + ".", Published: at, Collected: t0.Add(time.Hour)}
	}
	fetch := func(title string, arts ...news.Article) {
		src, err := s.AddSource(ctx, store.Source{URL: "https://" + strings.ReplaceAll(title, " ", "") + ".example/feed", Title: title})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveFetch(ctx, store.FetchResult{Fetch: store.Fetch{SourceID: src.ID, At: t0.Add(time.Hour), Status: 200}, Articles: arts}); err != nil {
			t.Fatal(err)
		}
	}
	fetch("Outlet A", article("Lab launches model", t0), article("Lab launches model again", t0.Add(20*time.Minute)),
		article("Unrelated news", t0.Add(30*time.Minute)))
	fetch("Outlet B", article("Model launched by lab", t0.Add(10*time.Minute)))
	ids := map[string]int64{}
	if err := s.EachArticle(ctx, func(r store.ArticleRecord) error { ids[r.Title] = r.ID; return nil }); err != nil {
		t.Fatal(err)
	}
	first, copied, other := ids["Lab launches model"], ids["Lab launches model again"], ids["Model launched by lab"]
	l := store.Lease{Name: "stories", Holder: "test"}
	if ok, err := s.AcquireLease(ctx, l, time.Minute); err != nil || !ok {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	err = s.SaveStories(ctx, l, []store.Assignment{
		{ArticleID: first, StoryID: first},
		{ArticleID: other, StoryID: first},
		{ArticleID: copied, StoryID: first, DuplicateOf: first},
	}, []news.Story{{ID: first, Lead: first, Articles: []int64{first, other, copied}, FirstSeen: t0, Updated: t0.Add(20 * time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	return db, ids
}

// jsonLines decodes every line of out into a generic object, so the tests
// see the field names exactly as scripts do.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

func keysOf(m map[string]any) []string {
	out := keys(m)
	slices.Sort(out)
	return out
}

func TestExportStoriesWritesEachStory(t *testing.T) {
	db, ids := storyFixture(t)
	lines := jsonLines(t, recap(t, db, "export", "stories"))
	if len(lines) != 1 {
		t.Fatalf("export stories wrote %d lines, want 1", len(lines))
	}
	got := lines[0]
	want := []string{"articles", "first_seen", "id", "lead_article", "outlets", "title", "updated"}
	if k := keysOf(got); !slices.Equal(k, want) {
		t.Errorf("fields = %v, want %v", k, want)
	}
	first := float64(ids["Lab launches model"])
	cases := []struct {
		field string
		want  any
	}{
		{"id", first},
		{"title", "Lab launches model"},
		{"lead_article", first},
		{"articles", []any{first, float64(ids["Model launched by lab"]), float64(ids["Lab launches model again"])}},
		{"outlets", []any{"Outlet A", "Outlet B"}},
		{"first_seen", "2026-03-02T10:00:00Z"},
		{"updated", "2026-03-02T10:20:00Z"},
	}
	for _, c := range cases {
		g, _ := json.Marshal(got[c.field])
		w, _ := json.Marshal(c.want)
		if string(g) != string(w) {
			t.Errorf("%s = %s, want %s", c.field, g, w)
		}
	}
}

func TestExportStoriesOfAnEmptyStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "recap.db")
	if out := recap(t, db, "export", "stories"); out != "" {
		t.Errorf("export stories of an empty store = %q, want nothing", out)
	}
}

func TestExportArticlesCarriesStory(t *testing.T) {
	db, ids := storyFixture(t)
	first := ids["Lab launches model"]
	want := map[int64][2]float64{ // story_id, duplicate_of
		first:                           {float64(first), 0},
		ids["Model launched by lab"]:    {float64(first), 0},
		ids["Lab launches model again"]: {float64(first), float64(first)},
		ids["Unrelated news"]:           {0, 0},
	}
	lines := jsonLines(t, recap(t, db, "export", "articles"))
	if len(lines) != len(want) {
		t.Fatalf("export articles wrote %d lines, want %d", len(lines), len(want))
	}
	for _, a := range lines {
		idf, _ := a["id"].(float64)
		id := int64(idf)
		story, okS := a["story_id"].(float64)
		dup, okD := a["duplicate_of"].(float64)
		if !okS || !okD {
			t.Errorf("article %d: story_id %v, duplicate_of %v: want both, as numbers", id, a["story_id"], a["duplicate_of"])
			continue
		}
		if w := want[id]; story != w[0] || dup != w[1] {
			t.Errorf("article %d: story_id %v, duplicate_of %v; want %v, %v", id, story, dup, w[0], w[1])
		}
	}
}
