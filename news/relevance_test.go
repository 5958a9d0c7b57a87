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
// 1.000, recall 0.642 (34, 0, 19, 167). The floors sit 0.03 under that.
func TestAIRelevanceLabelled(t *testing.T) {
	const (
		minPrecision   = 0.97
		minRecall      = 0.60
		minHNPrecision = 0.97
		minHNRecall    = 0.61
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
