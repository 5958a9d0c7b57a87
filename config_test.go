package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestSettingsComeFromDefaultsThenEnvironmentThenFlags(t *testing.T) {
	c, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "recap.db" || c.AllowPrivateNetworks || c.LogLevel != slog.LevelInfo || c.Workers != 8 || c.PerHostLimit != 2 || c.FetchTimeout != 30*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	if !strings.HasPrefix(c.UserAgent, "Recap/") {
		t.Errorf("default user agent %q does not name Recap", c.UserAgent)
	}
	env := envOf(map[string]string{"RECAP_DB": "env.db", "RECAP_ALLOW_PRIVATE_NETWORKS": "true", "RECAP_LOG_LEVEL": "debug", "RECAP_USER_AGENT": "X/1", "RECAP_WORKERS": "3"})
	a, rest, err := parseGlobal([]string{"--db", "flag.db", "poll", "--once"}, env, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if a.cfg.DB != "flag.db" || !a.cfg.AllowPrivateNetworks || a.cfg.LogLevel != slog.LevelDebug || a.cfg.UserAgent != "X/1" || a.cfg.Workers != 3 {
		t.Errorf("env then flags: %+v", a.cfg)
	}
	if strings.Join(rest, " ") != "poll --once" {
		t.Errorf("rest = %q", rest)
	}
}

func TestBadSettingsGiveClearErrors(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"env bool", map[string]string{"RECAP_ALLOW_PRIVATE_NETWORKS": "maybe"}, nil, `RECAP_ALLOW_PRIVATE_NETWORKS: "maybe" is not a boolean`},
		{"env level", map[string]string{"RECAP_LOG_LEVEL": "loud"}, nil, "RECAP_LOG_LEVEL"},
		{"env workers", map[string]string{"RECAP_WORKERS": "0"}, nil, "RECAP_WORKERS"},
		{"flag workers", nil, []string{"--workers", "many"}, `invalid value "many" for flag -workers`},
		{"flag timeout", nil, []string{"--fetch-timeout", "1ms"}, "fetch-timeout"},
		{"unknown flag", nil, []string{"--colour", "red"}, "flag provided but not defined: -colour"},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"postgres", nil, []string{"--db", "postgres://localhost/recap", "sources", "list"}, "PostgreSQL backend (postgres:// URLs) is not yet supported"},
		{"bad source URL", nil, []string{"sources", "add", "ftp://example.com/feed"}, `"ftp://example.com/feed" is not an http(s) feed URL`},
		{"bad filter", nil, []string{"sources", "add", "https://example.com/feed", "--filter", "tech"}, `filter "tech"`},
		{"bad interval", nil, []string{"sources", "add", "https://example.com/feed", "--interval", "1m"}, `interval "1m0s"`},
		{"remove non-number", nil, []string{"sources", "remove", "abc"}, `source ID "abc"`},
		{"missing opml", nil, []string{"sources", "import", "/nonexistent/x.opml"}, "no such file"},
		{"export what", nil, []string{"export", "tales"}, "want `export articles` or `export stories`"},
		{"addr without port", nil, []string{"--addr", "localhost", "serve"}, `"localhost" is not host:port`},
		{"addr bad port", map[string]string{"RECAP_ADDR": "127.0.0.1:http2"}, nil, `RECAP_ADDR: "127.0.0.1:http2": port "http2" is not a number`},
		{"base url relative", nil, []string{"--base-url", "news.example.org", "serve"}, "want an absolute http:// or https:// URL"},
		{"base url query", map[string]string{"RECAP_BASE_URL": "https://x.example/?a=1"}, nil, "RECAP_BASE_URL"},
		{"serve argument", nil, []string{"serve", "now"}, `unexpected argument "now"`},
		{"timezone", map[string]string{"RECAP_TIMEZONE": "Mars/Olympus"}, nil, `RECAP_TIMEZONE: "Mars/Olympus" is not an IANA time zone name`},
		{"llm url scheme", map[string]string{"RECAP_LLM_URL": "ftp://127.0.0.1/v1"}, nil, `RECAP_LLM_URL: "ftp://127.0.0.1/v1" is not an http:// or https:// URL`},
		{"llm timeout", nil, []string{"--llm-timeout", "5ms"}, "llm-timeout"},
		{"llm calls per hour", map[string]string{"RECAP_LLM_CALLS_PER_HOUR": "0"}, nil, "RECAP_LLM_CALLS_PER_HOUR"},
		{"llm model without url", map[string]string{"RECAP_LLM_MODEL": "llama3.1:8b"}, []string{"serve", "--addr", "127.0.0.1:0"},
			"--llm-model (RECAP_LLM_MODEL) is set but --llm-url (RECAP_LLM_URL) is not"},
		{"llm url without model", map[string]string{"RECAP_LLM_URL": "http://127.0.0.1:11434/v1"}, []string{"serve", "--addr", "127.0.0.1:0"},
			"--llm-url (RECAP_LLM_URL) is set but --llm-model (RECAP_LLM_MODEL) is not"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"--db", filepath.Join(t.TempDir(), "x.db")}, c.args...)
			if c.name == "postgres" {
				args = c.args
			}
			err := run(context.Background(), args, envOf(c.env), strings.NewReader(""), &out, &errb)
			if err == nil {
				t.Fatalf("no error; stdout %q", out.String())
			}
			msg := err.Error()
			if errors.Is(err, errUsage) {
				msg = errb.String()
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q (stderr %q) does not say %q", err, errb.String(), c.want)
			}
		})
	}
}

// TestServeRefusesATakenAddress: a second Recap on the same address says
// what is wrong instead of failing later or serving nothing.
func TestServeRefusesATakenAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var errb bytes.Buffer
	err = run(t.Context(), []string{"--db", filepath.Join(t.TempDir(), "x.db"), "--addr", ln.Addr().String()}, envOf(nil), nil, &bytes.Buffer{}, &errb)
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("serve on a taken address: %v", err)
	}
}

func TestHelpListsEverySettingWithItsEnvironmentTwin(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, envOf(nil), nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, o := range options {
		if !strings.Contains(errb.String(), "--"+o.flag) || !strings.Contains(errb.String(), o.env) {
			t.Errorf("--help lacks --%s / %s", o.flag, o.env)
		}
	}
}

func TestSourcesAddListExportRemoveImport(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	run1 := func(args ...string) string { return recap(t, db, args...) }
	if out := run1("sources", "add", "https://example.com/feed.xml", "--filter", "ai", "--weight", "2", "--interval", "2h"); !strings.Contains(out, "added source 1") {
		t.Fatalf("add: %q", out)
	}
	var errb bytes.Buffer
	err := run(context.Background(), []string{"--db", db, "sources", "add", "https://example.com/feed.xml"}, envOf(nil), nil, &bytes.Buffer{}, &errb)
	if err == nil || !strings.Contains(err.Error(), "already there") {
		t.Errorf("adding twice: %v", err)
	}
	list := run1("sources", "list")
	if !strings.Contains(list, "https://example.com/feed.xml") || !strings.Contains(list, "1 sources") {
		t.Errorf("list: %s", list)
	}
	opml := run1("sources", "export")
	for _, want := range []string{`xmlUrl="https://example.com/feed.xml"`, `filter="ai"`, `weight="2"`, `interval="2h"`} {
		if !strings.Contains(opml, want) {
			t.Errorf("export lacks %s:\n%s", want, opml)
		}
	}
	if out := run1("sources", "remove", "1"); !strings.Contains(out, "removed source 1") {
		t.Errorf("remove: %q", out)
	}
	// The exported OPML imports back into an empty store with its attributes.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--db", db, "sources", "import", "-"}, envOf(nil), strings.NewReader(opml), &out, &errb); err != nil {
		t.Fatalf("import: %v %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "imported 1 sources (0 already present)") {
		t.Errorf("import: %q", out.String())
	}
	if again := run1("sources", "export"); again != opml {
		t.Errorf("export after re-import differs:\n%s\nvs\n%s", again, opml)
	}
}
