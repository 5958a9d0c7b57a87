package digest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"recap/news"
	"recap/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./digest -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("Markdown differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestMarkdownGolden renders a digest of three stories, one of them an
// update and one with a hostile title and TL;DR, against
// testdata/digest.golden.md.
func TestMarkdownGolden(t *testing.T) {
	w := Week{2026, 48}
	items := []Item{
		{
			Story: 42, Title: "Nvidia unveils the B300 at $30,000 & ships in Q1", Topic: news.TopicChips,
			Topics: []news.Topic{news.TopicChips, news.TopicBusiness},
			TLDR: []Said{
				{Text: "Nvidia said the B300 doubles memory bandwidth.", Outlet: "The Wire", URL: "https://wire.example/b300"},
				{Text: "Shipments start in the first quarter.", Outlet: "Chip Daily", URL: ""},
			},
			Outlets: []string{"The Wire", "Chip Daily", "hn_best_stories"}, Articles: 5, Score: 3.1,
		},
		{
			Story: 7, Title: "# [Click me](javascript:alert(1)) <script>alert('x')</script> **now** _ok_ `rm -rf` ~~gone~~ &amp;",
			Topic: news.TopicSafety, Topics: []news.Topic{news.TopicSafety},
			TLDR: []Said{
				{Text: "1. Not a list\n- nor this\n> nor a quote", Outlet: "Evil [Feed](x)", URL: "https://evil.example/a (b) <c>"},
			},
			Outlets: []string{"Evil [Feed](x)", "The Wire"}, Articles: 2, Score: 2,
		},
		{
			Story: 9, Title: "OpenAI's board names a new chair", Topic: news.TopicChips,
			Update: true, Growth: "4 new articles from 2 new outlets this week",
			Outlets: []string{"A", "B", "C", "D"}, Articles: 9, Score: 1.5,
		},
		{Story: 11, Title: "A story without a topic", Outlets: []string{"A", "B"}, Articles: 2, Score: 1.2},
	}
	d := Digest{
		Week: w, Start: w.Start(time.UTC), End: w.End(time.UTC), Closed: true,
		Counts: store.Counts{Sources: 42, Articles: 1234, Stories: 87},
		Items:  items, Groups: GroupItems(items),
	}
	got := Markdown(d, "https://recap.example/")
	golden(t, "digest.golden.md", got)
	for _, bad := range []string{"[Click me](", "<script>", "\n# [", "\n1. ", "\n- nor", "**now**"} {
		if strings.Contains(got, bad) {
			t.Errorf("Markdown holds %q unescaped", bad)
		}
	}
}

func TestMarkdownOfAQuietWeekSaysSo(t *testing.T) {
	w := Week{2026, 53}
	for _, tc := range []struct {
		name   string
		closed bool
		want   string
	}{
		{"closed", true, "# AI Recap: 2026-W53 (28 Dec 2026 – 3 Jan 2027)\n\n3 sources, 1 article, 1 story\n\n" + QuietWeek + "\n"},
		{"in progress", false, "# AI Recap: 2026-W53 (28 Dec 2026 – 3 Jan 2027)\n\n3 sources, 1 article, 1 story\n\n" +
			"This week is not over yet: the recap may still change.\n\n" + QuietWeek + "\n"},
	} {
		d := Digest{Week: w, Closed: tc.closed, Counts: store.Counts{Sources: 3, Articles: 1, Stories: 1},
			Items: Choose([]Candidate{cand(1, 1, 0.2, 2)}, nil, DefaultOptions())}
		if got := Markdown(d, "https://recap.example"); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

func TestDateRangeAcrossMonthsAndYears(t *testing.T) {
	for _, tc := range []struct {
		w    Week
		want string
	}{
		{Week{2026, 48}, "23–29 Nov 2026"},
		{Week{2026, 49}, "30 Nov – 6 Dec 2026"},
		{Week{2026, 53}, "28 Dec 2026 – 3 Jan 2027"},
		{Week{2025, 1}, "30 Dec 2024 – 5 Jan 2025"},
		{Week{2026, 2}, "5–11 Jan 2026"},
	} {
		if got := dateRange(tc.w); got != tc.want {
			t.Errorf("dateRange(%v) = %q, want %q", tc.w, got, tc.want)
		}
	}
}

func TestEscapeTextMakesFeedTextLiteral(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Plain title", "Plain title"},
		{"[link](http://x)", `\[link\](http://x)`},
		{"**bold** and *it*", `\*\*bold\*\* and \*it\*`},
		{"_emph_ but snake_case_name stays", `\_emph\_ but snake_case_name stays`},
		{"`code`", "\\`code\\`"},
		{"<b>html</b>", `\<b\>html\</b\>`},
		{"# heading", `\# heading`},
		{"C# and F#", "C# and F#"},
		{"- item", `\- item`},
		{"+ item", `\+ item`},
		{"= rule", `\= rule`},
		{"2025. A year", `2025\. A year`},
		{"3) third", `3\) third`},
		{"GPT-5.2 ships", "GPT-5.2 ships"},
		{"R&D and AT&T", "R&D and AT&T"},
		{"&amp; &#60; &x", `\&amp; \&#60; &x`},
		{`back\slash`, `back\\slash`},
		{"~~strike~~", `\~\~strike\~\~`},
		{"two\nlines\r\n\tand  tabs", "two lines and tabs"},
		{"   ", ""},
		{"日本_語", "日本_語"},
	} {
		if got := escapeText(tc.in); got != tc.want {
			t.Errorf("escapeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormatIntUsesThousandsSeparators(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234: "1,234", 87654321: "87,654,321", -1234: "-1,234"} {
		if got := formatInt(n); got != want {
			t.Errorf("formatInt(%d) = %q, want %q", n, got, want)
		}
	}
}
