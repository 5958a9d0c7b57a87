package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"recap/news"
	"recap/store"
	"recap/store/sqlite"
)

const apiJSON = "application/json; charset=utf-8"

// apiDecode checks that w is JSON with the status want and decodes it into v.
func apiDecode(t *testing.T, w *httptest.ResponseRecorder, want int, v any) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d; body: %s", w.Code, want, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != apiJSON {
		t.Fatalf("Content-Type %q, want %q", ct, apiJSON)
	}
	if v == nil {
		return
	}
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields() // the tests' types list every field the API sends
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
}

// apiError checks that w is a JSON error with status want and a message
// holding msg, and that it is not cached.
func apiError(t *testing.T, w *httptest.ResponseRecorder, want int, msg string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	apiDecode(t, w, want, &e)
	if !strings.Contains(e.Error, msg) {
		t.Errorf("error %q, want it to hold %q", e.Error, msg)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("error answer Cache-Control %q, want no-store", cc)
	}
	if w.Header().Get("ETag") != "" {
		t.Errorf("error answer has an ETag")
	}
}

// apiPage is what GET /api/v1/articles answers.
type apiPage struct {
	Articles []articleJSON `json:"articles"`
	Next     string        `json:"next"`
}

// apiWalk follows the next cursors from target and returns every article
// id in order, failing past maxPages pages.
func apiWalk(t *testing.T, h http.Handler, target string, maxPages int) []int64 {
	t.Helper()
	var ids []int64
	next := ""
	for page := 0; ; page++ {
		if page == maxPages {
			t.Fatalf("%s: more than %d pages", target, maxPages)
		}
		u := target
		if next != "" {
			u += "&before=" + url.QueryEscape(next)
		}
		var p apiPage
		apiDecode(t, get(t, h, u), http.StatusOK, &p)
		for _, a := range p.Articles {
			ids = append(ids, a.ID)
		}
		if p.Next == "" {
			return ids
		}
		next = p.Next
	}
}

// apiAllIDs returns the ids of every stored article.
func apiAllIDs(t *testing.T, st store.Store) []int64 {
	t.Helper()
	recs, err := st.Articles(t.Context(), store.ArticleQuery{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}

func TestAPIArticles(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := fillStore(t, st, 3, 25)
	h := srv.Handler()

	w := get(t, h, "/api/v1/articles")
	var p apiPage
	apiDecode(t, w, http.StatusOK, &p)
	if len(p.Articles) != 50 || p.Next == "" {
		t.Fatalf("first page: %d articles, next %q; want 50 and a cursor", len(p.Articles), p.Next)
	}
	first := p.Articles[0]
	want := testArticle(srcs[0], 0)
	wantJSON := articleJSON{
		ID: first.ID, URL: want.URL, Title: want.Title, Summary: want.Summary,
		Published: want.Published.UTC().Format(time.RFC3339), Collected: want.Collected.UTC().Format(time.RFC3339),
		Source: "Source 1", SourceID: srcs[0].ID, SourceURL: srcs[0].URL,
		Author: "Ada Lovelace", Categories: []string{"AI"}, Image: "",
		Page: testBaseURL + "/articles/" + strconv.FormatInt(first.ID, 10),
	}
	if fmt.Sprint(first) != fmt.Sprint(wantJSON) {
		t.Errorf("newest article\n got %+v\nwant %+v", first, wantJSON)
	}
	// The raw JSON has every field, empty ones too.
	for _, field := range []string{`"author":`, `"categories":["AI"]`, `"image":""`, `"source_id":`, `"page":"https://news.example.org/recap/articles/`,
		`"story_id":0,"duplicate_of":0`} { // not clustered yet: zeros, not absent
		if !strings.Contains(get(t, h, "/api/v1/articles?limit=1").Body.String(), field) {
			t.Errorf("the article JSON lacks %s", field)
		}
	}

	t.Run("caching", func(t *testing.T) {
		w := get(t, h, "/api/v1/articles")
		etag := w.Header().Get("ETag")
		if etag == "" || w.Header().Get("Last-Modified") == "" {
			t.Fatalf("no validators: ETag %q, Last-Modified %q", etag, w.Header().Get("Last-Modified"))
		}
		if w := get(t, h, "/api/v1/articles", "If-None-Match", etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("If-None-Match: status %d with %d bytes, want 304 and none", w.Code, w.Body.Len())
		}
		w = get(t, h, "/api/v1/articles", "Accept-Encoding", "gzip")
		if w.Header().Get("Content-Encoding") != "gzip" {
			t.Errorf("no gzip for a client that accepts it")
		}
	})

	t.Run("pagination walks every article once, newest first", func(t *testing.T) {
		all := apiAllIDs(t, st)
		for _, limit := range []int{1, 7, 25, 75, 200} {
			got := apiWalk(t, h, "/api/v1/articles?limit="+strconv.Itoa(limit), 100)
			if !slices.Equal(got, all) {
				t.Errorf("limit %d: walked %d ids %v\nwant %d ids %v", limit, len(got), got, len(all), all)
			}
		}
	})

	t.Run("one source", func(t *testing.T) {
		got := apiWalk(t, h, fmt.Sprintf("/api/v1/articles?source=%d&limit=10", srcs[1].ID), 10)
		if len(got) != 25 {
			t.Fatalf("source %d: %d articles, want 25", srcs[1].ID, len(got))
		}
		for _, id := range got {
			rec, err := st.Article(t.Context(), id)
			if err != nil || rec.SourceID != srcs[1].ID {
				t.Errorf("article %d: source %d, %v; want %d", id, rec.SourceID, err, srcs[1].ID)
			}
		}
		apiError(t, get(t, h, "/api/v1/articles?source=9999"), http.StatusNotFound, "no source with id 9999")
	})

	t.Run("bad parameters", func(t *testing.T) {
		tests := []struct {
			query, msg string
		}{
			{"limit=0", "invalid limit"},
			{"limit=201", "invalid limit"},
			{"limit=-1", "invalid limit"},
			{"limit=abc", "invalid limit"},
			{"limit=1.5", "invalid limit"},
			{"limit=", ""}, // empty: the default
			{"before=x", "invalid cursor"},
			{"before=123", "invalid cursor"},
			{"before=abc-1", "invalid cursor"},
			{"before=1-0", "invalid cursor"},
			{"before=o50", "invalid cursor"},
			{"source=abc", "invalid source"},
			{"source=0", "invalid source"},
			{"source=-3", "invalid source"},
		}
		for _, tt := range tests {
			w := get(t, h, "/api/v1/articles?"+tt.query)
			if tt.msg == "" {
				apiDecode(t, w, http.StatusOK, nil)
				continue
			}
			apiError(t, w, http.StatusBadRequest, tt.msg)
		}
		var p apiPage
		apiDecode(t, get(t, h, "/api/v1/articles?limit=200"), http.StatusOK, &p)
		if len(p.Articles) != 75 || p.Next != "" {
			t.Errorf("limit=200: %d articles, next %q; want all 75 and no cursor", len(p.Articles), p.Next)
		}
	})
}

func TestAPIEmptyStore(t *testing.T) {
	srv, _ := newTestServer(t, nil)
	h := srv.Handler()
	for target, want := range map[string]string{
		"/api/v1/articles":          `{"articles":[],"next":""}`,
		"/api/v1/articles?q=models": `{"articles":[],"next":""}`,
		"/api/v1/sources":           `{"sources":[]}`,
		"/api/v1/stories":           `{"stories":[],"next":""}`,
	} {
		w := get(t, h, target)
		apiDecode(t, w, http.StatusOK, nil)
		if got := strings.TrimSpace(w.Body.String()); got != want {
			t.Errorf("%s = %s, want %s", target, got, want)
		}
	}
}

func TestAPISearch(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := fillStore(t, st, 3, 25)
	odd := testArticle(srcs[2], 500)
	odd.Title, odd.URL = "A quantum teapot boils", "https://site.example/teapot"
	saveArticles(t, st, srcs[2], []news.Article{odd})
	h := srv.Handler()

	var p apiPage
	apiDecode(t, get(t, h, "/api/v1/articles?q=teapot"), http.StatusOK, &p)
	if len(p.Articles) != 1 || p.Articles[0].Title != odd.Title || p.Next != "" {
		t.Errorf("q=teapot: %+v, want the one teapot article and no cursor", p)
	}

	got := apiWalk(t, h, "/api/v1/articles?q=models+chips&limit=20", 10)
	slices.Sort(got)
	all := apiAllIDs(t, st)
	all = slices.DeleteFunc(all, func(id int64) bool { rec, _ := st.Article(t.Context(), id); return rec.URL == odd.URL })
	slices.Sort(all)
	if !slices.Equal(got, all) {
		t.Errorf("search walk: %d ids, want the %d articles about models and chips, each once", len(got), len(all))
	}
	apiDecode(t, get(t, h, "/api/v1/articles?q=models&limit=20"), http.StatusOK, &p)
	if p.Next != "o20" {
		t.Errorf("search cursor %q, want o20", p.Next)
	}

	w := get(t, h, "/api/v1/articles?q=teapot")
	if w.Header().Get("ETag") == "" {
		t.Fatal("search answers have no ETag")
	}
	if w := get(t, h, "/api/v1/articles?q=teapot", "If-None-Match", w.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("search If-None-Match: %d, want 304", w.Code)
	}

	for query, msg := range map[string]string{
		"q=models&source=1":                        "cannot be combined",
		"q=models&before=1772445600000-42":         "invalid cursor",
		"q=models&before=o0":                       "invalid cursor",
		"q=models&before=o10001":                   "invalid cursor",
		"q=models&before=ox":                       "invalid cursor",
		"q=" + strings.Repeat("a", searchMaxLen+1): "longer than",
		"q=models&limit=500":                       "invalid limit",
	} {
		apiError(t, get(t, h, "/api/v1/articles?"+query), http.StatusBadRequest, msg)
	}
	// Quotes and operators are words, not query syntax.
	apiDecode(t, get(t, h, `/api/v1/articles?q=`+url.QueryEscape(`"teapot OR NEAR(x`)), http.StatusOK, nil)
}

// apiArticleDetail mirrors articleDetailJSON for decoding.
type apiArticleDetail struct {
	articleJSON
	Seen []sightingJSON `json:"seen"`
}

func TestAPIArticle(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := fillStore(t, st, 2, 3)
	// The same story in the second source's feed: one article, two sightings.
	again := testArticle(srcs[0], 1)
	again.GUID, again.ItemKey, again.Link = "urn:other:1", "", again.URL+"?utm_medium=other"
	saveArticles(t, st, srcs[1], []news.Article{again})
	h := srv.Handler()

	var id int64
	for _, rec := range apiAllIDs(t, st) {
		r, _ := st.Article(t.Context(), rec)
		if r.URL == again.URL {
			id = r.ID
		}
	}
	target := "/api/v1/articles/" + strconv.FormatInt(id, 10)
	w := get(t, h, target)
	body := w.Body.String()
	var a apiArticleDetail
	apiDecode(t, w, http.StatusOK, &a)
	if a.ID != id || a.Title != again.Title || a.SourceID != srcs[0].ID || a.Page != testBaseURL+target[len("/api/v1"):] {
		t.Errorf("article: %+v", a)
	}
	if len(a.Seen) != 2 {
		t.Fatalf("seen %+v, want two sightings", a.Seen)
	}
	seenBy := map[int64]sightingJSON{}
	for _, g := range a.Seen {
		seenBy[g.SourceID] = g
	}
	for _, src := range srcs {
		g, ok := seenBy[src.ID]
		if !ok || g.Source != src.Title || g.SourceURL != src.URL || g.FirstSeen == "" {
			t.Errorf("sighting in source %d: %+v", src.ID, g)
		}
	}
	for _, private := range []string{"urn:", "utm_", "guid", "link"} {
		if strings.Contains(body, private) {
			t.Errorf("the article JSON shows the feeds' own identifiers (%q): %s", private, body)
		}
	}
	if w := get(t, h, target, "If-None-Match", w.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", w.Code)
	}

	apiError(t, get(t, h, "/api/v1/articles/99999"), http.StatusNotFound, "no article with id 99999")
	for _, bad := range []string{"abc", "0", "-1", "1.0", "99999999999999999999"} {
		apiError(t, get(t, h, "/api/v1/articles/"+bad), http.StatusNotFound, "not found")
	}
}

// apiStoryPage is what GET /api/v1/stories answers.
type apiStoryPage struct {
	Stories []storyJSON `json:"stories"`
	Next    string      `json:"next"`
}

// apiStoryDetail mirrors storyDetailJSON for decoding.
type apiStoryDetail struct {
	storyJSON
	Articles []int64            `json:"articles"`
	Outlets  []outletJSON       `json:"outlets"`
	Members  []apiArticleDetail `json:"members"`
	Analysis *analysisJSON      `json:"analysis"`
}

func TestAPIStories(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := fillStore(t, st, 3, 10)
	ids := articleIDs(t, st)
	art := func(n, src int) int64 { return ids[fmt.Sprintf("Article %d of Source %d: models and chips", n, src)] }
	// Article 3 of source 1 carried by source 3 too, under its URL.
	again := testArticle(srcs[0], 3)
	again.GUID, again.ItemKey = "urn:s3:again", ""
	saveArticles(t, st, srcs[2], []news.Article{again})
	// Started by article 3 of source 1, led by article 2 of source 2, with
	// a near-copy of the lead in source 3.
	storyID := art(3, 1)
	saveStories(t, st, testStory{
		members: []int64{storyID, art(2, 2), art(2, 3)},
		lead:    art(2, 2),
		dups:    map[int64]int64{art(2, 3): art(2, 2)},
	})
	clusterRest(t, st)
	h := srv.Handler()

	t.Run("list", func(t *testing.T) {
		var p apiStoryPage
		apiDecode(t, get(t, h, "/api/v1/stories?limit=200"), http.StatusOK, &p)
		if len(p.Stories) != 28 || p.Next != "" {
			t.Fatalf("%d stories, next %q; want 28 (30 articles, 3 in one story) and no cursor", len(p.Stories), p.Next)
		}
		recs, err := st.Stories(t.Context(), store.StoryQuery{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		for i, got := range p.Stories {
			if got.ID != recs[i].ID {
				t.Fatalf("story %d: id %d, want %d (most recently updated first)", i, got.ID, recs[i].ID)
			}
		}
		var got storyJSON
		for _, s := range p.Stories {
			if s.ID == storyID {
				got = s
			}
		}
		lead, err := st.Article(t.Context(), art(2, 2))
		if err != nil {
			t.Fatal(err)
		}
		first, _ := st.Article(t.Context(), storyID)
		want := storyJSON{
			ID: storyID, Title: lead.Title, LeadArticle: lead.ID,
			FirstSeen: first.Published.UTC().Format(time.RFC3339), Updated: lead.Published.UTC().Format(time.RFC3339),
			ArticleCount: 3, OutletCount: 3,
			Page: fmt.Sprintf("%s/stories/%d", testBaseURL, storyID),
			Lead: srv.articleJSONOf(store.ArticleRecord{Article: lead.Article, Source: lead.Source, SourceURL: lead.SourceURL}),
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("story\n got %+v\nwant %+v", got, want)
		}
		if got.Lead.StoryID != storyID || got.Lead.Source != "Source 2" {
			t.Errorf("lead %+v: want its story id %d and source", got.Lead, storyID)
		}
	})

	t.Run("pagination walks every story once", func(t *testing.T) {
		recs, err := st.Stories(t.Context(), store.StoryQuery{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		for _, limit := range []int{1, 5, 27, 28} {
			var got []int64
			next := ""
			for page := 0; page < 40; page++ {
				u := "/api/v1/stories?limit=" + strconv.Itoa(limit)
				if next != "" {
					u += "&before=" + url.QueryEscape(next)
				}
				var p apiStoryPage
				apiDecode(t, get(t, h, u), http.StatusOK, &p)
				for _, s := range p.Stories {
					got = append(got, s.ID)
				}
				if next = p.Next; next == "" {
					break
				}
			}
			if len(got) != len(recs) {
				t.Fatalf("limit %d: walked %d stories, want %d", limit, len(got), len(recs))
			}
			for i := range got {
				if got[i] != recs[i].ID {
					t.Errorf("limit %d: story %d is %d, want %d", limit, i, got[i], recs[i].ID)
				}
			}
		}
	})

	t.Run("one story", func(t *testing.T) {
		target := fmt.Sprintf("/api/v1/stories/%d", storyID)
		w := get(t, h, target)
		body := w.Body.String()
		var d apiStoryDetail
		apiDecode(t, w, http.StatusOK, &d)
		rec, err := st.Story(t.Context(), storyID)
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != storyID || d.LeadArticle != art(2, 2) || d.ArticleCount != 3 || d.OutletCount != 3 {
			t.Errorf("story %+v", d.storyJSON)
		}
		if !slices.Equal(d.Articles, rec.Articles) || len(d.Articles) != 3 {
			t.Errorf("articles %v, want the members %v", d.Articles, rec.Articles)
		}
		var outlets []string
		for _, o := range d.Outlets {
			outlets = append(outlets, fmt.Sprintf("%d %s %s %s", o.SourceID, o.Source, o.SourceURL, o.FirstSeen))
		}
		var wantOutlets []string
		for _, o := range rec.Outlets {
			wantOutlets = append(wantOutlets, fmt.Sprintf("%d %s %s %s", o.SourceID, o.Name, o.URL, o.FirstSeen.UTC().Format(time.RFC3339)))
		}
		if !slices.Equal(outlets, wantOutlets) || len(outlets) != 3 {
			t.Errorf("outlets %q, want %q", outlets, wantOutlets)
		}
		if len(d.Members) != 3 {
			t.Fatalf("%d members, want 3", len(d.Members))
		}
		for i, m := range d.Members {
			if m.ID != rec.Articles[i] || m.StoryID != storyID {
				t.Errorf("member %d: id %d, story %d; want %d in story %d", i, m.ID, m.StoryID, rec.Articles[i], storyID)
			}
			wantDup := int64(0)
			if m.ID == art(2, 3) {
				wantDup = art(2, 2)
			}
			if m.DuplicateOf != wantDup {
				t.Errorf("member %d: duplicate_of %d, want %d", m.ID, m.DuplicateOf, wantDup)
			}
			if m.ID == storyID && len(m.Seen) != 2 {
				t.Errorf("member %d: %d sightings, want 2 (sources 1 and 3)", m.ID, len(m.Seen))
			}
		}
		for _, private := range []string{"urn:", "utm_"} {
			if strings.Contains(body, private) {
				t.Errorf("the story JSON shows the feeds' own identifiers (%q)", private)
			}
		}
		if w := get(t, h, target, "If-None-Match", w.Header().Get("ETag")); w.Code != http.StatusNotModified {
			t.Errorf("If-None-Match: %d, want 304", w.Code)
		}
		// The article's own JSON tells its place.
		var a apiArticleDetail
		apiDecode(t, get(t, h, fmt.Sprintf("/api/v1/articles/%d", art(2, 3))), http.StatusOK, &a)
		if a.StoryID != storyID || a.DuplicateOf != art(2, 2) {
			t.Errorf("article %d: story_id %d, duplicate_of %d; want %d and %d", a.ID, a.StoryID, a.DuplicateOf, storyID, art(2, 2))
		}
	})

	t.Run("errors", func(t *testing.T) {
		apiError(t, get(t, h, "/api/v1/stories/99999"), http.StatusNotFound, "no story with id 99999")
		// A member's id is not a story's.
		apiError(t, get(t, h, fmt.Sprintf("/api/v1/stories/%d", art(2, 2))), http.StatusNotFound, "no story with id")
		for _, bad := range []string{"abc", "0", "-1", "1.0"} {
			apiError(t, get(t, h, "/api/v1/stories/"+bad), http.StatusNotFound, "not found")
		}
		for query, msg := range map[string]string{
			"limit=0":      "invalid limit",
			"limit=201":    "invalid limit",
			"limit=x":      "invalid limit",
			"before=x":     "invalid cursor",
			"before=1-0":   "invalid cursor",
			"before=o50":   "invalid cursor",
			"before=abc-1": "invalid cursor",
		} {
			apiError(t, get(t, h, "/api/v1/stories?"+query), http.StatusBadRequest, msg)
		}
	})
}

func TestAPISources(t *testing.T) {
	srv, st := newTestServer(t, nil)
	srcs := fillStore(t, st, 2, 4)
	broken := addTestSource(t, st, "Broken", "https://broken.example/feed.xml")
	if _, err := st.SaveFetch(t.Context(), store.FetchResult{
		Fetch:      store.Fetch{SourceID: broken.ID, At: testNow, Status: 500, Err: "HTTP 500 Internal Server Error"},
		NextCheck:  testNow.Add(10 * time.Minute),
		ErrorCount: 1,
	}); err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()

	var list struct {
		Sources []sourceJSON `json:"sources"`
	}
	w := get(t, h, "/api/v1/sources")
	apiDecode(t, w, http.StatusOK, &list)
	if len(list.Sources) != 3 {
		t.Fatalf("%d sources, want 3", len(list.Sources))
	}
	if w := get(t, h, "/api/v1/sources", "If-None-Match", w.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", w.Code)
	}

	var one sourceJSON
	w = get(t, h, fmt.Sprintf("/api/v1/sources/%d", srcs[0].ID))
	apiDecode(t, w, http.StatusOK, &one)
	want := sourceJSON{
		ID: srcs[0].ID, URL: srcs[0].URL, Title: "Source 1", SiteURL: "https://site1.example.com",
		Filter: "all", Weight: 1, Enabled: true, Interval: 0, Created: one.Created,
		LastCheck: testNow.Format(time.RFC3339), NextCheck: testNow.Add(30 * time.Minute).Format(time.RFC3339),
		LastStatus: 200, LastItems: 4, Articles: 4,
		Page: fmt.Sprintf("%s/sources/%d", testBaseURL, srcs[0].ID),
	}
	if one != want || one.Created == "" {
		t.Errorf("source\n got %+v\nwant %+v", one, want)
	}
	if w := get(t, h, fmt.Sprintf("/api/v1/sources/%d", srcs[0].ID), "If-None-Match", w.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", w.Code)
	}

	apiDecode(t, get(t, h, fmt.Sprintf("/api/v1/sources/%d", broken.ID)), http.StatusOK, &one)
	if one.LastStatus != 500 || one.LastError != "HTTP 500 Internal Server Error" || one.ErrorCount != 1 || one.LastItems != 0 {
		t.Errorf("failing source health: %+v", one)
	}
	apiError(t, get(t, h, "/api/v1/sources/999"), http.StatusNotFound, "no source with id 999")
	apiError(t, get(t, h, "/api/v1/sources/abc"), http.StatusNotFound, "not found")
	// A source never fetched: times are "".
	fresh := addTestSource(t, st, "Fresh", "https://fresh.example/feed.xml")
	apiDecode(t, get(t, h, fmt.Sprintf("/api/v1/sources/%d", fresh.ID)), http.StatusOK, &one)
	if one.LastCheck != "" || one.NextCheck != "" || one.LastStatus != 0 {
		t.Errorf("never fetched source: %+v", one)
	}
}

func TestAPIRoutingErrors(t *testing.T) {
	srv, _ := newTestServer(t, nil)
	h := srv.Handler()
	apiError(t, get(t, h, "/api/v1/nothing"), http.StatusNotFound, "no page at /api/v1/nothing")
	apiError(t, get(t, h, "/api/v2/articles"), http.StatusNotFound, "no page at")
	apiError(t, request(t, h, http.MethodPut, "/api/v1/articles", nil), http.StatusMethodNotAllowed, "not allowed")
}

func TestAPIRateLimit(t *testing.T) {
	srv, _ := newTestServer(t, func(c *Config) { c.RateLimit = 3 })
	h := srv.Handler()
	limited := false
	// The limiter's window slides, so the test asks until it is refused
	// rather than counting on the exact request.
	for range 50 {
		w := get(t, h, "/api/v1/sources")
		if w.Code == http.StatusOK {
			continue
		}
		apiError(t, w, http.StatusTooManyRequests, "too many requests")
		if w.Header().Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
		limited = true
		break
	}
	if !limited {
		t.Fatal("50 requests with a limit of 3 a minute were all served")
	}
	if w := get(t, h, "/"); w.Code != http.StatusOK {
		t.Errorf("pages are limited too: GET / = %d", w.Code)
	}
}

// apiFakeAdmin records what the admin API asks of it.
type apiFakeAdmin struct {
	st   store.Store
	err  error // returned by every call when set
	poll PollResult

	mu        sync.Mutex
	added     []NewSource
	refreshed []int64
	imported  []string
}

func (f *apiFakeAdmin) Add(ctx context.Context, ns NewSource) (AddResult, error) {
	f.mu.Lock()
	f.added = append(f.added, ns)
	f.mu.Unlock()
	if f.err != nil {
		return AddResult{}, f.err
	}
	src, err := f.st.AddSource(ctx, store.Source{URL: ns.URL + "feed.xml", Title: ns.Title, Filter: ns.Filter, Weight: ns.Weight, Enabled: true})
	if err != nil {
		return AddResult{}, err
	}
	return AddResult{Source: src, FoundFrom: ns.URL, Poll: f.poll}, nil
}

func (f *apiFakeAdmin) Refresh(ctx context.Context, src store.Source) (PollResult, error) {
	f.mu.Lock()
	f.refreshed = append(f.refreshed, src.ID)
	f.mu.Unlock()
	return f.poll, f.err
}

func (f *apiFakeAdmin) Import(ctx context.Context, opml io.Reader) (ImportResult, error) {
	b, err := io.ReadAll(opml)
	if err != nil {
		return ImportResult{}, err
	}
	f.mu.Lock()
	f.imported = append(f.imported, string(b))
	f.mu.Unlock()
	return ImportResult{Added: 2, Skipped: 1}, f.err
}

const apiToken = "s3cret-admin-token"

func apiAdminServer(t *testing.T, token string) (http.Handler, *apiFakeAdmin, *sqlite.Store) {
	t.Helper()
	fake := &apiFakeAdmin{poll: PollResult{Status: 200, Items: 3, New: 3}}
	srv, st := newTestServer(t, func(c *Config) {
		c.AdminToken = token
		c.Admin = fake
		c.VersionTTL = time.Hour // only Changed() makes the cache see a change
	})
	fake.st = st
	return srv.Handler(), fake, st
}

func apiAdmin(t *testing.T, h http.Handler, method, target, ctype, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	hdr := append([]string{"Authorization", "Bearer " + apiToken}, header...)
	if ctype != "" {
		hdr = append(hdr, "Content-Type", ctype)
	}
	return request(t, h, method, target, strings.NewReader(body), hdr...)
}

func TestAPIAdminWithoutToken(t *testing.T) {
	h, fake, st := apiAdminServer(t, "")
	src := addTestSource(t, st, "Kept", "https://kept.example/feed.xml")
	unknown := get(t, h, "/api/v1/nothing").Body.String()
	for _, r := range []struct{ method, target string }{
		{http.MethodPost, "/api/v1/sources"},
		{http.MethodDelete, fmt.Sprintf("/api/v1/sources/%d", src.ID)},
		{http.MethodPost, fmt.Sprintf("/api/v1/sources/%d/refresh", src.ID)},
		{http.MethodPost, "/api/v1/sources/import"},
	} {
		w := apiAdmin(t, h, r.method, r.target, "application/json", `{"url": "https://x.example/"}`)
		body := w.Body.String()
		apiError(t, w, http.StatusNotFound, "no page at "+r.target)
		if strings.Replace(body, r.target, "/api/v1/nothing", 1) != unknown {
			t.Errorf("%s %s: %s, want the same answer as an unknown route: %s", r.method, r.target, body, unknown)
		}
	}
	if _, err := st.Source(t.Context(), src.ID); err != nil {
		t.Errorf("the source is gone: %v", err)
	}
	if len(fake.added)+len(fake.refreshed)+len(fake.imported) != 0 {
		t.Errorf("the admin was called: %+v", fake)
	}
}

func TestAPIAdminToken(t *testing.T) {
	h, fake, st := apiAdminServer(t, apiToken)
	src := addTestSource(t, st, "Kept", "https://kept.example/feed.xml")
	target := fmt.Sprintf("/api/v1/sources/%d", src.ID)
	tests := []struct {
		name, auth, challenge string
	}{
		{"none", "", `Bearer realm="recap"`},
		{"empty bearer", "Bearer ", `Bearer realm="recap"`},
		{"basic", "Basic " + apiToken, `Bearer realm="recap"`},
		{"wrong", "Bearer wrong", `Bearer realm="recap", error="invalid_token"`},
		{"prefix", "Bearer " + apiToken[:len(apiToken)-1], `Bearer realm="recap", error="invalid_token"`},
		{"longer", "Bearer " + apiToken + "x", `Bearer realm="recap", error="invalid_token"`},
		{"case", "Bearer " + strings.ToUpper(apiToken), `Bearer realm="recap", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []struct{ method, target string }{
				{http.MethodPost, "/api/v1/sources"},
				{http.MethodDelete, target},
				{http.MethodPost, target + "/refresh"},
				{http.MethodPost, "/api/v1/sources/import"},
			} {
				var hdr []string
				if tt.auth != "" {
					hdr = []string{"Authorization", tt.auth}
				}
				w := request(t, h, r.method, r.target, strings.NewReader(`{"url":"https://x.example/"}`), append(hdr, "Content-Type", "application/json")...)
				apiError(t, w, http.StatusUnauthorized, "token")
				if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
					t.Errorf("%s %s: WWW-Authenticate %q, want %q", r.method, r.target, got, tt.challenge)
				}
			}
		})
	}
	if _, err := st.Source(t.Context(), src.ID); err != nil {
		t.Errorf("the source is gone: %v", err)
	}
	if len(fake.added)+len(fake.refreshed)+len(fake.imported) != 0 {
		t.Errorf("the admin was called: %+v", fake)
	}
	// The scheme is case-insensitive.
	w := request(t, h, http.MethodDelete, target, nil, "Authorization", "bearer "+apiToken)
	if w.Code != http.StatusNoContent {
		t.Errorf("lower-case bearer: %d, want 204", w.Code)
	}
}

func TestAPIAddSource(t *testing.T) {
	h, fake, _ := apiAdminServer(t, apiToken)
	// Read the list first: the answer is cached until the API says the
	// store changed.
	var list sourceListJSON
	apiDecode(t, get(t, h, "/api/v1/sources"), http.StatusOK, &list)

	w := apiAdmin(t, h, http.MethodPost, "/api/v1/sources", "application/json; charset=utf-8",
		`{"url": " https://blog.example/ ", "title": "Blog", "filter": "ai", "weight": 2.5}`+"\n")
	var got struct {
		Source    sourceJSON `json:"source"`
		FoundFrom string     `json:"found_from"`
		Poll      PollResult `json:"poll"`
	}
	apiDecode(t, w, http.StatusCreated, &got)
	if got.Source.URL != "https://blog.example/feed.xml" || got.Source.Title != "Blog" || got.Source.Filter != "ai" || got.Source.Weight != 2.5 {
		t.Errorf("added source: %+v", got.Source)
	}
	if got.FoundFrom != "https://blog.example/" || got.Poll != fake.poll {
		t.Errorf("found_from %q, poll %+v", got.FoundFrom, got.Poll)
	}
	if loc := w.Header().Get("Location"); loc != fmt.Sprintf("%s/api/v1/sources/%d", testBaseURL, got.Source.ID) {
		t.Errorf("Location %q", loc)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if want := (NewSource{URL: "https://blog.example/", Title: "Blog", Filter: "ai", Weight: 2.5}); len(fake.added) != 1 || fake.added[0] != want {
		t.Errorf("the admin got %+v, want %+v", fake.added, want)
	}
	apiDecode(t, get(t, h, "/api/v1/sources"), http.StatusOK, &list)
	if len(list.Sources) != 1 {
		t.Errorf("after adding, the list has %d sources: the cache did not see the change", len(list.Sources))
	}

	t.Run("errors of the admin", func(t *testing.T) {
		tests := []struct {
			err    error
			status int
			msg    string
		}{
			{fmt.Errorf("wrapped: %w", store.ErrExists), http.StatusConflict, "already exists"},
			{fmt.Errorf("no feed found at https://x.example/: the page links no feed: %w", ErrNoFeed), http.StatusUnprocessableEntity, "the page links no feed"},
			{fmt.Errorf(`filter "x": want "all" or "ai": %w`, ErrBadInput), http.StatusBadRequest, `filter "x"`},
			{errors.New("disk on fire"), http.StatusInternalServerError, "internal error"},
		}
		for _, tt := range tests {
			fake.err = tt.err
			w := apiAdmin(t, h, http.MethodPost, "/api/v1/sources", "application/json", `{"url": "https://x.example/"}`)
			apiError(t, w, tt.status, tt.msg)
			if tt.status == http.StatusInternalServerError && strings.Contains(w.Body.String(), "fire") {
				t.Errorf("an internal error leaks its details: %s", w.Body)
			}
		}
		fake.err = nil
	})

	t.Run("strict bodies", func(t *testing.T) {
		tests := []struct {
			name, ctype, body string
			status            int
			msg               string
		}{
			{"no content type", "", `{"url": "https://a.example/"}`, 415, "application/json"},
			{"form", "application/x-www-form-urlencoded", `url=https://a.example/`, 415, "application/json"},
			{"unknown field", "application/json", `{"url": "https://a.example/", "urls": []}`, 400, `unknown field "urls"`},
			{"two objects", "application/json", `{"url": "https://a.example/"} {"url": "https://b.example/"}`, 400, "more than one value"},
			{"trailing garbage", "application/json", `{"url": "https://a.example/"} x`, 400, "after the object"},
			{"empty", "application/json", ``, 400, "empty"},
			{"truncated", "application/json", `{"url": "https://a.`, 400, "ends too early"},
			{"syntax", "application/json", `{"url" "https://a.example/"}`, 400, "invalid JSON at byte"},
			{"array", "application/json", `[]`, 400, "want an object"},
			{"wrong type", "application/json", `{"url": 5}`, 400, `"url" must be a string, not a number`},
			{"weight type", "application/json", `{"url": "https://a.example/", "weight": "heavy"}`, 400, `"weight" must be a number, not a string`},
			{"null", "application/json", `null`, 400, `"url" is required`},
			{"no url", "application/json", `{"title": "t"}`, 400, `"url" is required`},
			{"blank url", "application/json", `{"url": "  "}`, 400, `"url" is required`},
			{"zero weight", "application/json", `{"url": "https://a.example/", "weight": 0}`, 400, `"weight" must be above 0`},
			{"negative weight", "application/json", `{"url": "https://a.example/", "weight": -1}`, 400, `"weight" must be above 0`},
			{"too big", "application/json", `{"url": "https://a.example/", "title": "` + strings.Repeat("a", apiMaxJSONBody) + `"}`, 413, "larger than 1 MiB"},
			{"too big after the object", "application/json", `{"url": "https://a.example/"}` + strings.Repeat(" ", apiMaxJSONBody), 413, "larger than 1 MiB"},
		}
		before := len(fake.added)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				apiError(t, apiAdmin(t, h, http.MethodPost, "/api/v1/sources", tt.ctype, tt.body), tt.status, tt.msg)
			})
		}
		if len(fake.added) != before {
			t.Errorf("a refused body reached the admin: %+v", fake.added[before:])
		}
	})
}

func TestAPIAdminNotWired(t *testing.T) {
	srv, st := newTestServer(t, func(c *Config) { c.AdminToken = apiToken })
	h := srv.Handler()
	src := addTestSource(t, st, "S", "https://s.example/feed.xml")
	apiError(t, apiAdmin(t, h, http.MethodPost, "/api/v1/sources", "application/json", `{"url": "https://a.example/"}`), http.StatusNotImplemented, "cannot change sources")
	apiError(t, apiAdmin(t, h, http.MethodPost, fmt.Sprintf("/api/v1/sources/%d/refresh", src.ID), "", ""), http.StatusNotImplemented, "cannot change sources")
	apiError(t, apiAdmin(t, h, http.MethodPost, "/api/v1/sources/import", "text/x-opml", "<opml/>"), http.StatusNotImplemented, "cannot change sources")
	// Removing needs only the store.
	if w := apiAdmin(t, h, http.MethodDelete, fmt.Sprintf("/api/v1/sources/%d", src.ID), "", ""); w.Code != http.StatusNoContent {
		t.Errorf("DELETE = %d, want 204", w.Code)
	}
}

func TestAPIDeleteSource(t *testing.T) {
	h, _, st := apiAdminServer(t, apiToken)
	srcs := fillStore(t, st, 2, 3)
	target := fmt.Sprintf("/api/v1/sources/%d", srcs[0].ID)
	apiDecode(t, get(t, h, target), http.StatusOK, nil) // cached now

	w := apiAdmin(t, h, http.MethodDelete, target, "", "")
	if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Fatalf("DELETE = %d with %q, want 204 and no body", w.Code, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	apiError(t, get(t, h, target), http.StatusNotFound, "no source")
	apiError(t, apiAdmin(t, h, http.MethodDelete, target, "", ""), http.StatusNotFound, "no source")
	apiError(t, apiAdmin(t, h, http.MethodDelete, "/api/v1/sources/abc", "", ""), http.StatusNotFound, "not found")
	if n, _ := st.CountArticles(t.Context()); n != 6 {
		t.Errorf("%d articles after removing a source, want all 6 kept", n)
	}
}

func TestAPIRefreshSource(t *testing.T) {
	h, fake, st := apiAdminServer(t, apiToken)
	src := fillStore(t, st, 1, 2)[0]
	fake.poll = PollResult{Status: 304, NotModified: true}
	w := apiAdmin(t, h, http.MethodPost, fmt.Sprintf("/api/v1/sources/%d/refresh", src.ID), "", "")
	var got struct {
		Source sourceJSON `json:"source"`
		Poll   PollResult `json:"poll"`
	}
	apiDecode(t, w, http.StatusOK, &got)
	if got.Poll != fake.poll || got.Source.ID != src.ID || !slices.Equal(fake.refreshed, []int64{src.ID}) {
		t.Errorf("refresh: %+v; admin refreshed %v", got, fake.refreshed)
	}
	fake.poll = PollResult{Status: 500, Error: "fetch: HTTP 500"}
	apiDecode(t, apiAdmin(t, h, http.MethodPost, fmt.Sprintf("/api/v1/sources/%d/refresh", src.ID), "", ""), http.StatusOK, &got)
	if got.Poll.Error != "fetch: HTTP 500" {
		t.Errorf("a failed poll: %+v", got.Poll)
	}
	apiError(t, apiAdmin(t, h, http.MethodPost, "/api/v1/sources/999/refresh", "", ""), http.StatusNotFound, "no source with id 999")
	apiError(t, apiAdmin(t, h, http.MethodGet, fmt.Sprintf("/api/v1/sources/%d/refresh", src.ID), "", ""), http.StatusMethodNotAllowed, "not allowed")
}

func TestAPIImportSources(t *testing.T) {
	h, fake, _ := apiAdminServer(t, apiToken)
	const opml = `<?xml version="1.0"?><opml version="2.0"><body><outline xmlUrl="https://a.example/feed"/></body></opml>`
	for _, ctype := range []string{"text/x-opml", "application/xml; charset=utf-8", "text/xml"} {
		w := apiAdmin(t, h, http.MethodPost, "/api/v1/sources/import", ctype, opml)
		var got ImportResult
		apiDecode(t, w, http.StatusOK, &got)
		if got != (ImportResult{Added: 2, Skipped: 1}) {
			t.Errorf("%s: %+v", ctype, got)
		}
	}
	if len(fake.imported) != 3 || fake.imported[0] != opml {
		t.Errorf("the admin got %q", fake.imported)
	}
	apiError(t, apiAdmin(t, h, http.MethodPost, "/api/v1/sources/import", "application/json", opml), http.StatusUnsupportedMediaType, "OPML")
	apiError(t, apiAdmin(t, h, http.MethodPost, "/api/v1/sources/import", "", opml), http.StatusUnsupportedMediaType, "OPML")
	apiError(t, apiAdmin(t, h, http.MethodPost, "/api/v1/sources/import", "text/x-opml", strings.Repeat(" ", apiMaxOPMLBody+1)), http.StatusRequestEntityTooLarge, "larger than 5 MiB")
	if len(fake.imported) != 3 {
		t.Errorf("a refused body reached the admin")
	}
	fake.err = fmt.Errorf("line 3: outline %q: weight \"x\": %w", "A", ErrBadInput)
	apiError(t, apiAdmin(t, h, http.MethodPost, "/api/v1/sources/import", "text/x-opml", opml), http.StatusBadRequest, "line 3")
}
