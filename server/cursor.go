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

func formatCursor(c store.Cursor) string {
	return strconv.FormatInt(c.Published.UnixMilli(), 10) + "-" + strconv.FormatInt(c.ID, 10)
}

func parseCursor(s string) (store.Cursor, error) {
	if s == "" {
		return store.Cursor{}, nil
	}
	// The time may be negative (before 1970), so split at the last dash.
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return store.Cursor{}, errorf(http.StatusBadRequest, "invalid cursor %q", s)
	}
	ms, err1 := strconv.ParseInt(s[:i], 10, 64)
	id, err2 := strconv.ParseInt(s[i+1:], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return store.Cursor{}, errorf(http.StatusBadRequest, "invalid cursor %q", s)
	}
	return store.Cursor{Published: time.UnixMilli(ms).UTC(), ID: id}, nil
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

// pathID reads a positive integer id from a route parameter.
func pathID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusNotFound, "not found")
	}
	return id, nil
}
