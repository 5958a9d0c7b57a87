package main

import (
	"context"
	"fmt"
	"strings"

	"recap/store"
)

// accounting compares what the store holds with what the server served:
// each distinct canonical link one article, each served item one sighting
// under its own source and GUID.
type accounting struct {
	WantArticles, GotArticles   int
	WantSightings, GotSightings int
	MissingArticles             int // served canonical links with no article
	UnexpectedArticles          int // articles whose URL was never served
	MissingSightings            int // served items with no sighting
	WrongSightings              int // sightings under the wrong article, or never served
	DuplicateSightings          int
	Examples                    []string // a few of the problems, for the reader
}

func (a accounting) ok() bool {
	return a.WantArticles == a.GotArticles && a.WantSightings == a.GotSightings &&
		a.MissingArticles == 0 && a.UnexpectedArticles == 0 && a.MissingSightings == 0 &&
		a.WrongSightings == 0 && a.DuplicateSightings == 0
}

// String is "ok", or what is missing or extra.
func (a accounting) String() string {
	if a.ok() {
		return "ok"
	}
	var parts []string
	add := func(name string, n int) {
		if n != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", name, n))
		}
	}
	parts = append(parts, fmt.Sprintf("articles=%d/%d", a.GotArticles, a.WantArticles),
		fmt.Sprintf("sightings=%d/%d", a.GotSightings, a.WantSightings))
	add("missing_articles", a.MissingArticles)
	add("unexpected_articles", a.UnexpectedArticles)
	add("missing_sightings", a.MissingSightings)
	add("wrong_sightings", a.WrongSightings)
	add("duplicate_sightings", a.DuplicateSightings)
	return strings.Join(parts, " ")
}

type sightingKey struct{ source, guid string }

// expectation is what the store must hold after ingesting set from urls
// (urls[i] serves set.Feeds[i]).
type expectation struct {
	articles  map[string]bool        // canonical URLs served
	sightings map[sightingKey]string // → canonical URL of the item
	items     int
}

func expect(set *feedSet, urls []string) *expectation {
	e := &expectation{articles: map[string]bool{}, sightings: map[sightingKey]string{}}
	for f, g := range set.Feeds {
		for _, i := range g.Items {
			it := set.Pool[i]
			e.articles[it.canonical] = true
			e.sightings[sightingKey{urls[f], it.GUID}] = it.canonical
			e.items++
		}
	}
	return e
}

func verifyStore(ctx context.Context, st store.Store, e *expectation) (accounting, error) {
	a := accounting{WantArticles: len(e.articles), WantSightings: e.items}
	found := make(map[string]bool, len(e.articles))
	seen := make(map[sightingKey]bool, len(e.sightings))
	example := func(format string, args ...any) {
		if len(a.Examples) < 5 {
			a.Examples = append(a.Examples, fmt.Sprintf(format, args...))
		}
	}
	err := st.EachArticle(ctx, func(r store.ArticleRecord) error {
		a.GotArticles++
		if _, ok := e.articles[r.URL]; !ok {
			a.UnexpectedArticles++
			example("unexpected article %q", r.URL)
		}
		found[r.URL] = true
		for _, s := range r.Seen {
			a.GotSightings++
			k := sightingKey{s.SourceURL, s.GUID}
			want, ok := e.sightings[k]
			switch {
			case !ok || want != r.URL:
				a.WrongSightings++
				example("sighting %s guid %q under article %q, served as %q", s.SourceURL, s.GUID, r.URL, want)
			case seen[k]:
				a.DuplicateSightings++
				example("sighting %s guid %q recorded twice", s.SourceURL, s.GUID)
			default:
				seen[k] = true
			}
		}
		return nil
	})
	if err != nil {
		return a, fmt.Errorf("verify: %w", err)
	}
	for u := range e.articles {
		if !found[u] {
			a.MissingArticles++
			example("no article for %q", u)
		}
	}
	for k, u := range e.sightings {
		if !seen[k] {
			a.MissingSightings++
			example("no sighting of %q in %s (guid %q)", u, k.source, k.guid)
		}
	}
	return a, nil
}
