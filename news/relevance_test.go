package news

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

type labelledHeadline struct {
	ai     bool
	origin string
	title  string
}

// readLabelled reads testdata/relevance/headlines.tsv: label, origin and
// title, tab-separated, one headline a line. See the README beside it for how
// the headlines were drawn and labelled.
func readLabelled(t *testing.T) []labelledHeadline {
	t.Helper()
	f, err := os.Open("testdata/relevance/headlines.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelledHeadline
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 || fields[2] == "" {
			t.Fatalf("headlines.tsv:%d: want label, origin and title, got %q", n, sc.Text())
		}
		var ai bool
		switch fields[0] {
		case "ai":
			ai = true
		case "other":
		default:
			t.Fatalf("headlines.tsv:%d: label %q, want ai or other", n, fields[0])
		}
		out = append(out, labelledHeadline{ai: ai, origin: fields[1], title: fields[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type confusion struct{ tp, fp, fn, tn int }

func (c *confusion) add(want, got bool) {
	switch {
	case want && got:
		c.tp++
	case !want && got:
		c.fp++
	case want && !got:
		c.fn++
	default:
		c.tn++
	}
}

func (c confusion) precision() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}

func (c confusion) recall() float64 {
	if c.tp+c.fn == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fn)
}

// TestAIRelevanceLabelled measures the AI filter on 420 real headlines,
// labelled by hand, titles only (the set carries no summaries). Hacker News
// best stories are the case the filter exists for: a general outlet, about a
// quarter of it AI news; they are also reported on their own.
//
// Measured with the vocabulary as it was before this set existed: precision
// 1.000, recall 0.635 (tp 73, fp 0, fn 42, tn 305); Hacker News precision
// 1.000, recall 0.642 (34, 0, 19, 167). After two rounds of vocabulary
// (testdata/relevance/README.md): precision 1.000, recall 0.800 (92, 0, 23,
// 305); Hacker News 1.000 and 0.868 (46, 0, 7, 167). The floors sit 0.03
// under that.
func TestAIRelevanceLabelled(t *testing.T) {
	const (
		minPrecision   = 0.97
		minRecall      = 0.77
		minHNPrecision = 0.97
		minHNRecall    = 0.83
	)
	set := readLabelled(t)
	if len(set) < 400 {
		t.Fatalf("want at least 400 labelled headlines, got %d", len(set))
	}
	var all, hn confusion
	for _, h := range set {
		got := LooksLikeAI(h.title, "", nil)
		all.add(h.ai, got)
		if h.origin == "hackernews_best_stories" {
			hn.add(h.ai, got)
		}
		switch {
		case got && !h.ai:
			t.Logf("false positive [%s] %q %v", h.origin, h.title, matchedPhrases(h.title))
		case !got && h.ai:
			t.Logf("false negative [%s] %q %v", h.origin, h.title, matchedPhrases(h.title))
		}
	}
	for _, r := range []struct {
		name       string
		c          confusion
		minP, minR float64
	}{
		{"all", all, minPrecision, minRecall},
		{"hackernews", hn, minHNPrecision, minHNRecall},
	} {
		t.Logf("%s: precision %.3f recall %.3f (tp %d, fp %d, fn %d, tn %d)",
			r.name, r.c.precision(), r.c.recall(), r.c.tp, r.c.fp, r.c.fn, r.c.tn)
		if r.c.precision() < r.minP {
			t.Errorf("%s: precision %.3f below %.2f", r.name, r.c.precision(), r.minP)
		}
		if r.c.recall() < r.minR {
			t.Errorf("%s: recall %.3f below %.2f", r.name, r.c.recall(), r.minR)
		}
	}
}

func TestAIRelevanceScale(t *testing.T) {
	tests := []struct {
		name       string
		title      string
		text       string
		categories []string
		want       float64
	}{
		{"empty item", "", "", nil, 0},
		{"no AI term", "Wall Street closes higher as oil rallies", "Markets were calm.", []string{"Business"}, 0},
		{"one weak term, under the threshold", "Nvidia stock slips", "", nil, 1 - 0.7071067811865476},
		{"one strong term, at the threshold", "OpenAI opens an office in Paris", "", nil, AIRelevant},
		{"two strong terms", "OpenAI ships ChatGPT for teams", "", nil, 0.75},
		{"title, text and category agree", "OpenAI ships ChatGPT for teams",
			"It runs on a large language model and a diffusion model.", []string{"Artificial Intelligence"}, 0.9375},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AIRelevance(tt.title, tt.text, tt.categories)
			if diff := got - tt.want; diff > 1e-12 || diff < -1e-12 {
				t.Errorf("AIRelevance = %v, want %v (score %d)", got, tt.want, AIScore(tt.title, tt.text, tt.categories))
			}
		})
	}
}

// The map from points to relevance must keep every property the callers
// rely on for any score, not only the ones the headlines happen to reach.
func TestRelevanceOfPoints(t *testing.T) {
	prev := -1.0
	for p := 0; p <= 200; p++ {
		r := relevanceOf(p)
		if r < 0 || r > 1 {
			t.Fatalf("relevanceOf(%d) = %v, outside [0, 1]", p, r)
		}
		if r <= prev && r < 1 {
			t.Fatalf("relevanceOf(%d) = %v, not above relevanceOf(%d) = %v", p, r, p-1, prev)
		}
		if (r >= AIRelevant) != (p >= AIThreshold) {
			t.Fatalf("relevanceOf(%d) = %v: AIRelevant %v and AIThreshold %d disagree", p, r, AIRelevant, AIThreshold)
		}
		prev = r
	}
	if r := relevanceOf(-3); r != 0 {
		t.Errorf("relevanceOf(-3) = %v, want 0", r)
	}
}

// More evidence never lowers the score: each step adds a term or a field.
func TestAIRelevanceMonotone(t *testing.T) {
	steps := []struct {
		title      string
		text       string
		categories []string
	}{
		{"Quarterly results", "", nil},
		{"Quarterly results", "Revenue rose on demand for GPUs.", nil},
		{"Nvidia quarterly results", "Revenue rose on demand for GPUs.", nil},
		{"Nvidia quarterly results", "Revenue rose on demand for GPUs to train AI models.", nil},
		{"Nvidia quarterly results beat on AI", "Revenue rose on demand for GPUs to train AI models.", nil},
		{"Nvidia quarterly results beat on AI", "Revenue rose on demand for GPUs to train AI models.", []string{"Machine Learning"}},
		{"Nvidia quarterly results beat on AI as OpenAI buys more",
			"Revenue rose on demand for GPUs to train AI models and large language models.", []string{"Machine Learning"}},
	}
	prev := -1.0
	for i, s := range steps {
		r := AIRelevance(s.title, s.text, s.categories)
		if r < prev {
			t.Errorf("step %d (%q): relevance %v fell below %v", i, s.title, r, prev)
		}
		prev = r
	}
	if prev <= AIRelevant {
		t.Errorf("the last step scores %v, want it above %v", prev, AIRelevant)
	}
}

// One decision, two views, on every labelled headline and on the same
// headlines carried as text or as a category.
func TestAIRelevanceAgreesWithLooksLikeAI(t *testing.T) {
	for _, h := range readLabelled(t) {
		for _, in := range []struct {
			title, text string
			categories  []string
		}{
			{h.title, "", nil},
			{"", h.title, nil},
			{"News", h.title, []string{h.title}},
		} {
			r := AIRelevance(in.title, in.text, in.categories)
			if r < 0 || r > 1 {
				t.Errorf("AIRelevance(%q, %q, %q) = %v, outside [0, 1]", in.title, in.text, in.categories, r)
			}
			if want := LooksLikeAI(in.title, in.text, in.categories); (r >= AIRelevant) != want {
				t.Errorf("AIRelevance(%q, %q, %q) = %v but LooksLikeAI = %v", in.title, in.text, in.categories, r, want)
			}
		}
	}
}

func TestStoryRelevance(t *testing.T) {
	ai := Member{Article: 1, Title: "Anthropic releases Claude Opus 4.6", Text: "The model tops coding benchmarks."}
	weak := Member{Article: 2, Title: "Nvidia stock slips", Text: "Shares fell 3%."}
	other := Member{Article: 3, Title: "Wall Street closes higher", Text: "Oil rallied."}
	dup := ai
	dup.Article, dup.Duplicate = 4, true
	tests := []struct {
		name    string
		members []Member
		want    float64
	}{
		{"no members", nil, 0},
		{"one member is its own relevance", []Member{weak}, AIRelevance(weak.Title, weak.Text, nil)},
		{"no AI member", []Member{other, other}, 0},
		{"the best member decides", []Member{other, weak, ai}, AIRelevance(ai.Title, ai.Text, nil)},
		{"order does not matter", []Member{ai, other, weak}, AIRelevance(ai.Title, ai.Text, nil)},
		{"a near-copy adds nothing", []Member{ai, dup}, AIRelevance(ai.Title, ai.Text, nil)},
		{"general outlets do not dilute an AI story", []Member{ai, other, other, other, other}, AIRelevance(ai.Title, ai.Text, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StoryRelevance(tt.members)
			if got != tt.want {
				t.Errorf("StoryRelevance = %v, want %v", got, tt.want)
			}
			anyAI := false
			for _, m := range tt.members {
				anyAI = anyAI || LooksLikeAI(m.Title, m.Text, nil)
			}
			if (got >= AIRelevant) != anyAI {
				t.Errorf("StoryRelevance = %v, but some member looks like AI: %v", got, anyAI)
			}
		})
	}
}
