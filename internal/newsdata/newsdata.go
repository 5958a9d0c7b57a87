// Package newsdata reads the shared set of real AI news items
// (../shared/data/ai-news-items.jsonl.gz: one JSON object a line) that the
// benchmarks and end-to-end tests replay as feeds. It is test material, not
// part of Recap: nothing under feeds, news, store or server imports it.
package newsdata

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Item is one line of the file, as it is there.
type Item struct {
	Feed      string `json:"feed"`
	Title     string `json:"title"`
	Link      string `json:"link"`
	GUID      string `json:"guid"`
	Published string `json:"published"` // RFC 3339 when known; see PublishedTime
	Summary   string `json:"summary"`
}

// PublishedTime parses Published; ok is false when it is missing or not
// RFC 3339.
func (it Item) PublishedTime() (t time.Time, ok bool) {
	t, err := time.Parse(time.RFC3339, it.Published)
	return t.UTC(), err == nil
}

// Load reads a file of items, gzipped or not.
func Load(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("news items: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("news items %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	items, err := Read(r)
	if err != nil {
		return nil, fmt.Errorf("news items %s: %w", path, err)
	}
	return items, nil
}

// Read reads items, one JSON object a line; blank lines are skipped, and
// a line that is not an item is an error naming it.
func Read(r io.Reader) ([]Item, error) {
	var items []Item
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it Item
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errors.New("no items")
	}
	return items, nil
}
