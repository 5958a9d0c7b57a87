package feeds_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"recap/feeds"
	"recap/store"
	"recap/store/sqlite"
)

// hostileMaxItems is the cap on items per feed.
const hostileMaxItems = 1000

// hostileNothingToStore lists the files where storing nothing without an
// error is the right outcome, with the number of items the parser must have
// read to get there: proof it parsed the file rather than gave up quietly.
var hostileNothingToStore = map[string]struct {
	items int
	why   string
}{
	"rss_namespace_bomb_attrs.xml": {0, "a channel without items, behind 50,000 namespace declarations"},
}

// TestHostileFeeds polls the hostile, huge and odd feeds of
// gen_hostile_feeds.py over HTTP into a fresh store: every one must end in
// articles or a recorded error, within the item cap and a time bound, with
// the memory it took logged. It needs RECAP_CORPUS (…/shared/corpus/feeds),
// as CI sets it; RECAP_HOSTILE_DIR, if set, keeps the generated files
// between runs.
func TestHostileFeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile feeds: 87 MB of input, skipped with -short")
	}
	dir := hostileFeedsDir(t)
	files := hostileFiles(t, dir)
	if len(files) < 39 {
		t.Fatalf("hostile set in %s has %d files, the generator makes 39", dir, len(files))
	}

	srv := httptest.NewServer(newHostileServer(t, dir, files))
	defer srv.Close()

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hostile.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// Every file plainly, and every third also gzipped: a small gzip body
	// may inflate past the size cap, which the fetcher must catch too.
	var sources []store.Source
	for i, f := range files {
		urls := []string{srv.URL + "/f/" + f.name}
		if i%3 == 0 {
			urls = append(urls, srv.URL+"/gz/"+f.name)
		}
		for _, u := range urls {
			s, err := st.AddSource(ctx, store.Source{URL: u, Filter: store.FilterAll})
			if err != nil {
				t.Fatal(err)
			}
			sources = append(sources, s)
		}
	}

	poller := feeds.NewPoller(feeds.PollerConfig{
		Store:   st,
		Fetcher: feeds.NewFetcher(feeds.FetcherConfig{AllowPrivateNetworks: true}),
		Workers: 4,
	})
	runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	sampler := startHostileSampler(50 * time.Millisecond)
	results := map[int64]feeds.Result{}
	start := time.Now()
	poller.PollAll(runCtx, sources, func(r feeds.Result) { results[r.Source.ID] = r })
	took := time.Since(start)
	peak := sampler.stop()
	if runCtx.Err() != nil {
		t.Fatalf("polling the hostile set did not finish within 3 minutes: %v", runCtx.Err())
	}

	stored, err := st.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	storedByID := map[int64]store.Source{}
	for _, s := range stored {
		storedByID[s.ID] = s
	}
	sizes := map[string]int64{}
	for _, f := range files {
		sizes[f.name] = f.size
	}

	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "file\tsize\titems\tstored\toutcome")
	for _, src := range sources {
		name := path.Base(src.URL)
		if strings.Contains(src.URL, "/gz/") {
			name += " (gzip)"
		}
		r, ok := results[src.ID]
		if !ok {
			t.Errorf("%s: no result from PollAll", name)
			continue
		}
		outcome := checkHostileOutcome(ctx, t, st, name, r, storedByID[src.ID])
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", name, sizes[path.Base(src.URL)], r.Items,
			r.New+r.Updated+r.Sightings, outcome)
	}
	tw.Flush()
	t.Logf("hostile feeds, %d files, %d sources, polled in %s:\n%s", len(files), len(sources), took.Round(time.Millisecond), table.String())
	t.Logf("memory: peak Go heap (objects) %.1f MiB, peak Go runtime total %.1f MiB, sampled every 50 ms during the run; process VmHWM %s (the whole test process, earlier tests included)",
		hostileMiB(peak.heapObjects), hostileMiB(peak.runtimeTotal), hostileVmHWM(t))
}

// checkHostileOutcome asserts the end state of one source and describes it.
func checkHostileOutcome(ctx context.Context, t *testing.T, st store.Store, name string, r feeds.Result, after store.Source) string {
	t.Helper()
	if r.Items > hostileMaxItems {
		t.Errorf("%s: %d items kept, over the cap of %d", name, r.Items, hostileMaxItems)
	}
	if after.Articles > hostileMaxItems {
		t.Errorf("%s: %d articles stored, over the cap of %d", name, after.Articles, hostileMaxItems)
	}
	fetches, err := st.Fetches(ctx, r.Source.ID, 1)
	if err != nil {
		t.Fatalf("%s: fetches: %v", name, err)
	}
	if len(fetches) != 1 {
		t.Errorf("%s: %d fetch records, want 1", name, len(fetches))
		return "no fetch record"
	}
	rec := fetches[0]
	if rec.Items > hostileMaxItems {
		t.Errorf("%s: fetch record says %d items, over the cap", name, rec.Items)
	}
	if r.Err != nil {
		msg := strings.TrimSpace(r.Err.Error())
		if rec.Err == "" || msg == "" {
			t.Errorf("%s: failed (%v) but the fetch record has no error", name, r.Err)
		}
		if after.LastError == "" || after.ErrorCount == 0 {
			t.Errorf("%s: failed (%v) but the source shows no error (last error %q, count %d)", name, r.Err, after.LastError, after.ErrorCount)
		}
		return "error: " + hostileShorten(msg, 110)
	}
	if rec.Err != "" {
		t.Errorf("%s: no error in the result but the fetch record says %q", name, rec.Err)
	}
	if n := r.New + r.Updated + r.Sightings; n > 0 {
		return fmt.Sprintf("%d articles (%d new, %d updated, %d sightings, %d skipped)", n, r.New, r.Updated, r.Sightings, r.Skipped)
	}
	if want, ok := hostileNothingToStore[path.Base(r.Source.URL)]; ok {
		if r.Items != want.items || r.Skipped != r.Items || r.Status != http.StatusOK {
			t.Errorf("%s: status %d, %d items, %d skipped; want 200 and %d items, all skipped (%s)",
				name, r.Status, r.Items, r.Skipped, want.items, want.why)
		}
		return fmt.Sprintf("nothing to store, as expected: %s", want.why)
	}
	t.Errorf("%s: neither articles nor a recorded error (status %d, %d items, %d skipped)", name, r.Status, r.Items, r.Skipped)
	return "NOTHING"
}

type hostileFile struct {
	name string
	size int64
}

func hostileFiles(t *testing.T, dir string) []hostileFile {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []hostileFile
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, hostileFile{e.Name(), info.Size()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files
}

// hostileFeedsDir returns a folder holding the generated set: the cache in
// RECAP_HOSTILE_DIR when it was made by the same generator, else a fresh
// generation.
func hostileFeedsDir(t *testing.T) string {
	t.Helper()
	corpus := os.Getenv("RECAP_CORPUS")
	if corpus == "" {
		t.Skip("RECAP_CORPUS is not set (…/shared/corpus/feeds); the hostile feed generator lives beside it")
	}
	gen := filepath.Join(corpus, "..", "tools", "gen_hostile_feeds.py")
	src, err := os.ReadFile(gen)
	if err != nil {
		t.Fatalf("RECAP_CORPUS is set but the generator is missing: %v", err)
	}
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Fatalf("RECAP_CORPUS is set but python3 is missing (needed for %s): %v", gen, err)
		}
	}
	sum := sha256.Sum256(src)
	stamp := hex.EncodeToString(sum[:])

	dir := os.Getenv("RECAP_HOSTILE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	marker := filepath.Join(dir, ".generated-by")
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == stamp {
		return dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, gen, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s %s: %v\n%s", py, gen, dir, err, out)
	}
	if err := os.WriteFile(marker, []byte(stamp+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newHostileServer serves each file at /f/NAME as is and at /gz/NAME
// gzipped, with the content type a web server gives its extension. XML gets
// no charset, so the document's own declaration (UTF-16, Latin-1) decides.
func newHostileServer(t *testing.T, dir string, files []hostileFile) http.Handler {
	t.Helper()
	gz := map[string][]byte{}
	var mu sync.Mutex
	gzipped := func(name string, body []byte) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if b, ok := gz[name]; ok {
			return b, nil
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(body); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		gz[name] = buf.Bytes()
		return buf.Bytes(), nil
	}
	known := map[string]bool{}
	for _, f := range files {
		known[f.name] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, name, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if !ok || !known[name] || (kind != "f" && kind != "gz") {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		switch strings.ToLower(filepath.Ext(name)) {
		case ".json":
			w.Header().Set("Content-Type", "application/feed+json")
		case ".html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		default:
			w.Header().Set("Content-Type", "application/xml")
		}
		if kind == "gz" {
			if body, err = gzipped(name, body); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

type hostilePeak struct {
	heapObjects  uint64 // bytes in heap objects, live or not yet swept
	runtimeTotal uint64 // all memory the Go runtime has mapped, less what it released
}

type hostileSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak hostilePeak
}

// startHostileSampler reads the runtime's memory figures every interval until
// stop, keeping the highest seen.
func startHostileSampler(every time.Duration) *hostileSampler {
	s := &hostileSampler{done: make(chan struct{})}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	read := func() {
		metrics.Read(samples)
		s.peak.heapObjects = max(s.peak.heapObjects, samples[0].Value.Uint64())
		s.peak.runtimeTotal = max(s.peak.runtimeTotal, samples[1].Value.Uint64()-samples[2].Value.Uint64())
	}
	read()
	s.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				read()
				return
			case <-tick.C:
				read()
			}
		}
	})
	return s
}

func (s *hostileSampler) stop() hostilePeak {
	close(s.done)
	s.wg.Wait()
	return s.peak
}

func hostileMiB(b uint64) float64 { return float64(b) / (1 << 20) }

// vmHWM is the process's peak resident memory from /proc/self/status.
func hostileVmHWM(t *testing.T) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fields := strings.Fields(v)
			if len(fields) == 0 {
				break
			}
			if kb, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
				return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
			}
		}
	}
	t.Logf("no VmHWM in /proc/self/status")
	return "unknown"
}

func hostileShorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
