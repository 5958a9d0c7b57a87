package news

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Timeline parameters.
const (
	timelineDefaultMax = 6
	// timelineMinGap: a story a few hours older is the same news, not
	// its history.
	timelineMinGap = 24 * time.Hour
	// timelinePerMonth bounds the events of one month, so the timeline
	// spans the story's history rather than its last busy week.
	timelinePerMonth = 2
	// timelineMinShare is the least shared weight, in units of the
	// story's most central entity, that makes an earlier story part of
	// its history: sharing only the maker (an org, weighted down) is
	// enough when the maker is among the story's most central entities,
	// not when it is a side mention.
	timelineMinShare = 0.3
)

// timelineKindFactor scales an entity by what it is: a lab or company
// recurs in much of the news and links stories weakly; a model family,
// a product or a chip is what a story's history is about.
func timelineKindFactor(k EntityKind) float64 {
	switch k {
	case KindOrg:
		return 0.4
	case KindRegulator, KindOther:
		return 0.6
	case KindPerson:
		return 0.8
	default: // model, product, chip, framework
		return 1
	}
}

// BuildTimeline returns the earlier stories that make a story's history:
// at least a day older than it, sharing its main entities (weighted by
// each entity's Weight and kind), the significant ones (more outlets,
// higher Base score) preferred, at most timelinePerMonth a month, oldest
// first, at most max (timelineDefaultMax when max <= 0). main is the
// story's entities, most central first; when it is empty the story's
// entity keys stand in, weighted by their order. A candidate that shares
// nothing never appears.
func BuildTimeline(story StoryRef, main []Entity, candidates []StoryRef, max int) []TimelineEvent {
	if max <= 0 {
		max = timelineDefaultMax
	}
	if story.FirstSeen.IsZero() {
		return nil // nothing is "earlier" than an unknown time
	}
	type keyWeight struct {
		key string
		w   float64
	}
	var keys []keyWeight
	seen := make(map[string]bool)
	if len(main) > 0 {
		for _, e := range main {
			w := e.Weight
			if e.Key == "" || seen[e.Key] || math.IsNaN(w) || w <= 0 {
				continue
			}
			seen[e.Key] = true
			keys = append(keys, keyWeight{e.Key, w * timelineKindFactor(e.Kind)})
		}
	} else {
		for i, k := range story.Entities {
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			keys = append(keys, keyWeight{k, 0.8 / (1 + 0.5*float64(i))})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	// Weights relative to the most central entity at full strength, so
	// the threshold does not depend on the entity scorer's scale.
	top := 0.0
	for _, k := range keys {
		top = math.Max(top, k.w)
	}
	for i := range keys {
		keys[i].w /= top
		if math.IsInf(top, 1) {
			keys[i].w = 1
		}
	}
	// The story's key set, for the check: main may list keys the
	// candidates were not filtered by.
	weightOf := make(map[string]float64, len(keys))
	for _, k := range keys {
		weightOf[k.key] = k.w
	}

	type scored struct {
		ref    StoryRef
		shared []string
		score  float64
		month  string
	}
	var eligible []scored
	cutoff := story.FirstSeen.Add(-timelineMinGap)
	ids := make(map[int64]bool)
	for _, c := range candidates {
		if c.ID == story.ID || c.FirstSeen.IsZero() || c.FirstSeen.After(cutoff) || ids[c.ID] {
			continue
		}
		var share float64
		has := make(map[string]bool, len(c.Entities))
		for _, k := range c.Entities {
			if w, ok := weightOf[k]; ok && !has[k] {
				has[k] = true
				share += w
			}
		}
		if share < timelineMinShare {
			continue
		}
		ids[c.ID] = true
		var shared []string
		for _, k := range keys {
			if has[k.key] {
				shared = append(shared, k.key)
			}
		}
		// Significance: diminishing in the outlets and the score, a
		// tie-breaker among stories of equal relevance more than a
		// rival to it.
		sig := 1 + 0.3*math.Log1p(math.Max(float64(c.Outlets), 0))
		if s := c.Score; s > 0 && !math.IsInf(s, 1) {
			sig += 0.2 * math.Log1p(s)
		}
		eligible = append(eligible, scored{c, shared, share * sig, c.FirstSeen.UTC().Format("2006-01")})
	}
	slices.SortStableFunc(eligible, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := a.ref.FirstSeen.Compare(b.ref.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.ref.ID, b.ref.ID)
	})
	// The best of each month first, then seconds of months: the timeline
	// spans as many months as it can.
	perMonth := make(map[string]int)
	var picked []scored
	for round := 1; round <= timelinePerMonth && len(picked) < max; round++ {
		for _, e := range eligible {
			if len(picked) >= max {
				break
			}
			if perMonth[e.month] == round-1 && !slices.ContainsFunc(picked, func(p scored) bool { return p.ref.ID == e.ref.ID }) {
				perMonth[e.month]++
				picked = append(picked, e)
			}
		}
	}
	slices.SortFunc(picked, func(a, b scored) int {
		if c := a.ref.FirstSeen.Compare(b.ref.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.ref.ID, b.ref.ID)
	})
	events := make([]TimelineEvent, 0, len(picked))
	for _, p := range picked {
		events = append(events, TimelineEvent{
			Story:  p.ref.ID,
			When:   p.ref.FirstSeen,
			Month:  p.month,
			Title:  p.ref.Title,
			Shared: p.shared,
		})
	}
	return events
}
