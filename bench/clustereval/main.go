// Command clustereval runs Recap's story clustering over a JSONL file of
// articles, in file order, with the same code the story stage uses, and
// scores it against the gold stories when the file has them:
//
//	go run ./bench/clustereval -in ../shared/data/uci-dev.jsonl.gz [-out pred.tsv]
//
// Each line holds "id", "title", "summary", "url", "source", "published"
// (RFC 3339) and optionally "gold". -out gets one "id<TAB>story" line per
// article, the story named by the id of the article that started it. The
// last line printed is
//
//	b3_f1=... b3_p=... b3_r=... pair_f1=... pair_p=... pair_r=... stories=N articles_per_s=N
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"recap/news"
)

type line struct {
	ID        json.RawMessage `json:"id"`
	Title     string          `json:"title"`
	Summary   *string         `json:"summary"`
	URL       string          `json:"url"`
	Source    string          `json:"source"`
	Published string          `json:"published"`
	Gold      *string         `json:"gold"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "clustereval:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("clustereval", flag.ContinueOnError)
	in := fs.String("in", "", "JSONL file of articles, gzipped or not (required)")
	out := fs.String("out", "", "write id<TAB>story lines here")
	p := news.DefaultClusterParams()
	fs.DurationVar(&p.Window, "window", p.Window, "tuning: look-back window")
	fs.DurationVar(&p.MaxSpan, "maxspan", p.MaxSpan, "tuning: longest story")
	fs.Float64Var(&p.Threshold, "threshold", p.Threshold, "tuning: similarity to join a story")
	fs.Float64Var(&p.MemberWeight, "memberweight", p.MemberWeight, "tuning: weight of the nearest member")
	fs.Float64Var(&p.SlugWeight, "slugweight", p.SlugWeight, "tuning: weight of URL words")
	fs.Float64Var(&p.MergeScore, "mergescore", p.MergeScore, "tuning: score with two stories that merges them")
	fs.Float64Var(&p.BigramWeight, "bigramweight", p.BigramWeight, "tuning: weight of title bigrams")
	fs.Float64Var(&p.MergeSim, "mergesim", p.MergeSim, "tuning: centroid similarity of stories that merge")
	fs.Float64Var(&p.SizeBoost, "sizeboost", p.SizeBoost, "tuning: preference for larger stories")
	fs.Float64Var(&p.LeadWeight, "leadweight", p.LeadWeight, "tuning: weight of summary words")
	fs.Float64Var(&p.DupJaccard, "dupjaccard", p.DupJaccard, "tuning: term overlap of a near-copy")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the clustering step here")
	withProduct := fs.Bool("product", false, "also run the whole product on the file (feeds, poll --once, export) and compare; run from the repository's root")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("want -in FILE.jsonl[.gz]")
	}
	ds, err := load(*in)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "read %d articles from %s (%d with gold)\n", len(ds.docs), *in, ds.labelled)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	c, bp := news.NewClusterer(p), news.NewBoilerplate()
	story := make([]int64, len(ds.docs))
	index := make(map[int64]int, len(ds.docs)) // doc id -> position
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	var most news.ClusterState
	var elapsed time.Duration
	copies, merges := 0, 0
	// The clusterer forgets a merge once the story closes; the pipeline
	// has moved the members by then, and so does this.
	mergedInto := map[int64]int64{}
	const chunk = 5000
	for lo := 0; lo < len(ds.docs); lo += chunk {
		hi := min(lo+chunk, len(ds.docs))
		start := time.Now()
		for i := lo; i < hi; i++ {
			d := ds.docs[i]
			d.Summary = bp.Clean(d.Source, d.Summary) // as the story stage does
			pl := c.Add(d)
			story[i] = pl.Story
			if pl.DuplicateOf != 0 {
				copies++
			}
			merges += len(pl.Merged)
			for _, gone := range pl.Merged {
				mergedInto[gone] = pl.Story
			}
		}
		elapsed += time.Since(start)
		if lo/chunk%5 == 0 || hi == len(ds.docs) {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak {
				peak = ms.HeapAlloc - base
			}
			st := c.State()
			most.Open, most.Terms, most.Fingerprints = max(most.Open, st.Open), max(most.Terms, st.Terms), max(most.Fingerprints, st.Fingerprints)
		}
	}
	for i, d := range ds.docs {
		index[d.ID] = i
		for {
			to, ok := mergedInto[story[i]]
			if !ok {
				break
			}
			story[i] = to
		}
	}
	if *out != "" {
		if err := writePred(*out, ds, story, index); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%d near-copies, %d stories merged into others\n", copies, merges)
	rate := float64(len(ds.docs)) / elapsed.Seconds()
	fmt.Fprintf(stdout, "clustered in %.3fs; clusterer state at most %.1f MiB, %d open stories, %d terms, %d fingerprints (measured every 25,000 articles)\n",
		elapsed.Seconds(), float64(peak)/(1<<20), most.Open, most.Terms, most.Fingerprints)
	if ds.labelled == 0 {
		fmt.Fprintf(stdout, "stories=%d articles_per_s=%.0f\n", countStories(story), rate)
		return nil
	}
	s := score(ds.gold, story)
	if *withProduct {
		pstory, err := product(context.Background(), ds, ds.sources, stdout)
		if err != nil {
			return err
		}
		missing := 0
		for _, st := range pstory {
			if st < 0 {
				missing++
			}
		}
		ps := score(ds.gold, pstory)
		fmt.Fprintf(stdout, "product:    b3_f1=%.3f pair_f1=%.3f stories=%d (%d articles not in the export)\n", ps.b3F, ps.pairF, countStories(pstory), missing)
		fmt.Fprintf(stdout, "in-process: b3_f1=%.3f pair_f1=%.3f stories=%d\n", s.b3F, s.pairF, countStories(story))
		if d := max(math.Abs(ps.b3F-s.b3F), math.Abs(ps.pairF-s.pairF)); d > 0.01 {
			return fmt.Errorf("the product's scores differ from the in-process ones by %.3f, more than 0.01", d)
		}
	}
	fmt.Fprintf(stdout, "pairwise: precision %.4f recall %.4f F1 %.4f\n", s.pairP, s.pairR, s.pairF)
	fmt.Fprintf(stdout, "B-cubed:  precision %.4f recall %.4f F1 %.4f\n", s.b3P, s.b3R, s.b3F)
	fmt.Fprintf(stdout, "b3_f1=%.3f b3_p=%.3f b3_r=%.3f pair_f1=%.3f pair_p=%.3f pair_r=%.3f stories=%d articles_per_s=%.0f\n",
		s.b3F, s.b3P, s.b3R, s.pairF, s.pairP, s.pairR, countStories(story), rate)
	return nil
}

type dataset struct {
	docs     []news.Doc
	names    []string // the file's ids, as written
	urls     []string
	sources  []string
	gold     []string // "" where the line has none
	labelled int
}

func load(path string) (*dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	ds := &dataset{}
	sources := map[string]int64{}
	dec := json.NewDecoder(r)
	for n := 1; ; n++ {
		var l line
		if err := dec.Decode(&l); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: article %d: %w", path, n, err)
		}
		pub, err := time.Parse(time.RFC3339, l.Published)
		if err != nil {
			return nil, fmt.Errorf("%s: article %d: published: %w", path, n, err)
		}
		name := string(bytes.Trim(l.ID, `"`))
		if name == "" {
			name = strconv.Itoa(n)
		}
		src, ok := sources[l.Source]
		if !ok {
			src = int64(len(sources) + 1)
			sources[l.Source] = src
		}
		d := news.Doc{ID: int64(n), Title: l.Title, URL: l.URL, Source: src, Published: pub}
		if l.Summary != nil {
			d.Summary = *l.Summary
		}
		ds.docs = append(ds.docs, d)
		ds.names = append(ds.names, name)
		ds.urls = append(ds.urls, l.URL)
		ds.sources = append(ds.sources, l.Source)
		g := ""
		if l.Gold != nil && *l.Gold != "" {
			g = *l.Gold
			ds.labelled++
		}
		ds.gold = append(ds.gold, g)
	}
	return ds, nil
}

func writePred(path string, ds *dataset, story []int64, index map[int64]int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i, name := range ds.names {
		fmt.Fprintf(w, "%s\t%s\n", name, ds.names[index[story[i]]])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func countStories(story []int64) int {
	seen := map[int64]bool{}
	for _, s := range story {
		seen[s] = true
	}
	return len(seen)
}

type scores struct{ pairP, pairR, pairF, b3P, b3R, b3F float64 }

// score compares the predicted stories with the gold ones over the
// labelled articles: pairwise counts the pairs of articles put in one
// story; B-cubed averages, per article, the share of its predicted story
// that is in its gold story (precision) and the reverse (recall).
func score(gold []string, pred []int64) scores {
	type cell struct {
		p int64
		g string
	}
	cells := map[cell]int{}
	predSize := map[int64]int{}
	goldSize := map[string]int{}
	n := 0
	for i, g := range gold {
		if g == "" {
			continue
		}
		n++
		cells[cell{pred[i], g}]++
		predSize[pred[i]]++
		goldSize[g]++
	}
	var s scores
	if n == 0 {
		return s
	}
	pairs := func(k int) float64 { return float64(k) * float64(k-1) / 2 }
	var tp, pp, gp, b3p, b3r float64
	for c, k := range cells {
		tp += pairs(k)
		b3p += float64(k) * float64(k) / float64(predSize[c.p])
		b3r += float64(k) * float64(k) / float64(goldSize[c.g])
	}
	for _, k := range predSize {
		pp += pairs(k)
	}
	for _, k := range goldSize {
		gp += pairs(k)
	}
	f1 := func(p, r float64) float64 {
		if p+r == 0 {
			return 0
		}
		return 2 * p * r / (p + r)
	}
	if pp > 0 {
		s.pairP = tp / pp
	}
	if gp > 0 {
		s.pairR = tp / gp
	}
	s.pairF = f1(s.pairP, s.pairR)
	s.b3P, s.b3R = b3p/float64(n), b3r/float64(n)
	s.b3F = f1(s.b3P, s.b3R)
	return s
}
