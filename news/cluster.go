package news

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"sort"
	"time"
)

// Story clustering (dedupe levels 3 and 4 of DESIGN.md): one pass over the
// articles in arrival order. Each article is first checked against recent
// fingerprints (a near-copy joins its original's story), else compared with
// the open stories that share a term with it, found through an inverted
// index that holds only what is inside the look-back window: never all
// pairs, and memory bounded by the window. Pure code: the story stage feeds
// it from the store, bench/clustereval from a file.
//
// The similarity of an article to a story mixes the cosine to the story's
// centroid (what the story is about) with the cosine to its nearest member
// (a report worded like one already in it), both over TF-IDF weights with
// document frequencies learned from the stream. When one article matches
// two open stories strongly and their centroids agree, the two were one
// event reported in different words and merge: the smaller folds into the
// larger, whose id stays.
//
// Terms, stories and members live in slices and refer to each other by
// index, not by pointer: the clusterer holds a hundred thousand terms, and
// with a pointer each (and more per posting) garbage collection was a
// fifth of the CPU profile; arrays without pointers it need not scan. A
// slot is reused only once nothing refers to it any more (see
// deadStories).

// Doc is what the clusterer reads of an article.
type Doc struct {
	ID        int64
	Title     string
	Summary   string
	URL       string  // the words of its slug count like a summary's
	Source    int64   // the outlet that published it
	Weight    float64 // the outlet's weight; 1 is normal, 0 counts as 1
	Published time.Time
}

// Placement is where an article went.
type Placement struct {
	Story       int64
	DuplicateOf int64 // the original it is a near-copy of; 0 if none
	New         bool  // it started the story
	// Merged are the stories folded into Story because of this article:
	// their members now belong to Story, and they are gone.
	Merged []int64
	// Closed are the stories that left the window before this article was
	// placed, in their final state: a caller that saves stories in
	// batches gets here what Story can no longer give it.
	Closed []Story
}

// Clusterer places articles into stories, one at a time. It is not safe
// for concurrent use.
type Clusterer struct {
	p                     ClusterParams
	window, span, dupSpan int64 // p's durations in seconds

	vocab     vocabIndex // term -> its slot in stats
	stats     []termStat
	lastSeen  []int64 // by the same slot as stats: when the term was last seen, unix seconds
	freeStats []int32
	nDocs     float64 // documents counted in the frequencies, decayed
	added     int     // articles since the last sweep
	sweeps    int

	stories []cstory
	hot     []storyHot      // by the same slot as stories
	open    map[int64]int32 // the open stories: id -> slot
	// deadStories are closed or merged away, but postings may still name
	// them (and their members) until the next sweep of the vocabulary
	// compacts every posting list; only then are their slots reused.
	deadStories []int32
	freeStories []int32
	members     []cmember
	freeMembers []int32
	// deadMembers has a bit set for each member slot whose story is dead:
	// until the vocabulary sweep compacts them, a quarter of the member
	// postings best walks (on the dev set) are of closed stories, and this
	// skips them without reading their member's and story's records.
	deadMembers []uint64

	merges map[int64]int64 // folded story -> the story it went into
	closed []Story         // closed by the sweep of the current Add
	clock  int64           // latest published time seen, unix seconds

	dups dupIndex

	// Scratch, reused across articles.
	terms   []term
	nText   int // terms of the title and the summary, before the URL's
	set     []uint64
	vec     []wterm
	buf     []byte
	cands   []int32 // story slots
	touched []int32 // member slots
	epoch   uint64
	// simMark holds, for each term slot, the call of storySim that last
	// saw it in its second story (high half) and its index there.
	simMark  []uint64
	simEpoch uint32
	idfMemo  [1 << idfMemoBits]idfMemo
	touch    int32 // see best
}

// termStat is what the clusterer knows of one term.
// 64 bytes, so that each is one cache line: when it was last seen, which
// only learn and the sweep read, is in lastSeen.
type termStat struct {
	hash    uint64  // its key in vocab
	df      float32 // documents that held it, decayed (see dfHalfLife); -1 in a free slot
	stories []posting
	members []mposting // the members that hold it; some may be closed
}

// posting is a story that holds a term; the story may be closed.
type posting struct {
	s int32 // its slot
	i int32 // index of the term in the story's terms
}

// mposting is a member that holds a term, with its story: the search for
// the nearest member reads the story first, and most members' stories are
// not open to the article. The story is the one the member joined, or a
// story that merged into another since (see storyHot.into); the sweep that
// frees dead stories' slots brings it up to date first.
type mposting struct {
	m, s int32 // slots
}

// wterm is a term of one article with its weight before IDF.
type wterm struct {
	hash uint64
	w    float64
	stat int32 // slot in stats; -1 when the term is new
}

// cstory is a story, open or dead. What the search for candidates reads
// of every story a posting names is apart, in a storyHot of the same slot.
type cstory struct {
	id    int64
	score float64 // scoring scratch, valid with storyHot.epoch
	norm2 float64 // squared norm of the TF-IDF centroid
	// sizeLog is math.Log(float64(sized)): every candidate's score needs
	// the log of its size, which changes far less often.
	sizeLog float64
	sized   int
	terms   []sterm // the centroid
	members []member
	mems    []int32 // member slots
}

// storyHot is the part of a story that best reads through the postings:
// 48 bytes a story, so that all of them stay in cache.
type storyHot struct {
	first, last int64 // published range, unix seconds
	// Scoring scratch, valid while epoch is the clusterer's.
	epoch   uint64
	dot, nn float64
	into    int32 // the story it merged into, if it did; then dead
	dead    bool
}

// sterm is a term of a story's centroid.
type sterm struct {
	w    float64 // summed member weights
	idf  float64 // the term's IDF when its weight last changed
	stat int32   // its slot in stats
}

// cmember is a member in the member index.
type cmember struct {
	story int32 // slot
	norm  float64
	epoch uint64
	dot   float64
}

type member struct {
	id        int64
	published int64
	weight    float64
	dupOf     int64
}

// NewClusterer returns an empty clusterer. Use DefaultClusterParams unless
// you are tuning.
func NewClusterer(p ClusterParams) *Clusterer {
	return &Clusterer{
		p:       p,
		window:  int64(p.Window / time.Second),
		span:    int64(p.MaxSpan / time.Second),
		dupSpan: int64(p.DupWindow / time.Second),
		open:    make(map[int64]int32),
		merges:  make(map[int64]int64),
	}
}

// Add places d: with its original's story when it is a near-copy, else in
// the most similar open story above the threshold, else in a new story
// whose id is d.ID.
func (c *Clusterer) Add(d Doc) Placement {
	pub := d.Published.Unix()
	c.closed = nil
	c.advance(pub)
	vec := c.vector(d)
	set := c.termSet()
	fp := c.dups.fingerprint(set)

	pl := Placement{Closed: c.closed}
	s := int32(-1)
	if origID, origStory, ok := c.dups.find(fp, set, pub, c.p.DupWindow, c.p.DupJaccard); ok {
		if os, ok := c.open[c.Merged(origStory)]; ok && c.isOpen(&c.hot[os], pub) {
			s, pl.DuplicateOf = os, origID
		}
	}
	if s < 0 {
		if s = c.best(vec, pub); s >= 0 {
			s, pl.Merged = c.mergeInto(s, pub)
		}
	}
	if s < 0 {
		s = c.newStory(d.ID, pub)
		pl.New = true
	}
	pl.Story = c.stories[s].id
	c.learn(vec, pub)
	c.join(s, vec, d, pub, pl.DuplicateOf)
	c.dups.add(fp, set, d.ID, pl.Story, pub)
	return pl
}

// Restore tells the clusterer about an article placed before (by an
// earlier process), so that a restart continues the same stories. Feed it
// in published order, like Add.
func (c *Clusterer) Restore(d Doc, story, duplicateOf int64) {
	pub := d.Published.Unix()
	c.advance(pub)
	vec := c.vector(d)
	s, ok := c.open[story]
	if !ok {
		s = c.newStory(story, pub)
	}
	c.learn(vec, pub)
	c.join(s, vec, d, pub, duplicateOf)
	set := c.termSet()
	c.dups.add(c.dups.fingerprint(set), set, d.ID, story, pub)
}

// Merged returns the story that story id was folded into, following
// merges to the end; id itself when it was not.
func (c *Clusterer) Merged(id int64) int64 {
	for {
		to, ok := c.merges[id]
		if !ok {
			return id
		}
		id = to
	}
}

// Story returns the current state of an open story.
func (c *Clusterer) Story(id int64) (Story, bool) {
	si, ok := c.open[id]
	if !ok {
		return Story{}, false
	}
	s := &c.stories[si]
	ms := slices.Clone(s.members)
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].published != ms[j].published {
			return ms[i].published < ms[j].published
		}
		return ms[i].id < ms[j].id
	})
	st := Story{ID: s.id, Lead: lead(ms, c.p.LeadWithin), Articles: make([]int64, len(ms))}
	for i, m := range ms {
		st.Articles[i] = m.id
	}
	st.FirstSeen = time.Unix(ms[0].published, 0).UTC()
	st.Updated = time.Unix(ms[len(ms)-1].published, 0).UTC()
	return st, true
}

// Members returns the articles of an open story with the originals they
// copy (0 for none), in the order they joined.
func (c *Clusterer) Members(id int64) (ids, dupOf []int64) {
	si, ok := c.open[id]
	if !ok {
		return nil, nil
	}
	s := &c.stories[si]
	ids, dupOf = make([]int64, len(s.members)), make([]int64, len(s.members))
	for i, m := range s.members {
		ids[i], dupOf[i] = m.id, m.dupOf
	}
	return ids, dupOf
}

// ClusterState is the size of what a clusterer holds.
type ClusterState struct {
	Open         int // stories in the look-back window
	Terms        int // terms with a document frequency
	Fingerprints int // articles in the near-copy window
}

// State returns the size of what the clusterer holds: the open stories of
// the window, the document frequencies (decaying), the fingerprints.
func (c *Clusterer) State() ClusterState {
	return ClusterState{Open: len(c.open), Terms: c.vocab.n, Fingerprints: c.dups.live}
}

// lead picks the best early report among ms (sorted by published): of the
// members published within `within` of the first, the originals over the
// copies, then the weightiest source, then the earliest.
func lead(ms []member, within time.Duration) int64 {
	limit := ms[0].published + int64(within/time.Second)
	best := 0
	for i, m := range ms {
		if m.published > limit {
			break
		}
		mdup, bdup := m.dupOf != 0, ms[best].dupOf != 0
		if mdup != bdup && !mdup || mdup == bdup && m.weight > ms[best].weight {
			best = i
		}
	}
	return ms[best].id
}

// vector returns the article's terms with their weights before IDF: title
// words, title bigrams, then the lead of the summary and the URL's words
// at lower weights; a term counts once, at its highest weight.
func (c *Clusterer) vector(d Doc) []wterm {
	c.terms = c.terms[:0]
	c.terms, c.buf = textTerms(c.terms, d.Title, 0, c.buf)
	nTitle := len(c.terms)
	c.terms, c.buf = textTerms(c.terms, d.Summary, maxLeadWords, c.buf)
	nLead := len(c.terms)
	c.nText = nLead
	if c.p.SlugWeight > 0 {
		c.terms, c.buf = slugTerms(c.terms, d.URL, maxLeadWords, c.buf)
	}
	c.vec = c.vec[:0]
	for i, t := range c.terms {
		w := 1.0
		switch {
		case i >= nLead:
			w = c.p.SlugWeight
		case i >= nTitle:
			w = c.p.LeadWeight
		}
		c.vec = addTerm(c.vec, t.hash, w)
		if c.p.BigramWeight > 0 && i > 0 && i < nTitle {
			c.vec = addTerm(c.vec, (c.terms[i-1].hash*31)^t.hash^bigramSalt, w*c.p.BigramWeight)
		}
	}
	for i := range c.vec {
		c.vec[i].stat = -1
		if si, ok := c.vocab.get(c.vec[i].hash, c.stats); ok {
			c.vec[i].stat = si
		}
	}
	return c.vec
}

// bigramSalt keeps a bigram's hash apart from any word's.
const bigramSalt = 0x5bd1e995

func addTerm(vec []wterm, h uint64, w float64) []wterm {
	for j := range vec {
		if vec[j].hash == h {
			vec[j].w = maxFloat(vec[j].w, w)
			return vec
		}
	}
	return append(vec, wterm{hash: h, w: w})
}

// termSet returns the distinct terms of the title and the summary,
// sorted: what near-copies share. The result is scratch, valid until the
// next article.
func (c *Clusterer) termSet() []uint64 {
	c.set = c.set[:0]
	for _, t := range c.terms[:c.nText] {
		c.set = append(c.set, t.hash)
	}
	slices.Sort(c.set)
	c.set = slices.Compact(c.set)
	return c.set
}

// idf is the inverse document frequency of a term counted in df
// documents. The 0.5 (not the textbook 1) keeps a term weighing something
// in a store of one or two articles.
//
// An article's terms share few document frequencies (most of its new
// terms are at 1 when it joins its story), and the next article reads
// them at the same document count: a small memo saves most of the
// logarithms.
func (c *Clusterer) idf(df float32) float64 {
	e := &c.idfMemo[math.Float32bits(df)*0x9E3779B1>>(32-idfMemoBits)]
	if e.ok && e.n == c.nDocs && e.df == df {
		return e.idf
	}
	v := math.Log((c.nDocs + 1) / (float64(df) + 0.5))
	*e = idfMemo{n: c.nDocs, df: df, idf: v, ok: true}
	return v
}

type idfMemo struct {
	n   float64 // the document count
	df  float32
	ok  bool
	idf float64
}

const idfMemoBits = 5

// best returns the slot of the open story most similar to vec, if it
// passes the threshold, else -1. It leaves every candidate's score in
// c.cands for mergeInto.
func (c *Clusterer) best(vec []wterm, pub int64) int32 {
	c.epoch++
	c.cands, c.touched = c.cands[:0], c.touched[:0]
	// Read the start of every term's postings first, so that their cache
	// misses overlap rather than come one after another in the loop below
	// (a prefetch, in effect; the sum only keeps the reads).
	var touch int32
	for _, t := range vec {
		if t.stat >= 0 {
			st := &c.stats[t.stat]
			if len(st.stories) > 0 {
				touch += st.stories[0].s
			}
			if len(st.members) > 0 {
				touch += st.members[0].m
			}
		}
	}
	c.touch = touch
	var norm float64
	for _, t := range vec {
		if t.stat < 0 {
			continue // a term never seen before is in no story
		}
		st := &c.stats[t.stat]
		idf := c.idf(st.df)
		w := t.w * idf
		norm += w * w
		dead := 0
		for _, p := range st.stories {
			h := &c.hot[p.s]
			if h.dead {
				dead++
				continue
			}
			if !c.isOpen(h, pub) {
				continue
			}
			if h.epoch != c.epoch {
				h.epoch, h.dot, h.nn = c.epoch, 0, 0
				c.cands = append(c.cands, p.s)
			}
			h.dot += w * c.stories[p.s].terms[p.i].w * idf
		}
		if dead > 8 && dead > len(st.stories)/4 {
			c.compact(st)
		}
		if len(st.members) > maxMemberPostings {
			continue // a common word: the centroids weigh it, members need not
		}
		for _, p := range st.members {
			if c.memberDead(p.m) {
				continue
			}
			h := &c.hot[p.s]
			for h.dead {
				h = &c.hot[h.into] // a live member of a story merged away
			}
			if !c.isOpen(h, pub) {
				continue
			}
			m := &c.members[p.m]
			if m.epoch != c.epoch {
				m.epoch, m.dot = c.epoch, 0
				c.touched = append(c.touched, p.m)
			}
			m.dot += w * idf
		}
	}
	if norm == 0 {
		return -1
	}
	// Terms never seen count in the article's norm too.
	for _, t := range vec {
		if t.stat < 0 {
			w := t.w * c.idf(0)
			norm += w * w
		}
	}
	norm = math.Sqrt(norm)
	for _, mi := range c.touched {
		m := &c.members[mi]
		if m.norm > 0 {
			h := &c.hot[m.story]
			h.nn = maxFloat(h.nn, m.dot/(norm*m.norm))
		}
	}
	best := int32(-1)
	bestScore := c.p.Threshold
	for _, si := range c.cands {
		s, h := &c.stories[si], &c.hot[si]
		cos := 0.0
		if s.norm2 > 0 {
			cos = h.dot / (norm * math.Sqrt(s.norm2))
		}
		if s.sized != len(s.members) {
			s.sized, s.sizeLog = len(s.members), math.Log(float64(len(s.members)))
		}
		s.score = ((1-c.p.MemberWeight)*cos + c.p.MemberWeight*h.nn) * (1 + c.p.SizeBoost*s.sizeLog)
		if s.score > bestScore || s.score == bestScore && best >= 0 && s.id < c.stories[best].id {
			best, bestScore = si, s.score
		}
	}
	return best
}

// maxFloat is math.Max, which is not inlined on amd64, for the ordered
// case that is nearly all of them.
func maxFloat(x, y float64) float64 {
	switch {
	case x > y:
		return x
	case y > x:
		return y
	}
	return math.Max(x, y) // equal, zeros of either sign, or NaN
}

// mergeInto folds into s the other candidates the article matched
// strongly as well, when their centroids agree with s's: two stories one
// article reports both of are one. The larger story survives.
func (c *Clusterer) mergeInto(s int32, pub int64) (int32, []int64) {
	if c.p.MergeScore <= 0 {
		return s, nil
	}
	var gone []int64
	for _, oi := range c.cands {
		o, cur := &c.stories[oi], &c.stories[s]
		oh, ch := &c.hot[oi], &c.hot[s]
		if oi == s || oh.dead || o.score < c.p.MergeScore ||
			max(ch.last, oh.last, pub)-min(ch.first, oh.first, pub) > c.span || c.storySim(s, oi) < c.p.MergeSim {
			continue
		}
		keep, drop := s, oi
		if len(o.members) > len(cur.members) || len(o.members) == len(cur.members) && o.id < cur.id {
			keep, drop = oi, s
		}
		k, d := &c.stories[keep], &c.stories[drop]
		k.terms = slices.Grow(k.terms, len(d.terms))
		for _, t := range d.terms {
			c.addWeight(keep, t.stat, t.w, c.idf(c.stats[t.stat].df))
		}
		for _, mi := range d.mems {
			c.members[mi].story = keep
		}
		k.mems = append(k.mems, d.mems...)
		k.members = append(k.members, d.members...)
		kh, dh := &c.hot[keep], &c.hot[drop]
		kh.first, kh.last = min(kh.first, dh.first), max(kh.last, dh.last)
		d.mems = d.mems[:0] // they are keep's now, not to be freed with drop
		dh.into = keep
		c.kill(drop)
		c.merges[d.id] = k.id
		gone = append(gone, d.id)
		s = keep
	}
	return s, gone
}

// storySim is the cosine similarity of two stories' centroids.
func (c *Clusterer) storySim(ai, bi int32) float64 {
	a, b := &c.stories[ai], &c.stories[bi]
	if len(a.terms) > len(b.terms) {
		a, b = b, a
	}
	// Mark b's terms, then walk a's: the sum runs in a's order.
	if len(c.simMark) < len(c.stats) {
		c.simMark = append(c.simMark, make([]uint64, len(c.stats)-len(c.simMark))...)
	}
	c.simEpoch++
	if c.simEpoch == 0 {
		clear(c.simMark)
		c.simEpoch = 1
	}
	ep := uint64(c.simEpoch) << 32
	for j, t := range b.terms {
		c.simMark[t.stat] = ep | uint64(j)
	}
	var dot float64
	for _, t := range a.terms {
		if mk := c.simMark[t.stat]; mk&^(1<<32-1) == ep {
			u := &b.terms[uint32(mk)]
			dot += t.w * t.idf * u.w * u.idf
		}
	}
	if a.norm2 == 0 || b.norm2 == 0 {
		return 0
	}
	return dot / math.Sqrt(a.norm2*b.norm2)
}

// find returns the index of term ti in story s's terms, or -1. The postings
// of a term are few but for common words, and a story slot is not reused
// while postings of its previous story remain, so a posting naming s is
// s's.
func (c *Clusterer) find(ti, s int32) int32 {
	for _, p := range c.stats[ti].stories {
		if p.s == s {
			return p.i
		}
	}
	return -1
}

// isOpen reports whether s may take an article published at pub.
func (c *Clusterer) isOpen(h *storyHot, pub int64) bool {
	if pub > h.last+c.window || pub < h.first-c.window {
		return false
	}
	return max(h.last, pub)-min(h.first, pub) <= c.span
}

// newStory opens a story and returns its slot.
func (c *Clusterer) newStory(id, pub int64) int32 {
	var si int32
	if n := len(c.freeStories); n > 0 {
		si, c.freeStories = c.freeStories[n-1], c.freeStories[:n-1]
	} else {
		si = int32(len(c.stories))
		c.stories = append(c.stories, cstory{})
		c.hot = append(c.hot, storyHot{})
	}
	s := &c.stories[si]
	// The slot keeps its arrays for the new story.
	*s = cstory{id: id, terms: s.terms[:0], members: s.members[:0], mems: s.mems[:0]}
	c.hot[si] = storyHot{first: pub, last: pub}
	c.open[id] = si
	return si
}

// kill closes story si: it leaves the open stories now, its slot and its
// members' once no posting names them.
func (c *Clusterer) kill(si int32) {
	s := &c.stories[si]
	c.hot[si].dead = true
	if c.open[s.id] == si {
		delete(c.open, s.id)
	}
	for _, mi := range s.mems {
		c.deadMembers[mi>>6] |= 1 << (mi & 63)
	}
	c.deadStories = append(c.deadStories, si)
}

// addWeight adds w to term ti of story si, keeping the centroid's norm
// current with the term's present IDF, idf.
func (c *Clusterer) addWeight(si, ti int32, w, idf float64) {
	i := c.find(ti, si)
	s := &c.stories[si]
	if i < 0 {
		i = int32(len(s.terms))
		s.terms = append(s.terms, sterm{stat: ti})
		c.stats[ti].stories = append(c.stats[ti].stories, posting{si, i})
	}
	t := &s.terms[i]
	old := t.w * t.idf
	t.w += w
	t.idf = idf
	x := t.w * t.idf
	s.norm2 += x*x - old*old
}

// stat returns the slot of t's stat, adding the term to the vocabulary.
func (c *Clusterer) stat(t *wterm) int32 {
	if t.stat >= 0 {
		return t.stat
	}
	var ti int32
	if n := len(c.freeStats); n > 0 {
		ti, c.freeStats = c.freeStats[n-1], c.freeStats[:n-1]
	} else {
		ti = int32(len(c.stats))
		if len(c.stats) == cap(c.stats) {
			// Double: append grows a large slice by a quarter, and this
			// one reaches a hundred thousand terms, copied each time.
			c.stats = slices.Grow(c.stats, len(c.stats)+1)
			c.lastSeen = slices.Grow(c.lastSeen, len(c.stats)+1)
		}
		c.stats = append(c.stats, termStat{})
		c.lastSeen = append(c.lastSeen, 0)
	}
	st := &c.stats[ti]
	*st = termStat{hash: t.hash, stories: st.stories[:0], members: st.members[:0]}
	c.lastSeen[ti] = 0
	c.vocab.insert(t.hash, ti)
	t.stat = ti
	return ti
}

// newMember returns the slot of a new member of story si.
func (c *Clusterer) newMember(si int32) int32 {
	var mi int32
	if n := len(c.freeMembers); n > 0 {
		mi, c.freeMembers = c.freeMembers[n-1], c.freeMembers[:n-1]
	} else {
		mi = int32(len(c.members))
		c.members = append(c.members, cmember{})
		if int(mi>>6) >= len(c.deadMembers) {
			c.deadMembers = append(c.deadMembers, 0)
		}
	}
	c.members[mi] = cmember{story: si}
	c.deadMembers[mi>>6] &^= 1 << (mi & 63)
	return mi
}

// memberDead reports whether the story of member mi is dead.
func (c *Clusterer) memberDead(mi int32) bool {
	return c.deadMembers[mi>>6]&(1<<(mi&63)) != 0
}

func (c *Clusterer) join(si int32, vec []wterm, d Doc, pub int64, dupOf int64) {
	mi := c.newMember(si)
	// Room for every term at once: a new story would otherwise grow its
	// centroid five times in its first article.
	c.stories[si].terms = slices.Grow(c.stories[si].terms, len(vec))
	var n float64
	for _, t := range vec {
		st := &c.stats[t.stat]
		idf := c.idf(st.df)
		c.addWeight(si, t.stat, t.w, idf)
		x := t.w * idf
		n += x * x
		st.members = append(st.members, mposting{mi, si})
	}
	c.members[mi].norm = math.Sqrt(n)
	s := &c.stories[si]
	s.mems = append(s.mems, mi)
	h := &c.hot[si]
	h.first, h.last = min(h.first, pub), max(h.last, pub)
	w := d.Weight
	if w == 0 {
		w = 1
	}
	s.members = append(s.members, member{id: d.ID, published: pub, weight: w, dupOf: dupOf})
}

// learn counts the article's terms in the document frequencies.
func (c *Clusterer) learn(vec []wterm, pub int64) {
	for i := range vec {
		ti := c.stat(&vec[i])
		c.stats[ti].df++
		c.lastSeen[ti] = max(c.lastSeen[ti], pub)
	}
	c.nDocs++
}

// compact drops the postings of dead stories and of their members, and
// brings the stories of the members left up to date.
func (c *Clusterer) compact(st *termStat) {
	st.stories = slices.DeleteFunc(st.stories, func(p posting) bool { return c.hot[p.s].dead })
	st.members = slices.DeleteFunc(st.members, func(p mposting) bool { return c.memberDead(p.m) })
	for i := range st.members {
		if p := &st.members[i]; c.hot[p.s].dead {
			p.s = c.members[p.m].story
		}
	}
}

// advance moves the clock and, every sweepEvery articles, drops what fell
// out of the window, and halves the document frequencies every dfHalfLife
// articles.
func (c *Clusterer) advance(pub int64) {
	c.clock = max(c.clock, pub)
	c.added++
	if c.added < sweepEvery {
		return
	}
	c.added = 0
	for _, si := range c.open {
		if h := &c.hot[si]; h.last < c.clock-c.window || h.first < c.clock-c.span {
			if st, ok := c.Story(c.stories[si].id); ok {
				c.closed = append(c.closed, st)
			}
			c.kill(si)
		}
	}
	// c.open is a map: its order is random, the report's need not be.
	slices.SortFunc(c.closed, func(a, b Story) int { return cmp.Compare(a.ID, b.ID) })
	for id, to := range c.merges {
		if _, ok := c.open[to]; !ok {
			delete(c.merges, id)
		}
	}
	c.sweeps++
	c.dups.prune(c.clock - c.dupSpan)
	halve := c.nDocs >= dfHalfLife
	if !halve && c.sweeps%vocabSweepEvery != 0 {
		return
	}
	if halve {
		c.nDocs /= 2
	}
	// A term seen once, and not since the window closed on it, matches
	// nothing open: forget it, or the vocabulary grows with every name and
	// typo news ever printed.
	stale := c.clock - c.window - c.span
	for i := range c.stats {
		st := &c.stats[i]
		if st.df < 0 {
			continue // free
		}
		c.compact(st)
		if halve {
			st.df /= 2
		}
		if len(st.stories) == 0 && len(st.members) == 0 && (st.df < 0.5 || st.df <= 1 && c.lastSeen[i] < stale) {
			c.vocab.delete(st.hash, int32(i))
			st.df = -1
			c.freeStats = append(c.freeStats, int32(i))
		}
	}
	// No posting names a dead story or a dead member any more.
	for _, si := range c.deadStories {
		s := &c.stories[si]
		c.freeMembers = append(c.freeMembers, s.mems...)
		// The slot keeps small arrays for the next story, not a big
		// story's: most stories are small, and a slot would otherwise
		// hold the largest story it ever had.
		if cap(s.terms) > keepStoryTerms {
			s.terms = nil
		}
		if cap(s.members) > keepStoryMembers {
			s.members, s.mems = nil, nil
		}
		s.mems = s.mems[:0]
		c.freeStories = append(c.freeStories, si)
	}
	c.deadStories = c.deadStories[:0]
}

// How often the clusterer forgets what fell out of the window, and how
// quickly old document frequencies fade: the vocabulary of news changes,
// and the state must stay bounded.
const (
	sweepEvery      = 2000
	vocabSweepEvery = 10 // sweeps
	dfHalfLife      = 100000
	// maxMemberPostings bounds the work of the nearest-member search: a
	// term in more open members than this is too common to tell which
	// member is nearest.
	maxMemberPostings = 200
	// The largest arrays a free story slot keeps (see advance).
	keepStoryTerms   = 64
	keepStoryMembers = 8
)

// vocabIndex maps terms to their slots in the clusterer's stats, like
// hashIndex but in half the memory, for the largest table of the
// clusterer: a cell holds 32 bits of the term's mixed hash and the slot,
// and a match is confirmed against the full hash in the slot's stat, which
// the clusterer reads next anyway.
type vocabIndex struct {
	cells []uint64 // tag<<32 | slot+1; 0 marks an empty cell
	n     int
	shift uint // 32 - log2(len(cells))
}

func vocabTag(key uint64) uint64 {
	return (key * 0x9E3779B97F4A7C15) >> 32
}

func (t *vocabIndex) home(tag uint64) int {
	return int(tag >> t.shift)
}

// get returns the slot of key.
func (t *vocabIndex) get(key uint64, stats []termStat) (int32, bool) {
	if t.n == 0 {
		return 0, false
	}
	tag := vocabTag(key)
	mask := len(t.cells) - 1
	for i := t.home(tag); t.cells[i] != 0; i = (i + 1) & mask {
		if c := t.cells[i]; c>>32 == tag {
			if slot := int32(uint32(c)) - 1; stats[slot].hash == key {
				return slot, true
			}
		}
	}
	return 0, false
}

// insert maps key, which is not in t, to slot.
func (t *vocabIndex) insert(key uint64, slot int32) {
	if 2*(t.n+1) > len(t.cells) {
		t.grow()
	}
	t.put(vocabTag(key)<<32 | uint64(slot+1))
}

func (t *vocabIndex) put(cell uint64) {
	mask := len(t.cells) - 1
	i := t.home(cell >> 32)
	for t.cells[i] != 0 {
		i = (i + 1) & mask
	}
	t.cells[i] = cell
	t.n++
}

// delete forgets key, at slot.
func (t *vocabIndex) delete(key uint64, slot int32) {
	if t.n == 0 {
		return
	}
	cell := vocabTag(key)<<32 | uint64(slot+1)
	mask := len(t.cells) - 1
	i := t.home(cell >> 32)
	for t.cells[i] != cell {
		if t.cells[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	// As in hashIndex.delete.
	for j := i; ; {
		j = (j + 1) & mask
		if t.cells[j] == 0 {
			break
		}
		k := t.home(t.cells[j] >> 32)
		if j > i && (k <= i || k > j) || j < i && k <= i && k > j {
			t.cells[i] = t.cells[j]
			i = j
		}
	}
	t.cells[i] = 0
	t.n--
}

func (t *vocabIndex) grow() {
	old := t.cells
	size := max(64, 2*len(old))
	t.cells = make([]uint64, size)
	t.shift = uint(32 - bits.TrailingZeros(uint(size)))
	t.n = 0
	for _, c := range old {
		if c != 0 {
			t.put(c)
		}
	}
}
