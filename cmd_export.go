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
	if fs.NArg() != 1 || fs.Arg(0) != "articles" {
		fmt.Fprintln(a.stderr, "recap export: want `export articles`")
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
	err = s.EachArticle(ctx, func(r store.ArticleRecord) error {
		n++
		return enc.Encode(toExported(r))
	})
	if err != nil {
		return fmt.Errorf("export articles: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("export articles: %w", err)
	}
	a.log.Info("exported articles", "count", n)
	return nil
}

func toExported(r store.ArticleRecord) exportedArticle {
	e := exportedArticle{
		ID: r.ID, URL: r.URL, Title: r.Title, Summary: r.Summary,
		Published: rfc3339(r.Published), Collected: rfc3339(r.Collected),
		Source: r.Source, SourceURL: r.SourceURL,
		Author: r.Author, Categories: r.Categories, Image: r.ImageURL,
		Seen: make([]exportedSeen, 0, len(r.Seen)),
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
