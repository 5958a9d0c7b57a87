package server

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

// analysedFixture is a store with a story about DeepSeek V4 covered by two
// outlets, earlier DeepSeek stories for its timeline, a recent Huawei chip
// story for its related updates, all analysed as the story stage would
// store them.
type analysedFixture struct {
	srv                      *Server
	st                       store.Store
	story, r1, v3, chips, lo int64
	stock                    int64
	members                  []string // the story's member titles
}

func newAnalysedFixture(t *testing.T) *analysedFixture {
	srv, st := newTestServer(t, nil)
	scmp := addTestSource(t, st, "SCMP Technology", "https://scmp.example.com/feed.xml")
	verge := addTestSource(t, st, "The Verge AI", "https://verge.example.com/feed.xml")
	art := func(src store.Source, slug, title, summary string, pub time.Time) news.Article {
		url := fmt.Sprintf("https://%s.example.com/%s", strings.Fields(strings.ToLower(src.Title))[0], slug)
		return news.Article{ItemKey: news.ItemKey("", url, title, pub), Link: url, URL: url, Title: title,
			Summary: summary, Published: pub, Collected: pub.Add(16 * time.Minute)}
	}
	v4a := art(scmp, "v4", "DeepSeek V4 optimized for Huawei Ascend",
		"China's V4 models are optimized for Huawei chips. The models bypass US export restrictions on Nvidia parts.", testNow.Add(-3*time.Hour))
	v4b := art(verge, "deepseek-v4", "DeepSeek's V4 runs on Huawei's Ascend chips",
		"DeepSeek released V4 on Tuesday. It was trained and served on Huawei Ascend accelerators.", testNow.Add(-2*time.Hour))
	r1 := art(scmp, "r1", "DeepSeek R1 rattles Silicon Valley", "DeepSeek's R1 reasoning model matches o1.", time.Date(2025, 1, 27, 9, 0, 0, 0, time.UTC))
	v3 := art(verge, "v3", "DeepSeek V3 is out", "An open-weight model trained for $6M.", time.Date(2024, 12, 26, 9, 0, 0, 0, time.UTC))
	chips := art(scmp, "ascend", "Huawei ships Ascend 910C in volume", "Huawei's new chip targets AI training.", testNow.Add(-7*24*time.Hour))
	lone := art(verge, "lone", "A story nobody analysed yet", "Nothing to see.", testNow.Add(-time.Hour))
	stock := art(verge, "stock", "Huawei shares jump on DeepSeek news", "Investors cheered.", testNow.Add(-30*time.Minute))
	saveArticles(t, st, scmp, []news.Article{v4a, r1, chips, stock})
	saveArticles(t, st, verge, []news.Article{v4b, v3, lone})
	ids := articleIDs(t, st)
	f := &analysedFixture{srv: srv, st: st, story: ids[v4a.Title], r1: ids[r1.Title], v3: ids[v3.Title],
		chips: ids[chips.Title], lo: ids[lone.Title], stock: ids[stock.Title], members: []string{v4a.Title, v4b.Title}}
	saveStories(t, st,
		testStory{members: []int64{f.story, ids[v4b.Title]}},
		testStory{members: []int64{f.r1}}, testStory{members: []int64{f.v3}},
		testStory{members: []int64{f.chips}}, testStory{members: []int64{f.lo}}, testStory{members: []int64{f.stock}})

	deepseek := news.Entity{Key: "deepseek", Name: "DeepSeek", Kind: news.KindOrg, Weight: 5}
	huawei := news.Entity{Key: "huawei", Name: "Huawei", Kind: news.KindOrg, Weight: 3}
	ascend := news.Entity{Key: "ascend", Name: "Ascend", Kind: news.KindChip, Weight: 2}
	analyses := []store.AnalysisRecord{
		{StoryID: f.story, Analysis: news.Analysis{
			Entities: []news.Entity{deepseek, huawei, ascend}, Topics: []news.Topic{news.TopicModels, news.TopicChips},
			Audiences: []news.Audience{{Who: news.AudienceEnterprise, Reason: "chips under export rules: Huawei, Ascend"}},
			Relevance: 0.95,
			TLDR:      []news.Sentence{{Text: "China's V4 models are optimized for Huawei chips.", Article: f.story}},
			Takeaways: []news.Sentence{
				{Text: "The models bypass US export restrictions on Nvidia parts.", Article: f.story},
				{Text: "It was trained and served on Huawei Ascend accelerators.", Article: ids[v4b.Title]},
				{Text: "DeepSeek V4 optimized for Huawei Ascend", Article: f.story}, // the headline again
			},
			Rank: news.Rank{Score: 2.5, Base: 3, Parts: []news.RankPart{{Name: "Outlets", Value: 2, Detail: "2 independent outlets"}}},
		}},
		{StoryID: f.r1, Analysis: news.Analysis{Entities: []news.Entity{deepseek}, Topics: []news.Topic{news.TopicModels}, Rank: news.Rank{Base: 2}}},
		{StoryID: f.v3, Analysis: news.Analysis{Entities: []news.Entity{deepseek}, Topics: []news.Topic{news.TopicOpenSource}, Rank: news.Rank{Base: 1.5}}},
		{StoryID: f.chips, Analysis: news.Analysis{Entities: []news.Entity{huawei, ascend}, Topics: []news.Topic{news.TopicChips}, Rank: news.Rank{Base: 1}}},
		{StoryID: f.stock, Analysis: news.Analysis{Entities: []news.Entity{huawei, deepseek}, Topics: []news.Topic{news.TopicBusiness}, Rank: news.Rank{Base: 1}}},
	}
	for i := range analyses {
		rec, err := st.Story(t.Context(), analyses[i].StoryID)
		if err != nil {
			t.Fatal(err)
		}
		analyses[i].Version, analyses[i].Outlets, analyses[i].Analysed = rec.Version, rec.OutletCount, testNow
	}
	if err := st.SaveAnalyses(t.Context(), testLease, analyses); err != nil {
		t.Fatalf("SaveAnalyses: %v", err)
	}
	return f
}

func TestStoryPageShowsItsAnalysis(t *testing.T) {
	f := newAnalysedFixture(t)
	h := f.srv.Handler()
	w := get(t, h, fmt.Sprintf("/stories/%d", f.story))
	if w.Code != http.StatusOK {
		t.Fatalf("story page = %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, "story page", body,
		`<h2 id="tldr-h">TL;DR</h2>`,
		"China&#39;s V4 models are optimized for Huawei chips.",
		`<a href="https://scmp.example.com/v4" rel="noopener noreferrer">SCMP Technology</a>`,
		`<h2 id="audience-h">Who should care</h2>`,
		"<strong>Enterprise &amp; Security Teams</strong>: chips under export rules: Huawei, Ascend",
		`<h2 id="takeaways-h">Key takeaways</h2>`,
		"<q>It was trained and served on Huawei Ascend accelerators.</q>",
		`<a href="https://the.example.com/deepseek-v4" rel="noopener noreferrer">The Verge AI</a>`,
		`<a href="/topics/models-research">Models and research</a> · <a href="/topics/chips-hardware">Chips and hardware</a>`, `<a href="/digest/2026-W14">Weekly AI Recap 2026-W14</a>`,
		`<h2 id="timeline-h">Timeline</h2>`,
		`<h2 id="related-h">Related updates</h2>`,
		fmt.Sprintf(`<a href="/stories/%d">Huawei shares jump on DeepSeek news</a>`, f.stock),
		`<h2 id="ranked-h">Why ranked</h2>`, "<strong>Outlets</strong>: 2 independent outlets",
		// Recency as of the page's time: 3h old, half-life 24h.
		"Score 2.75 now (3.00 before its age counts)",
		fmt.Sprintf(`<a href="/stories/%d/feed.xml">Follow this story</a>`, f.story),
		fmt.Sprintf(`href="%s/stories/%d/feed.xml"`, testBaseURL, f.story),
		"Original source: SCMP Technology. All content rights belong to original publishers.",
	)
	// The timeline: the earlier DeepSeek and Ascend stories, oldest first, by month.
	months := regexp.MustCompile(`<time datetime="[^"]+">(\d{4}-\d{2})</time> <a href="/stories/(\d+)">`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, m := range months {
		got = append(got, m[1]+" "+m[2])
	}
	if want := []string{fmt.Sprintf("2024-12 %d", f.v3), fmt.Sprintf("2025-01 %d", f.r1), fmt.Sprintf("2026-03 %d", f.chips)}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("timeline %q, want %q", got, want)
	}
	if strings.Count(body, "DeepSeek V4 optimized for Huawei Ascend") != 3 { // title, h1, coverage
		t.Errorf("the headline shows %d times, want 3: a takeaway that repeats it must be left out", strings.Count(body, "DeepSeek V4 optimized for Huawei Ascend"))
	}
	if strings.Contains(body, "AI-generated analysis") {
		t.Error("the page shows an AI-generated section with no model configured")
	}
	// The TL;DR replaces the lead's summary section, and the hook when it
	// is the same sentence.
	if strings.Contains(body, `<p class="hook lead">`) {
		t.Error("the page shows the hook and a TL;DR of the same sentence")
	}
	if strings.Contains(body, `<h2 id="summary-h">`) {
		t.Error("the page shows the lead's summary beside the TL;DR")
	}
}

func TestStoryPageWithoutAnalysisShowsCoverageOnly(t *testing.T) {
	f := newAnalysedFixture(t)
	w := get(t, f.srv.Handler(), fmt.Sprintf("/stories/%d", f.lo))
	if w.Code != http.StatusOK {
		t.Fatalf("story page = %d", w.Code)
	}
	body := w.Body.String()
	mustContain(t, "unanalysed story", body, `<h2 id="coverage-h">Full coverage</h2>`, "All content rights belong to original publishers.")
	for _, no := range []string{"tldr-h", "audience-h", "takeaways-h", "timeline-h", "related-h", "ranked-h"} {
		if strings.Contains(body, no) {
			t.Errorf("a story without analysis shows %s", no)
		}
	}
}

func TestStoryPageShowsAnInsightWithItsCitations(t *testing.T) {
	f := newAnalysedFixture(t)
	rec, err := f.st.Story(t.Context(), f.story)
	if err != nil {
		t.Fatal(err)
	}
	second := rec.Members[1].ID
	err = f.st.SaveInsight(t.Context(), store.InsightRecord{StoryID: f.story, Version: rec.Version, Insight: news.Insight{
		Model:        "llama3.1:8b",
		WhatChanged:  []news.Claim{{Text: "DeepSeek moved V4 to Huawei hardware.", Cites: []int64{f.story, second}}},
		WhyItMatters: []news.Claim{{Text: "A claim citing a story that is not a member.", Cites: []int64{f.chips}}},
		Sections:     []news.InsightSection{{Heading: "Implications", Claims: []news.Claim{{Text: "Export rules bite less.", Cites: []int64{second}}}}},
	}})
	if err != nil {
		t.Fatalf("SaveInsight: %v", err)
	}
	body := get(t, f.srv.Handler(), fmt.Sprintf("/stories/%d", f.story)).Body.String()
	mustContain(t, "story page with an insight", body,
		`<h2 id="insight-h">AI-generated analysis</h2>`, "llama3.1:8b",
		"<h3>What changed</h3>", "DeepSeek moved V4 to Huawei hardware.",
		`<a class="cite" href="https://scmp.example.com/v4" title="SCMP Technology" rel="noopener noreferrer">[1]</a>`,
		`<a class="cite" href="https://the.example.com/deepseek-v4" title="The Verge AI" rel="noopener noreferrer">[2]</a>`,
		"<h3>Implications</h3>", "Export rules bite less.",
		`<span class="n">[1]</span>`, `<span class="n">[2]</span>`,
	)
	if strings.Contains(body, "not a member") || strings.Contains(body, "Why it matters") {
		t.Error("the page shows a claim whose only citation is not a member of the story")
	}
}

func TestStoryFeedCarriesMembersAndTimeline(t *testing.T) {
	f := newAnalysedFixture(t)
	w := get(t, f.srv.Handler(), fmt.Sprintf("/stories/%d/feed.xml", f.story))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/rss+xml; charset=utf-8" {
		t.Fatalf("story feed = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	var doc struct {
		Channel struct {
			Title string `xml:"title"`
			Items []struct {
				Title string `xml:"title"`
				GUID  string `xml:"guid"`
				Link  string `xml:"link"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("story feed is not XML: %v\n%s", err, w.Body.String())
	}
	if doc.Channel.Title != "Recap story: DeepSeek V4 optimized for Huawei Ascend" {
		t.Errorf("feed title %q", doc.Channel.Title)
	}
	var got []string
	for _, it := range doc.Channel.Items {
		got = append(got, it.GUID+" "+it.Title)
	}
	want := []string{
		fmt.Sprintf("%s/articles/%d %s", testBaseURL, f.story+1, f.members[1]), // the later member first
		fmt.Sprintf("%s/articles/%d %s", testBaseURL, f.story, f.members[0]),
		fmt.Sprintf("%s/stories/%d Earlier, 2024-12: DeepSeek V3 is out", testBaseURL, f.v3),
		fmt.Sprintf("%s/stories/%d Earlier, 2025-01: DeepSeek R1 rattles Silicon Valley", testBaseURL, f.r1),
		fmt.Sprintf("%s/stories/%d Earlier, 2026-03: Huawei ships Ascend 910C in volume", testBaseURL, f.chips),
	}
	rec, _ := f.st.Story(t.Context(), f.story)
	want[0] = fmt.Sprintf("%s/articles/%d %s", testBaseURL, rec.Members[1].ID, f.members[1])
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("story feed items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A member's id leads to its story's feed, as it leads to its page.
	if w := get(t, f.srv.Handler(), fmt.Sprintf("/stories/%d/feed.xml", rec.Members[1].ID)); w.Code != http.StatusFound ||
		w.Header().Get("Location") != fmt.Sprintf("/stories/%d/feed.xml", f.story) {
		t.Errorf("feed of a member's id = %d to %q, want 302 to the story's feed", w.Code, w.Header().Get("Location"))
	}
	// A story that does not exist has no feed.
	if w := get(t, f.srv.Handler(), "/stories/999999/feed.xml"); w.Code != http.StatusNotFound {
		t.Errorf("feed of a missing story = %d, want 404", w.Code)
	}
}

func TestAPIStoryCarriesItsAnalysis(t *testing.T) {
	f := newAnalysedFixture(t)
	w := get(t, f.srv.Handler(), fmt.Sprintf("/api/v1/stories/%d", f.story))
	if w.Code != http.StatusOK {
		t.Fatalf("GET story = %d %s", w.Code, w.Body.String())
	}
	var out struct {
		Analysis *struct {
			Topics    []string `json:"topics"`
			Takeaways []struct {
				Text      string `json:"text"`
				ArticleID int64  `json:"article_id"`
				Source    string `json:"source"`
			} `json:"takeaways"`
			Timeline []struct {
				StoryID int64  `json:"story_id"`
				Month   string `json:"month"`
			} `json:"timeline"`
			AIGenerated any `json:"ai_generated"`
		} `json:"analysis"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	a := out.Analysis
	if a == nil || len(a.Topics) != 2 || len(a.Takeaways) != 2 || a.Takeaways[1].Source != "The Verge AI" ||
		len(a.Timeline) != 3 || a.Timeline[0].StoryID != f.v3 || a.Timeline[0].Month != "2024-12" || a.AIGenerated != nil {
		t.Errorf("analysis = %+v", a)
	}
	w = get(t, f.srv.Handler(), fmt.Sprintf("/api/v1/stories/%d", f.lo))
	if !strings.Contains(w.Body.String(), `"analysis":null`) {
		t.Errorf("a story not analysed yet: want \"analysis\":null, got %s", w.Body.String())
	}
}
