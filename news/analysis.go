package news

import "time"

// The analysis of a story: what the story page shows beside its coverage.
// Everything here is computed from the members' own titles and texts; the
// functions that compute it are pure (entities.go, relevance.go, topics.go,
// audience.go, summary.go, timeline.go, related.go, rank.go) and the story
// stage stores their results, recomputing them when a story changes.

// EntityKind says what an entity is.
type EntityKind string

const (
	KindOrg       EntityKind = "org"       // labs, companies, universities
	KindProduct   EntityKind = "product"   // products and services (ChatGPT, Copilot)
	KindModel     EntityKind = "model"     // model families and models (GPT-5, Llama)
	KindPerson    EntityKind = "person"    // people
	KindChip      EntityKind = "chip"      // chips and hardware (H100, TPU, Ascend)
	KindFramework EntityKind = "framework" // frameworks and tools (PyTorch, vLLM)
	KindRegulator EntityKind = "regulator" // regulators, laws and policy bodies (EU AI Act, FTC)
	KindOther     EntityKind = "other"     // a capitalised name not in the lexicon
)

// Entity is one organisation, product, model or person a story is about.
type Entity struct {
	// Key is the canonical, lower-case name every alias maps to
	// ("deepseek" for "DeepSeek", "DeepSeek's", "DeepSeek-V4"); stories
	// that share a key share the entity.
	Key string
	// Name is how pages show it ("DeepSeek").
	Name string
	Kind EntityKind
	// Weight is how central it is to the story: more for a mention in a
	// title, for one in many members, for a lexicon entry over a bare
	// capitalised name. Entities come sorted by Weight, highest first.
	Weight float64
}

// Topic is one of the fixed topics a story may belong to (at most two).
type Topic string

const (
	TopicModels     Topic = "models-research"   // Models and research
	TopicChips      Topic = "chips-hardware"    // Chips and hardware
	TopicPolicy     Topic = "policy-regulation" // Policy and regulation
	TopicBusiness   Topic = "business-funding"  // Business and funding
	TopicProducts   Topic = "products-launches" // Products and launches
	TopicOpenSource Topic = "open-source"       // Open source
	TopicSafety     Topic = "safety-security"   // Safety and security
)

// Topics lists every topic in the order pages list them.
var Topics = []Topic{TopicModels, TopicChips, TopicPolicy, TopicBusiness, TopicProducts, TopicOpenSource, TopicSafety}

// Audience is one group of readers a story matters to, and why.
type Audience struct {
	// Who is one of the Audience* names.
	Who string
	// Reason is the sentence the page shows after the name, built from the
	// story's topics and entities ("it is about chips: Nvidia, H100").
	Reason string
}

// Audience names, in the order pages list them.
const (
	AudienceDevelopers   = "Developers"
	AudienceResearchers  = "Researchers"
	AudienceEnterprise   = "Enterprise & Security Teams"
	AudienceInvestors    = "Investors"
	AudiencePolicymakers = "Policymakers"
)

// Member is what the analysis reads of one member article of a story.
type Member struct {
	Article   int64
	Source    int64
	Title     string // plain text
	Text      string // plain text: the summary, else the start of the content
	Published time.Time
	Duplicate bool // a near-copy of another member: it adds no new sentences
}

// Sentence is one sentence an outlet published, exactly as it appears in a
// member article's title or text, with the article it comes from.
type Sentence struct {
	Text    string
	Article int64 // the member article's id
}

// StoryRef is what the timeline and the related stories read of another
// story: enough to compare it and to name it in one line.
type StoryRef struct {
	ID        int64
	Title     string
	FirstSeen time.Time
	Updated   time.Time
	Entities  []string // entity keys, most central first
	Topics    []Topic
	Outlets   int     // distinct outlets that carried it
	Score     float64 // its ranking score without recency (Rank.Base)
}

// TimelineEvent is one earlier story on a story's timeline.
type TimelineEvent struct {
	Story int64
	When  time.Time // the earlier story's first report
	// Month is When as "2006-01": the timeline is read at month precision.
	Month  string
	Title  string
	Shared []string // entity keys it shares with the story
}

// RelatedStory is another recent story close to a story.
type RelatedStory struct {
	Story        int64
	Title        string
	When         time.Time
	Score        float64 // higher is closer
	SharedKeys   []string
	SharedTopics []Topic
}

// RankInput is what a story's ranking score is computed from.
type RankInput struct {
	Outlets   []RankOutlet // every independent outlet that covered it
	FirstSeen time.Time    // its first report
	Relevance float64      // AI relevance of the story, 0..1
}

// RankOutlet is one outlet of a story: its weight and its first report.
type RankOutlet struct {
	Name      string
	Weight    float64 // the source's weight; 1 is normal
	FirstSeen time.Time
}

// Rank is a story's ranking score with the reasons the page shows under
// "why ranked".
type Rank struct {
	// Score is Base with recency's decay applied at the time of ranking.
	Score float64
	// Base is the score without recency: what stories of different days
	// are compared by when age must not count (the timeline, a week's digest).
	Base  float64
	Parts []RankPart
}

// RankPart is one term of a ranking score, as the page explains it.
type RankPart struct {
	Name   string  // "Outlets", "Outlet weights", "Speed of coverage", "Recency", "AI relevance"
	Value  float64 // its factor or term in the score
	Detail string  // "4 independent outlets", "3 within 6h of the first", "18h old"
}

// Analysis is what the story stage stores for a story, at one version.
type Analysis struct {
	Entities  []Entity
	Topics    []Topic
	Audiences []Audience
	Relevance float64 // AI relevance of the story: the best of its members', 0..1
	TLDR      []Sentence
	Takeaways []Sentence
	Rank      Rank // Score computed at the time of analysis
}

// Insight is the optional analysis a language model wrote for a story, at
// one version of it. Pages label it "AI-generated analysis". Every claim
// cites member articles; a claim that cited none, or an article not in the
// story, was dropped before it was stored.
type Insight struct {
	Model        string
	WhatChanged  []Claim
	WhyItMatters []Claim
	WhatToDoNext []Claim
	// Sections are the deeper analysis: key takeaways, comparison,
	// technical details, implications; only those the model filled.
	Sections []InsightSection
	Created  time.Time
}

// Claim is one statement of an Insight with the member articles it cites.
type Claim struct {
	Text  string
	Cites []int64 // member article ids, at least one
}

// InsightSection is one titled part of an Insight's deeper analysis.
type InsightSection struct {
	Heading string
	Claims  []Claim
}
