// Package fanout connects a ws node to Redis pub/sub by interest: the node
// subscribes to a channel only while it has at least one local subscriber
// for it (never a pattern subscription of everything), and hands every
// message to those subscribers, in the order Redis delivered them.
//
// On a single Redis the hub holds one classic pub/sub connection. On a Redis
// Cluster (a *redis.ClusterClient) it uses sharded pub/sub: one SSUBSCRIBE
// connection per master that owns a subscribed channel's slot, so a node
// receives only the traffic of the channels it subscribed to, from the shard
// that handles them. When a slot moves (a failover, a resharding) the shard
// unsubscribes the node; the hub re-routes the channel to the new owner and
// closes the gap from history.
//
// A subscription lost on the way (a broken connection, a SUBSCRIBE refused
// by Redis, a moved slot) leaves its channel unconfirmed (Hub.Unconfirmed)
// until Redis confirms it again: the hub retries with backoff, back-fills
// the gap from history, and tells Resubscriber subscribers.
//
// Each channel is delivered by one goroutine at a time and a subscriber sees
// the messages of one channel in publish order, each once; Subscriber.Deliver
// is never called concurrently for one channel, and never with a lock of the
// hub held, so Subscribe and Unsubscribe never wait for a fan-out. A gap is
// closed from history on a worker goroutine of its channel, with the
// channel's newer messages held behind it: a slow history read delays that
// channel only, never the other channels of its connection.
package fanout

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Backfiller reads what a sequenced channel published after a seq, oldest
// first, from history; the hub uses it to close gaps (a lost pub/sub
// connection, a moved slot, a message Redis did not deliver) before
// delivering more.
type Backfiller interface {
	Since(ctx context.Context, channel string, after int64) ([][]byte, error)
}

// HeadReader may be implemented by a Backfiller: the latest seq of a
// sequenced channel (0 for other channels or before the first message). The
// hub reads it when it first subscribes a channel, so that a gap opened
// before the first live message (a failover right after the subscription)
// is closed from history too.
type HeadReader interface {
	Head(ctx context.Context, channel string) (int64, error)
}

// Subscriber receives messages of the channels it subscribed to. Deliver is
// called from the hub's receive goroutines and must not block.
type Subscriber interface {
	Deliver(m *Msg)
}

// Config configures a Hub.
type Config struct {
	// ConfirmTimeout bounds the wait for Redis to confirm a SUBSCRIBE;
	// default 5s.
	ConfirmTimeout time.Duration
	// QueueMax bounds the messages a channel's queue holds while the
	// channel's back-fill waits for history (each channel's queue drains on
	// one goroutine; see topic); default 10000. Beyond it a chat message
	// (with a seq) is not queued: one marker makes the drainer read those
	// messages from history instead, after the back-fill; a message
	// without a seq (room events) is dropped. Both are counted
	// (Stats.Overflowed).
	QueueMax int
	// Linger is how long a channel stays subscribed in Redis after its last
	// local subscriber left, so a page reload or a quick re-subscribe does
	// not churn SUBSCRIBE/UNSUBSCRIBE; default 2s, negative for none.
	Linger time.Duration
	// Logger receives connection problems; default slog.Default().
	Logger *slog.Logger
	// Backfill, when set, closes seq gaps of chat channels from history.
	Backfill Backfiller
	// MasterCheck, when positive, is how often the hub checks that its
	// pub/sub connection is on the server its commands go to (see
	// checkMaster): on a Redis Sentinel set-up it follows a failover whose
	// old master stays up. Ignored on a cluster. Default 0: never.
	MasterCheck time.Duration
	// CheckChannel is the channel MasterCheck publishes on and the hub
	// subscribes to (counted in Channels); required with MasterCheck.
	CheckChannel string
	// Observe, when set, sees every message received live from Redis once
	// per hub (not backfilled ones, not dropped duplicates), before it is
	// delivered. It runs on a receive goroutine (several run at once on a
	// cluster) and must be cheap and safe for concurrent use; metrics use
	// it. Default none.
	Observe func(m *Msg)
}

// Resubscriber may be implemented by a Subscriber: Resubscribed is called
// when Redis confirms the channel again after the subscription was lost (a
// reconnect, a refused SUBSCRIBE retried, a moved slot), once the gap was
// back-filled. Whatever the channel carried meanwhile and history does not
// hold was missed; control subscribers reconcile then. It runs on a receive
// goroutine and must not block.
type Resubscriber interface {
	Resubscribed(channel string)
}

// Hub multiplexes Redis pub/sub connections among local subscribers.
type Hub struct {
	cfg     Config
	rdb     redis.UniversalClient
	cluster *redis.ClusterClient // nil on a single Redis
	routes  *routes              // slot owners (cluster only)

	ctx    context.Context // lives until Run returns; owns the receive goroutines
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// buckets hold the subscribed channels, split by name (see bucket).
	buckets [numBuckets]bucket

	// mu guards the routing of channels to connections: shards, every
	// shard's channels and retrying, and every topic's shard and stale.
	// Lock order: mu before a bucket's mu. Neither is held across Deliver.
	mu     sync.RWMutex
	shards map[string]*shard // by server address ("" on a single Redis)
	closed atomic.Bool       // set under mu

	seq        atomic.Uint64
	received   atomic.Uint64
	backfilled atomic.Uint64
	duplicates atomic.Uint64
	overflowed atomic.Uint64
	moved      atomic.Uint64
	failures   atomic.Uint64
	switched   atomic.Uint64
}

// New returns a Hub using rdb. Run must be called: it owns the hub's
// receive goroutines and closes every connection when its context ends.
func New(rdb redis.UniversalClient, cfg Config) *Hub {
	if cfg.ConfirmTimeout <= 0 {
		cfg.ConfirmTimeout = 5 * time.Second
	}
	if cfg.Linger == 0 {
		cfg.Linger = 2 * time.Second
	}
	if cfg.QueueMax <= 0 {
		cfg.QueueMax = 10000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Hub{cfg: cfg, rdb: rdb, shards: make(map[string]*shard)}
	for i := range h.buckets {
		h.buckets[i].topics = make(map[string]*topic)
		h.buckets[i].inflight = make(map[string]int)
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		h.cluster = cc
		h.routes = newRoutes(cc)
	}
	return h
}

// Subscribe adds s to channel. When s is the channel's first local
// subscriber it subscribes in Redis; in every case it returns only once
// Redis has confirmed the subscription, so messages published afterwards
// reach s. It waits for no delivery in progress.
func (h *Hub) Subscribe(ctx context.Context, channel string, s Subscriber) error {
	if h.closed.Load() {
		return fmt.Errorf("subscribe to %s: hub closed", channel)
	}
	b := h.bucket(channel)
	b.mu.Lock()
	t := b.topics[channel]
	fresh := t == nil
	if fresh {
		t = newTopic()
		b.topics[channel] = t
		b.inflight[channel]++
	} else if t.linger != nil {
		t.linger.Stop()
		t.linger = nil
	}
	t.add(s)
	b.mu.Unlock()

	if fresh {
		if err := h.subscribeRedis(ctx, channel, t); err != nil {
			h.fail(channel, t, err)
			return fmt.Errorf("subscribe to %s: %w", channel, err)
		}
	}

	timer := time.NewTimer(h.cfg.ConfirmTimeout)
	defer timer.Stop()
	select {
	case <-t.ready:
		if t.err != nil { // written before ready closed
			return fmt.Errorf("subscribe to %s: %w", channel, t.err)
		}
		if fresh {
			h.readFloor(ctx, channel, t)
		}
		return nil
	case <-ctx.Done():
		h.Unsubscribe(channel, s)
		return fmt.Errorf("subscribe to %s: %w", channel, ctx.Err())
	case <-timer.C:
		h.Unsubscribe(channel, s)
		return fmt.Errorf("subscribe to %s: not confirmed by Redis within %s", channel, h.cfg.ConfirmTimeout)
	}
}

// readFloor records the channel's head seq when the Backfiller can tell it.
func (h *Hub) readFloor(ctx context.Context, channel string, t *topic) {
	hr, ok := h.cfg.Backfill.(HeadReader)
	if !ok {
		return
	}
	n, err := hr.Head(ctx, channel)
	if err != nil {
		h.cfg.Logger.Debug("read channel head failed", "channel", channel, "err", err)
		return
	}
	t.dmu.Lock()
	if !t.floorOK {
		t.floor, t.floorOK = n, true
	}
	t.dmu.Unlock()
}

// fail ends a topic whose SUBSCRIBE could not be sent: every subscriber
// waiting for it gets err.
func (h *Hub) fail(channel string, t *topic, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t.shard != nil {
		delete(t.shard.channels, channel)
		t.shard = nil
	}
	b := h.bucket(channel)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.topics[channel] == t {
		delete(b.topics, channel)
	}
	if b.inflight[channel]--; b.inflight[channel] <= 0 {
		delete(b.inflight, channel)
	}
	select {
	case <-t.ready:
	default:
		t.err = err
		close(t.ready)
	}
}

// abandon forgets the SUBSCRIBE of a topic that goes before Redis confirmed
// it (its subscribers timed out): a later topic of the channel must not wait
// for that confirmation too. Caller holds b.mu.
func (b *bucket) abandon(channel string, t *topic) {
	select {
	case <-t.ready:
		return
	default:
	}
	if b.inflight[channel]--; b.inflight[channel] <= 0 {
		delete(b.inflight, channel)
	}
	t.err = fmt.Errorf("subscription of %s abandoned", channel)
	close(t.ready)
}

// Unsubscribe removes s from channel. When s was the last local subscriber
// the channel is unsubscribed in Redis after the linger. It never blocks on
// Redis for long, nor waits for a delivery in progress: a Deliver that
// started before may still reach s after it returns.
func (h *Hub) Unsubscribe(channel string, s Subscriber) {
	b := h.bucket(channel)
	b.mu.Lock()
	t := b.topics[channel]
	if t == nil {
		b.mu.Unlock()
		return
	}
	if t.remove(s) > 0 || t.linger != nil {
		b.mu.Unlock()
		return
	}
	if h.cfg.Linger > 0 && !h.closed.Load() {
		t.linger = time.AfterFunc(h.cfg.Linger, func() { h.expire(channel, t) })
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	h.expire(channel, t)
}

// expire unsubscribes channel in Redis if t is still its topic and still
// has no local subscriber.
func (h *Hub) expire(channel string, t *topic) {
	h.mu.Lock()
	b := h.bucket(channel)
	b.mu.Lock()
	if b.topics[channel] != t || len(t.subscribers()) > 0 {
		b.mu.Unlock()
		h.mu.Unlock()
		return
	}
	delete(b.topics, channel)
	t.linger = nil
	b.abandon(channel, t)
	b.mu.Unlock()
	sh := t.shard
	if sh != nil {
		delete(sh.channels, channel)
		t.shard = nil
	}
	h.mu.Unlock()
	if sh != nil {
		sh.unsubscribe(h.cfg.ConfirmTimeout, channel)
		h.closeIfIdle(sh)
	}
}

// Channels returns how many channels the node is subscribed to (lingering
// ones included: Redis still sends their messages).
func (h *Hub) Channels() int {
	n := 0
	for i := range h.buckets {
		b := &h.buckets[i]
		b.mu.RLock()
		n += len(b.topics)
		b.mu.RUnlock()
	}
	return n
}

// Unconfirmed returns how many channels the node is subscribed to locally
// whose Redis subscription was lost (a broken connection, a refused
// SUBSCRIBE, a moved slot) and is not confirmed again yet: their messages
// may be missed until then (and back-filled from history after). A node
// with unconfirmed channels is not ready.
func (h *Hub) Unconfirmed() int {
	n := 0
	h.eachTopic(func(_ string, t *topic) {
		if t.stale.Load() {
			n++
		}
	})
	return n
}

// Received returns how many messages the hub has received from Redis.
func (h *Hub) Received() uint64 { return h.received.Load() }

// Stats are the hub's counters.
type Stats struct {
	Channels int
	// Connections is the number of pub/sub connections (one per cluster
	// master serving a subscribed channel; one on a single Redis).
	Connections                             int
	Received, Backfilled, DuplicatesDropped uint64
	// Overflowed counts messages not queued because their channel's queue
	// held Config.QueueMax while its back-fill waited: chat messages are
	// read from history instead, events are lost.
	Overflowed uint64
	// Moved counts channels re-routed after their slot moved to another
	// cluster master (failover, resharding).
	Moved uint64
	// MasterSwitches counts reconnections of the pub/sub connection after
	// MasterCheck found it on a server that is no longer the master.
	MasterSwitches uint64
	// ResubscribeFailures counts (re)subscriptions that failed: error
	// replies to SUBSCRIBE (e.g. refused by an ACL) and retries that could
	// not be sent. Each is retried with backoff.
	ResubscribeFailures uint64
	// Unconfirmed is Hub.Unconfirmed.
	Unconfirmed int
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	conns := len(h.shards)
	h.mu.RUnlock()
	return Stats{Channels: h.Channels(), Connections: conns, Received: h.received.Load(),
		Backfilled: h.backfilled.Load(), DuplicatesDropped: h.duplicates.Load(), Overflowed: h.overflowed.Load(), Moved: h.moved.Load(),
		MasterSwitches: h.switched.Load(), ResubscribeFailures: h.failures.Load(), Unconfirmed: h.Unconfirmed()}
}

// Run waits until ctx ends, then closes every pub/sub connection and waits
// for the receive goroutines and back-fill workers. Connection errors are
// logged and retried with backoff by those goroutines.
func (h *Hub) Run(ctx context.Context) error {
	if h.cfg.MasterCheck > 0 && h.cfg.CheckChannel != "" && h.cluster == nil {
		h.mu.Lock()
		if !h.closed.Load() {
			h.wg.Add(1)
			go h.checkMaster()
		}
		h.mu.Unlock()
	}
	select {
	case <-ctx.Done():
	case <-h.ctx.Done():
	}
	h.mu.Lock()
	h.closed.Store(true)
	shards := make([]*shard, 0, len(h.shards))
	for _, sh := range h.shards {
		shards = append(shards, sh)
	}
	clear(h.shards)
	h.mu.Unlock()
	h.eachTopic(func(_ string, t *topic) {
		if t.linger != nil {
			t.linger.Stop()
		}
	})
	h.cancel()
	for _, sh := range shards {
		sh.close()
	}
	h.wg.Wait()
	return nil
}
