package news

import (
	"math/bits"
	"time"
)

// dupIndex finds near-copies (dedupe level 3) with MinHash over the words
// of the title and lead: dupBands bands of dupRows minimum hashes each. Two
// articles whose word sets have a Jaccard similarity J share a band with
// probability 1-(1-J^2)^8: 0.995 at J=0.7, 0.53 at J=0.3, so a copy with a
// few words changed is found, and the candidates are then confirmed by
// their exact Jaccard similarity. (A 64-bit SimHash was tried first: on a
// headline of eight words, one added word flips about nine bits, so copies
// were missed.)
//
// The entries live in slices whose slots are reused, and each band's
// bucket is a list threaded through the entries: the tables hold no
// pointers and an article costs no allocation once the window is full,
// so the index gives the garbage collector nothing to do. A find walks
// some thirty entries that share a band with the article and little else
// (on the dev set: a common word whose hashes are low in both rows of a
// band puts every headline that has it in one bucket); what it needs to
// turn them away sits in one cache line per entry (dupLink), apart from
// the rest.
type dupIndex struct {
	bands   [dupBands]hashIndex // band key -> the first entry of its bucket
	links   []dupLink
	entries []dupEntry // by the same slot as links
	free    []int32    // slots of forgotten entries
	live    int
	epoch   uint64 // counts the calls to find

	// The buckets the last find read, for the add that follows it: an
	// article's band keys are then looked up once, not twice.
	found      fingerprint
	heads      [dupBands]int32 // -1: no bucket
	headsValid bool
}

const (
	dupBands = 8
	dupRows  = 2
)

// fingerprint is the MinHash signature folded into one key per band.
type fingerprint [dupBands]uint64

// dupLink is the part of an entry find reads for every candidate: 64
// bytes. A bucket lists its entries in the order they were added (find
// breaks ties by that order), through next.
type dupLink struct {
	next      [dupBands]int32 // the next entry in each band's bucket; -1 ends it
	mask      uint64          // setMask(set)
	seen      uint64          // the epoch of the last find that compared it
	published int64
	n         int32 // len(set)
}

type dupEntry struct {
	id, story int64
	set       []uint64 // its slot keeps the array when reused
	fp        fingerprint
	// tail is the bucket's last entry, while this entry is its first:
	// adding to a bucket then does not write the table.
	tail [dupBands]int32
	used bool
}

// minhashSeeds make the dupBands*dupRows hash functions: h*seed, odd
// multipliers, then mixed, a fresh permutation of the 64-bit space each.
var minhashSeeds = [dupBands * dupRows]uint64{
	0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
	0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9,
	0x2545F4914F6CDD1D, 0x5851F42D4C957F2D, 0x14057B7EF767814F, 0x9FB21C651E98DF25,
	0xD1B54A32D192ED03, 0x8CB92BA72F3D8DD7, 0xA0761D6478BD642F, 0xE7037ED1A0B428DB,
}

// fingerprint returns the band keys of a sorted set of terms.
func (d *dupIndex) fingerprint(set []uint64) fingerprint {
	var mins [dupBands * dupRows]uint64
	for i := range mins {
		mins[i] = ^uint64(0)
	}
	for _, h := range set {
		for i, seed := range minhashSeeds {
			x := h * seed
			x ^= x >> 29
			mins[i] = min(mins[i], x)
		}
	}
	var fp fingerprint
	for b := range fp {
		fp[b] = mins[b*dupRows]*0x9E3779B97F4A7C15 ^ mins[b*dupRows+1]
	}
	return fp
}

// find returns the id and story of the earliest of the most similar
// articles published within window of pub whose terms overlap set by at
// least minJaccard.
func (d *dupIndex) find(fp fingerprint, set []uint64, pub int64, window time.Duration, minJaccard float64) (id, story int64, ok bool) {
	if len(set) < minDupTerms {
		return 0, 0, false
	}
	win := int64(window / time.Second)
	d.epoch++
	best := int32(-1)
	bestJ := minJaccard
	mask := setMask(set)
	d.found, d.headsValid = fp, true
	for b := range d.bands {
		head, found := d.bands[b].get(fp[b])
		if !found {
			head = -1
		}
		d.heads[b] = head
		for i := head; i >= 0; i = d.links[i].next[b] {
			l := &d.links[i]
			// Each bit one set has and the other lacks is a term of it
			// the other lacks: a bound on the intersection, so on the
			// similarity, that turns most candidates away without
			// reading their set. As bestJ only rises, an entry turned
			// away stays so when another band leads to it again.
			n := int(l.n)
			k := min(len(set)-bits.OnesCount64(mask&^l.mask), n-bits.OnesCount64(l.mask&^mask))
			if float64(k)/float64(len(set)+n-k) < bestJ {
				continue
			}
			// An entry sharing several bands is compared once: a second
			// look cannot change the outcome, since ties go to the entry
			// met first.
			if l.seen == d.epoch {
				continue
			}
			l.seen = d.epoch
			if l.published < pub-win || l.published > pub+win {
				continue
			}
			j, reached := jaccardAtLeast(set, d.entries[i].set, bestJ)
			if !reached {
				continue
			}
			if j > bestJ || j == bestJ && (best < 0 || l.published < d.links[best].published) {
				best, bestJ = i, j
			}
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	return d.entries[best].id, d.entries[best].story, true
}

// minDupTerms: headlines of one or two words ("Apple earnings") match too
// much to call anything a copy.
const minDupTerms = 3

// add remembers an article; set is copied.
func (d *dupIndex) add(fp fingerprint, set []uint64, id, story, published int64) {
	if len(set) < minDupTerms {
		return
	}
	var i int32
	if n := len(d.free); n > 0 {
		i, d.free = d.free[n-1], d.free[:n-1]
	} else {
		i = int32(len(d.entries))
		d.entries = append(d.entries, dupEntry{})
		d.links = append(d.links, dupLink{})
	}
	e, l := &d.entries[i], &d.links[i]
	e.id, e.story = id, story
	e.set = append(e.set[:0], set...)
	e.fp, e.used = fp, true
	*l = dupLink{mask: setMask(set), published: published, n: int32(len(set))}
	known := d.headsValid && d.found == fp
	d.headsValid = false
	for b := range d.bands {
		l.next[b] = -1
		head := int32(-1)
		if known {
			head = d.heads[b]
		} else if h, found := d.bands[b].get(fp[b]); found {
			head = h
		}
		if head < 0 {
			d.bands[b].set(fp[b], i)
			e.tail[b] = i
			continue
		}
		h := &d.entries[head]
		d.links[h.tail[b]].next[b] = i
		h.tail[b] = i
	}
	d.live++
}

// prune forgets the articles published before before.
func (d *dupIndex) prune(before int64) {
	d.headsValid = false
	for i := range d.entries {
		e := &d.entries[i]
		if !e.used || d.links[i].published >= before {
			continue
		}
		for b := range d.bands {
			d.unlink(b, e.fp[b], int32(i))
		}
		e.used = false
		d.free = append(d.free, int32(i))
		d.live--
	}
}

// unlink removes entry i from the bucket key of band b. The oldest
// entries go first, so i is usually the head.
func (d *dupIndex) unlink(b int, key uint64, i int32) {
	head, found := d.bands[b].get(key)
	if !found {
		return
	}
	next := d.links[i].next[b]
	if head == i {
		if next < 0 {
			d.bands[b].delete(key)
			return
		}
		d.bands[b].set(key, next)
		d.entries[next].tail[b] = d.entries[i].tail[b]
		return
	}
	prev := head
	for prev >= 0 && d.links[prev].next[b] != i {
		prev = d.links[prev].next[b]
	}
	if prev < 0 {
		return // not in this bucket
	}
	d.links[prev].next[b] = next
	if h := &d.entries[head]; h.tail[b] == i {
		h.tail[b] = prev
	}
}

// setMask sets one of 64 bits for each term of set, picked by the top
// bits of the mixed hash.
func setMask(set []uint64) uint64 {
	var m uint64
	for _, h := range set {
		m |= 1 << ((h * 0x9E3779B97F4A7C15) >> 58)
	}
	return m
}

// jaccardAtLeast returns the Jaccard similarity of two sorted sets, or
// false as soon as the terms left cannot lift it to least: most
// candidates of find share a band and little else.
func jaccardAtLeast(a, b []uint64, least float64) (float64, bool) {
	// Whatever is left, the intersection is at most inter plus the
	// shorter rest, and the union at least the sizes minus that bound.
	// Division rounds monotonically, so a bound below least in floats
	// means the exact similarity is below it too: nothing find would
	// have taken is dropped.
	reachable := func(inter, restA, restB int) bool {
		k := inter + min(restA, restB)
		union := len(a) + len(b) - k
		return union == 0 || float64(k)/float64(union) >= least
	}
	if !reachable(0, len(a), len(b)) {
		return 0, false
	}
	inter := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
			continue
		case a[i] < b[j]:
			i++
		default:
			j++
		}
		if !reachable(inter, len(a)-i, len(b)-j) {
			return 0, false
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0, true
	}
	return float64(inter) / float64(union), true
}
