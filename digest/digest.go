// Package digest is the weekly "AI Recap": the week's best stories, chosen
// by a few plain rules, grouped by topic and rendered to Markdown. Choose,
// GroupItems and Markdown are pure; Build reads the week from the store.
package digest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"recap/news"
	"recap/store"
)

// DefaultMinScore is the base score (news.Rank.Base) a story needs to be in
// a digest. Base = log2(1+W) × speed × (0.1 + 0.9 × relevance), so once a
// story has its two outlets the cut is about AI relevance. It was chosen on
// the shared data (../shared/data/ai-news-items.jsonl.gz: 18,061 items, 42
// feeds), stored, clustered and analysed by the story stage, then every
// week from 2025-W27 to 2026-W17 read with ActiveStories. Base scores sit
// at a few levels there: repositories that are not about AI (relevance 0)
// score 0.20 to 0.48 however many trending feeds list them; two outlets at
// relevance 0.29 score 0.72, and half of those are not AI news ("Premier
// League and Microsoft join forces", "A $50 million fund to build with
// communities"); two outlets within 6h at relevance 0.5 score 1.09
// ("Introducing Claude Haiku 4.5", "GPT-5.2"). 1.0 sits between the last
// two. Over those 43 weeks it keeps 230 stories (5.3 a week, no week
// empty), 8 of them of relevance under 0.3; no minimum keeps 258, 32 of
// them under 0.3; 1.4 would leave 3 weeks empty.
const DefaultMinScore = 1.0

// Options are the rules of a digest.
type Options struct {
	Limit        int     // stories at most (default 12)
	MinOutlets   int     // independent outlets a story needs (default 2)
	MaxPerSource int     // stories led by one source at most (default 3)
	MinScore     float64 // base score (news.Rank.Base) a story needs (default DefaultMinScore)
}

// DefaultOptions returns the rules the site's digest uses.
func DefaultOptions() Options {
	return Options{Limit: 12, MinOutlets: 2, MaxPerSource: 3, MinScore: DefaultMinScore}
}

// withDefaults fills the counts that are zero or less with their defaults: a
// digest of at most zero stories, or of stories that need no outlet, is
// never what a caller means. MinScore is taken as given (0: no minimum).
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Limit <= 0 {
		o.Limit = d.Limit
	}
	if o.MinOutlets <= 0 {
		o.MinOutlets = d.MinOutlets
	}
	if o.MaxPerSource <= 0 {
		o.MaxPerSource = d.MaxPerSource
	}
	return o
}

// Said is an outlet's own sentence, attributed.
type Said struct {
	Text   string `json:"text"`
	Outlet string `json:"outlet"`
	URL    string `json:"url"`
}

// Item is one story of a digest.
type Item struct {
	Story        int64        `json:"story"`
	Title        string       `json:"title"`
	URL          string       `json:"url"` // the lead article's web link ("" when not http/https)
	LeadSource   string       `json:"lead_source"`
	LeadSourceID int64        `json:"lead_source_id"`
	Topic        news.Topic   `json:"topic"` // the group it is listed under: its first topic
	Topics       []news.Topic `json:"topics"`
	TLDR         []Said       `json:"tldr"`
	Outlets      []string     `json:"outlets"` // names, earliest first
	Articles     int          `json:"articles"`
	Score        float64      `json:"score"` // base score
	FirstSeen    time.Time    `json:"first_seen"`
	Updated      time.Time    `json:"updated"`
	Update       bool         `json:"update"`           // it was in last week's digest and is back because it grew
	Growth       string       `json:"growth,omitempty"` // for an update: "4 new articles from 2 new outlets this week"
}

// Group is the items of one topic.
type Group struct {
	Topic news.Topic `json:"topic"`
	Name  string     `json:"name"` // news.TopicName, "Other" for no topic
	Items []Item     `json:"items"`
}

// Digest is one week's recap.
type Digest struct {
	Week   Week         `json:"week"`
	Start  time.Time    `json:"start"`  // Monday 00:00 in the digest's time zone
	End    time.Time    `json:"end"`    // the next Monday 00:00
	Closed bool         `json:"closed"` // the week has ended (End <= now)
	Counts store.Counts `json:"counts"`
	Items  []Item       `json:"items"`  // the chosen stories, best first
	Groups []Group      `json:"groups"` // Items grouped by Topic, groups ordered by their best item
}

// MarshalJSON writes the digest with snake_case names throughout, the
// counts included (store.Counts has no tags of its own).
func (d Digest) MarshalJSON() ([]byte, error) {
	type counts struct {
		Sources  int `json:"sources"`
		Articles int `json:"articles"`
		Stories  int `json:"stories"`
	}
	return json.Marshal(struct {
		Week   Week      `json:"week"`
		Start  time.Time `json:"start"`
		End    time.Time `json:"end"`
		Closed bool      `json:"closed"`
		Counts counts    `json:"counts"`
		Items  []Item    `json:"items"`
		Groups []Group   `json:"groups"`
	}{d.Week, d.Start, d.End, d.Closed, counts(d.Counts), nonNil(d.Items), nonNil(d.Groups)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Candidate is a story as the rules read it.
type Candidate struct {
	Item
	Outlets int // independent outlets
	// For the repeat rule: what the story had before the week started.
	ArticlesBefore, OutletsBefore int
	NewArticles, NewOutlets       int // members / outlets first published within the week
}

// grewSubstantially is the repeat rule: a story in last week's digest comes
// back only as real news, two outlets new to it, or at least as many new
// articles as it had (and two at least). A trickle of one more article a
// week would otherwise keep a big story in every digest.
func (c Candidate) grewSubstantially() bool {
	return c.NewOutlets >= 2 || c.NewArticles >= max(2, c.ArticlesBefore)
}

// growth says how a returning story grew, for its "Update:" line.
func (c Candidate) growth() string {
	s := plural(c.NewArticles, "new article", "new articles")
	if c.NewOutlets > 0 {
		s += " from " + plural(c.NewOutlets, "new outlet", "new outlets")
	}
	return s + " this week"
}

// Choose applies the rules to the week's candidates, pure and
// deterministic. Best Score first (ties: more outlets, then earlier
// FirstSeen, then lower id). A story needs opts.MinOutlets independent
// outlets and a Score of opts.MinScore; one source leads opts.MaxPerSource
// stories at most (a lead source id of 0 is no source and has no cap); a
// story in prevWeek (the ids chosen last week) comes back only when it grew
// substantially, marked Update with its Growth; opts.Limit stories at most.
// A slow week is short or empty, never padded.
func Choose(cands []Candidate, prevWeek map[int64]bool, opts Options) []Item {
	opts = opts.withDefaults()
	eligible := make([]Candidate, 0, len(cands))
	for _, c := range cands {
		// A NaN score fails the comparison and stays out.
		if c.Outlets >= opts.MinOutlets && c.Score >= opts.MinScore {
			eligible = append(eligible, c)
		}
	}
	slices.SortStableFunc(eligible, func(a, b Candidate) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Outlets, a.Outlets); c != 0 {
			return c
		}
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.Story, b.Story)
	})
	items := []Item{}
	perSource := map[int64]int{}
	seen := map[int64]bool{}
	for _, c := range eligible {
		if len(items) >= opts.Limit {
			break
		}
		if seen[c.Story] {
			continue
		}
		it := c.Item
		it.Update, it.Growth = false, ""
		if prevWeek[c.Story] {
			if !c.grewSubstantially() {
				continue
			}
			it.Update, it.Growth = true, c.growth()
		}
		if c.LeadSourceID != 0 {
			if perSource[c.LeadSourceID] >= opts.MaxPerSource {
				continue
			}
			perSource[c.LeadSourceID]++
		}
		if it.Topic == "" && len(it.Topics) > 0 {
			it.Topic = it.Topics[0]
		}
		seen[c.Story] = true
		items = append(items, it)
	}
	return items
}

// otherName is the group of the stories without a topic.
const otherName = "Other"

// GroupItems groups items by their Topic (their first topic when Topic is
// unset; "Other" for none), keeping their order within a group; the groups
// come in the order of their best item, so the digest reads best first.
func GroupItems(items []Item) []Group {
	groups := []Group{}
	at := map[news.Topic]int{}
	for _, it := range items {
		t := it.Topic
		if t == "" && len(it.Topics) > 0 {
			t = it.Topics[0]
		}
		i, ok := at[t]
		if !ok {
			name := otherName
			if t != "" {
				name = news.TopicName(t)
			}
			i = len(groups)
			at[t] = i
			groups = append(groups, Group{Topic: t, Name: name})
		}
		groups[i].Items = append(groups[i].Items, it)
	}
	return groups
}

// Build limits: the store returns the week's stories best first; far fewer
// than this many can be chosen, and the caps only skip a few.
const candidateLimit = 500

// Build reads week w (its days in loc) from the store and applies the
// rules. Last week's digest is computed too, for the repeat rule, but
// without its own previous week: one level only, so a digest costs two
// weeks' reads, not the whole history.
func Build(ctx context.Context, s store.Store, w Week, loc *time.Location, now time.Time, opts Options) (Digest, error) {
	ds, err := BuildWeeks(ctx, s, w, 1, loc, now, opts)
	if err != nil {
		return Digest{}, err
	}
	return ds[0], nil
}

// BuildWeeks is Build of n weeks, from w back, newest first. A week's
// stories serve its own digest and, for the repeat rule, the next newer
// week's: n weeks read n+1 weeks of stories, not 2n.
func BuildWeeks(ctx context.Context, s store.Store, w Week, n int, loc *time.Location, now time.Time, opts Options) ([]Digest, error) {
	if n <= 0 {
		return nil, nil
	}
	opts = opts.withDefaults()
	loc = orUTC(loc)
	cands, err := weekCandidates(ctx, s, w.Start(loc), w.End(loc), opts)
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", w, err)
	}
	out := make([]Digest, 0, n)
	for range n {
		start, end := w.Start(loc), w.End(loc)
		p := w.Prev()
		prevCands, err := weekCandidates(ctx, s, p.Start(loc), p.End(loc), opts)
		if err != nil {
			return nil, fmt.Errorf("digest %s: previous week %s: %w", w, p, err)
		}
		prev := map[int64]bool{}
		for _, it := range Choose(prevCands, nil, opts) {
			prev[it.Story] = true
		}
		counts, err := s.CountBetween(ctx, start, end)
		if err != nil {
			return nil, fmt.Errorf("digest %s: counts: %w", w, err)
		}
		items := Choose(cands, prev, opts)
		out = append(out, Digest{
			Week:   w,
			Start:  start,
			End:    end,
			Closed: !end.After(now),
			Counts: counts,
			Items:  items,
			Groups: GroupItems(items),
		})
		w, cands = p, prevCands
	}
	return out, nil
}

func weekCandidates(ctx context.Context, s store.Store, start, end time.Time, opts Options) ([]Candidate, error) {
	stories, err := s.ActiveStories(ctx, start, end, opts.MinOutlets, candidateLimit)
	if err != nil {
		return nil, fmt.Errorf("active stories: %w", err)
	}
	cands := make([]Candidate, len(stories))
	for i, st := range stories {
		cands[i] = candidateOf(st, start, end)
	}
	return cands, nil
}

// candidateOf reads a stored story as the rules do, as it stood at end:
// its outlets and articles are those first published before end. Outlets
// of one name count once, as the ranking counts them (news.RankStory): two
// feeds of one publisher are not two independent reports. The score is the
// story's latest analysis: the store keeps no older one.
func candidateOf(st store.AnalysedStory, start, end time.Time) Candidate {
	rec := st.StoryRecord
	a := st.Analysis
	it := Item{
		Story:        rec.ID,
		Title:        rec.Title,
		URL:          firstWebLink(rec.LeadArticle.URL, rec.LeadArticle.Link),
		LeadSource:   rec.LeadArticle.Source,
		LeadSourceID: rec.LeadArticle.SourceID,
		Topics:       slices.Clone(nonNil(a.Topics)),
		TLDR:         []Said{},
		Outlets:      []string{},
		Articles:     rec.Count,
		Score:        a.Rank.Base,
		FirstSeen:    rec.FirstSeen,
		Updated:      rec.Updated,
	}
	if it.Title == "" {
		it.Title = rec.LeadArticle.Title
	}
	if len(it.Topics) > 0 {
		it.Topic = it.Topics[0]
	}
	members := make(map[int64]store.ArticleRecord, len(rec.Members))
	for _, m := range rec.Members {
		members[m.ID] = m
	}
	// The title is the item's heading already: a sentence that only
	// repeats it says nothing more (the story page leaves it out too).
	for _, sn := range a.TLDR {
		m, ok := members[sn.Article]
		if !ok {
			continue // a sentence no member of this version said cannot be attributed
		}
		if news.RepeatsHeadline(sn.Text, it.Title) {
			continue
		}
		it.TLDR = append(it.TLDR, Said{Text: sn.Text, Outlet: m.Source, URL: firstWebLink(m.URL, m.Link)})
	}
	// The story as it stood at the week's end: a closed week's digest does
	// not change when a story grows later, and a story that reached its
	// second outlet only this week was not in last week's digest.
	c := Candidate{}
	outlets := slices.Clone(rec.Outlets)
	slices.SortStableFunc(outlets, func(a, b store.Outlet) int { return a.FirstSeen.Compare(b.FirstSeen) })
	named := map[string]bool{}
	for _, o := range outlets {
		if !o.FirstSeen.Before(end) {
			continue
		}
		if o.Name != "" {
			if named[o.Name] {
				continue
			}
			named[o.Name] = true
		}
		it.Outlets = append(it.Outlets, o.Name)
		if o.FirstSeen.Before(start) {
			c.OutletsBefore++
		} else {
			c.NewOutlets++
		}
	}
	c.Outlets = len(it.Outlets)
	if len(rec.Outlets) == 0 {
		c.Outlets = max(rec.OutletCount, a.Outlets)
	}
	for _, m := range rec.Members {
		switch {
		case m.Published.Before(start):
			c.ArticlesBefore++
		case m.Published.Before(end):
			c.NewArticles++
		}
	}
	if len(rec.Members) > 0 {
		it.Articles = c.ArticlesBefore + c.NewArticles
	}
	c.Item = it
	return c
}

// firstWebLink returns the first of us that is an http(s) URL, else "": a
// digest links only to web pages, never to javascript: or data: URLs a feed
// may carry.
func firstWebLink(us ...string) string {
	for _, u := range us {
		p, err := url.Parse(u)
		if err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" {
			return u
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return formatInt(n) + " " + many
}

// formatInt writes n with thousands separators: 1,234.
func formatInt(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
