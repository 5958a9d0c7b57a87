// Command ingest is Recap's ingest benchmark: 1,000 RSS feeds of 50 real AI
// news items, served from loopback by a separate process, ingested into a
// fresh SQLite store, then polled again (all 304s), against a floor of the
// same fetches parsed by gofeed alone. Every measured round runs in a child
// process of its own, so its CPU time and peak memory are its own.
//
// Run from the repository root:
//
//	go run ./bench/ingest                  # 3 runs, medians
//	go run ./bench/ingest -runs 1 -cpuprofile ingest.pprof
//	go run ./bench/ingest -hostile DIR     # peak memory polling the hostile set
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"recap/store/sqlite"
)

type options struct {
	data       string
	feeds      int
	items      int
	runs       int
	seed       uint64
	hosts      int
	workers    int
	cpuProfile string
	profRound  string
	keep       bool
	hostile    string

	// Modes of the child processes.
	serve    string
	round    string
	urlsFile string
	dbPath   string
}

func main() {
	var o options
	flag.StringVar(&o.data, "data", "../shared/data/ai-news-items.jsonl.gz", "the real AI news items the feeds are built from")
	flag.IntVar(&o.feeds, "feeds", 1000, "number of feeds")
	flag.IntVar(&o.items, "items", 50, "items per feed")
	flag.IntVar(&o.runs, "runs", 3, "repeats; the figures are medians")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the choice of items per feed")
	flag.IntVar(&o.hosts, "hosts", 16, "loopback hosts the feeds spread across (127.0.0.1 ...)")
	flag.IntVar(&o.workers, "workers", 8, "poller workers")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the first run's -profileround to this file")
	flag.StringVar(&o.profRound, "profileround", "ingest", "the round -cpuprofile profiles: floor, ingest or recheck")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (feeds, databases)")
	flag.StringVar(&o.hostile, "hostile", "", "instead: poll the files of this folder (gen_hostile_feeds.py output) and report peak memory")
	flag.StringVar(&o.serve, "serve", "", "internal: serve this folder's files")
	flag.StringVar(&o.round, "round", "", "internal: run one round (setup, floor, ingest, recheck, hostile)")
	flag.StringVar(&o.urlsFile, "urls", "", "internal: file of feed URLs, one a line")
	flag.StringVar(&o.dbPath, "db", "", "internal: SQLite file")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var err error
	switch {
	case o.serve != "":
		err = runServe(ctx, o.serve, o.hosts, os.Stdin, os.Stdout)
	case o.round != "":
		err = runRound(ctx, roundConfig{
			round: o.round, urlsFile: o.urlsFile, dbPath: o.dbPath,
			workers: o.workers, cpuProfile: o.cpuProfile, logger: logger,
		}, os.Stdout)
	case o.hostile != "":
		err = runHostile(ctx, o, os.Stdout)
	default:
		err = runBench(ctx, o, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingest bench:", err)
		os.Exit(1)
	}
}

// bench holds what the parent process needs to start its children.
type bench struct {
	exe     string
	tmp     string
	workers int
}

// child runs one round in a fresh process and returns its figures.
func (b *bench) child(ctx context.Context, round, urlsFile, dbPath, cpuProfile string) (roundResult, error) {
	args := []string{"-round", round, "-workers", fmt.Sprint(b.workers)}
	if urlsFile != "" {
		args = append(args, "-urls", urlsFile)
	}
	if dbPath != "" {
		args = append(args, "-db", dbPath)
	}
	if cpuProfile != "" {
		args = append(args, "-cpuprofile", cpuProfile)
	}
	cmd := exec.CommandContext(ctx, b.exe, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return roundResult{}, fmt.Errorf("round %s: %w", round, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res roundResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return roundResult{}, fmt.Errorf("round %s output %q: %w", round, out.String(), err)
	}
	return res, nil
}

// startServer starts the feed server process on dir and returns its
// addresses; stop ends it (closing its stdin, then killing it if need be).
func (b *bench) startServer(ctx context.Context, dir string, hosts int) (addrs []string, stop func(), err error) {
	cmd := exec.CommandContext(ctx, b.exe, "-serve", dir, "-hosts", fmt.Sprint(hosts))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("feed server: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("feed server: %w", err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("feed server: %w", err)
	}
	stop = func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	type lineOrErr struct {
		line string
		err  error
	}
	first := make(chan lineOrErr, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		first <- lineOrErr{line, err}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var got lineOrErr
	select {
	case got = <-first:
	case <-time.After(2 * time.Minute):
		got.err = errors.New("no address line within 2 minutes")
	}
	if got.err != nil {
		stop()
		return nil, nil, fmt.Errorf("feed server: %w", got.err)
	}
	var info serveInfo
	if err := json.Unmarshal([]byte(got.line), &info); err != nil || len(info.Addrs) == 0 {
		stop()
		return nil, nil, fmt.Errorf("feed server said %q: %v", got.line, err)
	}
	return info.Addrs, stop, nil
}

func newBench(workers int, keep bool) (*bench, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("find own executable: %w", err)
	}
	tmp, err := os.MkdirTemp("", "recap-bench-")
	if err != nil {
		return nil, nil, fmt.Errorf("temp dir: %w", err)
	}
	cleanup := func() {
		if keep {
			fmt.Fprintln(os.Stderr, "kept", tmp)
			return
		}
		os.RemoveAll(tmp)
	}
	return &bench{exe: exe, tmp: tmp, workers: workers}, cleanup, nil
}

func writeLines(path string, lines []string) error {
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

type runFigures struct {
	floor, ingest, recheck roundResult
	acct                   accounting
}

func runBench(ctx context.Context, o options, w io.Writer) error {
	if o.runs < 1 || o.feeds < 1 || o.items < 1 {
		return errors.New("-runs, -feeds and -items must be at least 1")
	}
	pool, err := loadItems(o.data)
	if err != nil {
		return err
	}
	set, err := buildFeeds(pool, o.feeds, o.items, o.seed)
	if err != nil {
		return err
	}
	b, cleanup, err := newBench(o.workers, o.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	feedDir := filepath.Join(b.tmp, "feeds")
	if err := os.Mkdir(feedDir, 0o755); err != nil {
		return fmt.Errorf("feeds dir: %w", err)
	}
	if err := writeFeeds(feedDir, set); err != nil {
		return err
	}
	addrs, stopServer, err := b.startServer(ctx, feedDir, o.hosts)
	if err != nil {
		return err
	}
	defer stopServer()
	urls := make([]string, len(set.Feeds))
	for i, g := range set.Feeds {
		urls[i] = "http://" + addrs[i%len(addrs)] + "/f/" + g.Name
	}
	urlsFile := filepath.Join(b.tmp, "urls.txt")
	if err := writeLines(urlsFile, urls); err != nil {
		return err
	}
	want := expect(set, urls)
	fmt.Fprintf(w, "workload: %d feeds x %d items = %d items, %.1f MB of RSS (%d bytes), %d distinct canonical links, %d hosts, %d workers\n",
		o.feeds, o.items, want.items, float64(set.Bytes)/1e6, set.Bytes, len(want.articles), len(addrs), o.workers)

	var runs []runFigures
	for run := 1; run <= o.runs; run++ {
		var f runFigures
		profile := func(round string) string {
			if run == 1 && round == o.profRound {
				return o.cpuProfile
			}
			return ""
		}
		if f.floor, err = b.child(ctx, "floor", urlsFile, "", profile("floor")); err != nil {
			return err
		}
		db := filepath.Join(b.tmp, fmt.Sprintf("run%d.db", run))
		if _, err = b.child(ctx, "setup", urlsFile, db, ""); err != nil {
			return err
		}
		if f.ingest, err = b.child(ctx, "ingest", "", db, profile("ingest")); err != nil {
			return err
		}
		if f.acct, err = verifyDB(ctx, db, want); err != nil {
			return err
		}
		if f.recheck, err = b.child(ctx, "recheck", "", db, profile("recheck")); err != nil {
			return err
		}
		runs = append(runs, f)
		fmt.Fprintf(os.Stderr, "run %d: floor %.2fs, ingest %.2fs, recheck %.2fs, accounted=%s\n",
			run, f.floor.WallS, f.ingest.WallS, f.recheck.WallS, f.acct)
		if !o.keep {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(db + suffix)
			}
		}
	}
	report(w, runs, len(set.Feeds))
	return nil
}

func verifyDB(ctx context.Context, path string, want *expectation) (accounting, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return accounting{}, err
	}
	defer st.Close()
	return verifyStore(ctx, st, want)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func perSecond(n int, s float64) float64 {
	if s <= 0 {
		return 0
	}
	return float64(n) / s
}

// report prints every run's rounds as a table, then the medians as one
// line per round for scripts, the accounting and the ingest/floor ratio.
func report(w io.Writer, runs []runFigures, feeds int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tround\twall_s\tcpu_s\tpeak_mib\talloc_mib\titems\titems/s\tnew\tsightings\t304s\terrors\t")
	for i, r := range runs {
		for _, rr := range []roundResult{r.floor, r.ingest, r.recheck} {
			fmt.Fprintf(tw, "%d\t%s\t%.2f\t%.2f\t%.0f\t%.0f\t%d\t%.0f\t%d\t%d\t%d\t%d\t\n",
				i+1, rr.Round, rr.WallS, rr.CPUS, rr.PeakMiB, rr.AllocMiB, rr.Items, perSecond(rr.Items, rr.WallS),
				rr.New, rr.Sightings, rr.NotModified, rr.Errors)
		}
	}
	tw.Flush()
	for _, r := range runs {
		for _, rr := range []roundResult{r.floor, r.ingest, r.recheck} {
			if rr.FirstErr != "" {
				fmt.Fprintf(w, "first error in %s: %s\n", rr.Round, rr.FirstErr)
			}
		}
		for _, ex := range r.acct.Examples {
			fmt.Fprintf(w, "accounting: %s\n", ex)
		}
	}

	pick := func(get func(runFigures) roundResult, field func(roundResult) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = field(get(r))
		}
		return median(xs)
	}
	rounds := []struct {
		name string
		get  func(runFigures) roundResult
	}{
		{"floor", func(r runFigures) roundResult { return r.floor }},
		{"ingest", func(r runFigures) roundResult { return r.ingest }},
		{"recheck", func(r runFigures) roundResult { return r.recheck }},
	}
	fmt.Fprintf(w, "medians of %d run(s):\n", len(runs))
	for _, rd := range rounds {
		wall := pick(rd.get, func(r roundResult) float64 { return r.WallS })
		items := pick(rd.get, func(r roundResult) float64 { return float64(r.Items) })
		line := fmt.Sprintf("round=%s wall_s=%.2f cpu_s=%.2f peak_mib=%.0f items=%.0f items_per_s=%.0f",
			rd.name, wall,
			pick(rd.get, func(r roundResult) float64 { return r.CPUS }),
			pick(rd.get, func(r roundResult) float64 { return r.PeakMiB }),
			items,
			pick(rd.get, func(r roundResult) float64 { return perSecond(r.Items, r.WallS) }))
		if rd.name == "recheck" {
			line += fmt.Sprintf(" not_modified=%.0f/%d feeds_per_s=%.0f",
				pick(rd.get, func(r roundResult) float64 { return float64(r.NotModified) }), feeds,
				pick(rd.get, func(r roundResult) float64 { return perSecond(r.Feeds, r.WallS) }))
		}
		fmt.Fprintln(w, line)
	}
	acct := "ok"
	for i, r := range runs {
		if !r.acct.ok() {
			acct = fmt.Sprintf("run%d: %s", i+1, r.acct)
			break
		}
	}
	fmt.Fprintf(w, "accounted=%s\n", acct)
	// The CPU ratio is printed beside the wall one because it moves less
	// when something else runs on the machine.
	ratios := make([]float64, len(runs))
	cpuRatios := make([]float64, len(runs))
	for i, r := range runs {
		ratios[i] = r.ingest.WallS / r.floor.WallS
		cpuRatios[i] = r.ingest.CPUS / r.floor.CPUS
	}
	fmt.Fprintf(w, "ratio_ingest_to_floor_cpu=%.2f\n", median(cpuRatios))
	fmt.Fprintf(w, "ratio_ingest_to_floor=%.2f\n", median(ratios))
}
