package news

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The AI filter keeps, from general technology outlets (sources marked
// filter="ai"), the items that are about artificial intelligence. It is a
// keyword filter until a trained classifier exists: explainable, fast and
// measured on hand-labelled headlines (relevance_test.go and
// testdata/relevance/README.md have the figures). AIRelevance (relevance.go)
// is the same decision as a score in [0, 1].

// AIThreshold is the score from which an item counts as AI news: one strong
// term in the title or categories, or a weak one there backed by another hit,
// or enough evidence in the lead of the text.
const AIThreshold = 4

// Points per distinct term and field. The title and the categories are what
// the item is about; the text may mention AI in passing, so it counts half.
const (
	titleStrong = 4
	titleWeak   = 2
	textStrong  = 2
	textWeak    = 1
	// Only the lead of the text is read: it says what the article is about,
	// and it bounds the work per item.
	maxTextBytes = 4096
)

type termStrength uint8

const (
	weak termStrength = iota
	strong
)

// caseRule guards the terms that are also ordinary words or names.
type caseRule uint8

const (
	anyCase   caseRule = iota
	notTitle           // "AI" and "ai", not "Ai" (Ai Weiwei)
	upperOnly          // "RAG", not "rag"
	mixedCase          // "MoE": a capital after the first letter, and a small letter
)

type aiTerm struct {
	phrase   string // lower-case words; see compileTerm for "*" and "#"
	strength termStrength
	rule     caseRule
}

// aiTerms is the vocabulary, in one place. It was chosen from the names and
// concepts that AI news headlines of 2023-2026 are built on (labs, models,
// products, research terms, conferences, tools and people), each checked
// against its false friends in general news:
//   - strong terms are unambiguous in a headline: one is enough;
//   - weak terms are AI-related but also mean something else (Gemini the star
//     sign, Claude the first name, llamas, Mistral the wind, GPUs for games,
//     robots in factories): they need a second hit.
//
// Matching is on whole words, case-insensitive unless a rule says otherwise.
// In a phrase, "word*" matches any word starting with "word", "word#" matches
// "word" directly followed by a number (gemini3), and "#" alone matches a
// number (Claude 3.5). Phrases that already contain the word "AI"
// ("Scale AI", "AI Act") need no entry: "AI" matches on its own.
var aiTerms = []aiTerm{
	// The field itself.
	{"ai", strong, notTitle},
	{"artificial intelligence", strong, anyCase},
	{"artificial general intelligence", strong, anyCase},
	{"agi", strong, notTitle},
	{"genai", strong, anyCase},
	{"machine learning", strong, anyCase},
	{"deep learning", strong, anyCase},
	{"reinforcement learning", strong, anyCase},
	{"neural net*", strong, anyCase},
	{"machine intelligence", strong, anyCase},
	{"machine translation", strong, anyCase},
	{"computer vision", strong, anyCase},
	{"natural language processing", strong, anyCase},
	{"nlp", strong, anyCase},
	{"superintelligen*", strong, anyCase},
	{"cognitive computing", strong, anyCase},
	{"turing test", strong, anyCase},
	{"ml", weak, upperOnly},
	{"deep rl", strong, anyCase},
	{"supervised learning", strong, anyCase}, // and self-, un-, semi-supervised
	{"self supervised", strong, anyCase},
	{"imitation learning", strong, anyCase},
	{"representation learning", strong, anyCase},
	{"transfer learning", strong, anyCase},
	{"contrastive learning", strong, anyCase},
	{"federated learning", strong, anyCase},
	{"in context learning", strong, anyCase},
	{"q learning", strong, anyCase},
	{"policy gradient*", strong, anyCase},
	{"few shot", strong, anyCase},
	{"zero shot", strong, anyCase},
	{"rl", weak, upperOnly},
	{"neural", weak, anyCase},
	{"algorithm*", weak, anyCase},
	{"data scien*", weak, anyCase},
	{"big data", weak, anyCase},
	{"predictive analytics", weak, anyCase},

	// Models and how they are built.
	{"llm*", strong, anyCase},
	{"slm*", weak, upperOnly},
	{"language model*", strong, anyCase},
	{"foundation model*", strong, anyCase},
	{"frontier model*", strong, anyCase},
	{"reasoning model*", strong, anyCase},
	{"diffusion model*", strong, anyCase},
	{"world model*", strong, anyCase},
	{"multimodal model*", strong, anyCase},
	{"transformer model*", strong, anyCase},
	{"transformer architecture", strong, anyCase},
	{"vision transformer*", strong, anyCase},
	{"mixture of experts", strong, anyCase},
	{"moe", strong, mixedCase}, // "MoE"; "Moe" is a name, "MOE" a ministry
	{"open weight*", strong, anyCase},
	{"model weights", strong, anyCase},
	{"context window*", strong, anyCase},
	{"context engineering", strong, anyCase},
	{"prompt engineering", strong, anyCase},
	{"prompt injection*", strong, anyCase},
	{"system prompt*", strong, anyCase},
	{"large model*", strong, anyCase},
	{"generative model*", strong, anyCase},
	{"reward model*", strong, anyCase},
	{"vision language", strong, anyCase},
	{"human feedback", strong, anyCase},
	{"policy optimization", strong, anyCase},
	{"robot learning", strong, anyCase},
	{"autoencod*", strong, anyCase},
	{"interpretability", strong, anyCase},
	{"superalignment", strong, anyCase},
	{"alignment research", strong, anyCase},
	{"tool calling", strong, anyCase},
	{"function calling", strong, anyCase},
	{"coding agent*", strong, anyCase},
	{"coding assistant*", strong, anyCase},
	{"coding model*", strong, anyCase},
	{"speculative decoding", strong, anyCase},
	{"multiagent", strong, anyCase},
	{"chatbot*", strong, anyCase},
	{"agentic", strong, anyCase},
	{"multi agent*", strong, anyCase},
	{"vibe cod*", strong, anyCase},
	{"rlhf", strong, anyCase},
	{"finetun*", strong, anyCase},
	{"pretrain*", strong, anyCase},
	{"retrieval augmented", strong, anyCase},
	{"vector database*", strong, anyCase},
	{"embedding model*", strong, anyCase},
	{"model context protocol", strong, anyCase},
	{"modelcontextprotocol", strong, anyCase}, // its GitHub organisation
	{"segment anything", strong, anyCase},
	{"responsible scaling", strong, anyCase},
	{"mcp", strong, upperOnly}, // in tech headlines, the Model Context Protocol
	{"lora", weak, anyCase},    // also the LoRa radio
	{"distillation", weak, anyCase},
	{"misalignment", weak, anyCase},
	{"deep research", weak, anyCase},
	{"deepfake*", strong, anyCase},
	{"voice clon*", strong, anyCase},
	{"text to image", strong, anyCase},
	{"text to video", strong, anyCase},
	{"image generat*", strong, anyCase},
	{"video generat*", strong, anyCase},
	{"mechanistic interpretability", strong, anyCase},
	{"rag", strong, upperOnly},   // "rag" is a cloth
	{"fine tun*", weak, anyCase}, // also "a fine-tuned strategy"
	{"pre train*", weak, anyCase},
	{"inference", weak, anyCase},
	{"multimodal", weak, anyCase},
	{"generative", weak, anyCase},
	{"embeddings", weak, anyCase},
	{"tokenizer*", weak, anyCase},
	{"hallucinat*", weak, anyCase},
	{"jailbreak*", weak, anyCase},
	{"red teaming", weak, anyCase},
	{"quantiz*", weak, anyCase},
	{"training data", weak, anyCase},
	{"synthetic data", weak, anyCase},
	{"text to speech", weak, anyCase},
	{"speech recognition", weak, anyCase},
	{"image recognition", weak, anyCase},
	{"facial recognition", weak, anyCase},
	{"face recognition", weak, anyCase},
	{"benchmark*", weak, anyCase},
	{"swe bench*", strong, anyCase}, // the benchmarks models are compared on
	{"mmlu", strong, anyCase},
	{"humaneval", strong, anyCase},
	{"transformer", weak, anyCase}, // also the power grid's
	{"adversarial", weak, anyCase},
	{"agent", weak, anyCase}, // also the FBI's and football's
	{"agents", weak, anyCase},

	// Labs and companies whose business is AI.
	{"openai", strong, anyCase},
	{"open ai", strong, anyCase},
	{"anthropic", strong, anyCase},
	{"deepmind", strong, anyCase},
	{"hugging face", strong, anyCase},
	{"huggingface", strong, anyCase},
	{"xai", strong, anyCase},
	{"deepseek", strong, anyCase},
	{"midjourney", strong, anyCase},
	{"elevenlabs", strong, anyCase},
	{"eleutherai", strong, anyCase},
	{"zhipu", strong, anyCase},
	{"baichuan", strong, anyCase},
	{"cerebras", strong, anyCase},
	{"groq", strong, anyCase},
	{"sambanova", strong, anyCase},
	{"safe superintelligence", strong, anyCase},
	{"cohere", weak, anyCase},
	{"perplexity", weak, anyCase},
	{"mistral", weak, anyCase},
	{"mistralai", strong, anyCase}, // its Hugging Face and GitHub name
	{"minimax", weak, anyCase},
	{"kimi", weak, anyCase},
	{"nvidia", weak, anyCase},

	// Models and products.
	{"gpt*", strong, anyCase},
	{"chatgpt*", strong, anyCase},
	{"dall e", strong, anyCase},
	{"sora #", strong, anyCase},
	{"claude", strong, anyCase}, // see aiVetoes for the other Claudes
	{"claude#", strong, anyCase},
	// Claude's fourth generation, often named without "Claude"; the Opus
	// codec is at 1.x.
	{"opus 4", strong, anyCase},
	{"sonnet 4", strong, anyCase},
	{"gemini #", strong, anyCase},
	{"gemini#", strong, anyCase},
	{"gemini pro", strong, anyCase},
	{"gemini flash", strong, anyCase},
	{"gemini ultra", strong, anyCase},
	{"gemini nano", strong, anyCase},
	{"gemini advanced", strong, anyCase},
	{"gemini app", strong, anyCase},
	{"gemini api", strong, anyCase},
	{"google gemini", strong, anyCase},
	{"llama #", strong, anyCase},
	{"llama#", strong, anyCase},
	{"code llama", strong, anyCase},
	{"mistral #", strong, anyCase},
	{"mixtral", strong, anyCase},
	{"codestral", strong, anyCase},
	{"ministral", strong, anyCase},
	{"magistral", strong, anyCase},
	{"devstral", strong, anyCase},
	{"pixtral", strong, anyCase},
	{"nemotron*", strong, anyCase},
	{"hunyuan*", strong, anyCase},
	{"qwen*", strong, anyCase},
	{"doubao", strong, anyCase},
	{"ernie bot", strong, anyCase},
	{"gemma #", strong, anyCase},
	{"gemma#", strong, anyCase},
	{"kimi k#", strong, anyCase},
	{"minimax m#", strong, anyCase},
	{"glm #", strong, anyCase},
	{"grok", strong, anyCase}, // the verb is rare in headlines, "grokking" is another word
	{"stable diffusion", strong, anyCase},
	{"nano banana", strong, anyCase},
	{"copilot*", strong, anyCase},
	{"apple intelligence", strong, anyCase},
	{"google antigravity", strong, anyCase}, // "antigravity" alone is physics
	{"synthid", strong, anyCase},
	{"alphafold", strong, anyCase},
	{"alphago", strong, anyCase},
	{"alphazero", strong, anyCase},
	{"alphaevolve", strong, anyCase},
	{"alphaproof", strong, anyCase},
	{"ibm watson", strong, anyCase},
	{"alphacode", strong, anyCase},
	{"alphadev", strong, anyCase},
	{"alphageometry", strong, anyCase},
	{"alphaproteo", strong, anyCase},
	{"alphamissense", strong, anyCase},
	{"alphagenome", strong, anyCase},
	{"alphaqubit", strong, anyCase},
	{"alphastar", strong, anyCase},
	{"ernie #", strong, anyCase},
	{"openclaw", strong, anyCase},
	{"gemini", weak, anyCase},
	{"llama", weak, anyCase},
	{"gemma", weak, anyCase},
	{"glm", weak, anyCase},
	{"stargate", weak, anyCase},
	{"sora", weak, anyCase},
	{"bard", weak, anyCase},
	{"codex", weak, anyCase},
	{"veo", weak, anyCase},
	{"imagen", weak, anyCase},
	{"siri", weak, anyCase},
	{"alexa", weak, anyCase},
	{"voice assistant*", weak, anyCase},

	// Tools of the trade.
	{"pytorch", strong, anyCase},
	{"tensorflow", strong, anyCase},
	{"keras", strong, anyCase},
	{"onnx", strong, anyCase},
	{"vllm", strong, anyCase},
	{"ollama", strong, anyCase},
	{"langchain", strong, anyCase},
	{"llamaindex", strong, anyCase},
	{"mlops", strong, anyCase},
	{"cuda", weak, anyCase},
	{"jax", weak, anyCase},
	{"kaggle", weak, anyCase},
	{"arxiv", weak, anyCase},

	// Research conferences.
	{"neurips", strong, anyCase},
	{"icml", strong, anyCase},
	{"iclr", strong, anyCase},
	{"cvpr", strong, anyCase},
	{"aaai", strong, anyCase},

	// Compute: AI's hardware, also games' and everyone's.
	{"gpu*", weak, anyCase},
	{"tpu*", weak, anyCase},
	{"npu*", weak, anyCase},
	{"h100*", weak, anyCase},
	{"h200*", weak, anyCase},
	{"b200*", weak, anyCase},
	{"gb200*", weak, anyCase},
	{"blackwell", weak, anyCase},
	{"hbm", weak, anyCase},
	{"dgx", weak, anyCase}, // Nvidia's machines for AI, and a stock ticker
	{"dgx spark", strong, anyCase},
	{"dgx cloud", strong, anyCase},
	{"data center*", weak, anyCase},
	{"datacenter*", weak, anyCase},

	// Robots and autonomy.
	{"robot*", weak, anyCase},
	{"humanoid*", weak, anyCase},
	{"self driving", weak, anyCase},
	{"driverless", weak, anyCase},
	{"autonomous", weak, anyCase},
	{"autopilot", weak, anyCase},
	{"waymo", weak, anyCase},
	{"robotaxi*", strong, anyCase}, // a taxi with no driver is autonomy by definition
	{"embodied", weak, anyCase},

	// People whose names alone make AI news.
	// Some surnames are theirs alone; the others need the first name.
	{"amodei", strong, anyCase},
	{"hassabis", strong, anyCase},
	{"sutskever", strong, anyCase},
	{"karpathy", strong, anyCase},
	{"lecun", strong, anyCase},
	{"sam altman", strong, anyCase},
	{"geoffrey hinton", strong, anyCase},
	{"fei fei li", strong, anyCase},
	{"mustafa suleyman", strong, anyCase},
	{"mira murati", strong, anyCase},
	{"andrew ng", strong, anyCase},
	{"altman", weak, anyCase}, // also Robert Altman's films
	{"hinton", weak, anyCase},
	{"jensen huang", weak, anyCase},
}

// aiVetoes are the false friends that a term list alone would let through:
// where one of them matches, the words it covers score nothing.
var aiVetoes = []string{
	"jean claude", "claude monet", "claude debussy", "claude van damme",
	"claude puel", "claude giroux", "claude makelele", "claude makélélé",
	"ai weiwei",
	"free agent*", "secret agent*", "fbi agent*", "federal agent*",
	"border agent*", "travel agent*", "estate agent*", "sports agent*",
	"agent orange",
}

// cjkTerms are matched as substrings: Chinese, Japanese and Korean write
// without spaces between words. The feeds Recap knows carry some of each.
var cjkTerms = []struct {
	text     string
	strength termStrength
}{
	{"人工智能", strong}, // artificial intelligence (zh)
	{"大模型", strong},  // large model (zh)
	{"机器学习", strong}, // machine learning (zh)
	{"深度学习", strong}, // deep learning (zh)
	{"神经网络", strong}, // neural network (zh)
	{"智能体", strong},  // agent (zh)
	{"人工知能", strong}, // artificial intelligence (ja)
	{"機械学習", strong}, // machine learning (ja)
	{"인공지능", strong}, // artificial intelligence (ko)
}

// AIScore rates how much an item reads like AI news: points for every
// distinct term found in the title, the categories and the lead of the text.
// LooksLikeAI compares it with AIThreshold.
func AIScore(title, text string, categories []string) int {
	var m aiMatcher
	score := m.score(title, titleStrong, titleWeak)
	for _, c := range categories {
		score += m.score(c, titleStrong, titleWeak)
	}
	if len(text) > maxTextBytes {
		text = text[:maxTextBytes]
	}
	return score + m.score(text, textStrong, textWeak)
}

// LooksLikeAI reports whether an item from a general outlet is AI news.
func LooksLikeAI(title, text string, categories []string) bool {
	return AIScore(title, text, categories) >= AIThreshold
}

// aiMatcher remembers which terms have scored, so that a term repeated across
// fields or within one counts once (the best it scored).
type aiMatcher struct {
	seen map[int]int // term index -> points given
}

func (m *aiMatcher) score(s string, strongPts, weakPts int) int {
	if strings.TrimSpace(s) == "" {
		return 0
	}
	total := 0
	add := func(id int, st termStrength) {
		pts := weakPts
		if st == strong {
			pts = strongPts
		}
		if m.seen == nil {
			m.seen = make(map[int]int)
		}
		if prev := m.seen[id]; pts > prev {
			total += pts - prev
			m.seen[id] = pts
		}
	}
	for _, id := range matchAITerms(s) {
		add(id, aiTerms[id].strength)
	}
	for i, t := range cjkTerms {
		if strings.Contains(s, t.text) {
			add(len(aiTerms)+i, t.strength)
		}
	}
	return total
}

// matchAITerms returns the index in aiTerms of every term found in s.
func matchAITerms(s string) []int {
	if strings.Contains(s, "A.I.") {
		s = strings.ReplaceAll(s, "A.I.", "AI")
	}
	toks := tokenize(s)
	var vetoed []bool
	for i := range toks {
		exact, prefix := aiVetoVocab.candidates(toks[i].lower)
		for _, ids := range [2][]int{exact, prefix} {
			for _, id := range ids {
				if t := aiVetoVocab.terms[id]; t.matchAt(toks, i) {
					if vetoed == nil {
						vetoed = make([]bool, len(toks))
					}
					for j := range t.words {
						vetoed[i+j] = true
					}
				}
			}
		}
	}
	var found []int
	for i := range toks {
		if vetoed != nil && vetoed[i] {
			continue
		}
		exact, prefix := aiVocab.candidates(toks[i].lower)
		for _, ids := range [2][]int{exact, prefix} {
			for _, id := range ids {
				if aiVocab.terms[id].matchAt(toks, i) {
					found = append(found, id)
				}
			}
		}
	}
	return found
}

type token struct {
	orig, lower string
}

// tokenize splits s into words: runs of letters, digits and combining marks.
// Han, kana and Hangul characters separate words, so "AI日报" yields "AI".
func tokenize(s string) []token {
	toks := make([]token, 0, len(s)/6+1) // English words average under six bytes with their space
	start := -1
	flush := func(end int) {
		if start >= 0 {
			w := s[start:end]
			toks = append(toks, token{orig: w, lower: strings.ToLower(w)})
			start = -1
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else {
			flush(i)
		}
		i += size
	}
	flush(len(s))
	return toks
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

type wordKind uint8

const (
	exactWord  wordKind = iota
	prefixWord          // "robot*"
	numberWord          // "#"
	stemNumber          // "gemini#"
)

type pattern struct {
	text string
	kind wordKind
}

func (p pattern) match(w string) bool {
	switch p.kind {
	case prefixWord:
		return strings.HasPrefix(w, p.text)
	case numberWord:
		return w != "" && '0' <= w[0] && w[0] <= '9'
	case stemNumber:
		rest, ok := strings.CutPrefix(w, p.text)
		return ok && rest != "" && '0' <= rest[0] && rest[0] <= '9'
	}
	return w == p.text
}

type compiledTerm struct {
	words []pattern
	rule  caseRule
}

func (t compiledTerm) matchAt(toks []token, i int) bool {
	if i+len(t.words) > len(toks) {
		return false
	}
	for j, p := range t.words {
		if !p.match(toks[i+j].lower) {
			return false
		}
	}
	first := toks[i].orig
	switch t.rule {
	case upperOnly:
		return first == strings.ToUpper(first)
	case notTitle:
		return first == strings.ToUpper(first) || first == strings.ToLower(first)
	case mixedCase:
		_, size := utf8.DecodeRuneInString(first)
		rest := first[size:]
		return rest != strings.ToLower(rest) && first != strings.ToUpper(first)
	}
	return true
}

// vocabulary indexes the terms by their first word, so that matching costs a
// few map look-ups per word of input, not a pass over the whole list.
type vocabulary struct {
	terms  []compiledTerm
	exact  map[string][]int // first word -> terms
	prefix map[string][]int // first three letters of a prefix or stem -> terms
}

// aiVocab and aiVetoVocab are built once and only read afterwards.
var (
	aiVocab     = compileVocabulary(aiTerms)
	aiVetoVocab = compileVocabulary(vetoTerms(aiVetoes))
)

func vetoTerms(phrases []string) []aiTerm {
	list := make([]aiTerm, len(phrases))
	for i, p := range phrases {
		list[i] = aiTerm{phrase: p}
	}
	return list
}

const prefixKeyLen = 3

func compileVocabulary(list []aiTerm) vocabulary {
	v := vocabulary{exact: map[string][]int{}, prefix: map[string][]int{}}
	for id, t := range list {
		var ct compiledTerm
		ct.rule = t.rule
		for _, w := range strings.Fields(t.phrase) {
			switch {
			case w == "#":
				ct.words = append(ct.words, pattern{kind: numberWord})
			case strings.HasSuffix(w, "*"):
				ct.words = append(ct.words, pattern{text: strings.TrimSuffix(w, "*"), kind: prefixWord})
			case strings.HasSuffix(w, "#"):
				ct.words = append(ct.words, pattern{text: strings.TrimSuffix(w, "#"), kind: stemNumber})
			default:
				ct.words = append(ct.words, pattern{text: w})
			}
		}
		v.terms = append(v.terms, ct)
		first := ct.words[0]
		if first.kind == exactWord {
			v.exact[first.text] = append(v.exact[first.text], id)
		} else {
			// The test suite checks that every prefix and stem is at least
			// prefixKeyLen long.
			key := first.text[:min(len(first.text), prefixKeyLen)]
			v.prefix[key] = append(v.prefix[key], id)
		}
	}
	return v
}

// candidates returns the terms that may start at word w: those whose first
// word is w, and those whose first word is a prefix or stem sharing w's start.
func (v vocabulary) candidates(w string) (exact, prefix []int) {
	exact = v.exact[w]
	if len(w) >= prefixKeyLen {
		prefix = v.prefix[w[:prefixKeyLen]]
	}
	return exact, prefix
}
