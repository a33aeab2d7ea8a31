// Package fanout connects a ws node to Redis pub/sub by interest: the node
// subscribes to a channel only while it has at least one local subscriber
// for it (never a pattern subscription of everything), and hands every
// message to those subscribers, in the order Redis delivered them.
//
// One goroutine (Run) owns the Redis pub/sub connection's read side and is
// the only caller of Subscriber.Deliver, so a subscriber sees the messages of
// one channel in publish order.
package fanout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Msg is one message received from Redis, shared by all local subscribers
// of its channel: it is built once per node, never per subscriber, and must
// not be modified.
type Msg struct {
	Channel string
	Payload []byte
	// ID is the payload's leading "id" field when it has one (chat
	// messages), otherwise a node-unique id; used as STOMP message-id.
	ID string
	// Seq is the payload's per-room sequence number (chat messages), or 0.
	Seq int64
}

// Backfiller reads what a sequenced channel published after a seq, oldest
// first, from history; the hub uses it to close gaps (a lost pub/sub
// connection, a message Redis did not deliver) before delivering more.
type Backfiller interface {
	Since(ctx context.Context, channel string, after int64) ([][]byte, error)
}

// Subscriber receives messages of the channels it subscribed to. Deliver is
// called from the hub's single receive goroutine and must not block.
type Subscriber interface {
	Deliver(m *Msg)
}

// Config configures a Hub.
type Config struct {
	// ConfirmTimeout bounds the wait for Redis to confirm a SUBSCRIBE;
	// default 5s.
	ConfirmTimeout time.Duration
	// Logger receives connection problems; default slog.Default().
	Logger *slog.Logger
	// Backfill, when set, closes seq gaps of chat channels from history.
	Backfill Backfiller
	// Observe, when set, sees every message received live from Redis once
	// per hub (not backfilled ones, not dropped duplicates), before it is
	// delivered. It runs on the Run goroutine and must be cheap; metrics
	// use it. Default none.
	Observe func(m *Msg)
}

type topic struct {
	subs    map[Subscriber]struct{}
	ready   chan struct{} // closed once Redis confirmed the subscription
	lastSeq int64         // highest seq dispatched (sequenced channels); Run goroutine only
}

// Hub multiplexes one Redis pub/sub connection among local subscribers.
type Hub struct {
	cfg Config
	ps  *redis.PubSub

	// mu guards topics and inflight.
	mu       sync.RWMutex
	topics   map[string]*topic
	inflight map[string]int // SUBSCRIBE commands sent but not yet confirmed

	seq        atomic.Uint64
	received   atomic.Uint64
	backfilled atomic.Uint64
	duplicates atomic.Uint64
}

// New returns a Hub using rdb. Call Run to start receiving.
func New(rdb redis.UniversalClient, cfg Config) *Hub {
	if cfg.ConfirmTimeout <= 0 {
		cfg.ConfirmTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Hub{
		cfg:      cfg,
		ps:       rdb.Subscribe(context.Background()),
		topics:   make(map[string]*topic),
		inflight: make(map[string]int),
	}
}

// Subscribe adds s to channel. When s is the channel's first local
// subscriber it subscribes in Redis; in every case it returns only once
// Redis has confirmed the subscription, so messages published afterwards
// reach s.
func (h *Hub) Subscribe(ctx context.Context, channel string, s Subscriber) error {
	h.mu.Lock()
	t := h.topics[channel]
	if t == nil {
		t = &topic{subs: make(map[Subscriber]struct{}), ready: make(chan struct{})}
		h.topics[channel] = t
		h.inflight[channel]++
		h.mu.Unlock()
		if err := h.ps.Subscribe(ctx, channel); err != nil {
			h.mu.Lock()
			h.dropTopic(channel, t)
			h.mu.Unlock()
			return fmt.Errorf("subscribe to %s: %w", channel, err)
		}
		h.mu.Lock()
	}
	t.subs[s] = struct{}{}
	h.mu.Unlock()

	timer := time.NewTimer(h.cfg.ConfirmTimeout)
	defer timer.Stop()
	select {
	case <-t.ready:
		return nil
	case <-ctx.Done():
		h.Unsubscribe(channel, s)
		return fmt.Errorf("subscribe to %s: %w", channel, ctx.Err())
	case <-timer.C:
		h.Unsubscribe(channel, s)
		return fmt.Errorf("subscribe to %s: not confirmed by Redis within %s", channel, h.cfg.ConfirmTimeout)
	}
}

// dropTopic removes t if it is still channel's topic. Caller holds mu.
func (h *Hub) dropTopic(channel string, t *topic) {
	if h.topics[channel] == t {
		delete(h.topics, channel)
	}
	if h.inflight[channel]--; h.inflight[channel] <= 0 {
		delete(h.inflight, channel)
	}
}

// Unsubscribe removes s from channel, unsubscribing in Redis when s was the
// last local subscriber. It never blocks on Redis for long.
func (h *Hub) Unsubscribe(channel string, s Subscriber) {
	h.mu.Lock()
	t := h.topics[channel]
	if t == nil {
		h.mu.Unlock()
		return
	}
	delete(t.subs, s)
	empty := len(t.subs) == 0
	if empty {
		delete(h.topics, channel)
	}
	h.mu.Unlock()
	if empty {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.ConfirmTimeout)
		defer cancel()
		if err := h.ps.Unsubscribe(ctx, channel); err != nil && !errors.Is(err, redis.ErrClosed) {
			h.cfg.Logger.Warn("redis unsubscribe failed", "channel", channel, "err", err)
		}
	}
}

// Channels returns how many channels the node is subscribed to.
func (h *Hub) Channels() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.topics)
}

// Received returns how many messages the hub has received from Redis.
func (h *Hub) Received() uint64 { return h.received.Load() }

// Run receives from Redis until ctx ends, then closes the pub/sub
// connection. Connection errors are logged and retried with backoff (the
// client resubscribes every channel on reconnect).
func (h *Hub) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { h.ps.Close() })
	defer stop()
	backoff := 50 * time.Millisecond
	for {
		v, err := h.ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return nil
			}
			h.cfg.Logger.Warn("redis pub/sub receive failed; retrying", "err", err, "backoff", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := v.(type) {
		case *redis.Message:
			h.dispatch(ctx, m)
		case *redis.Subscription:
			if m.Kind == "subscribe" || m.Kind == "ssubscribe" {
				if resubscribed := h.confirm(m.Channel); resubscribed {
					h.catchUp(ctx, m.Channel, 0)
				}
			}
		}
	}
}

// confirm records Redis' confirmation of a SUBSCRIBE. It reports true for a
// confirmation nobody waited for: the client resubscribed after reconnecting.
func (h *Hub) confirm(channel string) (resubscribed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, pending := h.inflight[channel]
	if !pending {
		return true
	}
	if n > 1 {
		h.inflight[channel] = n - 1
		return false
	}
	delete(h.inflight, channel)
	if t := h.topics[channel]; t != nil {
		select {
		case <-t.ready:
		default:
			close(t.ready)
		}
	}
	return false
}

func (h *Hub) dispatch(ctx context.Context, rm *redis.Message) {
	h.received.Add(1)
	m := h.newMsg(rm.Channel, []byte(rm.Payload))
	if m.Seq > 0 {
		h.mu.RLock()
		t := h.topics[rm.Channel]
		var last int64
		if t != nil {
			last = t.lastSeq
		}
		h.mu.RUnlock()
		if last > 0 && m.Seq <= last {
			h.duplicates.Add(1)
			return
		}
		if last > 0 && m.Seq > last+1 {
			h.catchUp(ctx, rm.Channel, m.Seq)
		}
	}
	if h.cfg.Observe != nil {
		h.cfg.Observe(m)
	}
	h.deliver(m)
}

// deliver hands m to the channel's local subscribers and advances lastSeq.
func (h *Hub) deliver(m *Msg) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	t := h.topics[m.Channel]
	if t == nil {
		return
	}
	if m.Seq > 0 {
		if m.Seq <= t.lastSeq {
			return
		}
		t.lastSeq = m.Seq // only the Run goroutine writes lastSeq
	}
	for s := range t.subs {
		s.Deliver(m)
	}
}

// catchUp delivers what channel published after its last dispatched seq
// (and before the seq `before`, when non-zero), read from history.
func (h *Hub) catchUp(ctx context.Context, channel string, before int64) {
	if h.cfg.Backfill == nil {
		return
	}
	h.mu.RLock()
	t := h.topics[channel]
	var last int64
	if t != nil {
		last = t.lastSeq
	}
	h.mu.RUnlock()
	if last == 0 {
		return // nothing delivered yet: nothing can be missing
	}
	bctx, cancel := context.WithTimeout(ctx, h.cfg.ConfirmTimeout)
	defer cancel()
	payloads, err := h.cfg.Backfill.Since(bctx, channel, last)
	if err != nil {
		h.cfg.Logger.Warn("backfill from history failed", "channel", channel, "after", last, "err", err)
		return
	}
	for _, p := range payloads {
		m := h.newMsg(channel, p)
		if before > 0 && m.Seq >= before {
			break
		}
		h.backfilled.Add(1)
		h.deliver(m)
	}
}

// NewMsg builds the shared form of a payload received on channel.
func (h *Hub) newMsg(channel string, payload []byte) *Msg {
	m := NewMsg(channel, payload)
	if m.ID == "" {
		m.ID = "m" + strconv.FormatUint(h.seq.Add(1), 10)
	}
	return m
}

// NewMsg parses the leading id and seq of a chat message payload; other
// payloads get an empty ID and zero Seq.
func NewMsg(channel string, payload []byte) *Msg {
	m := &Msg{Channel: channel, Payload: payload}
	m.ID = leadingID(payload)
	if m.ID != "" {
		m.Seq = seqOf(payload)
	}
	return m
}

// Stats are the hub's counters.
type Stats struct {
	Channels                                int
	Received, Backfilled, DuplicatesDropped uint64
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{Channels: h.Channels(), Received: h.received.Load(),
		Backfilled: h.backfilled.Load(), DuplicatesDropped: h.duplicates.Load()}
}

// leadingID returns X for payloads starting with {"id":"X", else "".
func leadingID(p []byte) string {
	const pre = `{"id":"`
	if len(p) < len(pre) || string(p[:len(pre)]) != pre {
		return ""
	}
	for i := len(pre); i < len(p) && i < 64; i++ {
		switch p[i] {
		case '"':
			return string(p[len(pre):i])
		case '\\':
			return ""
		}
	}
	return ""
}

// seqOf returns N from the first `"seq":N` in the payload's head, or 0.
func seqOf(p []byte) int64 {
	const key = `"seq":`
	head := p[:min(len(p), 128)]
	i := bytes.Index(head, []byte(key))
	if i < 0 {
		return 0
	}
	var n int64
	for _, c := range head[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// signal is a Subscriber that only records that something arrived.
type signal chan struct{}

func (s signal) Deliver(*Msg) {
	select {
	case s <- struct{}{}:
	default:
	}
}

// Notify returns a channel that receives after each message published on
// channel (coalesced), and a stop function that must be called. It returns
// once the subscription is active, so nothing published afterwards is
// missed. Long-polling requests use it.
func (h *Hub) Notify(ctx context.Context, channel string) (<-chan struct{}, func(), error) {
	s := make(signal, 1)
	if err := h.Subscribe(ctx, channel, s); err != nil {
		return nil, nil, err
	}
	return s, func() { h.Unsubscribe(channel, s) }, nil
}
