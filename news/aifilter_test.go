package news

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLooksLikeAIHeadlines(t *testing.T) {
	tests := []struct {
		title string
		want  bool
	}{
		// AI news.
		{"OpenAI launches GPT-5 with improved reasoning", true},
		{"Anthropic's Claude Opus 4.6 tops coding leaderboard", true},
		{"Google DeepMind unveils Gemini 3 Pro", true},
		{"Meta releases Llama 4 with a mixture-of-experts design", true},
		{"The EU AI Act comes into force", true},
		{"AI-powered glasses are coming to Ray-Ban", true},
		{"Microsoft brings Copilot to the Windows 11 taskbar", true},
		{"Hugging Face raises $235M from Google, Amazon and Nvidia", true},
		{"Why large language models hallucinate", true},
		{"Mistral AI ships an open-weight model for code", true},
		{"Stable Diffusion 3 is here", true},
		{"Researchers fine-tune Llama on clinical notes", true},
		{"Chatbots are quietly changing customer service", true},
		{"A.I. Is Coming for White-Collar Jobs", true},
		{"DeepSeek R1 rattles Silicon Valley", true},
		{"Neural networks, explained for the rest of us", true},
		{"xAI's Grok goes free for all users", true},
		{"Nvidia unveils Blackwell GPUs for data centers", true},
		{"Building RAG pipelines with pgvector", true},
		{"What is AGI, and when will we get there?", true},
		{"ChatGPT now remembers your past conversations", true},
		{"Sam Altman says the next model will be open", true},
		{"LLMs can get brain rot from junk data", true},
		{"Waymo expands driverless rides to Miami", true}, // autonomy counts
		{"Apple Intelligence arrives in Europe", true},
		{"Show HN: an agentic coding tool in 300 lines", true},
		{"GitHub Copilot: remote code execution via prompt injection", true},
		{"人工智能公司发布新一代大模型", true},
		{"AI日报：谷歌发布Gemini3.1Pro", true},
		{"NEW AI CHIP BEATS THE H100", true},

		// Not AI news, many with false friends.
		{"Executives said to weigh bid for email marketing firm", false},
		{"Companies struggle to maintain supply chains", false},
		{"Air India flight diverted to Dubai", false},
		{"Thai PM survives no-confidence vote", false},
		{"A haiku a day: poems for the commute", false},
		{"Wall Street closes higher as oil rallies", false},
		{"Ai Weiwei opens a new exhibition in Berlin", false},
		{"ARTIST AI WEIWEI DETAINED AT AIRPORT", false},
		{"Manchester United sign midfielder on a free transfer", false},
		{"Apple unveils iPhone 17 with a brighter display", false},
		{"Nintendo Switch 2 sales top 10 million", false},
		{"Gemini horoscope: a week of surprises", false},
		{"Farmer breeds llamas in the Andes", false},
		{"Llama farm opens to visitors", false},
		{"Claude Monet painting sells for $110 million", false},
		{"Jean-Claude Van Damme returns in an action sequel", false},
		{"Mistral winds fan wildfires in southern France", false},
		{"Transformers: Age of Extinction tops the box office", false},
		{"Transformer explosion leaves town without power", false},
		{"Rag & Bone opens a flagship store", false},
		{"Free agent quarterback signs with the Jets", false},
		{"Gaming laptop review: the new GPU is a beast", false},
		{"Plane's co-pilot hailed as a hero after emergency landing", false},
		{"Bitcoin exchange Gemini files for IPO", false},
		{"Robot vacuum maker files for bankruptcy", false},
		{"Senate passes budget deal hours before shutdown", false},
		{"Kraft recalls cheese over choking hazard", false},
		{"Paris Saint-Germain hire Claude Puel as assistant coach", false},
		{"Said the spider to the fly: a children's classic returns", false},
		{"Maintainers of Email client Thunderbird ship new release", false},
		{"Gaia mission maps a billion stars", false},
		{"Kai Havertz scores twice as Arsenal beat Chelsea", false},
		{"Ai Fukuhara retires from table tennis", false},
		{"Grand jury hears FBI agent's testimony", false},
	}
	for _, tt := range tests {
		if got := LooksLikeAI(tt.title, "", nil); got != tt.want {
			t.Errorf("LooksLikeAI(%q) = %v, want %v (score %d, terms %v)",
				tt.title, got, tt.want, AIScore(tt.title, "", nil), matchedPhrases(tt.title))
		}
	}
}

func TestAIScoreFields(t *testing.T) {
	far := strings.Repeat("Markets were calm this week. ", maxTextBytes/29+1)
	tests := []struct {
		name       string
		title      string
		text       string
		categories []string
		want       bool
	}{
		{"strong term in title", "OpenAI opens an office in Paris", "", nil, true},
		{"weak term in title alone", "Nvidia stock slips", "", nil, false},
		{"two weak terms in title", "Nvidia's new GPU", "", nil, true},
		{"weak title, strong text", "Nvidia earnings beat estimates",
			"Revenue grew on demand for AI accelerators.", nil, true},
		{"weak title, weak text", "Nvidia earnings beat estimates",
			"Gaming GPUs sold well.", nil, false},
		{"AI in passing in the text", "Apple's iPhone event, recapped",
			"The new camera is great. Apple Intelligence gets a Siri update too.", nil, false},
		{"two strong terms in the text", "This week in tech",
			"OpenAI shipped a new ChatGPT feature for teams.", nil, true},
		{"one strong term repeated in the text", "This week in tech",
			"AI here, AI there, AI everywhere.", nil, false},
		{"category says AI", "The week in review", "", []string{"Artificial Intelligence"}, true},
		{"category AI, short", "Inside the new lab", "", []string{"Tech", "AI"}, true},
		{"unrelated categories", "Inside the new lab", "", []string{"Science", "Space"}, false},
		{"term after the lead is ignored", "Weekly markets wrap", far + " OpenAI ChatGPT deep learning", nil, false},
		{"empty item", "", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LooksLikeAI(tt.title, tt.text, tt.categories)
			if got != tt.want {
				t.Fatalf("LooksLikeAI = %v, want %v (score %d)", got, tt.want,
					AIScore(tt.title, tt.text, tt.categories))
			}
		})
	}
}

// TestLooksLikeAILabelled measures the filter on real headlines:
// testdata/ai_titles.txt holds 100 titles from AI labs' and AI newsletters'
// feeds (../shared/data/ai-news-items.jsonl.gz, Hacker News and GitHub
// trending left out because they are not all AI news), non_ai_titles.txt 100
// business, entertainment and health headlines of 2014 (uci-dev.jsonl.gz,
// categories b, e and m). See testdata/README.md for how they were drawn.
//
// Lab titles are a hard case for keywords ("Introducing Operator", "Gym
// Retro"): the outlets that the filter serves name the subject more plainly.
// Measured when written: recall 0.70, false positives 0 of 100.
func TestLooksLikeAILabelled(t *testing.T) {
	const (
		minRecall         = 0.65
		maxFalsePositives = 0.02
	)
	ai := readLines(t, "testdata/ai_titles.txt")
	other := readLines(t, "testdata/non_ai_titles.txt")
	if len(ai) < 100 || len(other) < 100 {
		t.Fatalf("want 100 titles in each file, got %d and %d", len(ai), len(other))
	}
	tp, fp := 0, 0
	for _, s := range ai {
		if LooksLikeAI(s, "", nil) {
			tp++
		}
	}
	for _, s := range other {
		if LooksLikeAI(s, "", nil) {
			fp++
			t.Logf("false positive: %q %v", s, matchedPhrases(s))
		}
	}
	recall := float64(tp) / float64(len(ai))
	fpr := float64(fp) / float64(len(other))
	precision := 1.0
	if tp+fp > 0 {
		precision = float64(tp) / float64(tp+fp)
	}
	t.Logf("recall %.2f (%d/%d), false positive rate %.2f (%d/%d), precision %.2f",
		recall, tp, len(ai), fpr, fp, len(other), precision)
	if recall < minRecall {
		t.Errorf("recall %.2f below %.2f", recall, minRecall)
	}
	if fpr > maxFalsePositives {
		t.Errorf("false positive rate %.2f above %.2f", fpr, maxFalsePositives)
	}
}

// Every term must be findable as written, or it is dead weight in the list.
func TestAITermsMatchThemselves(t *testing.T) {
	seen := map[string]bool{}
	for id, term := range aiTerms {
		if seen[term.phrase] {
			t.Errorf("term %q listed twice", term.phrase)
		}
		seen[term.phrase] = true
		if term.phrase != strings.ToLower(term.phrase) {
			t.Errorf("term %q must be lower-case", term.phrase)
		}
		words := strings.Fields(term.phrase)
		if w := words[0]; strings.HasSuffix(w, "*") || strings.HasSuffix(w, "#") {
			if utf8.RuneCountInString(w)-1 < prefixKeyLen {
				t.Errorf("term %q: a leading prefix or stem needs %d letters", term.phrase, prefixKeyLen)
			}
		}
		// Write the term as a headline would: wildcards filled in, acronyms
		// in capitals.
		var sample []string
		for _, w := range words {
			switch {
			case w == "#":
				w = "4"
			case strings.HasSuffix(w, "*"):
				w = strings.TrimSuffix(w, "*") + "s"
			case strings.HasSuffix(w, "#"):
				w = strings.TrimSuffix(w, "#") + "3"
			}
			sample = append(sample, w)
		}
		s := strings.Join(sample, " ")
		switch term.rule {
		case notTitle, upperOnly:
			s = strings.ToUpper(s)
		case mixedCase:
			s = s[:1] + strings.ToUpper(s[1:2]) + s[2:]
		}
		found := false
		for _, got := range matchAITerms("Today: " + s + " news") {
			found = found || got == id
		}
		if !found {
			t.Errorf("term %q does not match %q", term.phrase, s)
		}
	}
}

func TestAICaseRules(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"AI", true}, {"ai", true}, {"Ai", false},
		{"RAG", true}, {"rag", false}, {"Rag", false},
		{"AGI", true}, {"agi", true}, {"Agi", false},
		{"MoE", true}, {"moE", true}, {"MOE", false}, {"Moe", false}, {"moe", false},
	}
	for _, tt := range tests {
		if got := len(matchAITerms(tt.text)) > 0; got != tt.want {
			t.Errorf("matchAITerms(%q) found = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func FuzzAIScore(f *testing.F) {
	f.Add("OpenAI's GPT-5", "A.I. text", "AI")
	f.Add("Jean-Claude", "\xff\xfe", "人工智能")
	f.Fuzz(func(t *testing.T, title, text, category string) {
		s := AIScore(title, text, []string{category})
		if s < 0 {
			t.Fatalf("negative score %d", s)
		}
		if LooksLikeAI(title, text, []string{category}) != (s >= AIThreshold) {
			t.Fatal("LooksLikeAI disagrees with AIScore")
		}
		r := AIRelevance(title, text, []string{category})
		if r < 0 || r > 1 || (r >= AIRelevant) != (s >= AIThreshold) {
			t.Fatalf("AIRelevance %v disagrees with AIScore %d", r, s)
		}
	})
}

func BenchmarkAIScore(b *testing.B) {
	title := "Nvidia earnings beat estimates as data center demand soars"
	text := strings.Repeat("The company said revenue rose on strong demand for accelerators. ", 60)
	for b.Loop() {
		AIScore(title, text, []string{"Business", "Chips"})
	}
}

func matchedPhrases(s string) []string {
	var out []string
	for _, id := range matchAITerms(s) {
		out = append(out, aiTerms[id].phrase)
	}
	return out
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
