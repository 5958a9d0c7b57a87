package stories

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"recap/internal/newsdata"
	"recap/news"
	"recap/store"
	"recap/store/sqlite"
)

// realStories stores the shared AI news items (../../shared/data), one
// source per feed, clusters them with the stage and returns every story
// with its members, and the sources' weights. It skips when the data is
// not beside the repository.
func realStories(b *testing.B) ([]store.StoryRecord, map[int64]float64, *Stage, store.Store) {
	b.Helper()
	path := filepath.Join("..", "..", "shared", "data", "ai-news-items.jsonl.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("no shared news data: %v", err)
	}
	items, err := newsdata.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "recap.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	byFeed := map[string][]news.Article{}
	for _, it := range items {
		at, ok := it.PublishedTime()
		if !ok || it.Title == "" {
			continue
		}
		url, err := news.CanonicalURL(it.Link, nil)
		if err != nil {
			continue
		}
		byFeed[it.Feed] = append(byFeed[it.Feed], news.Article{ItemKey: news.ItemKey(it.GUID, url, it.Title, at),
			GUID: it.GUID, Link: it.Link, URL: url, Title: it.Title, Summary: it.Summary, Published: at, Collected: at})
	}
	feeds := make([]string, 0, len(byFeed))
	for f := range byFeed {
		feeds = append(feeds, f)
	}
	sort.Strings(feeds)
	for _, f := range feeds {
		src, err := s.AddSource(ctx, store.Source{URL: "https://" + f + ".example/feed", Title: f, Weight: 1})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.SaveFetch(ctx, store.FetchResult{Fetch: store.Fetch{SourceID: src.ID, At: time.Now(), Status: 200}, Articles: byFeed[f]}); err != nil {
			b.Fatal(err)
		}
	}
	st := New(s, quietLog())
	if _, err := st.Run(ctx); err != nil {
		b.Fatal(err)
	}
	weights, err := st.weights(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var recs []store.StoryRecord
	if err := s.EachStory(ctx, func(r store.StoryRecord) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return recs, weights, st, s
}

// BenchmarkAnalyseRealStories is the CPU cost of the analysis alone: every
// story of the shared data (18,061 items from 41 feeds), analysed in memory.
func BenchmarkAnalyseRealStories(b *testing.B) {
	recs, weights, _, _ := realStories(b)
	members := 0
	for _, r := range recs {
		members += len(r.Members)
	}
	now := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for b.Loop() {
		for _, r := range recs {
			Analyse(r, weights, now)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "stories/s")
	b.ReportMetric(float64(members)/float64(len(recs)), "members/story")
}

// BenchmarkAnalysisStage is the whole analysis step as serve runs it: read
// the stale stories from the store, analyse, save, for every story of the
// shared data.
func BenchmarkAnalysisStage(b *testing.B) {
	recs, weights, st, s := realStories(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		// Make every story stale again: rewrite it as it is.
		if ok, err := s.AcquireLease(ctx, st.lease, LeaseTTL); err != nil || !ok {
			b.Fatal(ok, err)
		}
		stories := make([]news.Story, len(recs))
		for i, r := range recs {
			stories[i] = r.Story
		}
		if err := s.SaveStories(ctx, st.lease, nil, stories); err != nil {
			b.Fatal(err)
		}
		var run Result
		b.StartTimer()
		if err := st.analyse(ctx, weights, &run); err != nil {
			b.Fatal(err)
		}
		if run.Analysed != len(recs) {
			b.Fatalf("analysed %d of %d stories", run.Analysed, len(recs))
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "stories/s")
}
