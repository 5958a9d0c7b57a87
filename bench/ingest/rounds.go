package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mmcdole/gofeed"

	"recap/feeds"
	"recap/store"
	"recap/store/sqlite"
)

// roundResult is the one JSON line a round's child process prints.
type roundResult struct {
	Round       string  `json:"round"`
	WallS       float64 `json:"wall_s"`
	CPUS        float64 `json:"cpu_s"`
	PeakMiB     float64 `json:"peak_mib"`
	AllocMiB    float64 `json:"alloc_mib"` // Go heap allocated during the round
	Feeds       int     `json:"feeds"`
	Items       int     `json:"items"` // items parsed
	Bytes       int64   `json:"bytes"` // body bytes on the wire
	New         int     `json:"new"`
	Updated     int     `json:"updated"`
	Sightings   int     `json:"sightings"`
	NotModified int     `json:"not_modified"`
	Errors      int     `json:"errors"`
	FirstErr    string  `json:"first_err,omitempty"`

	Outcomes []feedOutcome `json:"outcomes,omitempty"` // hostile round only
}

// feedOutcome is what polling one hostile file came to.
type feedOutcome struct {
	URL      string `json:"url"`
	Items    int    `json:"items"`
	Articles int    `json:"articles"` // new + updated + sightings
	Skipped  int    `json:"skipped"`
	Err      string `json:"err,omitempty"`
}

type roundConfig struct {
	round      string
	urlsFile   string
	dbPath     string
	workers    int
	cpuProfile string
	logger     *slog.Logger
}

// runRound is a child's whole life: one round, measured alone, one JSON line out.
func runRound(ctx context.Context, cfg roundConfig, stdout io.Writer) error {
	var res roundResult
	var err error
	switch cfg.round {
	case "setup":
		res, err = roundSetup(ctx, cfg)
	case "floor":
		res, err = roundFloor(ctx, cfg)
	case "ingest", "recheck":
		res, err = roundPoll(ctx, cfg, false)
	case "hostile":
		res, err = roundPoll(ctx, cfg, true)
	default:
		return fmt.Errorf("unknown round %q (setup, floor, ingest, recheck, hostile)", cfg.round)
	}
	if err != nil {
		return fmt.Errorf("round %s: %w", cfg.round, err)
	}
	res.Round = cfg.round
	line, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("round %s: %w", cfg.round, err)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", line)
	return err
}

func readURLs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read urls: %w", err)
	}
	defer f.Close()
	var urls []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if u := strings.TrimSpace(sc.Text()); u != "" {
			urls = append(urls, u)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read urls %s: %w", path, err)
	}
	return urls, nil
}

// roundSetup makes the fresh store the ingest round fills: the sources only.
func roundSetup(ctx context.Context, cfg roundConfig) (roundResult, error) {
	urls, err := readURLs(cfg.urlsFile)
	if err != nil {
		return roundResult{}, err
	}
	st, err := sqlite.Open(ctx, cfg.dbPath)
	if err != nil {
		return roundResult{}, err
	}
	defer st.Close()
	if err := addSources(ctx, st, urls); err != nil {
		return roundResult{}, err
	}
	return roundResult{Feeds: len(urls)}, nil
}

func addSources(ctx context.Context, st store.Store, urls []string) error {
	for _, u := range urls {
		if _, err := st.AddSource(ctx, store.Source{URL: u, Filter: store.FilterAll}); err != nil {
			return fmt.Errorf("add source: %w", err)
		}
	}
	return nil
}

// meter measures the timed part of a round: wall, CPU, heap allocations,
// and optionally a CPU profile.
type meter struct {
	start   time.Time
	u0      usage
	alloc0  uint64
	profile *os.File
}

func startMeter(cpuProfile string) (*meter, error) {
	m := &meter{}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		m.profile = f
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.alloc0 = ms.TotalAlloc
	u, err := readUsage()
	if err != nil {
		return nil, err
	}
	m.u0, m.start = u, time.Now()
	return m, nil
}

func (m *meter) stop(res *roundResult) error {
	wall := time.Since(m.start)
	u, err := readUsage()
	if err != nil {
		return err
	}
	if m.profile != nil {
		pprof.StopCPUProfile()
		if err := m.profile.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.WallS = wall.Seconds()
	res.CPUS = (u.cpu - m.u0.cpu).Seconds()
	res.PeakMiB = float64(u.peakKiB) / 1024
	res.AllocMiB = float64(ms.TotalAlloc-m.alloc0) / (1 << 20)
	return nil
}

// roundFloor is the floor: the same fetches with Recap's fetcher, parsed by
// gofeed's universal parser, nothing normalized or stored.
func roundFloor(ctx context.Context, cfg roundConfig) (roundResult, error) {
	urls, err := readURLs(cfg.urlsFile)
	if err != nil {
		return roundResult{}, err
	}
	fetcher := feeds.NewFetcher(feeds.FetcherConfig{AllowPrivateNetworks: true})
	res := roundResult{Feeds: len(urls)}
	m, err := startMeter(cfg.cpuProfile)
	if err != nil {
		return res, err
	}
	jobs := make(chan string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range cfg.workers {
		wg.Go(func() {
			parser := gofeed.NewParser()
			for u := range jobs {
				items, n, err := floorOne(ctx, fetcher, parser, u)
				mu.Lock()
				res.Items += items
				res.Bytes += n
				if err != nil {
					res.Errors++
					if res.FirstErr == "" {
						res.FirstErr = err.Error()
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, u := range urls {
		jobs <- u
	}
	close(jobs)
	wg.Wait()
	return res, m.stop(&res)
}

func floorOne(ctx context.Context, f *feeds.Fetcher, p *gofeed.Parser, u string) (items int, wire int64, err error) {
	resp, err := f.Fetch(ctx, feeds.FetchRequest{URL: u})
	if resp != nil {
		wire = resp.WireBytes
	}
	if err != nil {
		return 0, wire, err
	}
	feed, err := p.Parse(bytes.NewReader(resp.Body))
	if err != nil {
		return 0, wire, fmt.Errorf("parse %s: %w", u, err)
	}
	return len(feed.Items), wire, nil
}

// roundPoll runs Recap's poller over every source of the store: the ingest
// round on a fresh store, the recheck round on the same store again. The
// hostile round adds the sources first and reports each one's outcome.
func roundPoll(ctx context.Context, cfg roundConfig, hostile bool) (roundResult, error) {
	st, err := sqlite.Open(ctx, cfg.dbPath)
	if err != nil {
		return roundResult{}, err
	}
	defer st.Close()
	if hostile {
		urls, err := readURLs(cfg.urlsFile)
		if err != nil {
			return roundResult{}, err
		}
		if err := addSources(ctx, st, urls); err != nil {
			return roundResult{}, err
		}
	}
	sources, err := st.Sources(ctx)
	if err != nil {
		return roundResult{}, err
	}
	poller := feeds.NewPoller(feeds.PollerConfig{
		Store:   st,
		Fetcher: feeds.NewFetcher(feeds.FetcherConfig{AllowPrivateNetworks: true}),
		Workers: cfg.workers,
		Logger:  cfg.logger,
	})
	res := roundResult{Feeds: len(sources)}
	m, err := startMeter(cfg.cpuProfile)
	if err != nil {
		return res, err
	}
	poller.PollAll(ctx, sources, func(r feeds.Result) {
		res.Items += r.Items
		res.Bytes += r.Bytes
		res.New += r.New
		res.Updated += r.Updated
		res.Sightings += r.Sightings
		if r.NotModified {
			res.NotModified++
		}
		if r.Err != nil {
			res.Errors++
			if res.FirstErr == "" {
				res.FirstErr = r.Err.Error()
			}
		}
		if hostile {
			o := feedOutcome{URL: r.Source.URL, Items: r.Items, Articles: r.New + r.Updated + r.Sightings, Skipped: r.Skipped}
			if r.Err != nil {
				o.Err = r.Err.Error()
			}
			res.Outcomes = append(res.Outcomes, o)
		}
	})
	if err := m.stop(&res); err != nil {
		return res, err
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("poll: %w", ctx.Err())
	}
	sort.Slice(res.Outcomes, func(i, j int) bool { return res.Outcomes[i].URL < res.Outcomes[j].URL })
	return res, nil
}
