package news

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"
)

// devSet is the labelled set bench/clustereval scores on; the benchmark
// skips without it.
const devSet = "../../shared/data/uci-dev.jsonl.gz"

// BenchmarkClusterDevSet places every article of the dev set, in file
// order, as the story stage and bench/clustereval do.
func BenchmarkClusterDevSet(b *testing.B) {
	docs := loadDevSet(b)
	b.ReportAllocs()
	for b.Loop() {
		c := NewClusterer(DefaultClusterParams())
		for _, d := range docs {
			c.Add(d)
		}
	}
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "articles/s")
}

func loadDevSet(tb testing.TB) []Doc {
	tb.Helper()
	f, err := os.Open(devSet)
	if err != nil {
		tb.Skipf("no dev set: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		tb.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	var docs []Doc
	for n := 1; dec.More(); n++ {
		var l struct{ Title, URL, Published string }
		if err := dec.Decode(&l); err != nil {
			tb.Fatalf("article %d: %v", n, err)
		}
		pub, err := time.Parse(time.RFC3339, l.Published)
		if err != nil {
			tb.Fatalf("article %d: %v", n, err)
		}
		docs = append(docs, Doc{ID: int64(n), Title: l.Title, URL: l.URL, Published: pub})
	}
	return docs
}

// The fast paths below must read exactly what their plain definitions
// read: the clusterer's decisions rest on every term.

func TestSlugTermsAreTheTermsOfTheSlugWords(t *testing.T) {
	cases := []struct {
		url   string
		words string // the slug's words, joined by spaces
	}{
		{"http://www.forbes.com/sites/kenrapoza/2014/03/10/risk-off-as-china-disappoints/", "risk off as china disappoints"},
		{"https://example.com/2014-03-10/sbarro-again-files-chapter11-bankruptcy.html?utm_source=x", "sbarro again files chapter11 bankruptcy"},
		{"https://example.com/news/557011-apple_iphone+6-leak.htm#comments", "apple iphone leak"},
		{"https://example.com/a-b-c/longer-slug-wins-here.php", "longer slug wins here"},
		{"https://example.com/--x--/", "x"},
		{"https://example.com/2014-03-10/", ""},
		{"https://example.com/one-dash/", ""},
		{"https://example.com/story?id=a-b-c-d", ""},
		{"example.com/no-scheme-slug", "no scheme slug"},
		{"https://example.com", ""},
		{"", ""},
		{"https://example.com/o'neil-says-don't-panic-it's-fine", "o'neil says don't panic it's fine"},
		{"https://example.com/céline-dion-ünïcode-straße-北京-news", "céline dion ünïcode straße 北京 news"},
		{"https://example.com/bad-\xe2-utf8-\xff\xfe-slug", "bad \xe2 utf8 \xff\xfe slug"},
		{"https://example.com/trailing-sep-words-", "trailing sep words"},
	}
	for _, tc := range cases {
		for _, max := range []int{0, maxLeadWords, 2} {
			got, _ := slugTerms(nil, tc.url, max, nil)
			want, _ := textTerms(nil, tc.words, max, nil)
			if !slices.Equal(got, want) {
				t.Errorf("slugTerms(%q, max %d) = %v, want the terms of %q: %v", tc.url, max, got, tc.words, want)
			}
		}
	}
}

func TestTextTermsFoldCaseStemPluralsAndDropStopWords(t *testing.T) {
	cases := []struct {
		text  string
		words []string
	}{
		{"DeepSeek's New Chips, via Reuters", []string{"deepseek", "new", "chip", "reuter"}},
		{"Companies' GPUs: 3 boxes & 2 wishes", []string{"company", "gpus", "3", "box", "2", "wish"}},
		{"M5 A17 5G iOS17 bus gas class analysis", []string{"m5", "a17", "5g", "ios17", "bus", "gas", "class", "analysis"}},
		{"O'Neil doesn’t rock'n'roll", []string{"oneil", "doesnt", "rocknroll"}},
		{"ÉCOLE Straße Öl naïve", []string{"école", "straße", "öl", "naïve"}},
		{"THE And of A", nil},
		{"the thes", []string{"the"}}, // "thes" is a plural, stemmed after the stop check
	}
	for _, tc := range cases {
		got, _ := textTerms(nil, tc.text, 0, nil)
		var want []term
		for _, w := range tc.words {
			want = append(want, term{hash: hashBytes([]byte(w))})
		}
		if !slices.Equal(got, want) {
			t.Errorf("textTerms(%q) = %v, want the terms %q: %v", tc.text, got, tc.words, want)
		}
	}
}

func TestJaccardAtLeastStopsOnlyWhenTheBoundCannotBeReached(t *testing.T) {
	cases := []struct {
		a, b  []uint64
		exact float64
	}{
		{[]uint64{1, 2, 3}, []uint64{1, 2, 3}, 1},
		{[]uint64{1, 2, 3, 4}, []uint64{1, 2, 3, 5}, 3.0 / 5},
		{[]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []uint64{1, 2, 3, 4, 5, 6, 7, 11}, 7.0 / 11},
		{[]uint64{1, 5, 9}, []uint64{2, 5, 8, 9, 10}, 2.0 / 6},
		{[]uint64{1, 2, 3}, []uint64{4, 5, 6}, 0},
		{[]uint64{7}, nil, 0},
		{nil, nil, 0},
	}
	for _, tc := range cases {
		for _, least := range []float64{0, 0.3, 0.6, 0.7, 1, tc.exact} {
			j, reached := jaccardAtLeast(tc.a, tc.b, least)
			switch {
			case reached && j != tc.exact:
				t.Errorf("jaccardAtLeast(%v, %v, %v) = %v, want %v", tc.a, tc.b, least, j, tc.exact)
			case !reached && tc.exact >= least:
				t.Errorf("jaccardAtLeast(%v, %v, %v) stopped, but the similarity is %v", tc.a, tc.b, least, tc.exact)
			}
		}
	}
}

func TestDupIndexForgetsPrunedEntriesAndKeepsTheOrderOfTheRest(t *testing.T) {
	var d dupIndex
	set := []uint64{10, 20, 30, 40}
	fp := d.fingerprint(set)
	// Five copies of one headline, all alike: ties go to the earliest
	// published, then to the first added. Published out of order, so
	// pruning takes entries from the middle of the buckets.
	pubs := []int64{500, 100, 300, 100, 200}
	for i, pub := range pubs {
		d.add(fp, set, int64(i+1), int64(i+1), pub)
	}
	const window = 1000 * time.Second
	if id, _, ok := d.find(fp, set, 400, window, 0.7); !ok || id != 2 {
		t.Fatalf("find = %d, %v; want 2, the first added of the earliest", id, ok)
	}
	d.prune(150) // forgets 2 and 4
	if d.live != 3 {
		t.Errorf("%d entries after pruning, want 3", d.live)
	}
	if id, _, ok := d.find(fp, set, 400, window, 0.7); !ok || id != 5 {
		t.Errorf("after pruning, find = %d, %v; want 5, the earliest left", id, ok)
	}
	// The slots of the pruned entries are reused, at the end of the buckets.
	d.add(fp, set, 6, 6, 200)
	d.add(fp, set, 7, 7, 150)
	if id, _, ok := d.find(fp, set, 400, window, 0.7); !ok || id != 7 {
		t.Errorf("after adding again, find = %d, %v; want 7", id, ok)
	}
	d.prune(1000)
	if d.live != 0 {
		t.Errorf("%d entries left after pruning them all", d.live)
	}
	for b, m := range d.bands {
		if m.n != 0 {
			t.Errorf("band %d keeps %d buckets after pruning every entry", b, m.n)
		}
	}
	if _, _, ok := d.find(fp, set, 400, window, 0.7); ok {
		t.Error("found a pruned entry")
	}
	// A set of another size, nearly alike, is still found.
	near := []uint64{10, 20, 30, 40, 50}
	d.add(d.fingerprint(near), near, 8, 8, 300)
	if id, _, ok := d.find(fp, set, 400, window, 0.7); ok && id != 8 {
		t.Errorf("find = %d, want 8 or nothing (the sets may share no band)", id)
	}
}

// TestHashIndexAgreesWithAMap runs the same inserts, updates and deletes
// on a hashIndex and a map. Besides random keys, some keys hash to the
// first cell and some to the last, so long runs form, wrap around the end
// of the table and are shifted back on delete.
func TestHashIndexAgreesWithAMap(t *testing.T) {
	// inv*golden = 1 (mod 2^64), so j*inv lands on cell j>>shift: the
	// first cell for small j, the last for j near 2^64.
	const golden = 0x9E3779B97F4A7C15
	inv := uint64(golden)
	for range 6 {
		inv *= 2 - golden*inv
	}
	r := rand.New(rand.NewPCG(1, 2))
	var keys []uint64
	for j := range uint64(300) {
		keys = append(keys, j*inv, -(j+1)*inv, r.Uint64())
	}
	var h hashIndex
	want := map[uint64]int32{}
	for step := range 100_000 {
		k := keys[r.IntN(len(keys))]
		if r.IntN(3) < 2 {
			v := int32(r.IntN(1000))
			h.set(k, v)
			want[k] = v
		} else {
			h.delete(k)
			delete(want, k)
		}
		if step%500 != 0 {
			continue
		}
		if h.n != len(want) {
			t.Fatalf("step %d: %d keys, want %d", step, h.n, len(want))
		}
		for _, k := range keys {
			got, ok := h.get(k)
			w, wok := want[k]
			if ok != wok || got != w {
				t.Fatalf("step %d: get(%#x) = %d, %v; want %d, %v", step, k, got, ok, w, wok)
			}
		}
	}
	var empty hashIndex
	if _, ok := empty.get(7); ok {
		t.Error("an empty index found a key")
	}
	empty.delete(7) // nothing to delete: no panic
}

// TestVocabIndexAgreesWithAMap: as TestHashIndexAgreesWithAMap, for the
// vocabulary's table, whose cells keep 32 bits of a key: the keys that
// land on the first cell also share those bits, and only the full hash in
// their stat tells them apart.
func TestVocabIndexAgreesWithAMap(t *testing.T) {
	const golden = 0x9E3779B97F4A7C15
	inv := uint64(golden)
	for range 6 {
		inv *= 2 - golden*inv
	}
	r := rand.New(rand.NewPCG(3, 4))
	var keys []uint64
	for j := range uint64(300) {
		keys = append(keys, j*inv, -(j+1)*inv, r.Uint64())
	}
	// Key i lives in stat slot i, as the clusterer's terms do.
	stats := make([]termStat, len(keys))
	for i, k := range keys {
		stats[i].hash = k
	}
	var v vocabIndex
	in := map[uint64]bool{}
	for step := range 100_000 {
		i := r.IntN(len(keys))
		k := keys[i]
		if r.IntN(3) < 2 {
			if !in[k] {
				v.insert(k, int32(i))
				in[k] = true
			}
		} else {
			v.delete(k, int32(i))
			delete(in, k)
		}
		if step%500 != 0 {
			continue
		}
		if v.n != len(in) {
			t.Fatalf("step %d: %d keys, want %d", step, v.n, len(in))
		}
		for i, k := range keys {
			got, ok := v.get(k, stats)
			if ok != in[k] || ok && got != int32(i) {
				t.Fatalf("step %d: get(%#x) = %d, %v; want %d, %v", step, k, got, ok, i, in[k])
			}
		}
	}
	var empty vocabIndex
	if _, ok := empty.get(7, stats); ok {
		t.Error("an empty index found a key")
	}
	empty.delete(7, 0) // nothing to delete: no panic
}
