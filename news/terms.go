package news

import (
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The clustering and fingerprint code read headlines and leads as terms:
// lower-cased words without possessives or plurals, stop words dropped,
// each hashed to 64 bits so the indexes hold integers, not strings.

// term is one word of a text. Names and numbers stay terms like any word
// ("mh370", "m8", "deepseek"): being rare, they weigh most through IDF.
type term struct {
	hash uint64
}

// maxLeadWords bounds how much of a summary is read: its first sentence or
// two say what the article is about, and it bounds the work per article.
const maxLeadWords = 40

// textTerms appends the terms of s to dst, at most max of them (max <= 0:
// no limit). buf is scratch space, returned for reuse.
func textTerms(dst []term, s string, max int, buf []byte) ([]term, []byte) {
	start := len(dst)
	for i := 0; i < len(s); {
		// Skip to the start of a word.
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !isWordRune(r) {
			i += n
			continue
		}
		buf = buf[:0]
		hasDigit, hasLetter := false, false
	word:
		for i < len(s) {
			if r, n = rune(s[i]), 1; r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(s[i:])
			}
			if r == '\'' || r == '’' {
				// A possessive or contraction: "DeepSeek's" is "deepseek".
				if j := i + n; j < len(s) && (s[j] == 's' || s[j] == 'S') && (j+1 == len(s) || !isWordRune(rune(s[j+1]))) {
					i = j + 1
					break
				}
				i += n
				continue
			}
			if r < utf8.RuneSelf {
				// Most headlines are ASCII: the same tests as below,
				// without the tables.
				switch {
				case 'a' <= r && r <= 'z':
					hasLetter = true
				case 'A' <= r && r <= 'Z':
					hasLetter = true
					r += 'a' - 'A'
				case '0' <= r && r <= '9':
					hasDigit = true
				default:
					break word
				}
				buf = append(buf, byte(r))
				i++
				continue
			}
			if !isWordRune(r) {
				break
			}
			switch {
			case unicode.IsDigit(r):
				hasDigit = true
			case unicode.IsLetter(r):
				hasLetter = true
			}
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
			i += n
		}
		if len(buf) == 0 {
			continue
		}
		h := hashBytes(buf)
		if isStopWord(buf, h) {
			continue
		}
		if hasLetter && !hasDigit {
			// A stem is shorter than its plural: the hash changes only
			// when the length does.
			if stem := stemPlural(buf); len(stem) != len(buf) {
				buf, h = stem, hashBytes(stem)
			}
		}
		dst = append(dst, term{hash: h})
		if max > 0 && len(dst)-start >= max {
			break
		}
	}
	return dst, buf
}

// stemPlural folds the commonest English plural forms onto the singular:
// "chips" and "chip", "companies" and "company" meet.
func stemPlural(w []byte) []byte {
	n := len(w)
	switch {
	case n > 4 && string(w[n-3:]) == "ies":
		return append(w[:n-3], 'y')
	case n > 4 && (string(w[n-4:]) == "ches" || string(w[n-4:]) == "shes" || string(w[n-3:]) == "xes" || string(w[n-4:]) == "sses"):
		return w[:n-2]
	case n > 3 && w[n-1] == 's' && w[n-2] != 's' && w[n-2] != 'u' && w[n-2] != 'i':
		return w[:n-1]
	}
	return w
}

// hashBytes is 64-bit FNV-1a: deterministic, so runs and instances agree.
func hashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// stopWords are function words and headline filler: they join stories
// that share nothing else. Every word of every article is looked up, so
// they sit in a small open-addressed table by the word's hash (which the
// word needs anyway), not in a map.
var stopWords = func() (t [stopSlots]stopWord) {
	for _, w := range []string{
		"a", "about", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
		"be", "because", "been", "before", "being", "between", "both", "but", "by", "can", "could", "did",
		"do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "get", "gets",
		"had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in",
		"into", "is", "it", "its", "just", "may", "me", "more", "most", "my", "no", "nor", "not", "now",
		"of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "s", "same", "says",
		"say", "said", "she", "should", "so", "some", "such", "t", "than", "that", "the", "their", "them",
		"then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
		"us", "very", "via", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
		"why", "will", "with", "would", "you", "your", "vs", "amp", "quot",
	} {
		h := hashBytes([]byte(w))
		i := h % stopSlots
		for t[i].w != "" {
			i = (i + 1) % stopSlots
		}
		t[i] = stopWord{h, w}
	}
	return t
}()

// stopSlots is a power of two, four times the stop words: a miss mostly
// ends at the first empty slot.
const stopSlots = 512

// stopWord is a stop word with its hash, which is compared first: most
// words are not stop words, and their search then reads no string.
type stopWord struct {
	h uint64
	w string
}

// isStopWord reports whether w, whose hashBytes is h, is a stop word.
func isStopWord(w []byte, h uint64) bool {
	if len(w) > 8 {
		return false
	}
	for i := h % stopSlots; stopWords[i].w != ""; i = (i + 1) % stopSlots {
		if stopWords[i].h == h && stopWords[i].w == string(w) {
			return true
		}
	}
	return false
}

// slugTerms appends to dst the terms of the longest path segment of URL
// u that reads as a slug ("sbarro-again-files-chapter11-bankruptcy"), at
// most max of them (max <= 0: no limit); none when it has none. buf is
// scratch space, returned for reuse. It reads u in place: every article
// has a URL, and cutting it into strings was a tenth of the clusterer's
// allocations.
func slugTerms(dst []term, u string, max int, buf []byte) ([]term, []byte) {
	// Byte searches rather than strings.IndexAny and strings.Trim, which
	// build a set of their characters on every call: the characters are
	// ASCII, and no byte of a multi-byte UTF-8 character is ASCII.
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	best := ""
	// The first segment is the host.
	for i := strings.IndexByte(u, '/'); i >= 0; {
		u = u[i+1:]
		seg := u
		if i = strings.IndexByte(u, '/'); i >= 0 {
			seg = u[:i]
		}
		seg = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(seg, ".html"), ".htm"), ".php")
		if len(seg) > len(best) && strings.Count(seg, "-")+strings.Count(seg, "_") >= 2 {
			best = seg
		}
	}
	// Dates and ids in a slug ("2014-03-10", "557011") are shared by
	// unrelated articles or by none: only the words count. Each word is
	// read on its own: the separators end a word in textTerms as well.
	start := len(dst)
	for i := 0; i < len(best); {
		j, digits := i, true
		for ; j < len(best) && best[j] != '-' && best[j] != '_' && best[j] != '+'; j++ {
			digits = digits && '0' <= best[j] && best[j] <= '9'
		}
		w := best[i:j]
		i = j + 1
		if digits {
			continue // also the empty word between two separators
		}
		left := 0
		if max > 0 {
			if left = max - (len(dst) - start); left <= 0 {
				break
			}
		}
		dst, buf = textTerms(dst, w, left, buf)
	}
	return dst, buf
}

// hashIndex maps 64-bit hashes (terms, band keys) to int32 slots. The
// clusterer looks up every term of every article in a vocabulary of a
// hundred thousand, and a lookup in a Go map reads its control word and
// then its slot, two cache misses at that size; here the key and the value
// share a cell, found by linear probing from a multiplicative hash of the
// key, at most half full, and deletion shifts the cells after it back
// rather than leaving tombstones.
type hashIndex struct {
	cells []hashCell // a power of two of them, or none
	n     int
	shift uint // 64 - log2(len(cells))
}

type hashCell struct {
	key uint64
	val int32 // the slot + 1; 0 marks an empty cell
}

func (t *hashIndex) home(key uint64) int {
	return int((key * 0x9E3779B97F4A7C15) >> t.shift)
}

// get returns the slot of key.
func (t *hashIndex) get(key uint64) (int32, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := len(t.cells) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		c := &t.cells[i]
		if c.val == 0 {
			return 0, false
		}
		if c.key == key {
			return c.val - 1, true
		}
	}
}

// set maps key to slot v (v >= 0).
func (t *hashIndex) set(key uint64, v int32) {
	if 2*(t.n+1) > len(t.cells) {
		t.grow()
	}
	mask := len(t.cells) - 1
	for i := t.home(key); ; i = (i + 1) & mask {
		c := &t.cells[i]
		if c.val == 0 {
			c.key, c.val = key, v+1
			t.n++
			return
		}
		if c.key == key {
			c.val = v + 1
			return
		}
	}
}

// delete forgets key.
func (t *hashIndex) delete(key uint64) {
	if t.n == 0 {
		return
	}
	mask := len(t.cells) - 1
	i := t.home(key)
	for t.cells[i].key != key {
		if t.cells[i].val == 0 {
			return
		}
		i = (i + 1) & mask
	}
	if t.cells[i].val == 0 {
		return // an empty cell whose stale key matched
	}
	// Move back every cell of the run after i that may sit at i: one
	// whose home is not cyclically within (i, j].
	for j := i; ; {
		j = (j + 1) & mask
		if t.cells[j].val == 0 {
			break
		}
		k := t.home(t.cells[j].key)
		if j > i && (k <= i || k > j) || j < i && k <= i && k > j {
			t.cells[i] = t.cells[j]
			i = j
		}
	}
	t.cells[i] = hashCell{}
	t.n--
}

func (t *hashIndex) grow() {
	old := t.cells
	size := max(64, 2*len(old))
	t.cells = make([]hashCell, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	t.n = 0
	for _, c := range old {
		if c.val != 0 {
			t.set(c.key, c.val-1)
		}
	}
}
