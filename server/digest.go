package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"recap/digest"
	"recap/news"
	"recap/store"
)

// The weekly "AI Recap": /digest (the week so far), /digest/{week} (an ISO
// week such as 2026-W48, in the configured time zone), /digests (the
// archive), and the digest feeds (one item per closed week). The digest
// package chooses and groups the stories; these handlers read and render.

const (
	// archivePage is how many weeks one page of /digests covers.
	archivePage = 12
	// digestFeedWeeks is how many closed weeks the digest feeds look back
	// for non-empty digests; digestFeedItems how many they carry.
	digestFeedWeeks = 52
	digestFeedItems = 12
)

// digestView is a week's digest as the page shows it.
type digestView struct {
	Title   string // "AI Recap: 2026-W48"
	Week    string
	Range   string // "23–29 Nov 2026"
	SoFar   bool   // the current week, not over yet
	Header  string // "42 sources, 1,234 articles, 87 stories"
	Groups  []digestGroupView
	Stories int
	Prev    string // path of the previous week's digest
	Next    string // "" for the current week
	Quiet   string // what an empty week says
}

type digestGroupView struct {
	Name, Page string // the topic and its page; Page "" for "Other"
	Items      []digestItemView
}

type digestItemView struct {
	Title, Page, URL string
	LeadSource       string
	TLDR             []digest.Said
	Outlets          string // "Covered by A, B and C"
	Coverage         string // "3 outlets · 5 articles"
	Update           bool
	Growth           string
	ISO, Date        string
}

func (s *Server) loc() *time.Location {
	if s.cfg.Location != nil {
		return s.cfg.Location
	}
	return time.UTC
}

func (s *Server) digestOptions() digest.Options {
	if s.cfg.Digest != nil {
		return *s.cfg.Digest
	}
	return digest.DefaultOptions()
}

// weekParam reads the {week} of the path; a week that is not a week, or
// that has not started, has no digest.
func (s *Server) weekParam(r *http.Request) (digest.Week, error) {
	raw := chi.URLParam(r, "week")
	w, err := digest.ParseWeek(raw)
	if err != nil {
		return w, errorf(http.StatusNotFound, "no digest for %q: %v (weeks are written like 2026-W48)", raw, err)
	}
	if digest.WeekOf(s.now(), s.loc()).Before(w) {
		return w, errorf(http.StatusNotFound, "no digest for %s yet: the week has not started", w)
	}
	return w, nil
}

// digestOf builds a week's digest.
func (s *Server) digestOf(ctx context.Context, w digest.Week) (digest.Digest, error) {
	d, err := digest.Build(ctx, s.store, w, s.loc(), s.now(), s.digestOptions())
	if err != nil {
		return d, unavailable(err)
	}
	return d, nil
}

// digestsOf builds n weeks' digests, from w back, newest first.
func (s *Server) digestsOf(ctx context.Context, w digest.Week, n int) ([]digest.Digest, error) {
	ds, err := digest.BuildWeeks(ctx, s.store, w, n, s.loc(), s.now(), s.digestOptions())
	if err != nil {
		return nil, unavailable(err)
	}
	return ds, nil
}

// digestViewOf is the page's view of d.
func (s *Server) digestViewOf(d digest.Digest) digestView {
	current := digest.WeekOf(s.now(), s.loc())
	v := digestView{
		Title: "AI Recap: " + d.Week.String(), Week: d.Week.String(),
		Range:   weekRange(d.Start, d.End),
		SoFar:   !d.Closed,
		Header:  countsLine(d.Counts),
		Stories: len(d.Items),
		Prev:    digestPath(d.Week.Prev()),
		Quiet:   "A quiet week: no story was covered by two outlets or more.",
	}
	if d.Week.Before(current) {
		v.Next = digestPath(d.Week.Next())
	}
	for _, g := range d.Groups {
		gv := digestGroupView{Name: g.Name}
		if g.Topic != "" {
			gv.Page = topicPath(g.Topic)
		}
		for _, it := range g.Items {
			gv.Items = append(gv.Items, digestItemView{
				Title: it.Title, Page: storyPath(it.Story), URL: webLink(it.URL), LeadSource: it.LeadSource,
				TLDR: it.TLDR, Outlets: "Covered by " + joinNames(it.Outlets),
				Coverage: coverageLabel(len(it.Outlets), it.Articles),
				Update:   it.Update, Growth: it.Growth,
				ISO: it.FirstSeen.UTC().Format(time.RFC3339), Date: it.FirstSeen.In(s.loc()).Format("Mon 2 Jan"),
			})
		}
		v.Groups = append(v.Groups, gv)
	}
	return v
}

func digestPath(w digest.Week) string { return "/digest/" + w.String() }

func topicPath(t news.Topic) string { return "/topics/" + string(t) }

// weekRange is a week's dates for people: "23–29 Nov 2026", "29 Dec 2025 – 4 Jan 2026".
func weekRange(start, end time.Time) string {
	last := end.Add(-time.Hour) // Sunday, whatever the length of its day
	switch {
	case start.Year() != last.Year():
		return start.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
	case start.Month() != last.Month():
		return start.Format("2 Jan") + " – " + last.Format("2 Jan 2006")
	default:
		return start.Format("2") + "–" + last.Format("2 Jan 2006")
	}
}

// countsLine is the header of what was read: "42 sources, 1,234 articles, 87 stories".
func countsLine(c store.Counts) string {
	return thousands(c.Sources) + " " + pluralWord(c.Sources, "source", "sources") + ", " +
		thousands(c.Articles) + " " + pluralWord(c.Articles, "article", "articles") + ", " +
		thousands(c.Stories) + " " + pluralWord(c.Stories, "story", "stories")
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands writes n with thousands separators: 1,234.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// joinNames lists names as a sentence does: "A", "A and B", "A, B and C".
func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return "no outlet"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// digestPage: /digest (the current week so far) and /digest/{week}.
func (s *Server) digestPage(current bool) renderFunc {
	return func(r *http.Request) (*response, error) {
		w := digest.WeekOf(s.now(), s.loc())
		if !current {
			var err error
			if w, err = s.weekParam(r); err != nil {
				return nil, err
			}
		}
		body, err := s.renderDigest(r.Context(), r.URL.Path, w)
		if err != nil {
			return nil, err
		}
		return newResponse(body, "text/html; charset=utf-8"), nil
	}
}

// DigestHTML is the page of week w's digest, as /digest/{week} serves it:
// what `recap digest --format html` prints.
func (s *Server) DigestHTML(ctx context.Context, w digest.Week) ([]byte, error) {
	return s.renderDigest(ctx, digestPath(w), w)
}

func (s *Server) renderDigest(ctx context.Context, path string, w digest.Week) ([]byte, error) {
	d, err := s.digestOf(ctx, w)
	if err != nil {
		return nil, err
	}
	v := s.digestViewOf(d)
	data := pageData{Title: v.Title + " · Recap", Path: path, Feeds: s.digestFeeds(), Content: v}
	return s.renderHTML("digest", data)
}

func (s *Server) digestFeeds() []feedLink {
	return append(s.siteFeeds(),
		feedLink{"application/rss+xml", "Recap: the weekly AI Recap (RSS)", s.abs("/digest.xml")},
		feedLink{"application/atom+xml", "Recap: the weekly AI Recap (Atom)", s.abs("/digest.atom")},
		feedLink{"application/feed+json", "Recap: the weekly AI Recap (JSON Feed)", s.abs("/digest.json")},
	)
}

// archiveView is a page of /digests: weeks newest first, each with how many
// stories its digest holds.
type archiveView struct {
	Weeks []archiveWeek
	Older string // the next page
	Newer string
	Empty string
}

type archiveWeek struct {
	Week, Page, Range string
	Stories           int
	Header            string
	Lead              string // the title of its best story
	SoFar             bool
}

// digestsPage: the archive of digests, archivePage weeks a page, from the
// current week back; a week whose digest is empty is listed as quiet.
func (s *Server) digestsPage(r *http.Request) (*response, error) {
	current := digest.WeekOf(s.now(), s.loc())
	from := current
	if raw := r.URL.Query().Get("before"); raw != "" {
		w, err := digest.ParseWeek(raw)
		if err != nil || current.Before(w) {
			return nil, errorf(http.StatusBadRequest, "before=%q is not a past week like 2026-W48", raw)
		}
		from = w.Prev()
	}
	v := archiveView{Empty: "No digests yet: nothing has been collected."}
	ds, err := s.digestsOf(r.Context(), from, archivePage)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		aw := archiveWeek{Week: d.Week.String(), Page: digestPath(d.Week), Range: weekRange(d.Start, d.End),
			Stories: len(d.Items), Header: countsLine(d.Counts), SoFar: !d.Closed}
		if len(d.Items) > 0 {
			aw.Lead = d.Items[0].Title
		}
		v.Weeks = append(v.Weeks, aw)
	}
	// Older pages exist while an article was published before this one:
	// the newest such article, one step of the articles' index.
	oldest := ds[len(ds)-1]
	before, err := s.store.Articles(r.Context(), store.ArticleQuery{Limit: 1, Before: store.Cursor{Published: oldest.Start}})
	if err != nil {
		return nil, unavailable(err)
	}
	if len(before) > 0 {
		v.Older = "/digests?before=" + oldest.Week.String()
	}
	if from != current {
		newer := from.Next()
		for range archivePage {
			if !newer.Before(current) {
				break
			}
			newer = newer.Next()
		}
		if newer == current {
			v.Newer = "/digests"
		} else {
			v.Newer = "/digests?before=" + newer.String()
		}
	}
	data := pageData{Title: "Weekly AI Recap: every digest · Recap", Path: r.URL.Path, Feeds: s.digestFeeds(), Content: v}
	return s.htmlPageWith(data, "digests")
}

// digestFeed: one item per closed week with a non-empty digest, newest
// first; the item's content is the whole digest, its id the week's page.
func (s *Server) digestFeed(f feedFormat) renderFunc {
	return func(r *http.Request) (*response, error) {
		doc := feedDoc{
			Title:       "Recap: the weekly AI Recap",
			Description: "Each week's top AI stories, chosen from what several independent outlets reported, grouped by topic. One item a week, once the week has ended.",
			Page:        s.abs("/digests"),
			Self:        s.abs("/digest." + f.ext()),
		}
		// Weeks are built digestFeedItems at a time, so a run of busy weeks
		// reads no further back than it needs.
		w := digest.WeekOf(s.now(), s.loc()).Prev()
		for scanned := 0; scanned < digestFeedWeeks && len(doc.Items) < digestFeedItems; scanned += digestFeedItems {
			ds, err := s.digestsOf(r.Context(), w, min(digestFeedItems, digestFeedWeeks-scanned))
			if err != nil {
				return nil, err
			}
			for _, d := range ds {
				if len(d.Items) == 0 || len(doc.Items) == digestFeedItems {
					continue
				}
				it, err := s.digestItem(d)
				if err != nil {
					return nil, err
				}
				doc.Items = append(doc.Items, it)
			}
			w = ds[len(ds)-1].Week.Prev()
		}
		doc.Updated = newestItem(doc.Items)
		if doc.Updated.IsZero() {
			doc.Updated = digest.WeekOf(s.now(), s.loc()).Start(s.loc()).UTC()
		}
		return writeFeed(f, doc)
	}
}

// digestItem is a closed week's digest as a feed item.
func (s *Server) digestItem(d digest.Digest) (feedItem, error) {
	v := s.digestViewOf(d)
	var buf bytes.Buffer
	if err := s.tmpl["digest"].ExecuteTemplate(&buf, "digest-body", absDigest(v, s.abs)); err != nil {
		return feedItem{}, fmt.Errorf("digest %s: %w", d.Week, err)
	}
	page := s.abs(digestPath(d.Week))
	title := fmt.Sprintf("AI Recap %s: %s", d.Week, pluralStories(len(d.Items)))
	summary := fmt.Sprintf("%s (%s). %s.", v.Title, v.Range, v.Header)
	if len(d.Items) > 0 {
		summary += " Top story: " + d.Items[0].Title
	}
	end := d.End.UTC()
	return feedItem{
		ID: page, Link: page, Title: xmlText(title), Summary: xmlText(summary), Content: xmlText(buf.String()),
		Source: "Recap", Published: end, Updated: end,
	}, nil
}

func pluralStories(n int) string {
	if n == 1 {
		return "1 story"
	}
	return strconv.Itoa(n) + " stories"
}

// absDigest makes the view's links absolute, for feed readers.
func absDigest(v digestView, abs func(string) string) digestView {
	groups := make([]digestGroupView, len(v.Groups))
	for i, g := range v.Groups {
		if g.Page != "" {
			g.Page = abs(g.Page)
		}
		items := make([]digestItemView, len(g.Items))
		for j, it := range g.Items {
			it.Page = abs(it.Page)
			items[j] = it
		}
		g.Items = items
		groups[i] = g
	}
	v.Groups = groups
	return v
}

// topicView is a topic's page: its latest stories.
type topicView struct {
	listView
	Slug    string
	FeedURL string
}

// topicPage: /topics/{slug}, the latest stories of one topic.
func (s *Server) topicPage(r *http.Request) (*response, error) {
	topic, err := topicParam(r)
	if err != nil {
		return nil, err
	}
	before, err := parseStoryCursor(r.URL.Query().Get("before"))
	if err != nil {
		return nil, err
	}
	recs, err := s.store.TopicStories(r.Context(), store.TopicQuery{Topic: topic, Limit: s.cfg.PageSize, Before: before})
	if err != nil {
		return nil, unavailable(err)
	}
	list := make([]store.StoryRecord, len(recs))
	for i, r := range recs {
		list[i] = r.StoryRecord
	}
	v := topicView{
		listView: listView{Heading: news.TopicName(topic), Entries: s.storyEntries(list), OlderLabel: "Older stories",
			Empty: "No story on this topic yet."},
		Slug: string(topic), FeedURL: topicPath(topic) + "/feed.xml",
	}
	if c := nextStoryCursor(list, s.cfg.PageSize); c != "" {
		v.Older = topicPath(topic) + "?before=" + c
	}
	data := s.pageData(r, v.Heading+" · Recap", v)
	data.Feeds = append(data.Feeds, feedLink{"application/rss+xml", "Recap: " + v.Heading + " (RSS)", s.abs(v.FeedURL)})
	return s.htmlPageWith(data, "topic")
}

func topicParam(r *http.Request) (news.Topic, error) {
	slug := chi.URLParam(r, "slug")
	t, ok := news.TopicBySlug(slug)
	if !ok {
		var all []string
		for _, t := range news.Topics {
			all = append(all, string(t))
		}
		return t, errorf(http.StatusNotFound, "no topic %q: the topics are %s", slug, strings.Join(all, ", "))
	}
	return t, nil
}

// topicFeed: the latest stories of one topic.
func (s *Server) topicFeed(f feedFormat) renderFunc {
	return func(r *http.Request) (*response, error) {
		topic, err := topicParam(r)
		if err != nil {
			return nil, err
		}
		recs, err := s.store.TopicStories(r.Context(), store.TopicQuery{Topic: topic, Limit: store.DefaultLimit})
		if err != nil {
			return nil, unavailable(err)
		}
		list := make([]store.StoryRecord, len(recs))
		for i, r := range recs {
			list[i] = r.StoryRecord
		}
		name := news.TopicName(topic)
		doc := feedDoc{
			Title:       "Recap: " + name,
			Description: "The latest AI stories on " + strings.ToLower(name) + ", each with the outlets that covered it.",
			Page:        s.abs(topicPath(topic)),
			Self:        s.abs(topicPath(topic) + "/feed." + f.ext()),
		}
		return s.storiesFeed(r.Context(), f, doc, list)
	}
}
