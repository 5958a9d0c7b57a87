package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The -product mode runs the whole product on the file, as a user would:
// a local server serves the articles as one feed per source (Atom, so
// times keep their milliseconds; a source of more than maxFeedItems is
// split over several feeds, since Recap keeps at most 1,000 items of a
// feed), `recap sources import` takes its OPML, `recap poll --once`
// fetches, stores and clusters, and `recap export articles` gives each
// article's story. Every item's id is "dev:" and the file's id, so the
// export's sightings map back to the file.

const maxFeedItems = 1000

// product runs the product and returns its story for each article of ds,
// by position (-1 where the export lacks it).
func product(ctx context.Context, ds *dataset, sources []string, stdout io.Writer) ([]int64, error) {
	dir, err := os.MkdirTemp("", "clustereval-product-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "recap")
	fmt.Fprintln(stdout, "product: building recap")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build (run from the repository's root): %w\n%s", err, out)
	}

	feeds := splitFeeds(ds, sources)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: feedHandler(ds, feeds), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	opml := filepath.Join(dir, "sources.opml")
	if err := writeOPML(opml, base, feeds); err != nil {
		return nil, err
	}
	db := filepath.Join(dir, "recap.db")
	recap := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, bin, append([]string{"--db", db, "--log-level", "warn"}, args...)...)
		cmd.Env = append(os.Environ(), "RECAP_ALLOW_PRIVATE_NETWORKS=true", "RECAP_WORKERS=8", "RECAP_PER_HOST_LIMIT=8")
		cmd.Stderr = os.Stderr
		return cmd.Output()
	}
	if _, err := recap("sources", "import", opml); err != nil {
		return nil, fmt.Errorf("recap sources import: %w", err)
	}
	fmt.Fprintf(stdout, "product: %d feeds imported; polling\n", len(feeds))
	start := time.Now()
	out, err := recap("poll", "--once")
	if err != nil {
		return nil, fmt.Errorf("recap poll --once: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, l := range lines[max(0, len(lines)-2):] {
		fmt.Fprintln(stdout, "product:", l)
	}
	fmt.Fprintf(stdout, "product: poll --once with clustering took %s\n", time.Since(start).Round(time.Millisecond))

	export, err := recap("export", "articles")
	if err != nil {
		return nil, fmt.Errorf("recap export articles: %w", err)
	}
	pos := make(map[string]int, len(ds.names))
	for i, n := range ds.names {
		pos[n] = i
	}
	story := make([]int64, len(ds.docs))
	for i := range story {
		story[i] = -1
	}
	articleStory := map[int64]int64{}
	sc := bufio.NewScanner(strings.NewReader(string(export)))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var a struct {
			ID      int64 `json:"id"`
			StoryID int64 `json:"story_id"`
			Seen    []struct {
				GUID string `json:"guid"`
			} `json:"seen"`
		}
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		articleStory[a.ID] = a.StoryID
		// Items with one URL are one article (dedupe level 2): each of its
		// sightings is a line of the file.
		for _, s := range a.Seen {
			if i, ok := pos[strings.TrimPrefix(s.GUID, "dev:")]; ok {
				story[i] = a.StoryID
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}

	// Every article's story must be stored, and list it.
	exported, err := recap("export", "stories")
	if err != nil {
		return nil, fmt.Errorf("recap export stories: %w", err)
	}
	holds := map[int64]map[int64]bool{}
	sc = bufio.NewScanner(strings.NewReader(string(exported)))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var st struct {
			ID       int64   `json:"id"`
			Articles []int64 `json:"articles"`
		}
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			return nil, fmt.Errorf("export stories: %w", err)
		}
		holds[st.ID] = map[int64]bool{}
		for _, a := range st.Articles {
			holds[st.ID][a] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	bad := 0
	for id, st := range articleStory {
		if !holds[st][id] {
			bad++
		}
	}
	fmt.Fprintf(stdout, "product: %d stories exported; %d articles whose story is missing or does not list them\n", len(holds), bad)
	if bad > 0 {
		return nil, fmt.Errorf("%d articles name a story that is not stored or does not list them", bad)
	}
	return story, nil
}

type feed struct {
	title string
	items []int // positions in the dataset
}

func splitFeeds(ds *dataset, sources []string) []feed {
	var out []feed
	at := map[string]int{}
	for i, src := range sources {
		k, ok := at[src]
		if !ok || len(out[k].items) == maxFeedItems {
			title := src
			if ok {
				title = fmt.Sprintf("%s (%d)", src, len(out[k].items)/maxFeedItems+1)
			}
			out = append(out, feed{title: title})
			k = len(out) - 1
			at[src] = k
		}
		out[k].items = append(out[k].items, i)
	}
	return out
}

func feedHandler(ds *dataset, feeds []feed) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/f/"), ".xml"))
		if err != nil || n < 0 || n >= len(feeds) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		bw := bufio.NewWriter(w)
		fmt.Fprintf(bw, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<feed xmlns="http://www.w3.org/2005/Atom"><title>%s</title><id>urn:feed:%d</id><updated>%s</updated>`,
			esc(feeds[n].title), n, time.Now().UTC().Format(time.RFC3339))
		for _, i := range feeds[n].items {
			d := ds.docs[i]
			fmt.Fprintf(bw, `<entry><id>dev:%s</id><title>%s</title><link href="%s"/><published>%s</published><updated>%s</updated>`,
				esc(ds.names[i]), esc(d.Title), esc(ds.urls[i]), d.Published.UTC().Format(time.RFC3339Nano), d.Published.UTC().Format(time.RFC3339Nano))
			if d.Summary != "" {
				fmt.Fprintf(bw, `<summary>%s</summary>`, esc(d.Summary))
			}
			bw.WriteString("</entry>")
		}
		bw.WriteString("</feed>\n")
		bw.Flush()
	})
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeOPML(path, base string, feeds []feed) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<opml version="2.0"><head><title>dev set</title></head><body>` + "\n")
	for i, fd := range feeds {
		fmt.Fprintf(w, `<outline type="rss" text="%s" title="%s" xmlUrl="%s/f/%d.xml"/>`+"\n", esc(fd.title), esc(fd.title), base, i)
	}
	w.WriteString("</body></opml>\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
