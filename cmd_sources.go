package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"recap/feeds"
	"recap/store"
)

func (a *app) sources(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(a.stderr, "recap sources: want one of list, add, remove, import, export")
		return errUsage
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list":
		return a.sourcesList(ctx, args)
	case "add":
		return a.sourcesAdd(ctx, args)
	case "remove", "rm":
		return a.sourcesRemove(ctx, args)
	case "import":
		return a.sourcesImport(ctx, args)
	case "export":
		return a.sourcesExport(ctx, args)
	}
	fmt.Fprintf(a.stderr, "recap sources: unknown command %q: want one of list, add, remove, import, export\n", sub)
	return errUsage
}

func (a *app) sourcesList(ctx context.Context, args []string) error {
	return a.withSources(ctx, "sources list", args, func(srcs []store.Source) error {
		return a.printSources(srcs)
	})
}

// withSources runs a command that takes no arguments and reads the sources.
func (a *app) withSources(ctx context.Context, name string, args []string, fn func([]store.Source) error) error {
	fs := a.flagSet(name)
	if err := a.parseCommand(fs, args); err != nil {
		return err
	}
	if err := noArgs(name, fs.Args(), a); err != nil {
		return err
	}
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	srcs, err := s.Sources(ctx)
	if err != nil {
		return fmt.Errorf("list sources: %w", err)
	}
	return fn(srcs)
}

func (a *app) printSources(srcs []store.Source) error {
	now := time.Now()
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tFILTER\tARTICLES\tLAST CHECK\tNEXT CHECK\tURL\tLAST ERROR")
	for _, src := range srcs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", src.ID, sourceStatus(src), src.Filter, src.Articles,
			ago(now, src.LastCheck), until(now, src.NextCheck), src.URL, oneLine(src.LastError, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d sources\n", len(srcs))
	return nil
}

func sourceStatus(s store.Source) string {
	switch {
	case !s.Enabled:
		return "disabled"
	case s.LastCheck.IsZero():
		return "new"
	case s.ErrorCount > 0:
		return fmt.Sprintf("error×%d", s.ErrorCount)
	case s.LastStatus == 304:
		return "ok (304)"
	}
	return "ok"
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}

func until(now, t time.Time) string {
	if t.IsZero() || !t.After(now) {
		return "due"
	}
	return "in " + t.Sub(now).Round(time.Second).String()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func noArgs(cmd string, args []string, a *app) error {
	if len(args) > 0 {
		fmt.Fprintf(a.stderr, "recap %s: unexpected argument %q\n", cmd, args[0])
		return errUsage
	}
	return nil
}

func (a *app) sourcesAdd(ctx context.Context, args []string) error {
	fs := a.flagSet("sources add")
	title := fs.String("title", "", "the source's title (default: the feed's own)")
	filter := fs.String("filter", store.FilterAll, `"all": every item is AI news; "ai": keep only items that look like AI news`)
	weight := fs.Float64("weight", 1, "how much the outlet counts when ranking (> 0)")
	interval := fs.Duration("interval", 0, "fixed polling interval from 5m to 24h (default: adapt to the feed)")
	if err := a.parseCommand(fs, reorderFlags(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(a.stderr, "recap sources add: want exactly one feed URL")
		return errUsage
	}
	o := feeds.OPMLSource{URL: fs.Arg(0), Title: *title, Filter: *filter, Weight: *weight, Interval: *interval}
	if err := o.Check(); err != nil {
		return err
	}
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	src, err := s.AddSource(ctx, o.StoreSource())
	if errors.Is(err, store.ErrExists) {
		return fmt.Errorf("source %s is already there", o.URL)
	}
	if err != nil {
		return fmt.Errorf("add source: %w", err)
	}
	fmt.Fprintf(a.stdout, "added source %d: %s\n", src.ID, src.URL)
	return nil
}

// reorderFlags lets flags follow the positional argument
// (`sources add URL --filter ai`), which the flag package alone refuses.
func reorderFlags(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(arg, "-") && arg != "-" {
			flags = append(flags, arg)
			// A flag with its value in the next argument.
			if !strings.Contains(arg, "=") && i+1 < len(args) && !isBoolFlag(arg) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, arg)
	}
	return append(append(flags, "--"), pos...)
}

func isBoolFlag(arg string) bool {
	name := strings.TrimLeft(arg, "-")
	for _, o := range options {
		if o.flag == name {
			return o.isBool
		}
	}
	return name == "h" || name == "help"
}

// addSources adds each source (checked by ParseOPML), skipping those already present.
func addSources(ctx context.Context, s store.Store, list []feeds.OPMLSource) (added, present int, err error) {
	for _, o := range list {
		_, err := s.AddSource(ctx, o.StoreSource())
		switch {
		case errors.Is(err, store.ErrExists):
			present++
		case err != nil:
			return added, present, fmt.Errorf("add source %s: %w", o.URL, err)
		default:
			added++
		}
	}
	return added, present, nil
}

func (a *app) sourcesRemove(ctx context.Context, args []string) error {
	fs := a.flagSet("sources remove")
	if err := a.parseCommand(fs, reorderFlags(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(a.stderr, "recap sources remove: want exactly one source ID (see sources list)")
		return errUsage
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("source ID %q: want a positive whole number (see sources list)", fs.Arg(0))
	}
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	src, err := s.Source(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no source with ID %d (see sources list)", id)
	}
	if err != nil {
		return fmt.Errorf("source %d: %w", id, err)
	}
	if err := s.RemoveSource(ctx, id); err != nil {
		return fmt.Errorf("remove source %d: %w", id, err)
	}
	fmt.Fprintf(a.stdout, "removed source %d: %s (its articles stay)\n", id, src.URL)
	return nil
}

func (a *app) sourcesImport(ctx context.Context, args []string) error {
	fs := a.flagSet("sources import")
	if err := a.parseCommand(fs, reorderFlags(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(a.stderr, `recap sources import: want one OPML file ("-" for standard input)`)
		return errUsage
	}
	var r io.Reader = a.stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		r = f
	}
	list, err := feeds.ParseOPML(r)
	if err != nil {
		return fmt.Errorf("import %s: %w", fs.Arg(0), err)
	}
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	added, present, err := addSources(ctx, s, list)
	if err != nil {
		return fmt.Errorf("import %s: %w (%d added before it)", fs.Arg(0), err, added)
	}
	fmt.Fprintf(a.stdout, "imported %d sources (%d already present)\n", added, present)
	return nil
}

func (a *app) sourcesExport(ctx context.Context, args []string) error {
	return a.withSources(ctx, "sources export", args, func(srcs []store.Source) error {
		return feeds.WriteOPML(a.stdout, "Recap sources", srcs)
	})
}
