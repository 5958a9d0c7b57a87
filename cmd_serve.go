package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"recap/feeds"
	"recap/llm"
	"recap/server"
	"recap/store"
	"recap/stories"
)

// shutdownGrace bounds how long serve waits for requests in flight when it
// stops.
const shutdownGrace = 10 * time.Second

// serve runs the whole product: the web site on --addr and the poller, until
// ctx ends (Ctrl-C, SIGTERM). Then it stops taking requests, lets the poller
// finish the fetches it has started and closes the store.
func (a *app) serve(ctx context.Context, args []string) error {
	fs := a.flagSet("serve")
	if err := a.parseCommand(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "recap serve: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another Recap running? choose another address with --addr)", a.cfg.Addr, err)
	}
	defer ln.Close()
	baseURL := a.cfg.BaseURL
	if baseURL == "" {
		baseURL = "http://" + publicHostPort(ln.Addr())
	}

	s, err := a.openSeeded(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	poller := a.newPoller(s)
	insights, err := a.newInsights(s)
	if err != nil {
		return err
	}
	metrics := server.NewMetrics(poller.QueueDepth)
	srv, err := server.New(server.Config{
		Store:      s,
		BaseURL:    baseURL,
		Log:        a.log,
		AdminToken: a.getenv("RECAP_ADMIN_TOKEN"),
		Admin:      newSourceAdmin(a, s, poller),
		WriteOPML:  feeds.WriteOPML,
		VersionTTL: time.Second,
		Metrics:    metrics,
		Location:   a.cfg.Location,
	})
	if err != nil {
		return err
	}
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	a.log.Info("serving", "url", baseURL+"/", "addr", ln.Addr().String(), "db", a.cfg.DB, "admin_api", a.getenv("RECAP_ADMIN_TOKEN") != "")

	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	stage := stories.New(s, a.log)
	kick := make(chan struct{}, 1)
	clustered := make(chan struct{})
	go func() {
		defer close(clustered)
		stage.Loop(pollCtx, kick, srv.Changed)
	}()
	insighted := make(chan struct{})
	go func() {
		defer close(insighted)
		if insights != nil {
			insights.Loop(pollCtx, nil, srv.Changed)
		}
	}()
	polled := make(chan error, 1)
	go func() {
		polled <- poller.Run(pollCtx, func(r feeds.Result) {
			if pollCtx.Err() != nil {
				return // stopping: an interrupted poll recorded nothing
			}
			srv.Changed()
			if r.New > 0 {
				select {
				case kick <- struct{}{}:
				default: // a run is due already
				}
			}
			metrics.ObserveFetch(fetchOutcome(r), r.Duration, r.New, r.Updated)
			if r.Err != nil {
				a.log.Warn("poll failed", "source", r.Source.URL, "err", r.Err, "next", r.NextCheck.Format(time.RFC3339))
				return
			}
			a.log.Info("polled", "source", r.Source.URL, "status", r.Status, "new", r.New, "updated", r.Updated, "next", r.NextCheck.Format(time.RFC3339))
		})
	}()

	var serveErr error
	select {
	case <-ctx.Done():
		a.log.Info("stopping: finishing requests and fetches in flight")
	case serveErr = <-served:
		a.log.Error("web server stopped", "err", serveErr)
	}
	// Stop taking requests and let those in flight finish, while the poller
	// finishes its fetches; the store closes (deferred) after both.
	stopPolling()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		a.log.Warn("web server shutdown", "err", err)
	}
	pollErr := <-polled
	<-clustered
	<-insighted
	if pollErr != nil && !errors.Is(pollErr, context.Canceled) {
		a.log.Error("poller stopped", "err", pollErr)
	}
	a.log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("web server: %w", serveErr)
	}
	return nil
}

// newInsights is the optional LLM stage: nil when no model is configured.
func (a *app) newInsights(s store.Store) (*stories.Insights, error) {
	c := a.cfg
	switch {
	case c.LLMURL == "" && c.LLMModel == "":
		return nil, nil
	case c.LLMURL == "":
		return nil, errors.New("--llm-model (RECAP_LLM_MODEL) is set but --llm-url (RECAP_LLM_URL) is not: set both for the AI-generated analysis, or neither")
	case c.LLMModel == "":
		return nil, errors.New("--llm-url (RECAP_LLM_URL) is set but --llm-model (RECAP_LLM_MODEL) is not: set both for the AI-generated analysis, or neither")
	}
	client, err := llm.New(llm.Config{URL: c.LLMURL, Model: c.LLMModel, APIKey: a.getenv("RECAP_LLM_API_KEY"), Timeout: c.LLMTimeout})
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	a.log.Info("AI-generated analysis on", "endpoint", c.LLMURL, "model", c.LLMModel, "min_outlets", c.LLMMinOutlets, "calls_per_hour", c.LLMCallsPerHour)
	return stories.NewInsights(s, stories.InsightConfig{Client: client, MinOutlets: c.LLMMinOutlets, PerHour: c.LLMCallsPerHour}, a.log), nil
}

// fetchOutcome names a poll's outcome for the metrics.
func fetchOutcome(r feeds.Result) string {
	switch {
	case r.Err != nil:
		return "error"
	case r.NotModified:
		return "not_modified"
	default:
		return "ok"
	}
}

// publicHostPort is the address people type for a listener: 0.0.0.0 and ::
// become localhost.
func publicHostPort(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}
