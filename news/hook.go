package news

// Hook is the first sentence of a summary worth showing under a headline:
// the first that is not a feed's wrapping (an aggregator's "| Organization:
// Google" fields, Hacker News' "Score: 394 Comments: 202", "Read more", an
// excerpt cut mid-word). It is the outlet's own text, never rewritten; ""
// when the summary holds nothing else.
func Hook(summary string) string {
	for _, s := range sentencesOf(summary) {
		if !isBoilerSentence(s) {
			return s
		}
	}
	return ""
}
