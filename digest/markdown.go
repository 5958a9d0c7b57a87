package digest

import (
	"strconv"
	"strings"
	"time"
)

// QuietWeek is what the digest of a week without a story says.
const QuietWeek = "A quiet week: no story was covered by two outlets or more."

// Markdown renders the digest as a Markdown document: a title with the
// week and its dates, what Recap read that week, then each topic's stories
// with their TL;DR, quoted and attributed, and the outlets that covered
// them. Story links are absolute, baseURL + "/stories/{id}", so the text
// reads the same pasted into a mail or a newsletter. Everything that came
// from a feed is escaped: a title is text, never markup.
func Markdown(d Digest, baseURL string) string {
	base := strings.TrimRight(baseURL, "/")
	var b strings.Builder
	b.WriteString("# AI Recap: " + d.Week.String() + " (" + dateRange(d.Week) + ")\n\n")
	b.WriteString(plural(d.Counts.Sources, "source", "sources") + ", " +
		plural(d.Counts.Articles, "article", "articles") + ", " +
		plural(d.Counts.Stories, "story", "stories") + "\n")
	if !d.Closed {
		b.WriteString("\nThis week is not over yet: the recap may still change.\n")
	}
	if len(d.Items) == 0 {
		b.WriteString("\n" + QuietWeek + "\n")
		return b.String()
	}
	groups := d.Groups
	if groups == nil {
		groups = GroupItems(d.Items)
	}
	for _, g := range groups {
		b.WriteString("\n## " + escapeText(g.Name) + "\n")
		for _, it := range g.Items {
			b.WriteString("\n### [" + escapeText(it.Title) + "](" + linkTarget(base+"/stories/"+strconv.FormatInt(it.Story, 10)) + ")\n")
			if it.Update {
				b.WriteString("\nUpdate: " + escapeText(it.Growth) + ".\n")
			}
			if len(it.TLDR) > 0 {
				b.WriteString("\n")
				for i, s := range it.TLDR {
					if i > 0 {
						b.WriteString(">\n")
					}
					b.WriteString("> " + escapeText(s.Text) + " — " + outletLink(s.Outlet, s.URL) + "\n")
				}
			}
			if len(it.Outlets) > 0 {
				names := make([]string, len(it.Outlets))
				for i, o := range it.Outlets {
					names[i] = escapeText(o)
				}
				b.WriteString("\nCovered by " + strings.Join(names, ", ") + "\n")
			}
		}
	}
	return b.String()
}

// dateRange says the week's Monday to Sunday the short way: "23–29 Nov
// 2026", "30 Nov – 6 Dec 2026", "28 Dec 2026 – 3 Jan 2027". The dates come
// from the week, not from Start, so they are the same in every zone.
func dateRange(w Week) string {
	mon := w.Start(time.UTC)
	sun := mon.AddDate(0, 0, 6)
	switch {
	case mon.Year() != sun.Year():
		return mon.Format("2 Jan 2006") + " – " + sun.Format("2 Jan 2006")
	case mon.Month() != sun.Month():
		return mon.Format("2 Jan") + " – " + sun.Format("2 Jan 2006")
	default:
		return mon.Format("2") + "–" + sun.Format("2 Jan 2006")
	}
}

func outletLink(name, u string) string {
	if name == "" {
		name = "unnamed source"
	}
	if u == "" {
		return escapeText(name)
	}
	return "[" + escapeText(name) + "](" + linkTarget(u) + ")"
}

// linkTarget makes a URL safe inside a Markdown link's parentheses: a
// space, a parenthesis or an angle bracket would end the link early or
// open HTML.
var linkTarget = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "\n", "", "\r", "").Replace

// markdownMeta are the characters that may start or end markup anywhere in
// a line; a backslash makes each literal (CommonMark escapes any ASCII
// punctuation this way). "_" and "&" are handled apart: escaping them
// everywhere would litter names like github_trends and R&D.
var markdownMeta = strings.NewReplacer(
	`\`, `\\`, "[", `\[`, "]", `\]`, "*", `\*`, "`", "\\`",
	"<", `\<`, ">", `\>`, "~", `\~`,
).Replace

// escapeInline escapes the metacharacters of one line of text. An
// underscore between two letters or digits never opens emphasis, and an
// ampersand only matters where it starts an entity ("&amp;", "&#60;"), so
// those stay as they are.
func escapeInline(s string) string {
	s = markdownMeta(s)
	if !strings.ContainsAny(s, "_&") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' && !(i > 0 && isWordByte(s[i-1]) && i+1 < len(s) && isWordByte(s[i+1])):
			b.WriteString(`\_`)
		case c == '&' && startsEntity(s[i+1:]):
			b.WriteString(`\&`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isWordByte: ASCII letters and digits, and any byte of a multi-byte
// character (CommonMark counts Unicode letters as word characters too).
func isWordByte(c byte) bool {
	return c >= 0x80 || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// startsEntity reports whether s (what follows an "&") is the rest of an
// entity or character reference: a name or "#" number, then ";".
func startsEntity(s string) bool {
	for i := 0; i < len(s) && i < 40; i++ {
		c := s[i]
		switch {
		case c == ';':
			return i > 0
		case c == '#' && i == 0, isWordByte(c) && c < 0x80:
		default:
			return false
		}
	}
	return false
}

// escapeText makes feed text literal in Markdown: one line (a newline in a
// title would start a block of its own), every inline metacharacter
// escaped, and what would start a heading, a list, a quote or a rule at the
// start of the line escaped too.
func escapeText(s string) string {
	s = escapeInline(strings.Join(strings.Fields(s), " "))
	if s == "" {
		return s
	}
	switch s[0] {
	case '#', '-', '+', '=':
		return `\` + s
	}
	// "1. " or "1) " would start an ordered list.
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') {
		return s[:i] + `\` + s[i:]
	}
	return s
}
