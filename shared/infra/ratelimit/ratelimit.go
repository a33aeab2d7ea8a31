// Package ratelimit keeps one token bucket per key (a user id, a remote
// address) in a bounded map, for limits that many callers share: CONNECT
// attempts per IP on ws nodes, requests per user on the api.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Keyed limiter. Zero fields take the defaults in
// brackets.
type Config struct {
	// Rate is the refill in tokens per second; a negative Rate disables the
	// limiter (Allow always succeeds). Zero is invalid: New panics, so a
	// forgotten default never silently blocks everyone.
	Rate float64
	// Burst is the bucket size [ceil(Rate), at least 1].
	Burst int
	// MaxKeys bounds the keys tracked [10000]. When a new key finds the map
	// full, buckets that have refilled (as good as new) are dropped; if
	// none has, an arbitrary sixteenth of the map is. Under such churn a
	// key may thus start over with a full bucket: the bound on memory wins.
	MaxKeys int
}

// Keyed is a set of token buckets by key. It is safe for concurrent use.
type Keyed struct {
	cfg Config
	now func() time.Time

	// mu guards buckets.
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// New returns a Keyed limiter.
func New(cfg Config) *Keyed {
	if cfg.Rate == 0 {
		panic("ratelimit: Rate is zero")
	}
	if cfg.Burst <= 0 {
		cfg.Burst = max(1, int(math.Ceil(cfg.Rate)))
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 10000
	}
	return &Keyed{cfg: cfg, now: time.Now, buckets: make(map[string]*rate.Limiter)}
}

// Allow takes a token from key's bucket. Without one it returns false and
// how long until a token will be there.
func (k *Keyed) Allow(key string) (ok bool, retryAfter time.Duration) {
	if k.cfg.Rate < 0 {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= k.cfg.MaxKeys {
			k.evict(now)
		}
		b = rate.NewLimiter(rate.Limit(k.cfg.Rate), k.cfg.Burst)
		k.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Check reports whether key's bucket holds a token, without taking it (a
// key not tracked holds a full bucket); when it does not, it also returns
// how long until one will be there. It lets a caller refuse work up front
// for keys that have used up their bucket, and spend tokens (Allow) only
// on some outcomes.
func (k *Keyed) Check(key string) (ok bool, retryAfter time.Duration) {
	if k.cfg.Rate < 0 {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.buckets[key]
	if b == nil {
		return true, 0
	}
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - tokens) / k.cfg.Rate * float64(time.Second))
}

// Len returns the number of keys tracked.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// evict drops full buckets, or failing that a sixteenth of all. Called
// with mu held.
func (k *Keyed) evict(now time.Time) {
	full := float64(k.cfg.Burst)
	for key, b := range k.buckets {
		if b.TokensAt(now) >= full {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) < k.cfg.MaxKeys {
		return
	}
	n := max(1, len(k.buckets)/16)
	for key := range k.buckets { // map order is arbitrary
		delete(k.buckets, key)
		if n--; n == 0 {
			return
		}
	}
}
