package main

// The story page end to end: weeks of real AI news replayed from local feeds,
// several outlets per event, polled, clustered and analysed by Recap started
// through its command line; then the page of the best-covered story is read
// as HTML, its feed is read by Go and by real RSS readers.

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// e2eAnalysedWithin bounds the wait for the replay to be polled, clustered
// and analysed; it is no assertion on speed (the machine is shared).
const e2eAnalysedWithin = 180 * time.Second

func TestStoryPageEndToEnd(t *testing.T) {
	if testing.Short() && !e2eMandatory() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	feeds := e2eLoadReplay(t, time.Now())
	feedSrv := e2eFeedServer(t, feeds)
	recap := e2eStartRecap(t, feedSrv, feeds)
	chosen := e2eAwaitStory(t, recap, e2eAnalysedWithin)
	st := chosen.Story
	t.Logf("replayed %d items from %d feeds; %d stories (%d of two outlets or more), %d analyses; analysed %s after serve started",
		e2eItemCount(feeds), len(feeds), chosen.Stories, chosen.Covered, chosen.Analysed(recap), chosen.Waited.Round(100*time.Millisecond))
	t.Logf("chosen story %d %q: %d outlets, %d articles, timeline %d, related %d, takeaways %d, TL;DR %d",
		st.ID, st.Title, st.OutletCount, st.ArticleCount, len(st.Analysis.Timeline), len(st.Analysis.Related),
		len(st.Analysis.Takeaways), len(st.Analysis.TLDR))

	var srcs struct {
		Sources []struct {
			Title     string `json:"title"`
			LastItems int    `json:"last_items"`
			Articles  int    `json:"articles"`
		} `json:"sources"`
	}
	if err := recap.getJSON("/api/v1/sources", &srcs); err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs.Sources {
		t.Logf("source %s: %d items in its feed, %d articles first seen there", s.Title, s.LastItems, s.Articles)
	}

	e2eCheckAnalysisJSON(t, st)
	e2eCheckStoryPage(t, recap, st)
	feedURL := recap.Base + "/stories/" + strconv.FormatInt(st.ID, 10) + "/feed.xml"
	titles := e2eCheckStoryFeed(t, recap, st, feedURL)
	t.Run("readers", func(t *testing.T) { e2eCheckReaders(t, feedURL, titles) })

	recap.Stop(t)
}

// The API's story, as far as the tests read it.
type (
	e2eStoryJSON struct {
		ID           int64  `json:"id"`
		Title        string `json:"title"`
		FirstSeen    string `json:"first_seen"`
		Updated      string `json:"updated"`
		ArticleCount int    `json:"article_count"`
		OutletCount  int    `json:"outlet_count"`
		Page         string `json:"page"`
	}
	e2eStoryDetail struct {
		e2eStoryJSON
		Articles []int64      `json:"articles"`
		Outlets  []e2eOutlet  `json:"outlets"`
		Members  []e2eMember  `json:"members"`
		Analysis *e2eAnalysis `json:"analysis"`
	}
	e2eOutlet struct {
		Source    string `json:"source"`
		SourceID  int64  `json:"source_id"`
		FirstSeen string `json:"first_seen"`
	}
	e2eMember struct {
		ID      int64  `json:"id"`
		URL     string `json:"url"`
		Title   string `json:"title"`
		Summary string `json:"summary"`
		Source  string `json:"source"`
		Seen    []struct {
			Source string `json:"source"`
		} `json:"seen"`
	}
	e2eSentence struct {
		Text      string `json:"text"`
		ArticleID int64  `json:"article_id"`
		Source    string `json:"source"`
	}
	e2eEvent struct {
		StoryID int64  `json:"story_id"`
		Title   string `json:"title"`
		When    string `json:"when"`
		Month   string `json:"month"`
		Page    string `json:"page"`
	}
	e2eAnalysis struct {
		Version   int64    `json:"version"`
		Topics    []string `json:"topics"`
		Audiences []struct {
			Who    string `json:"who"`
			Reason string `json:"reason"`
		} `json:"audiences"`
		TLDR      []e2eSentence `json:"tldr"`
		Takeaways []e2eSentence `json:"takeaways"`
		WhyRanked []struct {
			Name string `json:"name"`
		} `json:"why_ranked"`
		Timeline    []e2eEvent      `json:"timeline"`
		Related     []e2eEvent      `json:"related"`
		AIGenerated json.RawMessage `json:"ai_generated"`
	}
)

// e2eChosen is the story the tests read and how the store stood then.
type e2eChosen struct {
	Story   e2eStoryDetail
	Stories int           // stories in the store
	Covered int           // stories of two outlets or more
	Waited  time.Duration // from serve's start until the story was chosen
}

// e2eStoriesLine is the story stage's log line after each run.
var e2eStoriesLine = regexp.MustCompile(`msg=stories placed=.* analysed=([0-9]+)`)

// Analysed counts the analyses the story stage reports in its log: stories
// analysed, once per version.
func (c e2eChosen) Analysed(r *e2eRecap) int {
	n := 0
	for _, m := range e2eStoriesLine.FindAllStringSubmatch(r.stderr.String(), -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
	}
	return n
}

// allStories reads every story of the API's list, a page at a time.
func (r *e2eRecap) allStories() ([]e2eStoryJSON, error) {
	var all []e2eStoryJSON
	next := ""
	for {
		var page struct {
			Stories []e2eStoryJSON `json:"stories"`
			Next    string         `json:"next"`
		}
		path := "/api/v1/stories?limit=200"
		if next != "" {
			path += "&before=" + url.QueryEscape(next)
		}
		if err := r.getJSON(path, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Stories...)
		if page.Next == "" {
			return all, nil
		}
		next = page.Next
	}
}

// e2eQualifies tells whether a story shows everything a story page is for:
// reports of several outlets, in more than one article, and every section.
func e2eQualifies(s e2eStoryDetail) bool {
	a := s.Analysis
	return s.OutletCount >= 2 && s.ArticleCount >= 2 && a != nil && len(a.Takeaways) > 0 && len(a.Audiences) > 0 &&
		len(a.Timeline) > 0 && len(a.Related) > 0
}

// e2eAwaitStory waits (bounded by limit) until every source was polled and
// the stories stopped changing, then chooses the story the tests read:
// among the stories that qualify (e2eQualifies), the newest; ties go to
// most outlets, then most articles, then the lowest id. The choice must come out
// the same in two rounds in a row, so the stage is done with it.
func e2eAwaitStory(t *testing.T, r *e2eRecap, limit time.Duration) e2eChosen {
	t.Helper()
	var prev string
	var chosen e2eChosen
	r.waitFor(t, "a story of several outlets, analysed, with takeaways, audiences, a timeline and related updates", limit, func() (bool, string) {
		var srcs struct {
			Sources []struct {
				Title     string `json:"title"`
				LastCheck string `json:"last_check"`
				LastError string `json:"last_error"`
			} `json:"sources"`
		}
		if err := r.getJSON("/api/v1/sources", &srcs); err != nil {
			return false, err.Error()
		}
		for _, s := range srcs.Sources {
			if s.LastCheck == "" || s.LastError != "" {
				return false, fmt.Sprintf("source %s: last check %q, error %q", s.Title, s.LastCheck, s.LastError)
			}
		}
		stories, err := r.allStories()
		if err != nil {
			return false, err.Error()
		}
		// The page a reader opens is a fresh story's: the newest story of
		// several outlets that qualifies (its timeline reaches back into the
		// lab feeds' years of history); ties go to most outlets, then most
		// articles, then the lowest id.
		var cands []e2eStoryJSON
		for _, s := range stories {
			if s.OutletCount >= 2 {
				cands = append(cands, s)
			}
		}
		slices.SortFunc(cands, func(a, b e2eStoryJSON) int {
			if c := strings.Compare(b.FirstSeen, a.FirstSeen); c != 0 { // RFC 3339 in UTC sorts as time
				return c
			}
			if a.OutletCount != b.OutletCount {
				return b.OutletCount - a.OutletCount
			}
			if a.ArticleCount != b.ArticleCount {
				return b.ArticleCount - a.ArticleCount
			}
			return int(a.ID - b.ID)
		})
		var snapshot strings.Builder
		for _, s := range stories {
			fmt.Fprintf(&snapshot, "%d:%d:%d:%s ", s.ID, s.ArticleCount, s.OutletCount, s.Updated)
		}
		var seen []string
		for _, c := range cands {
			var d e2eStoryDetail
			if err := r.getJSON("/api/v1/stories/"+strconv.FormatInt(c.ID, 10), &d); err != nil {
				return false, err.Error()
			}
			if d.Analysis == nil {
				prev = ""
				return false, fmt.Sprintf("story %d (%d outlets) not analysed yet", d.ID, d.OutletCount)
			}
			a := d.Analysis
			seen = append(seen, fmt.Sprintf("story %d %q: %d outlets, %d articles, %d takeaways, %d audiences, %d timeline, %d related",
				d.ID, d.Title, d.OutletCount, d.ArticleCount, len(a.Takeaways), len(a.Audiences), len(a.Timeline), len(a.Related)))
			if !e2eQualifies(d) {
				continue
			}
			fmt.Fprintf(&snapshot, "| chosen %d v%d %d %d %d", d.ID, a.Version, len(a.Takeaways), len(a.Timeline), len(a.Related))
			if snapshot.String() != prev {
				prev = snapshot.String()
				return false, fmt.Sprintf("%d stories; story %d qualifies: waiting a round to see the stories settled", len(stories), d.ID)
			}
			chosen = e2eChosen{Story: d, Stories: len(stories), Covered: len(cands), Waited: time.Since(r.Started)}
			return true, ""
		}
		// Every candidate is analysed and none qualifies: once the
		// stories stand still, waiting longer changes nothing.
		if snapshot.String() == prev {
			t.Fatalf("no story of %d (%d with two outlets or more) has takeaways, audiences, a timeline and related updates; the best covered:\n  %s",
				len(stories), len(cands), strings.Join(seen[:min(len(seen), 10)], "\n  "))
		}
		prev = snapshot.String()
		return false, fmt.Sprintf("%d stories, %d candidates, none qualifies yet", len(stories), len(cands))
	})
	return chosen
}

// e2eNorm collapses white space, as HTML and the readers show text.
func e2eNorm(s string) string { return strings.Join(strings.Fields(s), " ") }

// e2eCheckAnalysisJSON checks the API's analysis: every quoted sentence is
// a member's own words, attributed to that member's source.
func e2eCheckAnalysisJSON(t *testing.T, st e2eStoryDetail) {
	t.Helper()
	members := map[int64]e2eMember{}
	for _, m := range st.Members {
		members[m.ID] = m
	}
	for kind, list := range map[string][]e2eSentence{"tldr": st.Analysis.TLDR, "takeaways": st.Analysis.Takeaways} {
		for _, s := range list {
			m, ok := members[s.ArticleID]
			if !ok {
				t.Errorf("API %s %q: article %d is not a member of story %d", kind, s.Text, s.ArticleID, st.ID)
				continue
			}
			if !e2eQuotes(m, s.Text) {
				t.Errorf("API %s %q is not in the title or summary of article %d (%q)", kind, s.Text, m.ID, m.Title)
			}
			if s.Source != m.Source {
				t.Errorf("API %s %q: attributed to %q, article %d is %q's", kind, s.Text, s.Source, m.ID, m.Source)
			}
		}
	}
	if a := strings.TrimSpace(string(st.Analysis.AIGenerated)); a != "" && a != "null" {
		t.Errorf("API ai_generated is %s with no LLM configured, want null", a)
	}
}

// e2eQuotes tells whether text is the member's own words.
func e2eQuotes(m e2eMember, text string) bool {
	q := e2eNorm(text)
	return q != "" && (strings.Contains(e2eNorm(m.Title), q) || strings.Contains(e2eNorm(m.Summary), q))
}

// Reading HTML.

func e2eParseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

// e2eFindAll returns the elements under n (n included) that match.
func e2eFindAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	if n.Type == html.ElementNode && match(n) {
		out = append([]*html.Node{n}, out...)
	}
	return out
}

func e2eAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func e2eTag(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == tag }
}

func e2eClass(class string) func(*html.Node) bool {
	return func(n *html.Node) bool { return slices.Contains(strings.Fields(e2eAttr(n, "class")), class) }
}

// e2eText is the text of n, white space collapsed.
func e2eText(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return e2eNorm(b.String())
}

// e2eSection is the section labelled by the heading with id, or nil.
func e2eSection(doc *html.Node, headingID string) *html.Node {
	s := e2eFindAll(doc, func(n *html.Node) bool { return n.Data == "section" && e2eAttr(n, "aria-labelledby") == headingID })
	if len(s) == 0 {
		return nil
	}
	return s[0]
}

// e2eStoryIDOf reads the story id of a link to a story page.
func e2eStoryIDOf(href string) (int64, bool) {
	u, err := url.Parse(href)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(u.Path, "/stories/")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

var e2eMonth = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// e2eCheckStoryPage reads the story's page as HTML: every section the
// analysis gives it, each sentence quoted with its source, the timeline in
// order and into the past, the rights line, the story's feed.
func e2eCheckStoryPage(t *testing.T, r *e2eRecap, st e2eStoryDetail) {
	t.Helper()
	path := "/stories/" + strconv.FormatInt(st.ID, 10)
	code, body := r.get(path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", path, code, body)
	}
	doc := e2eParseHTML(t, body)
	section := func(id, heading string) *html.Node {
		t.Helper()
		s := e2eSection(doc, id)
		if s == nil {
			t.Errorf("%s: no %q section (aria-labelledby=%s)", path, heading, id)
			return nil
		}
		h := e2eFindAll(s, func(n *html.Node) bool { return e2eAttr(n, "id") == id })
		if len(h) == 0 || e2eText(h[0]) != heading {
			t.Errorf("%s: section %s has no heading %q", path, id, heading)
		}
		return s
	}
	if h1 := e2eFindAll(doc, e2eTag("h1")); len(h1) != 1 || e2eText(h1[0]) != e2eNorm(st.Title) {
		t.Errorf("%s: want one h1 %q", path, st.Title)
	}

	members := map[string][]e2eMember{} // by URL
	for _, m := range st.Members {
		members[m.URL] = append(members[m.URL], m)
	}

	// Full coverage: every outlet, and under it a link to each member it carried.
	if cov := section("coverage-h", "Full coverage"); cov != nil {
		carried := map[string]map[string]bool{} // outlet name -> member links
		for _, li := range e2eFindAll(cov, e2eTag("li")) {
			h := e2eFindAll(li, e2eClass("outlet"))
			if len(h) == 0 {
				continue
			}
			links := map[string]bool{}
			for _, a := range e2eFindAll(li, e2eTag("a")) {
				links[e2eAttr(a, "href")] = true
			}
			carried[e2eText(h[0])] = links
		}
		for _, o := range st.Outlets {
			if carried[e2eNorm(o.Source)] == nil {
				t.Errorf("%s: full coverage does not list outlet %q (lists %d outlets)", path, o.Source, len(carried))
			}
		}
		if len(carried) != len(st.Outlets) {
			t.Errorf("%s: full coverage lists %d outlets, the API %d", path, len(carried), len(st.Outlets))
		}
		for _, m := range st.Members {
			sources := []string{m.Source}
			for _, s := range m.Seen {
				sources = append(sources, s.Source)
			}
			for _, s := range sources {
				if !carried[e2eNorm(s)][m.URL] {
					t.Errorf("%s: full coverage has no link to member %d (%s) under %q", path, m.ID, m.URL, s)
				}
			}
		}
	}

	// Quoted sentences: an outlet's own words, linked to the article they are from.
	said := func(where string, text string, n *html.Node) {
		t.Helper()
		spans := e2eFindAll(n, e2eClass("said"))
		if len(spans) == 0 {
			t.Errorf("%s: %s %q is not attributed", path, where, text)
			return
		}
		// "— Outlet", linked to the article when it is a web link.
		outlet, href := strings.TrimSpace(strings.TrimPrefix(e2eText(spans[0]), "—")), ""
		if as := e2eFindAll(spans[0], e2eTag("a")); len(as) > 0 {
			href = e2eAttr(as[0], "href")
		}
		var quoted []string
		for _, m := range st.Members {
			if !e2eQuotes(m, text) {
				continue
			}
			if href == m.URL && outlet == e2eNorm(m.Source) {
				return
			}
			quoted = append(quoted, fmt.Sprintf("%d %s (%s)", m.ID, m.Source, m.URL))
		}
		if len(quoted) == 0 {
			t.Errorf("%s: %s %q is in no member's title or summary", path, where, text)
			return
		}
		t.Errorf("%s: %s %q is attributed to %q (%s), but it is the words of %v", path, where, text, outlet, href, quoted)
	}
	if s := section("tldr-h", "TL;DR"); s != nil {
		quotes := e2eFindAll(s, e2eTag("blockquote"))
		if len(quotes) == 0 {
			t.Errorf("%s: the TL;DR quotes nothing", path)
		}
		for _, q := range quotes {
			p := e2eFindAll(q, e2eTag("p"))
			if len(p) == 0 {
				t.Errorf("%s: a TL;DR quote has no text", path)
				continue
			}
			said("TL;DR", e2eText(p[0]), q)
		}
	}
	if s := section("takeaways-h", "Key takeaways"); s != nil {
		items := e2eFindAll(s, e2eTag("li"))
		if len(items) == 0 {
			t.Errorf("%s: no key takeaway", path)
		}
		for _, li := range items {
			q := e2eFindAll(li, e2eTag("q"))
			if len(q) == 0 {
				t.Errorf("%s: a takeaway quotes nothing: %q", path, e2eText(li))
				continue
			}
			said("takeaway", e2eText(q[0]), li)
		}
	}
	if s := section("audience-h", "Who should care"); s != nil && len(e2eFindAll(s, e2eTag("li"))) == 0 {
		t.Errorf("%s: \"Who should care\" names nobody", path)
	}

	// Timeline: months in order, each an earlier story.
	first, err := time.Parse(time.RFC3339, st.FirstSeen)
	if err != nil {
		t.Fatalf("story %d first_seen %q: %v", st.ID, st.FirstSeen, err)
	}
	if s := section("timeline-h", "Timeline"); s != nil {
		events := e2eFindAll(s, e2eTag("li"))
		if len(events) == 0 {
			t.Errorf("%s: the timeline is empty", path)
		}
		last := ""
		for _, li := range events {
			tm, as := e2eFindAll(li, e2eTag("time")), e2eFindAll(li, e2eTag("a"))
			if len(tm) == 0 || len(as) == 0 {
				t.Errorf("%s: timeline entry %q has no month or no link", path, e2eText(li))
				continue
			}
			month := e2eText(tm[0])
			if !e2eMonth.MatchString(month) {
				t.Errorf("%s: timeline month %q is not YYYY-MM", path, month)
			}
			if month < last {
				t.Errorf("%s: timeline month %s after %s: not in ascending order", path, month, last)
			}
			last = month
			id, ok := e2eStoryIDOf(e2eAttr(as[0], "href"))
			if !ok {
				t.Errorf("%s: timeline entry %s links %q, not a story", path, month, e2eAttr(as[0], "href"))
				continue
			}
			var ev e2eStoryDetail
			if err := r.getJSON("/api/v1/stories/"+strconv.FormatInt(id, 10), &ev); err != nil {
				t.Errorf("%s: timeline entry %s: %v", path, month, err)
				continue
			}
			when, err := time.Parse(time.RFC3339, ev.FirstSeen)
			if err != nil || !when.Before(first) {
				t.Errorf("%s: timeline entry %s links story %d first seen %s, not before the story's %s", path, month, id, ev.FirstSeen, st.FirstSeen)
			}
		}
	}
	if s := section("related-h", "Related updates"); s != nil {
		links := e2eFindAll(s, e2eTag("a"))
		if len(links) == 0 {
			t.Errorf("%s: no related update", path)
		}
		for _, a := range links {
			if id, ok := e2eStoryIDOf(e2eAttr(a, "href")); !ok || id == st.ID {
				t.Errorf("%s: related update links %q: want another story", path, e2eAttr(a, "href"))
			}
		}
	}
	if s := section("ranked-h", "Why ranked"); s != nil && len(e2eFindAll(s, e2eTag("li"))) == 0 {
		t.Errorf("%s: \"Why ranked\" gives no reason", path)
	}
	if s := section("original-h", "Original source"); s != nil {
		rights := e2eFindAll(s, e2eClass("rights"))
		if len(rights) == 0 || !strings.Contains(e2eText(rights[0]), "All content rights belong to original publishers.") {
			t.Errorf("%s: no rights line", path)
		}
	}
	if e2eSection(doc, "insight-h") != nil || strings.Contains(e2eText(doc), "AI-generated analysis") {
		t.Errorf("%s: shows an AI-generated analysis with no LLM configured", path)
	}
	follow := e2eFindAll(doc, e2eClass("follow"))
	wantFeed := r.Base + path + "/feed.xml"
	found := false
	for _, p := range follow {
		for _, a := range e2eFindAll(p, e2eTag("a")) {
			if u, err := url.Parse(r.Base + "/"); err == nil {
				if ref, err := u.Parse(e2eAttr(a, "href")); err == nil && ref.String() == wantFeed {
					found = true
				}
			}
		}
	}
	if !found {
		t.Errorf("%s: no link to follow the story at %s", path, wantFeed)
	}
}

// e2eRSSDoc is what the tests read of an RSS feed.
type e2eRSSDoc struct {
	XMLName xml.Name `xml:"rss"`
	Channel struct {
		Title string `xml:"title"`
		Items []struct {
			Title string `xml:"title"`
			Link  string `xml:"link"`
			GUID  string `xml:"guid"`
		} `xml:"item"`
	} `xml:"channel"`
}

// e2eCheckStoryFeed reads the story's feed: RSS with every member and every
// event of the timeline. It returns the items' titles.
func e2eCheckStoryFeed(t *testing.T, r *e2eRecap, st e2eStoryDetail, feedURL string) []string {
	t.Helper()
	resp, err := r.client.Get(feedURL)
	if err != nil {
		t.Fatalf("GET %s: %v", feedURL, err)
	}
	var doc e2eRSSDoc
	err = xml.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/rss+xml") || err != nil {
		t.Fatalf("GET %s: %d %q, decode: %v", feedURL, resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	guids, links := map[string]string{}, map[string]string{}
	var titles []string
	for _, it := range doc.Channel.Items {
		guids[it.GUID] = it.Title
		links[it.Link] = it.Title
		titles = append(titles, it.Title)
	}
	for _, m := range st.Members {
		id := r.Base + "/articles/" + strconv.FormatInt(m.ID, 10)
		title, ok := guids[id]
		if !ok {
			t.Errorf("story feed: no item for member %d (%s)", m.ID, id)
		} else if e2eNorm(title) != e2eNorm(m.Title) {
			t.Errorf("story feed: member %d titled %q, want %q", m.ID, title, m.Title)
		}
	}
	for _, ev := range st.Analysis.Timeline {
		title, ok := links[r.Base+ev.Page]
		if !ok {
			t.Errorf("story feed: no item for the timeline's %s story %d", ev.Month, ev.StoryID)
		} else if !strings.Contains(title, ev.Month) {
			t.Errorf("story feed: timeline item %q does not say its month %s", title, ev.Month)
		}
	}
	if want := len(st.Members) + len(st.Analysis.Timeline); len(doc.Channel.Items) != want {
		t.Errorf("story feed: %d items, want %d members and %d events", len(doc.Channel.Items), len(st.Members), len(st.Analysis.Timeline))
	}
	return titles
}

// e2eReaders are the real readers check-feeds.sh runs.
var e2eReaders = []string{"newsboat", "feedparser", "rss-parser", "feed-extractor"}

// e2eJSONFeedReaders are those of e2eReaders that read a JSON Feed:
// newsboat, feedparser 6.0 and rss-parser read XML only.
var e2eJSONFeedReaders = []string{"feed-extractor"}

// e2eCheckReaders hands an RSS or Atom feed to every real reader of
// e2eReaders (see e2eCheckReadersOf).
func e2eCheckReaders(t *testing.T, feedURL string, titles []string) {
	t.Helper()
	e2eCheckReadersOf(t, feedURL, titles, e2eReaders)
}

// e2eCheckReadersOf hands the feed to real readers with
// ../shared/tools/feed-readers/check-feeds.sh and checks that each reader
// of readers parsed every item with its title. With every reader named,
// the script must also report no failure and xmllint a well-formed feed;
// with some (a JSON Feed, which the others cannot read), the failures of
// the others are theirs. The script's Node readers run from a copy of it
// beside e2e/node's modules, which `npm ci` installs (../shared is
// read-only in CI).
func e2eCheckReadersOf(t *testing.T, feedURL string, titles []string, readers []string) {
	t.Helper()
	tool, err := filepath.Abs(filepath.Join("..", "shared", "tools", "feed-readers"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(tool, "check-feeds.sh"))
	e2eNeed(t, err == nil, "no feed-reader checker: %v", err)
	for _, prog := range []string{"newsboat", "sqlite3", "xmllint", "curl", "node", "bash", "timeout"} {
		_, err := exec.LookPath(prog)
		e2eNeed(t, err == nil, "no %s for the feed readers: %v", prog, err)
	}
	err = exec.Command("/usr/bin/python3", "-c", "import feedparser").Run()
	e2eNeed(t, err == nil, "no python3-feedparser: %v", err)
	modules, err := filepath.Abs(filepath.Join("e2e", "node", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"rss-parser", "@extractus/feed-extractor"} {
		_, err := os.Stat(filepath.Join(modules, m))
		e2eNeed(t, err == nil, "no %s (run npm ci in e2e/node): %v", m, err)
	}

	dir := t.TempDir()
	for _, f := range []string{"check-feeds.sh", "fp_check.py", "node/check.mjs", "node/package.json"} {
		e2eCopyFile(t, filepath.Join(tool, f), filepath.Join(dir, f))
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node", "node_modules")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, "check-feeds.sh"), feedURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	report := out.String()
	// The script exits with its count of failures: with some readers only,
	// the others' failures are expected, but not a script that did not run
	// to its end.
	var exit *exec.ExitError
	if runErr != nil && (len(readers) == len(e2eReaders) || !errors.As(runErr, &exit) || ctx.Err() != nil) {
		t.Errorf("check-feeds.sh %s: %v", feedURL, runErr)
	}
	defer func() {
		if t.Failed() {
			t.Logf("check-feeds.sh said:\n%.20000s", report)
		}
	}()

	want := make([]string, len(titles))
	for i, s := range titles {
		want[i] = e2eNorm(s)
	}
	got := e2eReaderTitles(report, feedURL)
	for _, reader := range readers {
		r, ok := got[reader]
		if !ok {
			t.Errorf("%s: no result in the checker's report", reader)
			continue
		}
		if r.count != len(want) {
			t.Errorf("%s read %d items, want %d", reader, r.count, len(want))
		}
		for _, w := range want {
			if !r.has(w) {
				t.Errorf("%s did not read the title %q", reader, w)
			}
		}
		t.Logf("%s read %d items of %s", reader, r.count, feedURL)
	}
	if len(readers) < len(e2eReaders) {
		return
	}
	if !strings.Contains(report, "  well-formed") {
		t.Error("xmllint did not find the feed well-formed")
	}
	if !strings.Contains(report, "FAILURES: 0") {
		t.Error("check-feeds.sh reports failures")
	}
}

// e2eReaderResult is what one reader parsed of the feed.
type e2eReaderResult struct {
	count  int
	titles []string // each white space collapsed
	joined string   // newsboat gives the titles joined by " | "
}

func (r e2eReaderResult) has(title string) bool {
	if r.joined != "" {
		return strings.Contains(r.joined, title)
	}
	return slices.Contains(r.titles, title)
}

var e2eEntriesLine = regexp.MustCompile(`^  feed\.title=.* entries=([0-9]+)$`)

// e2eReaderTitles reads check-feeds.sh's report (see the script): for
// newsboat its cache's "url|count|title | title", for feedparser a line per
// entry with the title as Python writes a string, for the Node readers
// "items=N" and the titles as JSON.
func e2eReaderTitles(report, feedURL string) map[string]e2eReaderResult {
	out := map[string]e2eReaderResult{}
	section := ""
	var fp e2eReaderResult
	for _, line := range strings.Split(report, "\n") {
		switch {
		case strings.HasPrefix(line, "== "):
			section = line
			continue
		case strings.HasPrefix(section, "== newsboat"):
			if rest, ok := strings.CutPrefix(line, feedURL+"|"); ok {
				n, titles, _ := strings.Cut(rest, "|")
				count, _ := strconv.Atoi(n)
				out["newsboat"] = e2eReaderResult{count: count, joined: e2eNorm(titles)}
			}
		case strings.HasPrefix(section, "== python3-feedparser"):
			if m := e2eEntriesLine.FindStringSubmatch(line); m != nil {
				fp.count, _ = strconv.Atoi(m[1])
				out["feedparser"] = fp
			} else if rest, ok := strings.CutPrefix(line, "   - "); ok {
				if title, ok := e2ePyString(rest); ok {
					fp.titles = append(fp.titles, e2eNorm(title))
					out["feedparser"] = fp
				}
			}
		case strings.HasPrefix(section, "== node"):
			for _, reader := range []string{"rss-parser", "feed-extractor"} {
				rest, ok := strings.CutPrefix(line, reader+" ")
				if !ok {
					continue
				}
				rest = strings.TrimLeft(rest, " ")
				if !strings.HasPrefix(rest, feedURL+" ") {
					continue
				}
				if r, ok := e2eNodeItems(rest); ok {
					out[reader] = r
				}
			}
		}
	}
	return out
}

// e2eNodeItems reads "... items=N [titles as JSON]", the end of a line of
// the Node readers' report.
func e2eNodeItems(s string) (e2eReaderResult, bool) {
	for i := strings.Index(s, " items="); i >= 0; {
		rest := s[i+len(" items="):]
		n, list, ok := strings.Cut(rest, " ")
		count, err := strconv.Atoi(n)
		var titles []string
		if ok && err == nil && json.Unmarshal([]byte(list), &titles) == nil {
			r := e2eReaderResult{count: count}
			for _, s := range titles {
				r.titles = append(r.titles, e2eNorm(s))
			}
			return r, true
		}
		j := strings.Index(rest, " items=")
		if j < 0 {
			break
		}
		i += len(" items=") + j
	}
	return e2eReaderResult{}, false
}

// e2ePyString decodes the Python string literal (repr) at the start of s.
func e2ePyString(s string) (string, bool) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", false
	}
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote:
			return b.String(), true
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'x', 'u', 'U':
			size := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if i+size >= len(s) {
				return "", false
			}
			r, err := strconv.ParseUint(s[i+1:i+1+size], 16, 32)
			if err != nil {
				return "", false
			}
			b.WriteRune(rune(r))
			i += size
		default: // \\, \' and \"
			b.WriteByte(e)
		}
	}
	return "", false
}

func TestReaderReportParsing(t *testing.T) {
	const feed = "http://127.0.0.1:1/stories/7/feed.xml"
	report := strings.Join([]string{
		"== newsboat",
		feed + `|2|It's "quoted" | Q&A: x < y — 日本語`,
		"== python3-feedparser (bozo=1 means not well-formed)",
		feed + " status=200 version='rss20' bozo=0 ",
		"  feed.title='Recap story: T' entries=2",
		`   - 'It\'s "quoted"' link='http://a/1' id='http://a/1' published=2026-04-30`,
		`   - 'Q&A: x < y — 日本語\tend' link='http://a/2' id='http://a/2' published=2026-04-30`,
		"== node: rss-parser + @extractus/feed-extractor",
		`rss-parser      ` + feed + ` title="Recap story: a title with items=9 [\"x\"] in it" items=2 ["It's \"quoted\"","Q&A: x < y — 日本語"]`,
		`feed-extractor  ` + feed + ` ERROR fetch failed`,
		"== xmllint: " + feed + " (Content-Type: application/rss+xml)",
		"  well-formed",
		"FAILURES: 1",
	}, "\n")
	got := e2eReaderTitles(report, feed)
	for _, c := range []struct {
		reader string
		count  int
		has    []string
	}{
		{"newsboat", 2, []string{`It's "quoted"`, "Q&A: x < y — 日本語"}},
		{"feedparser", 2, []string{`It's "quoted"`, "Q&A: x < y — 日本語 end"}},
		{"rss-parser", 2, []string{`It's "quoted"`, "Q&A: x < y — 日本語"}},
	} {
		r, ok := got[c.reader]
		if !ok {
			t.Errorf("%s: no result parsed", c.reader)
			continue
		}
		if r.count != c.count {
			t.Errorf("%s: count %d, want %d", c.reader, r.count, c.count)
		}
		for _, h := range c.has {
			if !r.has(h) {
				t.Errorf("%s: title %q not found in %+v", c.reader, h, r)
			}
		}
		if r.has("a title that is not there") {
			t.Errorf("%s: finds a title it did not read", c.reader)
		}
	}
	if _, ok := got["feed-extractor"]; ok {
		t.Error("feed-extractor: a failed read gave a result")
	}
}

func TestPythonStringLiterals(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{`'plain' link=`, "plain", true},
		{`"It's" link=`, "It's", true},
		{`'It\'s \\ "q"'`, `It's \ "q"`, true},
		{`'tab\there\x7f\u2028'`, "tab\there\x7f\u2028", true},
		{`'unterminated`, "", false},
		{`None link=`, "", false},
	} {
		got, ok := e2ePyString(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("e2ePyString(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
