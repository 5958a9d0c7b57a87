package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// maxFeedItems is Recap's cap on items per feed (issue 2).
const maxFeedItems = 1000

// runHostile polls every file of dir (the output of gen_hostile_feeds.py)
// in one fresh child process and reports each file's outcome and the
// process's peak memory. Every fourth file is also served gzipped, so the
// decompression cap is exercised too.
func runHostile(ctx context.Context, o options, w io.Writer) error {
	entries, err := os.ReadDir(o.hostile)
	if err != nil {
		return fmt.Errorf("hostile: %w (make it with: python3 ../shared/corpus/tools/gen_hostile_feeds.py DIR)", err)
	}
	var names []string
	var total int64
	sizes := map[string]int64{}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("hostile: %w", err)
		}
		names = append(names, e.Name())
		sizes[e.Name()] = info.Size()
		total += info.Size()
	}
	if len(names) == 0 {
		return fmt.Errorf("hostile: no files in %s", o.hostile)
	}
	sort.Strings(names)

	b, cleanup, err := newBench(o.workers, o.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	addrs, stopServer, err := b.startServer(ctx, o.hostile, o.hosts)
	if err != nil {
		return err
	}
	defer stopServer()
	var urls []string
	for i, n := range names {
		host := addrs[i%len(addrs)]
		urls = append(urls, "http://"+host+"/f/"+n)
		if i%4 == 0 {
			urls = append(urls, "http://"+host+"/gz/"+n)
		}
	}
	urlsFile := filepath.Join(b.tmp, "urls.txt")
	if err := writeLines(urlsFile, urls); err != nil {
		return err
	}
	res, err := b.child(ctx, "hostile", urlsFile, filepath.Join(b.tmp, "hostile.db"), "")
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "hostile set: %d files, %.1f MB, %d URLs (every 4th also gzipped)\n", len(names), float64(total)/1e6, len(urls))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "file\tsize\titems\tarticles\tskipped\toutcome")
	problems := 0
	sort.SliceStable(res.Outcomes, func(i, j int) bool {
		return path.Base(res.Outcomes[i].URL)+path.Dir(res.Outcomes[i].URL) < path.Base(res.Outcomes[j].URL)+path.Dir(res.Outcomes[j].URL)
	})
	for _, oc := range res.Outcomes {
		name := path.Base(oc.URL)
		if path.Base(path.Dir(oc.URL)) == "gz" {
			name += " (gzip)"
		}
		outcome := "articles"
		switch {
		case oc.Err != "":
			outcome = "error: " + shortText(oc.Err, 100)
		case oc.Items > maxFeedItems:
			outcome = fmt.Sprintf("PROBLEM: %d items, over the cap", oc.Items)
			problems++
		case oc.Articles == 0 && oc.Items == 0:
			outcome = "empty feed, no error"
		case oc.Articles == 0 && oc.Skipped == oc.Items:
			outcome = fmt.Sprintf("nothing stored: all %d items skipped, no error recorded", oc.Items)
		case oc.Articles == 0:
			outcome = "PROBLEM: items neither stored nor skipped, and no error"
			problems++
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", name, sizes[path.Base(oc.URL)], oc.Items, oc.Articles, oc.Skipped, outcome)
	}
	tw.Flush()
	if len(res.Outcomes) != len(urls) {
		problems++
		fmt.Fprintf(w, "PROBLEM: %d outcomes for %d URLs\n", len(res.Outcomes), len(urls))
	}
	fmt.Fprintf(w, "round=hostile wall_s=%.2f cpu_s=%.2f peak_mib=%.0f alloc_mib=%.0f urls=%d errors=%d problems=%d\n",
		res.WallS, res.CPUS, res.PeakMiB, res.AllocMiB, len(urls), res.Errors, problems)
	return nil
}

func shortText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
