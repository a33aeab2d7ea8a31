package redistest

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds and fails tb ("timed out waiting
// for what") if it still does not after 5s. Tests wait with it instead of
// sleeping: it returns as soon as cond holds.
func Eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	EventuallyWithin(tb, 5*time.Second, what, cond)
}

// EventuallyWithin is Eventually with its own bound, for waits that include
// a server timeout (a loaded CI machine stretches them). It checks cond
// first at once, then after 1 ms, the pause doubling up to 20 ms.
func EventuallyWithin(tb testing.TB, bound time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(bound)
	for pause := time.Millisecond; !cond(); pause = min(2*pause, 20*time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
			return
		}
		time.Sleep(pause)
	}
}
