-- The analysis of each story (entities, topics, summary, rank) and its
-- optional LLM insight. Times are unix milliseconds UTC, as in 0001.

-- A story's version goes up each time SaveStories writes it; an analysis or
-- insight made at an older version is stale. Stories stored before this
-- step count as written once, so all of them wait for their first analysis.
--
-- The two work queues are partial indexes over stories, each holding only
-- the stories that wait, as articles_unclustered holds only the articles
-- that wait: a queue read is a range of a small index however many stories
-- are done. For that the index's condition must compare two columns of one
-- row, so the version each analysis and insight was made at is kept on the
-- story too (analysed_version, insight_version), in step with story_analysis
-- and story_insights in the transaction that writes those. A join to them
-- instead would read every analysed story to find the few stale ones.
--
-- analysed_outlets copies story_analysis.outlets, NULL until the first
-- analysis, for the insight queue: its index is keyed by it, so "at least
-- N outlets" is a range, and only that range is sorted by recency. In a
-- steady state that range is the insight stage's backlog, not the store.
ALTER TABLE stories ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN analysed_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN analysed_outlets INTEGER;
ALTER TABLE stories ADD COLUMN insight_version INTEGER NOT NULL DEFAULT 0;
UPDATE stories SET version = 1;

-- StoriesToAnalyse: the stale stories, earliest first seen first.
CREATE INDEX stories_to_analyse ON stories(first_seen, id) WHERE analysed_version < version;
-- StoriesForInsight: the analysed stories whose insight is stale, by
-- outlet count, then most recently updated.
CREATE INDEX stories_to_insight ON stories(analysed_outlets, updated, id)
    WHERE insight_version < version AND analysed_outlets IS NOT NULL;

-- One row per analysed story: the whole news.Analysis as JSON in data, and
-- beside it what StoryRefs reads of many stories without decoding data.
-- entities and topics are JSON arrays of keys, most central first: an
-- entity key may hold spaces ("sam altman"), and json_each reads the
-- array when the story's entity rows are replaced or deleted.
CREATE TABLE story_analysis (
    story_id   INTEGER PRIMARY KEY,
    version    INTEGER NOT NULL,
    analysed   INTEGER NOT NULL,
    base_score REAL    NOT NULL,
    outlets    INTEGER NOT NULL,
    entities   TEXT    NOT NULL,
    topics     TEXT    NOT NULL,
    data       TEXT    NOT NULL
);

-- Which stories name an entity, when each was first seen and its base
-- score: the timeline and the related stories read, per entity, one range
-- of story_entities_seen, which carries story_id (the table's key) and the
-- score, so the stories are chosen from the index alone and only the few
-- returned are read from story_analysis. A common entity is named by tens
-- of thousands of stories, and a probe of story_analysis for each (its rows
-- hold kilobytes of JSON) took BenchmarkStoryRefs/timeline, at 50,000
-- stories, to 42 ms a query against 4.3 ms from the index alone.
-- first_seen and base_score are the story's at the time of the analysis; a
-- story whose first_seen moves is written again, so it is analysed again.
CREATE TABLE story_entities (
    entity     TEXT    NOT NULL,
    story_id   INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    base_score REAL    NOT NULL,
    PRIMARY KEY (entity, story_id)
) WITHOUT ROWID;
CREATE INDEX story_entities_seen ON story_entities(entity, first_seen, base_score);

-- One row per story with an LLM insight: news.Insight as JSON.
CREATE TABLE story_insights (
    story_id INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL,
    created  INTEGER NOT NULL,
    data     TEXT    NOT NULL
);

-- A story that ends (merged into another) takes its analysis, entity rows
-- and insight with it, whichever statement deletes it. The entity rows are
-- found by the keys its analysis lists: primary-key probes, no index on
-- story_id alone.
CREATE TRIGGER stories_delete_analysis AFTER DELETE ON stories BEGIN
    DELETE FROM story_entities WHERE story_id = old.id AND entity IN
        (SELECT value FROM json_each((SELECT entities FROM story_analysis WHERE story_id = old.id)));
    DELETE FROM story_analysis WHERE story_id = old.id;
    DELETE FROM story_insights WHERE story_id = old.id;
END;
