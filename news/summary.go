package news

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Summarize picks a story's TL;DR and key takeaways from its members' own
// sentences. Nothing is written: every Sentence is a trimmed substring of a
// member's Title or Text, attributed to that member, so the page can show
// whose words it quotes.
//
// The sentences of all members form one graph (TextRank): an edge between
// two sentences weighs their cosine similarity over stemmed terms, IDF
// taken within the story, and PageRank finds the sentences the others
// agree with. A story is many outlets telling one event, so what several
// outlets say is what the event is: edges between sentences of one outlet
// count less than edges across outlets, and a sentence whose terms recur in
// other outlets is boosted, as is an outlet's lead. Selection is MMR, so the
// takeaways are not the TL;DR said again, and it spreads them over outlets.
// A story with little text gets few sentences or none: nothing is padded.
func Summarize(members []Member) (tldr, takeaways []Sentence) {
	cands := summaryCandidates(members)
	if len(cands) == 0 {
		return nil, nil
	}
	summaryWeigh(cands)
	sims := summarySimilarities(cands)
	summaryRank(cands, sims)
	return summarySelect(cands, sims)
}

// Bounds on the work per story: a summary reads the start of each text,
// where news writing puts what matters, and the graph is quadratic in its
// sentences.
const (
	summaryMaxTextBytes  = 4096
	summaryMaxCandidates = 300
	summaryMinWords      = 6
	summaryMaxWords      = 60
	summaryDamping       = 0.85
	summaryIterations    = 50
	// summaryLambda trades importance against novelty in MMR.
	summaryLambda = 0.7
	// summaryRepeat is the similarity above which a sentence says again
	// what a chosen one said.
	summaryRepeat = 0.5
	// summarySameOutlet scales edges between sentences of one outlet:
	// an outlet agreeing with itself is weak evidence.
	summarySameOutlet   = 0.3
	summaryMaxTakeaways = 5
	// summaryEcho is the least similarity to another outlet's sentence
	// that makes a takeaway part of the story: one shared common word
	// ("AI") in a sentence of twenty is below it.
	summaryEcho = 0.1
)

// summaryCand is one candidate sentence.
type summaryCand struct {
	text    string
	article int64
	source  int64
	member  int
	pos     int // its index among its member's kept sentences; the title is 0
	title   bool
	words   int
	terms   []uint64 // sorted, distinct
	counts  []float64
	vec     []float64 // tf-idf weights, parallel to terms, unit length
	tf      []float64 // term counts, parallel to terms, unit length
	prior   float64
	score   float64
}

func summaryCandidates(members []Member) []summaryCand {
	var cands []summaryCand
	var buf []byte
	var scratch []term
	add := func(m Member, mi int, s string, pos int, title bool) bool {
		if len(cands) >= summaryMaxCandidates {
			return false
		}
		words := sentenceWords(s)
		if words < summaryMinWords || words > summaryMaxWords || isBoilerSentence(s) {
			return true
		}
		scratch, buf = sentenceTerms(scratch[:0], s, buf)
		if len(scratch) < 2 {
			return true
		}
		hs := make([]uint64, len(scratch))
		for i, t := range scratch {
			hs[i] = t.hash
		}
		slices.Sort(hs)
		c := summaryCand{text: s, article: m.Article, source: m.Source, member: mi, pos: pos, title: title, words: words}
		for i := 0; i < len(hs); {
			j := i + 1
			for j < len(hs) && hs[j] == hs[i] {
				j++
			}
			c.terms = append(c.terms, hs[i])
			c.counts = append(c.counts, float64(j-i))
			i = j
		}
		cands = append(cands, c)
		return true
	}
	for mi, m := range members {
		if m.Duplicate {
			continue
		}
		if title := strings.TrimSpace(m.Title); title != "" && utf8.ValidString(title) {
			if !add(m, mi, title, 0, true) {
				break
			}
		}
		text := m.Text
		if len(text) > summaryMaxTextBytes {
			text = text[:summaryMaxTextBytes]
			// Cut at a rune boundary, and drop the sentence the cut
			// broke: it would not be one the outlet wrote.
			for len(text) > 0 && !utf8.RuneStart(text[len(text)-1]) {
				text = text[:len(text)-1]
			}
			if i := strings.LastIndexAny(text, ".!?。！？\n"); i > 0 {
				text = text[:i+1]
			}
		}
		if !utf8.ValidString(text) {
			text = strings.ToValidUTF8(text, "\uFFFD")
			// A repaired text is no longer the outlet's: keep only the
			// sentences that read the same in it.
			orig := m.Text
			pos := 1
			for _, s := range sentencesOf(text) {
				if strings.Contains(s, "\uFFFD") || !strings.Contains(orig, s) {
					continue
				}
				if !add(m, mi, s, pos, false) {
					return cands
				}
				pos++
			}
			continue
		}
		pos := 1
		for _, s := range sentencesOf(text) {
			if !add(m, mi, s, pos, false) {
				return cands
			}
			pos++
		}
	}
	return cands
}

// sentenceTerms appends the terms of s: the words textTerms keeps, and for
// Chinese and Japanese, which have no spaces, every pair of adjacent
// ideographs (a bigram is roughly a word there).
func sentenceTerms(dst []term, s string, buf []byte) ([]term, []byte) {
	dst, buf = textTerms(dst, s, 0, buf)
	var prev rune
	for _, r := range s {
		if !isIdeograph(r) {
			prev = 0
			continue
		}
		if prev != 0 {
			buf = utf8.AppendRune(utf8.AppendRune(buf[:0], prev), r)
			dst = append(dst, term{hash: hashBytes(buf)})
		}
		prev = r
	}
	return dst, buf
}

func isIdeograph(r rune) bool {
	return r >= 0x2E80 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// sentenceWords counts words; two ideographs count as one word.
func sentenceWords(s string) int {
	words, ideographs, inWord := 0, 0, false
	for _, r := range s {
		switch {
		case isIdeograph(r):
			ideographs++
			inWord = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !inWord {
				words++
			}
			inWord = true
		case r == '\'' || r == '’' || r == '-' || r == '.' || r == ',':
			// inside a word: "GPT-5", "1.5", "don't", "1,000"
		default:
			inWord = false
		}
	}
	return words + (ideographs+1)/2
}

// isBoilerSentence reports lines feeds wrap around every item: calls to
// action, comment counts, syndication footers, bare links, metadata
// labels, tag lists.
func isBoilerSentence(s string) bool {
	l := strings.ToLower(s)
	for _, p := range []string{"read more", "continue reading", "subscribe", "sign up", "click here", "comments", "score:", "by:", "discussion:", "show hn", "ask hn", "tell hn", "launch hn", "tags:", "share this", "follow us", "the post ",
		// the fields of aggregator feeds
		"related:", "action:", "organization:", "source:", "type:", "downloads:", "likes:", "upvotes:", "authors:", "github stars:"} {
		if strings.HasPrefix(l, p) {
			if p != "the post " || strings.Contains(l, "appeared first on") {
				return true
			}
		}
	}
	if strings.Contains(l, "appeared first on") {
		return true
	}
	// A feed's excerpt cut mid-sentence ("However, effe...") is not a
	// sentence the outlet wrote.
	if t := strings.TrimRight(s, "\"'”’)"); strings.HasSuffix(t, "...") || strings.HasSuffix(t, "…") {
		return true
	}
	// Bare links, and sentences that are mostly links or numbers.
	letters, other := 0, 0
	for _, f := range strings.Fields(s) {
		if strings.Contains(f, "://") || strings.HasPrefix(f, "www.") {
			other += len(f)
			continue
		}
		for _, r := range f {
			if unicode.IsLetter(r) {
				letters++
			} else {
				other++
			}
		}
	}
	if letters < 2*other {
		return true
	}
	// "Label: value" metadata ("Organization: OpenAI").
	if i := strings.IndexByte(s, ':'); i > 0 && i < 24 && !strings.ContainsAny(s[i:], ".!?") && sentenceWords(s[i+1:]) <= 4 {
		return true
	}
	// Tag lists: "AI, Machine Learning, Research, Nvidia" or "#ai #ml".
	if strings.Count(s, "#") >= 3 {
		return true
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '·' || r == '/' || r == ';' })
	if len(parts) >= 3 && !strings.ContainsAny(s, ".!?") {
		short := 0
		for _, p := range parts {
			if sentenceWords(p) <= 3 {
				short++
			}
		}
		if short == len(parts) {
			return true
		}
	}
	return false
}

// summaryWeigh computes each candidate's tf-idf vector and its prior: a
// little for an outlet's lead, a little for terms other outlets use too.
func summaryWeigh(cands []summaryCand) {
	df := make(map[uint64]int)
	outlets := make(map[uint64][]int64) // the distinct sources using a term
	sources := make(map[int64]bool)
	for _, c := range cands {
		sources[c.source] = true
		for _, t := range c.terms {
			df[t]++
			if os := outlets[t]; !slices.Contains(os, c.source) {
				outlets[t] = append(os, c.source)
			}
		}
	}
	n := float64(len(cands))
	for i := range cands {
		c := &cands[i]
		c.vec = make([]float64, len(c.terms))
		var norm, recur float64
		for j, t := range c.terms {
			w := (1 + math.Log(c.counts[j])) * math.Log(1+n/float64(df[t]))
			c.vec[j] = w
			norm += w * w
			if len(sources) > 1 {
				recur += float64(len(outlets[t])-1) / float64(len(sources)-1)
			}
		}
		if norm > 0 {
			norm = math.Sqrt(norm)
			for j := range c.vec {
				c.vec[j] /= norm
			}
		}
		recur /= float64(len(c.terms))
		c.tf = make([]float64, len(c.counts))
		var tfNorm float64
		for _, v := range c.counts {
			tfNorm += v * v
		}
		for j, v := range c.counts {
			c.tf[j] = v / math.Sqrt(tfNorm)
		}
		lead := 1.0
		if !c.title {
			lead += 0.3 / float64(c.pos)
		}
		c.prior = lead * (1 + 0.5*recur)
	}
}

// summarySims holds the similarity of every pair of candidates, row
// major, twice: weighted by IDF within the story, which the graph uses, and
// by the plain term counts. A repeat is a repeat by either: IDF makes the
// words every outlet uses (the model's name) count little, and two
// sentences that differ only in those still say the same thing.
type summarySims struct {
	n          int
	idf, plain []float64
}

func (s *summarySims) repeat(i, j int) float64 {
	return max(s.idf[i*s.n+j], s.plain[i*s.n+j])
}

func summarySimilarities(cands []summaryCand) *summarySims {
	n := len(cands)
	sims := &summarySims{n: n, idf: make([]float64, n*n), plain: make([]float64, n*n)}
	for i := range cands {
		sims.idf[i*n+i], sims.plain[i*n+i] = 1, 1
		for j := i + 1; j < n; j++ {
			s := cosineSorted(cands[i].terms, cands[i].vec, cands[j].terms, cands[j].vec)
			sims.idf[i*n+j], sims.idf[j*n+i] = s, s
			p := cosineSorted(cands[i].terms, cands[i].tf, cands[j].terms, cands[j].tf)
			sims.plain[i*n+j], sims.plain[j*n+i] = p, p
		}
	}
	return sims
}

func cosineSorted(a []uint64, av []float64, b []uint64, bv []float64) float64 {
	var s float64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			s += av[i] * bv[j]
			i++
			j++
		}
	}
	return min(s, 1)
}

// summaryRank runs weighted PageRank over the similarity graph and sets
// each candidate's score: its rank times its prior.
func summaryRank(cands []summaryCand, sims *summarySims) {
	n := len(cands)
	w := make([]float64, n*n)
	out := make([]float64, n)
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			e := sims.idf[i*n+j]
			if cands[i].source == cands[j].source {
				e *= summarySameOutlet
			}
			w[i*n+j] = e
			out[i] += e
		}
	}
	pr := make([]float64, n)
	next := make([]float64, n)
	for i := range pr {
		pr[i] = 1 / float64(n)
	}
	for range summaryIterations {
		// Sentences with no edges hand their rank to all alike, so the
		// total stays 1.
		var dangling float64
		for j := range n {
			if out[j] == 0 {
				dangling += pr[j]
			}
		}
		var delta float64
		for i := range n {
			r := (1-summaryDamping)/float64(n) + summaryDamping*dangling/float64(n)
			for j := range n {
				if e := w[j*n+i]; e > 0 {
					r += summaryDamping * e / out[j] * pr[j]
				}
			}
			next[i] = r
			delta += math.Abs(r - pr[i])
		}
		pr, next = next, pr
		if delta < 1e-7 {
			break
		}
	}
	for i := range cands {
		cands[i].score = pr[i] * float64(n) * cands[i].prior
	}
}

// summarySelect picks the TL;DR and the takeaways by MMR.
func summarySelect(cands []summaryCand, sims *summarySims) (tldr, takeaways []Sentence) {
	n := len(cands)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// Best first; ties in input order, so the result is deterministic.
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case cands[a].score > cands[b].score:
			return -1
		case cands[a].score < cands[b].score:
			return 1
		}
		return 0
	})
	top := cands[order[0]].score
	if top <= 0 {
		return nil, nil
	}
	var chosen []int
	used := make(map[int64]int) // sentences chosen per outlet
	lower := make([]string, n)
	for i, c := range cands {
		lower[i] = strings.ToLower(c.text)
	}
	maxSim := func(i int) float64 {
		m := 0.0
		for _, c := range chosen {
			m = max(m, sims.repeat(i, c))
		}
		return m
	}
	// repeats reports a near-repeat of a chosen sentence: similar terms,
	// or the same words (one contains the other, as a title its lead).
	repeats := func(i int) bool {
		if maxSim(i) > summaryRepeat {
			return true
		}
		for _, c := range chosen {
			a, b := lower[i], lower[c]
			if strings.Contains(a, b) || strings.Contains(b, a) {
				return true
			}
		}
		return false
	}
	// A takeaway of a story that several outlets tell must share words
	// with another outlet: a sentence on a side matter (a newsletter's
	// other items) is not the story.
	sources := make(map[int64]bool)
	for _, c := range cands {
		sources[c.source] = true
	}
	echoed := make([]bool, n)
	for i := range cands {
		echoed[i] = len(sources) < 2
		for j := 0; j < n && !echoed[i]; j++ {
			echoed[i] = cands[j].source != cands[i].source && sims.plain[i*n+j] >= summaryEcho
		}
	}
	// pick returns the best candidate by MMR, or -1.
	pick := func(titleFactor float64) int {
		best, bestV := -1, math.Inf(-1)
		for _, i := range order {
			if slices.Contains(chosen, i) || !echoed[i] || repeats(i) {
				continue
			}
			rel := cands[i].score / top
			if cands[i].title {
				rel *= titleFactor
			}
			// Too little left to say: never pad.
			if rel < 0.15 {
				continue
			}
			v := summaryLambda*rel - (1-summaryLambda)*maxSim(i) - 0.1*float64(used[cands[i].source])
			if v > bestV {
				best, bestV = i, v
			}
		}
		return best
	}
	choose := func(i int) Sentence {
		chosen = append(chosen, i)
		used[cands[i].source]++
		return Sentence{Text: cands[i].text, Article: cands[i].article}
	}

	first := order[0]
	tldr = append(tldr, choose(first))
	// A second TL;DR sentence only when both are short and it adds
	// something the first did not say.
	if second := pick(0.8); second >= 0 {
		c, f := cands[second], cands[first]
		if f.words <= 30 && c.words <= 30 && f.words+c.words <= 45 && maxSim(second) <= 0.3 && c.score >= 0.6*top {
			tldr = append(tldr, choose(second))
		}
	}
	// Takeaways prefer the outlets' text to their headlines.
	for len(takeaways) < summaryMaxTakeaways {
		i := pick(0.7)
		if i < 0 {
			break
		}
		takeaways = append(takeaways, choose(i))
	}
	return tldr, takeaways
}

// sentencesOf splits plain text into sentences, each a trimmed substring
// of s. Newlines, "|" and bullets end a sentence (feeds put fields and list
// items on lines of their own); so do . ! ? and Chinese 。！？； — but not
// the dot of a decimal or a version ("1.5", "v1.5"), of an abbreviation
// ("Dr.", "e.g.", "U.S."), of an initial, nor any end followed by a
// lower-case word ("... and more").
func sentencesOf(s string) []string {
	var out []string
	start := 0
	emit := func(end, next int) {
		if seg := trimSentence(s[start:end]); seg != "" {
			out = append(out, seg)
		}
		start = next
	}
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		switch r {
		case '\n':
			if !wrapped(s, start, i) {
				emit(i, i+n)
			}
		case '\r', '|', '•', '\u2028', '\u2029':
			emit(i, i+n)
		case '。', '！', '？', '；':
			end := skipClosers(s, i+n)
			emit(end, end)
			i = end
			continue
		case '.', '!', '?', '…':
			end := i + n
			for end < len(s) && (s[end] == '.' || s[end] == '!' || s[end] == '?') {
				end++
			}
			if strings.HasPrefix(s[end:], "…") {
				end += len("…")
			}
			end = skipClosers(s, end)
			if endsSentence(s, start, i, end) {
				emit(end, end)
			}
			i = end
			continue
		}
		i += n
	}
	emit(len(s), len(s))
	return out
}

// wrapped reports whether the newline at i only wraps a line: the text
// before it (since start) ends in a word or a comma and the next line goes
// on in lower case. Paper abstracts come hard-wrapped.
func wrapped(s string, start, i int) bool {
	before := strings.TrimRightFunc(s[start:i], unicode.IsSpace)
	if before == "" {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(before)
	if !(unicode.IsLetter(last) || unicode.IsDigit(last) || last == ',') {
		return false
	}
	after := strings.TrimLeft(s[i+1:], " \t")
	next, _ := utf8.DecodeRuneInString(after)
	return unicode.IsLower(next)
}

// skipClosers returns the index after any closing quotes and brackets at i.
func skipClosers(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '"', '\'', ')', ']', '’', '”', '」', '』', '）', '》':
			i += n
		default:
			return i
		}
	}
	return i
}

// summaryAbbreviations end with a dot inside sentences.
var summaryAbbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"mt": true, "inc": true, "ltd": true, "co": true, "corp": true, "vs": true, "v": true, "no": true,
	"nos": true, "fig": true, "figs": true, "approx": true, "dept": true, "est": true, "gen": true,
	"gov": true, "sen": true, "rep": true, "jan": true, "feb": true, "mar": true, "apr": true,
	"jun": true, "jul": true, "aug": true, "sep": true, "sept": true, "oct": true, "nov": true,
	"dec": true, "al": true, "vol": true, "pp": true, "ca": true, "cf": true, "op": true, "ph": true,
}

// endsSentence reports whether the punctuation at s[i:end] ends a
// sentence that began at start.
func endsSentence(s string, start, i, end int) bool {
	if end >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[end:])
	if !unicode.IsSpace(r) {
		return false // "1.5", "openai.com", "e.g.,"
	}
	j := end
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if !unicode.IsSpace(r) || r == '\n' {
			break
		}
		j += n
	}
	if j < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[j:]); unicode.IsLower(r) {
			return false
		}
	}
	if s[i] != '.' || end-i > 1 && s[i+1] == '.' {
		return true // ! ? and an ellipsis before a capital
	}
	// A list's number: "1. Open weights".
	if lead := strings.TrimSpace(s[start:i]); len(lead) <= 3 && strings.Trim(lead, "0123456789") == "" {
		return false
	}
	// The word before the dot.
	w := s[start:i]
	if k := strings.LastIndexFunc(w, unicode.IsSpace); k >= 0 {
		w = w[k+1:]
	}
	w = strings.TrimLeft(w, "\"'([“‘")
	lw := strings.ToLower(w)
	if summaryAbbreviations[lw] || lw == "e.g" || lw == "i.e" {
		return false
	}
	if utf8.RuneCountInString(w) == 1 && unicode.IsUpper([]rune(w)[0]) {
		return false // an initial: "J. Smith"
	}
	// Dotted acronyms: "U.S.", "U.K.", "a.m."
	if strings.Contains(w, ".") {
		acronym := true
		for _, p := range strings.Split(w, ".") {
			if p == "" || len(p) > 2 || strings.IndexFunc(p, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
				acronym = false
			}
		}
		if acronym {
			return false
		}
	}
	return true
}

// trimSentence trims space and a leading list marker ("- ", "1、", "2. ").
func trimSentence(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range []string{"- ", "* ", "– ", "— ", "· ", "> "} {
		s = strings.TrimPrefix(s, p)
	}
	k := 0
	for k < len(s) && k < 3 && '0' <= s[k] && s[k] <= '9' {
		k++
	}
	if k > 0 && k < len(s) {
		switch {
		case strings.HasPrefix(s[k:], "、"):
			s = s[k+len("、"):]
		case strings.HasPrefix(s[k:], ". "), strings.HasPrefix(s[k:], ") "):
			s = s[k+2:]
		}
	}
	return strings.TrimSpace(s)
}
