package news

import (
	"slices"
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
type dupIndex struct {
	bands   [dupBands]map[uint64][]*dupEntry
	entries []*dupEntry
}

const (
	dupBands = 8
	dupRows  = 2
)

// fingerprint is the MinHash signature folded into one key per band.
type fingerprint [dupBands]uint64

type dupEntry struct {
	id, story int64
	published int64
	set       []uint64
}

func newDupIndex() dupIndex {
	var d dupIndex
	for i := range d.bands {
		d.bands[i] = make(map[uint64][]*dupEntry)
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

// find returns the earliest of the most similar articles published within
// window of pub whose terms overlap set by at least minJaccard.
func (d *dupIndex) find(fp fingerprint, set []uint64, pub int64, window time.Duration, minJaccard float64) (dupEntry, bool) {
	if len(set) < minDupTerms {
		return dupEntry{}, false
	}
	win := int64(window / time.Second)
	var best *dupEntry
	bestJ := minJaccard
	for b := range d.bands {
		for _, e := range d.bands[b][fp[b]] {
			if e.published < pub-win || e.published > pub+win || e == best {
				continue
			}
			j := jaccard(set, e.set)
			if j > bestJ || j == bestJ && (best == nil || e.published < best.published) {
				best, bestJ = e, j
			}
		}
	}
	if best == nil {
		return dupEntry{}, false
	}
	return *best, true
}

// minDupTerms: headlines of one or two words ("Apple earnings") match too
// much to call anything a copy.
const minDupTerms = 3

func (d *dupIndex) add(fp fingerprint, set []uint64, e dupEntry) {
	if len(set) < minDupTerms {
		return
	}
	e.set = set
	p := &e
	for b := range d.bands {
		d.bands[b][fp[b]] = append(d.bands[b][fp[b]], p)
	}
	d.entries = append(d.entries, p)
}

// prune forgets the articles published before before.
func (d *dupIndex) prune(before int64) {
	keep := d.entries[:0]
	for _, e := range d.entries {
		if e.published >= before {
			keep = append(keep, e)
		}
	}
	clear(d.entries[len(keep):])
	d.entries = keep
	for b := range d.bands {
		for k, list := range d.bands[b] {
			list = slices.DeleteFunc(list, func(e *dupEntry) bool { return e.published < before })
			if len(list) == 0 {
				delete(d.bands[b], k)
			} else {
				d.bands[b][k] = list
			}
		}
	}
}

// jaccard of two sorted sets.
func jaccard(a, b []uint64) float64 {
	inter := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}
