package news

import (
	"math"
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
}

// Clusterer places articles into stories, one at a time. It is not safe
// for concurrent use.
type Clusterer struct {
	p ClusterParams

	vocab  map[uint64]*termStat
	nDocs  float64 // documents counted in the frequencies, decayed
	added  int     // articles since the last sweep
	sweeps int

	stories map[int64]*cstory // the open stories
	merges  map[int64]int64   // folded story -> the story it went into
	clock   int64             // latest published time seen, unix seconds

	dups dupIndex

	// Scratch, reused across articles.
	terms   []term
	nText   int // terms of the title and the summary, before the URL's
	vec     []wterm
	buf     []byte
	cands   []*cstory
	touched []*cmember
	epoch   uint64
}

// termStat is what the clusterer knows of one term.
type termStat struct {
	df      float32   // documents that held it, decayed (see dfHalfLife)
	last    int64     // when it was last seen, unix seconds
	stories []posting // stories that hold it; some may be closed
	members []*cmember
}

// compact drops the postings of closed stories.
func (st *termStat) compact() {
	st.stories = slices.DeleteFunc(st.stories, func(p posting) bool { return p.s.dead })
	st.members = slices.DeleteFunc(st.members, func(m *cmember) bool { return m.story.dead })
}

type posting struct {
	s *cstory
	i int32 // index of the term in s.w
}

// wterm is a term of one article with its weight: before IDF in vector's
// result, after it once scored.
type wterm struct {
	hash uint64
	w    float64
	stat *termStat
}

// cstory is an open story.
type cstory struct {
	id          int64
	index       map[uint64]int32 // term -> index in w
	w           []float64        // summed member weights
	idf         []float64        // each term's IDF when its weight last changed
	norm2       float64          // squared norm of the TF-IDF centroid
	first, last int64            // published range, unix seconds
	members     []member
	mems        []*cmember
	dead        bool

	// Scoring scratch, valid while epoch is the clusterer's.
	epoch     uint64
	dot, nn   float64
	score     float64
	nnMembers int
}

// cmember is a member in the member index.
type cmember struct {
	story *cstory
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
		vocab:   make(map[uint64]*termStat),
		stories: make(map[int64]*cstory),
		merges:  make(map[int64]int64),
		dups:    newDupIndex(),
	}
}

// Add places d: with its original's story when it is a near-copy, else in
// the most similar open story above the threshold, else in a new story
// whose id is d.ID.
func (c *Clusterer) Add(d Doc) Placement {
	pub := d.Published.Unix()
	c.advance(pub)
	vec := c.vector(d)
	set := termSet(c.terms[:c.nText])
	fp := c.dups.fingerprint(set)

	var pl Placement
	var s *cstory
	if orig, ok := c.dups.find(fp, set, pub, c.p.DupWindow, c.p.DupJaccard); ok {
		if os := c.stories[c.Merged(orig.story)]; os != nil && c.open(os, pub) {
			s, pl.DuplicateOf = os, orig.id
		}
	}
	if s == nil {
		if s = c.best(vec, pub); s != nil {
			s, pl.Merged = c.mergeInto(s, pub)
		}
	}
	if s == nil {
		s = c.newStory(d.ID, pub)
		pl.New = true
	}
	pl.Story = s.id
	c.learn(vec, pub)
	c.join(s, vec, d, pub, pl.DuplicateOf)
	c.dups.add(fp, set, dupEntry{id: d.ID, story: s.id, published: pub})
	return pl
}

// Restore tells the clusterer about an article placed before (by an
// earlier process), so that a restart continues the same stories. Feed it
// in published order, like Add.
func (c *Clusterer) Restore(d Doc, story, duplicateOf int64) {
	pub := d.Published.Unix()
	c.advance(pub)
	vec := c.vector(d)
	s := c.stories[story]
	if s == nil {
		s = c.newStory(story, pub)
	}
	c.learn(vec, pub)
	c.join(s, vec, d, pub, duplicateOf)
	set := termSet(c.terms[:c.nText])
	c.dups.add(c.dups.fingerprint(set), set, dupEntry{id: d.ID, story: story, published: pub})
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
	s := c.stories[id]
	if s == nil {
		return Story{}, false
	}
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
	s := c.stories[id]
	if s == nil {
		return nil, nil
	}
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
	return ClusterState{Open: len(c.stories), Terms: len(c.vocab), Fingerprints: len(c.dups.entries)}
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
		c.terms, c.buf = textTerms(c.terms, urlSlug(d.URL), maxLeadWords, c.buf)
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
		c.vec[i].stat = c.vocab[c.vec[i].hash]
	}
	return c.vec
}

// bigramSalt keeps a bigram's hash apart from any word's.
const bigramSalt = 0x5bd1e995

func addTerm(vec []wterm, h uint64, w float64) []wterm {
	for j := range vec {
		if vec[j].hash == h {
			vec[j].w = math.Max(vec[j].w, w)
			return vec
		}
	}
	return append(vec, wterm{hash: h, w: w})
}

// termSet returns the distinct terms, sorted: what near-copies share.
func termSet(ts []term) []uint64 {
	set := make([]uint64, len(ts))
	for i, t := range ts {
		set[i] = t.hash
	}
	slices.Sort(set)
	return slices.Compact(set)
}

// idf is the inverse document frequency. The 0.5 (not the textbook 1)
// keeps a term weighing something in a store of one or two articles.
func (c *Clusterer) idf(st *termStat) float64 {
	df := 0.0
	if st != nil {
		df = float64(st.df)
	}
	return math.Log((c.nDocs + 1) / (df + 0.5))
}

// best returns the open story most similar to vec, if it passes the
// threshold. It leaves every candidate's score in c.cands for mergeInto.
func (c *Clusterer) best(vec []wterm, pub int64) *cstory {
	c.epoch++
	c.cands, c.touched = c.cands[:0], c.touched[:0]
	var norm float64
	for _, t := range vec {
		if t.stat == nil {
			continue // a term never seen before is in no story
		}
		idf := c.idf(t.stat)
		w := t.w * idf
		norm += w * w
		dead := 0
		for _, p := range t.stat.stories {
			s := p.s
			if s.dead {
				dead++
				continue
			}
			if !c.open(s, pub) {
				continue
			}
			if s.epoch != c.epoch {
				s.epoch, s.dot, s.nn = c.epoch, 0, 0
				c.cands = append(c.cands, s)
			}
			s.dot += w * s.w[p.i] * idf
		}
		if dead > 8 && dead > len(t.stat.stories)/4 {
			t.stat.compact()
		}
		if len(t.stat.members) > maxMemberPostings {
			continue // a common word: the centroids weigh it, members need not
		}
		for _, m := range t.stat.members {
			if m.story.dead || !c.open(m.story, pub) {
				continue
			}
			if m.epoch != c.epoch {
				m.epoch, m.dot = c.epoch, 0
				c.touched = append(c.touched, m)
			}
			m.dot += w * idf
		}
	}
	if norm == 0 {
		return nil
	}
	// Terms never seen count in the article's norm too.
	for _, t := range vec {
		if t.stat == nil {
			w := t.w * c.idf(nil)
			norm += w * w
		}
	}
	norm = math.Sqrt(norm)
	for _, m := range c.touched {
		if m.norm > 0 {
			m.story.nn = math.Max(m.story.nn, m.dot/(norm*m.norm))
		}
	}
	var best *cstory
	bestScore := c.p.Threshold
	for _, s := range c.cands {
		cos := 0.0
		if s.norm2 > 0 {
			cos = s.dot / (norm * math.Sqrt(s.norm2))
		}
		s.score = ((1-c.p.MemberWeight)*cos + c.p.MemberWeight*s.nn) * (1 + c.p.SizeBoost*math.Log(float64(len(s.members))))
		if s.score > bestScore || s.score == bestScore && best != nil && s.id < best.id {
			best, bestScore = s, s.score
		}
	}
	return best
}

// mergeInto folds into s the other candidates the article matched
// strongly as well, when their centroids agree with s's: two stories one
// article reports both of are one. The larger story survives.
func (c *Clusterer) mergeInto(s *cstory, pub int64) (*cstory, []int64) {
	if c.p.MergeScore <= 0 {
		return s, nil
	}
	var gone []int64
	for _, o := range c.cands {
		if o == s || o.dead || o.score < c.p.MergeScore || c.storySim(s, o) < c.p.MergeSim ||
			max(s.last, o.last, pub)-min(s.first, o.first, pub) > int64(c.p.MaxSpan/time.Second) {
			continue
		}
		keep, drop := s, o
		if len(o.members) > len(s.members) || len(o.members) == len(s.members) && o.id < s.id {
			keep, drop = o, s
		}
		for h, i := range drop.index {
			c.addWeight(keep, h, c.vocab[h], drop.w[i])
		}
		for _, m := range drop.mems {
			m.story = keep
		}
		keep.mems = append(keep.mems, drop.mems...)
		keep.members = append(keep.members, drop.members...)
		keep.first, keep.last = min(keep.first, drop.first), max(keep.last, drop.last)
		drop.dead = true
		delete(c.stories, drop.id)
		c.merges[drop.id] = keep.id
		gone = append(gone, drop.id)
		s = keep
	}
	return s, gone
}

// storySim is the cosine similarity of two stories' centroids.
func (c *Clusterer) storySim(a, b *cstory) float64 {
	if len(a.index) > len(b.index) {
		a, b = b, a
	}
	var dot float64
	for h, i := range a.index {
		if j, ok := b.index[h]; ok {
			dot += a.w[i] * a.idf[i] * b.w[j] * b.idf[j]
		}
	}
	if a.norm2 == 0 || b.norm2 == 0 {
		return 0
	}
	return dot / math.Sqrt(a.norm2*b.norm2)
}

// open reports whether s may take an article published at pub.
func (c *Clusterer) open(s *cstory, pub int64) bool {
	win := int64(c.p.Window / time.Second)
	if pub > s.last+win || pub < s.first-win {
		return false
	}
	return max(s.last, pub)-min(s.first, pub) <= int64(c.p.MaxSpan/time.Second)
}

func (c *Clusterer) newStory(id, pub int64) *cstory {
	s := &cstory{id: id, index: make(map[uint64]int32, 8), first: pub, last: pub}
	c.stories[id] = s
	return s
}

// addWeight adds w to term h of s, keeping the centroid's norm current
// with the term's present IDF.
func (c *Clusterer) addWeight(s *cstory, h uint64, st *termStat, w float64) {
	i, ok := s.index[h]
	if !ok {
		i = int32(len(s.w))
		s.index[h] = i
		s.w = append(s.w, 0)
		s.idf = append(s.idf, 0)
		st.stories = append(st.stories, posting{s, i})
	}
	old := s.w[i] * s.idf[i]
	s.w[i] += w
	s.idf[i] = c.idf(st)
	x := s.w[i] * s.idf[i]
	s.norm2 += x*x - old*old
}

// term returns the stat of h, adding it to the vocabulary.
func (c *Clusterer) term(t *wterm) *termStat {
	if t.stat == nil {
		t.stat = &termStat{}
		c.vocab[t.hash] = t.stat
	}
	return t.stat
}

func (c *Clusterer) join(s *cstory, vec []wterm, d Doc, pub int64, dupOf int64) {
	m := &cmember{story: s}
	var n float64
	for i := range vec {
		st := c.term(&vec[i])
		c.addWeight(s, vec[i].hash, st, vec[i].w)
		x := vec[i].w * c.idf(st)
		n += x * x
		st.members = append(st.members, m)
	}
	m.norm = math.Sqrt(n)
	s.mems = append(s.mems, m)
	s.first, s.last = min(s.first, pub), max(s.last, pub)
	w := d.Weight
	if w == 0 {
		w = 1
	}
	s.members = append(s.members, member{id: d.ID, published: pub, weight: w, dupOf: dupOf})
}

// learn counts the article's terms in the document frequencies.
func (c *Clusterer) learn(vec []wterm, pub int64) {
	for i := range vec {
		st := c.term(&vec[i])
		st.df++
		st.last = max(st.last, pub)
	}
	c.nDocs++
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
	win := int64(c.p.Window / time.Second)
	span := int64(c.p.MaxSpan / time.Second)
	for id, s := range c.stories {
		if s.last < c.clock-win || s.first < c.clock-span {
			s.dead = true
			delete(c.stories, id)
		}
	}
	for id, to := range c.merges {
		if c.stories[to] == nil {
			delete(c.merges, id)
		}
	}
	c.sweeps++
	c.dups.prune(c.clock - int64(c.p.DupWindow/time.Second))
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
	stale := c.clock - win - span
	for h, st := range c.vocab {
		st.compact()
		if halve {
			st.df /= 2
		}
		if len(st.stories) == 0 && len(st.members) == 0 && (st.df < 0.5 || st.df <= 1 && st.last < stale) {
			delete(c.vocab, h)
		}
	}
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
)
