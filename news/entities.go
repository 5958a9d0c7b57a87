package news

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Entities are read from the members' titles and the leads of their texts,
// in two ways: the lexicon (lexicon.go) names the field's labs, models,
// products, chips, frameworks, regulators and people with their aliases;
// and a run of capitalised words that the lexicon does not know
// ("Stanford University", "OpenClaw") is a name too, kind other, when it
// is in a title or in two members. Capitals prove a name only where they
// are not implied: not at the start of a sentence, not in a headline
// written in title case, unless the same word is capitalised elsewhere in
// the story where nothing implies it, or its shape ("vLLM", "ESP32",
// "NPU") is a name's.
//
// A model family's versions fold to the family's key ("DeepSeek-V4",
// "deepseek v4" and "DeepSeek's" are all "deepseek"), so that stories
// about V3 and V4 share it; a version is also kept as an entity of its
// own ("deepseek-v4", kind model), weighing a little less than the
// family. A model or product also names its maker at half weight (Claude
// is about Anthropic too).

const (
	// Only the start of a text is read: it says what the article is
	// about, and it bounds the work per member. Titles are short; a
	// longer one is not a title.
	entTextBytes  = 4096
	entTitleBytes = 512
	// maxTail is how many words a version may have after the family's
	// name ("Gemini" "3" "Pro" "Preview").
	maxTail = 3
	// maxRun is the longest run of capitalised words taken as one name;
	// a longer run is a headline in capitals, not a name.
	maxRun = 4
)

// Weights of one member's mentions. A title says what the article is
// about; a text may name many things in passing, so its mentions count
// less, and repeated ones little.
const (
	wTitle       = 3.0
	wText        = 1.0
	wTextRepeat  = 0.25
	wTextMax     = 2.0
	wDuplicate   = 0.25 // a near-copy adds little: it is the same report
	wVersion     = 0.9  // below its family, which every version also counts for
	wMaker       = 0.5  // Claude's story is about Anthropic, but less
	wOther       = 0.6  // a capitalised name is less sure to be one than a lexicon entry
	weightDigits = 1000 // weights are rounded to 1/weightDigits: stable across runs and stores
)

// ExtractEntities returns the entities the members are about, at most max
// of them (none when max <= 0), sorted by Weight, highest first, then by
// Key. The result depends only on the members and their order.
func ExtractEntities(members []Member, max int) []Entity {
	if max <= 0 || len(members) == 0 {
		return nil
	}
	fields := make([]entField, 0, 2*len(members))
	for i, m := range members {
		fields = append(fields,
			newEntField(i, true, clip(m.Title, entTitleBytes)),
			newEntField(i, false, clip(m.Text, entTextBytes)))
	}
	evidence := nameEvidence(fields)

	acc := entAccumulator{byKey: map[string]*entTotal{}}
	var hits []entHit
	for i, m := range members {
		hits = hits[:0]
		title, text := &fields[2*i], &fields[2*i+1]
		hits = title.lexiconHits(hits)
		hits = text.lexiconHits(hits)
		hits = dropUnproven(hits, m)
		hits = title.otherHits(hits, evidence)
		hits = text.otherHits(hits, evidence)
		factor := 1.0
		if m.Duplicate {
			factor = wDuplicate
		}
		acc.addMember(i, hits, factor)
	}
	return acc.result(max)
}

// EntityKey folds a name to the key its entity has: the lexicon's key when
// the name is one of its aliases, with or without a version after it
// ("DeepSeek-V4", "deepseek v4" and "DeepSeek's" are all "deepseek");
// otherwise the name's words in lower case, joined by hyphens ("Stanford
// University" is "stanford-university"). Case does not matter here: the
// caller says the string is a name.
func EntityKey(name string) string {
	toks := entTokens(nil, clip(name, entTitleBytes))
	if len(toks) == 0 {
		return ""
	}
	if m, ok := lexIdx.matchAt(toks, 0, false); ok && m.end+m.tailToks == len(toks) {
		return lexicon[m.alias.entry].key
	}
	return slugOf(toks)
}

// clip cuts s to at most n bytes, at the start of a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func slugOf(toks []etok) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(t.lower)
	}
	return b.String()
}

// gap is what separates a word from the one before it.
type gap uint8

const (
	gapSpace    gap = iota // spaces, or nothing
	gapJoin                // a hyphen, slash, underscore or inner dot: "DeepSeek-V4", "Z.ai"
	gapPunct               // a comma, bracket, quote, dash or ideograph: a name stops here
	gapSentence            // a full stop, colon or line break, or the field's start: a sentence starts
)

// etok is one word of a title or text.
type etok struct {
	start, end int // its bytes in the field
	lower      string
	gap        gap  // before it
	capital    bool // starts with an upper-case letter
	allCaps    bool // two or more letters, all upper-case ("NPU", "GPT")
	innerCap   bool // upper and lower case, an upper after the first letter ("DeepSeek", "vLLM", "MCPMark")
	digit      bool
	letter     bool
}

// entTokens appends the words of s to dst. A possessive ("DeepSeek's") is
// cut off; a dot between digits stays in the word ("3.5"); invalid UTF-8
// separates words like any punctuation.
func entTokens(dst []etok, s string) []etok {
	g := gapSentence
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			g = max(g, sepGap(r, s, i+n))
			i += n
			continue
		}
		t := etok{start: i, gap: g}
		lowerNeeded, upperLater, anyLower := false, false, false
		for i < len(s) {
			r, n = utf8.DecodeRuneInString(s[i:])
			if r == '\'' || r == '’' {
				j := i + n
				if j < len(s) && (s[j] == 's' || s[j] == 'S') && (j+1 == len(s) || !isWordByte(s, j+1)) {
					t.end = i
					i = j + 1
					break
				}
				if j < len(s) && isWordByte(s, j) && t.letter {
					i = j // a contraction: "don't" is one word
					continue
				}
				break
			}
			if r == '.' && i > t.start && isDigitByte(s[i-1]) && i+1 < len(s) && isDigitByte(s[i+1]) {
				i++
				continue
			}
			if !isWordRune(r) {
				break
			}
			switch {
			case unicode.IsUpper(r):
				t.letter = true
				lowerNeeded = true
				if i == t.start {
					t.capital = true
				} else {
					upperLater = true
				}
			case unicode.IsLetter(r):
				t.letter = true
				anyLower = anyLower || unicode.IsLower(r)
				if r >= utf8.RuneSelf {
					lowerNeeded = true
				}
			case unicode.IsDigit(r):
				t.digit = true
			}
			i += n
			t.end = i
		}
		if t.end <= t.start {
			t.end = i
		}
		w := s[t.start:t.end]
		t.lower = w
		if lowerNeeded {
			t.lower = strings.ToLower(w)
		}
		t.innerCap = upperLater && anyLower
		t.allCaps = t.letter && t.capital && !anyLower && letterCount(w) >= 2
		if t.lower != "" {
			dst = append(dst, t)
		}
		g = gapSpace
	}
	return dst
}

func isWordByte(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isWordRune(r)
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

func letterCount(w string) int {
	n := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// sepGap classifies a separator; next is the index after it.
func sepGap(r rune, s string, next int) gap {
	switch r {
	case ' ', '\t', '\u00a0', '\u202f':
		return gapSpace
	case '-', '‐', '‑', '‒', '/', '_':
		return gapJoin
	case '.':
		// "Z.ai", "llama.cpp", "U.S.": no space after, no sentence end.
		if next < len(s) && isWordByte(s, next) {
			return gapJoin
		}
		return gapSentence
	case '!', '?', ':', ';', '\n', '\r', '|', '•', '·', '–', '—', '。', '！', '？', '：':
		return gapSentence
	}
	return gapPunct
}

// entField is one member's title or text, read as words.
type entField struct {
	member    int
	title     bool
	s         string
	toks      []etok
	covered   []bool // words a lexicon entry or a veto took
	titleCase bool   // no long word in lower case: capitals prove nothing here
	shouting  bool   // every long word in capitals: neither do shapes
}

func newEntField(member int, title bool, s string) entField {
	f := entField{member: member, title: title, s: s}
	f.toks = entTokens(nil, s)
	f.covered = make([]bool, len(f.toks))
	lower, capital, caps := 0, 0, 0
	for i, t := range f.toks {
		if !t.letter || len(t.lower) < 4 {
			continue
		}
		switch {
		case t.allCaps:
			caps++
		case t.capital:
			if i > 0 {
				capital++
			}
		default:
			lower++
		}
	}
	f.shouting = caps >= 3 && lower == 0 && capital == 0
	// A text as short as a title, with no word in lower case, is a title
	// too (some feeds repeat the title as the summary).
	f.titleCase = lower == 0 && capital+caps >= 1
	return f
}

// free reports whether a capital at word i is the writer's choice, not
// the start of a sentence's or a title-case headline's.
func (f *entField) free(i int) bool {
	return !f.titleCase && f.toks[i].gap != gapSentence
}

// entHit is one mention in one field.
type entHit struct {
	key    string
	name   string // as pages show it; for a version or other name, as written
	kind   EntityKind
	lex    bool
	title  bool
	factor float64
	entry  int // lexicon entry, -1 for none
	proven bool
}

// lexiconHits appends the lexicon's entries found in f, with their
// versions and makers, and marks the words they cover.
func (f *entField) lexiconHits(hits []entHit) []entHit {
	toks := f.toks
	for i := range toks {
		if n := lexIdx.vetoAt(toks, i); n > 0 {
			for j := i; j < i+n; j++ {
				f.covered[j] = true
			}
		}
	}
	for i := 0; i < len(toks); i++ {
		if f.covered[i] {
			continue
		}
		m, ok := lexIdx.matchAt(toks, i, true)
		if !ok {
			continue
		}
		end := m.end + m.tailToks
		if slices.Contains(f.covered[i:end], true) {
			continue
		}
		for j := i; j < end; j++ {
			f.covered[j] = true
		}
		e := &lexicon[m.alias.entry]
		proven := e.flags&lexGuarded == 0 || len(m.tail) > 0
		hits = append(hits, entHit{key: e.key, name: e.name, kind: e.kind, lex: true, title: f.title, factor: 1, entry: m.alias.entry, proven: proven})
		if len(m.tail) > 0 {
			sep := "-"
			if e.flags&lexGlue != 0 {
				sep = ""
			}
			key := m.alias.verPrefix + sep + strings.Join(m.tail, "-")
			name := versionName(f.s[toks[i].start:toks[end-1].end])
			hits = append(hits, entHit{key: key, name: name, kind: KindModel, lex: true, title: f.title, factor: wVersion, entry: -1, proven: true})
		}
		if e.maker != "" {
			mk := &lexicon[lexIdx.byKey[e.maker]]
			hits = append(hits, entHit{key: mk.key, name: mk.name, kind: mk.kind, lex: true, title: f.title, factor: wMaker, entry: -1, proven: proven})
		}
		i = end - 1
	}
	return hits
}

// versionName is a version as written, with typographic hyphens plain.
func versionName(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '‐', '‑', '‒':
			return '-'
		case '\u00a0', '\u202f', '\n', '\t', '\r':
			return ' '
		}
		return r
	}, s)
}

// dropUnproven removes the guarded entries of a member that does not read
// as AI news: Gemini in a horoscope, a llama on a farm. A member reads as
// AI news when another, unguarded entry is in it or the AI filter says so.
// Makers that only a dropped entry implied go with it.
func dropUnproven(hits []entHit, m Member) []entHit {
	allProven, anyProvenLex := true, false
	for _, h := range hits {
		if !h.proven {
			allProven = false
		} else if h.entry >= 0 {
			anyProvenLex = true
		}
	}
	if allProven || anyProvenLex || LooksLikeAI(clip(m.Title, entTitleBytes), clip(m.Text, entTextBytes), nil) {
		return hits
	}
	out := hits[:0]
	for _, h := range hits {
		if h.proven {
			out = append(out, h)
		}
	}
	return out
}

// nameEvidence returns the words capitalised, somewhere in the story, where
// nothing but their being a name explains it.
func nameEvidence(fields []entField) map[string]bool {
	ev := map[string]bool{}
	for fi := range fields {
		f := &fields[fi]
		for i, t := range f.toks {
			if t.capital && !t.allCaps && f.free(i) && !notName(t.lower) {
				ev[t.lower] = true
			}
		}
	}
	return ev
}

// otherHits appends the runs of capitalised words in f that no lexicon
// entry took.
func (f *entField) otherHits(hits []entHit, evidence map[string]bool) []entHit {
	toks := f.toks
	start := -1
	flush := func(end int) {
		if start >= 0 && end-start <= maxRun {
			run := toks[start:end]
			hits = append(hits, entHit{key: slugOf(run), name: versionName(f.s[run[0].start:run[len(run)-1].end]), kind: KindOther, title: f.title, factor: wOther, entry: -1, proven: true})
		}
		start = -1
	}
	for i, t := range toks {
		named := !f.covered[i] && f.nameLike(i, evidence)
		// "of" joins two names into one: "Department of Energy".
		if !named && start >= 0 && t.lower == "of" && t.gap == gapSpace && i+1 < len(toks) &&
			toks[i+1].gap == gapSpace && !f.covered[i+1] && f.nameLike(i+1, evidence) {
			continue
		}
		if start >= 0 && (!named || t.gap > gapJoin) {
			flush(i)
		}
		if named && start < 0 {
			start = i
		}
	}
	flush(len(toks))
	return hits
}

// nameLike reports whether word i of f reads as (part of) a name.
func (f *entField) nameLike(i int, evidence map[string]bool) bool {
	t := f.toks[i]
	if !t.letter || notName(t.lower) || strings.ContainsAny(t.lower, "'’") {
		return false
	}
	// A word with digits is a name when it starts with a letter ("ESP32",
	// "x86"); "800M" and "30s" are quantities.
	if !f.shouting && (t.innerCap || t.allCaps || t.digit && !isDigitByte(t.lower[0])) {
		return true
	}
	if !t.capital || t.allCaps {
		return false
	}
	if f.free(i) || evidence[t.lower] {
		return true
	}
	// A sentence may start with a name of two words: "Zorblax Robotics
	// trains ...". The second word's capital is the writer's choice.
	if i+1 < len(f.toks) {
		n := f.toks[i+1]
		return n.gap == gapSpace && n.capital && !n.allCaps && f.free(i+1) && !f.covered[i+1] && !notName(n.lower)
	}
	return false
}

// notName reports whether a capitalised word is a common word, a
// headline's filler or a feed's template rather than a name.
func notName(lower string) bool {
	if len(lower) <= 1 {
		return true
	}
	if len(lower) <= 8 && isStopWord([]byte(lower), hashBytes([]byte(lower))) {
		return true
	}
	return commonWords[lower]
}

// commonWords are capitalised at the start of headlines and in feeds'
// templates often enough to pass for names.
var commonWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		cve rce cdn diy ai ais agi ml llm llms gpu gpus cpu cpus npu api apis sdk cli ui ux os pc pcs ceo cto cfo coo vp
		us usa uk hn yc faq pdf html css url urls http https json xml sql id ids tv it pr rl rag ok
		show ask tell launch hn introducing announcing announces introduces meet new how why what
		today update updates upcoming introduction guide blog news report research model models
		agent agents lab labs inc corp ltd llc co team teams version part chapter episode
		score comments comment discussion points organization organisation source action downloads
		likes type stars forks views replies posted author by read more via link category
		january february march april may june july august september october november december
		monday tuesday wednesday thursday friday saturday sunday
		i we you he she they it this that these those there here our your their my its his her
		yes no not all any every each some many most more less few one two three four five ten
		first second third last next new old big small best better top free open
		don can will would could should might must shall let lets get got make made use using
		is are was were be been am do does did has have had
		part vs via per about after before during over under into onto upon
		mr mrs ms dr prof sir st
	`) {
		m[w] = true
	}
	return m
}()

// entAccumulator sums the members' hits into the story's entities.
type entAccumulator struct {
	byKey map[string]*entTotal
	order []string // keys in first-seen order, for a deterministic result
}

type entTotal struct {
	name    string
	kind    EntityKind
	lex     bool
	weight  float64
	members int
	titled  bool
	names   map[string]int // how each key was written, for versions and other names
	first   map[string]int // the order names were first seen in
}

// memberScore is one member's mentions of one key.
type memberScore struct {
	title   float64 // the best factor among title mentions
	text    float64
	nText   int
	hit     entHit
	ordinal int
}

func (a *entAccumulator) addMember(member int, hits []entHit, factor float64) {
	if len(hits) == 0 {
		return
	}
	scores := make(map[string]*memberScore, len(hits))
	var keys []string
	for _, h := range hits {
		s := scores[h.key]
		if s == nil {
			s = &memberScore{hit: h, ordinal: len(keys)}
			scores[h.key] = s
			keys = append(keys, h.key)
		}
		if h.lex && !s.hit.lex {
			s.hit = h // a lexicon entry says what a key is over a capitalised run
		}
		if h.title {
			s.title = math.Max(s.title, h.factor)
		} else {
			if s.nText == 0 {
				s.text += wText * h.factor
			} else {
				s.text += wTextRepeat * h.factor
			}
			s.nText++
		}
		a.noteName(h)
	}
	for _, k := range keys {
		s := scores[k]
		t := a.byKey[k]
		if t == nil {
			t = &entTotal{name: s.hit.name, kind: s.hit.kind, lex: s.hit.lex}
			a.byKey[k] = t
			a.order = append(a.order, k)
		}
		if s.hit.lex && !t.lex {
			t.name, t.kind, t.lex = s.hit.name, s.hit.kind, true
		}
		t.weight += factor * (wTitle*s.title + math.Min(s.text, wTextMax))
		t.members++
		t.titled = t.titled || s.title > 0
	}
}

// noteName counts how a version or an unknown name was written.
func (a *entAccumulator) noteName(h entHit) {
	if h.entry >= 0 || (h.kind != KindModel && h.kind != KindOther) {
		return
	}
	t := a.byKey[h.key]
	if t == nil {
		t = &entTotal{name: h.name, kind: h.kind, lex: h.lex}
		a.byKey[h.key] = t
		a.order = append(a.order, h.key)
	}
	if t.names == nil {
		t.names, t.first = map[string]int{}, map[string]int{}
	}
	if _, ok := t.first[h.name]; !ok {
		t.first[h.name] = len(t.first)
	}
	t.names[h.name]++
}

func (a *entAccumulator) result(max int) []Entity {
	out := make([]Entity, 0, len(a.order))
	for _, k := range a.order {
		t := a.byKey[k]
		if t.weight <= 0 {
			continue
		}
		if !t.lex && !t.titled && t.members < 2 {
			continue // a capitalised run once in a text is not yet a name of the story
		}
		name := t.name
		best := -1
		for n, c := range t.names {
			if c > best || c == best && t.first[n] < t.first[name] {
				name, best = n, c
			}
		}
		out = append(out, Entity{Key: k, Name: name, Kind: t.kind, Weight: math.Round(t.weight*weightDigits) / weightDigits})
	}
	slices.SortFunc(out, func(x, y Entity) int {
		if x.Weight != y.Weight {
			if x.Weight > y.Weight {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Key, y.Key)
	})
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// The lexicon, compiled: its aliases indexed by first word.

type lexAlias struct {
	entry       int
	words       []string
	needVersion bool   // "Opus 4.5", not "opus"
	verPrefix   string // the version keys' prefix
}

type lexIndex struct {
	aliases []lexAlias
	first   map[string][]int // first word -> aliases, longest first
	byKey   map[string]int   // key -> entry
	vetoes  map[string][][]vetoWord
}

type vetoWord struct {
	text   string
	prefix bool
}

// lexIdx is built once and only read afterwards.
var lexIdx = compileLexicon(lexicon, lexVetoes)

func compileLexicon(entries []lexEntry, vetoes []string) *lexIndex {
	x := &lexIndex{first: map[string][]int{}, byKey: map[string]int{}, vetoes: map[string][][]vetoWord{}}
	for ei, e := range entries {
		x.byKey[e.key] = ei
		for _, a := range strings.Split(e.aliases, "|") {
			phrase, prefix, _ := strings.Cut(a, "=")
			if prefix == "" {
				prefix = e.key
			}
			need := strings.HasSuffix(phrase, "#")
			var words []string
			for _, t := range entTokens(nil, strings.TrimSuffix(phrase, "#")) {
				words = append(words, t.lower)
			}
			if len(words) == 0 {
				continue
			}
			x.first[words[0]] = append(x.first[words[0]], len(x.aliases))
			x.aliases = append(x.aliases, lexAlias{entry: ei, words: words, needVersion: need, verPrefix: prefix})
		}
	}
	for w, ids := range x.first {
		slices.SortStableFunc(ids, func(a, b int) int { return len(x.aliases[b].words) - len(x.aliases[a].words) })
		x.first[w] = ids
	}
	for _, v := range vetoes {
		var words []vetoWord
		for _, w := range strings.Fields(v) {
			words = append(words, vetoWord{text: strings.TrimSuffix(w, "*"), prefix: strings.HasSuffix(w, "*")})
		}
		x.vetoes[words[0].text] = append(x.vetoes[words[0].text], words)
	}
	return x
}

// vetoAt returns how many words a false friend starting at word i covers.
func (x *lexIndex) vetoAt(toks []etok, i int) int {
	best := 0
	for _, words := range x.vetoes[toks[i].lower] {
		if i+len(words) > len(toks) || len(words) <= best {
			continue
		}
		ok := true
		for j, w := range words {
			t := toks[i+j]
			if j > 0 && t.gap > gapJoin || !(t.lower == w.text || w.prefix && strings.HasPrefix(t.lower, w.text)) {
				ok = false
				break
			}
		}
		if ok {
			best = len(words)
		}
	}
	return best
}

// lexMatch is an alias found at a word, with the version after it.
type lexMatch struct {
	alias    lexAlias
	end      int      // the word after the alias
	tail     []string // the version's words, lower case
	tailToks int      // the words after end that the version took
}

// matchAt finds the longest alias starting at word i, with its version.
// cased applies the entries' case rules (EntityKey does not: its caller
// says the string is a name).
func (x *lexIndex) matchAt(toks []etok, i int, cased bool) (lexMatch, bool) {
	t := toks[i]
	for _, id := range x.first[t.lower] {
		a := x.aliases[id]
		if !x.wordsAt(toks, i, a.words) || cased && !caseOK(lexicon[a.entry].flags, t) {
			continue
		}
		m := lexMatch{alias: a, end: i + len(a.words)}
		if lexicon[a.entry].flags&lexVersions != 0 {
			m.tail, m.tailToks = versionTail(toks, m.end, "")
		}
		if a.needVersion && len(m.tail) == 0 {
			continue
		}
		return m, true
	}
	// A version glued to a family's name: "Qwen3", "gpt4o", "o3".
	if !t.digit || !t.letter {
		return lexMatch{}, false
	}
	stem := leadingLetters(t.lower)
	if stem == "" || stem == t.lower {
		return lexMatch{}, false
	}
	for _, id := range x.first[stem] {
		a := x.aliases[id]
		e := lexicon[a.entry]
		if len(a.words) != 1 || e.flags&lexVersions == 0 || cased && !caseOK(e.flags, t) {
			continue
		}
		rest := t.lower[len(stem):]
		if !isVersionWord(rest) {
			continue
		}
		tail, n := versionTail(toks, i+1, rest)
		return lexMatch{alias: a, end: i + 1, tail: tail, tailToks: n}, true
	}
	return lexMatch{}, false
}

func (x *lexIndex) wordsAt(toks []etok, i int, words []string) bool {
	if i+len(words) > len(toks) {
		return false
	}
	for j, w := range words {
		if toks[i+j].lower != w || j > 0 && toks[i+j].gap > gapJoin {
			return false
		}
	}
	return true
}

func caseOK(f lexFlag, t etok) bool {
	switch {
	case f&lexUpper != 0:
		return t.allCaps || t.capital && len(t.lower) == 1
	case f&lexCapital != 0:
		return t.capital
	case f&lexLower != 0:
		return !t.capital
	}
	return true
}

func leadingLetters(w string) string {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c < 'a' || c > 'z' {
			return w[:i]
		}
	}
	return w
}

// tailWords may follow a version: sizes, editions and variants of a model.
var tailWords = map[string]bool{
	"pro": true, "flash": true, "ultra": true, "nano": true, "mini": true, "max": true, "plus": true,
	"turbo": true, "lite": true, "sonnet": true, "opus": true, "haiku": true, "coder": true, "vl": true,
	"instruct": true, "thinking": true, "preview": true, "omni": true, "exp": true, "air": true,
	"image": true, "vision": true, "math": true, "prover": true, "reasoner": true, "chat": true,
	"scout": true, "maverick": true, "behemoth": true, "small": true, "medium": true, "large": true,
	"realtime": true, "audio": true, "tts": true, "speciale": true, "terminus": true, "next": true,
	"fast": true, "heavy": true, "high": true, "low": true, "oss": true,
}

// versionTail reads the version after a family's name, starting at word
// i; glued is a version already read from the name's own word ("3" of
// "Qwen3"). A version holds a number, so "Gemini Pro" has none but
// "Gemini 3 Pro" has "3 pro"; parameter counts ("8B") are not versions.
// It returns the version's words and how many words of toks it took.
func versionTail(toks []etok, i int, glued string) ([]string, int) {
	var tail []string
	hasNumber, took := false, 0
	if glued != "" {
		tail, hasNumber = append(tail, glued), true
	}
	for ; i < len(toks) && len(tail) < maxTail; i++ {
		t := toks[i]
		if t.gap > gapJoin {
			break
		}
		switch {
		case t.digit && isVersionWord(t.lower):
			hasNumber = true
		case !t.digit && tailWords[t.lower] && (hasNumber || len(tail) == 0):
		default:
			i = len(toks)
			continue
		}
		tail = append(tail, t.lower)
		took++
	}
	if !hasNumber {
		// Edition words without a number are no version: "Claude Opus"
		// is only "claude".
		return nil, 0
	}
	return tail, took
}

// isVersionWord reports whether a word with digits reads as a version
// ("4", "3.5", "v4", "r1", "4o", "k2", "m2.5", "4.6v") rather than a
// size, a year or a quantity ("8b", "2025", "120").
func isVersionWord(w string) bool {
	if len(w) == 0 || len(w) > 7 {
		return false
	}
	letters, digits, lead := 0, 0, 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case 'a' <= c && c <= 'z':
			letters++
			if digits == 0 {
				lead++
			}
		case isDigitByte(c):
			digits++
		case c == '.':
		default:
			return false
		}
	}
	if digits == 0 || letters > 2 || lead > 1 {
		return false
	}
	last := w[len(w)-1]
	if lead == 0 && letters > 0 && (last == 'b' || last == 'm' || last == 'k' || last == 't') {
		return false // 8b, 70b, 1m: a size
	}
	if letters == 0 && !strings.Contains(w, ".") && len(w) > 2 {
		return false // 2025, 120: a year or a count
	}
	return true
}
