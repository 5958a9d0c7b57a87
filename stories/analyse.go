package stories

import (
	"context"
	"errors"
	"fmt"
	"time"

	"recap/news"
	"recap/store"
)

// After clustering, the stage analyses every story that is new or changed
// since its last analysis: entities, topics, audiences, AI relevance, the
// extractive TL;DR and takeaways, and the ranking score. It runs under the
// same lease as the clustering, so one instance analyses while it
// clusters, and a story is analysed at the version it was just written.

const (
	// analyseBatch stories are read, analysed and saved in one transaction.
	analyseBatch = 200
	// maxEntities bounds what a story keeps; the timeline and the related
	// stories match on the first few.
	maxEntities = 12
)

// analyse brings every stale analysis up to date. A crash loses at most
// the batch in progress: its stories are still stale and the next run
// takes them again.
func (st *Stage) analyse(ctx context.Context, weights map[int64]float64, run *Result) error {
	// The store reports each story until its analysis is at its version:
	// a story seen twice at one version means the save did not take, and
	// looping on it would never end.
	done := map[int64]int64{}
	nextReport := reportEvery / 10
	for ctx.Err() == nil {
		recs, err := st.store.StoriesToAnalyse(ctx, analyseBatch)
		if err != nil {
			return fmt.Errorf("stories: analysis queue: %w", err)
		}
		if len(recs) == 0 {
			return nil
		}
		out := make([]store.AnalysisRecord, 0, len(recs))
		now := st.now()
		for _, rec := range recs {
			if v, ok := done[rec.ID]; ok && v == rec.Version {
				return fmt.Errorf("stories: the analysis of story %d at version %d was saved but the store still lists it as stale", rec.ID, rec.Version)
			}
			done[rec.ID] = rec.Version
			out = append(out, store.AnalysisRecord{
				StoryID:  rec.ID,
				Version:  rec.Version,
				Analysis: Analyse(rec, weights, now),
				Outlets:  rec.OutletCount,
				Analysed: now,
			})
		}
		if err := st.store.SaveAnalyses(ctx, st.lease, out); err != nil {
			if errors.Is(err, store.ErrLeaseLost) {
				return err
			}
			return fmt.Errorf("stories: save analyses: %w", err)
		}
		run.Analysed += len(out)
		if run.Analysed >= nextReport {
			st.log.Info("stories: analysis progress", "analysed", run.Analysed)
			nextReport += reportEvery / 10
		}
		if ok, err := st.store.AcquireLease(ctx, st.lease, LeaseTTL); err != nil {
			return fmt.Errorf("stories: lease: %w", err)
		} else if !ok {
			return store.ErrLeaseLost
		}
	}
	return ctx.Err()
}

// Members is what the analysis reads of a story's members: the title, and
// the longer of the summary and the content's text.
func Members(rec store.StoryRecord) []news.Member {
	out := make([]news.Member, len(rec.Members))
	for i, m := range rec.Members {
		text := m.Summary
		if len(m.Text) > len(text) {
			text = m.Text
		}
		out[i] = news.Member{
			Article:   m.ID,
			Source:    m.SourceID,
			Title:     m.Title,
			Text:      text,
			Published: m.Published,
			Duplicate: m.DuplicateOf != 0,
		}
	}
	return out
}

// RankInputOf is what a story's ranking score is computed from: each
// outlet that carried it, with its weight (1 for a source gone since), and
// its AI relevance.
func RankInputOf(rec store.StoryRecord, weights map[int64]float64, relevance float64) news.RankInput {
	in := news.RankInput{FirstSeen: rec.FirstSeen, Relevance: relevance}
	for _, o := range rec.Outlets {
		w, ok := weights[o.SourceID]
		if !ok {
			w = 1
		}
		in.Outlets = append(in.Outlets, news.RankOutlet{Name: o.Name, Weight: w, FirstSeen: o.FirstSeen})
	}
	return in
}

// Analyse computes a story's analysis from its members. It is pure: the
// same story, weights and time give the same analysis.
func Analyse(rec store.StoryRecord, weights map[int64]float64, now time.Time) news.Analysis {
	members := Members(rec)
	ents := news.ExtractEntities(members, maxEntities)
	topics := news.ClassifyTopics(members, ents)
	rel := news.StoryRelevance(members)
	tldr, takeaways := news.Summarize(members)
	return news.Analysis{
		Entities:  ents,
		Topics:    topics,
		Audiences: news.AudiencesFor(topics, ents),
		Relevance: rel,
		TLDR:      tldr,
		Takeaways: takeaways,
		Rank:      news.RankStory(RankInputOf(rec, weights, rel), now),
	}
}
