package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"recap/news"
)

// The sightings' key is stored: keyHash must give the same integer for a
// key forever, or every stored item would look new again.
func TestKeyHashStable(t *testing.T) {
	tests := []struct {
		key  string
		want int64
	}{
		{"", -2039914840885289964},
		{"g:guid-1", -7670358228028683427},
		{"u:https://example.com/a", -1215419851815292039},
	}
	for _, tc := range tests {
		if got := keyHash(tc.key); got != tc.want {
			t.Errorf("keyHash(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

// TestBatchArticles: a fetch's new articles go in multi-row inserts; each
// sighting must still point at the article holding its URL, whether the URL
// was stored before, comes twice in the batch, or is missing.
func TestBatchArticles(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "recap.db"))
	defer s.Close()
	a := addSource(t, s, "https://a.example/feed")
	b := addSource(t, s, "https://b.example/feed")
	saveArticles(t, s, a, article("old", 1))

	var arts []news.Article
	for i := range 37 { // several chunks: 32 + 4 + 1
		arts = append(arts, article("new", i))
	}
	again := article("new", 3) // the same URL under another key
	again.ItemKey, again.Title = "g:again", "Again"
	noURL := article("nourl", 1)
	noURL.URL = ""
	noURL2 := article("nourl", 2)
	noURL2.URL = ""
	arts = append(arts, article("old", 1), again, noURL, noURL2)

	st := saveArticles(t, s, b, arts...)
	if st.New != 39 || st.Sightings != 2 {
		t.Errorf("stats %+v, want 39 new, 2 sightings", st)
	}
	if n := countRows(t, s.r, `SELECT count(*) FROM articles`); n != 40 {
		t.Errorf("articles = %d, want 40", n)
	}
	// Every sighting's article holds the item's URL (or none, for the
	// URL-less ones, each its own article).
	rows, err := s.r.Query(`SELECT g.link, coalesce(a.url, '') FROM sightings g JOIN articles a ON a.id = g.article_id
		WHERE g.source_id = ?`, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var link, url string
		if err := rows.Scan(&link, &url); err != nil {
			t.Fatal(err)
		}
		want := link
		if strings.Contains(link, "/nourl/") {
			want = ""
		}
		if url != want {
			t.Errorf("sighting %s: article url %q, want %q", link, url, want)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(arts) {
		t.Errorf("sightings of b = %d, want %d", n, len(arts))
	}
	if n := countRows(t, s.r, `SELECT count(DISTINCT article_id) FROM sightings WHERE link LIKE '%/nourl/%'`); n != 2 {
		t.Errorf("URL-less items in %d articles, want 2", n)
	}
}
