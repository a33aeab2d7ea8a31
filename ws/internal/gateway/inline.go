package gateway

import (
	"sync/atomic"
	"time"
)

// Writes made by the goroutine that queues a frame (enqueueNow) save a
// writer goroutine each, but they run on that goroutine: for deliveries,
// the hub's one receive goroutine per Redis server, which otherwise only
// parses and hands out. inlineBudget keeps them from making it the node's
// bottleneck on a machine with many cores and much traffic: within each
// inlineWindow, once inline writes have taken inlineShare of it (half a
// core), frames go to writer goroutines, which run in parallel, until the
// next window.
const (
	inlineWindow = 100 * time.Millisecond
	inlineShare  = inlineWindow / 2
)

// inlineBudget is the time spent in inline writes in the current window.
type inlineBudget struct {
	start atomic.Int64 // the window's start, unix ns
	spent atomic.Int64 // ns spent in inline writes since start
}

// allow reports whether an inline write may be made at now (unix ns).
func (b *inlineBudget) allow(now int64) bool {
	if s := b.start.Load(); now-s >= int64(inlineWindow) {
		if b.start.CompareAndSwap(s, now) {
			b.spent.Store(0)
		}
		return true
	}
	return b.spent.Load() < int64(inlineShare)
}

// spend records an inline write that took d ns.
func (b *inlineBudget) spend(d int64) { b.spent.Add(d) }
