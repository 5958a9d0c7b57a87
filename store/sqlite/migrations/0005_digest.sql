-- The weekly digest and the topic pages. Times are unix milliseconds UTC,
-- as in 0001.

-- analysed_score copies story_analysis.base_score, NULL until the first
-- analysis, as analysed_outlets copies its outlets: ActiveStories chooses
-- the best stories of a week from stories rows alone, a range of
-- stories_updated and a probe of each small row (a hundred to a page), and
-- reads story_analysis, whose rows hold kilobytes of JSON (a page each),
-- only for the few it returns. With the file in memory the two cost the
-- same (BenchmarkDigestReads, a week of 5,000 candidates: 4.7 ms from
-- stories, 4.4 ms probing story_analysis); from disk, or beside other
-- readers in a 16 MB cache, a week's choice reads some 50 pages rather
-- than 5,000.
ALTER TABLE stories ADD COLUMN analysed_score REAL;
UPDATE stories SET analysed_score =
    (SELECT base_score FROM story_analysis WHERE story_analysis.story_id = stories.id);

-- Which analysed stories have a topic, and when each was last updated: a
-- topic page is one backward range of story_topics_updated from an
-- (updated, story_id) cursor, as stories_updated serves the home page.
-- updated copies stories.updated rather than being joined from it: ordered
-- by a column of another table, a page would have to read and sort every
-- story of the topic. The copy is kept in step by SaveAnalyses, which
-- writes a story's rows with its current updated, and by the trigger
-- stories_topics_updated below, whenever SaveStories moves it.
CREATE TABLE story_topics (
    topic    TEXT    NOT NULL,
    story_id INTEGER NOT NULL,
    updated  INTEGER NOT NULL,
    PRIMARY KEY (topic, story_id)
) WITHOUT ROWID;
CREATE INDEX story_topics_updated ON story_topics(topic, updated, story_id);

INSERT OR IGNORE INTO story_topics (topic, story_id, updated)
    SELECT j.value, an.story_id, st.updated
    FROM story_analysis an
    JOIN stories st ON st.id = an.story_id
    CROSS JOIN json_each(an.topics) j
    WHERE j.type = 'text' AND j.value <> '';

-- A story's topic rows are found by the topics its analysis lists, as its
-- entity rows are by its entities: primary-key probes, no index on
-- story_id alone.
CREATE TRIGGER stories_topics_updated AFTER UPDATE OF updated ON stories
WHEN new.updated IS NOT old.updated BEGIN
    UPDATE story_topics SET updated = new.updated WHERE story_id = new.id AND topic IN
        (SELECT value FROM json_each((SELECT topics FROM story_analysis WHERE story_id = new.id)));
END;

-- 0004's cleanup of a story that ends (merged into another), now taking its
-- topic rows too. They and the entity rows go first: both are found
-- through story_analysis.
DROP TRIGGER stories_delete_analysis;
CREATE TRIGGER stories_delete_analysis AFTER DELETE ON stories BEGIN
    DELETE FROM story_entities WHERE story_id = old.id AND entity IN
        (SELECT value FROM json_each((SELECT entities FROM story_analysis WHERE story_id = old.id)));
    DELETE FROM story_topics WHERE story_id = old.id AND topic IN
        (SELECT value FROM json_each((SELECT topics FROM story_analysis WHERE story_id = old.id)));
    DELETE FROM story_analysis WHERE story_id = old.id;
    DELETE FROM story_insights WHERE story_id = old.id;
END;
