package news

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Ranking parameters.
const (
	// rankSpeedWindow: outlets that report within it of the first report
	// show that the news was breaking, not trickling in.
	rankSpeedWindow = 6 * time.Hour
	// rankHalfLife: a story loses half its Score per day.
	rankHalfLife = 24 * time.Hour
	// rankRelevanceFloor keeps a story with no AI relevance at a tenth of
	// its score rather than zero, so the other parts still order it.
	rankRelevanceFloor = 0.1
	rankMaxWeight      = 100
)

// RankStory computes a story's ranking score and explains it.
//
//	W      = sum of the independent outlets' weights (an unset weight, <= 0, counts as 1)
//	Outlets factor = log2(1 + W)             diminishing returns: 1 outlet 1.0, 3 outlets 2.0, 7 outlets 3.0
//	k      = outlets whose first report came within 6h of the story's first
//	Speed factor   = 1 + 0.25 * log2(1 + k)  a breaking story, not one that trickled in
//	AI relevance   = 0.1 + 0.9 * Relevance   Relevance clamped to [0,1]
//	Base   = Outlets factor * Speed factor * AI relevance
//	Recency        = 2^(-age / 24h)          age = now - FirstSeen, at least 0
//	Score  = Base * Recency
//
// Base has no recency, so stories of different days compare by it (the
// timeline, a week's digest). Outlets with the same Name count once, at
// their highest weight. A zero FirstSeen falls back to the earliest
// outlet's; with no time at all the age is unknown and Recency is 1. No
// input makes a NaN or an infinity.
func RankStory(in RankInput, now time.Time) Rank {
	outlets := rankOutlets(in.Outlets)

	var total float64
	weights := make([]string, 0, len(outlets))
	for _, o := range outlets {
		total += o.Weight
		if len(weights) < 8 {
			weights = append(weights, fmt.Sprintf("%.1f", o.Weight))
		}
	}
	if len(outlets) > len(weights) {
		weights = append(weights, fmt.Sprintf("… (%d more)", len(outlets)-len(weights)))
	}
	outletFactor := math.Log2(1 + total)

	first := in.FirstSeen
	for _, o := range outlets {
		if !o.FirstSeen.IsZero() && (first.IsZero() || o.FirstSeen.Before(first)) {
			first = o.FirstSeen
		}
	}
	fast := 0
	if !first.IsZero() {
		seen := false // the first report itself does not count
		for _, o := range outlets {
			if o.FirstSeen.IsZero() {
				continue
			}
			if d := o.FirstSeen.Sub(first); d >= 0 && d <= rankSpeedWindow {
				if !seen && d == 0 {
					seen = true
					continue
				}
				fast++
			}
		}
	}
	speedFactor := 1 + 0.25*math.Log2(1+float64(fast))

	rel := in.Relevance
	if math.IsNaN(rel) {
		rel = 0
	}
	rel = min(max(rel, 0), 1)
	relFactor := rankRelevanceFloor + (1-rankRelevanceFloor)*rel

	base := outletFactor * speedFactor * relFactor

	start := in.FirstSeen
	if start.IsZero() {
		start = first
	}
	recency, ageDetail := rankRecency(start, now)

	plural := "s"
	if len(outlets) == 1 {
		plural = ""
	}
	fastPlural := "s"
	if fast == 1 {
		fastPlural = ""
	}
	return Rank{
		Score: base * recency,
		Base:  base,
		Parts: []RankPart{
			{Name: "Outlets", Value: outletFactor, Detail: fmt.Sprintf("%d independent outlet%s", len(outlets), plural)},
			{Name: "Outlet weights", Value: total, Detail: "weights " + strings.Join(weights, ", ")},
			{Name: "Speed of coverage", Value: speedFactor, Detail: fmt.Sprintf("%d outlet%s within 6h", fast, fastPlural)},
			{Name: rankRecencyPart, Value: recency, Detail: ageDetail},
			{Name: "AI relevance", Value: relFactor, Detail: fmt.Sprintf("AI relevance %.2f", rel)},
		},
	}
}

// rankRecencyPart names the part of a Rank that depends on the time.
const rankRecencyPart = "Recency"

// rankRecency is the recency factor of a story first reported at start,
// as of now, and how the page explains it.
func rankRecency(start, now time.Time) (float64, string) {
	if start.IsZero() || now.IsZero() {
		return 1, "age unknown"
	}
	age := max(now.Sub(start), 0)
	return math.Exp2(-age.Hours() / rankHalfLife.Hours()), fmt.Sprintf("%s old, half-life 24h", rankAge(age))
}

// At is r as of now, for a story first reported at firstSeen: Score is
// Base with the recency of that age, and the Recency part says so. A
// stored rank is shown through At, so a page never shows the age a story
// had when it was analysed.
func (r Rank) At(firstSeen, now time.Time) Rank {
	recency, detail := rankRecency(firstSeen, now)
	out := Rank{Score: r.Base * recency, Base: r.Base, Parts: slices.Clone(r.Parts)}
	for i := range out.Parts {
		if out.Parts[i].Name == rankRecencyPart {
			out.Parts[i].Value, out.Parts[i].Detail = recency, detail
		}
	}
	return out
}

// rankOutlets returns the outlets with sound weights, one per name, in
// input order.
func rankOutlets(in []RankOutlet) []RankOutlet {
	out := make([]RankOutlet, 0, len(in))
	byName := make(map[string]int)
	for _, o := range in {
		if math.IsNaN(o.Weight) || o.Weight <= 0 {
			o.Weight = 1
		}
		// A weight is a source's standing, a few times normal at most;
		// the cap keeps a wild one from overflowing the sum.
		o.Weight = min(o.Weight, rankMaxWeight)
		if o.Name != "" {
			if i, ok := byName[o.Name]; ok {
				out[i].Weight = max(out[i].Weight, o.Weight)
				if !o.FirstSeen.IsZero() && (out[i].FirstSeen.IsZero() || o.FirstSeen.Before(out[i].FirstSeen)) {
					out[i].FirstSeen = o.FirstSeen
				}
				continue
			}
			byName[o.Name] = len(out)
		}
		out = append(out, o)
	}
	return out
}

// rankAge says an age the way the page does: "45m", "18h", "3d".
func rankAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}
