// Package llm is Recap's optional language-model client: it asks any
// OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp
// server, OpenAI) for a story's "What changed / Why it matters / What to do
// next" and deeper analysis, and keeps only the claims that cite the story's
// own articles. Budget and Backoff let the caller bound and pace the calls;
// the client itself never retries, so a failing model costs one call.
package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"recap/news"
)

const (
	defaultTimeout = 60 * time.Second
	// maxResponseBytes bounds what is read of an answer: a JSON analysis is
	// a few KB; anything near this is a server gone wrong.
	maxResponseBytes = 4 << 20
	// errorBodyBytes is how much of an error response an error quotes.
	errorBodyBytes = 200
	// drainBytes is how much of an unwanted body is read so the connection
	// can be reused; more than that and closing it is cheaper.
	drainBytes = 64 << 10
	// temperature is low: the model is to restate and relate the articles,
	// not to invent.
	temperature = 0.2
	userAgent   = "Recap (self-hosted AI news aggregator)"
)

var (
	// ErrNoValidClaims: the model answered, but no claim survived
	// validation (each cited nothing, an article not in the story, or had
	// no text). The model is up; the story is what it could not answer.
	ErrNoValidClaims = errors.New("no valid claims in the answer")
	// ErrTimeout: no complete answer within Config.Timeout (or the caller's
	// deadline). Errors that wrap it also wrap context.DeadlineExceeded.
	ErrTimeout = errors.New("timeout")
	// ErrMalformed: the response or the model's content is not the JSON
	// asked for (not JSON, no choices, empty content, too large).
	ErrMalformed = errors.New("malformed answer")
)

// StatusError is an answer with an HTTP status other than 2xx.
type StatusError struct {
	Endpoint string
	Code     int
	// Body is the start of the response body (at most 200 bytes), which
	// is where servers say what went wrong.
	Body string
	// RetryAfter is the server's Retry-After, zero when it gave none.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("llm: POST %s: HTTP %d %s", e.Endpoint, e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Temporary reports whether the same call may succeed later (rate limited,
// overloaded, server error) rather than needing the configuration fixed
// (bad key, unknown model, wrong URL).
func (e *StatusError) Temporary() bool {
	return e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooManyRequests || e.Code >= 500
}

// Config is what the client needs. Zero values mean the default.
type Config struct {
	// URL is the endpoint as the user gives it: the full
	// ".../v1/chat/completions", or a base ("http://127.0.0.1:11434",
	// "https://api.openai.com/v1") the endpoint is derived from.
	URL    string
	Model  string // required
	APIKey string // sent as "Authorization: Bearer KEY" when set
	// Timeout bounds one call, from sending the request to the last byte
	// of the answer; default 60s (a local model on a CPU is slow).
	Timeout time.Duration
	// HTTP is the client requests go through; nil makes one with a tuned
	// Transport, reused for every call.
	HTTP *http.Client
	// Now stamps Insight.Created; default time.Now.
	Now func() time.Time
}

// Client asks one model at one endpoint. It holds no state between calls
// and is safe for concurrent use.
type Client struct {
	endpoint string
	model    string
	apiKey   string
	timeout  time.Duration
	http     *http.Client
	now      func() time.Time
}

// New checks cfg and returns a client for it.
func New(cfg Config) (*Client, error) {
	endpoint, err := endpointFor(cfg.URL)
	if err != nil {
		return nil, err
	}
	model := strings.TrimSpace(cfg.Model)
	if model == "" {
		return nil, errors.New("llm: no model given: name the model the endpoint serves")
	}
	c := &Client{
		endpoint: endpoint,
		model:    model,
		apiKey:   strings.TrimSpace(cfg.APIKey),
		timeout:  cfg.Timeout,
		http:     cfg.HTTP,
		now:      cfg.Now,
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.http == nil {
		c.http = newHTTPClient()
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Endpoint is the chat-completions URL the client posts to.
func (c *Client) Endpoint() string { return c.endpoint }

// Model is the model the client asks; it is what Insight.Model records.
func (c *Client) Model() string { return c.model }

func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		// The endpoint is the operator's own choice, so the usual proxy
		// settings apply, unlike feed fetches.
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		// No ResponseHeaderTimeout: a model sends no header until it has
		// written the whole answer; the call's context bounds the wait.
		ExpectContinueTimeout: time.Second,
	}}
}

// endpointFor derives the chat-completions URL from what the user gave.
// Servers mount the OpenAI API under a version segment ("/v1", Gemini's
// "/v1beta/openai"): a URL that has one lacks only "/chat/completions", a
// bare host lacks "/v1" too.
func endpointFor(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("llm: no URL given")
	}
	if !strings.Contains(raw, "://") {
		return "", fmt.Errorf("llm: URL %q: no http:// or https:// scheme", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("llm: URL %q: %w", raw, err)
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return "", fmt.Errorf("llm: URL %s: scheme %q is not http or https", u.Redacted(), u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("llm: URL %s: no host", u.Redacted())
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Fragment, u.RawFragment = "", ""
	path := strings.TrimRight(u.Path, "/")
	switch {
	case strings.HasSuffix(path, "/chat/completions"):
	case hasVersionSegment(path):
		path += "/chat/completions"
	default:
		path += "/v1/chat/completions"
	}
	u.Path, u.RawPath = path, ""
	return u.String(), nil
}

// hasVersionSegment reports whether a path segment is an API version: "v"
// and digits, optionally followed by a stage ("v1", "v1beta", "v2alpha1").
func hasVersionSegment(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if len(seg) < 2 || seg[0] != 'v' {
			continue
		}
		i := 1
		for i < len(seg) && seg[i] >= '0' && seg[i] <= '9' {
			i++
		}
		if i == 1 {
			continue
		}
		for i < len(seg) && ((seg[i] >= 'a' && seg[i] <= 'z') || (seg[i] >= '0' && seg[i] <= '9')) {
			i++
		}
		if i == len(seg) {
			return true
		}
	}
	return false
}

// Member is one member article of a story, as the model is shown it.
type Member struct {
	// N is the number the model cites the article by, 1..len(Members);
	// zero means its position in Members plus one.
	N         int
	Article   int64 // the article id claims cite
	Outlet    string
	Title     string // plain text
	Text      string // plain text
	Published time.Time
}

// Request is one story to analyse. Members come most important first: when
// the prompt is too long, members are dropped from the end.
type Request struct {
	Title   string
	Members []Member
}

// Analyse asks the model about the story r and returns the claims that cite
// its members. Errors wrap ErrTimeout, ErrMalformed or ErrNoValidClaims, or
// are a *StatusError, so the caller can tell a model that is down (back off)
// from an answer that was bad (do not ask again for this version); when ctx
// itself is cancelled the error wraps ctx.Err().
func (c *Client) Analyse(ctx context.Context, r Request) (news.Insight, error) {
	p, err := buildPrompt(r)
	if err != nil {
		return news.Insight{}, err
	}
	content, finish, err := c.complete(ctx, p.messages)
	if err != nil {
		return news.Insight{}, err
	}
	ans, err := parseAnswer(content)
	if err != nil {
		if finish == "length" {
			return news.Insight{}, fmt.Errorf("llm: answer of %s, cut at the model's length limit: %w", c.model, err)
		}
		return news.Insight{}, fmt.Errorf("llm: answer of %s: %w", c.model, err)
	}
	ins, err := p.validate(ans)
	if err != nil {
		return news.Insight{}, fmt.Errorf("llm: answer of %s: %w", c.model, err)
	}
	ins.Model = c.model
	ins.Created = c.now()
	return ins, nil
}

type chatRequest struct {
	Model          string         `json:"model"`
	Messages       []message      `json:"messages"`
	Temperature    float64        `json:"temperature"`
	ResponseFormat responseFormat `json:"response_format"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type responseFormat struct {
	Type string `json:"type"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			// Content is a string, or with some servers a list of parts.
			Content json.RawMessage `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	// Error is how some servers report a failure with status 200.
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// complete posts the messages and returns the content of the first choice
// and why the model stopped writing it.
func (c *Client) complete(parent context.Context, msgs []message) (content, finish string, err error) {
	body, err := json.Marshal(chatRequest{
		Model:          c.model,
		Messages:       msgs,
		Temperature:    temperature,
		ResponseFormat: responseFormat{Type: "json_object"},
	})
	if err != nil {
		return "", "", fmt.Errorf("llm: encode request: %w", err)
	}
	limit := c.timeout
	if dl, ok := parent.Deadline(); ok && time.Until(dl) < limit {
		limit = time.Until(dl)
	}
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", "", fmt.Errorf("llm: POST %s: %w", c.endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", "", c.callError(parent, ctx, limit, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", "", c.statusError(resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return "", "", c.callError(parent, ctx, limit, err)
	}
	if len(data) > maxResponseBytes {
		return "", "", fmt.Errorf("llm: POST %s: %w: response over %d bytes", c.endpoint, ErrMalformed, maxResponseBytes)
	}
	var cr chatResponse
	if err = json.Unmarshal(data, &cr); err != nil {
		return "", "", fmt.Errorf("llm: POST %s: %w: response is not chat-completions JSON (%v): %s", c.endpoint, ErrMalformed, err, quote(data, errorBodyBytes))
	}
	if len(cr.Choices) == 0 {
		if cr.Error != nil && cr.Error.Message != "" {
			return "", "", fmt.Errorf("llm: POST %s: %w: no choices; the server says: %s", c.endpoint, ErrMalformed, quote([]byte(cr.Error.Message), errorBodyBytes))
		}
		return "", "", fmt.Errorf("llm: POST %s: %w: no choices in the response", c.endpoint, ErrMalformed)
	}
	ch := cr.Choices[0]
	content = contentText(ch.Message.Content)
	if strings.TrimSpace(content) == "" {
		return "", "", fmt.Errorf("llm: POST %s: %w: empty content (finish reason %q)", c.endpoint, ErrMalformed, ch.FinishReason)
	}
	return content, ch.FinishReason, nil
}

// contentText reads a message's content: a string, or a list of parts of
// which the text ones are joined.
func contentText(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "" || p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// callError names why a request or the reading of its answer failed: the
// caller gave up (its own error, not the model's), the time ran out, or the
// connection failed.
func (c *Client) callError(parent, ctx context.Context, limit time.Duration, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its message repeats the method and URL
	}
	if perr := parent.Err(); perr != nil && !errors.Is(perr, context.DeadlineExceeded) {
		return fmt.Errorf("llm: POST %s: %w", c.endpoint, perr)
	}
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("llm: POST %s: %w: no complete answer within %s: %w",
			c.endpoint, ErrTimeout, limit.Round(time.Millisecond), context.DeadlineExceeded)
	}
	return fmt.Errorf("llm: POST %s: %w", c.endpoint, err)
}

func (c *Client) statusError(resp *http.Response) error {
	head, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
	return &StatusError{
		Endpoint:   c.endpoint,
		Code:       resp.StatusCode,
		Body:       quote(head, errorBodyBytes),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now()),
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// quote makes the start of a body fit for an error message: at most n
// bytes, valid UTF-8, on one line.
func quote(b []byte, n int) string {
	if len(b) > n {
		b = b[:n] // half a character at the cut is dropped by cleanText
	}
	return cleanText(string(b))
}
