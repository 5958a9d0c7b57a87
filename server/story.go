package server

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"recap/digest"
	"recap/news"
	"recap/store"
)

// The story page's analysis: what the story stage computed and stored (TL;DR,
// takeaways, who should care, topics, why ranked), what is read at render
// time from the other stories (timeline, related updates: they change as
// stories arrive), and the optional LLM insight. A story not analysed yet
// shows its coverage alone; nothing is made up to fill the gap.

const (
	// The timeline and the related stories match on the story's most
	// central entities.
	timelineEntities = 5
	relatedEntities  = 8
	timelineEvents   = 6
	relatedStories   = 5
	// refsPerQuery bounds the candidates one query reads.
	refsPerQuery = 300
	// relatedWithin: related updates come from these weeks before the story, and anything after.
	relatedWithin = 28 * 24 * time.Hour
)

// analysisView is the analysed part of the story page.
type analysisView struct {
	Stored    store.AnalysisRecord
	TLDR      []sentenceView
	Audiences []news.Audience
	Takeaways []sentenceView
	Topics    []topicLink
	Entities  []string
	Week      string // the ISO week of the story's first report, for its digest
	Timeline  []timelineView
	Related   []relatedView
	Ranked    rankView
	Rank      news.Rank // as of the page's time
	Insight   *insightView
}

// topicLink is a topic and its page.
type topicLink struct{ Name, Page string }

// sentenceView is an outlet's own sentence, attributed.
type sentenceView struct {
	Article int64
	Text    string
	Outlet  string
	URL     string // the member article; "" when not a web link
}

type timelineView struct {
	Story      int64
	Month, ISO string
	Title      string
	Page       string
	Shared     string // "DeepSeek, Huawei"
}

type relatedView struct {
	Story       int64
	Title, Page string
	ISO, Date   string
	Why         string // "shares DeepSeek, Nvidia · Chips and hardware"
}

type rankView struct {
	Score string // as of the page's time
	Base  string // without recency
	Parts []news.RankPart
}

type insightView struct {
	Model        string
	WhatChanged  []claimView
	WhyItMatters []claimView
	WhatToDoNext []claimView
	Sections     []insightSectionView
}

type insightSectionView struct {
	Heading string
	Claims  []claimView
}

type claimView struct {
	Text  string
	Cites []citeView
}

type citeView struct {
	N      int    // the member's number in the coverage order
	Outlet string // who published it
	URL    string
}

// storyAnalysis builds the analysed sections of rec's page; nil when the
// story has no analysis yet.
func (s *Server) storyAnalysis(ctx context.Context, rec store.StoryRecord, now time.Time) (*analysisView, error) {
	an, err := s.store.Analysis(ctx, rec.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(err)
	}
	members := map[int64]store.ArticleRecord{}
	for _, m := range rec.Members {
		members[m.ID] = m
	}
	sentence := func(sn news.Sentence) (sentenceView, bool) {
		m, ok := members[sn.Article]
		if !ok { // the member moved to another story since the analysis
			return sentenceView{}, false
		}
		return sentenceView{Article: sn.Article, Text: sn.Text, Outlet: m.Source, URL: webLink(m.URL)}, true
	}
	v := &analysisView{Stored: an, Audiences: an.Audiences}
	// The headline is on the page already: a sentence that only repeats
	// it is left out.
	for _, sn := range an.TLDR {
		if sv, ok := sentence(sn); ok && !news.RepeatsHeadline(sv.Text, rec.Title) {
			v.TLDR = append(v.TLDR, sv)
		}
	}
	for _, sn := range an.Takeaways {
		if sv, ok := sentence(sn); ok && !news.RepeatsHeadline(sv.Text, rec.Title) {
			v.Takeaways = append(v.Takeaways, sv)
		}
	}
	for _, t := range an.Topics {
		v.Topics = append(v.Topics, topicLink{Name: news.TopicName(t), Page: topicPath(t)})
	}
	v.Week = digest.WeekOf(rec.FirstSeen, s.loc()).String()
	for _, e := range an.Entities {
		if len(v.Entities) < timelineEntities+3 {
			v.Entities = append(v.Entities, e.Name)
		}
	}
	// The stored rank's recency is the story's age when it was analysed.
	rank := an.Rank.At(rec.FirstSeen, now)
	v.Rank = rank
	v.Ranked = rankView{Score: strconv.FormatFloat(rank.Score, 'f', 2, 64), Base: strconv.FormatFloat(rank.Base, 'f', 2, 64), Parts: rank.Parts}

	self, names := selfRef(rec, an)
	if v.Timeline, err = s.timeline(ctx, self, an.Entities, names); err != nil {
		return nil, err
	}
	if v.Related, err = s.related(ctx, self, names, v.Timeline); err != nil {
		return nil, err
	}
	if v.Insight, err = s.insight(ctx, rec); err != nil {
		return nil, err
	}
	return v, nil
}

// selfRef is rec as the timeline and the related stories compare it, and
// the names its analysis gives its entity keys.
func selfRef(rec store.StoryRecord, an store.AnalysisRecord) (news.StoryRef, map[string]string) {
	self := news.StoryRef{ID: rec.ID, Title: rec.Title, FirstSeen: rec.FirstSeen, Updated: rec.Updated,
		Topics: an.Topics, Outlets: rec.OutletCount, Score: an.Rank.Base}
	names := make(map[string]string, len(an.Entities))
	for _, e := range an.Entities {
		self.Entities = append(self.Entities, e.Key)
		names[e.Key] = e.Name
	}
	return self, names
}

// timeline is the story's earlier events; none for a story with no entities.
func (s *Server) timeline(ctx context.Context, self news.StoryRef, ents []news.Entity, names map[string]string) ([]timelineView, error) {
	if len(self.Entities) == 0 {
		return nil, nil
	}
	refs, err := s.store.StoryRefs(ctx, store.RefQuery{
		Entities: self.Entities[:min(len(self.Entities), timelineEntities)],
		To:       self.FirstSeen, Exclude: self.ID, Limit: refsPerQuery,
	})
	if err != nil {
		return nil, unavailable(err)
	}
	var out []timelineView
	for _, ev := range news.BuildTimeline(self, ents, refs, timelineEvents) {
		out = append(out, timelineView{
			Story: ev.Story, Month: ev.Month, ISO: ev.When.UTC().Format(time.RFC3339),
			Title: ev.Title, Page: storyPath(ev.Story), Shared: entityNames(ev.Shared, names),
		})
	}
	return out, nil
}

func (s *Server) related(ctx context.Context, self news.StoryRef, names map[string]string, timeline []timelineView) ([]relatedView, error) {
	if len(self.Entities) == 0 {
		return nil, nil
	}
	refs, err := s.store.StoryRefs(ctx, store.RefQuery{
		Entities: self.Entities[:min(len(self.Entities), relatedEntities)],
		From:     self.FirstSeen.Add(-relatedWithin), Exclude: self.ID, Limit: refsPerQuery,
	})
	if err != nil {
		return nil, unavailable(err)
	}
	onTimeline := map[string]bool{}
	for _, ev := range timeline {
		onTimeline[ev.Page] = true
	}
	var out []relatedView
	for _, r := range news.RelatedStories(self, refs, relatedStories+len(timeline)) {
		page := storyPath(r.Story)
		if onTimeline[page] {
			continue
		}
		why := []string{}
		if n := entityNames(r.SharedKeys, names); n != "" {
			why = append(why, "shares "+n)
		}
		for _, t := range r.SharedTopics {
			why = append(why, news.TopicName(t))
		}
		out = append(out, relatedView{
			Story: r.Story, Title: r.Title, Page: page,
			ISO: r.When.UTC().Format(time.RFC3339), Date: r.When.UTC().Format("2 Jan 2006"),
			Why: strings.Join(why, " · "),
		})
		if len(out) == relatedStories {
			break
		}
	}
	return out, nil
}

// entityNames shows entity keys by the names the story uses for them.
func entityNames(keys []string, names map[string]string) string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if n := names[k]; n != "" {
			out = append(out, n)
		} else {
			out = append(out, k)
		}
	}
	return strings.Join(out, ", ")
}

// insight is the LLM analysis of the story's current version, if any: an
// insight written for an older version still shows, its citations checked
// against today's members.
func (s *Server) insight(ctx context.Context, rec store.StoryRecord) (*insightView, error) {
	ins, err := s.store.Insight(ctx, rec.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(err)
	}
	number := map[int64]citeView{}
	for i, m := range rec.Members {
		number[m.ID] = citeView{N: i + 1, Outlet: m.Source, URL: webLink(m.URL)}
	}
	claims := func(cs []news.Claim) []claimView {
		var out []claimView
		for _, c := range cs {
			cv := claimView{Text: c.Text}
			for _, id := range c.Cites {
				if n, ok := number[id]; ok {
					cv.Cites = append(cv.Cites, n)
				}
			}
			if len(cv.Cites) > 0 { // never a claim without a source
				out = append(out, cv)
			}
		}
		return out
	}
	v := &insightView{Model: ins.Model, WhatChanged: claims(ins.WhatChanged),
		WhyItMatters: claims(ins.WhyItMatters), WhatToDoNext: claims(ins.WhatToDoNext)}
	for _, sec := range ins.Sections {
		if cs := claims(sec.Claims); len(cs) > 0 {
			v.Sections = append(v.Sections, insightSectionView{Heading: sec.Heading, Claims: cs})
		}
	}
	if len(v.WhatChanged)+len(v.WhyItMatters)+len(v.WhatToDoNext)+len(v.Sections) == 0 {
		return nil, nil
	}
	return v, nil
}

// storyAt reads the story the path's {id} names. A story that merged into
// another lives on as that story (its id is its founding article's, which
// now belongs to the other), and so does any member article's id: moved is
// then a redirect to that story's path with suffix.
func (s *Server) storyAt(r *http.Request, suffix string) (rec store.StoryRecord, moved *response, err error) {
	id, err := pathID(chi.URLParam(r, "id"))
	if err != nil {
		return rec, nil, err
	}
	rec, err = s.store.Story(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		if a, aerr := s.store.Article(r.Context(), id); aerr == nil && a.StoryID != 0 && a.StoryID != id {
			return rec, redirectResponse(storyPath(a.StoryID) + suffix), nil
		}
		return rec, nil, errorf(http.StatusNotFound, "no story with id %d", id)
	}
	if err != nil {
		return rec, nil, unavailable(err)
	}
	return rec, nil, nil
}

// storyFeed is the feed of one story, so a reader can follow it as it
// develops: every member article, newest first, and the earlier stories of
// its timeline as events.
func (s *Server) storyFeed(f feedFormat) renderFunc {
	return func(r *http.Request) (*response, error) {
		rec, moved, err := s.storyAt(r, "/feed."+f.ext())
		if moved != nil || err != nil {
			return moved, err
		}
		id := rec.ID
		items, err := s.feedItems(newestFirst(rec.Members))
		if err != nil {
			return nil, err
		}
		// The timeline's events, not the rest of the analysis: a feed has
		// no related stories or insight to show.
		an, err := s.store.Analysis(r.Context(), rec.ID)
		switch {
		case errors.Is(err, store.ErrNotFound): // not analysed yet: its articles only
		case err != nil:
			return nil, unavailable(err)
		default:
			self, names := selfRef(rec, an)
			events, err := s.timeline(r.Context(), self, an.Entities, names)
			if err != nil {
				return nil, err
			}
			for _, ev := range events {
				items = append(items, s.timelineItem(rec, ev))
			}
		}
		title := rec.Title
		if title == "" {
			title = "Story " + strconv.FormatInt(id, 10)
		}
		doc := feedDoc{
			Title:       xmlText("Recap story: " + title),
			Description: "Every article Recap collects on this story as it develops, and the earlier events of its timeline.",
			Page:        s.abs(storyPath(id)),
			Self:        s.abs(storyPath(id) + "/feed." + f.ext()),
			Items:       items,
		}
		doc.Updated = newestItem(items)
		if doc.Updated.IsZero() {
			doc.Updated = rec.Updated.UTC()
		}
		return writeFeed(f, doc)
	}
}

// timelineItem is an earlier event of a story as an item of its feed.
func (s *Server) timelineItem(rec store.StoryRecord, ev timelineView) feedItem {
	when, _ := time.Parse(time.RFC3339, ev.ISO)
	page := s.abs(ev.Page)
	title := xmlText(fmt.Sprintf("Earlier, %s: %s", ev.Month, ev.Title))
	summary := xmlText(fmt.Sprintf("An earlier story on the timeline of %q (shares %s).", rec.Title, ev.Shared))
	return feedItem{
		ID:        page,
		Link:      page,
		Title:     title,
		Summary:   summary,
		Content:   "<p>" + template.HTMLEscapeString(summary) + ` <a href="` + template.HTMLEscapeString(page) + `">Read the earlier story on Recap</a>.</p>`,
		Source:    "Recap timeline",
		Published: when,
		Updated:   when,
	}
}

// newestFirst returns the members latest published first.
func newestFirst(ms []store.ArticleRecord) []store.ArticleRecord {
	out := make([]store.ArticleRecord, len(ms))
	for i, m := range ms {
		out[len(ms)-1-i] = m
	}
	return out
}
