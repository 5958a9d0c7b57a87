package news

import (
	"slices"
	"strings"
	"testing"
)

// Real headlines from ../shared/data/ai-news-items.jsonl.gz, each labelled
// by hand with the topic a reader would file it under.
var topicHeadlines = []struct {
	title string
	want  Topic
}{
	{"iOS 26.2 fixes 20 security vulnerabilities, 2 actively exploited", TopicSafety},
	{"Generative language modeling for automated theorem proving", TopicModels},
	{"Evaluating potential cybersecurity threats of advanced AI", TopicSafety},
	{"Nvidia and OpenAI abandon unfinished $100B deal in favour of $30B investment", TopicBusiness},
	{"Critical vulnerability in LangChain – CVE-2025-68664", TopicSafety},
	{"Supreme Court Sides with Cox in Copyright Fight over Pirated Music", TopicPolicy},
	{"Apple releases open-source model that instantly turns 2D photos into 3D views", TopicOpenSource},
	{"Introducing Codex", TopicProducts},
	{"A Primer on the EU AI Act: What It Means for AI Providers and Deployers", TopicPolicy},
	{"OpenAI closes funding round at an $852B valuation", TopicBusiness},
	{"Introducing web search on the Anthropic API", TopicProducts},
	{"OpenAI’s commitment to child safety: adopting safety by design principles", TopicSafety},
	{"Google releases its new Google Sans Flex font as open source", TopicOpenSource},
	{"Empowering defenders through our Cybersecurity Grant Program", TopicSafety},
	{"1M context is now generally available for Opus 4.6 and Sonnet 4.6", TopicProducts},
	{"OpenAI raises $110B on $730B pre-money valuation", TopicBusiness},
	{"Seedance 1.5 pro: A Native Audio-Visual Joint Generation Foundation Model", TopicModels},
	{"Deliberative alignment: reasoning enables safer language models", TopicSafety},
	{"Claude is now available in Europe", TopicProducts},
	{"FACTS Grounding: A new benchmark for evaluating the factuality of large language models", TopicModels},
	{"Why language models hallucinate", TopicModels},
	{"Seedance 2.0 Official Launch", TopicProducts},
	{"New models and developer products announced at DevDay", TopicProducts},
	{"GraphCast: AI model for faster and more accurate global weather forecasting", TopicModels},
	{"Qwen3.6-27B: Flagship-Level Coding in a 27B Dense Model", TopicModels},
	{"Open Source Is Not About You (2018)", TopicOpenSource},
	{"Floci – A free, open-source local AWS emulator", TopicOpenSource},
	{"Towards Monosemanticity: Decomposing Language Models With Dictionary Learning", TopicModels},
	{"OpenAI’s API now available with no waitlist", TopicProducts},
	{"Shai Hulud launches second supply-chain attack", TopicSafety},
	{"New laws to make it easier to cancel subscriptions and get refunds", TopicPolicy},
	{"ASML unveils EUV light source advance that could yield 50% more chips by 2030", TopicChips},
	{"Cursor Acquires Graphite", TopicBusiness},
	{"Anthropic raises $13B Series F at $183B post-money valuation", TopicBusiness},
	{"Apple M5 chip", TopicChips},
	{"Our eighth generation TPUs: two chips for the agentic era", TopicChips},
	{"Nvidia DGX Spark: great hardware, early days for the ecosystem", TopicChips},
	{"America’s semiconductor boom [video]", TopicChips},
	{"Yann LeCun raises $1B to build AI that understands the physical world", TopicBusiness},
	{"Netflix to Acquire Warner Bros", TopicBusiness},
}

func TestClassifyTopicsRealHeadlines(t *testing.T) {
	wrong := 0
	for _, tt := range topicHeadlines {
		members := []Member{{Title: tt.title}}
		got := ClassifyTopics(members, ExtractEntities(members, 8))
		if len(got) == 0 || got[0] != tt.want {
			wrong++
			t.Errorf("%q: got %v, want %s first", tt.title, got, tt.want)
		}
		if len(got) > 2 {
			t.Errorf("%q: %d topics", tt.title, len(got))
		}
	}
	t.Logf("%d of %d headlines filed under the expected first topic", len(topicHeadlines)-wrong, len(topicHeadlines))
}

func TestClassifyTopicsSecondTopicNeedsSupport(t *testing.T) {
	tests := []struct {
		name    string
		members []Member
		want    []Topic
	}{
		{"one clear topic", []Member{{Title: "Anthropic raises $13B Series F at $183B valuation", Text: "The round was led by investors."}}, []Topic{TopicBusiness}},
		{"two real topics", []Member{
			{Title: "Nvidia raises its stake in chip startup", Text: "The GPU maker invested $2B in the semiconductor firm's funding round."},
		}, []Topic{TopicBusiness, TopicChips}},
		{"a passing word does not add a topic", []Member{
			{Title: "Lawmakers pass AI regulation bill", Text: "The legislation regulates frontier labs; a new app was mentioned."},
		}, []Topic{TopicPolicy}},
	}
	for _, tt := range tests {
		got := ClassifyTopics(tt.members, ExtractEntities(tt.members, 8))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestClassifyTopicsFallbackAndEntities(t *testing.T) {
	// AI news that no rule matches is still filed somewhere.
	ai := []Member{{Title: "Thoughts on Claude", Text: "Some musings."}}
	if got := ClassifyTopics(ai, ExtractEntities(ai, 8)); !slices.Equal(got, []Topic{TopicModels}) {
		t.Errorf("AI news with no topic words: got %v, want the models-research fallback", got)
	}
	// A story that is neither AI news nor matches any rule gets none.
	if got := ClassifyTopics([]Member{{Title: "Thoughts on gardening", Text: "Some musings."}}, nil); len(got) != 0 {
		t.Errorf("not AI news: got %v, want none", got)
	}
	// Entity kinds alone decide when the words say nothing.
	chips := []Entity{{Key: "h100", Name: "Nvidia H100", Kind: KindChip, Weight: 3}}
	if got := ClassifyTopics([]Member{{Title: "A look at the H100"}}, chips); len(got) == 0 || got[0] != TopicChips {
		t.Errorf("a chip entity: got %v, want chips-hardware", got)
	}
	regs := []Entity{{Key: "ftc", Name: "FTC", Kind: KindRegulator, Weight: 3}}
	if got := ClassifyTopics([]Member{{Title: "The FTC and OpenAI"}}, regs); len(got) == 0 || got[0] != TopicPolicy {
		t.Errorf("a regulator entity: got %v, want policy-regulation", got)
	}
	if got := ClassifyTopics(nil, nil); len(got) != 0 {
		t.Errorf("no members: got %v", got)
	}
	// Duplicates count less: two near-copies about safety do not outvote the original.
	dup := []Member{
		{Title: "Anthropic raises $30B in new funding round"},
		{Title: "Jailbreak found in model safety filter", Duplicate: true},
		{Title: "Jailbreak found in model safety filter", Duplicate: true},
	}
	if got := ClassifyTopics(dup, nil); len(got) == 0 || got[0] != TopicBusiness {
		t.Errorf("duplicates outvote the original: %v", got)
	}
}

func TestTopicNameAndSlug(t *testing.T) {
	names := map[string]bool{}
	for _, topic := range Topics {
		n := TopicName(topic)
		if n == "" || n == string(topic) || names[n] {
			t.Errorf("topic %q: name %q", topic, n)
		}
		names[n] = true
		if got, ok := TopicBySlug(string(topic)); !ok || got != topic {
			t.Errorf("TopicBySlug(%q) = %q, %v", topic, got, ok)
		}
	}
	if TopicName(TopicChips) != "Chips and hardware" {
		t.Errorf("TopicName(chips) = %q", TopicName(TopicChips))
	}
	for _, bad := range []string{"", "chips", "Models-Research", "models-research "} {
		if _, ok := TopicBySlug(bad); ok {
			t.Errorf("TopicBySlug(%q) found a topic", bad)
		}
	}
}

func TestAudiencesForRules(t *testing.T) {
	ent := func(key, name string, kind EntityKind) Entity {
		return Entity{Key: key, Name: name, Kind: kind, Weight: 1}
	}
	tests := []struct {
		name    string
		topics  []Topic
		ents    []Entity
		first   string
		named   string // an entity name the first reason must hold
		anyWho  string // an audience that must be among them ("" for none)
		notWho  string // one that must not
		maxSize int
	}{
		{"open source", []Topic{TopicOpenSource}, []Entity{ent("vllm", "vLLM", KindFramework)}, AudienceDevelopers, "vLLM", "", AudiencePolicymakers, 3},
		{"research", []Topic{TopicModels}, []Entity{ent("deepseek-v4", "DeepSeek-V4", KindModel), ent("deepseek", "DeepSeek", KindOrg)}, AudienceResearchers, "DeepSeek-V4", "", AudienceInvestors, 3},
		{"security", []Topic{TopicSafety}, []Entity{ent("copilot", "Copilot", KindProduct)}, AudienceEnterprise, "Copilot", "", "", 3},
		{"a vulnerability in a framework", []Topic{TopicSafety}, []Entity{ent("langchain", "LangChain", KindFramework)}, AudienceEnterprise, "", AudienceDevelopers, AudienceResearchers, 3},
		{"funding", []Topic{TopicBusiness}, []Entity{ent("anthropic", "Anthropic", KindOrg)}, AudienceInvestors, "Anthropic", "", AudienceDevelopers, 3},
		{"policy", []Topic{TopicPolicy}, []Entity{ent("eu-ai-act", "EU AI Act", KindRegulator), ent("european-commission", "European Commission", KindRegulator)}, AudiencePolicymakers, "EU AI Act", "", "", 3},
		{"chips", []Topic{TopicChips}, []Entity{ent("nvidia", "Nvidia", KindOrg), ent("h100", "Nvidia H100", KindChip)}, AudienceDevelopers, "Nvidia H100", AudienceInvestors, "", 3},
		{"regulator without the topic", []Topic{TopicProducts}, []Entity{ent("ftc", "FTC", KindRegulator)}, "", "", AudiencePolicymakers, "", 3},
		{"enterprise products", []Topic{TopicProducts}, []Entity{ent("azure", "Azure", KindProduct), ent("bedrock", "Amazon Bedrock", KindProduct)}, AudienceDevelopers, "Azure", AudienceEnterprise, "", 3},
	}
	for _, tt := range tests {
		got := AudiencesFor(tt.topics, tt.ents)
		if len(got) < 1 || len(got) > tt.maxSize {
			t.Errorf("%s: %d audiences: %+v", tt.name, len(got), got)
			continue
		}
		if tt.first != "" && got[0].Who != tt.first {
			t.Errorf("%s: first %q, want %q (%+v)", tt.name, got[0].Who, tt.first, got)
		}
		if tt.named != "" && !strings.Contains(got[0].Reason, tt.named) {
			t.Errorf("%s: reason %q does not name %q", tt.name, got[0].Reason, tt.named)
		}
		var whos []string
		for _, a := range got {
			whos = append(whos, a.Who)
			if a.Reason == "" || len(a.Reason) > maxReason {
				t.Errorf("%s: reason %q", tt.name, a.Reason)
			}
		}
		if tt.anyWho != "" && !slices.Contains(whos, tt.anyWho) {
			t.Errorf("%s: %v lacks %q", tt.name, whos, tt.anyWho)
		}
		if tt.notWho != "" && slices.Contains(whos, tt.notWho) {
			t.Errorf("%s: %v holds %q", tt.name, whos, tt.notWho)
		}
	}
}

func TestAudiencesForReasonsAreShortAndDeterministic(t *testing.T) {
	var ents []Entity
	for i, n := range []string{"A Very Long Framework Name Number One", "Another Very Long Framework Name", "Yet Another Long Framework Name", "A Fourth Framework"} {
		ents = append(ents, Entity{Key: string(rune('a' + i)), Name: n, Kind: KindFramework, Weight: 1})
	}
	first := AudiencesFor([]Topic{TopicOpenSource, TopicModels}, ents)
	for _, a := range first {
		if len(a.Reason) > maxReason || strings.Contains(a.Reason, "A Fourth Framework") {
			t.Errorf("reason too long or names more than three: %q", a.Reason)
		}
	}
	for range 5 {
		if again := AudiencesFor([]Topic{TopicOpenSource, TopicModels}, ents); !slices.Equal(again, first) {
			t.Fatalf("not deterministic: %+v vs %+v", first, again)
		}
	}
	if got := AudiencesFor(nil, nil); len(got) != 0 {
		t.Errorf("nothing to go on: got %+v", got)
	}
}
