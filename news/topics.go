package news

import (
	"slices"
	"strings"
)

// A story's topics come from keyword rules over its members' titles and
// the leads of their texts, backed by the kinds of its entities (a chip
// is about chips, a regulator about policy). The rules are lists of
// phrases, matched like the AI filter's (aifilter.go): whole words, "*"
// for a word's start, "#" for a number; a strong phrase says the topic
// alone, a weak one only helps.

// topicTerms are the phrases of each topic.
var topicTerms = map[Topic][]aiTerm{
	TopicModels: {
		{"paper*", strong, anyCase}, {"benchmark*", strong, anyCase}, {"arxiv", strong, anyCase},
		{"preprint*", strong, anyCase}, {"technical report", strong, anyCase}, {"we introduce", strong, anyCase},
		{"we propose", strong, anyCase}, {"we present", strong, anyCase}, {"state of the art", strong, anyCase},
		{"sota", strong, anyCase}, {"reinforcement learning", strong, anyCase}, {"interpretability", strong, anyCase},
		{"language model*", strong, anyCase}, {"pretrain*", strong, anyCase}, {"pre train*", strong, anyCase},
		{"post train*", strong, anyCase}, {"distillation", strong, anyCase}, {"rlhf", strong, anyCase},
		{"olympiad", strong, anyCase}, {"scaling law*", strong, anyCase}, {"new model*", strong, anyCase},
		{"reasoning model*", strong, anyCase}, {"frontier model*", strong, anyCase}, {"foundation model*", strong, anyCase},
		{"model", weak, anyCase}, {"models", weak, anyCase}, {"training", weak, anyCase}, {"trained", weak, anyCase},
		{"research", weak, anyCase}, {"researchers", weak, anyCase}, {"study", weak, anyCase}, {"dataset*", weak, anyCase},
		{"evaluat*", weak, anyCase}, {"reasoning", weak, anyCase}, {"scaling", weak, anyCase}, {"architecture*", weak, anyCase},
		{"transformer*", weak, anyCase}, {"fine tun*", weak, anyCase}, {"neural", weak, anyCase}, {"algorithm*", weak, anyCase},
		{"theorem*", weak, anyCase}, {"mathemat*", weak, anyCase}, {"multimodal", weak, anyCase}, {"diffusion", weak, anyCase},
		{"embedding*", weak, anyCase}, {"tokeniz*", weak, anyCase}, {"inference", weak, anyCase}, {"attention", weak, anyCase},
		{"learning", weak, anyCase}, {"scientist*", weak, anyCase}, {"discover*", weak, anyCase}, {"protein*", weak, anyCase},
		{"genom*", weak, anyCase}, {"leaderboard*", weak, anyCase}, {"llm*", weak, anyCase}, {"parameters", weak, anyCase},
		{"context window*", weak, anyCase}, {"world model*", weak, anyCase}, {"science", weak, anyCase},
	},
	TopicChips: {
		{"chip*", strong, anyCase}, {"semiconductor*", strong, anyCase}, {"gpu*", strong, anyCase}, {"tpu*", strong, anyCase},
		{"wafer*", strong, anyCase}, {"foundry", strong, anyCase}, {"foundries", strong, anyCase}, {"hbm*", strong, anyCase},
		{"supercomputer*", strong, anyCase}, {"lithograph*", strong, anyCase}, {"data center*", strong, anyCase},
		{"datacenter*", strong, anyCase}, {"npu*", weak, anyCase}, {"accelerator*", weak, anyCase}, {"fab", weak, anyCase},
		{"fabs", weak, anyCase}, {"compute", weak, anyCase}, {"cuda", weak, anyCase}, {"silicon", weak, anyCase},
		{"gigawatt*", weak, anyCase}, {"megawatt*", weak, anyCase}, {"processor*", weak, anyCase}, {"cpu*", weak, anyCase},
		{"transistor*", weak, anyCase}, {"interconnect*", weak, anyCase}, {"dram", weak, anyCase}, {"kernel*", weak, anyCase},
		{"hardware", weak, anyCase}, {"server*", weak, anyCase}, {"rack*", weak, anyCase}, {"cluster*", weak, anyCase},
		{"memory", weak, anyCase}, {"infrastructure", weak, anyCase}, {"power grid", weak, anyCase},
	},
	TopicPolicy: {
		{"regulat*", strong, anyCase}, {"lawmaker*", strong, anyCase}, {"legislat*", strong, anyCase},
		{"lawsuit*", strong, anyCase}, {"sues", strong, anyCase}, {"sued", strong, anyCase}, {"copyright*", strong, anyCase},
		{"antitrust", strong, anyCase}, {"executive order*", strong, anyCase}, {"policymaker*", strong, anyCase},
		{"code of practice", strong, anyCase}, {"export control*", strong, anyCase}, {"gdpr", strong, anyCase},
		{"ai act", strong, anyCase}, {"governance", strong, anyCase}, {"court", weak, anyCase}, {"judge", weak, anyCase},
		{"ruling", weak, anyCase}, {"law", weak, anyCase}, {"laws", weak, anyCase}, {"bill", weak, anyCase},
		{"ban", weak, anyCase}, {"bans", weak, anyCase}, {"banned", weak, anyCase}, {"government*", weak, anyCase},
		{"congress*", weak, anyCase}, {"senate", weak, anyCase}, {"senator*", weak, anyCase}, {"policy", weak, anyCase},
		{"policies", weak, anyCase}, {"compliance", weak, anyCase}, {"sanction*", weak, anyCase}, {"tariff*", weak, anyCase},
		{"federal", weak, anyCase}, {"ministry", weak, anyCase}, {"minister", weak, anyCase}, {"parliament*", weak, anyCase},
		{"election*", weak, anyCase}, {"military", weak, anyCase}, {"defense", weak, anyCase}, {"national security", weak, anyCase},
		{"sovereign*", weak, anyCase}, {"public sector", weak, anyCase}, {"treaty", weak, anyCase}, {"probe", weak, anyCase},
		{"fined", weak, anyCase}, {"new law*", strong, anyCase}, {"agency", weak, anyCase}, {"states", weak, anyCase}, {"eu", weak, upperOnly},
		{"public", weak, anyCase}, {"citizens", weak, anyCase}, {"democra*", weak, anyCase}, {"rights", weak, anyCase},
	},
	TopicBusiness: {
		{"raises", strong, anyCase}, {"raised", strong, anyCase}, {"raising", strong, anyCase}, {"funding", strong, anyCase},
		{"series a", strong, anyCase}, {"series b", strong, anyCase}, {"series c", strong, anyCase}, {"series d", strong, anyCase},
		{"series e", strong, anyCase}, {"series f", strong, anyCase}, {"valuation*", strong, anyCase},
		{"acquir*", strong, anyCase}, {"acquisition*", strong, anyCase}, {"ipo", strong, upperOnly}, {"merger*", strong, anyCase},
		{"buys", strong, anyCase}, {"layoff*", strong, anyCase}, {"lays off", strong, anyCase}, {"earnings", strong, anyCase},
		{"revenue*", strong, anyCase}, {"market cap*", strong, anyCase}, {"capex", strong, anyCase}, {"investment*", strong, anyCase},
		{"invests", strong, anyCase}, {"funding round", strong, anyCase}, {"seed round", strong, anyCase},
		{"chief * officer", strong, anyCase}, {"partnership*", strong, anyCase}, {"valued", weak, anyCase},
		{"invest*", weak, anyCase}, {"billion", weak, anyCase}, {"deal", weak, anyCase}, {"deals", weak, anyCase},
		{"stake", weak, anyCase}, {"hiring", weak, anyCase}, {"ceo", weak, anyCase}, {"appoint*", weak, anyCase},
		{"joins", weak, anyCase}, {"join", weak, anyCase}, {"profit*", weak, anyCase}, {"shares", weak, anyCase},
		{"stock*", weak, anyCase}, {"startup*", weak, anyCase}, {"venture", weak, anyCase}, {"partner*", weak, anyCase},
		{"customer*", weak, anyCase}, {"econom*", weak, anyCase}, {"market*", weak, anyCase}, {"spending", weak, anyCase},
		{"unicorn*", weak, anyCase}, {"board", weak, anyCase}, {"contract*", weak, anyCase}, {"expan*", weak, anyCase},
		{"office", weak, anyCase}, {"business*", weak, anyCase}, {"enterprise*", weak, anyCase}, {"company", weak, anyCase},
		{"companies", weak, anyCase}, {"jobs", weak, anyCase}, {"workforce", weak, anyCase}, {"retail", weak, anyCase},
	},
	TopicProducts: {
		{"launch*", strong, anyCase}, {"now available", strong, anyCase}, {"introducing", strong, anyCase},
		{"introduces", strong, anyCase}, {"rolls out", strong, anyCase}, {"rolling out", strong, anyCase},
		{"generally available", strong, anyCase}, {"unveil*", strong, anyCase}, {"debut*", strong, anyCase},
		{"available", weak, anyCase}, {"app", weak, anyCase}, {"apps", weak, anyCase}, {"feature*", weak, anyCase},
		{"release*", weak, anyCase}, {"beta", weak, anyCase}, {"preview", weak, anyCase}, {"pricing", weak, anyCase},
		{"subscription*", weak, anyCase}, {"users", weak, anyCase}, {"update*", weak, anyCase}, {"announc*", weak, anyCase},
		{"integrat*", weak, anyCase}, {"plugin*", weak, anyCase}, {"extension*", weak, anyCase}, {"browser*", weak, anyCase},
		{"ships", weak, anyCase}, {"show hn", weak, anyCase}, {"assistant*", weak, anyCase},
		{"tool", weak, anyCase}, {"tools", weak, anyCase}, {"api", weak, anyCase}, {"product*", weak, anyCase},
		{"customers", weak, anyCase}, {"try", weak, anyCase}, {"start building", weak, anyCase}, {"builders", weak, anyCase},
		{"devices", weak, anyCase}, {"search", weak, anyCase}, {"voice", weak, anyCase}, {"upgrade*", weak, anyCase},
	},
	TopicOpenSource: {
		{"open source", strong, anyCase}, {"open sourc*", strong, anyCase}, {"opensource", strong, anyCase},
		{"open weight*", strong, anyCase}, {"open model*", strong, anyCase}, {"apache #", strong, anyCase},
		{"apache license", strong, anyCase}, {"mit license*", strong, anyCase}, {"released under", strong, anyCase},
		{"openly available", strong, anyCase}, {"github", weak, anyCase}, {"repo", weak, anyCase}, {"repos", weak, anyCase},
		{"repository", weak, anyCase}, {"weights", weak, anyCase}, {"gguf", weak, anyCase}, {"self host*", weak, anyCase},
		{"locally", weak, anyCase}, {"license*", weak, anyCase}, {"fork*", weak, anyCase}, {"community", weak, anyCase},
		{"hugging face", weak, anyCase}, {"huggingface", weak, anyCase}, {"library", weak, anyCase}, {"stars", weak, anyCase},
		{"contributors", weak, anyCase}, {"free software", strong, anyCase}, {"open", weak, anyCase},
	},
	TopicSafety: {
		{"safety", strong, anyCase}, {"jailbreak*", strong, anyCase}, {"vulnerab*", strong, anyCase},
		{"alignment", strong, anyCase}, {"misuse", strong, anyCase}, {"cve", strong, upperOnly}, {"rce", strong, upperOnly},
		{"security", strong, anyCase}, {"exploit*", strong, anyCase}, {"malware", strong, anyCase},
		{"prompt injection*", strong, anyCase}, {"breach*", strong, anyCase}, {"red team*", strong, anyCase},
		{"cyber*", strong, anyCase}, {"backdoor*", strong, anyCase}, {"bug bount*", strong, anyCase},
		{"child safety", strong, anyCase}, {"phishing", strong, anyCase}, {"ransomware", strong, anyCase},
		{"zero day", strong, anyCase}, {"responsible scaling", strong, anyCase}, {"bioweapon*", strong, anyCase},
		{"malicious", strong, anyCase}, {"threat actor*", strong, anyCase}, {"hacked", strong, anyCase},
		{"misalign*", strong, anyCase}, {"attack*", weak, anyCase}, {"hack*", weak, anyCase}, {"leak*", weak, anyCase},
		{"risk*", weak, anyCase}, {"threat*", weak, anyCase}, {"privacy", weak, anyCase}, {"deepfake*", weak, anyCase},
		{"scam*", weak, anyCase}, {"fraud*", weak, anyCase}, {"sandbox*", weak, anyCase}, {"safeguard*", weak, anyCase},
		{"harm*", weak, anyCase}, {"abuse*", weak, anyCase}, {"surveillance", weak, anyCase}, {"misinformation", weak, anyCase},
		{"disinformation", weak, anyCase}, {"sabotage", weak, anyCase}, {"decept*", weak, anyCase}, {"sycophan*", weak, anyCase},
		{"guardrail*", weak, anyCase}, {"refusal*", weak, anyCase}, {"catastroph*", weak, anyCase}, {"preparedness", weak, anyCase},
		{"safe", weak, anyCase}, {"trust", weak, anyCase}, {"secure", weak, anyCase}, {"welfare", weak, anyCase},
		{"deceiv*", weak, anyCase}, {"safer", weak, anyCase}, {"supply chain attack*", strong, anyCase}, {"influence operation*", strong, anyCase}, {"disrupting", weak, anyCase},
	},
}

// Points per distinct phrase and field, as the AI filter counts them.
const (
	topicTitleStrong = 4
	topicTitleWeak   = 2
	topicTextStrong  = 2
	topicTextWeak    = 1
	// An entity of the story worth 1 (the story's central one) adds this
	// much to the topic its kind says.
	topicEntityPoints = 3
	// A second topic needs this share of the first's score: a story is
	// about one thing, and a second topic must be a real one.
	secondTopicShare = 0.6
)

// topicMatcher is every topic's phrases in one vocabulary.
type topicMatcher struct {
	vocab      vocabulary
	topics     []Topic // of each term
	topicIndex []int   // of each term's topic in Topics
	strong     []bool
}

// topicVocab is built once and only read afterwards.
var topicVocab = func() topicMatcher {
	var m topicMatcher
	var list []aiTerm
	for ti, t := range Topics {
		for _, term := range topicTerms[t] {
			list = append(list, term)
			m.topics = append(m.topics, t)
			m.topicIndex = append(m.topicIndex, ti)
			m.strong = append(m.strong, term.strength == strong)
		}
	}
	m.vocab = compileVocabulary(list)
	return m
}()

// ClassifyTopics returns at most two topics of a story, best first: the
// one its members' words and its entities point to most, and a second
// when it scores at least secondTopicShare of the first. A story that is
// AI news but matches no rule is filed under models-research: that is
// where the field's news is when nothing says otherwise.
func ClassifyTopics(members []Member, ents []Entity) []Topic {
	var score [7]float64
	var index = func(t Topic) int {
		for i, x := range Topics {
			if x == t {
				return i
			}
		}
		return -1
	}
	totalFactor := 0.0
	ai := false
	var used []uint8
	for _, m := range members {
		factor := 1.0
		if m.Duplicate {
			factor = wDuplicate
		}
		totalFactor += factor
		title, text := clip(m.Title, entTitleBytes), clip(m.Text, entTextBytes)
		pts := map[int]int{}
		topicVocab.add(pts, title, topicTitleStrong, topicTitleWeak, &used)
		topicVocab.add(pts, text, topicTextStrong, topicTextWeak, &used)
		for id, p := range pts {
			score[index(topicVocab.topics[id])] += factor * float64(p)
		}
		if !ai && LooksLikeAI(title, text, nil) {
			ai = true
		}
	}
	if totalFactor > 0 {
		for i := range score {
			score[i] /= totalFactor // a story of ten members is no more about its topic than one of one
		}
	}
	top := 0.0
	for _, e := range ents {
		top = max(top, e.Weight)
	}
	for _, e := range ents {
		if top <= 0 {
			break
		}
		w := topicEntityPoints * e.Weight / top
		switch e.Kind {
		case KindChip:
			score[index(TopicChips)] += w
		case KindRegulator:
			score[index(TopicPolicy)] += w
		case KindFramework:
			score[index(TopicOpenSource)] += w / 3
		case KindModel:
			score[index(TopicModels)] += w / 3
		case KindProduct:
			score[index(TopicProducts)] += w / 3
		}
		if e.Kind != KindOther {
			ai = true
		}
	}
	for _, e := range ents {
		// A benchmark's name says what the word "benchmark" would.
		if t, ok := entityTopics[e.Key]; ok && top > 0 {
			score[index(t)] += topicTitleStrong * e.Weight / top
		}
	}
	// On a tie the more specific topic wins: a chip, a law or an attack
	// says more than "launches" or "raises", and models-research is where
	// everything about AI could go.
	first, second := -1, -1
	for _, i := range topicTieOrder {
		s := score[i]
		switch {
		case s <= 0:
		case first < 0 || s > score[first]:
			first, second = i, first
		case second < 0 || s > score[second]:
			second = i
		}
	}
	if first < 0 {
		if ai {
			return []Topic{TopicModels}
		}
		return nil
	}
	out := []Topic{Topics[first]}
	if second >= 0 && score[second] >= secondTopicShare*score[first] {
		out = append(out, Topics[second])
	}
	return out
}

// add records in pts the points of every phrase found in s, keeping for
// each phrase the best it scored in any field. A word scores once per
// topic: "language models" is one phrase of models-research, not also the
// word "models". used is scratch space: a bit per topic for each word.
func (m topicMatcher) add(pts map[int]int, s string, strongPts, weakPts int, used *[]uint8) {
	if strings.TrimSpace(s) == "" {
		return
	}
	toks := tokenize(s)
	u := slices.Grow((*used)[:0], len(toks))[:len(toks)]
	clear(u)
	*used = u
	for i := range toks {
		exact, prefix := m.vocab.candidates(toks[i].lower)
		ids := append(append([]int(nil), exact...), prefix...)
		// The longest phrase first, so that it takes its words.
		slices.SortStableFunc(ids, func(a, b int) int { return len(m.vocab.terms[b].words) - len(m.vocab.terms[a].words) })
		for _, id := range ids {
			bit := uint8(1) << m.topicIndex[id]
			if u[i]&bit != 0 || !m.vocab.terms[id].matchAt(toks, i) {
				continue
			}
			for j := i; j < i+len(m.vocab.terms[id].words); j++ {
				u[j] |= bit
			}
			p := weakPts
			if m.strong[id] {
				p = strongPts
			}
			pts[id] = max(pts[id], p)
		}
	}
}

// topicTieOrder is the index in Topics of each topic, most specific first:
// chips, policy, safety, business, open source, products, models.
var topicTieOrder = []int{1, 2, 6, 3, 5, 4, 0}

// entityTopics are lexicon entries that say a topic whatever their kind:
// a benchmark is research.
var entityTopics = map[string]Topic{
	"swe-bench": TopicModels, "arc-agi": TopicModels, "mmlu": TopicModels,
	"humanitys-last-exam": TopicModels, "arxiv": TopicModels,
}

var topicNames = map[Topic]string{
	TopicModels:     "Models and research",
	TopicChips:      "Chips and hardware",
	TopicPolicy:     "Policy and regulation",
	TopicBusiness:   "Business and funding",
	TopicProducts:   "Products and launches",
	TopicOpenSource: "Open source",
	TopicSafety:     "Safety and security",
}

// TopicName is how pages name a topic; the slug itself for an unknown one.
func TopicName(t Topic) string {
	if n, ok := topicNames[t]; ok {
		return n
	}
	return string(t)
}

// TopicBySlug returns the topic whose slug is slug.
func TopicBySlug(slug string) (Topic, bool) {
	for _, t := range Topics {
		if string(t) == slug {
			return t, true
		}
	}
	return "", false
}
