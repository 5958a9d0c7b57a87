package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"recap/feeds"
	"recap/server"
	"recap/store"
	"recap/store/sqlite"
)

// errUsage: a wrong command or flag; the message was already printed.
var errUsage = errors.New("usage")

// config is every global setting; each has a flag and an environment twin.
type config struct {
	DB                   string
	AllowPrivateNetworks bool
	LogLevel             slog.Level
	UserAgent            string
	Workers              int
	PerHostLimit         int
	FetchTimeout         time.Duration
	Addr                 string // where serve listens
	BaseURL              string // public URL of the site; "" derives it from Addr

	// Location is the time zone of the weekly digest's weeks.
	Location *time.Location

	// The optional LLM analysis: on when LLMURL and LLMModel are both set.
	LLMURL          string
	LLMModel        string
	LLMMinOutlets   int
	LLMCallsPerHour int
	LLMTimeout      time.Duration
}

// option is one setting: its flag, its environment variable, its default
// and its check, all in one place.
type option struct {
	flag, env, def, usage string
	isBool                bool
	set                   func(c *config, v string) error
}

var options = []option{
	{flag: "db", env: "RECAP_DB", def: "recap.db",
		usage: "database: an SQLite file path (postgres:// URLs are reserved for the PostgreSQL backend)",
		set: func(c *config, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must not be empty")
			}
			c.DB = v
			return nil
		}},
	{flag: "allow-private-networks", env: "RECAP_ALLOW_PRIVATE_NETWORKS", def: "false", isBool: true,
		usage: "allow fetching feeds from loopback, private and link-local addresses",
		set: func(c *config, v string) (err error) {
			c.AllowPrivateNetworks, err = strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not a boolean (true or false)", v)
			}
			return nil
		}},
	{flag: "log-level", env: "RECAP_LOG_LEVEL", def: "info",
		usage: "log level: debug, info, warn or error",
		set: func(c *config, v string) error {
			if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("%q is not one of debug, info, warn, error", v)
			}
			return nil
		}},
	{flag: "user-agent", env: "RECAP_USER_AGENT", def: feeds.DefaultUserAgent(),
		usage: "User-Agent header sent with every fetch",
		set: func(c *config, v string) error {
			if strings.TrimSpace(v) == "" || strings.ContainsAny(v, "\r\n") {
				return errors.New("must be one non-empty line")
			}
			c.UserAgent = v
			return nil
		}},
	{flag: "workers", env: "RECAP_WORKERS", def: "8",
		usage: "number of sources fetched at once",
		set:   func(c *config, v string) error { return setInt(&c.Workers, v, 1, 256) }},
	{flag: "per-host-limit", env: "RECAP_PER_HOST_LIMIT", def: "2",
		usage: "at most this many requests in flight to one host",
		set:   func(c *config, v string) error { return setInt(&c.PerHostLimit, v, 1, 64) }},
	{flag: "fetch-timeout", env: "RECAP_FETCH_TIMEOUT", def: "30s",
		usage: "time limit for one whole fetch, body included (from 1s to 5m)",
		set: func(c *config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < time.Second || d > 5*time.Minute {
				return fmt.Errorf("%q is not a duration from 1s to 5m (such as 30s)", v)
			}
			c.FetchTimeout = d
			return nil
		}},
	{flag: "addr", env: "RECAP_ADDR", def: "127.0.0.1:8080",
		usage: "address the web server listens on, host:port (0.0.0.0:8080 for every interface)",
		set: func(c *config, v string) error {
			host, port, err := net.SplitHostPort(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not host:port (such as 127.0.0.1:8080)", v)
			}
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return fmt.Errorf("%q: port %q is not a number from 0 to 65535", v, port)
			}
			c.Addr = net.JoinHostPort(host, port)
			return nil
		}},
	{flag: "base-url", env: "RECAP_BASE_URL", def: "",
		usage: "public URL of the site, used for absolute links in feeds (default: http://ADDR)",
		set: func(c *config, v string) error {
			if strings.TrimSpace(v) == "" {
				c.BaseURL = ""
				return nil
			}
			u, err := server.ParseBaseURL(v)
			if err != nil {
				return err
			}
			c.BaseURL = u.String()
			return nil
		}},
	{flag: "timezone", env: "RECAP_TIMEZONE", def: "UTC",
		usage: "time zone of the weekly digest's weeks (Monday 00:00 to Sunday 24:00), an IANA name such as Europe/Berlin",
		set: func(c *config, v string) error {
			loc, err := time.LoadLocation(strings.TrimSpace(v))
			if err != nil || strings.TrimSpace(v) == "" || strings.EqualFold(strings.TrimSpace(v), "local") {
				return fmt.Errorf("%q is not an IANA time zone name such as UTC or Europe/Berlin", v)
			}
			c.Location = loc
			return nil
		}},
	{flag: "llm-url", env: "RECAP_LLM_URL", def: "",
		usage: "OpenAI-compatible chat completions endpoint for the optional AI-generated analysis (Ollama: http://127.0.0.1:11434/v1/chat/completions); needs --llm-model",
		set: func(c *config, v string) error {
			v = strings.TrimSpace(v)
			if v == "" {
				c.LLMURL = ""
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("%q is not an http:// or https:// URL", v)
			}
			c.LLMURL = v
			return nil
		}},
	{flag: "llm-model", env: "RECAP_LLM_MODEL", def: "",
		usage: "model name the LLM endpoint serves (such as llama3.1:8b); needs --llm-url",
		set: func(c *config, v string) error {
			if strings.ContainsAny(v, "\r\n") {
				return errors.New("must be one line")
			}
			c.LLMModel = strings.TrimSpace(v)
			return nil
		}},
	{flag: "llm-min-outlets", env: "RECAP_LLM_MIN_OUTLETS", def: "2",
		usage: "stories covered by at least this many outlets get the AI-generated analysis",
		set:   func(c *config, v string) error { return setInt(&c.LLMMinOutlets, v, 1, 100) }},
	{flag: "llm-calls-per-hour", env: "RECAP_LLM_CALLS_PER_HOUR", def: "30",
		usage: "at most this many LLM calls in any hour",
		set:   func(c *config, v string) error { return setInt(&c.LLMCallsPerHour, v, 1, 100000) }},
	{flag: "llm-timeout", env: "RECAP_LLM_TIMEOUT", def: "60s",
		usage: "time limit for one LLM call (from 1s to 10m)",
		set: func(c *config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < time.Second || d > 10*time.Minute {
				return fmt.Errorf("%q is not a duration from 1s to 10m (such as 60s)", v)
			}
			c.LLMTimeout = d
			return nil
		}},
}

func setInt(dst *int, v string, lo, hi int) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("%q is not a whole number from %d to %d", v, lo, hi)
	}
	*dst = n
	return nil
}

// loadConfig applies the defaults, then the environment.
func loadConfig(getenv func(string) string) (*config, error) {
	c := &config{}
	for _, o := range options {
		if err := o.set(c, o.def); err != nil {
			return nil, fmt.Errorf("default of --%s: %w", o.flag, err)
		}
	}
	for _, o := range options {
		if v := getenv(o.env); v != "" {
			if err := o.set(c, v); err != nil {
				return nil, fmt.Errorf("%s: %w", o.env, err)
			}
		}
	}
	return c, nil
}

// bindGlobals adds every global setting to fs, so they are accepted before
// the command and after it alike.
func bindGlobals(fs *flag.FlagSet, c *config) {
	for _, o := range options {
		set := func(v string) error { return o.set(c, v) }
		usage := fmt.Sprintf("%s (env %s, default %q)", o.usage, o.env, o.def)
		if o.isBool {
			fs.BoolFunc(o.flag, usage, set)
		} else {
			fs.Func(o.flag, usage, set)
		}
	}
}

type app struct {
	clock  func() time.Time // nil: time.Now
	cfg    *config
	getenv func(string) string
	log    *slog.Logger
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func parseGlobal(args []string, getenv func(string) string, stderr io.Writer) (*app, []string, error) {
	c, err := loadConfig(getenv)
	if err != nil {
		return nil, nil, err
	}
	a := &app{cfg: c, stderr: stderr, getenv: getenv}
	fs := a.flagSet("recap")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, errHelp
		}
		return nil, nil, errUsage
	}
	return a, fs.Args(), nil
}

// flagSet makes a flag set for a command that also takes the global settings.
func (a *app) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	bindGlobals(fs, a.cfg)
	fs.Usage = func() { a.usage(a.stderr) }
	return fs
}

func (a *app) now() time.Time {
	if a.clock != nil {
		return a.clock()
	}
	return time.Now()
}

// parseCommand parses a command's flags (globals included) and builds the logger.
func (a *app) parseCommand(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: a.cfg.LogLevel}))
	return nil
}

// errHelp: --help was asked for and printed; not a failure.
var errHelp = errors.New("help")

func (a *app) usage(w io.Writer) {
	fmt.Fprint(w, `Recap: a self-hosted AI news aggregator.

Usage: recap [settings] [command] [arguments]

Commands:
  serve (default)           serve the web site on --addr and poll sources on schedule, until Ctrl-C
  poll --once               fetch every enabled source now, store what is new, print a summary
  sources list              list sources with their health
  sources add URL           add a feed (--title, --filter all|ai, --weight N, --interval D)
  sources remove ID         remove a source (its articles stay)
  sources import FILE.opml  add the sources of an OPML file ("-" reads standard input)
  sources export            write the sources as OPML 2.0
  export articles           write every stored article as JSON lines
  export stories            write every story as JSON lines
  digest                    print a week's digest (--week 2026-W48, --format md|html|json)

Settings (flag, environment variable, default):
`)
	defer fmt.Fprint(w, `
RECAP_ADMIN_TOKEN (environment only, so it never shows in a process list):
      enables the admin API (adding, removing, refreshing and importing sources)
      for requests with the header "Authorization: Bearer TOKEN"
RECAP_LLM_API_KEY (environment only): the key sent to --llm-url as
      "Authorization: Bearer KEY"; local servers (Ollama, llama.cpp) need none
`)
	for _, o := range options {
		fmt.Fprintf(w, "  --%-24s %-30s %q\n      %s\n", o.flag, o.env, o.def, o.usage)
	}
}

// openStore opens the store the --db setting names.
func (a *app) openStore(ctx context.Context) (store.Store, error) {
	db := a.cfg.DB
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return nil, errors.New("--db: the PostgreSQL backend (postgres:// URLs) is not yet supported; use an SQLite file path such as recap.db")
	}
	s, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", db, err)
	}
	return s, nil
}
