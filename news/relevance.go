package news

import "math"

// AIRelevant is the relevance from which an item counts as AI news:
// AIRelevance(t, x, c) >= AIRelevant exactly when LooksLikeAI(t, x, c).
// The score and the filter are one decision seen two ways: the filter
// answers yes or no, the score also says how sure, for ranking.
const AIRelevant = 0.5

// AIRelevance rates in [0, 1] how much an item reads like AI news, from the
// same evidence as AIScore: 0 without a single AI term, AIRelevant at
// AIThreshold points, and closer to 1 with every further term.
//
// The map is 1 - 2^(-points/AIThreshold): each further AIThreshold points
// halve the distance to 1. It saturates because evidence piles up in long
// texts, and a story is not three times as much about AI for naming three
// models; and it is exact at the threshold (1 - 2^-1 is 0.5 in floating
// point), so the two views cannot disagree there.
func AIRelevance(title, text string, categories []string) float64 {
	return relevanceOf(AIScore(title, text, categories))
}

func relevanceOf(points int) float64 {
	if points <= 0 {
		return 0
	}
	return 1 - math.Exp2(-float64(points)/AIThreshold)
}

// StoryRelevance rates a story by its best member: the highest AIRelevance
// of a member's title and text. A story is AI news when any of its outlets
// reported it as such (the filter keeps the item, so the story must count
// too), and the other members often come from general outlets whose titles
// name the event, not the field ("Nvidia stock slips"). A mix would let
// such members pull a plainly AI story under the threshold.
// A story without members scores 0.
func StoryRelevance(members []Member) float64 {
	best := 0
	for _, m := range members {
		best = max(best, AIScore(m.Title, m.Text, nil))
	}
	return relevanceOf(best)
}
