package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"recap/store"
)

// exportedArticle is one line of `export articles`; its field names are a
// contract that scripts rely on: add fields, never rename them.
type exportedArticle struct {
	ID         int64          `json:"id"`
	URL        string         `json:"url"`
	Title      string         `json:"title"`
	Summary    string         `json:"summary"`
	Published  string         `json:"published"`
	Collected  string         `json:"collected"`
	Source     string         `json:"source"`
	SourceURL  string         `json:"source_url"`
	Author     string         `json:"author,omitempty"`
	Categories []string       `json:"categories,omitempty"`
	Image      string         `json:"image,omitempty"`
	Seen       []exportedSeen `json:"seen"`
	// Always present, 0 when none, so scripts need no special case: the
	// story the article is in, and the original it is a near-copy of.
	StoryID     int64 `json:"story_id"`
	DuplicateOf int64 `json:"duplicate_of"`
}

// exportedStory is one line of `export stories`, a contract like
// exportedArticle.
type exportedStory struct {
	ID          int64    `json:"id"`
	Title       string   `json:"title"`
	LeadArticle int64    `json:"lead_article"`
	Articles    []int64  `json:"articles"` // member ids, earliest published first
	Outlets     []string `json:"outlets"`  // the sources' names, earliest first
	FirstSeen   string   `json:"first_seen"`
	Updated     string   `json:"updated"`
}

type exportedSeen struct {
	Source    string `json:"source"`
	SourceURL string `json:"source_url"`
	GUID      string `json:"guid"`
	Link      string `json:"link"`
	FirstSeen string `json:"first_seen"`
}

func (a *app) export(ctx context.Context, args []string) error {
	fs := a.flagSet("export")
	if err := a.parseCommand(fs, reorderFlags(args)); err != nil {
		return err
	}
	what := fs.Arg(0)
	if fs.NArg() != 1 || (what != "articles" && what != "stories") {
		fmt.Fprintln(a.stderr, "recap export: want `export articles` or `export stories`")
		return errUsage
	}
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	w := bufio.NewWriterSize(a.stdout, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	if what == "articles" {
		err = s.EachArticle(ctx, func(r store.ArticleRecord) error {
			n++
			return enc.Encode(toExported(r))
		})
	} else {
		err = s.EachStory(ctx, func(r store.StoryRecord) error {
			n++
			return enc.Encode(toExportedStory(r))
		})
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", what, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("export %s: %w", what, err)
	}
	a.log.Info("exported "+what, "count", n)
	return nil
}

func toExportedStory(r store.StoryRecord) exportedStory {
	e := exportedStory{
		ID: r.ID, Title: r.Title, LeadArticle: r.Lead,
		Articles: r.Articles, Outlets: make([]string, 0, len(r.Outlets)),
		FirstSeen: rfc3339(r.FirstSeen), Updated: rfc3339(r.Updated),
	}
	if e.Articles == nil {
		e.Articles = []int64{}
	}
	for _, o := range r.Outlets {
		e.Outlets = append(e.Outlets, o.Name)
	}
	return e
}

func toExported(r store.ArticleRecord) exportedArticle {
	e := exportedArticle{
		ID: r.ID, URL: r.URL, Title: r.Title, Summary: r.Summary,
		Published: rfc3339(r.Published), Collected: rfc3339(r.Collected),
		Source: r.Source, SourceURL: r.SourceURL,
		Author: r.Author, Categories: r.Categories, Image: r.ImageURL,
		Seen:    make([]exportedSeen, 0, len(r.Seen)),
		StoryID: r.StoryID, DuplicateOf: r.DuplicateOf,
	}
	for _, s := range r.Seen {
		e.Seen = append(e.Seen, exportedSeen{Source: s.Source, SourceURL: s.SourceURL, GUID: s.GUID, Link: s.Link, FirstSeen: rfc3339(s.FirstSeen)})
	}
	return e
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
