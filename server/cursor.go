package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"recap/store"
)

// A cursor travels in URLs as "<published unix ms>-<id>": the position after
// which the newest-first list continues. It is opaque to clients but
// readable in logs.

// The list of stories has cursors of the same form, with the time the story
// was last updated. Stores keep times to the millisecond, so a cursor loses
// nothing of its position.

func formatCursor(c store.Cursor) string { return timeIDCursor(c.Published, c.ID) }

func formatStoryCursor(c store.StoryCursor) string { return timeIDCursor(c.Updated, c.ID) }

func timeIDCursor(t time.Time, id int64) string {
	return strconv.FormatInt(t.UnixMilli(), 10) + "-" + strconv.FormatInt(id, 10)
}

func parseCursor(s string) (store.Cursor, error) {
	t, id, err := parseTimeIDCursor(s)
	return store.Cursor{Published: t, ID: id}, err
}

func parseStoryCursor(s string) (store.StoryCursor, error) {
	t, id, err := parseTimeIDCursor(s)
	return store.StoryCursor{Updated: t, ID: id}, err
}

// parseTimeIDCursor reads "<unix ms>-<id>"; "" is the start of the list.
func parseTimeIDCursor(s string) (time.Time, int64, error) {
	if s == "" {
		return time.Time{}, 0, nil
	}
	// The time may be negative (before 1970), so split at the last dash.
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return time.Time{}, 0, errorf(http.StatusBadRequest, "invalid cursor %q", s)
	}
	ms, err1 := strconv.ParseInt(s[:i], 10, 64)
	id, err2 := strconv.ParseInt(s[i+1:], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return time.Time{}, 0, errorf(http.StatusBadRequest, "invalid cursor %q", s)
	}
	return time.UnixMilli(ms).UTC(), id, nil
}

// nextCursor is the cursor after the last of a full page; "" when the page
// was not full (no more).
func nextCursor(page []store.ArticleRecord, limit int) string {
	if len(page) < limit || len(page) == 0 {
		return ""
	}
	last := page[len(page)-1]
	return formatCursor(store.Cursor{Published: last.Published, ID: last.ID})
}

// nextStoryCursor is nextCursor for a page of stories.
func nextStoryCursor(page []store.StoryRecord, limit int) string {
	if len(page) < limit || len(page) == 0 {
		return ""
	}
	last := page[len(page)-1]
	return formatStoryCursor(store.StoryCursor{Updated: last.Updated, ID: last.ID})
}

// pathID reads a positive integer id from a route parameter.
func pathID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusNotFound, "not found")
	}
	return id, nil
}
