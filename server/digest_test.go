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

// digestFixture stores analysed stories around testNow (Wednesday 1 April
// 2026, week 2026-W14): in the closed week 2026-W13, two that make the
// digest, one of a single outlet and one under the minimum score; in the
// current week, one more.
type digestFixture struct {
	srv                      *Server
	st                       store.Store
	chips, policy, lone, low int64
	current                  int64
}

func newDigestFixture(t *testing.T) *digestFixture {
	srv, st := newTestServer(t, nil)
	a := addTestSource(t, st, "Wire A", "https://a.example.com/feed.xml")
	b := addTestSource(t, st, "Wire B", "https://b.example.com/feed.xml")
	art := func(src store.Source, slug, title string, pub time.Time) news.Article {
		url := fmt.Sprintf("https://%d.example.com/%s", src.ID, slug)
		return news.Article{ItemKey: news.ItemKey("", url, title, pub), Link: url, URL: url, Title: title,
			Summary: title + ". More follows.", Published: pub, Collected: pub.Add(10 * time.Minute)}
	}
	w13 := time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC) // Tuesday of 2026-W13
	type made struct {
		title string
		arts  []news.Article
		src   []store.Source
		ents  []news.Entity
		topic news.Topic
		base  float64
	}
	stories := []made{
		{"Nvidia unveils Rubin GPUs", nil, []store.Source{a, b}, []news.Entity{{Key: "nvidia", Name: "Nvidia", Kind: news.KindOrg, Weight: 3}}, news.TopicChips, 3},
		{"EU fines a lab under the AI Act", nil, []store.Source{a, b}, []news.Entity{{Key: "eu-ai-act", Name: "EU AI Act", Kind: news.KindRegulator, Weight: 3}}, news.TopicPolicy, 2},
		{"Only one outlet saw this", nil, []store.Source{a}, nil, news.TopicModels, 5},
		{"Two outlets, little weight", nil, []store.Source{a, b}, nil, news.TopicModels, 0.5},
		{"This week's launch", nil, []store.Source{a, b}, nil, news.TopicProducts, 2},
	}
	for i := range stories {
		at := w13.Add(time.Duration(i) * 24 * time.Hour)
		if i == 4 {
			at = testNow.Add(-5 * time.Hour)
		}
		for j, src := range stories[i].src {
			title := stories[i].title
			if j > 0 {
				title += " (report)"
			}
			stories[i].arts = append(stories[i].arts, art(src, fmt.Sprintf("s%d-%d", i, j), title, at.Add(time.Duration(j)*time.Hour)))
		}
	}
	for _, src := range []store.Source{a, b} {
		var arts []news.Article
		for _, m := range stories {
			for _, ar := range m.arts {
				if strings.Contains(ar.URL, fmt.Sprintf("//%d.", src.ID)) {
					arts = append(arts, ar)
				}
			}
		}
		saveArticles(t, st, src, arts)
	}
	ids := articleIDs(t, st)
	var ts []testStory
	for _, m := range stories {
		var members []int64
		for _, ar := range m.arts {
			members = append(members, ids[ar.Title])
		}
		ts = append(ts, testStory{members: members})
	}
	saveStories(t, st, ts...)
	var recs []store.AnalysisRecord
	for _, m := range stories {
		rec, err := st.Story(t.Context(), ids[m.arts[0].Title])
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.AnalysisRecord{StoryID: rec.ID, Version: rec.Version, Outlets: rec.OutletCount, Analysed: testNow,
			Analysis: news.Analysis{Entities: m.ents, Topics: []news.Topic{m.topic}, Relevance: 1,
				TLDR: []news.Sentence{{Text: "More follows.", Article: rec.ID}},
				Rank: news.Rank{Base: m.base, Score: m.base}}})
	}
	if err := st.SaveAnalyses(t.Context(), testLease, recs); err != nil {
		t.Fatal(err)
	}
	return &digestFixture{srv: srv, st: st, chips: recs[0].StoryID, policy: recs[1].StoryID, lone: recs[2].StoryID,
		low: recs[3].StoryID, current: recs[4].StoryID}
}

// storyLinks are the story pages a page links, in order.
func storyLinks(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<h3><a href="[^"]*/stories/(\d+)">`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestDigestPageOfAClosedWeek(t *testing.T) {
	f := newDigestFixture(t)
	h := f.srv.Handler()
	w := get(t, h, "/digest/2026-W13")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /digest/2026-W13 = %d %s", w.Code, w.Body.String())
	}
	body := w.Body.String()
	mustContain(t, "digest page", body,
		"<h1>AI Recap: 2026-W13</h1>", "23–29 Mar 2026",
		"2 sources, 7 articles, 4 stories read this week",
		`<a href="/topics/chips-hardware">Chips and hardware</a>`,
		`<a href="/topics/policy-regulation">Policy and regulation</a>`,
		"Covered by Wire A and Wire B.",
		`<a rel="prev" href="/digest/2026-W12">`, `<a rel="next" href="/digest/2026-W14">`,
		`href="https://news.example.org/recap/digest.xml"`,
	)
	// Two outlets and the minimum score: the lone and the light story stay out.
	if got, want := strings.Join(storyLinks(body), " "), fmt.Sprintf("%d %d", f.chips, f.policy); got != want {
		t.Errorf("stories on the page %q, want %q (best first)", got, want)
	}
	if strings.Contains(body, "the week so far") {
		t.Error("a closed week is called the week so far")
	}
}

func TestDigestOfTheCurrentWeekAndBadWeeks(t *testing.T) {
	f := newDigestFixture(t)
	h := f.srv.Handler()
	body := get(t, h, "/digest").Body.String()
	mustContain(t, "current digest", body, "<h1>AI Recap: 2026-W14</h1>", "the week so far", `<a rel="prev" href="/digest/2026-W13">`)
	if strings.Contains(body, `rel="next"`) {
		t.Error("the current week links a next week")
	}
	if got := strings.Join(storyLinks(body), " "); got != fmt.Sprint(f.current) {
		t.Errorf("stories of the week so far %q, want %d", got, f.current)
	}
	for _, path := range []string{"/digest/2026-W15", "/digest/2026-W99", "/digest/26-W13", "/digest/2026-13"} {
		if w := get(t, h, path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}
	// A week with nothing in it says so, short, not padded.
	mustContain(t, "empty week", get(t, h, "/digest/2026-W02").Body.String(), "A quiet week")
}

func TestDigestArchive(t *testing.T) {
	f := newDigestFixture(t)
	h := f.srv.Handler()
	body := get(t, h, "/digests").Body.String()
	mustContain(t, "archive", body, `<a href="/digest/2026-W14">2026-W14</a>`, `<a href="/digest/2026-W13">2026-W13</a>`,
		"2 stories · 2 sources, 7 articles, 4 stories", "Nvidia unveils Rubin GPUs", "A quiet week")
	if w := get(t, h, "/digests?before=2026-W99"); w.Code != http.StatusBadRequest {
		t.Errorf("GET /digests?before=2026-W99 = %d, want 400", w.Code)
	}
}

func TestDigestFeedsCarryClosedWeeks(t *testing.T) {
	f := newDigestFixture(t)
	h := f.srv.Handler()
	w := get(t, h, "/digest.xml")
	var rss struct {
		Items []struct {
			Title       string `xml:"title"`
			GUID        string `xml:"guid"`
			Description string `xml:"description"`
			Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &rss); err != nil {
		t.Fatalf("digest.xml: %v\n%s", err, w.Body.String())
	}
	// One item: 2026-W13. The current week is open; older weeks are empty.
	if len(rss.Items) != 1 || rss.Items[0].GUID != testBaseURL+"/digest/2026-W13" || rss.Items[0].Title != "AI Recap 2026-W13: 2 stories" {
		t.Fatalf("digest.xml items %+v", rss.Items)
	}
	if c := rss.Items[0].Content + rss.Items[0].Description; !strings.Contains(c, "Nvidia unveils Rubin GPUs") ||
		!strings.Contains(c, fmt.Sprintf(`%s/stories/%d`, testBaseURL, f.chips)) {
		t.Errorf("the item does not carry the whole digest with absolute links: %.600s", c)
	}
	var jf struct {
		Items []struct {
			ID          string `json:"id"`
			ContentHTML string `json:"content_html"`
		} `json:"items"`
	}
	if err := json.Unmarshal(get(t, h, "/digest.json").Body.Bytes(), &jf); err != nil || len(jf.Items) != 1 || jf.Items[0].ID != testBaseURL+"/digest/2026-W13" {
		t.Errorf("digest.json = %+v, %v", jf, err)
	}
	if w := get(t, h, "/digest.atom"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<id>"+testBaseURL+"/digest/2026-W13</id>") {
		t.Errorf("digest.atom = %d %.300s", w.Code, w.Body.String())
	}
}

func TestTopicPageAndFeed(t *testing.T) {
	f := newDigestFixture(t)
	h := f.srv.Handler()
	body := get(t, h, "/topics/chips-hardware").Body.String()
	mustContain(t, "topic page", body, "<h1>Chips and hardware</h1>", "Nvidia unveils Rubin GPUs", `href="/topics/chips-hardware/feed.xml"`)
	if strings.Contains(body, "EU fines a lab") {
		t.Error("the chips page lists a policy story")
	}
	if w := get(t, h, "/topics/gossip"); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "models-research") {
		t.Errorf("GET /topics/gossip = %d %.200s, want 404 naming the topics", w.Code, w.Body.String())
	}
	feed := get(t, h, "/topics/policy-regulation/feed.xml")
	if feed.Code != http.StatusOK || !strings.Contains(feed.Body.String(), "<title>EU fines a lab under the AI Act</title>") ||
		strings.Contains(feed.Body.String(), "Nvidia") {
		t.Errorf("policy feed = %d %.400s", feed.Code, feed.Body.String())
	}
}
