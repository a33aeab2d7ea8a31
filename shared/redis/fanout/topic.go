package fanout

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// numBuckets is how many parts the hub's channel map is split into, so that
// subscriptions to different rooms, and the receive goroutines' look-ups,
// rarely wait for one another.
const numBuckets = 64

// bucket is one part of the hub's channel map.
type bucket struct {
	mu       sync.RWMutex
	topics   map[string]*topic
	inflight map[string]int // SUBSCRIBE commands sent but not yet confirmed
}

// topic is one channel subscribed by the node.
//
// Its subscribers are a copy-on-write list: Subscribe and Unsubscribe
// replace the slice (under the bucket's lock), delivery reads it with one
// atomic load and calls Deliver with no lock held.
//
// Its messages pass through a queue with at most one drainer at a time (see
// enqueue): usually the receive goroutine that received them, or the
// channel's own worker while a back-fill from history runs, so a slow
// history read holds back that channel only.
type topic struct {
	subs atomic.Pointer[[]Subscriber] // never nil; the slice is never modified

	// Guarded by the bucket's mu.
	linger *time.Timer // set while no local subscriber is left
	ready  chan struct{}
	err    error // why the subscription failed; set before ready closes

	// Guarded by Hub.mu (written under it; stale is read without).
	shard *shard // the connection the channel is subscribed on; nil while re-routed
	// stale: Redis may not carry the channel on this node (its connection
	// broke, a SUBSCRIBE was refused, its slot moved) until it confirms the
	// subscription again.
	stale atomic.Bool

	dmu       sync.Mutex // guards queue, spare, draining, floor, floorOK; never held across Deliver or I/O
	queue     []item     // received, not yet delivered
	spare     []item     // an empty array for the queue, reused by the drainer
	draining  bool       // a goroutine delivers the queue
	refilling bool       // the queue ends with a refill marker (enqueue)
	floor     int64      // the channel's head when first subscribed
	floorOK   bool       // floor was read
	lastSeq   int64      // highest seq delivered (sequenced channels); owned by the drainer
}

// item is one piece of work of a channel's queue: a message received live,
// or (catchUp) a back-fill from history up to the head after Redis confirmed
// the channel again, followed by telling the Resubscribers, or (refill) a
// back-fill from history up to the head of what a full queue did not take.
type item struct {
	m       *Msg
	catchUp bool
	// refill: chat messages were not queued (the queue was full); read
	// them from history.
	refill bool
}

func newTopic() *topic {
	t := &topic{ready: make(chan struct{})}
	t.subs.Store(&[]Subscriber{})
	return t
}

// add adds s unless it is subscribed already. Caller holds the bucket's mu.
func (t *topic) add(s Subscriber) {
	old := *t.subs.Load()
	if slices.Contains(old, s) {
		return
	}
	next := make([]Subscriber, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	t.subs.Store(&next)
}

// remove removes s and returns how many subscribers are left. Caller holds
// the bucket's mu.
func (t *topic) remove(s Subscriber) int {
	old := *t.subs.Load()
	i := slices.Index(old, s)
	if i < 0 {
		return len(old)
	}
	next := make([]Subscriber, 0, len(old)-1)
	next = append(next, old[:i]...)
	next = append(next, old[i+1:]...)
	t.subs.Store(&next)
	return len(next)
}

// subscribers returns the current subscriber list; it must not be modified.
func (t *topic) subscribers() []Subscriber { return *t.subs.Load() }

var bucketSeed = maphash.MakeSeed()

func (h *Hub) bucket(channel string) *bucket {
	return &h.buckets[maphash.String(bucketSeed, channel)%numBuckets]
}

// topic returns channel's topic, or nil.
func (h *Hub) topic(channel string) *topic {
	b := h.bucket(channel)
	b.mu.RLock()
	t := b.topics[channel]
	b.mu.RUnlock()
	return t
}

// eachTopic calls f for every topic, one bucket at a time under its read
// lock.
func (h *Hub) eachTopic(f func(channel string, t *topic)) {
	for i := range h.buckets {
		b := &h.buckets[i]
		b.mu.RLock()
		for ch, t := range b.topics {
			f(ch, t)
		}
		b.mu.RUnlock()
	}
}
