package main

// The weekly digest end to end: the replay of real AI news, Recap serving
// with its weeks in a time zone that is not UTC, and a closed week's digest
// checked against the stories the API shows, chosen again here by the
// digest's rules; then the command's Markdown and JSON, the archive, the
// digest feeds in Go and in real readers, and a topic page with its feed.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"recap/digest"
	"recap/news"
)

// e2eDigestZone is the digest's time zone in the end-to-end test: not UTC,
// so a week starts at 05:00 or 04:00 UTC and a story near midnight falls in
// another week than in UTC.
const e2eDigestZone = "America/New_York"

// e2eDigestAnchorTitle is the real event the chosen week holds: Anthropic's
// statement of 2026-02-26 on the Department of War, which Hacker News
// followed the same week.
const e2eDigestAnchorTitle = "Statement from Dario Amodei on our discussions with the Department of War"

func TestDigestEndToEnd(t *testing.T) {
	if testing.Short() && !e2eMandatory() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	loc, err := time.LoadLocation(e2eDigestZone)
	if err != nil {
		t.Fatal(err)
	}
	feeds := e2eLoadReplay(t, time.Now())
	anchor, why := e2eDigestWeek(feeds, loc, time.Now())
	t.Logf("anchor week %s (%s, in %s): %s", anchor, weekSpan(anchor, loc), e2eDigestZone, why)

	feedSrv := e2eFeedServer(t, feeds)
	recap := e2eStartRecapEnv(t, feedSrv, feeds, map[string]string{"RECAP_TIMEZONE": e2eDigestZone})
	e2eAwaitStory(t, recap, e2eAnalysedWithin)
	// The anchor week holds few stories of two outlets (the replay's last
	// weeks are mostly Hacker News alone); the busiest closed week puts the
	// rules to work: order, groups, the cap per lead source.
	list, err := recap.allStories()
	if err != nil {
		t.Fatal(err)
	}
	busiest, n := e2eBusiestWeek(list, loc, time.Now())
	t.Logf("busiest closed week %s (%s): %d stories of two outlets or more active in it", busiest, weekSpan(busiest, loc), n)

	var anchorPage e2eDigestPageView
	var busiestWant []e2eExpected
	for _, w := range []digest.Week{anchor, busiest} {
		page, want := e2eCheckDigestWeek(t, recap, w, loc)
		if w == busiest && len(want) == 0 {
			t.Fatalf("the busiest week %s has no story for the digest: the rules were not put to work", w)
		}
		if w == anchor {
			anchorPage = page
		}
		if w == busiest {
			busiestWant = want
		}
	}

	e2eCheckDigestNavigation(t, recap, anchor, loc, anchorPage)
	archive := e2eCheckDigestArchive(t, recap, anchor, loc, anchorPage)
	e2eCheckDigestFeeds(t, recap, anchor, loc, anchorPage, archive)
	e2eCheckTopic(t, recap, busiestWant)

	recap.Stop(t)
}

// e2eCheckDigestWeek checks the digest of closed week w: the page against
// the rules applied here to the API's stories, the command's Markdown and
// JSON against the page. It returns the page and the rules' choice.
func e2eCheckDigestWeek(t *testing.T, recap *e2eRecap, w digest.Week, loc *time.Location) (e2eDigestPageView, []e2eExpected) {
	t.Helper()
	// The week and the one before it (for the repeat rule) must be analysed
	// through, not only the story the story test reads.
	stories := e2eAwaitWeeksAnalysed(t, recap, w.Prev().Start(loc), w.End(loc), e2eAnalysedWithin)
	opts := digest.DefaultOptions()
	prev := map[int64]bool{}
	prevWant, _ := e2eExpectDigest(stories, w.Prev(), loc, nil, opts)
	for _, e := range prevWant {
		prev[e.ID] = true
	}
	want, dropped := e2eExpectDigest(stories, w, loc, prev, opts)
	if len(want) == 0 {
		// A quiet week is checked too: an empty page, Markdown and JSON.
		t.Logf("week %s: no story qualifies for the digest among the %d active in it and the week before", w, len(stories))
	}

	// The page: the same stories, each group in the order of the rules.
	page := e2eReadDigestPage(t, recap, "/digest/"+w.String())
	e2eCheckDigestPage(t, page, w, want)

	// The command, while serve runs, on the same store and zone.
	md := e2eRunRecap(t, "--db", recap.DB, "--timezone", e2eDigestZone, "--base-url", recap.Base,
		"digest", "--week", w.String(), "--format", "md")
	e2eCheckDigestMarkdown(t, md, recap.Base, page)
	jsonOut := e2eRunRecap(t, "--db", recap.DB, "--timezone", e2eDigestZone, "--base-url", recap.Base,
		"digest", "--week", w.String(), "--format", "json")
	e2eCheckDigestJSON(t, jsonOut, w, loc, want, page)
	t.Logf("digest %s: %q; %d stories chosen in %d groups (%d updates); the rules left out %d under the minimum score, %d over a lead source's cap, %d repeats that did not grow, %d over the limit",
		w, page.Header, len(page.ids()), len(page.Groups), page.updates(), dropped.lowScore, dropped.capped, dropped.repeats, dropped.overLimit)
	return page, want
}

// e2eBusiestWeek is the closed week (before the current one in loc) in
// which most stories of two outlets or more were active; ties go to the
// newest. It returns the week and that count.
func e2eBusiestWeek(list []e2eStoryJSON, loc *time.Location, now time.Time) (digest.Week, int) {
	current := digest.WeekOf(now, loc)
	count := map[digest.Week]int{}
	for _, s := range list {
		if s.OutletCount < 2 {
			continue
		}
		// A story spans a day at most: the weeks of its first and last
		// article are the weeks it was active in.
		first := digest.WeekOf(e2eAPITime(s.FirstSeen), loc)
		last := digest.WeekOf(e2eAPITime(s.Updated), loc)
		count[first]++
		if last != first {
			count[last]++
		}
	}
	best, n := current.Prev(), 0
	for w, c := range count {
		if w.Before(current) && (c > n || (c == n && best.Before(w))) {
			best, n = w, c
		}
	}
	return best, n
}

// weekSpan is a week's bounds in loc, for the log.
func weekSpan(w digest.Week, loc *time.Location) string {
	return w.Start(loc).Format(time.RFC3339) + " to " + w.End(loc).Format(time.RFC3339)
}

// e2eDigestWeek chooses the closed week the test reads: the week, in loc,
// of the replayed (shifted) date of the anchor event; the last closed week
// when the anchor is missing or falls in the current week.
func e2eDigestWeek(feeds []e2eFeed, loc *time.Location, now time.Time) (digest.Week, string) {
	current := digest.WeekOf(now, loc)
	var first time.Time
	var from string
	for _, f := range feeds {
		for _, it := range f.Items {
			if e2eNorm(it.Title) == e2eDigestAnchorTitle && (first.IsZero() || it.Published.Before(first)) {
				first, from = it.Published, f.Title
			}
		}
	}
	if first.IsZero() {
		return current.Prev(), "the last closed week (no item titled " + strconv.Quote(e2eDigestAnchorTitle) + " in the replay)"
	}
	w := digest.WeekOf(first, loc)
	if !w.Before(current) {
		return current.Prev(), fmt.Sprintf("the last closed week (%s's %q, replayed at %s, is in the current week)", from, e2eDigestAnchorTitle, first.Format(time.RFC3339))
	}
	return w, fmt.Sprintf("the week of %s's %q, real date 2026-02-26, replayed at %s", from, e2eDigestAnchorTitle, first.In(loc).Format(time.RFC3339))
}

// e2eDigestStory is a story as the API details it, what the rules read.
type e2eDigestStory struct {
	ID        int64  `json:"id"`
	Title     string `json:"title"`
	FirstSeen string `json:"first_seen"`
	Updated   string `json:"updated"`
	Count     int    `json:"article_count"`
	Lead      struct {
		SourceID int64 `json:"source_id"`
	} `json:"lead"`
	Outlets []struct {
		Source    string `json:"source"`
		FirstSeen string `json:"first_seen"`
	} `json:"outlets"`
	Members []struct {
		ID        int64  `json:"id"`
		Published string `json:"published"`
	} `json:"members"`
	Analysis *struct {
		Version   int64    `json:"version"`
		Topics    []string `json:"topics"`
		BaseScore float64  `json:"base_score"`
	} `json:"analysis"`
}

// e2eAPITime reads the API's RFC 3339 times; "" is the zero time. The API
// writes whole seconds, and week bounds are whole seconds, so comparisons
// with them come out as the store's (milliseconds) do.
func e2eAPITime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// e2eActiveIn tells whether a story was active in [start, end): first seen
// before the end, updated at or after the start, as the digest reads a week.
func e2eActiveIn(firstSeen, updated string, start, end time.Time) bool {
	return e2eAPITime(firstSeen).Before(end) && !e2eAPITime(updated).Before(start)
}

// e2eAwaitWeeksAnalysed waits (bounded) until every story of two outlets or
// more active in [from, to) is analysed and the API's answers stay the same
// two rounds in a row; it returns those stories' details.
func e2eAwaitWeeksAnalysed(t *testing.T, r *e2eRecap, from, to time.Time, limit time.Duration) []e2eDigestStory {
	t.Helper()
	var prev string
	var out []e2eDigestStory
	r.waitFor(t, "every story of two outlets or more in the weeks read analysed", limit, func() (bool, string) {
		list, err := r.allStories()
		if err != nil {
			return false, err.Error()
		}
		var snapshot strings.Builder
		var details []e2eDigestStory
		for _, s := range list {
			if s.OutletCount < 2 || !e2eActiveIn(s.FirstSeen, s.Updated, from, to) {
				continue
			}
			var d e2eDigestStory
			if err := r.getJSON("/api/v1/stories/"+strconv.FormatInt(s.ID, 10), &d); err != nil {
				return false, err.Error()
			}
			if d.Analysis == nil {
				prev = ""
				return false, fmt.Sprintf("story %d (%d outlets) not analysed yet", d.ID, s.OutletCount)
			}
			fmt.Fprintf(&snapshot, "%d:%d:%d:%s:%d ", d.ID, d.Count, len(d.Outlets), d.Updated, d.Analysis.Version)
			details = append(details, d)
		}
		if snapshot.String() != prev {
			prev = snapshot.String()
			return false, fmt.Sprintf("%d stories active, %d of two outlets or more: waiting a round to see them settled", len(list), len(details))
		}
		out = details
		return true, ""
	})
	return out
}

// e2eExpected is a story the digest must list.
type e2eExpected struct {
	ID     int64
	Title  string
	Topic  string // the group: its first topic, "" for none
	Score  float64
	Update bool
}

// e2eExpectDigest applies the digest's rules, as its documentation states
// them, to the API's stories: active in the week (in loc), two independent
// outlets (outlets of one name count once), a base score of opts.MinScore,
// best score first (ties: more outlets, earlier first seen, lower id), a
// story of last week's digest (prev) only when it grew (two new outlets, or
// as many new articles as it had and two at least), opts.MaxPerSource
// stories per lead source, opts.Limit stories.
func e2eExpectDigest(stories []e2eDigestStory, w digest.Week, loc *time.Location, prev map[int64]bool, opts digest.Options) ([]e2eExpected, e2eDropped) {
	var dropped e2eDropped
	start, end := w.Start(loc), w.End(loc)
	type cand struct {
		e2eExpected
		outlets, lead int64
		first         time.Time
		grew          bool
	}
	var cands []cand
	for _, s := range stories {
		if s.Analysis == nil || !e2eActiveIn(s.FirstSeen, s.Updated, start, end) {
			continue
		}
		outlets := slices.Clone(s.Outlets)
		slices.SortStableFunc(outlets, func(a, b struct {
			Source    string `json:"source"`
			FirstSeen string `json:"first_seen"`
		}) int {
			return e2eAPITime(a.FirstSeen).Compare(e2eAPITime(b.FirstSeen))
		})
		named := map[string]bool{}
		var n, newOutlets, before, newArticles int
		for _, o := range outlets {
			if o.Source != "" && named[o.Source] {
				continue
			}
			named[o.Source] = true
			n++
			if seen := e2eAPITime(o.FirstSeen); !seen.Before(start) && seen.Before(end) {
				newOutlets++
			}
		}
		for _, m := range s.Members {
			switch p := e2eAPITime(m.Published); {
			case p.Before(start):
				before++
			case p.Before(end):
				newArticles++
			}
		}
		if n < opts.MinOutlets {
			continue
		}
		if s.Analysis.BaseScore < opts.MinScore {
			dropped.lowScore++
			continue
		}
		c := cand{outlets: int64(n), lead: s.Lead.SourceID, first: e2eAPITime(s.FirstSeen),
			grew: newOutlets >= 2 || newArticles >= max(2, before)}
		c.ID, c.Title, c.Score = s.ID, s.Title, s.Analysis.BaseScore
		if len(s.Analysis.Topics) > 0 {
			c.Topic = s.Analysis.Topics[0]
		}
		cands = append(cands, c)
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.outlets, a.outlets); c != 0 {
			return c
		}
		if c := a.first.Compare(b.first); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	var out []e2eExpected
	perSource := map[int64]int{}
	for i, c := range cands {
		if len(out) == opts.Limit {
			dropped.overLimit = len(cands) - i
			break
		}
		// The repeat rule: last week's story that did not grow is left out,
		// and takes no place of its lead source's.
		if prev[c.ID] {
			if !c.grew {
				dropped.repeats++
				continue
			}
			c.Update = true
		}
		if c.lead != 0 {
			if perSource[c.lead] == opts.MaxPerSource {
				dropped.capped++
				continue
			}
			perSource[c.lead]++
		}
		out = append(out, c.e2eExpected)
	}
	return out, dropped
}

// e2eDropped counts the stories of two outlets or more that each rule left
// out of a digest (over the limit: every candidate left when it was full).
type e2eDropped struct{ lowScore, capped, repeats, overLimit int }

// e2eDigestItem is a story of the digest page.
type e2eDigestItem struct {
	ID     int64
	Title  string
	Update bool
}

// e2eDigestGroup is a topic of the digest page.
type e2eDigestGroup struct {
	Name, Href string
	Items      []e2eDigestItem
}

// e2eDigestPageView is what the test reads of a digest page.
type e2eDigestPageView struct {
	H1, Meta, Header string
	Groups           []e2eDigestGroup
	Prev, Next       string
}

func (p e2eDigestPageView) ids() []int64 {
	var ids []int64
	for _, g := range p.Groups {
		for _, it := range g.Items {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

func (p e2eDigestPageView) titles() []string {
	var ts []string
	for _, g := range p.Groups {
		for _, it := range g.Items {
			ts = append(ts, it.Title)
		}
	}
	return ts
}

func (p e2eDigestPageView) updates() int {
	n := 0
	for _, g := range p.Groups {
		for _, it := range g.Items {
			if it.Update {
				n++
			}
		}
	}
	return n
}

// e2eReadDigestPage reads a digest page (200 or the test fails).
func e2eReadDigestPage(t *testing.T, r *e2eRecap, path string) e2eDigestPageView {
	t.Helper()
	code, body := r.get(path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", path, code, body)
	}
	return e2eParseDigestPage(t, path, body)
}

func e2eParseDigestPage(t *testing.T, path, body string) e2eDigestPageView {
	t.Helper()
	doc := e2eParseHTML(t, body)
	var v e2eDigestPageView
	main := e2eFindAll(doc, e2eTag("main"))
	if len(main) != 1 {
		t.Fatalf("%s: %d <main> elements", path, len(main))
	}
	if h1 := e2eFindAll(main[0], e2eTag("h1")); len(h1) == 1 {
		v.H1 = e2eText(h1[0])
	} else {
		t.Errorf("%s: %d h1, want one", path, len(h1))
	}
	art := e2eFindAll(main[0], e2eClass("digest"))
	if len(art) == 0 {
		t.Fatalf("%s: no digest article", path)
	}
	for _, p := range e2eFindAll(art[0], e2eTag("p")) {
		switch {
		case v.Meta == "" && slices.Contains(strings.Fields(e2eAttr(p, "class")), "meta"):
			v.Meta = e2eText(p)
		case slices.Contains(strings.Fields(e2eAttr(p, "class")), "lead"):
			v.Header, _, _ = strings.Cut(e2eText(p), " read this week")
		}
	}
	for _, sec := range e2eFindAll(art[0], e2eClass("digest-topic")) {
		var g e2eDigestGroup
		if h2 := e2eFindAll(sec, e2eTag("h2")); len(h2) > 0 {
			g.Name = e2eText(h2[0])
			if a := e2eFindAll(h2[0], e2eTag("a")); len(a) > 0 {
				g.Href = e2eAttr(a[0], "href")
			}
		}
		for _, h3 := range e2eFindAll(sec, e2eTag("h3")) {
			a := e2eFindAll(h3, e2eTag("a"))
			if len(a) == 0 {
				t.Errorf("%s: digest item %q links nowhere", path, e2eText(h3))
				continue
			}
			id, ok := e2eStoryIDOf(e2eAttr(a[0], "href"))
			if !ok {
				t.Errorf("%s: digest item %q links %q, not a story page", path, e2eText(h3), e2eAttr(a[0], "href"))
			}
			g.Items = append(g.Items, e2eDigestItem{ID: id, Title: e2eText(a[0]), Update: len(e2eFindAll(h3, e2eClass("update"))) > 0})
		}
		v.Groups = append(v.Groups, g)
	}
	for _, a := range e2eFindAll(art[0], e2eTag("a")) {
		switch e2eAttr(a, "rel") {
		case "prev":
			v.Prev = e2eAttr(a, "href")
		case "next":
			v.Next = e2eAttr(a, "href")
		}
	}
	return v
}

// e2eCheckDigestPage compares the page with the rules' choice: the same
// stories, grouped under their first topic, each group in the rules' order
// and the groups in the order of their best story.
func e2eCheckDigestPage(t *testing.T, p e2eDigestPageView, w digest.Week, want []e2eExpected) {
	t.Helper()
	path := "/digest/" + w.String()
	if p.H1 != "AI Recap: "+w.String() {
		t.Errorf("%s: h1 %q", path, p.H1)
	}
	if strings.Contains(p.Meta, "so far") {
		t.Errorf("%s: a closed week says %q", path, p.Meta)
	}
	got := p.ids()
	wantIDs := make([]int64, len(want))
	for i, e := range want {
		wantIDs[i] = e.ID
	}
	if a, b := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(wantIDs)); !slices.Equal(a, b) {
		t.Errorf("%s lists stories %v, the rules choose %v", path, got, wantIDs)
		for _, e := range want {
			t.Logf("  expected %d %.2f %-20s %q update=%v", e.ID, e.Score, e.Topic, e.Title, e.Update)
		}
	}
	// The groups: one per first topic, in the order of their best story.
	var groups []string
	byTopic := map[string][]e2eExpected{}
	for _, e := range want {
		if byTopic[e.Topic] == nil {
			groups = append(groups, e.Topic)
		}
		byTopic[e.Topic] = append(byTopic[e.Topic], e)
	}
	if len(p.Groups) != len(groups) {
		t.Errorf("%s: %d topic groups, want %d (%v)", path, len(p.Groups), len(groups), groups)
	}
	for i, g := range p.Groups {
		if i >= len(groups) {
			break
		}
		topic := groups[i]
		name, href := "Other", ""
		if topic != "" {
			name, href = news.TopicName(news.Topic(topic)), "/topics/"+topic
		}
		if g.Name != name || g.Href != href {
			t.Errorf("%s: group %d is %q (%q), want %q (%q)", path, i+1, g.Name, g.Href, name, href)
		}
		var gotIDs, wantIDs []int64
		for _, it := range g.Items {
			gotIDs = append(gotIDs, it.ID)
		}
		for _, e := range byTopic[topic] {
			wantIDs = append(wantIDs, e.ID)
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("%s: group %q lists %v, want %v in this order", path, g.Name, gotIDs, wantIDs)
		}
	}
	update := map[int64]bool{}
	title := map[int64]string{}
	for _, e := range want {
		update[e.ID], title[e.ID] = e.Update, e.Title
	}
	for _, g := range p.Groups {
		for _, it := range g.Items {
			if it.Update != update[it.ID] {
				t.Errorf("%s: story %d marked Update %v, want %v (in last week's digest: grown or not)", path, it.ID, it.Update, update[it.ID])
			}
			if want, ok := title[it.ID]; ok && it.Title != e2eNorm(want) {
				t.Errorf("%s: story %d titled %q, the API says %q", path, it.ID, it.Title, want)
			}
		}
	}
	if !regexp.MustCompile(`^[0-9,]+ sources?, [0-9,]+ articles?, [0-9,]+ stor(y|ies)$`).MatchString(p.Header) {
		t.Errorf("%s: counts line %q", path, p.Header)
	}
}

// e2eRunRecap runs a command of Recap and returns its output.
func e2eRunRecap(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, args, func(string) string { return "" }, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("recap %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

var (
	e2eMarkdownItem   = regexp.MustCompile(`^### \[(.*)\]\((.*)/stories/([0-9]+)\)$`)
	e2eMarkdownEscape = regexp.MustCompile(`\\([[:punct:]])`)
)

// e2eCheckDigestMarkdown checks the command's Markdown says what the page
// says: the counts line, and the same stories in the same order.
func e2eCheckDigestMarkdown(t *testing.T, md, base string, p e2eDigestPageView) {
	t.Helper()
	lines := strings.Split(md, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "# AI Recap: ") {
		t.Fatalf("markdown does not start with its title:\n%.500s", md)
	}
	if !slices.Contains(lines, p.Header) {
		t.Errorf("markdown has no line %q (the page's counts):\n%.500s", p.Header, md)
	}
	var ids []int64
	var titles []string
	for _, l := range lines {
		m := e2eMarkdownItem.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if m[2] != base {
			t.Errorf("markdown links %s/stories/%s, want %s/stories/...", m[2], m[3], base)
		}
		id, _ := strconv.ParseInt(m[3], 10, 64)
		ids = append(ids, id)
		titles = append(titles, e2eMarkdownEscape.ReplaceAllString(m[1], "$1"))
	}
	if !slices.Equal(ids, p.ids()) {
		t.Errorf("markdown lists stories %v, the page %v", ids, p.ids())
	}
	if !slices.Equal(titles, p.titles()) {
		t.Errorf("markdown titles %q, the page's %q", titles, p.titles())
	}
	for _, g := range p.Groups {
		if !slices.Contains(lines, "## "+g.Name) {
			t.Errorf("markdown has no heading for the page's group %q", g.Name)
		}
	}
	if n := strings.Count(md, "\nUpdate: "); n != p.updates() {
		t.Errorf("markdown has %d Update lines, the page %d", n, p.updates())
	}
}

// e2eDigestJSON is what the test reads of `recap digest --format json`.
type e2eDigestJSON struct {
	Week   string    `json:"week"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Closed bool      `json:"closed"`
	Counts struct {
		Sources  int `json:"sources"`
		Articles int `json:"articles"`
		Stories  int `json:"stories"`
	} `json:"counts"`
	Items []struct {
		Story  int64   `json:"story"`
		Title  string  `json:"title"`
		Topic  string  `json:"topic"`
		Score  float64 `json:"score"`
		Update bool    `json:"update"`
	} `json:"items"`
	Groups []struct {
		Name  string `json:"name"`
		Items []struct {
			Story int64 `json:"story"`
		} `json:"items"`
	} `json:"groups"`
}

// e2eCheckDigestJSON checks the command's JSON: the week in the zone, its
// items best first as the rules order them, its groups as the page's.
func e2eCheckDigestJSON(t *testing.T, out string, w digest.Week, loc *time.Location, want []e2eExpected, p e2eDigestPageView) {
	t.Helper()
	var d e2eDigestJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("digest --format json: %v\n%.500s", err, out)
	}
	if d.Week != w.String() || !d.Start.Equal(w.Start(loc)) || !d.End.Equal(w.End(loc)) || !d.Closed {
		t.Errorf("digest JSON: week %s %s to %s closed %v, want %s %s (closed)", d.Week, d.Start, d.End, d.Closed, w, weekSpan(w, loc))
	}
	if d.Start.Equal(w.Start(time.UTC)) {
		t.Errorf("digest JSON: the week starts at %s, UTC's Monday: the zone %s was not used", d.Start, loc)
	}
	var ids, wantIDs []int64
	for _, it := range d.Items {
		ids = append(ids, it.Story)
	}
	for _, e := range want {
		wantIDs = append(wantIDs, e.ID)
	}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("digest JSON items %v, the rules choose %v in this order", ids, wantIDs)
	}
	for i, it := range d.Items {
		if i < len(want) && (it.Update != want[i].Update || it.Topic != want[i].Topic || it.Score != want[i].Score) {
			t.Errorf("digest JSON item %d (story %d): update %v topic %q score %v, want %v %q %v",
				i, it.Story, it.Update, it.Topic, it.Score, want[i].Update, want[i].Topic, want[i].Score)
		}
	}
	var grouped []int64
	for _, g := range d.Groups {
		for _, it := range g.Items {
			grouped = append(grouped, it.Story)
		}
	}
	if !slices.Equal(grouped, p.ids()) {
		t.Errorf("digest JSON groups list %v, the page %v", grouped, p.ids())
	}
	line := fmt.Sprintf("%s %s, %s %s, %s %s",
		e2eThousands(d.Counts.Sources), e2ePlural(d.Counts.Sources, "source", "sources"),
		e2eThousands(d.Counts.Articles), e2ePlural(d.Counts.Articles, "article", "articles"),
		e2eThousands(d.Counts.Stories), e2ePlural(d.Counts.Stories, "story", "stories"))
	if line != p.Header {
		t.Errorf("digest JSON counts say %q, the page %q", line, p.Header)
	}
	if d.Counts.Articles == 0 || d.Counts.Sources < 2 || d.Counts.Stories == 0 {
		t.Errorf("digest JSON counts %+v: the week read nothing", d.Counts)
	}
}

func e2eThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func e2ePlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// e2eCheckDigestNavigation follows the week's previous and next links, and
// reads the current week, a week that never was, and one not yet begun.
func e2eCheckDigestNavigation(t *testing.T, r *e2eRecap, w digest.Week, loc *time.Location, p e2eDigestPageView) {
	t.Helper()
	path := "/digest/" + w.String()
	if want := "/digest/" + w.Prev().String(); p.Prev != want {
		t.Errorf("%s: previous week links %q, want %q", path, p.Prev, want)
	} else if prev := e2eReadDigestPage(t, r, p.Prev); prev.H1 != "AI Recap: "+w.Prev().String() || prev.Next != path {
		t.Errorf("%s (previous week): h1 %q, next links %q, want %s", p.Prev, prev.H1, prev.Next, path)
	}
	if want := "/digest/" + w.Next().String(); p.Next != want {
		t.Errorf("%s: next week links %q, want %q", path, p.Next, want)
	} else if next := e2eReadDigestPage(t, r, p.Next); next.H1 != "AI Recap: "+w.Next().String() || next.Prev != path {
		t.Errorf("%s (next week): h1 %q, previous links %q, want %s", p.Next, next.H1, next.Prev, path)
	}

	current := digest.WeekOf(time.Now(), loc)
	cur := e2eReadDigestPage(t, r, "/digest")
	if cur.H1 != "AI Recap: "+current.String() || !strings.Contains(cur.Meta, "the week so far") {
		t.Errorf("/digest: h1 %q, meta %q; want the week %s (in %s) so far", cur.H1, cur.Meta, current, loc)
	}
	if cur.Next != "" {
		t.Errorf("/digest: the current week links a next week %q", cur.Next)
	}
	for _, bad := range []string{"/digest/2026-W99", "/digest/" + current.Next().String(), "/digest/last-week"} {
		if code, body := r.get(bad); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404: %.200s", bad, code, body)
		}
	}
}

// e2eArchiveWeek is a week of /digests.
type e2eArchiveWeek struct {
	Week, Href string
	Stories    int
	SoFar      bool
}

var e2eArchiveStories = regexp.MustCompile(`^([0-9]+) stor(y|ies) · `)

// e2eCheckDigestArchive reads /digests: the weeks newest first from the
// current one, the chosen week with its story count and a link, the
// older page. It returns the first page's weeks.
func e2eCheckDigestArchive(t *testing.T, r *e2eRecap, w digest.Week, loc *time.Location, p e2eDigestPageView) []e2eArchiveWeek {
	t.Helper()
	began := time.Now()
	code, body := r.get("/digests")
	took := time.Since(began)
	if code != http.StatusOK {
		t.Fatalf("GET /digests: %d %.300s", code, body)
	}
	t.Logf("GET /digests (first, uncached): %s", took.Round(time.Millisecond))
	doc := e2eParseHTML(t, body)
	var weeks []e2eArchiveWeek
	for _, li := range e2eFindAll(doc, e2eClass("entry")) {
		a := e2eFindAll(li, func(n *html.Node) bool { return n.Data == "a" && n.Parent != nil && n.Parent.Data == "h2" })
		meta := e2eFindAll(li, func(n *html.Node) bool { return n.Data == "p" && e2eClass("meta")(n) })
		if len(a) == 0 || len(meta) == 0 {
			t.Errorf("/digests: an entry without a week link or a line: %q", e2eText(li))
			continue
		}
		aw := e2eArchiveWeek{Week: e2eText(a[0]), Href: e2eAttr(a[0], "href"), SoFar: strings.Contains(e2eText(li), "the week so far")}
		if m := e2eArchiveStories.FindStringSubmatch(e2eText(meta[0])); m != nil {
			aw.Stories, _ = strconv.Atoi(m[1])
		} else if !strings.HasPrefix(e2eText(meta[0]), "A quiet week · ") {
			t.Errorf("/digests: week %s says %q", aw.Week, e2eText(meta[0]))
		}
		weeks = append(weeks, aw)
	}
	current := digest.WeekOf(time.Now(), loc)
	if len(weeks) == 0 || weeks[0].Week != current.String() || !weeks[0].SoFar {
		t.Fatalf("/digests: the first week is not the current %s so far: %+v", current, weeks)
	}
	found := false
	for i, aw := range weeks {
		if i > 0 {
			if pw, _ := digest.ParseWeek(weeks[i-1].Week); aw.Week != pw.Prev().String() {
				t.Errorf("/digests: week %s follows %s, want the week before it", aw.Week, weeks[i-1].Week)
			}
		}
		if aw.Href != "/digest/"+aw.Week {
			t.Errorf("/digests: week %s links %q", aw.Week, aw.Href)
		}
		if aw.Week == w.String() {
			found = true
			if aw.Stories != len(p.ids()) {
				t.Errorf("/digests: week %s has %d stories, its page %d", w, aw.Stories, len(p.ids()))
			}
			if !strings.Contains(body, p.Header) {
				t.Errorf("/digests: no counts line %q for week %s", p.Header, w)
			}
		}
	}
	if !found {
		last := weeks[len(weeks)-1]
		t.Logf("/digests: week %s is not on the first page (last %s); following the older pages", w, last.Week)
	}
	older := e2eFindAll(doc, func(n *html.Node) bool { return n.Data == "a" && e2eAttr(n, "rel") == "next" })
	if len(older) == 0 {
		t.Errorf("/digests: no link to older weeks, with the replay's months of news behind")
	} else if href := e2eAttr(older[0], "href"); !strings.HasPrefix(href, "/digests?before=") {
		t.Errorf("/digests: older weeks link %q", href)
	} else if code, body := r.get(href); code != http.StatusOK || !strings.Contains(body, `rel="prev"`) {
		t.Errorf("GET %s: %d, or no link back to newer weeks", href, code)
	} else if !found && !strings.Contains(body, `href="/digest/`+w.String()+`"`) {
		t.Errorf("/digests: week %s is on neither of the first two pages", w)
	}
	return weeks
}

// e2eFeedEntry is an item of a feed in any of the three formats.
type e2eFeedEntry struct{ ID, Title string }

// e2eReadFeed reads a feed of Recap in Go, RSS, Atom or JSON Feed by its
// extension, and checks its content type.
func e2eReadFeed(t *testing.T, r *e2eRecap, path string) []e2eFeedEntry {
	t.Helper()
	resp, err := r.client.Get(r.Base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	ct := resp.Header.Get("Content-Type")
	var out []e2eFeedEntry
	switch {
	case strings.HasSuffix(path, ".atom"):
		var doc struct {
			Entries []struct {
				ID    string `xml:"id"`
				Title string `xml:"title"`
			} `xml:"http://www.w3.org/2005/Atom entry"`
		}
		err = xml.Unmarshal(buf.Bytes(), &doc)
		for _, e := range doc.Entries {
			out = append(out, e2eFeedEntry{e.ID, e.Title})
		}
		if !strings.HasPrefix(ct, "application/atom+xml") {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
	case strings.HasSuffix(path, ".json"):
		var doc struct {
			Version string `json:"version"`
			Items   []struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"items"`
		}
		err = json.Unmarshal(buf.Bytes(), &doc)
		for _, e := range doc.Items {
			out = append(out, e2eFeedEntry{e.ID, e.Title})
		}
		if !strings.HasPrefix(ct, "application/feed+json") || !strings.HasPrefix(doc.Version, "https://jsonfeed.org/version/1") {
			t.Errorf("GET %s: Content-Type %q, version %q", path, ct, doc.Version)
		}
	default:
		var doc e2eRSSDoc
		err = xml.Unmarshal(buf.Bytes(), &doc)
		for _, e := range doc.Channel.Items {
			out = append(out, e2eFeedEntry{e.GUID, e.Title})
		}
		if !strings.HasPrefix(ct, "application/rss+xml") {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
	}
	if err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
	return out
}

var e2eDigestItemID = regexp.MustCompile(`/digest/([0-9]{4}-W[0-9]{2})$`)

// e2eCheckDigestFeeds reads the digest feeds: one item per closed week with
// stories, newest first, the week page's absolute URL as its id, the
// chosen week among them when its page p has stories, the current week
// not; the same items in the three formats; then the real readers read
// each.
func e2eCheckDigestFeeds(t *testing.T, r *e2eRecap, w digest.Week, loc *time.Location, p e2eDigestPageView, archive []e2eArchiveWeek) {
	t.Helper()
	current := digest.WeekOf(time.Now(), loc)
	// The weeks the archive's first page shows with stories, closed: the
	// feed's newest items must be exactly these.
	var withStories []string
	for _, aw := range archive {
		if !aw.SoFar && aw.Stories > 0 {
			withStories = append(withStories, aw.Week)
		}
	}
	var rss []e2eFeedEntry
	for _, ext := range []string{"xml", "atom", "json"} {
		path := "/digest." + ext
		items := e2eReadFeed(t, r, path)
		var weeks []string
		hasW := false
		for i, it := range items {
			m := e2eDigestItemID.FindStringSubmatch(it.ID)
			if m == nil || it.ID != r.Base+"/digest/"+m[1] {
				t.Errorf("%s item %d: id %q is not an absolute /digest/YYYY-Www URL of %s", path, i, it.ID, r.Base)
				continue
			}
			iw, err := digest.ParseWeek(m[1])
			if err != nil {
				t.Errorf("%s item %d: id %q: %v", path, i, it.ID, err)
				continue
			}
			if !iw.Before(current) {
				t.Errorf("%s: an item for %s, the current week %s or later", path, iw, current)
			}
			if len(weeks) > 0 {
				if pw, _ := digest.ParseWeek(weeks[len(weeks)-1]); !iw.Before(pw) {
					t.Errorf("%s: week %s after %s: not newest first", path, iw, pw)
				}
			}
			if !strings.HasPrefix(e2eNorm(it.Title), "AI Recap "+iw.String()+": ") {
				t.Errorf("%s: item %s titled %q", path, iw, it.Title)
			}
			weeks = append(weeks, iw.String())
			hasW = hasW || iw == w
		}
		if quiet := len(p.ids()) == 0; hasW == quiet {
			t.Errorf("%s: an item for the chosen week %s: %v, its digest has %d stories", path, w, hasW, len(p.ids()))
		}
		if n := min(len(weeks), len(withStories)); !slices.Equal(weeks[:n], withStories[:n]) || len(weeks) < len(withStories) {
			t.Errorf("%s lists weeks %v; the archive's closed weeks with stories are %v", path, weeks, withStories)
		}
		if ext == "xml" {
			rss = items
		} else if len(items) != len(rss) {
			t.Errorf("%s has %d items, /digest.xml %d", path, len(items), len(rss))
		}
		t.Logf("%s: %d items, weeks %v", path, len(items), weeks)
		titles := make([]string, len(items))
		for i, it := range items {
			titles[i] = it.Title
		}
		readers := e2eReaders
		if ext == "json" {
			readers = e2eJSONFeedReaders
		}
		t.Run("readers "+path, func(t *testing.T) { e2eCheckReadersOf(t, r.Base+path, titles, readers) })
	}
}

// e2eCheckTopic opens the topic page of the digest's first story with a
// topic, finds the story there (following older pages, bounded), and hands
// the topic's feed to the real readers.
func e2eCheckTopic(t *testing.T, r *e2eRecap, want []e2eExpected) {
	t.Helper()
	var story e2eExpected
	for _, e := range want {
		if e.Topic != "" {
			story = e
			break
		}
	}
	if story.ID == 0 {
		t.Errorf("no story of the digest has a topic: %+v", want)
		return
	}
	path := "/topics/" + story.Topic
	found, pages := false, 0
	for next := path; next != "" && !found && pages < 20; pages++ {
		code, body := r.get(next)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %.300s", next, code, body)
		}
		doc := e2eParseHTML(t, body)
		if pages == 0 {
			if h1 := e2eFindAll(doc, e2eTag("h1")); len(h1) != 1 || e2eText(h1[0]) != news.TopicName(news.Topic(story.Topic)) {
				t.Errorf("%s: want one h1 %q", path, news.TopicName(news.Topic(story.Topic)))
			}
		}
		for _, a := range e2eFindAll(doc, e2eTag("a")) {
			if id, ok := e2eStoryIDOf(e2eAttr(a, "href")); ok && id == story.ID {
				found = true
			}
		}
		next = ""
		for _, a := range e2eFindAll(doc, func(n *html.Node) bool { return n.Data == "a" && e2eAttr(n, "rel") == "next" }) {
			u, err := url.Parse(e2eAttr(a, "href"))
			if err == nil && u.Path == path {
				next = u.RequestURI()
			}
		}
	}
	if !found {
		t.Errorf("%s: story %d %q is not listed in %d pages", path, story.ID, story.Title, pages)
	} else {
		t.Logf("%s lists story %d %q (page %d)", path, story.ID, story.Title, pages)
	}
	feedPath := path + "/feed.xml"
	items := e2eReadFeed(t, r, feedPath)
	if len(items) == 0 {
		t.Fatalf("%s: no item", feedPath)
	}
	titles := make([]string, len(items))
	for i, it := range items {
		titles[i] = it.Title
	}
	t.Run("readers "+feedPath, func(t *testing.T) { e2eCheckReaders(t, r.Base+feedPath, titles) })
}
