// Command recap is a self-hosted AI news aggregator: it polls RSS, Atom and
// JSON feeds, keeps every article once and (next issues) serves them.
package main

import (
	// The digest's weeks are in --timezone: the zone database comes with
	// the binary, for machines without /usr/share/zoneinfo.
	_ "time/tzdata"

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "recap:", err)
		os.Exit(1)
	}
}

// run is the whole command line, with its environment and streams passed in
// so tests drive it like a user would.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	app, rest, err := parseGlobal(args, getenv, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	app.stdin, app.stdout, app.stderr = stdin, stdout, stderr
	cmd := "serve"
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		err = app.serve(ctx, rest)
	case "poll":
		err = app.poll(ctx, rest)
	case "sources":
		err = app.sources(ctx, rest)
	case "export":
		err = app.export(ctx, rest)
	case "digest":
		err = app.digestCmd(ctx, rest)
	case "help":
		app.usage(stdout)
	default:
		fmt.Fprintf(stderr, "recap: unknown command %q\n\n", cmd)
		app.usage(stderr)
		err = errUsage
	}
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}
