package llm

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestBudgetRollingHour(t *testing.T) {
	clock := newFakeClock()
	b := NewBudget(2, clock.Now)
	steps := []struct {
		advance       time.Duration
		wantAllow     bool
		wantRemaining int // after the Allow
	}{
		{0, true, 1},
		{10 * time.Minute, true, 0},
		{0, false, 0},
		{49 * time.Minute, false, 0},           // 59m after the first call
		{time.Minute, true, 0},                 // the first call is an hour old: its slot is free
		{0, false, 0},                          // only one slot was freed
		{10 * time.Minute, true, 0},            // the second call is an hour old
		{2 * time.Hour, true, 1},               // a quiet spell frees both slots
		{time.Hour - time.Nanosecond, true, 0}, // the previous call is not yet an hour old
		{0, false, 0},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if got := b.Allow(); got != s.wantAllow {
			t.Fatalf("step %d: Allow() = %v, want %v", i, got, s.wantAllow)
		}
		if got := b.Remaining(); got != s.wantRemaining {
			t.Fatalf("step %d: Remaining() = %d, want %d", i, got, s.wantRemaining)
		}
	}
}

func TestBudgetRemainingRecovers(t *testing.T) {
	clock := newFakeClock()
	b := NewBudget(3, clock.Now)
	for range 3 {
		b.Allow()
		clock.Advance(20 * time.Minute)
	}
	// Calls at 0, 20m and 40m; now 60m: the first has left the hour.
	if got := b.Remaining(); got != 1 {
		t.Errorf("Remaining() = %d, want 1", got)
	}
}

func TestBudgetNone(t *testing.T) {
	for _, perHour := range []int{0, -5} {
		b := NewBudget(perHour, nil)
		if b.Allow() || b.Remaining() != 0 {
			t.Errorf("NewBudget(%d) allowed a call", perHour)
		}
	}
}

func TestBudgetConcurrent(t *testing.T) {
	b := NewBudget(50, newFakeClock().Now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if b.Allow() {
				allowed.Add(1)
			}
			b.Remaining()
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 50 {
		t.Errorf("%d calls allowed, want 50", got)
	}
}

func TestBackoffDoublesAndResets(t *testing.T) {
	clock := newFakeClock()
	b := NewBackoff(clock.Now)
	if !b.Ready() || !b.Until().IsZero() {
		t.Fatal("a new backoff is not ready")
	}
	for i, want := range []time.Duration{
		30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 30 * time.Minute, 30 * time.Minute,
	} {
		if got := b.Failed(); got != want {
			t.Fatalf("failure %d: wait %s, want %s", i+1, got, want)
		}
		if got := b.Until(); !got.Equal(clock.Now().Add(want)) {
			t.Fatalf("failure %d: Until() = %s, want %s", i+1, got, clock.Now().Add(want))
		}
		clock.Advance(want - time.Second)
		if b.Ready() {
			t.Fatalf("failure %d: ready a second early", i+1)
		}
		clock.Advance(time.Second)
		if !b.Ready() {
			t.Fatalf("failure %d: not ready when the wait is over", i+1)
		}
	}
	if b.Failures() != 8 {
		t.Errorf("Failures() = %d, want 8", b.Failures())
	}
	b.Failed()
	b.Succeeded()
	if !b.Ready() || !b.Until().IsZero() || b.Failures() != 0 {
		t.Error("Succeeded did not reset the backoff")
	}
	if got := b.Failed(); got != 30*time.Second {
		t.Errorf("first failure after a success waits %s, want 30s", got)
	}
}

func TestBackoffFailedAtLeast(t *testing.T) {
	for _, tc := range []struct {
		name       string
		failures   int // before the one under test
		retryAfter time.Duration
		want       time.Duration
	}{
		{"server asks longer", 0, 5 * time.Minute, 5 * time.Minute},
		{"backoff already longer", 3, time.Minute, 4 * time.Minute},
		{"server asks too long", 0, 2 * time.Hour, 30 * time.Minute},
		{"no hint", 1, 0, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBackoff(newFakeClock().Now)
			for range tc.failures {
				b.Failed()
			}
			if got := b.FailedAtLeast(tc.retryAfter); got != tc.want {
				t.Errorf("wait %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBackoffJitter(t *testing.T) {
	half := func(d time.Duration) time.Duration { return d / 2 }
	b := NewBackoffWith(BackoffConfig{Base: 10 * time.Second, Max: time.Minute, Factor: 3, Jitter: half, Now: newFakeClock().Now})
	for i, want := range []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, 30 * time.Second} {
		if got := b.Failed(); got != want {
			t.Errorf("failure %d: wait %s, want %s", i+1, got, want)
		}
	}

	j := Jitter(0.25)
	for range 1000 {
		if got := j(time.Minute); got < 45*time.Second || got > time.Minute {
			t.Fatalf("Jitter(0.25)(1m) = %s, outside [45s, 1m]", got)
		}
	}
	if got := Jitter(0)(time.Minute); got != time.Minute {
		t.Errorf("Jitter(0)(1m) = %s", got)
	}
}

func TestBackoffConcurrent(t *testing.T) {
	b := NewBackoff(newFakeClock().Now)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			b.Failed()
			b.Ready()
			b.Until()
		})
	}
	wg.Wait()
	if b.Failures() != 50 {
		t.Errorf("Failures() = %d, want 50", b.Failures())
	}
}
