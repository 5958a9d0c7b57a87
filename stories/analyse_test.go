package stories

import (
	"context"
	"testing"
)

// TestAnalysisFollowsTheStory: the stage analyses a new story once, and
// again when a member joins it (a new version), and never at a version it
// has analysed.
func TestAnalysisFollowsTheStory(t *testing.T) {
	f := newStageFixture(t)
	ctx := context.Background()
	f.store("wire", []string{"Nvidia unveils Rubin GPUs for AI data centers"}, []int{0})
	st := New(f.s, quietLog())
	if run := f.run(st); run.Analysed != 1 {
		t.Fatalf("first run: %+v, want the new story analysed", run)
	}
	id := f.articles()["Nvidia unveils Rubin GPUs for AI data centers"].StoryID
	first, err := f.s.Analysis(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Entities) == 0 || first.Entities[0].Key != "nvidia" || first.Relevance < 0.5 || first.Outlets != 1 {
		t.Errorf("analysis of the first report: entities %+v, relevance %.2f, outlets %d", first.Entities, first.Relevance, first.Outlets)
	}
	if run := f.run(st); run.Analysed != 0 {
		t.Errorf("a run with nothing new analysed %d stories, want 0", run.Analysed)
	}

	f.store("daily", []string{"Nvidia unveils its Rubin GPUs for data centers"}, []int{20})
	if run := f.run(st); run.Placed != 1 || run.Analysed != 1 {
		t.Fatalf("after a second outlet: %+v, want its article placed and the story analysed again", run)
	}
	rec, err := f.s.Story(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.s.Analysis(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != rec.Version || again.Version <= first.Version || again.Outlets != 2 {
		t.Errorf("analysis at version %d with %d outlets, want the story's version %d (after %d) and 2 outlets",
			again.Version, again.Outlets, rec.Version, first.Version)
	}
	if again.Rank.Base <= first.Rank.Base {
		t.Errorf("a second outlet did not raise the base score: %.3f then %.3f", first.Rank.Base, again.Rank.Base)
	}
}
