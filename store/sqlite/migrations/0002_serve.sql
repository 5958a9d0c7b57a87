-- For the newest-first lists of the web site, feeds and API (Store.Articles):
-- a page is a backward range scan from a (published, id) cursor. In steady
-- polling new articles are recent, so they land at the right edge of this
-- index; a first ingest of old items pays more (see 0001's note).
CREATE INDEX articles_published ON articles(published, id);

-- Change counters (store.Version), bumped in the transaction that makes the
-- change, so a cache keyed on them is never older than what it caches.
CREATE TABLE changes (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    articles    INTEGER NOT NULL,
    articles_at INTEGER NOT NULL,
    sources     INTEGER NOT NULL,
    sources_at  INTEGER NOT NULL
);
INSERT INTO changes (id, articles, articles_at, sources, sources_at) VALUES (1, 0, 0, 0, 0);

-- Search ranks a match in the title above one in the summary, and both
-- above one in the body text (bm25 column weights: title, summary, text).
INSERT INTO articles_fts(articles_fts, rank) VALUES ('rank', 'bm25(10.0, 2.0, 1.0)');
