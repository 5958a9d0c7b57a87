package main

// The browser test: Recap started for real on a store filled from a local feed
// server, read by Debian's chromium through chromedp as a person would, with
// screenshots in light and dark at desktop and phone width, and axe-core run
// in every kind of page.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"recap/digest"
)

const e2eChromium = "/usr/bin/chromium"

// e2eAxePath is axe-core as `npm ci` in e2e/node installs it.
var e2eAxePath = filepath.Join("e2e", "node", "node_modules", "axe-core", "axe.min.js")

// e2eViewport is a screen size the pages are checked at.
type e2eViewport struct {
	name          string
	width, height int64
	mobile        bool
}

var (
	e2eDesktop = e2eViewport{"desktop", 1280, 900, false}
	e2ePhone   = e2eViewport{"phone", 390, 844, true}
)

// e2eBrowser is one chromium tab and where its screenshots go.
type e2eBrowser struct {
	t        *testing.T
	ctx      context.Context // the tab; a step's own timeout derives from it
	base     string
	shotsDir string
	axe      string // axe.min.js
}

func TestBrowserReadsRecapLikeAPerson(t *testing.T) {
	if testing.Short() && !e2eMandatory() {
		t.Skip("browser test skipped in -short mode")
	}
	_, err := exec.LookPath(e2eChromium)
	e2eNeed(t, err == nil, "no chromium at %s: %v", e2eChromium, err)
	axe, err := os.ReadFile(e2eAxePath)
	e2eNeed(t, err == nil, "no axe-core (run npm ci in e2e/node): %v", err)

	feeds := e2eLoadReplay(t, time.Now())
	word, wantTitle := e2eSearchWord(feeds, e2eSearchPage)
	if word == "" {
		t.Fatal("no word to search for in the titles of the test feeds")
	}
	feedSrv := e2eFeedServer(t, feeds)
	recap := e2eStartRecap(t, feedSrv, feeds)
	chosen := e2eAwaitStory(t, recap, e2eAnalysedWithin)
	recap.waitFor(t, "search results for "+word, 60*time.Second, func() (bool, string) {
		code, body := recap.get("/search?q=" + url.QueryEscape(word))
		return code == http.StatusOK && strings.Contains(body, "<mark>"), fmt.Sprintf("%d %.300s", code, body)
	})
	t.Logf("replayed %d items; story %d chosen (%d outlets, %d articles) after %s",
		e2eItemCount(feeds), chosen.Story.ID, chosen.Story.OutletCount, chosen.Story.ArticleCount, chosen.Waited.Round(100*time.Millisecond))
	// The digest shown is the busiest closed week's (in UTC, the default
	// zone), analysed through: it has stories in several topics.
	list, err := recap.allStories()
	if err != nil {
		t.Fatal(err)
	}
	week, n := e2eBusiestWeek(list, time.UTC, time.Now())
	e2eAwaitWeeksAnalysed(t, recap, week.Prev().Start(time.UTC), week.End(time.UTC), e2eAnalysedWithin)
	digestPath := "/digest/" + week.String()
	t.Logf("digest shown: %s, %d stories of two outlets or more active in it", week, n)

	shots := os.Getenv("RECAP_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// The whole browser session is bounded; a wedged browser fails the test
	// instead of hanging CI.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var chromeOut e2eBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(e2eChromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&chromeOut),
	)
	defer cancelAlloc()
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(tabCtx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v\n%s", err, chromeOut.String())
	}
	defer func() {
		if t.Failed() {
			t.Logf("chromium output:\n%.4000s", chromeOut.String())
		}
	}()
	b := &e2eBrowser{t: t, ctx: tabCtx, base: recap.Base, shotsDir: shots, axe: string(axe)}

	// What a person does: read the latest news, open one, search, look at the sources.
	b.scheme("light")
	b.viewport(e2eDesktop)
	b.checkArticleRedirect(b.checkHome(feeds))
	storyPath := "/stories/" + strconv.FormatInt(chosen.Story.ID, 10)
	b.checkStory(storyPath)
	b.checkStorySections(storyPath)
	searchPath := b.checkSearch(word, wantTitle)
	sourcePath := b.checkSources(feeds)
	b.checkDigest(week)
	b.checkDigests()

	b.checkAxeSeesContrast()

	// The same pages in both themes and at both widths.
	for _, scheme := range []string{"light", "dark"} {
		b.scheme(scheme)
		for _, vp := range []e2eViewport{e2eDesktop, e2ePhone} {
			b.viewport(vp)
			b.open("/")
			b.screenshot(fmt.Sprintf("home-%s-%s", scheme, vp.name))
			if scheme == "light" || vp == e2eDesktop {
				b.open(storyPath)
				b.fullPageScreenshot(fmt.Sprintf("story-%s-%s", scheme, vp.name))
			}
		}
		b.viewport(e2eDesktop)
		for _, p := range []string{"/", storyPath, searchPath, "/sources", sourcePath, digestPath, "/digests"} {
			b.open(p)
			b.checkAxe(scheme, p)
		}
	}
	b.scheme("dark")
	b.viewport(e2ePhone)
	b.open(digestPath)
	b.screenshot("digest-dark-phone")
	b.scheme("light")
	b.viewport(e2eDesktop)
	b.open(searchPath)
	b.screenshot("search-light-desktop")
	b.open("/sources")
	b.screenshot("sources-light-desktop")
	b.open(digestPath)
	b.screenshot("digest-light-desktop")
	b.open("/digests")
	b.screenshot("digests-light-desktop")

	// Without JavaScript: the policy forbids script, and no page carries any.
	e2eCheckNoScript(t, recap.Base, []string{"/", storyPath, searchPath, "/sources", sourcePath, digestPath, "/digests"})

	if os.Getenv("RECAP_UPDATE_DOCS") == "1" {
		for _, name := range []string{"home-light-desktop", "home-dark-phone", "story-light-desktop", "story-dark-desktop", "story-light-phone",
			"digest-light-desktop", "digest-dark-phone", "digests-light-desktop"} {
			e2eCopyFile(t, filepath.Join(shots, name+".png"), filepath.Join("docs", "screenshots", name+".png"))
		}
	}
	t.Logf("screenshots in %s", shots)

	cancelTab()
	cancelAlloc()
	recap.Stop(t)
}

// e2eSearchPage is how many results a page of search shows (the server's
// default page size).
const e2eSearchPage = 30

// e2eSearchWord picks the word (of six letters or more) that most titles of
// the test feeds share while no more than page articles can match it (in
// a title or a summary), so the results page shows several highlighted
// matches and must show them all. It returns the word with the newest
// title that has it, from a feed whose every item is stored and whose link
// no other item has (so the article carries that title). Outlet names are
// left out: every summary of an outlet names it.
func e2eSearchWord(feeds []e2eFeed, page int) (word, title string) {
	outlet := map[string]bool{}
	links := map[string]int{}
	for _, f := range feeds {
		for _, w := range strings.Fields(f.Title) {
			outlet[strings.ToLower(w)] = true
		}
		for _, it := range f.Items {
			links[it.Link]++
		}
	}
	words := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	}
	titles := map[string]int{}
	newest := map[string]e2eItem{}
	for _, f := range feeds {
		if f.Filter != "" {
			continue
		}
		for _, it := range f.Items {
			seen := map[string]bool{}
			for _, w := range words(it.Title) {
				if len(w) < 6 || seen[w] || outlet[strings.ToLower(w)] {
					continue
				}
				seen[w] = true
				titles[w]++
				if n, ok := newest[w]; links[it.Link] == 1 && (!ok || it.Published.After(n.Published)) {
					newest[w] = it
				}
			}
		}
	}
	// Every article whose text has the word in any form: an upper bound of
	// what the search can match.
	matches := map[string]map[string]bool{}
	for _, f := range feeds {
		for _, it := range f.Items {
			text := strings.ToLower(it.Title + " " + it.Summary)
			for w := range titles {
				if strings.Contains(text, strings.ToLower(w)) {
					if matches[w] == nil {
						matches[w] = map[string]bool{}
					}
					matches[w][it.Link] = true
				}
			}
		}
	}
	for w, n := range titles {
		if _, ok := newest[w]; !ok || len(matches[w]) > page {
			continue
		}
		if n > titles[word] || (n == titles[word] && w < word) {
			word = w
		}
	}
	return word, newest[word].Title
}

// step runs actions with a time limit of their own.
func (b *e2eBrowser) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func e2eEval[T any](b *e2eBrowser, what, expr string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open loads a page of Recap and checks it answered 200.
func (b *e2eBrowser) open(path string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	if resp.Status != http.StatusOK {
		b.t.Fatalf("open %s: status %d", path, resp.Status)
	}
}

// follow runs an action that navigates (a click, a submitted form) and waits
// for the new page; it returns the new page's path and query.
func (b *e2eBrowser) follow(what string, action chromedp.Action[chromedp.Void]) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, action)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != http.StatusOK {
		b.t.Fatalf("%s: %s answered %d", what, resp.URL, resp.Status)
	}
	u, err := url.Parse(resp.URL)
	if err != nil {
		b.t.Fatalf("%s: landed on %q: %v", what, resp.URL, err)
	}
	return u.RequestURI()
}

// scheme emulates prefers-color-scheme: light or dark.
func (b *e2eBrowser) scheme(s string) {
	b.t.Helper()
	b.step("prefers-color-scheme "+s, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: s}},
		})
		return err
	}))
}

func (b *e2eBrowser) viewport(vp e2eViewport) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	b.step("viewport "+vp.name, chromedp.EmulateViewport(vp.width, vp.height, opts...))
}

// screenshot saves what the viewport shows as NAME.png.
func (b *e2eBrowser) screenshot(name string) {
	b.t.Helper()
	b.capture(name, chromedp.CaptureScreenshot())
}

// fullPageScreenshot saves the whole page, beyond the viewport, as NAME.png.
func (b *e2eBrowser) fullPageScreenshot(name string) {
	b.t.Helper()
	b.capture(name, chromedp.FullScreenshot(100))
}

func (b *e2eBrowser) capture(name string, shot chromedp.Action[[]byte]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shotsDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// e2eEntry is an entry of a list as the page shows it.
type e2eEntry struct {
	Meta  string `json:"meta"`
	Title string `json:"title"`
	Href  string `json:"href"`
}

const e2eEntriesJS = `[...document.querySelectorAll('main .entries .entry')].map(e => ({
	meta: e.querySelector('.meta') ? e.querySelector('.meta').innerText : '',
	title: e.querySelector('h2, h3') ? e.querySelector('h2, h3').innerText : '',
	href: e.querySelector('h2 a, h3 a') ? e.querySelector('h2 a, h3 a').getAttribute('href') : '',
}))`

var e2eStoryPath = regexp.MustCompile(`^/stories/[0-9]+$`)

// checkHome reads the latest stories and follows the first entry; it
// returns the story's path.
func (b *e2eBrowser) checkHome(feeds []e2eFeed) string {
	t := b.t
	t.Helper()
	b.open("/")
	h1 := e2eEval[string](b, "home heading", `document.querySelector('main h1').innerText`)
	if h1 != "Latest AI news" {
		t.Errorf("home: heading %q, want %q", h1, "Latest AI news")
	}
	entries := e2eEval[[]e2eEntry](b, "home entries", e2eEntriesJS)
	if len(entries) < 10 {
		t.Fatalf("home: %d entries, want a full page", len(entries))
	}
	sources := map[string]bool{}
	fresh, collected := 0, 0
	for i, e := range entries {
		if e.Title == "" || !e2eStoryPath.MatchString(e.Href) {
			t.Errorf("home entry %d: title %q, link %q", i, e.Title, e.Href)
		}
		if !strings.Contains(e.Meta, " ago") {
			t.Errorf("home entry %d: meta %q says not how long ago", i, e.Meta)
		}
		known := false
		for _, f := range feeds {
			if strings.HasPrefix(e.Meta, f.Title+" ·") {
				sources[f.Title] = true
				known = true
			}
		}
		if !known {
			t.Errorf("home entry %d: meta %q names none of the sources", i, e.Meta)
		}
		if strings.Contains(e.Meta, "Fresh") {
			fresh++
		}
		if strings.Contains(e.Meta, "collected in ") {
			collected++
		}
	}
	// The newest stories come from the outlets that publish most often,
	// not from every one.
	if len(sources) < 2 {
		t.Errorf("home: entries name %d sources: %v; first meta %q", len(sources), sources, entries[0].Meta)
	}
	// The newest item was published minutes before the poll.
	if !strings.Contains(entries[0].Meta, "Fresh") || fresh < 1 {
		t.Errorf("home: %d entries labelled Fresh; first meta %q", fresh, entries[0].Meta)
	}
	if collected != len(entries) {
		t.Errorf("home: %d of %d entries say how fast they were collected", collected, len(entries))
	}
	first := entries[0]
	got := b.follow("follow the first entry", chromedp.Click(chromedp.CSS("main .entries .entry h2 a")))
	if got != first.Href {
		t.Fatalf("the first entry links %s, the click landed on %s", first.Href, got)
	}
	h1 = e2eEval[string](b, "story heading", `document.querySelector('main h1').innerText`)
	if h1 != first.Title {
		t.Errorf("story: headline %q, the entry said %q", h1, first.Title)
	}
	return got
}

// checkArticleRedirect opens the page of the article that started a story,
// as a feed reader's old link would, and must land on the story.
func (b *e2eBrowser) checkArticleRedirect(storyPath string) {
	t := b.t
	t.Helper()
	articlePath := "/articles/" + strings.TrimPrefix(storyPath, "/stories/")
	got := b.follow("open "+articlePath, chromedp.Navigate(b.base+articlePath))
	if got != storyPath {
		t.Errorf("%s landed on %s, want its story %s", articlePath, got, storyPath)
	}
}

// checkStory checks the story page: headline, full coverage, original
// source, rights.
func (b *e2eBrowser) checkStory(path string) {
	t := b.t
	t.Helper()
	b.open(path)
	type article struct {
		Meta     string   `json:"meta"`
		Headings []string `json:"headings"`
		Original string   `json:"original"`
		Link     string   `json:"link"`
	}
	a := e2eEval[article](b, "story page", `({
		meta: document.querySelector('main .meta').innerText,
		headings: [...document.querySelectorAll('main h1, main h2')].map(h => h.innerText),
		original: document.querySelector('main .original') ? document.querySelector('main .original').innerText : '',
		link: document.querySelector('main .original a[href]') ? document.querySelector('main .original a[href]').href : '',
	})`)
	if len(a.Headings) == 0 || a.Headings[0] == "" {
		t.Errorf("story %s: no headline: %v", path, a.Headings)
	}
	if !strings.Contains(a.Meta, " ago") || !strings.Contains(a.Meta, "collected in ") {
		t.Errorf("story %s: meta %q", path, a.Meta)
	}
	hasOriginal, hasCoverage := false, false
	for _, h := range a.Headings {
		hasOriginal = hasOriginal || h == "Original source"
		hasCoverage = hasCoverage || h == "Full coverage"
	}
	if !hasCoverage {
		t.Errorf("story %s: no \"Full coverage\" section: headings %v", path, a.Headings)
	}
	if !hasOriginal {
		t.Errorf("story %s: no \"Original source\" section: headings %v", path, a.Headings)
	}
	if !strings.Contains(a.Original, "All content rights belong to original publishers") {
		t.Errorf("story %s: original-source section lacks the rights line: %q", path, a.Original)
	}
	if u, err := url.Parse(a.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Errorf("story %s: original link %q is not an http(s) URL", path, a.Link)
	}
}

// e2eStorySections are the sections of an analysed story page, by the id
// of their heading.
var e2eStorySections = []struct{ id, heading string }{
	{"tldr-h", "TL;DR"},
	{"audience-h", "Who should care"},
	{"takeaways-h", "Key takeaways"},
	{"coverage-h", "Full coverage"},
	{"timeline-h", "Timeline"},
	{"related-h", "Related updates"},
	{"ranked-h", "Why ranked"},
}

// checkStorySections checks that a person sees each section of the story
// page: its heading, and entries in it, laid out with a size and not hidden.
func (b *e2eBrowser) checkStorySections(path string) {
	t := b.t
	t.Helper()
	b.open(path)
	type section struct {
		ID      string `json:"id"`
		Heading string `json:"heading"`
		Visible bool   `json:"visible"`
		Entries int    `json:"entries"`
	}
	ids := make([]string, len(e2eStorySections))
	for i, s := range e2eStorySections {
		ids[i] = s.id
	}
	list, err := json.Marshal(ids)
	if err != nil {
		t.Fatal(err)
	}
	got := e2eEval[[]section](b, "story sections", `(`+string(list)+`).map(id => {
		const h = document.getElementById(id);
		const s = h && h.closest('section');
		if (!s) return {id, heading: '', visible: false, entries: 0};
		const shown = el => {
			const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
			return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none' && cs.opacity !== '0';
		};
		return {id, heading: h.innerText, visible: shown(s) && shown(h),
			entries: [...s.querySelectorAll('li, blockquote')].filter(shown).length};
	})`)
	for i, s := range e2eStorySections {
		g := got[i]
		switch {
		case g.Heading == "":
			t.Errorf("story %s: no %q section", path, s.heading)
		case !strings.EqualFold(strings.TrimSpace(g.Heading), s.heading):
			t.Errorf("story %s: section %s is headed %q, want %q", path, s.id, g.Heading, s.heading)
		case !g.Visible:
			t.Errorf("story %s: section %q is not visible", path, s.heading)
		case g.Entries == 0:
			t.Errorf("story %s: section %q shows no entry", path, s.heading)
		}
	}
}

// checkSearch searches with the header's form and checks the highlighted
// results; it returns the results' path.
func (b *e2eBrowser) checkSearch(word, wantTitle string) string {
	t := b.t
	t.Helper()
	b.open("/")
	b.step("type in the search box", chromedp.SendKeys(chromedp.CSS("header form[role=search] input[name=q]"), word))
	got := b.follow("submit the search", chromedp.SendKeys(chromedp.CSS("header form[role=search] input[name=q]"), kb.Enter))
	if want := "/search?q=" + url.QueryEscape(word); got != want {
		t.Errorf("search landed on %s, want %s", got, want)
	}
	entries := e2eEval[[]e2eEntry](b, "search results", e2eEntriesJS)
	if len(entries) == 0 {
		t.Fatalf("search for %q: no results", word)
	}
	found := false
	for _, e := range entries {
		found = found || e.Title == strings.Join(strings.Fields(wantTitle), " ")
	}
	if !found {
		t.Errorf("search for %q: %q is not among the %d results", word, wantTitle, len(entries))
	}
	marks := e2eEval[[]string](b, "highlights", `[...document.querySelectorAll('main .entries mark')].map(m => m.innerText)`)
	if len(marks) == 0 {
		t.Errorf("search for %q: no <mark> highlight in the results", word)
	}
	// Search stems words (FTS5's porter tokenizer): "advanced" also
	// finds "advancing" and "advances", which share its stem, not its end.
	stem := strings.ToLower(word)
	stem = stem[:max(4, len(stem)-3)]
	for _, m := range marks {
		if !strings.HasPrefix(strings.ToLower(m), stem) {
			t.Errorf("search for %q highlights %q", word, m)
		}
	}
	q := e2eEval[string](b, "search box", `document.querySelector('header input[name=q]').value`)
	if q != word {
		t.Errorf("after the search the box holds %q, want %q", q, word)
	}
	return got
}

// checkSources reads /sources and follows the first source with articles of
// its own (a source whose every item another source carried first has
// none); it returns the source page's path.
func (b *e2eBrowser) checkSources(feeds []e2eFeed) string {
	t := b.t
	t.Helper()
	b.open("/sources")
	type row struct {
		Name     string `json:"name"`
		Health   string `json:"health"`
		Href     string `json:"href"`
		Articles string `json:"articles"`
	}
	rows := e2eEval[[]row](b, "sources table", `[...document.querySelectorAll('main table tbody tr')].map(r => ({
		name: r.querySelector('th').innerText,
		health: r.querySelector('td').innerText,
		href: r.querySelector('th a').getAttribute('href'),
		articles: r.querySelectorAll('td')[4].innerText,
	}))`)
	if len(rows) != len(feeds) {
		t.Fatalf("/sources: %d rows, want %d: %+v", len(rows), len(feeds), rows)
	}
	names := map[string]bool{}
	for _, r := range rows {
		names[r.Name] = true
		if r.Health != "ok" {
			t.Errorf("/sources: %s health %q, want ok", r.Name, r.Health)
		}
	}
	for _, f := range feeds {
		if !names[f.Title] {
			t.Errorf("/sources: no row for %s: %+v", f.Title, rows)
		}
	}
	first := -1
	for i, r := range rows {
		if n, err := strconv.Atoi(r.Articles); err == nil && n > 0 {
			first = i
			break
		}
	}
	if first < 0 {
		t.Fatalf("/sources: no source has articles: %+v", rows)
	}
	got := b.follow("follow the first source with articles", chromedp.Click(chromedp.CSS(fmt.Sprintf("main table tbody tr:nth-child(%d) th a", first+1))))
	if got != rows[first].Href {
		t.Errorf("source %s links %s, the click landed on %s", rows[first].Name, rows[first].Href, got)
	}
	h1 := e2eEval[string](b, "source heading", `document.querySelector('main h1').innerText`)
	if h1 != rows[first].Name {
		t.Errorf("source page heading %q, want %q", h1, rows[first].Name)
	}
	if n := len(e2eEval[[]e2eEntry](b, "source entries", e2eEntriesJS)); n == 0 {
		t.Errorf("source page %s lists no articles", got)
	}
	return got
}

// checkDigest reads a closed week's digest as a person does: the heading,
// the counts, the topics with their stories, each a link to its story
// page; it follows the first story, then the previous and next weeks.
func (b *e2eBrowser) checkDigest(w digest.Week) {
	t := b.t
	t.Helper()
	path := "/digest/" + w.String()
	b.open(path)
	type group struct {
		Name  string     `json:"name"`
		Href  string     `json:"href"`
		Items []e2eEntry `json:"items"`
	}
	type page struct {
		H1     string  `json:"h1"`
		Lead   string  `json:"lead"`
		Groups []group `json:"groups"`
		Prev   string  `json:"prev"`
		Next   string  `json:"next"`
	}
	p := e2eEval[page](b, "digest page", `({
		h1: document.querySelector('main h1').innerText,
		lead: document.querySelector('main .lead') ? document.querySelector('main .lead').innerText : '',
		groups: [...document.querySelectorAll('main .digest-topic')].map(s => ({
			name: s.querySelector('h2').innerText,
			href: s.querySelector('h2 a') ? s.querySelector('h2 a').getAttribute('href') : '',
			items: [...s.querySelectorAll('.digest-items > li')].map(li => ({
				meta: li.querySelector('.meta') ? li.querySelector('.meta').innerText : '',
				title: li.querySelector('h3') ? li.querySelector('h3 a').innerText : '',
				href: li.querySelector('h3 a') ? li.querySelector('h3 a').getAttribute('href') : '',
			})),
		})),
		prev: document.querySelector('main a[rel=prev]') ? document.querySelector('main a[rel=prev]').getAttribute('href') : '',
		next: document.querySelector('main a[rel=next]') ? document.querySelector('main a[rel=next]').getAttribute('href') : '',
	})`)
	if p.H1 != "AI Recap: "+w.String() {
		t.Errorf("%s: heading %q", path, p.H1)
	}
	if !regexp.MustCompile(`^[0-9,]+ sources?, [0-9,]+ articles?, [0-9,]+ stor(y|ies) read this week; the [0-9]+ below`).MatchString(p.Lead) {
		t.Errorf("%s: lead %q does not give the week's counts and its stories", path, p.Lead)
	}
	if len(p.Groups) < 2 {
		t.Errorf("%s: %d topic groups, the busiest week should have several: %+v", path, len(p.Groups), p.Groups)
	}
	var first e2eEntry
	for _, g := range p.Groups {
		if g.Name == "" || (g.Name != "Other" && !strings.HasPrefix(g.Href, "/topics/")) {
			t.Errorf("%s: group %q links %q, want its topic page", path, g.Name, g.Href)
		}
		if len(g.Items) == 0 {
			t.Errorf("%s: group %q is empty", path, g.Name)
		}
		for _, it := range g.Items {
			if it.Title == "" || !e2eStoryPath.MatchString(it.Href) || !strings.Contains(it.Meta, "outlets") {
				t.Errorf("%s: group %q item: title %q, link %q, meta %q", path, g.Name, it.Title, it.Href, it.Meta)
			}
			if first.Href == "" {
				first = it
			}
		}
	}
	if first.Href == "" {
		t.Fatalf("%s: no story", path)
	}
	got := b.follow("follow the digest's first story", chromedp.Click(chromedp.CSS("main .digest-topic .digest-items > li h3 a")))
	if got != first.Href {
		t.Errorf("%s: the first story links %s, the click landed on %s", path, first.Href, got)
	}
	if h1 := e2eEval[string](b, "story heading", `document.querySelector('main h1').innerText`); h1 != first.Title {
		t.Errorf("%s: the story's headline %q, the digest said %q", path, h1, first.Title)
	}
	for _, nav := range []struct {
		rel  string
		want digest.Week
		href string
	}{{"prev", w.Prev(), p.Prev}, {"next", w.Next(), p.Next}} {
		if want := "/digest/" + nav.want.String(); nav.href != want {
			t.Errorf("%s: the %s week links %q, want %q", path, nav.rel, nav.href, want)
			continue
		}
		b.open(path)
		got := b.follow("follow the "+nav.rel+" week", chromedp.Click(chromedp.CSS("main a[rel="+nav.rel+"]")))
		if got != nav.href {
			t.Errorf("%s: the %s week link landed on %s", path, nav.rel, got)
		}
		if h1 := e2eEval[string](b, nav.rel+" week heading", `document.querySelector('main h1').innerText`); h1 != "AI Recap: "+nav.want.String() {
			t.Errorf("%s: heading %q", got, h1)
		}
	}
}

// checkDigests reads the archive: its heading, a page of weeks from the
// current one, each linked, and follows the current week.
func (b *e2eBrowser) checkDigests() {
	t := b.t
	t.Helper()
	b.open("/digests")
	if h1 := e2eEval[string](b, "archive heading", `document.querySelector('main h1').innerText`); h1 != "Weekly AI Recap" {
		t.Errorf("/digests: heading %q", h1)
	}
	// An entry's week is its heading; the line under it says its stories and counts.
	entries := e2eEval[[]e2eEntry](b, "archive entries", `[...document.querySelectorAll('main .entries .entry')].map(e => ({
		meta: e.querySelector('p.meta') ? e.querySelector('p.meta').innerText : '',
		title: e.querySelector('h2') ? e.querySelector('h2').innerText : '',
		href: e.querySelector('h2 a') ? e.querySelector('h2 a').getAttribute('href') : '',
	}))`)
	current := digest.WeekOf(time.Now(), time.UTC)
	if len(entries) < 2 || !strings.HasPrefix(entries[0].Title, current.String()) || !strings.Contains(entries[0].Title, "the week so far") {
		t.Fatalf("/digests: the first entry is not the current week %s so far: %+v", current, entries)
	}
	for i, e := range entries {
		if !regexp.MustCompile(`^/digest/[0-9]{4}-W[0-9]{2}$`).MatchString(e.Href) || !strings.HasPrefix(e.Title, strings.TrimPrefix(e.Href, "/digest/")) {
			t.Errorf("/digests entry %d: title %q links %q", i, e.Title, e.Href)
		}
		if !regexp.MustCompile(`(stor(y|ies)|A quiet week) · [0-9,]+ sources?, `).MatchString(e.Meta) {
			t.Errorf("/digests entry %d: line %q", i, e.Meta)
		}
	}
	older := e2eEval[string](b, "older weeks", `document.querySelector('main a[rel=next]') ? document.querySelector('main a[rel=next]').getAttribute('href') : ''`)
	if !strings.HasPrefix(older, "/digests?before=") {
		t.Errorf("/digests: older weeks link %q", older)
	}
	got := b.follow("follow the current week", chromedp.Click(chromedp.CSS("main .entries .entry h2 a")))
	if got != "/digest/"+current.String() {
		t.Errorf("/digests: the current week landed on %s", got)
	}
}

// e2eViolation is an axe-core violation, flattened.
type e2eViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// e2eAxeResult is what axe.run found: the rules that passed and the violations.
type e2eAxeResult struct {
	Passes     []string       `json:"passes"`
	Violations []e2eViolation `json:"violations"`
}

// runAxe injects axe-core into the open page and runs it. Runtime.evaluate
// is not subject to the page's CSP, so the script-free policy stays on.
func (b *e2eBrowser) runAxe(prepare string) e2eAxeResult {
	b.t.Helper()
	e2eEval[chromedp.Void](b, "inject axe-core", b.axe)
	if prepare != "" {
		e2eEval[chromedp.Void](b, "prepare the page", prepare)
	}
	return e2eEval[e2eAxeResult](b, "axe.run", `axe.run(document, {resultTypes: ['violations']}).then(r => ({
		passes: r.passes.map(p => p.id),
		violations: r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
			nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' '))})),
	}))`, chromedp.EvalAwaitPromise)
}

// checkAxeSeesContrast is the control of the axe checks: a grey-on-white
// paragraph added to the open page must be reported, so a clean result
// means the pages are clean, not that axe saw nothing.
func (b *e2eBrowser) checkAxeSeesContrast() {
	t := b.t
	t.Helper()
	r := b.runAxe(`(() => {
		const p = document.createElement('p');
		p.id = 'e2e-low-contrast';
		p.textContent = 'Grey text on white that nobody can read well.';
		p.style.color = '#bbbbbb';
		p.style.background = '#ffffff';
		document.querySelector('main').appendChild(p);
	})()`)
	for _, v := range r.Violations {
		if v.ID == "color-contrast" && (v.Impact == "serious" || v.Impact == "critical") && strings.Contains(strings.Join(v.Nodes, " "), "#e2e-low-contrast") {
			return
		}
	}
	t.Errorf("axe did not report grey-on-white text as a serious color-contrast violation: %+v", r.Violations)
}

// checkAxe runs axe-core in the open page and fails on every serious or
// critical violation.
func (b *e2eBrowser) checkAxe(scheme, path string) {
	t := b.t
	t.Helper()
	r := b.runAxe("")
	// A run that checked nothing would pass vacuously.
	if len(r.Passes) < 10 {
		t.Errorf("axe %s %s: only %d rules passed (%v): did axe run on the page?", scheme, path, len(r.Passes), r.Passes)
	}
	t.Logf("axe %s %s: %d rules passed, %d violations", scheme, path, len(r.Passes), len(r.Violations))
	for _, v := range r.Violations {
		msg := fmt.Sprintf("axe %s %s: %s %s: %s\n    %s", scheme, path, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
}

// e2eCheckNoScript checks the pages forbid and carry no script, so they work
// as they are without JavaScript.
func e2eCheckNoScript(t *testing.T, base string, paths []string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	for _, p := range paths {
		resp, err := client.Get(base + p)
		if err != nil {
			t.Errorf("GET %s: %v", p, err)
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %v", p, resp.StatusCode, err)
			continue
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: Content-Security-Policy %q should be default-src 'none' with no script-src", p, csp)
		}
		if strings.Contains(strings.ToLower(string(body)), "<script") {
			t.Errorf("GET %s: the page has a <script> tag", p)
		}
	}
}

func e2eCopyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
