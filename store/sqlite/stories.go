package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"recap/news"
	"recap/store"
)

// storyPageSize bounds how many stories, with all their members, EachStory
// holds in memory at once.
const storyPageSize = 100

const storyColumns = `st.id, st.lead_article_id, st.first_seen, st.updated, st.article_count, st.version, ` + articleColumns

// CROSS JOIN keeps stories as the outer loop: a page of the list is a range
// of stories_updated and one primary-key probe of articles per story, never
// a walk over articles.
const storyFrom = ` FROM stories st CROSS JOIN articles a ON a.id = st.lead_article_id
	LEFT JOIN sources src ON src.id = a.source_id`

// The queries of the story stage and of the story pages. Each reads a
// range of an index, or probes one per id (TestStoryQueriesUseIndexes):
// they serve a store of a million articles. A set of stories is bound as a
// JSON array of ids for json_each: one parameter however many a page holds.
const (
	// The work queue: articles_unclustered, in its order.
	unclusteredQuery = `SELECT ` + articleColumns + `
		FROM articles a LEFT JOIN sources src ON src.id = a.source_id
		WHERE a.clustered_at IS NULL ORDER BY a.published, a.id LIMIT ?`
	// A page of the clustered articles after a (published, id) cursor: a
	// range of articles_published.
	clusteredQuery = `SELECT ` + articleColumns + `
		FROM articles a LEFT JOIN sources src ON src.id = a.source_id
		WHERE a.story_id IS NOT NULL AND (a.published, a.id) > (?, ?)
		ORDER BY a.published, a.id LIMIT ?`
	storiesQuery = `SELECT ` + storyColumns + storyFrom + `
		ORDER BY st.updated DESC, st.id DESC LIMIT ?`
	storiesBeforeQuery = `SELECT ` + storyColumns + storyFrom + `
		WHERE (st.updated, st.id) < (?, ?) ORDER BY st.updated DESC, st.id DESC LIMIT ?`
	storyQuery     = `SELECT ` + storyColumns + storyFrom + ` WHERE st.id = ?`
	storyPageQuery = `SELECT ` + storyColumns + storyFrom + ` WHERE st.id > ? ORDER BY st.id LIMIT ?`
	// The outlets of a page of stories: their members by articles_story,
	// the members' sightings by sightings_article, both covering indexes.
	outletCountsQuery = `SELECT a.story_id, count(DISTINCT g.source_id)
		FROM json_each(?) j CROSS JOIN articles a ON a.story_id = j.value
		CROSS JOIN sightings g ON g.article_id = a.id
		GROUP BY a.story_id`
	storyMembersQuery = `SELECT ` + articleColumns + `
		FROM json_each(?) j CROSS JOIN articles a ON a.story_id = j.value
		LEFT JOIN sources src ON src.id = a.source_id
		ORDER BY a.story_id, a.published, a.id`
	// The sightings of the members of a set of stories, in sightingsQuery's
	// columns and order.
	storySightingsQuery = `SELECT g.article_id, g.source_id, coalesce(nullif(src.title, ''), src.url), src.url,
		g.item_key, g.guid, g.link, g.first_seen
		FROM json_each(?) j CROSS JOIN articles a ON a.story_id = j.value
		CROSS JOIN sightings g ON g.article_id = a.id
		JOIN sources src ON src.id = g.source_id
		ORDER BY g.article_id, g.first_seen, g.source_id`
)

// prefixScanner scans some columns into prefix before the destinations
// given to Scan, so scanArticle reads the lead after a story's own columns.
type prefixScanner struct {
	row    rowScanner
	prefix []any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.row.Scan(append(p.prefix, dest...)...)
}

func scanStory(row rowScanner) (store.StoryRecord, error) {
	var (
		rec            store.StoryRecord
		first, updated sql.NullInt64
	)
	lead, err := scanArticle(prefixScanner{row, []any{&rec.ID, &rec.Lead, &first, &updated, &rec.Count, &rec.Version}})
	if err != nil {
		return store.StoryRecord{}, err
	}
	rec.FirstSeen, rec.Updated = fromMS(first), fromMS(updated)
	rec.LeadArticle, rec.Title = lead, lead.Title
	return rec, nil
}

// Unclustered returns up to limit articles not yet clustered, earliest
// published first (ties by id), from the articles_unclustered index; limit
// <= 0 means store.DefaultLimit.
func (s *Store) Unclustered(ctx context.Context, limit int) ([]news.Article, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	recs, err := s.queryArticles(ctx, unclusteredQuery, limit)
	if err != nil {
		return nil, fmt.Errorf("unclustered articles: %w", err)
	}
	out := make([]news.Article, len(recs))
	for i, r := range recs {
		out[i] = r.Article
	}
	return out, nil
}

// EachClustered calls fn for every clustered article published at or after
// since (at the store's millisecond precision), in published order. It reads
// a page at a time, a range of articles_published from a (published, id)
// cursor, and holds no transaction while fn runs, so a slow consumer never
// keeps the WAL from being checkpointed.
func (s *Store) EachClustered(ctx context.Context, since time.Time, fn func(news.Article) error) error {
	// The first page starts at (since, 0): ids are positive, so that is
	// "published >= since". since is rounded up to the millisecond, so that
	// what fn sees is never before since.
	pub, after := since.UnixMilli(), int64(0)
	if time.UnixMilli(pub).Before(since) {
		pub++
	}
	for {
		page, err := s.queryArticles(ctx, clusteredQuery, pub, after, articlePageSize)
		if err != nil {
			return fmt.Errorf("clustered articles since %s: %w", since.Format(time.RFC3339), err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, r := range page {
			if err := fn(r.Article); err != nil {
				return err
			}
		}
		last := page[len(page)-1]
		pub, after = last.Published.UnixMilli(), last.ID
	}
}

func checkLease(l store.Lease) error {
	if l.Name == "" || l.Holder == "" {
		return fmt.Errorf("lease %q of %q: name and holder are required", l.Name, l.Holder)
	}
	return nil
}

// AcquireLease takes or extends the lease in one statement: the insert
// takes an absent lease, and the conflict's update takes it over only when
// its holder is l.Holder or it has expired. Being one statement, it is
// atomic against other processes writing the same file.
func (s *Store) AcquireLease(ctx context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	if err := checkLease(l); err != nil {
		return false, fmt.Errorf("acquire %w", err)
	}
	// Expiry is kept in milliseconds: a shorter lease would be expired as
	// soon as it is taken.
	if ttl < time.Millisecond {
		return false, fmt.Errorf("acquire lease %s: ttl %v is under a millisecond", l.Name, ttl)
	}
	now := s.now()
	res, err := s.w.ExecContext(ctx, `INSERT INTO leases (name, holder, expires) VALUES (?1, ?2, ?3)
		ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
		WHERE leases.holder = excluded.holder OR leases.expires <= ?4`,
		l.Name, l.Holder, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("acquire lease %s for %s: %w", l.Name, l.Holder, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("acquire lease %s for %s: %w", l.Name, l.Holder, err)
	}
	if n > 0 {
		s.committed()
	}
	return n > 0, nil
}

// ReleaseLease deletes the lease if l.Holder holds it; another holder's
// lease, or none, is left as it is.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	if err := checkLease(l); err != nil {
		return fmt.Errorf("release %w", err)
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, l.Name, l.Holder)
	if err != nil {
		return fmt.Errorf("release lease %s of %s: %w", l.Name, l.Holder, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		s.committed()
	}
	return nil
}

// holdsLease checks, inside the write transaction tx, that l is held and
// unexpired at now (unix ms); ErrLeaseLost when it is not. The transaction
// holds the file's write lock from its BEGIN IMMEDIATE, so no other process
// can take the lease over between the check and the commit.
func holdsLease(ctx context.Context, tx *sql.Tx, l store.Lease, now int64) error {
	var held bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM leases
		WHERE name = ? AND holder = ? AND expires > ?)`, l.Name, l.Holder, now).Scan(&held); err != nil {
		return fmt.Errorf("check lease %s: %w", l.Name, err)
	}
	if !held {
		return fmt.Errorf("lease %s of %s: %w", l.Name, l.Holder, store.ErrLeaseLost)
	}
	return nil
}

// checkStories refuses what would store a story no page can show, before
// anything is written.
func checkStories(as []store.Assignment, stories []news.Story) error {
	for _, a := range as {
		if a.ArticleID <= 0 || a.StoryID <= 0 || a.DuplicateOf < 0 {
			return fmt.Errorf("assignment %+v: ids must be positive (duplicate_of 0 for none)", a)
		}
	}
	for _, st := range stories {
		if st.ID <= 0 || st.Lead <= 0 {
			return fmt.Errorf("story %d: id and lead (%d) must be positive", st.ID, st.Lead)
		}
		if st.FirstSeen.IsZero() || st.Updated.IsZero() {
			return fmt.Errorf("story %d: first seen and updated times are required", st.ID)
		}
	}
	return nil
}

// SaveStories writes assignments and stories in one transaction on the
// writer connection, where the group writer's transactions and every other
// write queue too, the lease checked inside it (holdsLease). Each write of
// a story raises its version, which makes its analysis and insight stale.
// An assignment of an article that is no longer stored is skipped.
func (s *Store) SaveStories(ctx context.Context, l store.Lease, as []store.Assignment, stories []news.Story) error {
	if err := checkLease(l); err != nil {
		return fmt.Errorf("save stories: %w", err)
	}
	if err := checkStories(as, stories); err != nil {
		return fmt.Errorf("save stories: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save stories: begin: %w", err)
	}
	defer tx.Rollback()
	now := s.now().UnixMilli()
	if err := holdsLease(ctx, tx, l, now); err != nil {
		return fmt.Errorf("save stories: %w", err)
	}
	if len(as) > 0 {
		assign, err := tx.PrepareContext(ctx, `UPDATE articles SET story_id = ?, duplicate_of = ?, clustered_at = ?
			WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("save stories: %w", err)
		}
		defer assign.Close()
		// A story's id is its founding article's: when that article moves
		// to another story, the story it founded was merged away. The
		// trigger stories_delete_analysis (0004) deletes its analysis,
		// entity rows and insight with it.
		merged, err := tx.PrepareContext(ctx, `DELETE FROM stories WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("save stories: %w", err)
		}
		defer merged.Close()
		for _, a := range as {
			if a.StoryID != a.ArticleID {
				if _, err := merged.ExecContext(ctx, a.ArticleID); err != nil {
					return fmt.Errorf("save stories: remove story %d: %w", a.ArticleID, err)
				}
			}
			var dup any
			if a.DuplicateOf != 0 {
				dup = a.DuplicateOf
			}
			if _, err := assign.ExecContext(ctx, a.StoryID, dup, now, a.ArticleID); err != nil {
				return fmt.Errorf("save stories: assign article %d to story %d: %w", a.ArticleID, a.StoryID, err)
			}
		}
	}
	if len(stories) > 0 {
		upsert, err := tx.PrepareContext(ctx, `INSERT INTO stories
			(id, lead_article_id, first_seen, updated, article_count, version) VALUES (?1, ?2, ?3, ?4, ?5, 1)
			ON CONFLICT(id) DO UPDATE SET lead_article_id = ?2, first_seen = ?3, updated = ?4, article_count = ?5,
				version = version + 1`)
		if err != nil {
			return fmt.Errorf("save stories: %w", err)
		}
		defer upsert.Close()
		for _, st := range stories {
			if _, err := upsert.ExecContext(ctx, st.ID, st.Lead, st.FirstSeen.UnixMilli(), st.Updated.UnixMilli(),
				len(st.Articles)); err != nil {
				return fmt.Errorf("save stories: story %d: %w", st.ID, err)
			}
		}
	}
	if err := s.bumpArticles(ctx, tx); err != nil {
		return fmt.Errorf("save stories: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save stories: commit: %w", err)
	}
	s.committed()
	return nil
}

// Stories returns a page of the list, most recently updated first, in two
// queries in one read transaction: the stories with their leads, then the
// outlet count of all of them at once, from their members' sightings
// (articles_story, then sightings_article).
func (s *Store) Stories(ctx context.Context, q store.StoryQuery) ([]store.StoryRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	query, args := storiesQuery, []any{limit}
	if !q.Before.IsZero() {
		query, args = storiesBeforeQuery, []any{q.Before.Updated.UnixMilli(), q.Before.ID, limit}
	}

	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("stories: %w", err)
	}
	defer tx.Rollback()
	recs, err := queryStories(ctx, tx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("stories: %w", err)
	}
	if err := countOutlets(ctx, tx, recs); err != nil {
		return nil, fmt.Errorf("stories: %w", err)
	}
	return recs, nil
}

// countOutlets sets each story's OutletCount from its members' sightings,
// for a whole page in one query (outletCountsQuery).
func countOutlets(ctx context.Context, tx *sql.Tx, recs []store.StoryRecord) error {
	if len(recs) == 0 {
		return nil
	}
	index := make(map[int64]int, len(recs))
	for i := range recs {
		index[recs[i].ID] = i
	}
	rows, err := tx.QueryContext(ctx, outletCountsQuery, storyIDs(recs))
	if err != nil {
		return fmt.Errorf("outlets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return fmt.Errorf("outlets: %w", err)
		}
		if i, ok := index[id]; ok {
			recs[i].OutletCount = n
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("outlets: %w", err)
	}
	return nil
}

func queryStories(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]store.StoryRecord, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.StoryRecord
	for rows.Next() {
		rec, err := scanStory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// storyIDs is the ids of recs as a JSON array, for json_each: one bound
// parameter however many stories a page holds.
func storyIDs(recs []store.StoryRecord) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.ID, 10))
	}
	b.WriteByte(']')
	return b.String()
}

// Story returns one story with its members, their sightings and its outlets.
func (s *Store) Story(ctx context.Context, id int64) (store.StoryRecord, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.StoryRecord{}, fmt.Errorf("story %d: %w", id, err)
	}
	defer tx.Rollback()
	rec, err := scanStory(tx.QueryRowContext(ctx, storyQuery, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.StoryRecord{}, fmt.Errorf("story %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.StoryRecord{}, fmt.Errorf("story %d: %w", id, err)
	}
	recs := []store.StoryRecord{rec}
	if err := fillStories(ctx, tx, recs); err != nil {
		return store.StoryRecord{}, fmt.Errorf("story %d: %w", id, err)
	}
	return recs[0], nil
}

// EachStory calls fn for every story in id order, with everything, reading
// storyPageSize stories at a time and holding no transaction while fn runs.
// Stories stored meanwhile with higher ids are visited too. The first error
// of fn stops the walk and is returned.
func (s *Store) EachStory(ctx context.Context, fn func(store.StoryRecord) error) error {
	return walkByID(func(after int64) ([]store.StoryRecord, error) { return s.storyPage(ctx, after) },
		func(r store.StoryRecord) int64 { return r.ID }, fn)
}

func (s *Store) storyPage(ctx context.Context, after int64) ([]store.StoryRecord, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("stories after %d: %w", after, err)
	}
	defer tx.Rollback()
	recs, err := queryStories(ctx, tx, storyPageQuery, after, storyPageSize)
	if err != nil {
		return nil, fmt.Errorf("stories after %d: %w", after, err)
	}
	if err := fillStories(ctx, tx, recs); err != nil {
		return nil, fmt.Errorf("stories after %d: %w", after, err)
	}
	return recs, nil
}

// fillStories reads the members of recs with their sightings (two queries
// for the whole set) and derives each story's Articles and Outlets.
func fillStories(ctx context.Context, tx *sql.Tx, recs []store.StoryRecord) error {
	if len(recs) == 0 {
		return nil
	}
	ids := storyIDs(recs)
	rows, err := tx.QueryContext(ctx, storyMembersQuery, ids)
	if err != nil {
		return fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var members []store.ArticleRecord
	for rows.Next() {
		m, err := scanArticle(rows)
		if err != nil {
			return fmt.Errorf("members: %w", err)
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("members: %w", err)
	}
	rows.Close()
	if err := attachSightingsFrom(ctx, tx, members, storySightingsQuery, ids); err != nil {
		return fmt.Errorf("members: %w", err)
	}
	index := make(map[int64]int, len(recs))
	for i := range recs {
		index[recs[i].ID] = i
		recs[i].Articles, recs[i].Members, recs[i].Outlets = []int64{}, []store.ArticleRecord{}, []store.Outlet{}
	}
	for _, m := range members {
		i, ok := index[m.StoryID]
		if !ok {
			continue
		}
		recs[i].Members = append(recs[i].Members, m)
		recs[i].Articles = append(recs[i].Articles, m.ID)
	}
	for i := range recs {
		recs[i].Outlets = outletsOf(recs[i].Members)
		recs[i].OutletCount = len(recs[i].Outlets)
	}
	return nil
}

// outletsOf lists the distinct sources of the members' sightings, each
// dated by the earliest member it carried, earliest first (ties by source id).
func outletsOf(members []store.ArticleRecord) []store.Outlet {
	out := []store.Outlet{}
	seen := map[int64]int{}
	for _, m := range members {
		for _, g := range m.Seen {
			if i, ok := seen[g.SourceID]; ok {
				if m.Published.Before(out[i].FirstSeen) {
					out[i].FirstSeen = m.Published
				}
				continue
			}
			seen[g.SourceID] = len(out)
			out = append(out, store.Outlet{SourceID: g.SourceID, Name: g.Source, URL: g.SourceURL, FirstSeen: m.Published})
		}
	}
	slices.SortFunc(out, func(a, b store.Outlet) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.SourceID, b.SourceID)
	})
	return out
}
