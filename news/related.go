package news

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Related-stories parameters.
const (
	relatedDefaultMax = 5
	// relatedTopicBonus per shared topic: topics are coarse (seven of
	// them), so they order related stories but never make one.
	relatedTopicBonus = 0.3
	// relatedTimeBonus at most, for a story of the same moment, halving
	// every relatedTimeHalfLife apart.
	relatedTimeBonus    = 0.2
	relatedTimeHalfLife = 7 * 24 * time.Hour
	// relatedMinScore: below it a story shares too little to show. One
	// shared key that most candidates have (a big lab) with nothing else
	// stays below; a rare shared key passes alone.
	relatedMinScore = 1.0
)

// RelatedStories returns the other stories closest to story, best first,
// at most max (relatedDefaultMax when max <= 0). The score is:
//
//	sum over shared entity keys of  idf(key) * centrality(key in story)
//	  idf(key)        = ln(1 + (N+1)/df): N candidates, df of them with the key
//	  centrality      = 1 / (1 + 0.5 * its index in story.Entities)
//	+ 0.3 per shared topic
//	+ 0.2 * 2^(-|time apart| / 7 days)
//
// A candidate must share at least one entity key and reach
// relatedMinScore; the story itself never appears.
func RelatedStories(story StoryRef, candidates []StoryRef, max int) []RelatedStory {
	if max <= 0 {
		max = relatedDefaultMax
	}
	centrality := make(map[string]float64, len(story.Entities))
	order := make(map[string]int, len(story.Entities))
	for i, k := range story.Entities {
		if _, ok := centrality[k]; !ok && k != "" {
			centrality[k] = 1 / (1 + 0.5*float64(i))
			order[k] = i
		}
	}
	if len(centrality) == 0 {
		return nil
	}
	// Document frequency of the story's keys within the candidates, each
	// candidate counted once.
	seenID := make(map[int64]bool)
	var pool []StoryRef
	for _, c := range candidates {
		if c.ID == story.ID || seenID[c.ID] {
			continue
		}
		seenID[c.ID] = true
		pool = append(pool, c)
	}
	df := make(map[string]int)
	for _, c := range pool {
		has := make(map[string]bool)
		for _, k := range c.Entities {
			if _, ok := centrality[k]; ok && !has[k] {
				has[k] = true
				df[k]++
			}
		}
	}
	n := float64(len(pool))
	storyTopics := make(map[Topic]bool)
	for _, t := range story.Topics {
		storyTopics[t] = true
	}

	var out []RelatedStory
	for _, c := range pool {
		var score float64
		var keys []string
		has := make(map[string]bool)
		for _, k := range c.Entities {
			w, ok := centrality[k]
			if !ok || has[k] {
				continue
			}
			has[k] = true
			keys = append(keys, k)
			score += math.Log(1+(n+1)/float64(df[k])) * w
		}
		if len(keys) == 0 {
			continue
		}
		slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(order[a], order[b]) })
		var topics []Topic
		for _, t := range c.Topics {
			if storyTopics[t] && !slices.Contains(topics, t) {
				topics = append(topics, t)
			}
		}
		score += relatedTopicBonus * float64(len(topics))
		if !story.FirstSeen.IsZero() && !c.FirstSeen.IsZero() {
			apart := story.FirstSeen.Sub(c.FirstSeen)
			if apart < 0 {
				apart = -apart
			}
			score += relatedTimeBonus * math.Exp2(-apart.Hours()/relatedTimeHalfLife.Hours())
		}
		if score < relatedMinScore {
			continue
		}
		out = append(out, RelatedStory{
			Story:        c.ID,
			Title:        c.Title,
			When:         c.FirstSeen,
			Score:        score,
			SharedKeys:   keys,
			SharedTopics: topics,
		})
	}
	slices.SortStableFunc(out, func(a, b RelatedStory) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := b.When.Compare(a.When); c != 0 {
			return c
		}
		return cmp.Compare(a.Story, b.Story)
	})
	if len(out) > max {
		out = out[:max]
	}
	return out
}
