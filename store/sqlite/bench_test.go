package sqlite

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

const benchItems = 50 // items per fetch, as in the ingest benchmark

// benchBatch builds one feed's worth of items shaped like the real ones
// (../shared/data: titles ~40 chars, summaries ~170, links ~55), a little
// larger, with a content body as well.
func benchBatch(feed, round int) []news.Article {
	arts := make([]news.Article, benchItems)
	lead := strings.Repeat("Researchers released a model that improves reasoning on long documents. ", 5)
	for i := range arts {
		n := strconv.Itoa(feed) + "-" + strconv.Itoa(round) + "-" + strconv.Itoa(i)
		url := "https://news.example.com/2026/04/ai-model-release-" + n
		title := "Lab " + n + " releases an open-weights model for long-context reasoning"
		pub := at.Add(-time.Duration(i) * time.Hour)
		arts[i] = news.Article{
			ItemKey:     news.ItemKey("tag:example.com,2026:"+n, url, title, pub),
			GUID:        "tag:example.com,2026:" + n,
			Link:        url + "?utm_source=rss",
			URL:         url,
			Title:       title,
			Summary:     lead[:250],
			ContentHTML: "<p>" + lead[:290] + "</p>",
			Text:        lead[:250],
			Author:      "Staff",
			Categories:  []string{"AI", "Models"},
			Published:   pub,
			Collected:   at,
		}
	}
	return arts
}

func benchStore(b *testing.B, sources int) (*Store, []store.Source) {
	return benchStoreAt(b, filepath.Join(b.TempDir(), "bench.db"), sources)
}

func benchStoreAt(b testing.TB, path string, sources int) (*Store, []store.Source) {
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	srcs := make([]store.Source, sources)
	for i := range srcs {
		srcs[i] = addSource(b, s, fmt.Sprintf("https://feed%d.example.com/rss", i))
	}
	return s, srcs
}

func fetchOf(src store.Source, arts []news.Article) store.FetchResult {
	return store.FetchResult{
		Fetch:     store.Fetch{SourceID: src.ID, At: at, Status: 200, Duration: time.Second, Bytes: 33000, Items: len(arts)},
		Articles:  arts,
		ETag:      `"abc"`,
		NextCheck: at.Add(time.Hour),
	}
}

// BenchmarkSaveFetch stores one fetch of 50 new items per op, rotating over
// 1,000 sources like the ingest benchmark's first round.
func BenchmarkSaveFetch(b *testing.B) {
	s, srcs := benchStore(b, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	var elapsed, cpu time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		r := fetchOf(srcs[n%len(srcs)], benchBatch(n%len(srcs), n/len(srcs)))
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		st, err := s.SaveFetch(ctx, r)
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		if st.New != benchItems {
			b.Fatalf("stats %+v, want %d new", st, benchItems)
		}
		n++
	}
	b.ReportMetric(float64(n*benchItems)/elapsed.Seconds(), "items/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
}

// cpuTime is the process's user and system time: on a busy machine it
// measures the store's own work better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSaveFetchUnchanged saves the same 50 items again per op: a feed
// that answered 200 with nothing new.
func BenchmarkSaveFetchUnchanged(b *testing.B) {
	s, srcs := benchStore(b, 100)
	ctx := context.Background()
	batches := make([]store.FetchResult, len(srcs))
	for i, src := range srcs {
		batches[i] = fetchOf(src, benchBatch(i, 0))
		if _, err := s.SaveFetch(ctx, batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		st, err := s.SaveFetch(ctx, batches[n%len(batches)])
		if err != nil {
			b.Fatal(err)
		}
		if st.Unchanged != benchItems {
			b.Fatalf("stats %+v, want %d unchanged", st, benchItems)
		}
		n++
	}
	b.ReportMetric(float64(n*benchItems)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n), "cpu-ns/op")
}

// BenchmarkSaveFetchNotModified is the all-304 round: no items, only the
// fetch record and the source's state.
func BenchmarkSaveFetchNotModified(b *testing.B) {
	s, srcs := benchStore(b, 1000)
	ctx := context.Background()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		r := store.FetchResult{Fetch: store.Fetch{SourceID: srcs[n%len(srcs)].ID, At: at, Status: 304}, NextCheck: at.Add(time.Hour)}
		if _, err := s.SaveFetch(ctx, r); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n), "cpu-ns/op")
}

// BenchmarkIngest is the store's share of the ingest benchmark: 1,000
// fetches of 50 new items, one per source, into a fresh store, then the
// search index caught up. One op is the whole round; run with -benchtime 1x.
func BenchmarkIngest(b *testing.B) {
	// A round takes seconds: "-bench . -benchtime 1000x", fit for the other
	// benchmarks, would run a thousand of them.
	if f := flag.Lookup("test.benchtime"); f != nil && strings.HasSuffix(f.Value.String(), "x") && f.Value.String() != "1x" {
		b.Skip("one round is the measure: run it alone with -benchtime 1x")
	}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "bench.db")
		s, srcs := benchStoreAt(b, path, 1000)
		batches := make([]store.FetchResult, len(srcs))
		for i, src := range srcs {
			batches[i] = fetchOf(src, benchBatch(i, 0))
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		for _, r := range batches {
			if _, err := s.SaveFetch(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		saved, savedCPU := time.Since(start), cpuTime()-cpu0
		if _, err := s.IndexSearch(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(saved.Seconds(), "save-s")
		b.ReportMetric(savedCPU.Seconds(), "save-cpu-s")
		b.ReportMetric(time.Since(start).Seconds(), "total-s")
		b.ReportMetric((cpuTime() - cpu0).Seconds(), "total-cpu-s")
		b.StopTimer()
		// The WAL stays bounded although checkpoints run beside the writer.
		if fi, err := os.Stat(path + "-wal"); err == nil {
			b.ReportMetric(float64(fi.Size())/(1<<20), "wal-MiB")
		}
		s.Close()
		b.StartTimer()
	}
}

// BenchmarkEachArticle walks 10,000 articles with their sightings, as
// "export articles" does.
func BenchmarkEachArticle(b *testing.B) {
	s, srcs := benchStore(b, 200)
	ctx := context.Background()
	for i, src := range srcs {
		if _, err := s.SaveFetch(ctx, fetchOf(src, benchBatch(i, 0))); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		n := 0
		if err := s.EachArticle(ctx, func(store.ArticleRecord) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != len(srcs)*benchItems {
			b.Fatalf("visited %d articles, want %d", n, len(srcs)*benchItems)
		}
	}
	b.ReportMetric(float64(b.N*len(srcs)*benchItems)/b.Elapsed().Seconds(), "articles/s")
}
