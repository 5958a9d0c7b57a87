package digest

import (
	"strings"
	"testing"
)

// FuzzParseWeek: any text either fails or names a week whose String reads
// back as the input (the "w" upper-cased), and whose Start and End are a
// week apart.
func FuzzParseWeek(f *testing.F) {
	for _, s := range []string{"2026-W48", "2026-w01", "2020-W53", "2025-W53", "0000-W01", "9999-W52", "2026-W+1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWeek(s)
		if err != nil {
			return
		}
		if got := w.String(); got != strings.Replace(s, "w", "W", 1) {
			t.Fatalf("ParseWeek(%q) = %v, String %q", s, w, got)
		}
		if d := w.End(nil).Sub(w.Start(nil)).Hours(); d != 168 {
			t.Fatalf("%v spans %vh in UTC", w, d)
		}
	})
}

// FuzzEscapeText: feed text comes out on one line, and every character
// that opens a link, an emphasis or HTML is escaped.
func FuzzEscapeText(f *testing.F) {
	for _, s := range []string{"[a](javascript:x)", "# h", "1. x", "a_b _c_", "<script>", "&amp;", "\\[", "x\ny"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := escapeText(s)
		if strings.ContainsAny(got, "\n\r") {
			t.Fatalf("escapeText(%q) = %q spans lines", s, got)
		}
		for i := 0; i < len(got); i++ {
			if !strings.ContainsRune("[]*`<>~", rune(got[i])) {
				continue
			}
			slashes := 0
			for j := i - 1; j >= 0 && got[j] == '\\'; j-- {
				slashes++
			}
			if slashes%2 == 0 {
				t.Fatalf("escapeText(%q) = %q leaves %q at %d unescaped", s, got, got[i], i)
			}
		}
	})
}
