package stories

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"recap/llm"
	"recap/store"
)

// fakeModel is a local server that speaks the OpenAI chat-completions
// protocol and answers what the test tells it to.
type fakeModel struct {
	mu      sync.Mutex
	answer  func(prompt string) (status int, content string)
	delay   time.Duration
	calls   int
	prompts []string
}

func (m *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role, Content string
		} `json:"messages"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var prompt strings.Builder
	for _, msg := range req.Messages {
		prompt.WriteString(msg.Content)
	}
	m.mu.Lock()
	m.calls++
	m.prompts = append(m.prompts, prompt.String())
	answer, delay := m.answer, m.delay
	m.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	status, content := answer(prompt.String())
	if status != http.StatusOK {
		http.Error(w, content, status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}},
	})
}

func (m *fakeModel) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// insightFixture is a store holding two analysed stories, each covered by
// two outlets, and an insight stage pointed at a fake model.
type insightFixture struct {
	*stageFixture
	model   *fakeModel
	stage   *Insights
	clock   time.Time
	stories []int64
}

func newInsightFixture(t *testing.T, perHour int, timeout time.Duration) *insightFixture {
	f := &insightFixture{stageFixture: newStageFixture(t), model: &fakeModel{}, clock: time.Date(2026, 4, 7, 12, 0, 0, 0, time.UTC)}
	f.store("wire", []string{"Nvidia unveils Rubin GPUs for AI data centers", "Anthropic releases Claude Opus 5 with longer context"}, []int{0, 300})
	f.store("daily", []string{"Nvidia unveils its Rubin GPUs for data centers", "Anthropic releases Claude Opus 5, with a longer context"}, []int{20, 320})
	st := New(f.s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	res, err := st.Run(context.Background())
	if err != nil || res.Analysed < 2 {
		t.Fatalf("story stage: %+v, %v; want two stories analysed", res, err)
	}
	for _, a := range f.articles() {
		if a.StoryID == a.ID {
			f.stories = append(f.stories, a.ID)
		}
	}
	if len(f.stories) != 2 {
		t.Fatalf("want 2 stories of 2 outlets, got %v", f.stories)
	}
	srv := httptest.NewServer(f.model)
	t.Cleanup(srv.Close)
	client, err := llm.New(llm.Config{URL: srv.URL + "/v1", Model: "test-model", Timeout: timeout,
		Now: func() time.Time { return f.clock }})
	if err != nil {
		t.Fatal(err)
	}
	f.stage = NewInsights(f.s, InsightConfig{Client: client, MinOutlets: 2, PerHour: perHour, Now: func() time.Time { return f.clock }},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f
}

func (f *insightFixture) insight(id int64) (store.InsightRecord, bool) {
	f.t.Helper()
	rec, err := f.s.Insight(context.Background(), id)
	if errors.Is(err, store.ErrNotFound) {
		return rec, false
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return rec, true
}

func claimsJSON(cites ...[]int) string {
	var parts []string
	for i, c := range cites {
		b, _ := json.Marshal(c)
		parts = append(parts, fmt.Sprintf(`{"text":"claim %d","cites":%s}`, i+1, b))
	}
	return `{"what_changed":[` + strings.Join(parts, ",") + `],"why_it_matters":[{"text":"it matters","cites":[1]}],"what_to_do_next":[]}`
}

func TestInsightStageStoresValidatedInsights(t *testing.T) {
	f := newInsightFixture(t, 10, 5*time.Second)
	f.model.answer = func(string) (int, string) { return http.StatusOK, claimsJSON([]int{1, 2}, []int{9}, []int{}) }
	res, err := f.stage.Run(context.Background())
	if err != nil || res.Written != 2 || res.Failed != 0 {
		t.Fatalf("Run = %+v, %v; want 2 written", res, err)
	}
	for _, id := range f.stories {
		rec, ok := f.insight(id)
		if !ok {
			t.Fatalf("story %d has no insight", id)
		}
		story, err := f.s.Story(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Version != story.Version || rec.Model != "test-model" {
			t.Errorf("story %d: insight at version %d by %q, want version %d by test-model", id, rec.Version, rec.Model, story.Version)
		}
		// The claim citing article 9 of 2 and the claim citing nothing are dropped.
		if len(rec.WhatChanged) != 1 || rec.WhatChanged[0].Text != "claim 1" || len(rec.WhatChanged[0].Cites) != 2 {
			t.Errorf("story %d: what changed = %+v, want only claim 1 citing both members", id, rec.WhatChanged)
		}
		for _, c := range rec.WhatChanged[0].Cites {
			if c != story.Members[0].ID && c != story.Members[1].ID {
				t.Errorf("story %d: cite %d is not a member", id, c)
			}
		}
	}
	// Cached per story version: nothing changed, so no new call.
	calls := f.model.Calls()
	if res, err := f.stage.Run(context.Background()); err != nil || res.Written != 0 || f.model.Calls() != calls {
		t.Errorf("second Run = %+v, %v with %d calls, want nothing asked again", res, err, f.model.Calls()-calls)
	}
	if !strings.Contains(f.model.prompts[0], "[1]") || !strings.Contains(f.model.prompts[0], "[2]") {
		t.Errorf("the prompt does not number the members: %.300q", f.model.prompts[0])
	}
}

func TestInsightStageDropsAnswersWithoutValidCitations(t *testing.T) {
	f := newInsightFixture(t, 100, 5*time.Second)
	f.model.answer = func(string) (int, string) {
		return http.StatusOK, `{"what_changed":[{"text":"made up","cites":[7]}],"why_it_matters":[{"text":"no source","cites":[]}]}`
	}
	for round := 0; round < 4; round++ {
		if _, err := f.stage.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range f.stories {
		if _, ok := f.insight(id); ok {
			t.Errorf("story %d got an insight from an answer citing no member", id)
		}
	}
	// Each story is tried maxTriesPerVersion times, then left alone.
	if got, want := f.model.Calls(), 2*maxTriesPerVersion; got != want {
		t.Errorf("%d model calls, want %d: a story the model cannot answer must not eat the budget", got, want)
	}
}

func TestInsightStageBacksOffWhenTheModelFails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		delay   time.Duration
		status  int
	}{
		{"server error", 5 * time.Second, 0, http.StatusInternalServerError},
		{"timeout", 200 * time.Millisecond, time.Minute, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newInsightFixture(t, 100, tc.timeout)
			f.model.delay = tc.delay
			f.model.answer = func(string) (int, string) { return tc.status, claimsJSON([]int{1}) }
			res, err := f.stage.Run(context.Background())
			if err != nil || res.Failed != 1 || !res.Backoff || res.Written != 0 {
				t.Fatalf("Run = %+v, %v; want one failure, then a back-off", res, err)
			}
			// Backing off: the next round calls nothing.
			res, err = f.stage.Run(context.Background())
			if err != nil || !res.Backoff || f.model.Calls() != 1 {
				t.Fatalf("Run during back-off = %+v, %v with %d calls; want no call", res, err, f.model.Calls())
			}
			// Once the back-off has passed and the model is well, insights come.
			f.model.mu.Lock()
			f.model.delay = 0
			f.model.answer = func(string) (int, string) { return http.StatusOK, claimsJSON([]int{1}) }
			f.model.mu.Unlock()
			f.clock = f.clock.Add(time.Hour)
			res, err = f.stage.Run(context.Background())
			if err != nil || res.Written != 2 {
				t.Fatalf("Run after the back-off = %+v, %v; want 2 written", res, err)
			}
		})
	}
}

func TestInsightStageKeepsToItsBudget(t *testing.T) {
	f := newInsightFixture(t, 1, 5*time.Second)
	f.model.answer = func(string) (int, string) { return http.StatusOK, claimsJSON([]int{1}) }
	res, err := f.stage.Run(context.Background())
	if err != nil || res.Written != 1 || !res.Budget {
		t.Fatalf("Run = %+v, %v; want 1 written, then the budget spent", res, err)
	}
	res, err = f.stage.Run(context.Background())
	if err != nil || res.Written != 0 || !res.Budget || f.model.Calls() != 1 {
		t.Fatalf("Run with the budget spent = %+v, %v with %d calls; want no call", res, err, f.model.Calls())
	}
	f.clock = f.clock.Add(61 * time.Minute)
	if res, err = f.stage.Run(context.Background()); err != nil || res.Written != 1 {
		t.Fatalf("Run an hour later = %+v, %v; want the second story written", res, err)
	}
}

func TestInsightStageSkipsStoriesOfOneOutlet(t *testing.T) {
	f := newInsightFixture(t, 10, 5*time.Second)
	f.stage.cfg.MinOutlets = 3
	f.model.answer = func(string) (int, string) { return http.StatusOK, claimsJSON([]int{1}) }
	if res, err := f.stage.Run(context.Background()); err != nil || res.Written != 0 || f.model.Calls() != 0 {
		t.Fatalf("Run = %+v, %v with %d calls; want no story of 3 outlets asked about", res, err, f.model.Calls())
	}
}
