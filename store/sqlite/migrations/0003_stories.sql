-- The story stage (dedupe levels 3 and 4). Times are unix milliseconds UTC,
-- as in 0001.

-- One row per story. Its members are the articles whose story_id is its id
-- (articles_story, 0001); the row keeps what the lists need without reading
-- them: the lead, the dates and the member count.
CREATE TABLE stories (
    -- The id of the article that started the story: stable, and
    -- /articles/{id} of that article finds its story by the same number.
    id              INTEGER PRIMARY KEY,
    lead_article_id INTEGER NOT NULL,
    first_seen      INTEGER NOT NULL,
    updated         INTEGER NOT NULL,
    article_count   INTEGER NOT NULL
);
-- The home page: the most recently updated stories, a backward range scan
-- from an (updated, id) cursor, as articles_published serves Articles.
CREATE INDEX stories_updated ON stories(updated, id);

-- The work queue, in the order the clusterer takes it (published, then id)
-- rather than by id: a feed's old items arriving late must still be
-- clustered in arrival order. Articles leave it once clustered, so it stays
-- as small as the backlog.
DROP INDEX articles_unclustered;
CREATE INDEX articles_unclustered ON articles(published, id) WHERE clustered_at IS NULL;

-- Named, expiring rights to run a stage: with several instances on one
-- store, the holder of the "stories" lease is the only clusterer. A lease is
-- taken or extended by one conditional upsert, atomic across processes.
CREATE TABLE leases (
    name    TEXT    PRIMARY KEY,
    holder  TEXT    NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
