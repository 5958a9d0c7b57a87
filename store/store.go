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

	Ping(ctx context.Context) error
	Close() error
}
