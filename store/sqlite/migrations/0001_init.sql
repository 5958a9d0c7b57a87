-- Times are INTEGER unix milliseconds UTC; NULL where a time is unknown.

CREATE TABLE sources (
    id            INTEGER PRIMARY KEY,
    url           TEXT    NOT NULL UNIQUE,
    title         TEXT    NOT NULL DEFAULT '',
    site_url      TEXT    NOT NULL DEFAULT '',
    filter        TEXT    NOT NULL DEFAULT 'all',
    weight        REAL    NOT NULL DEFAULT 1,
    interval_s    INTEGER NOT NULL DEFAULT 0,
    enabled       INTEGER NOT NULL DEFAULT 1,
    created       INTEGER NOT NULL,
    etag          TEXT    NOT NULL DEFAULT '',
    last_modified TEXT    NOT NULL DEFAULT '',
    last_check    INTEGER,
    -- 0, not NULL, for "never scheduled": it sorts first and keeps
    -- "next_check <= now" a plain range over the index.
    next_check    INTEGER NOT NULL DEFAULT 0,
    last_status   INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    error_count   INTEGER NOT NULL DEFAULT 0,
    last_items    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sources_due ON sources(next_check) WHERE enabled = 1;

CREATE TABLE articles (
    id           INTEGER PRIMARY KEY,
    -- Canonical URL, dedupe level 2. NULL for items without a link: NULLs
    -- never collide under UNIQUE, so each such item stays its own article.
    url          TEXT UNIQUE,
    title        TEXT    NOT NULL DEFAULT '',
    summary      TEXT    NOT NULL DEFAULT '',
    content_html TEXT    NOT NULL DEFAULT '',
    text         TEXT    NOT NULL DEFAULT '',
    author       TEXT    NOT NULL DEFAULT '',
    categories   TEXT,              -- JSON array; NULL when none
    image_url    TEXT    NOT NULL DEFAULT '',
    published    INTEGER NOT NULL,
    updated      INTEGER,
    collected    INTEGER NOT NULL,
    -- The source the article was first stored from; only it may edit the text.
    source_id    INTEGER REFERENCES sources(id) ON DELETE SET NULL,
    content_hash BLOB    NOT NULL,
    -- Filled by the story stage of a later issue.
    story_id     INTEGER,
    duplicate_of INTEGER,
    clustered_at INTEGER
);
-- Per source, by date: serves a source's article list, its article count,
-- and the ON DELETE of sources. There is deliberately no index on published
-- alone: in a first ingest, feeds' dates fall all over the timeline, and in
-- BenchmarkSaveFetch that index alone doubled the pages each commit writes
-- (53 of 106 per 50 items). Add it with the query that needs it.
CREATE INDEX articles_source_published ON articles(source_id, published);
CREATE INDEX articles_story ON articles(story_id) WHERE story_id IS NOT NULL;
-- The story stage's work queue: articles not yet clustered, in arrival order.
CREATE INDEX articles_unclustered ON articles(id) WHERE clustered_at IS NULL;

-- One row per (source, item): dedupe level 1, and the record of every outlet
-- that carried an article.
--
-- The key is key_hash, the first 8 bytes of SHA-256(item_key) as a signed
-- integer, not the key text: an integer key makes the b-tree's cells and
-- comparisons smaller than keys of 30 to 200 bytes of URL or GUID. Two items
-- of one source colliding is negligible (about n*n/2^65: 3e-8 for a source of
-- a million items), and only that source's own items could collide, since
-- source_id is part of the key. item_key stays as published, for reading.
CREATE TABLE sightings (
    source_id    INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    key_hash     INTEGER NOT NULL,
    item_key     TEXT    NOT NULL,
    article_id   INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    guid         TEXT    NOT NULL DEFAULT '',
    link         TEXT    NOT NULL DEFAULT '',
    content_hash BLOB    NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    PRIMARY KEY (source_id, key_hash)
) WITHOUT ROWID;
CREATE INDEX sightings_article ON sightings(article_id);

CREATE TABLE fetches (
    id            INTEGER PRIMARY KEY,
    source_id     INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    duration_ms   INTEGER NOT NULL DEFAULT 0,
    bytes         INTEGER NOT NULL DEFAULT 0,
    items         INTEGER NOT NULL DEFAULT 0,
    new_items     INTEGER NOT NULL DEFAULT 0,
    updated_items INTEGER NOT NULL DEFAULT 0,
    error         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX fetches_source_at ON fetches(source_id, at);

-- Full-text index over the articles' text, its content read from articles
-- (external content).
--
-- New articles are indexed in bulk, after the fact (Store.IndexSearch, run in
-- the background), not row by row as they are stored: FTS5 writes a segment
-- at every statement savepoint and merges segments as they pile up, so
-- indexing per fetch of 50 items cost about 1.8 ms of the writer's time per
-- fetch, against 0.6 ms in batches of thousands. search_state.indexed_upto is
-- the highest article id indexed; every id above it waits for the indexer.
-- The triggers keep the indexed part in step with edits and deletes, and
-- index at once a new row whose id falls in the indexed part (a reused id).
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, summary, text,
    content = 'articles', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TABLE search_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
);
INSERT INTO search_state (id, indexed_upto) VALUES (1, 0);

CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles
WHEN new.id <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
    INSERT INTO articles_fts(rowid, title, summary, text)
    VALUES (new.id, new.title, new.summary, new.text);
END;

CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles
WHEN old.id <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)
    VALUES ('delete', old.id, old.title, old.summary, old.text);
END;

CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, summary, text ON articles
WHEN old.id <= (SELECT indexed_upto FROM search_state WHERE id = 1) BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)
    VALUES ('delete', old.id, old.title, old.summary, old.text);
    INSERT INTO articles_fts(rowid, title, summary, text)
    VALUES (new.id, new.title, new.summary, new.text);
END;
