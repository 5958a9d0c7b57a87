package news

import "time"

// Story is the coverage of one event: the articles that report it, from one
// or more outlets (dedupe level 4).
type Story struct {
	// ID is the id of the article that started the story. It never changes,
	// so /stories/{id} stays valid and /articles/{id} of that first article
	// leads to it.
	ID int64
	// Lead is the article shown for the story: the best early report, an
	// original over a copy, a weightier source over a lighter one.
	Lead int64
	// Articles are the members' ids, earliest published first (ties by id).
	Articles  []int64
	FirstSeen time.Time // the earliest member's published time
	Updated   time.Time // the latest member's published time
}
