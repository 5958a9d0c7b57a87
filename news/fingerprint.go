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
// The entries live in one slice whose slots are reused, and each band's
// bucket is a list threaded through the entries: the maps hold no
// pointers and an article costs no allocation once the window is full,
// so the index gives the garbage collector nothing to do.
type dupIndex struct {
	bands   [dupBands]map[uint64]dupBucket
	entries []dupEntry
	free    []int32 // slots of forgotten entries
	live    int
	epoch   uint64 // counts the calls to find
}

const (
	dupBands = 8
	dupRows  = 2
)

// fingerprint is the MinHash signature folded into one key per band.
type fingerprint [dupBands]uint64

// dupBucket is the first and last entry of a band's list, in the order
// they were added: find breaks ties by that order.
type dupBucket struct{ head, tail int32 }

type dupEntry struct {
	id, story int64
	published int64
	set       []uint64 // its slot keeps the array when reused
	mask      uint64   // setMask(set)
	fp        fingerprint
	next      [dupBands]int32 // the next entry in each band's bucket; -1 ends it
	seen      uint64          // the epoch of the last find that compared it
	used      bool
}

func newDupIndex() dupIndex {
	var d dupIndex
	for i := range d.bands {
		d.bands[i] = make(map[uint64]dupBucket)
	}
	return d
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
	// An entry sharing several bands is compared once: a second look
	// cannot change the outcome, since bestJ only rises and ties go to
	// the entry met first.
	d.epoch++
	best := int32(-1)
	bestJ := minJaccard
	mask := setMask(set)
	for b := range d.bands {
		bk, found := d.bands[b][fp[b]]
		if !found {
			continue
		}
		for i := bk.head; i >= 0; i = d.entries[i].next[b] {
			e := &d.entries[i]
			if e.seen == d.epoch {
				continue
			}
			e.seen = d.epoch
			if e.published < pub-win || e.published > pub+win {
				continue
			}
			// Each bit one set has and the other lacks is a term of it
			// the other lacks: most candidates share a band and little
			// else, and are turned away here without reading their set.
			k := min(len(set)-bits.OnesCount64(mask&^e.mask), len(e.set)-bits.OnesCount64(e.mask&^mask))
			if float64(k)/float64(len(set)+len(e.set)-k) < bestJ {
				continue
			}
			j, reached := jaccardAtLeast(set, e.set, bestJ)
			if !reached {
				continue
			}
			if j > bestJ || j == bestJ && (best < 0 || e.published < d.entries[best].published) {
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
	}
	e := &d.entries[i]
	e.id, e.story, e.published = id, story, published
	e.set = append(e.set[:0], set...)
	e.mask = setMask(set)
	e.fp, e.seen, e.used = fp, 0, true
	for b := range d.bands {
		e.next[b] = -1
		bk, found := d.bands[b][fp[b]]
		if found {
			d.entries[bk.tail].next[b] = i
			bk.tail = i
		} else {
			bk = dupBucket{head: i, tail: i}
		}
		d.bands[b][fp[b]] = bk
	}
	d.live++
}

// prune forgets the articles published before before.
func (d *dupIndex) prune(before int64) {
	for i := range d.entries {
		e := &d.entries[i]
		if !e.used || e.published >= before {
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
	bk, found := d.bands[b][key]
	if !found {
		return
	}
	next := d.entries[i].next[b]
	if bk.head == i {
		if next < 0 {
			delete(d.bands[b], key)
			return
		}
		bk.head = next
	} else {
		prev := bk.head
		for prev >= 0 && d.entries[prev].next[b] != i {
			prev = d.entries[prev].next[b]
		}
		if prev < 0 {
			return // not in this bucket
		}
		d.entries[prev].next[b] = next
		if bk.tail == i {
			bk.tail = prev
		}
	}
	d.bands[b][key] = bk
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
