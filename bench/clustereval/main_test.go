package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScoreCountsPairsAndBCubed(t *testing.T) {
	// Gold a a a b b, predicted 1 1 2 2 2: by hand, pairwise 2 of 4
	// predicted pairs are right and 2 of 4 gold pairs found; B-cubed
	// precision (4/2 + 1/3 + 4/3)/5 and recall (4/3 + 1/3 + 4/2)/5.
	s := score([]string{"a", "a", "a", "b", "b"}, []int64{1, 1, 2, 2, 2})
	want := scores{pairP: 0.5, pairR: 0.5, pairF: 0.5, b3P: 11.0 / 15, b3R: 11.0 / 15, b3F: 11.0 / 15}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"pair_p", s.pairP, want.pairP}, {"pair_r", s.pairR, want.pairR}, {"pair_f1", s.pairF, want.pairF},
		{"b3_p", s.b3P, want.b3P}, {"b3_r", s.b3R, want.b3R}, {"b3_f1", s.b3F, want.b3F},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %.6f, want %.6f", c.name, c.got, c.want)
		}
	}
	// Articles without gold are left out of the scores.
	if got := score([]string{"a", "", "a"}, []int64{1, 1, 1}); got.b3F != 1 || got.pairF != 1 {
		t.Errorf("unlabelled article counted: %+v", got)
	}
}

func TestRunWritesStoriesAndTheLastLine(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	lines := `{"id": "a1", "title": "Nvidia unveils Blackwell Ultra GPU for AI data centers", "summary": null, "url": "https://x.example/nvidia-blackwell-ultra", "source": "X", "published": "2026-03-18T10:00:00Z", "gold": "g1"}
{"id": "a2", "title": "Nvidia unveils Blackwell Ultra GPU for AI data centers", "summary": null, "url": "https://y.example/nvidia-blackwell-ultra-gpu", "source": "Y", "published": "2026-03-18T10:20:00Z", "gold": "g1"}
{"id": "a3", "title": "EU Parliament votes on AI Act amendments", "summary": "A vote.", "url": "https://z.example/eu-ai-act-vote", "source": "Z", "published": "2026-03-18T11:00:00Z", "gold": "g2"}
`
	if err := os.WriteFile(in, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pred.tsv")
	var stdout bytes.Buffer
	if err := run([]string{"-in", in, "-out", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	last := strings.TrimSpace(stdout.String())
	last = last[strings.LastIndex(last, "\n")+1:]
	if !strings.HasPrefix(last, "b3_f1=1.000 b3_p=1.000 b3_r=1.000 pair_f1=1.000 pair_p=1.000 pair_r=1.000 stories=2 articles_per_s=") {
		t.Errorf("last line %q", last)
	}
	pred, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(pred) != "a1\ta1\na2\ta1\na3\ta3\n" {
		t.Errorf("-out wrote %q", pred)
	}

	// Without gold it clusters and writes, and scores nothing.
	noGold := strings.NewReplacer(`, "gold": "g1"`, "", `, "gold": "g2"`, "").Replace(lines)
	if err := os.WriteFile(in, []byte(noGold), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := run([]string{"-in", in}, &stdout); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), "b3_f1") || !strings.Contains(stdout.String(), "stories=2 articles_per_s=") {
		t.Errorf("without gold: %q", stdout.String())
	}
	if err := run([]string{"-in", filepath.Join(dir, "missing.jsonl")}, &stdout); err == nil {
		t.Error("a missing file gave no error")
	}
	if err := os.WriteFile(in, []byte("{\"id\": 1, \"title\": \"x\", \"published\": \"yesterday\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-in", in}, &stdout); err == nil || !strings.Contains(err.Error(), "article 1") {
		t.Errorf("a bad published time: err %v, want one naming the article", err)
	}
}
