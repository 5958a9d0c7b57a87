// Package news is Recap's domain: articles, and later stories, fingerprints,
// clustering and ranking. It is pure code: no I/O, nothing of Recap's imported.
package news

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Article is one news item as Recap keeps it, after normalizing.
type Article struct {
	ID       int64
	SourceID int64

	// ItemKey identifies the item within its source (dedupe level 1):
	// the GUID, else the canonical link, else a hash of title and date.
	ItemKey string
	// GUID and Link are the item's identifiers exactly as the feed published them.
	GUID string
	Link string
	// URL is the canonical URL (dedupe level 2), see CanonicalURL.
	URL string

	Title       string // plain text
	Summary     string // plain text
	ContentHTML string // sanitized HTML, may be empty
	Text        string // plain text of the content, for analysis and search
	Author      string
	Categories  []string
	ImageURL    string

	Published time.Time // never later than Collected + 1 day
	Updated   time.Time // the item's own updated time; zero when it has none
	Collected time.Time // when Recap first stored it

	// Filled by the story stage (a later issue); zero until then.
	StoryID     int64
	DuplicateOf int64
}

// ItemKey returns the identity of an item within its source: the GUID, else
// the canonical link, else a hash of the title and the published date.
func ItemKey(guid, canonicalURL, title string, published time.Time) string {
	if g := strings.TrimSpace(guid); g != "" {
		return "g:" + g
	}
	if canonicalURL != "" {
		return "u:" + canonicalURL
	}
	h := sha256.New()
	h.Write([]byte(strings.TrimSpace(title)))
	h.Write([]byte{0})
	if !published.IsZero() {
		h.Write([]byte(published.UTC().Format(time.RFC3339)))
	}
	return "h:" + hex.EncodeToString(h.Sum(nil)[:16])
}
