package news

import (
	"strings"
	"unicode"
)

// Boilerplate learns, per source, the words that recur in most of its
// recent summaries, and removes them before clustering. Some feeds wrap
// every item in one template: every Hacker News item's summary reads
// "Score: 412 Comments: 133 By: someone Discussion:
// https://news.ycombinator.com/item?id=…". Left in, those words make
// unrelated items of one source look alike, and a day of them became one
// story of 624 articles in the serving benchmark. A word is boilerplate
// when it is in at least boilerplateShare of the source's last
// boilerplateWindow summaries (once it has seen boilerplateMin of them).
// Not safe for concurrent use.
type Boilerplate struct {
	sources map[int64]*sourceWords
}

const (
	boilerplateWindow = 20
	boilerplateMin    = 3
	boilerplateShare  = 0.6
)

type sourceWords struct {
	recent [boilerplateWindow][]string // word sets, a ring
	next   int
	filled int
	count  map[string]int // summaries of recent that hold each word
}

// NewBoilerplate returns a filter that has seen nothing.
func NewBoilerplate() *Boilerplate {
	return &Boilerplate{sources: make(map[int64]*sourceWords)}
}

// Clean returns summary without its source's boilerplate words, and
// learns from it. Source 0 (unknown) is not filtered.
func (b *Boilerplate) Clean(source int64, summary string) string {
	if source == 0 || summary == "" {
		return summary
	}
	sw := b.sources[source]
	if sw == nil {
		sw = &sourceWords{count: make(map[string]int)}
		b.sources[source] = sw
	}
	words := strings.FieldsFunc(summary, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	set := make([]string, 0, len(words))
	seen := make(map[string]bool, len(words))
	for _, w := range words {
		lw := strings.ToLower(w)
		if !seen[lw] {
			seen[lw] = true
			set = append(set, lw)
		}
	}
	out := summary
	if sw.filled >= boilerplateMin {
		limit := boilerplateShare * float64(sw.filled)
		kept := words[:0:0]
		dropped := false
		for _, w := range words {
			if float64(sw.count[strings.ToLower(w)]) >= limit {
				dropped = true
				continue
			}
			kept = append(kept, w)
		}
		if dropped {
			out = strings.Join(kept, " ")
		}
	}
	// Learn this summary: it replaces the oldest of the window.
	for _, w := range sw.recent[sw.next] {
		if sw.count[w]--; sw.count[w] <= 0 {
			delete(sw.count, w)
		}
	}
	sw.recent[sw.next] = set
	for _, w := range set {
		sw.count[w]++
	}
	sw.next = (sw.next + 1) % boilerplateWindow
	sw.filled = min(sw.filled+1, boilerplateWindow)
	return out
}
