package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"recap/news"
)

var testNow = time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)

// testRequest is a story of three members whose article ids differ from
// their numbers, so a cite left unmapped shows.
func testRequest() Request {
	return Request{
		Title: "DeepSeek V4 optimized for Huawei Ascend",
		Members: []Member{
			{N: 1, Article: 101, Outlet: "The Verge", Title: "DeepSeek V4 runs on Huawei Ascend",
				Text: "DeepSeek released V4, tuned for Huawei's Ascend 910C.", Published: time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC)},
			{N: 2, Article: 205, Outlet: "SCMP Technology", Title: "China's V4 models optimized for Huawei chips",
				Text: "The models bypass US restrictions\n\non Nvidia chips.", Published: time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)},
			{N: 3, Article: 309, Outlet: "Reuters", Title: "DeepSeek's new model shows limits of export controls",
				Text: "Analysts say export controls have not stopped Chinese labs.", Published: time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC)},
		},
	}
}

// fakeModel is an OpenAI-compatible chat-completions server whose answers
// the test sets, and which records the requests it got.
type fakeModel struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seenRequest
	reply    http.HandlerFunc
}

type seenRequest struct {
	Method, Path, Auth, ContentType string
	Body                            map[string]any
}

func newFakeModel(t *testing.T, reply http.HandlerFunc) *fakeModel {
	t.Helper()
	m := &fakeModel{reply: reply}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		seen := seenRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type")}
		if err := json.Unmarshal(raw, &seen.Body); err != nil {
			t.Errorf("request body is not JSON: %v: %s", err, raw)
		}
		m.mu.Lock()
		m.requests = append(m.requests, seen)
		m.mu.Unlock()
		m.reply(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *fakeModel) lastRequest(t *testing.T) seenRequest {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.requests) == 0 {
		t.Fatal("the model got no request")
	}
	return m.requests[len(m.requests)-1]
}

// completion is a chat-completions response whose first choice says content.
func completion(content, finish string) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "model": "served-model-name",
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content},
			"finish_reason": finish,
		}},
	})
	return b
}

func answerWith(content string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(completion(content, "stop"))
	}
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "answers", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantInsight reads NAME.want.json: the insight expected from NAME.txt,
// without Model and Created, which every test sets the same way.
func wantInsight(t *testing.T, name string) news.Insight {
	t.Helper()
	var want news.Insight
	if err := json.Unmarshal([]byte(readFixture(t, name+".want.json")), &want); err != nil {
		t.Fatalf("%s.want.json: %v", name, err)
	}
	want.Model = "qwen3:8b"
	want.Created = testNow
	return want
}

func newTestClient(t *testing.T, url, key string) *Client {
	t.Helper()
	c, err := New(Config{URL: url, Model: "qwen3:8b", APIKey: key, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAnalyseAnswers(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		wantErr error // nil: the insight in FIXTURE.want.json
	}{
		{"good", nil},
		{"bad_cites", nil}, // unknown number 9 of 3, no cites, a bad cite among good ones: dropped
		{"fenced", nil},    // ```json fences and text, braces included, around the object
		{"all_bad", ErrNoValidClaims},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			m := newFakeModel(t, answerWith(readFixture(t, tc.fixture+".txt")))
			got, err := newTestClient(t, m.URL, "").Analyse(context.Background(), testRequest())
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := wantInsight(t, tc.fixture); !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(want, "", "  ")
				t.Errorf("insight:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

func TestAnalyseRequest(t *testing.T) {
	for _, tc := range []struct {
		name, key, wantAuth string
	}{
		{"with key", "sk-test-123", "Bearer sk-test-123"},
		{"without key", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newFakeModel(t, answerWith(readFixture(t, "good.txt")))
			if _, err := newTestClient(t, m.URL, tc.key).Analyse(context.Background(), testRequest()); err != nil {
				t.Fatal(err)
			}
			req := m.lastRequest(t)
			if req.Method != http.MethodPost || req.Path != "/v1/chat/completions" {
				t.Errorf("request = %s %s, want POST /v1/chat/completions", req.Method, req.Path)
			}
			if req.Auth != tc.wantAuth {
				t.Errorf("Authorization = %q, want %q", req.Auth, tc.wantAuth)
			}
			if req.ContentType != "application/json" {
				t.Errorf("Content-Type = %q", req.ContentType)
			}
			b := req.Body
			if b["model"] != "qwen3:8b" {
				t.Errorf("model = %v", b["model"])
			}
			if b["temperature"] != 0.2 {
				t.Errorf("temperature = %v", b["temperature"])
			}
			if rf, _ := b["response_format"].(map[string]any); rf["type"] != "json_object" {
				t.Errorf("response_format = %v", b["response_format"])
			}
			msgs, _ := b["messages"].([]any)
			if len(msgs) != 2 {
				t.Fatalf("messages = %v, want system and user", msgs)
			}
			sys, _ := msgs[0].(map[string]any)
			user, _ := msgs[1].(map[string]any)
			if sys["role"] != "system" || user["role"] != "user" {
				t.Fatalf("roles = %v, %v", sys["role"], user["role"])
			}
			sysText, _ := sys["content"].(string)
			for _, want := range []string{"ONLY", `"what_changed"`, `"why_it_matters"`, `"what_to_do_next"`, `"sections"`, `"cites"`, "at least one article"} {
				if !strings.Contains(sysText, want) {
					t.Errorf("system message lacks %q", want)
				}
			}
			userText, _ := user["content"].(string)
			for _, want := range []string{
				"DeepSeek V4 optimized for Huawei Ascend",
				"[1] The Verge — DeepSeek V4 runs on Huawei Ascend (2026-03-04)\nDeepSeek released V4, tuned for Huawei's Ascend 910C.\n",
				"[2] SCMP Technology — China's V4 models optimized for Huawei chips (2026-03-04)\nThe models bypass US restrictions on Nvidia chips.\n",
				"[3] Reuters — DeepSeek's new model shows limits of export controls (2026-03-05)\n",
			} {
				if !strings.Contains(userText, want) {
					t.Errorf("user message lacks %q:\n%s", want, userText)
				}
			}
		})
	}
}

func TestAnalyseTimeout(t *testing.T) {
	m := newFakeModel(t, func(w http.ResponseWriter, r *http.Request) {
		// Ends when the client gives up, so the test never waits the full
		// fallback.
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	c, err := New(Config{URL: m.URL, Model: "slow", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Analyse(context.Background(), testRequest())
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want ErrTimeout and context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "timeout") {
		t.Errorf("error %q does not say timeout", err)
	}
}

func TestAnalyseCallerCancels(t *testing.T) {
	arrived := make(chan struct{})
	m := newFakeModel(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := newTestClient(t, m.URL, "").Analyse(ctx, testRequest())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if errors.Is(err, ErrTimeout) {
		t.Errorf("a cancelled call counts as the model's timeout: %v", err)
	}
}

func TestAnalyseServerDown(t *testing.T) {
	m := newFakeModel(t, answerWith("{}"))
	url := m.URL
	m.Close()
	_, err := newTestClient(t, url, "").Analyse(context.Background(), testRequest())
	var se *StatusError
	if err == nil || errors.Is(err, ErrTimeout) || errors.As(err, &se) {
		t.Fatalf("error = %v, want a connection error", err)
	}
	if !strings.Contains(err.Error(), url) {
		t.Errorf("error %q does not name the endpoint", err)
	}
}

func TestAnalyseErrors(t *testing.T) {
	longBody := "CUDA error: out of memory while loading the model " + strings.Repeat("é", 300)
	for _, tc := range []struct {
		name    string
		reply   http.HandlerFunc
		wantErr error // or nil with wantCode
		code    int
		retry   time.Duration
		temp    bool
		says    []string // in the message
	}{
		{name: "HTTP 500 with a body", code: 500, temp: true,
			reply: status(500, nil, longBody), says: []string{"HTTP 500", "CUDA error: out of memory"}},
		{name: "HTTP 429", code: 429, temp: true, retry: 17 * time.Second,
			reply: status(429, map[string]string{"Retry-After": "17"}, `{"error":{"message":"Rate limit reached"}}`),
			says:  []string{"HTTP 429", "Rate limit reached"}},
		{name: "HTTP 401", code: 401, temp: false,
			reply: status(401, nil, `{"error":{"message":"Incorrect API key provided"}}`), says: []string{"HTTP 401", "Incorrect API key"}},
		{name: "content not JSON", wantErr: ErrMalformed,
			reply: answerWith("I'm sorry, I cannot analyse these articles."), says: []string{"no JSON object", "I'm sorry"}},
		{name: "content with words and braces only", wantErr: ErrMalformed,
			reply: answerWith("Sorry {I} cannot {do} that."), says: []string{"not a JSON object"}},
		{name: "content malformed JSON", wantErr: ErrMalformed,
			reply: answerWith(`{"what_changed": [{"text": "x", "cites": [1]}`), says: []string{"not a JSON object"}},
		{name: "response not JSON", wantErr: ErrMalformed,
			reply: status(200, nil, "<html>502 Bad Gateway</html>"), says: []string{"not chat-completions JSON", "502 Bad Gateway"}},
		{name: "empty choices", wantErr: ErrMalformed,
			reply: status(200, nil, `{"id":"x","choices":[]}`), says: []string{"no choices"}},
		{name: "error with status 200", wantErr: ErrMalformed,
			reply: status(200, nil, `{"error":{"message":"model 'qwen3:8b' not found, try pulling it first"}}`),
			says:  []string{"no choices", "not found, try pulling it first"}},
		{name: "empty content", wantErr: ErrMalformed,
			reply: answerWith("  \n"), says: []string{"empty content"}},
		{name: "cut at the length limit", wantErr: ErrMalformed,
			reply: func(w http.ResponseWriter, r *http.Request) {
				w.Write(completion(`{"what_changed": [{"text": "DeepSeek rel`, "length"))
			},
			says: []string{"length limit"}},
		{name: "response too large", wantErr: ErrMalformed,
			reply: status(200, nil, `{"choices":[],"padding":"`+strings.Repeat("x", maxResponseBytes)+`"}`),
			says:  []string{"over"}},
		{name: "empty object", wantErr: ErrNoValidClaims, reply: answerWith("{}")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newFakeModel(t, tc.reply)
			_, err := newTestClient(t, m.URL, "").Analyse(context.Background(), testRequest())
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			if tc.code != 0 {
				var se *StatusError
				if !errors.As(err, &se) {
					t.Fatalf("error = %v, want a *StatusError", err)
				}
				if se.Code != tc.code || se.RetryAfter != tc.retry || se.Temporary() != tc.temp {
					t.Errorf("status error = code %d, retry after %s, temporary %v; want %d, %s, %v",
						se.Code, se.RetryAfter, se.Temporary(), tc.code, tc.retry, tc.temp)
				}
				if len(se.Body) > errorBodyBytes || !utf8.ValidString(se.Body) {
					t.Errorf("body quoted is %d bytes, valid UTF-8 %v; want at most %d, valid",
						len(se.Body), utf8.ValidString(se.Body), errorBodyBytes)
				}
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func status(code int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name, url, model, says string
	}{
		{"empty URL", "", "m", "no URL"},
		{"no scheme", "localhost:11434", "m", "no http:// or https://"},
		{"ftp", "ftp://models.example/v1", "m", `"ftp" is not http or https`},
		{"file", "file:///etc/passwd", "m", "not http or https"},
		{"no host", "http:///v1/chat/completions", "m", "no host"},
		{"port only", "http://:8080", "m", "no host"},
		{"unparsable", "http://[::1/v1", "m", "URL"},
		{"empty model", "http://127.0.0.1:11434", "", "no model"},
		{"blank model", "http://127.0.0.1:11434", "  ", "no model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Config{URL: tc.url, Model: tc.model})
			if err == nil {
				t.Fatalf("New accepted it: endpoint %s", c.Endpoint())
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
}

func TestNewEndpoint(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://127.0.0.1:11434", "http://127.0.0.1:11434/v1/chat/completions"},
		{"http://127.0.0.1:11434/", "http://127.0.0.1:11434/v1/chat/completions"},
		{"http://localhost:8000/v1", "http://localhost:8000/v1/chat/completions"},
		{"http://localhost:8000/v1/", "http://localhost:8000/v1/chat/completions"},
		{"https://api.openai.com/v1/chat/completions", "https://api.openai.com/v1/chat/completions"},
		{"HTTPS://api.openai.com/v1/chat/completions/", "https://api.openai.com/v1/chat/completions"},
		{"https://api.groq.com/openai/v1", "https://api.groq.com/openai/v1/chat/completions"},
		{"https://generativelanguage.googleapis.com/v1beta/openai/", "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"},
		{"http://gpu-box:8080/llama", "http://gpu-box:8080/llama/v1/chat/completions"},
		{"http://gpu-box:8080/video1", "http://gpu-box:8080/video1/v1/chat/completions"},
		{"https://proxy.example/v1?api-version=2024-10-21#frag", "https://proxy.example/v1/chat/completions?api-version=2024-10-21"},
		{"  http://[::1]:11434  ", "http://[::1]:11434/v1/chat/completions"},
	} {
		c, err := New(Config{URL: tc.url, Model: "m"})
		if err != nil {
			t.Errorf("New(%q): %v", tc.url, err)
			continue
		}
		if got := c.Endpoint(); got != tc.want {
			t.Errorf("New(%q).Endpoint() = %s, want %s", tc.url, got, tc.want)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{URL: "http://127.0.0.1:11434", Model: " llama3.2 "})
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != defaultTimeout || c.http == nil || c.http.Transport == nil || c.now == nil || c.Model() != "llama3.2" {
		t.Errorf("defaults: timeout %s, client %v, model %q", c.timeout, c.http, c.Model())
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	} {
		if got := retryAfter(tc.v, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

func TestContentParts(t *testing.T) {
	m := newFakeModel(t, func(w http.ResponseWriter, r *http.Request) {
		content, _ := json.Marshal(readFixture(t, "fenced.txt"))
		fmt.Fprintf(w, `{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":%s}]},"finish_reason":"stop"}]}`, content)
	})
	got, err := newTestClient(t, m.URL, "").Analyse(context.Background(), testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if want := wantInsight(t, "fenced"); !reflect.DeepEqual(got, want) {
		t.Errorf("insight = %+v, want %+v", got, want)
	}
}

// longText is n bytes of distinct words, so a cut shows where it fell.
func longText(member, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "m%dw%d ", member, i)
	}
	return strings.TrimSpace(b.String()[:n])
}

func manyMembers(count, textBytes int) Request {
	r := Request{Title: "A story many outlets covered"}
	for i := range count {
		r.Members = append(r.Members, Member{
			N: i + 1, Article: int64(1000 + i), Outlet: fmt.Sprintf("Outlet %d", i+1),
			Title: fmt.Sprintf("Report %d on the story", i+1), Text: longText(i+1, textBytes),
			Published: testNow,
		})
	}
	return r
}

func promptBytes(p prompt) int {
	n := 0
	for _, m := range p.messages {
		n += len(m.Content)
	}
	return n
}

func TestPromptCaps(t *testing.T) {
	for _, tc := range []struct {
		name             string
		members, text    int
		wantKept         int  // members left in the prompt
		wantWholeTexts   bool // every text shown in full
		wantAtLeastBytes int  // each kept text keeps at least this much
	}{
		{"short story, whole texts", 3, 400, 3, true, 400},
		{"long texts capped per member", 2, 5000, 2, false, maxMemberText - 10},
		{"texts shortened evenly before dropping", 12, 3000, 12, false, minMemberText},
		{"members dropped from the end", 80, 3000, 0, false, minMemberText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := manyMembers(tc.members, tc.text)
			p, err := buildPrompt(r)
			if err != nil {
				t.Fatal(err)
			}
			if n := promptBytes(p); n > maxPromptBytes {
				t.Errorf("prompt is %d bytes, over %d", n, maxPromptBytes)
			}
			kept := len(p.articles)
			if tc.wantKept > 0 && kept != tc.wantKept {
				t.Errorf("%d members kept, want %d", kept, tc.wantKept)
			}
			if tc.wantKept == 0 && (kept >= tc.members || kept < 2) {
				t.Errorf("%d of %d members kept, want some dropped and several kept", kept, tc.members)
			}
			user := p.messages[1].Content
			for i, m := range r.Members {
				head := fmt.Sprintf("[%d] %s — %s (2026-03-05)\n", m.N, m.Outlet, m.Title)
				at := strings.Index(user, head)
				if i >= kept {
					// Dropped from the end only, and not citable.
					if at >= 0 || p.articles[m.N] != 0 {
						t.Errorf("member %d was to be dropped but is in the prompt", m.N)
					}
					continue
				}
				if at < 0 || p.articles[m.N] != m.Article {
					t.Fatalf("member %d missing from the prompt", m.N)
				}
				text, _, _ := strings.Cut(user[at+len(head):], "\n")
				if len(text) > maxMemberText {
					t.Errorf("member %d text is %d bytes, over %d", m.N, len(text), maxMemberText)
				}
				if len(text) < min(tc.wantAtLeastBytes, len(m.Text)) {
					t.Errorf("member %d text is %d bytes, want at least %d", m.N, len(text), tc.wantAtLeastBytes)
				}
				if whole := text == m.Text; whole != tc.wantWholeTexts {
					t.Errorf("member %d text whole = %v, want %v", m.N, whole, tc.wantWholeTexts)
				}
				if !tc.wantWholeTexts && !strings.HasPrefix(m.Text, strings.TrimSuffix(text, "…")) {
					t.Errorf("member %d text is not a start of the article's: %q", m.N, text)
				}
			}
		})
	}
}

// A claim citing a member dropped to fit the prompt is not grounded: the
// model never saw that article.
func TestValidateCiteOfDroppedMember(t *testing.T) {
	r := manyMembers(80, 3000)
	p, err := buildPrompt(r)
	if err != nil {
		t.Fatal(err)
	}
	dropped := len(p.articles) + 1
	a, err := parseAnswer(fmt.Sprintf(`{"what_changed":[{"text":"seen","cites":[1]},{"text":"unseen","cites":[%d]}]}`, dropped))
	if err != nil {
		t.Fatal(err)
	}
	ins, err := p.validate(a)
	if err != nil {
		t.Fatal(err)
	}
	want := []news.Claim{{Text: "seen", Cites: []int64{1000}}}
	if !reflect.DeepEqual(ins.WhatChanged, want) {
		t.Errorf("claims = %+v, want %+v", ins.WhatChanged, want)
	}
}

func TestPromptMemberNumbers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members []Member
		want    map[int]int64 // nil: an error
	}{
		{"numbers given", []Member{{N: 2, Article: 20}, {N: 1, Article: 10}}, map[int]int64{1: 10, 2: 20}},
		{"numbers from positions", []Member{{Article: 10}, {Article: 20}}, map[int]int64{1: 10, 2: 20}},
		{"no members", nil, nil},
		{"a number twice", []Member{{N: 1, Article: 10}, {N: 1, Article: 20}}, nil},
		{"a position colliding with a number", []Member{{Article: 10}, {N: 1, Article: 20}}, nil},
		{"negative", []Member{{N: -1, Article: 10}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := buildPrompt(Request{Title: "t", Members: tc.members})
			if tc.want == nil {
				if err == nil {
					t.Fatalf("accepted: %v", p.articles)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.articles, tc.want) {
				t.Errorf("numbers = %v, want %v", p.articles, tc.want)
			}
		})
	}
}

func TestValidateClaims(t *testing.T) {
	p := prompt{articles: map[int]int64{1: 101, 2: 205, 3: 309}}
	six := `{"text":"a","cites":[1]},{"text":"b","cites":[1]},{"text":"c","cites":[1]},{"text":"d","cites":[1]},{"text":"e","cites":[1]},{"text":"f","cites":[1]}`
	for _, tc := range []struct {
		name, content string
		want          news.Insight
	}{
		{"text cleaned", `{"what_changed":[{"text":"  two\n\n lines\twith\u0007 bell ","cites":[1]}]}`,
			news.Insight{WhatChanged: []news.Claim{{Text: "two lines with bell", Cites: []int64{101}}}}},
		{"text capped", `{"what_changed":[{"text":"` + strings.Repeat("word ", 200) + `","cites":[2]}]}`,
			news.Insight{WhatChanged: []news.Claim{{Text: strings.Repeat("word ", 118) + "word…", Cites: []int64{205}}}}},
		{"cites deduplicated and sorted", `{"why_it_matters":[{"text":"x","cites":[3,1,3,"#1"]}]}`,
			news.Insight{WhyItMatters: []news.Claim{{Text: "x", Cites: []int64{101, 309}}}}},
		{"at most five claims a part", `{"what_to_do_next":[` + six + `]}`,
			news.Insight{WhatToDoNext: []news.Claim{cl("a", 101), cl("b", 101), cl("c", 101), cl("d", 101), cl("e", 101)}}},
		{"keys spelled otherwise", `{"What changed":[{"text":"x","cites":[2]}],"why-it-matters":[{"text":"y","cites":[3]}]}`,
			news.Insight{WhatChanged: []news.Claim{cl("x", 205)}, WhyItMatters: []news.Claim{cl("y", 309)}}},
		{"headings canonical, merged, in page order", `{"sections":[
			{"heading":"IMPLICATIONS","claims":[{"text":"i","cites":[1]}]},
			{"heading":"Key Takeaways:","claims":[{"text":"k1","cites":[1]}]},
			{"heading":"History","claims":[{"text":"h","cites":[1]}]},
			{"heading":"Comparison","claims":[{"text":"bad","cites":[4]}]},
			{"heading":"key takeaways","claims":[{"text":"k2","cites":[2]}]}]}`,
			news.Insight{Sections: []news.InsightSection{
				{Heading: HeadingTakeaways, Claims: []news.Claim{cl("k1", 101), cl("k2", 205)}},
				{Heading: HeadingImplicate, Claims: []news.Claim{cl("i", 101)}},
			}}},
		{"words with braces before the object", `Draft {v2} follows: {"what_changed":[{"text":"x","cites":[1]}]} done {}`,
			news.Insight{WhatChanged: []news.Claim{cl("x", 101)}}},
		{"a part of the wrong shape", `{"what_changed":"DeepSeek released V4","why_it_matters":[{"text":"y","cites":[1]}],"sections":{"heading":"x"}}`,
			news.Insight{WhyItMatters: []news.Claim{cl("y", 101)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := parseAnswer(tc.content)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.validate(a)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("insight = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCiteNumber(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want int // 0: not a cite
	}{
		{`1`, 1}, {`3.0`, 3}, {`"2"`, 2}, {`"[2]"`, 2}, {`"#4"`, 4}, {`" 5 "`, 5},
		{`0`, 0}, {`-1`, 0}, {`1.5`, 0}, {`1e300`, 0}, {`"two"`, 0}, {`null`, 0}, {`[1]`, 0}, {`{"n":1}`, 0}, {`true`, 0},
	} {
		n, ok := citeNumber(json.RawMessage(tc.raw))
		if (tc.want == 0 && ok) || (tc.want != 0 && (!ok || n != tc.want)) {
			t.Errorf("citeNumber(%s) = %d, %v; want %d", tc.raw, n, ok, tc.want)
		}
	}
}

func TestCutText(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"the quick brown fox jumps", 14, "the quick…"},
		{"the quick brown fox jumps", 15, "the quick br…"}, // the space is too far back
		{"supercalifragilistic", 10, "superca…"},
		{"ééééé", 6, "é…"}, // never half a character
		{"abc", 3, "abc"},
		{"abcdef", 3, ""},
	} {
		got := cutText(tc.s, tc.n)
		if got != tc.want || len(got) > tc.n || !utf8.ValidString(got) {
			t.Errorf("cutText(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestCleanText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  a \n\t b  ", "a b"},
		{"bad\xff\xfebytes", "badbytes"},
		{"zero\u200bwidth\ufeff", "zerowidth"},
		{"ctrl\x00\x1b[31m", "ctrl[31m"},
		{"\u00a0nbsp\u2028line", "nbsp line"},
	} {
		if got := cleanText(tc.in); got != tc.want {
			t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func cl(text string, cites ...int64) news.Claim { return news.Claim{Text: text, Cites: cites} }
