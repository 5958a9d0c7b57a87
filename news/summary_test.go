package news

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// summaryFixture is one event as several real feeds carried it (built by
// testdata/summary/make_fixtures.py from ../shared/data).
type summaryFixture struct {
	Name    string `json:"name"`
	Members []struct {
		Article   int64     `json:"article"`
		Source    int64     `json:"source"`
		Feed      string    `json:"feed"`
		Title     string    `json:"title"`
		Text      string    `json:"text"`
		Published time.Time `json:"published"`
		Duplicate bool      `json:"duplicate"`
	} `json:"members"`
}

func loadSummaryFixtures(t testing.TB) map[string][]Member {
	t.Helper()
	paths, err := filepath.Glob("testdata/summary/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := make(map[string][]Member)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f summaryFixture
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var ms []Member
		for _, m := range f.Members {
			ms = append(ms, Member{Article: m.Article, Source: m.Source, Title: m.Title, Text: m.Text, Published: m.Published, Duplicate: m.Duplicate})
		}
		out[f.Name] = ms
	}
	return out
}

// checkSummary checks what holds for every summary: each sentence is the
// words of its own member, no two say the same, the counts are bounded,
// and near-copies contribute nothing.
func checkSummary(t *testing.T, members []Member, tldr, takeaways []Sentence) {
	t.Helper()
	byID := make(map[int64]Member)
	for _, m := range members {
		byID[m.Article] = m
	}
	if len(tldr) > 2 {
		t.Errorf("TL;DR of %d sentences", len(tldr))
	}
	if len(takeaways) > 5 {
		t.Errorf("%d takeaways", len(takeaways))
	}
	if len(tldr) == 0 && len(takeaways) > 0 {
		t.Errorf("takeaways without a TL;DR")
	}
	all := append(append([]Sentence(nil), tldr...), takeaways...)
	for i, s := range all {
		m, ok := byID[s.Article]
		if !ok {
			t.Errorf("sentence %q cites article %d, not a member", s.Text, s.Article)
			continue
		}
		if m.Duplicate {
			t.Errorf("sentence %q comes from near-copy %d", s.Text, s.Article)
		}
		if s.Text == "" || s.Text != strings.TrimSpace(s.Text) || !strings.Contains(m.Title, s.Text) && !strings.Contains(m.Text, s.Text) {
			t.Errorf("sentence %q is not in article %d", s.Text, s.Article)
		}
		for _, o := range all[:i] {
			if o.Text == s.Text {
				t.Errorf("sentence %q twice", s.Text)
			}
			if sim := sentenceSimilarity(o.Text, s.Text); sim > summaryRepeat {
				t.Errorf("near-repeats (%.2f): %q and %q", sim, o.Text, s.Text)
			}
		}
	}
}

// sentenceSimilarity is the cosine of two sentences' term counts, without
// IDF: a check independent of the story's weighting.
func sentenceSimilarity(a, b string) float64 {
	count := func(s string) map[uint64]float64 {
		ts, _ := sentenceTerms(nil, s, nil)
		m := make(map[uint64]float64)
		for _, t := range ts {
			m[t.hash]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	var dot, na, nb float64
	for k, v := range ca {
		dot += v * cb[k]
		na += v * v
	}
	for _, v := range cb {
		nb += v * v
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb))
}

func TestSummarizeRealStories(t *testing.T) {
	for name, members := range loadSummaryFixtures(t) {
		t.Run(name, func(t *testing.T) {
			tldr, takeaways := Summarize(members)
			checkSummary(t, members, tldr, takeaways)
			if len(tldr) == 0 {
				t.Errorf("no TL;DR")
			}
			for _, s := range tldr {
				t.Logf("TL;DR [%d] %s", s.Article, s.Text)
			}
			for _, s := range takeaways {
				t.Logf("  -   [%d] %s", s.Article, s.Text)
			}
			// Deterministic: the same members, the same summary, also
			// when the map order of the run differs.
			for range 3 {
				t2, k2 := Summarize(members)
				if !reflect.DeepEqual(t2, tldr) || !reflect.DeepEqual(k2, takeaways) {
					t.Fatalf("a second run differs")
				}
			}
		})
	}
}

// A newsletter that mentions the story among other items lends its
// headline, not its lead about something else.
func TestSummarizeDropsSideMatters(t *testing.T) {
	members := loadSummaryFixtures(t)["nano_banana_2"]
	tldr, takeaways := Summarize(members)
	checkSummary(t, members, tldr, takeaways)
	for _, s := range append(tldr, takeaways...) {
		if strings.Contains(s.Text, "Context Hub") {
			t.Errorf("side matter chosen: %q", s.Text)
		}
	}
}

// Near-copies add no sentences: dropping them changes nothing, and a
// sentence only a near-copy carries never appears.
func TestSummarizeIgnoresDuplicates(t *testing.T) {
	fx := loadSummaryFixtures(t)
	for _, name := range []string{"flash_lite", "liveinterpret", "seedance"} {
		members := fx[name]
		var kept []Member
		for _, m := range members {
			if !m.Duplicate {
				kept = append(kept, m)
			}
		}
		if len(kept) == len(members) {
			t.Fatalf("%s: fixture has no near-copy", name)
		}
		t1, k1 := Summarize(members)
		t2, k2 := Summarize(kept)
		if !reflect.DeepEqual(t1, t2) || !reflect.DeepEqual(k1, k2) {
			t.Errorf("%s: near-copies changed the summary", name)
		}
	}
	// A duplicate with sentences of its own still contributes none.
	members := []Member{
		{Article: 1, Source: 1, Title: "OpenAI releases two open-weight reasoning models under Apache 2.0", Text: "The models run on a single GPU."},
		{Article: 2, Source: 2, Duplicate: true, Title: "A copy with a headline that no one else wrote at all", Text: "This sentence exists only in the near-copy of the article."},
	}
	tldr, takeaways := Summarize(members)
	checkSummary(t, members, tldr, takeaways)
}

func TestSummarizeSmallStories(t *testing.T) {
	tests := []struct {
		name    string
		members []Member
		maxAll  int
	}{
		{"empty story", nil, 0},
		{"no members with text", []Member{{Article: 1, Source: 1}}, 0},
		{"one short title", []Member{{Article: 1, Source: 1, Title: "Introducing GPT-5"}}, 0},
		{"one title", []Member{{Article: 1, Source: 1, Title: "Gemini 2.5 Flash-Lite is now ready for scaled production use"}}, 1},
		{"only boilerplate", []Member{{Article: 1, Source: 1, Title: "Show HN: a tool I wrote", Text: "Score: 402\nComments: 386\nBy: davidbarker\nDiscussion: https://news.ycombinator.com/item?id=47167858"}}, 0},
		{"syndication footer", []Member{{Article: 1, Source: 1, Text: "The post Reasoning reimagined: Introducing Phi-4-mini-flash-reasoning appeared first on Microsoft AI Blogs."}}, 0},
		{"tags only", []Member{{Article: 1, Source: 1, Text: "AI, Machine Learning, Research, Nvidia, Open Source, Robotics"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tldr, takeaways := Summarize(tt.members)
			checkSummary(t, tt.members, tldr, takeaways)
			if got := len(tldr) + len(takeaways); got > tt.maxAll {
				t.Errorf("%d sentences, want at most %d: %v %v", got, tt.maxAll, tldr, takeaways)
			}
		})
	}
}

// Bounded work: a huge text is read only at its start, and a story of
// many members stops at the candidate limit, still with sound output.
func TestSummarizeBoundsWork(t *testing.T) {
	var long strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&long, "Sentence number %d describes the launch of model %d in some detail. ", i, i%97)
	}
	members := []Member{{Article: 1, Source: 1, Title: "A very long article about a model launch today", Text: long.String()}}
	for i := range 100 {
		members = append(members, Member{Article: int64(i + 2), Source: int64(i + 2), Title: fmt.Sprintf("Outlet %d reports the model launch with its own words", i), Text: long.String()[:3000]})
	}
	cands := summaryCandidates(members)
	if len(cands) > summaryMaxCandidates {
		t.Errorf("%d candidates", len(cands))
	}
	for _, c := range cands {
		if c.member == 0 && !c.title && !strings.Contains(long.String()[:summaryMaxTextBytes], c.text) {
			t.Errorf("candidate %q from beyond the first %d bytes", c.text, summaryMaxTextBytes)
		}
	}
	tldr, takeaways := Summarize(members)
	checkSummary(t, members, tldr, takeaways)
}

func TestSummarizeOddInput(t *testing.T) {
	members := []Member{
		{Article: 1, Source: 1, Title: "\xff\xfe broken bytes in a title about models", Text: "Valid sentence about the new model release from the lab. \xff Broken \xfe sentence about the same model release here."},
		{Article: 2, Source: 2, Title: strings.Repeat("word ", 5000), Text: strings.Repeat(".", 10000)},
		{Article: 3, Source: 3, Title: "谷歌发布新的图像生成模型，性能大幅提升。", Text: "谷歌今天发布了新的图像生成模型。该模型在多项基准测试中表现领先！开发者可以通过接口使用它。"},
	}
	tldr, takeaways := Summarize(members)
	checkSummary(t, members, tldr, takeaways)
}

func TestSentencesOf(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"two sentences", "OpenAI released GPT-5. It is faster.", []string{"OpenAI released GPT-5.", "It is faster."}},
		{"U.S. inside", "The U.S. Commerce Department set rules. Nvidia must comply.", []string{"The U.S. Commerce Department set rules.", "Nvidia must comply."}},
		{"e.g. and i.e.", "Tools, e.g. search, and models, i.e. GPT-5, ship today. More later.", []string{"Tools, e.g. search, and models, i.e. GPT-5, ship today.", "More later."}},
		{"version and decimal", "Llama v1.5 scores 41.4 points. It costs $0.50 per run.", []string{"Llama v1.5 scores 41.4 points.", "It costs $0.50 per run."}},
		{"title abbreviation", "Dr. Smith and Prof. Lee wrote it. They agree.", []string{"Dr. Smith and Prof. Lee wrote it.", "They agree."}},
		{"initial", "John F. Kennedy spoke. Then he left.", []string{"John F. Kennedy spoke.", "Then he left."}},
		{"quotes", `He said "it works." Then "we ship." Done here.`, []string{`He said "it works."`, `Then "we ship."`, "Done here."}},
		{"ellipsis before lower case", "It was fast... and cheap. Really?", []string{"It was fast... and cheap.", "Really?"}},
		{"ellipsis before capital", "Wait for it... The model is here!", []string{"Wait for it...", "The model is here!"}},
		{"question and exclamation", "Is it AGI? No! Not yet.", []string{"Is it AGI?", "No!", "Not yet."}},
		{"newlines and bullets", "Highlights:\n- Faster inference\n• Lower cost per token\n1. Open weights", []string{"Highlights:", "Faster inference", "Lower cost per token", "Open weights"}},
		{"pipe fields", "A new model ships. | Organization: OpenAI | Source: OpenAI (news)", []string{"A new model ships.", "Organization: OpenAI", "Source: OpenAI (news)"}},
		{"url", "See openai.com/index/gpt-5 for details. Thanks.", []string{"See openai.com/index/gpt-5 for details.", "Thanks."}},
		{"version at end", "The latest release is version 3.5. Next comes 4.", []string{"The latest release is version 3.5.", "Next comes 4."}},
		{"chinese", "谷歌发布了新模型。性能提升明显！你会用吗？", []string{"谷歌发布了新模型。", "性能提升明显！", "你会用吗？"}},
		{"chinese list", "1、GoogleGeminiApp重磅更新！淘宝闪购响应新规。", []string{"GoogleGeminiApp重磅更新！", "淘宝闪购响应新规。"}},
		{"chinese quote", "他说：“模型很好。”然后离开了。", []string{"他说：“模型很好。”", "然后离开了。"}},
		{"hard-wrapped lines", "Post-training with RL can\nenhance reasoning without supervised fine-tuning.\nHowever, it is costly.", []string{"Post-training with RL can\nenhance reasoning without supervised fine-tuning.", "However, it is costly."}},
		{"empty", "", nil},
		{"space only", " \n\t ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sentencesOf(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("sentencesOf(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			for _, s := range got {
				if !strings.Contains(tt.in, s) {
					t.Errorf("%q is not a substring of the input", s)
				}
			}
		})
	}
}

func TestIsBoilerSentence(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Read more about the launch on our blog", true},
		{"Subscribe to our newsletter for weekly updates", true},
		{"Comments: 386", true},
		{"The post Reasoning reimagined appeared first on Microsoft AI Blogs.", true},
		{"https://news.ycombinator.com/item?id=47167858", true},
		{"Show HN: Nano PDF, a CLI tool to edit PDFs", true},
		{"AI, Machine Learning, Research, Nvidia", true},
		{"#ai #ml #llm #research", true},
		{"Organization: ByteDance Seed", true},
		{"Related: Enabling Versatile Controls for Video Diffusion Models", true},
		{"Post-training language models with reinforcement learning can enhance effe...", true},
		{"⭐ 21,066 stars 🍴 3,295 forks 📈 12,608 stars today", true},
		{"The post-training recipe improves reasoning on math benchmarks.", false},
		{"OpenAI released two open-weight models under the Apache 2.0 license.", false},
		{"The Batch AI News and Insights: I’m thrilled to announce Context Hub, a new tool.", false},
	}
	for _, tt := range tests {
		if got := isBoilerSentence(tt.in); got != tt.want {
			t.Errorf("isBoilerSentence(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func BenchmarkSummarize(b *testing.B) {
	// A 20-member story: the real members of every fixture, renumbered
	// as one story.
	var members []Member
	fx := loadSummaryFixtures(b)
	for _, name := range slices.Sorted(maps.Keys(fx)) {
		members = append(members, fx[name]...)
	}
	for i := 0; len(members) < 20; i++ {
		m := members[i]
		m.Article += 1000
		m.Source += 1000
		members = append(members, m)
	}
	members = members[:20]
	b.ReportAllocs()
	for b.Loop() {
		Summarize(members)
	}
}
