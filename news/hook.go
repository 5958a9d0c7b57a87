package news

import "strings"

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

// RepeatsHeadline reports whether sentence only says the headline again:
// the same words, whatever their case, spacing or final full stop or
// exclamation mark. Pages that show the headline leave such a sentence out.
func RepeatsHeadline(sentence, headline string) bool {
	same := func(s string) string {
		return strings.ToLower(strings.TrimRight(strings.Join(strings.Fields(s), " "), ".!"))
	}
	return same(sentence) == same(headline)
}
