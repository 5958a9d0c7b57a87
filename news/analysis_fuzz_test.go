package news

import (
	"strings"
	"testing"
	"time"
)

// FuzzSummarize: any members' text, however broken, gives sentences that
// are their members' own words, and never a panic; so does Hook.
func FuzzSummarize(f *testing.F) {
	f.Add("OpenAI ships GPT-5", "GPT-5 is out. It reasons better, e.g. on math. Read more", "GPT-5 launches", "The model is here.\nScore: 3 | Organization: OpenAI")
	f.Add("", "", "\xff\xfe", "。！？…...|||")
	f.Add("人工智能公司发布新一代大模型", "新模型发布。性能提升！", "a", "U.S. v1.5 Dr. J. Smith said 3.5 \"quoted.\" (end).")
	f.Fuzz(func(t *testing.T, t1, x1, t2, x2 string) {
		at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		members := []Member{
			{Article: 1, Source: 1, Title: t1, Text: x1, Published: at},
			{Article: 2, Source: 2, Title: t2, Text: x2, Published: at.Add(time.Hour)},
		}
		tldr, takeaways := Summarize(members)
		for _, s := range append(tldr, takeaways...) {
			m := members[s.Article-1]
			if s.Text == "" || (!strings.Contains(m.Title, s.Text) && !strings.Contains(m.Text, s.Text)) {
				t.Fatalf("sentence %q is not in member %d (%q / %q)", s.Text, s.Article, m.Title, m.Text)
			}
		}
		if h := Hook(x1); h != "" && !strings.Contains(x1, h) {
			t.Fatalf("Hook(%q) = %q, not the summary's own words", x1, h)
		}
		ents := ExtractEntities(members, 8)
		ClassifyTopics(members, ents)
		StoryRelevance(members)
	})
}

func TestRepeatsHeadline(t *testing.T) {
	for _, tc := range []struct {
		sentence, headline string
		want               bool
	}{
		{"Introducing GPT-5.", "Introducing GPT-5", true},
		{"introducing  gpt-5!", " Introducing GPT-5 ", true},
		{"Introducing GPT-5 for developers.", "Introducing GPT-5", false},
		{"", "Introducing GPT-5", false},
	} {
		if got := RepeatsHeadline(tc.sentence, tc.headline); got != tc.want {
			t.Errorf("RepeatsHeadline(%q, %q) = %v, want %v", tc.sentence, tc.headline, got, tc.want)
		}
	}
}
