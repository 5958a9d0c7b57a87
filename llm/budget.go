package llm

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Budget allows at most a number of calls per rolling hour: whatever the
// backlog after a restart or a burst of news, a paid endpoint costs no more
// than the operator agreed to.
type Budget struct {
	mu      sync.Mutex
	perHour int
	now     func() time.Time
	// granted holds the times of the last perHour calls, a ring whose
	// oldest entry is at next once it is full.
	granted []time.Time
	next    int
}

// NewBudget returns a budget of perHour calls per rolling hour; perHour <= 0
// allows none. now is the clock, default time.Now.
func NewBudget(perHour int, now func() time.Time) *Budget {
	if now == nil {
		now = time.Now
	}
	perHour = max(perHour, 0)
	return &Budget{perHour: perHour, now: now, granted: make([]time.Time, 0, perHour)}
}

// Allow takes a slot and reports true when fewer than perHour calls were
// allowed in the last hour; otherwise it takes nothing and reports false.
func (b *Budget) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.perHour == 0 {
		return false
	}
	t := b.now()
	if len(b.granted) < b.perHour {
		b.granted = append(b.granted, t)
		return true
	}
	// A clock that went back leaves the oldest call "in the future": the
	// slot stays taken until the clock passes it by an hour.
	if t.Sub(b.granted[b.next]) < time.Hour {
		return false
	}
	b.granted[b.next] = t
	b.next = (b.next + 1) % b.perHour
	return true
}

// Remaining is how many calls Allow would grant now.
func (b *Budget) Remaining() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	used := 0
	for _, g := range b.granted {
		if t.Sub(g) < time.Hour {
			used++
		}
	}
	return b.perHour - used
}

// Backoff defaults.
const (
	BackoffBase   = 30 * time.Second
	BackoffMax    = 30 * time.Minute
	BackoffFactor = 2.0
)

// BackoffConfig shapes a Backoff. Zero values mean the defaults.
type BackoffConfig struct {
	Base   time.Duration // the wait after the first failure; default 30s
	Max    time.Duration // the longest wait; default 30m
	Factor float64       // each further failure multiplies the wait; default 2
	// Jitter, when set, turns each computed wait into the one used, so
	// instances that failed together do not retry together (see Jitter).
	// Nil waits exactly the computed time.
	Jitter func(time.Duration) time.Duration
	Now    func() time.Time // default time.Now
}

// Backoff spaces calls to a model that keeps failing: after n failures in a
// row, the next call waits Base·Factor^(n-1), at most Max. A success resets it.
type Backoff struct {
	mu       sync.Mutex
	cfg      BackoffConfig
	failures int
	until    time.Time
}

// NewBackoff returns a backoff with the default shape and the clock now.
func NewBackoff(now func() time.Time) *Backoff {
	return NewBackoffWith(BackoffConfig{Now: now})
}

// NewBackoffWith returns a backoff shaped by cfg.
func NewBackoffWith(cfg BackoffConfig) *Backoff {
	if cfg.Base <= 0 {
		cfg.Base = BackoffBase
	}
	if cfg.Max <= 0 {
		cfg.Max = BackoffMax
	}
	cfg.Max = max(cfg.Max, cfg.Base)
	if cfg.Factor < 1 {
		cfg.Factor = BackoffFactor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Backoff{cfg: cfg}
}

// Failed records a failure and returns how long calls now wait.
func (b *Backoff) Failed() time.Duration {
	return b.FailedAtLeast(0)
}

// FailedAtLeast records a failure after which the server asked to wait at
// least d (Retry-After; StatusError.RetryAfter), and returns the wait: the
// longer of d and the backoff, at most Max.
func (b *Backoff) FailedAtLeast(d time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	wait := b.delay(b.failures)
	if b.cfg.Jitter != nil {
		wait = min(max(b.cfg.Jitter(wait), 0), b.cfg.Max)
	}
	wait = min(max(wait, d), b.cfg.Max)
	b.until = b.cfg.Now().Add(wait)
	return wait
}

// delay is the wait after n failures in a row, before jitter.
func (b *Backoff) delay(n int) time.Duration {
	d := b.cfg.Base
	for i := 1; i < n && d < b.cfg.Max; i++ {
		d = time.Duration(float64(d) * b.cfg.Factor)
	}
	return min(d, b.cfg.Max)
}

// Succeeded resets the backoff: the next failure waits Base again.
func (b *Backoff) Succeeded() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = 0
	b.until = time.Time{}
}

// Ready reports whether a call may be made now.
func (b *Backoff) Ready() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.cfg.Now().Before(b.until)
}

// Until is when calls may resume; the zero time when they need not wait.
func (b *Backoff) Until() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.until
}

// Failures is the number of failures in a row.
func (b *Backoff) Failures() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures
}

// Jitter returns a BackoffConfig.Jitter that waits a random time between
// (1-fraction)·d and d. It is safe for concurrent use.
func Jitter(fraction float64) func(time.Duration) time.Duration {
	fraction = min(max(fraction, 0), 1)
	return func(d time.Duration) time.Duration {
		spread := int64(float64(d) * fraction)
		if spread <= 0 {
			return d
		}
		return d - time.Duration(rand.Int64N(spread+1))
	}
}
