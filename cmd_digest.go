package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"recap/digest"
	"recap/server"
)

// digestCmd prints a week's digest: `recap digest --week 2026-W48 --format md|html|json`.
// Without --week it is the current week so far, in --timezone. The HTML is
// the page /digest/{week} serves; the Markdown says the same.
func (a *app) digestCmd(ctx context.Context, args []string) error {
	fs := a.flagSet("digest")
	week := fs.String("week", "", "the ISO week, such as 2026-W48 (default: the current week so far, in --timezone)")
	format := fs.String("format", "md", "md (Markdown), html (the web page) or json")
	if err := a.parseCommand(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "recap digest: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	switch *format {
	case "md", "markdown", "html", "json":
	default:
		return fmt.Errorf("digest: --format %q: want md, html or json", *format)
	}
	loc := a.cfg.Location
	w := digest.WeekOf(a.now(), loc)
	if *week != "" {
		var err error
		if w, err = digest.ParseWeek(strings.TrimSpace(*week)); err != nil {
			return fmt.Errorf("digest: --week %q: %w (weeks are written like 2026-W48)", *week, err)
		}
	}
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	base := a.cfg.BaseURL
	if base == "" {
		base = "http://" + a.cfg.Addr
	}
	var out []byte
	switch *format {
	case "html":
		srv, err := server.New(server.Config{Store: s, BaseURL: base, Log: a.log, Location: loc, Now: a.now})
		if err != nil {
			return err
		}
		if out, err = srv.DigestHTML(ctx, w); err != nil {
			return fmt.Errorf("digest %s: %w", w, err)
		}
	default:
		d, err := digest.Build(ctx, s, w, loc, a.now(), digest.DefaultOptions())
		if err != nil {
			return fmt.Errorf("digest %s: %w", w, err)
		}
		if *format == "json" {
			if out, err = json.MarshalIndent(d, "", "  "); err != nil {
				return fmt.Errorf("digest %s: %w", w, err)
			}
			out = append(out, '\n')
		} else {
			out = []byte(digest.Markdown(d, base))
		}
	}
	_, err = a.stdout.Write(out)
	return err
}
