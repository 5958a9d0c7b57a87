package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// TestCorpus runs every file of the feed corpus (RECAP_CORPUS, normally
// ../shared/corpus/feeds) through Parse and Normalizer.Feed: nothing may
// panic, every file gives articles, an empty feed or an error with a message,
// and every file gofeed parses on its own must keep all its items.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("RECAP_CORPUS")
	if dir == "" {
		t.Skip("RECAP_CORPUS not set")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("RECAP_CORPUS=%q is not a folder: %v", dir, err)
	}

	n := NewNormalizer()
	collected := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	var (
		files, gofeedOK, oursOK, emptyFeeds int
		gofeedItems, articles, skippedEmpty int
		recovered                           []string
		errKinds                            = map[string]int{}
		start                               = time.Now()
		slowest                             time.Duration
		slowestFile                         string
	)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++

		want, gofeedErr := corpusGofeedItems(body)
		if gofeedErr == nil {
			gofeedOK++
			gofeedItems += want
		}

		t0 := time.Now()
		r := corpusRun(n, body, "https://corpus.example/"+filepath.ToSlash(rel), collected)
		if d := time.Since(t0); d > slowest {
			slowest, slowestFile = d, rel
		}
		if r.panic != "" {
			t.Errorf("%s: panic: %s", rel, r.panic)
			return nil
		}
		if r.err != nil {
			if strings.TrimSpace(r.err.Error()) == "" {
				t.Errorf("%s: error without a message", rel)
			}
			errKinds[corpusErrKind(r.err)]++
			if gofeedErr == nil {
				t.Errorf("%s: gofeed parses it (%d items) but Parse fails: %v", rel, want, r.err)
			}
			return nil
		}
		oursOK++
		if gofeedErr != nil {
			recovered = append(recovered, rel)
		}
		if len(r.arts) == 0 && len(r.itemErrs) == 0 {
			emptyFeeds++
		}
		articles += len(r.arts)
		for _, e := range r.itemErrs {
			if !errors.Is(e, ErrEmptyItem) {
				t.Errorf("%s: item error other than an empty item: %v", rel, e)
			}
			skippedEmpty++
		}
		if gofeedErr == nil {
			if got := len(r.arts) + len(r.itemErrs) + r.dropped; got != want {
				t.Errorf("%s: gofeed finds %d items, we account for %d (%d articles, %d skipped, %d dropped)",
					rel, want, got, len(r.arts), len(r.itemErrs), r.dropped)
			}
		}
		for i, a := range r.arts {
			if msg := corpusCheckArticle(a.ItemKey, a.URL, a.ContentHTML, a.Title, a.Published, collected); msg != "" {
				t.Errorf("%s: article %d: %s", rel, i+1, msg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	if files == 0 {
		t.Fatalf("no files under %s", dir)
	}

	t.Logf("files %d; parsed by gofeed alone %d; parsed by us %d (%d of them feeds without items)",
		files, gofeedOK, oursOK, emptyFeeds)
	t.Logf("items by gofeed alone %d; articles %d; items skipped as empty (no title, link or content) %d",
		gofeedItems, articles, skippedEmpty)
	t.Logf("gofeed fails but we parse: %d files", len(recovered))
	for _, f := range recovered {
		t.Logf("  recovered %s", f)
	}
	kinds := make([]string, 0, len(errKinds))
	for k := range errKinds {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return errKinds[kinds[i]] > errKinds[kinds[j]] })
	for _, k := range kinds {
		t.Logf("  error %4d  %s", errKinds[k], k)
	}
	t.Logf("took %v; slowest file %s (%v)", time.Since(start).Round(time.Millisecond), slowestFile, slowest.Round(time.Microsecond))
}

type corpusResult struct {
	arts     []articleView
	itemErrs []error
	dropped  int
	err      error
	panic    string
}

// articleView is what the corpus test checks of an article.
type articleView struct {
	ItemKey, URL, ContentHTML, Title string
	Published                        time.Time
}

func corpusRun(n *Normalizer, body []byte, feedURL string, collected time.Time) (r corpusResult) {
	defer func() {
		if p := recover(); p != nil {
			r.panic = fmt.Sprintf("%v\n%s", p, debug.Stack())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pf, err := Parse(ctx, body, "", parseDefaultMaxItems)
	if err != nil {
		r.err = err
		return r
	}
	r.dropped = pf.Dropped
	arts, errs := n.Feed(pf, feedURL, collected)
	r.itemErrs = errs
	for _, a := range arts {
		r.arts = append(r.arts, articleView{a.ItemKey, a.URL, a.ContentHTML, a.Title, a.Published})
	}
	return r
}

// corpusGofeedItems parses body with gofeed's universal parser alone.
func corpusGofeedItems(body []byte) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("gofeed panic: %v", p)
		}
	}()
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	return len(f.Items), nil
}

func corpusCheckArticle(key, u, content, title string, published, collected time.Time) string {
	switch {
	case key == "":
		return "empty item key"
	case u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://"):
		return fmt.Sprintf("URL %q is not http(s)", u)
	case strings.Contains(strings.ToLower(content), "<script"):
		return "content keeps a <script>"
	case published.After(collected.Add(normMaxAhead)):
		return fmt.Sprintf("published %v is after collected + 24 h", published)
	case strings.ContainsAny(title, "\n\t"):
		return fmt.Sprintf("title %q keeps line breaks or tabs", title)
	}
	return ""
}

// corpusErrKind groups errors by what went wrong, not by where.
func corpusErrKind(err error) string {
	msg := err.Error()
	for _, k := range []error{ErrEmptyBody, ErrNotAFeed, ErrUnsupportedFormat, ErrBodyTooLarge} {
		if errors.Is(err, k) {
			return msg
		}
	}
	if i := strings.Index(msg, " on line "); i >= 0 {
		j := strings.IndexByte(msg[i+len(" on line "):], ':')
		if j >= 0 {
			msg = msg[:i] + msg[i+len(" on line ")+j:]
		}
	}
	return parseClip(msg, 90)
}
