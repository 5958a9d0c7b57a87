package news

import (
	"slices"
	"strings"
	"testing"
)

func keysOf(ents []Entity) []string {
	var ks []string
	for _, e := range ents {
		ks = append(ks, e.Key)
	}
	return ks
}

func entityByKey(ents []Entity, key string) (Entity, bool) {
	for _, e := range ents {
		if e.Key == key {
			return e, true
		}
	}
	return Entity{}, false
}

func TestExtractEntitiesAliasesMeetAtTheFamilyKey(t *testing.T) {
	tests := []struct {
		title   string
		version string // the version's own key, "" for none
	}{
		{"DeepSeek releases a new model", ""},
		{"DeepSeek's new model tops the charts", ""},
		{"DeepSeek-V4 optimized for Huawei Ascend", "deepseek-v4"},
		{"Benchmarks of deepseek v4 on consumer GPUs", "deepseek-v4"},
		{"DeepSeek V3.2-Exp cuts API prices", "deepseek-v3.2-exp"},
		{"OpenAI ships GPT‑5 to all users", "gpt-5"}, // a non-breaking hyphen, as OpenAI writes it
		{"Gemini 3 Pro is here", "gemini-3-pro"},
		{"Qwen3-Coder: agentic coding in the world", "qwen-3-coder"},
		{"Claude Opus 4.5 tops SWE-bench", "claude-opus-4.5"},
		{"What o3 and o4-mini can do", "o3"},
	}
	family := map[string]string{"deepseek": "deepseek", "gpt": "gpt", "gemini": "gemini", "qwen": "qwen", "claude": "claude", "o3": "o-series"}
	for _, tt := range tests {
		ents := ExtractEntities([]Member{{Title: tt.title}}, 10)
		keys := keysOf(ents)
		want := "deepseek"
		for prefix, fam := range family {
			if strings.HasPrefix(tt.version, prefix) {
				want = fam
			}
		}
		if !slices.Contains(keys, want) {
			t.Errorf("%q: keys %v, want family %q", tt.title, keys, want)
		}
		if tt.version != "" {
			e, ok := entityByKey(ents, tt.version)
			if !ok || e.Kind != KindModel {
				t.Errorf("%q: keys %v, want version %q of kind model", tt.title, keys, tt.version)
			}
			if fam, _ := entityByKey(ents, want); ok && e.Weight >= fam.Weight {
				t.Errorf("%q: version %v weighs at least its family %v", tt.title, e, fam)
			}
		}
	}
}

func TestEntityKey(t *testing.T) {
	tests := []struct{ name, want string }{
		{"DeepSeek", "deepseek"},
		{"DeepSeek's", "deepseek"},
		{"DeepSeek-V4", "deepseek"},
		{"deepseek v4", "deepseek"},
		{"DeepSeek’s", "deepseek"},
		{"GPT-4o", "gpt"},
		{"Qwen3", "qwen"},
		{"Claude", "claude"},
		{"Anthropic", "anthropic"},
		{"Google DeepMind", "deepmind"},
		{"EU AI Act", "eu-ai-act"},
		{"llama.cpp", "llama-cpp"},
		{"Sam Altman", "sam-altman"},
		{"Stanford University", "stanford"},
		{"Zorblax Robotics", "zorblax-robotics"},
		{"Anthropic's Claude", "anthropic-claude"}, // two names are not one
		{"", ""},
		{"\xff\xfe", ""},
	}
	for _, tt := range tests {
		if got := EntityKey(tt.name); got != tt.want {
			t.Errorf("EntityKey(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestExtractEntitiesModelNamesItsMakerLess(t *testing.T) {
	ents := ExtractEntities([]Member{{Title: "Claude learns to use a computer", Text: "The model can now click and type."}}, 10)
	claude, ok1 := entityByKey(ents, "claude")
	anthropic, ok2 := entityByKey(ents, "anthropic")
	if !ok1 || !ok2 || claude.Kind != KindModel || anthropic.Kind != KindOrg || anthropic.Weight >= claude.Weight {
		t.Fatalf("want claude (model) above anthropic (org), got %+v", ents)
	}
	ents = ExtractEntities([]Member{{Title: "Anthropic opens an office in Tokyo"}}, 10)
	if _, ok := entityByKey(ents, "claude"); ok {
		t.Errorf("a story about Anthropic is not about Claude: %+v", ents)
	}
}

func TestExtractEntitiesFalseFriends(t *testing.T) {
	tests := []struct {
		title, text string
		absent      string // a key that must not be found
		present     string // one that must ("" for none)
	}{
		{"Apple pie recipe for autumn", "Bake the apples for an hour.", "apple", ""},
		{"Apple Pie Recipe For Autumn", "", "apple", ""},
		{"Apple unveils its new AI features for Siri", "", "", "apple"},
		{"Gemini horoscope: your week ahead", "Gemini, the stars are aligned for you this week.", "gemini", ""},
		{"Gemini: Your Weekly Stars", "Love and money look good for Gemini this week.", "gemini", ""},
		{"Google's Gemini 3 beats GPT-5 on reasoning", "", "", "gemini"},
		{"Gemini gets a new image model", "Google's assistant can now edit photos with a language model.", "", "gemini"},
		{"A meta-analysis of sleep studies", "We pooled the meta-data of forty trials.", "meta", ""},
		{"Meta-analysis finds coffee is fine", "", "meta", ""},
		{"Meta releases Llama 4 with open weights", "", "", "meta"},
		{"He broke his arm skiing", "The arm healed in six weeks.", "arm", ""},
		{"New Robot Arm Folds Laundry", "", "arm", ""},
		{"Arm unveils its first in-house chip", "", "", "arm"},
		{"The letter Phi in mathematics", "Phi is the golden ratio, 1.618.", "phi", ""},
		{"Microsoft's Phi-4 small language model", "", "", "phi"},
		{"I finally grok monads", "It took me years to grok them.", "grok", ""},
		{"Grok 4 launches with a voice mode", "", "", "grok"},
		{"The llama farm down the road", "Our Llama and two alpacas graze in the field.", "llama", ""},
		{"Claude Monet's water lilies go on show", "", "claude", ""},
		{"Windsurf lessons on the lake", "", "", ""},
		{"Amazon rainforest fires rise again", "", "amazon", ""},
	}
	for _, tt := range tests {
		ents := ExtractEntities([]Member{{Title: tt.title, Text: tt.text}}, 20)
		keys := keysOf(ents)
		if tt.absent != "" && slices.Contains(keys, tt.absent) {
			t.Errorf("%q: found %q in %v", tt.title, tt.absent, keys)
		}
		if tt.present != "" && !slices.Contains(keys, tt.present) {
			t.Errorf("%q: %q missing from %v", tt.title, tt.present, keys)
		}
	}
}

func TestExtractEntitiesCapitalisedNamesNeedATitleOrTwoMembers(t *testing.T) {
	text := "Engineers at Zorblax Robotics said the model was trained on their own data."
	other := Member{Title: "A new model for warehouse robots", Text: "The system picks boxes."}
	tests := []struct {
		name    string
		members []Member
		want    bool
	}{
		{"one member's text", []Member{{Title: "A new model for warehouse robots", Text: text}, other}, false},
		{"two members' texts", []Member{{Title: "A new model for warehouse robots", Text: text}, {Title: "Warehouse robots learn to pick", Text: text}}, true},
		{"a title", []Member{{Title: "Zorblax Robotics trains a model for warehouses", Text: "The system picks boxes."}}, true},
		{"the same member twice", []Member{{Title: "A model for robots", Text: text + " " + text}}, false},
	}
	for _, tt := range tests {
		ents := ExtractEntities(tt.members, 10)
		e, got := entityByKey(ents, "zorblax-robotics")
		if got != tt.want {
			t.Errorf("%s: found zorblax-robotics = %v, want %v (%v)", tt.name, got, tt.want, keysOf(ents))
		}
		if got && e.Kind != KindOther {
			t.Errorf("%s: kind %q, want other", tt.name, e.Kind)
		}
	}
}

func TestExtractEntitiesSentenceStartsAreNotNames(t *testing.T) {
	ents := ExtractEntities([]Member{
		{Title: "Researchers Find Faster Training Recipes", Text: "Researchers found that training runs faster. Results hold at scale."},
		{Title: "Faster training, says a new study", Text: "Results were checked twice. Researchers agree."},
	}, 10)
	for _, e := range ents {
		if e.Kind == KindOther {
			t.Errorf("a capitalised first word taken for a name: %+v", e)
		}
	}
}

func TestExtractEntitiesWeights(t *testing.T) {
	members := []Member{
		{Title: "Nvidia posts record revenue", Text: "The quarter was driven by demand from OpenAI and others."},
		{Title: "Nvidia beats estimates", Text: "Shares rose after hours."},
		{Title: "Record quarter for the chip maker", Text: "Nvidia said demand stays strong; Microsoft was its largest customer.", Duplicate: true},
	}
	ents := ExtractEntities(members, 10)
	if len(ents) < 3 || ents[0].Key != "nvidia" {
		t.Fatalf("want nvidia first, got %+v", ents)
	}
	openai, _ := entityByKey(ents, "openai")
	msft, _ := entityByKey(ents, "microsoft")
	if openai.Weight <= msft.Weight {
		t.Errorf("a mention in a duplicate weighs as much as one in an original: openai %v, microsoft %v", openai.Weight, msft.Weight)
	}
	titled := ExtractEntities([]Member{{Title: "Cerebras files for an IPO", Text: "Groq was not mentioned."}}, 10)
	c, _ := entityByKey(titled, "cerebras")
	g, _ := entityByKey(titled, "groq")
	if c.Weight <= g.Weight || titled[0].Key != "cerebras" {
		t.Errorf("a title mention does not outweigh a text one: %+v", titled)
	}
	for i := 1; i < len(ents); i++ {
		a, b := ents[i-1], ents[i]
		if a.Weight < b.Weight || a.Weight == b.Weight && a.Key > b.Key {
			t.Errorf("not sorted by weight then key: %+v before %+v", a, b)
		}
	}
	// Lexicon entries beat capitalised names written as often.
	mixed := ExtractEntities([]Member{{Title: "Anthropic and Zorblax sign a deal"}}, 10)
	if mixed[0].Key != "anthropic" {
		t.Errorf("a capitalised name outweighs a lexicon entry: %+v", mixed)
	}
}

func TestExtractEntitiesMaxAndDeterminism(t *testing.T) {
	members := []Member{
		{Title: "OpenAI, Anthropic, Google, Meta and xAI sign a pledge", Text: "Microsoft, Nvidia, Amazon and Apple joined; DeepSeek and Mistral did not."},
		{Title: "Labs sign the EU Code of Practice", Text: "The European Commission welcomed OpenAI and Anthropic."},
	}
	first := ExtractEntities(members, 100)
	if len(first) < 10 {
		t.Fatalf("want many entities, got %v", keysOf(first))
	}
	for _, max := range []int{0, 1, 3, 5} {
		got := ExtractEntities(members, max)
		if len(got) > max {
			t.Errorf("max %d: got %d", max, len(got))
		}
		if !slices.Equal(got, first[:min(max, len(first))]) {
			t.Errorf("max %d: not the first of the full list: %v", max, keysOf(got))
		}
	}
	for range 5 {
		if again := ExtractEntities(members, 100); !slices.Equal(again, first) {
			t.Fatalf("not deterministic:\n%v\n%v", first, again)
		}
	}
}

func TestExtractEntitiesOddInput(t *testing.T) {
	huge := strings.Repeat("OpenAI and Zorblax Robotics say GPT-5 ", 30000) // about 1 MB
	tests := []struct {
		name    string
		members []Member
	}{
		{"none", nil},
		{"empty", []Member{{}}},
		{"invalid UTF-8", []Member{{Title: "Deep\xffSeek \xc3 V4 \xed\xa0\x80 Claude", Text: "\xff\xfe\xfd OpenAI's \x80"}}},
		{"huge text", []Member{{Title: "A long one", Text: huge}}},
		{"huge title", []Member{{Title: huge}}},
		{"Chinese", []Member{{Title: "AI日报：xAI发布Grok4.20；美团上线AI搜索产品“问小团”", Text: "深度求索发布DeepSeek-V4，华为昇腾适配。"}}},
		{"punctuation only", []Member{{Title: "'''''''---...:::", Text: "’s ’s ’s"}}},
		{"versions only", []Member{{Title: "GPT-5-5-5-5-5 o3o3 Qwen3.5.5.5.5"}}},
	}
	for _, tt := range tests {
		ents := ExtractEntities(tt.members, 20)
		for _, e := range ents {
			if e.Key == "" || e.Name == "" || e.Weight <= 0 {
				t.Errorf("%s: bad entity %+v", tt.name, e)
			}
		}
	}
	ents := ExtractEntities([]Member{{Title: "A long one", Text: huge}}, 20)
	if e, ok := entityByKey(ents, "openai"); !ok || e.Weight > wTextMax {
		t.Errorf("huge text: openai %+v; a text's mentions are bounded", e)
	}
}

// The main entity of real headlines from ../shared/data/ai-news-items.jsonl.gz.
func TestExtractEntitiesRealHeadlines(t *testing.T) {
	tests := []struct{ title, want string }{
		{"Boosting the customer retail experience with GPT-4o mini", "gpt"},
		{"AlphaFold 3 predicts the structure and interactions of all of life’s molecules", "alphafold"},
		{"Claude Opus 4.7", "claude"},
		{"Introducing ChatGPT search", "chatgpt"},
		{"Start building with Gemini 2.0 Flash and Flash-Lite", "gemini"},
		{"Olmo 3: Charting a path through the model flow to lead open-source AI", "olmo"},
		{"Try featured notebooks on selected topics in NotebookLM", "notebooklm"},
		{"Nvidia contacted Anna's Archive to access books", "nvidia"},
		{"The Claude Code Leak", "claude-code"},
		{"Zoom Partnership and Investment in Anthropic", "anthropic"},
		{"Introducing OpenAI", "openai"},
		{"Mistral raises 1.7B€, partners with ASML", "asml"},
		{"Yann LeCun raises $1B to build AI that understands the physical world", "yann-lecun"},
		{"Cursor Acquires Graphite", "cursor"},
		{"Our eighth generation TPUs: two chips for the agentic era", "tpu"},
		{"Critical vulnerability in LangChain – CVE-2025-68664", "langchain"},
		{"Qwen3.6-27B: Flagship-Level Coding in a 27B Dense Model", "qwen"},
		{"AI日报：Kimi K2.6模型发布；腾讯QClaw海外版上线；爱奇艺回应“签约AI演员”", "kimi"},
		{"Introducing Triton: Open-source GPU programming for neural networks", "triton"},
		{"A Primer on the EU AI Act: What It Means for AI Providers and Deployers", "eu-ai-act"},
		{"Anthropic raises $13B Series F at $183B post-money valuation", "anthropic"},
		{"Seedance 1.5 pro: A Native Audio-Visual Joint Generation Foundation Model", "seedance"},
	}
	for _, tt := range tests {
		ents := ExtractEntities([]Member{{Title: tt.title}}, 5)
		if len(ents) == 0 || ents[0].Key != tt.want {
			t.Errorf("%q: got %v, want %q first", tt.title, keysOf(ents), tt.want)
		}
	}
}

// The lexicon's own consistency: unique keys, makers that exist, aliases
// that name one entry.
func TestLexiconConsistent(t *testing.T) {
	if len(lexicon) < 250 {
		t.Errorf("lexicon has %d entries, want 250 or more", len(lexicon))
	}
	keys := map[string]bool{}
	for _, e := range lexicon {
		if keys[e.key] {
			t.Errorf("key %q twice", e.key)
		}
		keys[e.key] = true
		if e.key != strings.ToLower(e.key) || strings.ContainsAny(e.key, " _") || e.name == "" {
			t.Errorf("entry %q: keys are lower-case slugs and every entry has a name", e.key)
		}
	}
	for _, e := range lexicon {
		if e.maker != "" && !keys[e.maker] {
			t.Errorf("entry %q: maker %q not in the lexicon", e.key, e.maker)
		}
	}
	seen := map[string]string{}
	for _, a := range lexIdx.aliases {
		phrase := strings.Join(a.words, " ")
		if a.needVersion {
			phrase += "#"
		}
		if prev, ok := seen[phrase]; ok && prev != lexicon[a.entry].key {
			t.Errorf("alias %q names both %q and %q", phrase, prev, lexicon[a.entry].key)
		}
		seen[phrase] = lexicon[a.entry].key
	}
}

func FuzzExtractEntities(f *testing.F) {
	for _, s := range []string{"DeepSeek-V4 on Huawei Ascend", "Claude Opus 4.5", "o3-mini", "\xff\xfe", "Apple pie", "GPT‑5.1-Codex-Max", "Qwen3.5.5"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, title, text string) {
		ents := ExtractEntities([]Member{{Title: title, Text: text}, {Title: text, Duplicate: true}}, 10)
		if len(ents) > 10 {
			t.Fatalf("%d entities", len(ents))
		}
		for _, e := range ents {
			if e.Key == "" || e.Weight <= 0 {
				t.Fatalf("bad entity %+v", e)
			}
		}
		_ = EntityKey(title)
	})
}

func BenchmarkExtractEntities(b *testing.B) {
	titles := []string{
		"DeepSeek V4 optimized for Huawei Ascend chips",
		"China's DeepSeek-V4 models bypass US restrictions with Huawei hardware",
		"DeepSeek releases V4 with open weights under an MIT license",
		"DeepSeek's new model runs on Ascend 910C, not Nvidia H100",
		"Huawei says Ascend clusters trained DeepSeek V4",
		"DeepSeek V4 tops open-weight leaderboards, rivals GPT-5 and Claude Opus 4.5",
		"What DeepSeek V4 means for Nvidia",
		"Analysts weigh DeepSeek-V4's impact on export controls",
		"DeepSeek V4: a technical look at the mixture-of-experts design",
		"Hands-on with DeepSeek V4 in vLLM and llama.cpp",
	}
	text := "The Hangzhou-based lab DeepSeek said on Friday that its V4 family was optimized for Huawei's Ascend " +
		"processors, a sign that Chinese AI developers are reducing their reliance on Nvidia after US export controls. " +
		"The models are released under an MIT license on Hugging Face, and the company published a technical report " +
		"describing the training run. Analysts at Bernstein said the move would matter to Alibaba, Tencent and ByteDance, " +
		"which are building their own clusters. The Commerce Department declined to comment. "
	members := make([]Member, len(titles))
	for i, t := range titles {
		members[i] = Member{Article: int64(i + 1), Title: t, Text: strings.Repeat(text, 4), Duplicate: i == 9}
	}
	b.ReportAllocs()
	for b.Loop() {
		ExtractEntities(members, 12)
	}
}
