package news

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func hnSummary(i int) string {
	return fmt.Sprintf("Score: %d Comments: %d By: user%d Discussion: https://news.ycombinator.com/item?id=%d", 100+i*7, 10+i*3, i, 45000000+i)
}

func TestBoilerplateRemovesASourcesTemplateWords(t *testing.T) {
	b := NewBoilerplate()
	var got string
	for i := range 8 {
		got = b.Clean(7, hnSummary(i))
	}
	for _, w := range []string{"Score", "Comments", "By", "Discussion", "https", "news", "ycombinator", "com", "item", "id"} {
		if strings.Contains(" "+got+" ", " "+w+" ") {
			t.Errorf("after 8 summaries of one template, %q is left in %q", w, got)
		}
	}
	if !strings.Contains(got, "user7") {
		t.Errorf("the item's own words went too: %q", got)
	}
	// Another source's summaries are its own business.
	if other := b.Clean(8, hnSummary(9)); other != hnSummary(9) {
		t.Errorf("a new source's first summary was changed: %q", other)
	}
	// Ordinary summaries of one source share few words: nothing goes.
	lines := []string{
		"OpenAI released a new reasoning model for developers.",
		"Google DeepMind trained a robot to fold laundry.",
		"Anthropic raised a new funding round from investors.",
		"Meta published open weights for its vision model.",
		"Nvidia reported record data center revenue.",
		"Mistral opened an office in Singapore.",
	}
	for _, l := range lines {
		b.Clean(9, l)
	}
	if got := b.Clean(9, "Apple bought a startup that makes AI chips."); got != "Apple bought a startup that makes AI chips." {
		t.Errorf("an ordinary summary lost words: %q", got)
	}
}

// TestTemplatedSummariesDoNotMakeOneStory: twenty unrelated items of one
// source with a templated summary stay apart once the filter has seen the
// template (the story stage warms it with the source's stored items).
func TestTemplatedSummariesDoNotMakeOneStory(t *testing.T) {
	titles := strings.Split(`Show HN: A tiny Lisp in 200 lines of C
The history of the floppy disk
Why SQLite uses B-trees
A visual guide to Rust lifetimes
Postgres 18 released
How we cut our AWS bill in half
The physics of espresso extraction
Learning to draw at 40
Building a keyboard from scratch
Why the metric system won
A field guide to mushrooms of Oregon
My first year as a freelance translator
The economics of container shipping
Debugging a kernel panic on ARM
What happened to Google Reader
An interactive guide to Fourier transforms
Writing a compiler in Go
The quiet death of the headphone jack
Notes on running a small bakery
Why keyboards kept the QWERTY layout`, "\n")
	run := func(clean bool) int {
		c := newWarmClusterer(t)
		b := NewBoilerplate()
		for i := range boilerplateMin {
			b.Clean(42, hnSummary(100+i))
		}
		sizes := map[int64]int{}
		for i, title := range titles {
			sum := hnSummary(i)
			if clean {
				sum = b.Clean(42, sum)
			}
			pl := c.Add(Doc{ID: int64(i + 1), Source: 42, Title: title, Summary: sum, Published: clusterT0.Add(time.Duration(i) * 10 * time.Minute)})
			sizes[pl.Story]++
		}
		biggest := 0
		for _, n := range sizes {
			biggest = max(biggest, n)
		}
		return biggest
	}
	if got := run(true); got > 1 {
		t.Errorf("with the template removed, %d unrelated items share a story", got)
	}
	if got := run(false); got < 5 {
		t.Errorf("without the filter the largest story has %d items; the test means to show the template chaining them", got)
	}
}
