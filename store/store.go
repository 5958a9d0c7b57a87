// Package store keeps sources, articles and every fetch. Store is the
// interface every backend implements; storetest holds the conformance suite
// they all run.
package store

import (
	"context"
	"errors"
	"time"

	"recap/news"
)

var (
	// ErrNotFound: no row with that id.
	ErrNotFound = errors.New("not found")
	// ErrExists: a source with that URL is already stored.
	ErrExists = errors.New("already exists")
	// ErrLeaseLost: the lease named in a write is held by another holder,
	// or has expired; nothing was written.
	ErrLeaseLost = errors.New("lease lost")
)

// Filter values of a source.
const (
	FilterAll = "all" // every item is AI news
	FilterAI  = "ai"  // keep only the items that look like AI news
)

// Source is a feed Recap polls, with its polling state.
type Source struct {
	ID       int64
	URL      string // the feed's URL
	Title    string
	SiteURL  string
	Filter   string        // FilterAll or FilterAI
	Weight   float64       // how much an outlet counts when ranking; 1 is normal
	Interval time.Duration // fixed polling interval; 0 = adapt to the feed
	Enabled  bool
	Created  time.Time

	// Polling state, written by SaveFetch.
	ETag         string
	LastModified string
	LastCheck    time.Time
	NextCheck    time.Time
	LastStatus   int
	LastError    string
	ErrorCount   int // consecutive failed fetches; 0 after a success
	LastItems    int // items in the last successful fetch

	Articles int // articles first stored from this source (read-only)
}

// Fetch is the record of one fetch of one source.
type Fetch struct {
	SourceID int64
	At       time.Time
	Status   int // HTTP status; 0 when no response came
	Duration time.Duration
	Bytes    int64
	Items    int // items the feed held
	New      int // articles stored for the first time
	Updated  int // articles whose text changed
	Err      string
}

// FetchResult is everything one fetch changes, saved in one transaction.
type FetchResult struct {
	Fetch    Fetch
	Articles []news.Article // normalized items; nil after a 304 or an error

	NewURL       string // a permanent redirect's target; "" keeps the URL
	Title        string // the feed's title, when the source has none yet
	SiteURL      string
	ETag         string
	LastModified string
	NextCheck    time.Time
	ErrorCount   int
}

// SaveStats says what SaveFetch did with the articles.
type SaveStats struct {
	New       int // new articles
	Updated   int // existing articles whose text changed
	Sightings int // new sightings of articles stored before (another source, or a new item key)
	Unchanged int
}

// Sighting is one appearance of an article in one source's feed.
type Sighting struct {
	SourceID  int64
	Source    string // the source's title, else its URL
	SourceURL string
	GUID      string // as the feed published it
	Link      string // as the feed published it
	FirstSeen time.Time
}

// ArticleRecord is an article with every sighting of it.
type ArticleRecord struct {
	news.Article
	Source    string // title of the source it was first stored from
	SourceURL string
	Seen      []Sighting
}

// Cursor is a position in the newest-first list of articles: the list
// continues with the articles ordered after (Published, ID).
type Cursor struct {
	Published time.Time
	ID        int64
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == 0 && c.Published.IsZero() }

// ArticleQuery selects one page of the newest-first list of articles.
type ArticleQuery struct {
	Limit    int    // at most this many; <= 0 means DefaultLimit
	Before   Cursor // zero: from the newest
	SourceID int64  // 0: every source; else the articles first stored from it
}

// DefaultLimit is the page size of an ArticleQuery without a limit.
const DefaultLimit = 50

// SearchQuery selects one page of the search results for Text.
type SearchQuery struct {
	Text   string // words to match, all of them; taken literally
	Limit  int    // <= 0 means DefaultLimit
	Offset int
}

// Version tells whether what the store holds changed: each counter goes up
// with every committed change of its kind, so equal versions mean equal
// content. Pages and feeds are cached on it.
type Version struct {
	Articles   int64     // articles added, edited, seen again by another source, or removed
	ArticlesAt time.Time // when Articles last went up; zero if never
	Sources    int64     // sources added, removed or polled
	SourcesAt  time.Time
	// Searchable moves when stored articles become searchable (a backend
	// may index them shortly after they are stored).
	Searchable int64
}

// Assignment places one article in a story (dedupe levels 3 and 4).
type Assignment struct {
	ArticleID   int64
	StoryID     int64
	DuplicateOf int64 // the original this article is a near-copy of; 0 if none
}

// Lease is a named, expiring right to run one stage: with several
// instances on one store, only the holder of the "stories" lease clusters.
type Lease struct {
	Name   string
	Holder string // unique per process
}

// StoryRecord is a stored story with what pages show of it.
type StoryRecord struct {
	news.Story // Articles is filled by Story and EachStory only
	// Title is the lead article's title.
	Title string
	// LeadArticle is the lead article, with its source's title; Seen is nil.
	LeadArticle ArticleRecord
	// Count is the number of member articles.
	Count int
	// Outlets are the distinct sources that carried any member (every
	// sighting counts), earliest first; OutletCount is their number.
	Outlets     []Outlet // filled by Story and EachStory only
	OutletCount int
	// Members are the member articles with their sightings, earliest
	// published first; filled by Story and EachStory only.
	Members []ArticleRecord
	// Version goes up each time SaveStories writes the story: an analysis
	// or insight made at an older version is stale.
	Version int64
}

// AnalysisRecord is a story's stored analysis and the story version it was
// computed for.
type AnalysisRecord struct {
	StoryID int64
	Version int64
	news.Analysis
	// Outlets is the story's number of outlets at that version, kept for
	// StoryRefs.
	Outlets  int
	Analysed time.Time
}

// InsightRecord is a story's stored LLM insight and the story version it was
// written for.
type InsightRecord struct {
	StoryID int64
	Version int64
	news.Insight
}

// AnalysedStory is a story with its analysis.
type AnalysedStory struct {
	StoryRecord
	Analysis AnalysisRecord
}

// Counts says what Recap read in a span of time.
type Counts struct {
	Sources  int // distinct sources that carried an article published in the span
	Articles int // articles published in the span
	Stories  int // stories with an article published in the span
}

// TopicQuery selects one page of a topic's analysed stories, most recently
// updated first.
type TopicQuery struct {
	Topic  news.Topic
	Limit  int // <= 0 means DefaultLimit
	Before StoryCursor
}

// RefQuery selects the analysed stories that share an entity with a story,
// for its timeline and its related stories.
type RefQuery struct {
	Entities []string  // entity keys; a story matches when it has any of them
	From, To time.Time // first seen in [From, To); zero To means no bound
	Exclude  int64     // a story id to leave out (the story itself)
	Limit    int       // at most this many, highest Score first; <= 0 means DefaultLimit
}

// Outlet is one source that carried a story, and when it first did.
type Outlet struct {
	SourceID  int64
	Name      string    // the source's title, else its URL
	URL       string    // the source's feed URL
	FirstSeen time.Time // the earliest published time of its members
}

// StoryCursor is a position in the list of stories, most recently updated
// first: the list continues with the stories ordered after (Updated, ID).
type StoryCursor struct {
	Updated time.Time
	ID      int64
}

// IsZero reports whether c is the start of the list.
func (c StoryCursor) IsZero() bool { return c.ID == 0 && c.Updated.IsZero() }

// StoryQuery selects one page of stories, most recently updated first.
type StoryQuery struct {
	Limit  int // <= 0 means DefaultLimit
	Before StoryCursor
}

// Store is what every backend implements.
type Store interface {
	// AddSource stores a new source, enabled (see SetSourceEnabled);
	// ErrExists when its URL is present.
	AddSource(ctx context.Context, s Source) (Source, error)
	Source(ctx context.Context, id int64) (Source, error)
	Sources(ctx context.Context) ([]Source, error)
	// RemoveSource deletes the source and its fetch records; articles
	// stay, and so do their sightings in other sources.
	RemoveSource(ctx context.Context, id int64) error
	SetSourceEnabled(ctx context.Context, id int64, enabled bool) error
	// DueSources returns enabled sources whose next check is at or before now,
	// the most overdue first.
	DueSources(ctx context.Context, now time.Time, limit int) ([]Source, error)

	// SaveFetch stores the articles of one fetch (dedupe levels 1 and 2 by
	// unique constraints), the fetch record and the source's new state, all in
	// one transaction.
	SaveFetch(ctx context.Context, r FetchResult) (SaveStats, error)
	// Fetches returns a source's latest fetch records, newest first.
	Fetches(ctx context.Context, sourceID int64, limit int) ([]Fetch, error)

	// EachArticle calls fn for every article in id order, with its sightings.
	EachArticle(ctx context.Context, fn func(ArticleRecord) error) error
	// Article returns one article with its sightings.
	Article(ctx context.Context, id int64) (ArticleRecord, error)
	// CountArticles returns the number of stored articles.
	CountArticles(ctx context.Context) (int, error)
	// Articles returns a page of articles, newest published first (ties by
	// id, higher first), without their sightings (Seen is nil).
	Articles(ctx context.Context, q ArticleQuery) ([]ArticleRecord, error)
	// Search returns a page of the articles whose title, summary or text
	// match every word of q.Text, best match first, without their sightings.
	// Articles are searchable shortly after they are stored. A backend may
	// rank only the newest few thousand matches, to stay fast on common words.
	Search(ctx context.Context, q SearchQuery) ([]ArticleRecord, error)
	// Version returns the store's change counters.
	Version(ctx context.Context) (Version, error)

	// The story stage. Unclustered returns up to limit articles not yet
	// placed in a story, earliest published first (ties by id), without
	// their sightings: the stage's work queue.
	Unclustered(ctx context.Context, limit int) ([]news.Article, error)
	// EachClustered calls fn, in published order (ties by id), for every
	// article placed in a story and published at or after since, without
	// sightings: a new clusterer learns the recent stories from them.
	EachClustered(ctx context.Context, since time.Time, fn func(news.Article) error) error
	// AcquireLease takes the named lease for ttl, or extends it when
	// l.Holder holds it already; false when another holder's lease has not
	// expired.
	AcquireLease(ctx context.Context, l Lease, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if l.Holder holds it.
	ReleaseLease(ctx context.Context, l Lease) error
	// SaveStories writes the assignments (story_id, duplicate_of, clustered)
	// and stores or replaces each story in stories, in one transaction,
	// only while l is held and unexpired (else ErrLeaseLost, nothing
	// written). It counts as a change of articles in Version. An article
	// assigned to a story other than its own id ends the story that has
	// its id, if any: stories merge that way, the smaller into the larger.
	SaveStories(ctx context.Context, l Lease, as []Assignment, stories []news.Story) error
	// Stories returns a page of stories, most recently updated first (ties
	// by id, higher first), with Title, LeadArticle, Count and OutletCount.
	Stories(ctx context.Context, q StoryQuery) ([]StoryRecord, error)
	// Story returns one story with everything (members, outlets).
	Story(ctx context.Context, id int64) (StoryRecord, error)
	// EachStory calls fn for every story in id order, with everything.
	EachStory(ctx context.Context, fn func(StoryRecord) error) error

	// The analysis, done by the story stage after clustering.
	// StoriesToAnalyse returns up to limit stories whose analysis is
	// missing or was made at an older version, earliest first seen first
	// (ties by id), with everything (members, outlets, version).
	StoriesToAnalyse(ctx context.Context, limit int) ([]StoryRecord, error)
	// SaveAnalyses stores each analysis, replacing the story's previous
	// one, and indexes its entity keys and topics for StoryRefs, in one
	// transaction, only while l is held and unexpired (else ErrLeaseLost,
	// nothing written). An analysis of a story that no longer exists is
	// skipped. A story that ends (merged into another) loses its analysis.
	// It counts as a change of articles in Version, so pages show it.
	SaveAnalyses(ctx context.Context, l Lease, recs []AnalysisRecord) error
	// Analysis returns a story's analysis; ErrNotFound when it has none yet.
	Analysis(ctx context.Context, storyID int64) (AnalysisRecord, error)
	// StoryRefs returns the analysed stories matching q, highest
	// Analysis.Rank.Base first, with their title, dates, entity keys,
	// topics, outlets and base score.
	StoryRefs(ctx context.Context, q RefQuery) ([]news.StoryRef, error)

	// The weekly digest and the topic pages.
	// ActiveStories returns the analysed stories of at least minOutlets
	// outlets (as analysed) that have a member published in [from, to):
	// first seen before to, updated at or after from; highest base score
	// first (ties by id, lower first), at most limit (<= 0 means
	// DefaultLimit), with everything (members, outlets, version) and their
	// analysis.
	ActiveStories(ctx context.Context, from, to time.Time, minOutlets, limit int) ([]AnalysedStory, error)
	// CountBetween counts the articles published in [from, to), the
	// sources that carried them and the stories they are in.
	CountBetween(ctx context.Context, from, to time.Time) (Counts, error)
	// TopicStories returns a page of the analysed stories whose analysis
	// has q.Topic, most recently updated first (ties by id, higher
	// first), with the fields Stories fills and their analysis.
	TopicStories(ctx context.Context, q TopicQuery) ([]AnalysedStory, error)

	// The optional LLM insights. StoriesForInsight returns up to limit
	// stories with at least minOutlets outlets whose insight is missing or
	// was written for an older version, most recently updated first, with
	// everything.
	StoriesForInsight(ctx context.Context, minOutlets, limit int) ([]StoryRecord, error)
	// SaveInsight stores a story's insight, replacing the previous one; a
	// story that no longer exists is skipped. It counts as a change of
	// articles in Version, so pages show it.
	SaveInsight(ctx context.Context, rec InsightRecord) error
	// Insight returns a story's insight; ErrNotFound when it has none.
	Insight(ctx context.Context, storyID int64) (InsightRecord, error)

	Ping(ctx context.Context) error
	Close() error
}
