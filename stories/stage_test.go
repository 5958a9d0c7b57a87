package stories

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recap/news"
	"recap/store"
	"recap/store/sqlite"
)

// stageFixture is a store on disk and a way to add an outlet's articles.
type stageFixture struct {
	t   *testing.T
	db  string
	s   store.Store
	t0  time.Time
	ids map[string]int64
}

func newStageFixture(t *testing.T) *stageFixture {
	f := &stageFixture{t: t, db: filepath.Join(t.TempDir(), "recap.db"), t0: time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)}
	f.reopen(0)
	return f
}

// reopen closes the store and opens it again, as a restarted process does,
// with a clock later by skip.
func (f *stageFixture) reopen(skip time.Duration) {
	if f.s != nil {
		f.s.Close()
	}
	s, err := sqlite.Open(context.Background(), f.db, sqlite.WithClock(func() time.Time { return time.Now().Add(skip) }))
	if err != nil {
		f.t.Fatal(err)
	}
	f.s = s
	f.t.Cleanup(func() { s.Close() })
}

// store saves one fetch of outlet's feed holding the titles, published
// at the given minutes after t0.
func (f *stageFixture) store(outlet string, titles []string, minutes []int) {
	f.t.Helper()
	ctx := context.Background()
	url := "https://" + outlet + ".example/feed"
	var src store.Source
	srcs, _ := f.s.Sources(ctx)
	for _, s := range srcs {
		if s.URL == url {
			src = s
		}
	}
	if src.ID == 0 {
		var err error
		if src, err = f.s.AddSource(ctx, store.Source{URL: url, Title: outlet}); err != nil {
			f.t.Fatal(err)
		}
	}
	var arts []news.Article
	for i, title := range titles {
		at := f.t0.Add(time.Duration(minutes[i]) * time.Minute)
		link := "https://" + outlet + ".example/" + strings.ReplaceAll(strings.ToLower(title), " ", "-")
		arts = append(arts, news.Article{ItemKey: news.ItemKey("", link, title, at), Link: link, URL: link,
			Title: title, Published: at, Collected: at.Add(5 * time.Minute)})
	}
	if _, err := f.s.SaveFetch(ctx, store.FetchResult{Fetch: store.Fetch{SourceID: src.ID, At: f.t0, Status: 200}, Articles: arts}); err != nil {
		f.t.Fatal(err)
	}
}

// articles returns every stored article by title.
func (f *stageFixture) articles() map[string]news.Article {
	f.t.Helper()
	out := map[string]news.Article{}
	if err := f.s.EachArticle(context.Background(), func(r store.ArticleRecord) error {
		out[r.Title] = r.Article
		return nil
	}); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *stageFixture) run(st *Stage) Result {
	f.t.Helper()
	run, err := st.Run(context.Background())
	if err != nil {
		f.t.Fatalf("story stage: %v", err)
	}
	return run
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestStoryStageRestartClustersWhatWasLeftAndNothingTwice: the process
// stores a fetch, clusters it, stores another fetch and dies before
// clustering it. The restarted process clusters only what was left, and
// places it in the stories the first process made.
func TestStoryStageRestartClustersWhatWasLeftAndNothingTwice(t *testing.T) {
	f := newStageFixture(t)
	f.store("wire", []string{
		"Nvidia unveils Blackwell Ultra GPU for AI data centers",
		"European Parliament approves AI Act amendments on foundation models",
	}, []int{0, 10})
	first := New(f.s, quietLog())
	if run := f.run(first); run.Placed != 2 || run.New != 2 {
		t.Fatalf("first run: %+v, want 2 articles in 2 new stories", run)
	}
	before := f.articles()

	// Stored, then the process dies before the stage runs again.
	f.store("daily", []string{
		"Nvidia Blackwell Ultra GPU unveiled for AI data centers",
		"Parliament in Europe approves amendments to the AI Act",
		"Quantum startup raises funding for error-corrected qubits",
	}, []int{30, 40, 50})
	// The dead process never gave the lease up: it expires first.
	f.reopen(0)
	if run := f.run(New(f.s, quietLog())); run.Held {
		t.Fatalf("the restarted process took the lease at once: %+v", run)
	}
	f.reopen(LeaseTTL + time.Minute)

	restarted := New(f.s, quietLog())
	run := f.run(restarted)
	if run.Placed != 3 {
		t.Fatalf("after the restart: %+v, want the 3 articles left, and only them", run)
	}
	after := f.articles()
	for title, a := range before {
		if after[title].StoryID != a.StoryID || after[title].DuplicateOf != a.DuplicateOf {
			t.Errorf("%q moved from story %d to %d after the restart", title, a.StoryID, after[title].StoryID)
		}
	}
	nvidia := before["Nvidia unveils Blackwell Ultra GPU for AI data centers"].StoryID
	if got := after["Nvidia Blackwell Ultra GPU unveiled for AI data centers"]; got.StoryID != nvidia {
		t.Errorf("the second Nvidia report is in story %d, want the first process's story %d", got.StoryID, nvidia)
	}
	act := before["European Parliament approves AI Act amendments on foundation models"].StoryID
	if got := after["Parliament in Europe approves amendments to the AI Act"]; got.StoryID != act {
		t.Errorf("the second AI Act report is in story %d, want %d", got.StoryID, act)
	}
	if q := after["Quantum startup raises funding for error-corrected qubits"]; q.StoryID != q.ID {
		t.Errorf("an unrelated article joined story %d, want a story of its own", q.StoryID)
	}
	if left, err := f.s.Unclustered(context.Background(), 10); err != nil || len(left) != 0 {
		t.Errorf("Unclustered after the restart = %d articles, %v; want none", len(left), err)
	}
	if again := f.run(restarted); again.Placed != 0 {
		t.Errorf("a run with nothing new placed %d articles", again.Placed)
	}
	st, err := f.s.Story(context.Background(), nvidia)
	if err != nil {
		t.Fatal(err)
	}
	if st.Count != 2 || st.OutletCount != 2 {
		t.Errorf("the Nvidia story holds %d articles from %d outlets, want 2 and 2", st.Count, st.OutletCount)
	}
}

// TestStoryStageOneClustererAtATime: with two instances on one store, the
// one holding the lease clusters; the other does nothing until the lease
// is given up.
func TestStoryStageOneClustererAtATime(t *testing.T) {
	f := newStageFixture(t)
	f.store("wire", []string{"OpenAI releases new reasoning model o5"}, []int{0})
	a, b := New(f.s, quietLog()), New(f.s, quietLog())
	if run := f.run(a); !run.Held || run.Placed != 1 {
		t.Fatalf("instance a: %+v, want the lease and 1 article placed", run)
	}
	f.store("daily", []string{"OpenAI's o5 reasoning model is released"}, []int{20})
	if run := f.run(b); run.Held || run.Placed != 0 {
		t.Fatalf("instance b while a holds the lease: %+v, want nothing done", run)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if run := f.run(b); !run.Held || run.Placed != 1 {
		t.Fatalf("instance b after a gave up the lease: %+v, want 1 article placed", run)
	}
	arts := f.articles()
	first := arts["OpenAI releases new reasoning model o5"]
	if got := arts["OpenAI's o5 reasoning model is released"]; got.StoryID != first.StoryID {
		t.Errorf("b placed the second report in story %d, want a's story %d (b must learn a's stories)", got.StoryID, first.StoryID)
	}
	if run := f.run(a); run.Held {
		t.Errorf("instance a took the lease b holds: %+v", run)
	}
}

// TestStoryStageSavesStoriesThatCloseWithinABatch: a backlog spanning days
// is placed in batches far wider than the window, so stories close while a
// batch is in progress; each must still be saved, with all its members.
func TestStoryStageSavesStoriesThatCloseWithinABatch(t *testing.T) {
	f := newStageFixture(t)
	const n = 3 * 2000 // more than a sweep of the clusterer, three days long
	titles := make([]string, n)
	minutes := make([]int, n)
	for i := range n {
		// Pairs of reports of one event, then the next event: 3,000
		// stories of two articles each, 43 s apart.
		titles[i] = fmt.Sprintf("Event %d: outlet report %d on the Zq%dx launch", i/2, i%2, i/2)
		minutes[i] = i * 43 / 60
	}
	f.store("backlog", titles, minutes)
	run := f.run(New(f.s, quietLog()))
	if run.Placed != n {
		t.Fatalf("placed %d of %d", run.Placed, n)
	}
	members := map[int64]int{}
	for _, a := range f.articles() {
		if a.StoryID == 0 {
			t.Fatalf("article %d is in no story", a.ID)
		}
		members[a.StoryID]++
	}
	for id, count := range members {
		st, err := f.s.Story(context.Background(), id)
		if err != nil {
			t.Fatalf("story %d, named by %d articles: %v", id, count, err)
		}
		if st.Count != count || len(st.Articles) != count {
			t.Errorf("story %d: count %d, %d members listed; %d articles name it", id, st.Count, len(st.Articles), count)
		}
	}
}
