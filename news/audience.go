package news

import (
	"slices"
	"strings"
)

// "Who should care" is read off the story's topics and entities by rules,
// each with the reason the page shows: a story's first topic concerns its
// audience most, its second less, and entities add their own readers
// (a framework its developers, a regulator policymakers).

// maxReason is the longest reason a page shows.
const maxReason = 100

type audienceRule struct {
	who   string
	topic Topic
	kinds []EntityKind // the entities the reason names
	flag  lexFlag      // or lexicon entries with this flag
	// alone: the entities fire the rule without its topic (a regulator
	// concerns policymakers; an org does not make a story investors' news).
	alone bool
	// needs: the rule fires only with such an entity (a CVE story is not
	// safety research unless a model is in it).
	needs bool
	what  string // the reason's start
}

// audienceRules say, for each audience, what concerns it. A rule fires on
// its topic, or on an entity of its kinds or flag.
var audienceRules = []audienceRule{
	{AudienceDevelopers, TopicOpenSource, []EntityKind{KindFramework}, lexDev, true, false, "open-source tools and models to build with"},
	{AudienceDevelopers, TopicProducts, []EntityKind{KindFramework}, lexDev, true, false, "tools and APIs they build with"},
	{AudienceDevelopers, TopicChips, []EntityKind{KindChip}, 0, false, false, "the hardware their models run on"},
	{AudienceResearchers, TopicModels, []EntityKind{KindModel}, 0, true, false, "new models and research"},
	{AudienceResearchers, TopicSafety, []EntityKind{KindModel}, 0, false, true, "safety research on models"},
	{AudienceEnterprise, TopicSafety, nil, lexEnterprise, false, false, "security and safety risks"},
	{AudienceEnterprise, TopicProducts, nil, lexEnterprise, true, false, "products businesses run"},
	{AudienceEnterprise, TopicChips, []EntityKind{KindChip}, 0, false, false, "the compute they buy"},
	{AudienceInvestors, TopicBusiness, []EntityKind{KindOrg}, 0, false, false, "funding, deals and markets"},
	{AudienceInvestors, TopicChips, []EntityKind{KindChip, KindOrg}, 0, false, false, "the chip business"},
	{AudiencePolicymakers, TopicPolicy, []EntityKind{KindRegulator}, 0, true, false, "regulation and policy"},
	{AudiencePolicymakers, TopicSafety, []EntityKind{KindRegulator}, 0, false, false, "AI safety and its oversight"},
}

// Points of a rule: by the rank of the topic that fired it, or for the
// entities alone.
var topicRankPoints = [2]float64{3, 2}

const (
	entityRulePoints = 1.5 // a story with a regulator in it concerns policymakers somewhat
	// An audience is listed when it scores at least this share of the
	// first's: the others care much less.
	audienceShare = 0.5
	maxAudiences  = 3
	reasonNames   = 3
)

// AudiencesFor returns one to three audiences of a story, most concerned
// first, each with a reason naming at most three of the entities behind
// it; none when there is nothing to go on.
func AudiencesFor(topics []Topic, ents []Entity) []Audience {
	type cand struct {
		who    string
		score  float64
		entity float64 // entity points count once per audience, however many rules name them
		best   float64 // the points of the rule that gives the reason
		reason string
	}
	var cands []cand
	add := func(who string, topicPts, entityPts float64, reason string) {
		pts := topicPts + entityPts
		for i := range cands {
			c := &cands[i]
			if c.who == who {
				if pts > c.best {
					c.reason, c.best = reason, pts
				}
				c.score += topicPts + max(0, entityPts-c.entity)
				c.entity = max(c.entity, entityPts)
				return
			}
		}
		cands = append(cands, cand{who, pts, entityPts, pts, reason})
	}
	for _, r := range audienceRules {
		pts := 0.0
		for rank, t := range topics {
			if t == r.topic && rank < len(topicRankPoints) {
				pts = topicRankPoints[rank]
			}
		}
		names := ruleEntities(r, ents)
		if r.needs && len(names) == 0 {
			continue
		}
		entityPts := 0.0
		if len(names) > 0 && r.alone {
			entityPts = entityRulePoints
		}
		if pts+entityPts == 0 {
			continue
		}
		add(r.who, pts, entityPts, reasonFor(r.what, names))
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return audienceOrder(a.who) - audienceOrder(b.who)
	})
	var out []Audience
	for _, c := range cands {
		if len(out) == maxAudiences || c.score < audienceShare*cands[0].score {
			break
		}
		out = append(out, Audience{Who: c.who, Reason: c.reason})
	}
	return out
}

func audienceOrder(who string) int {
	return slices.Index([]string{AudienceDevelopers, AudienceResearchers, AudienceEnterprise, AudienceInvestors, AudiencePolicymakers}, who)
}

// ruleEntities returns the names of the story's entities a rule is about,
// most central first.
func ruleEntities(r audienceRule, ents []Entity) []string {
	var names []string
	for _, e := range ents {
		ok := slices.Contains(r.kinds, e.Kind)
		if !ok && r.flag != 0 {
			if i, found := lexIdx.byKey[e.Key]; found {
				ok = lexicon[i].flags&r.flag != 0
			}
		}
		if ok && !slices.Contains(names, e.Name) {
			names = append(names, e.Name)
		}
	}
	return names
}

// reasonFor is "what: A, B, C", with as many names as fit in maxReason.
func reasonFor(what string, names []string) string {
	reason := what
	for i, n := range names {
		if i == reasonNames {
			break
		}
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		if len(reason)+len(sep)+len(n) > maxReason {
			break
		}
		reason += sep + n
	}
	return strings.TrimSpace(reason)
}
