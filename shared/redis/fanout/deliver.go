package fanout

import (
	"context"
	"strconv"

	"github.com/roomwire/roomwire/shared/chat/wire"
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
	// Fanout is how many local subscribers the hub hands m to, set before
	// the first Deliver: a subscriber may do more of the work on the
	// hub's goroutine when it is small (0: not told).
	Fanout int
}

// confirm records Redis' confirmation of a SUBSCRIBE received on sh. It
// reports true for a confirmation nobody waited for: the client resubscribed
// after reconnecting, the hub retried a refused SUBSCRIBE, or it re-routed
// the channel to another cluster master.
func (h *Hub) confirm(sh *shard, channel string) (resubscribed bool) {
	h.mu.RLock() // keeps t.shard; stale is only cleared while t.shard is sh
	defer h.mu.RUnlock()
	b := h.bucket(channel)
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[channel]
	if t != nil && t.shard == sh {
		t.stale.Store(false)
	}
	n, pending := b.inflight[channel]
	if !pending {
		return true
	}
	if n > 1 {
		b.inflight[channel] = n - 1
		return false
	}
	delete(b.inflight, channel)
	if t != nil {
		select {
		case <-t.ready:
		default:
			close(t.ready)
		}
	}
	return false
}

// resubscribed tells channel's subscribers that implement Resubscriber that
// Redis confirmed it again.
func (h *Hub) resubscribed(t *topic, channel string) {
	for _, s := range t.subscribers() {
		if r, ok := s.(Resubscriber); ok {
			r.Resubscribed(channel)
		}
	}
}

// dispatch handles one message received live from Redis.
func (h *Hub) dispatch(channel, payload string) {
	h.received.Add(1)
	m := h.newMsg(channel, []byte(payload))
	if t := h.topic(channel); t != nil { // else unsubscribed meanwhile
		h.enqueue(channel, t, item{m: m})
	}
}

// catchUp back-fills what channel published after its last delivered seq,
// then tells its Resubscribers: Redis confirmed it again.
func (h *Hub) catchUp(channel string) {
	if t := h.topic(channel); t != nil {
		h.enqueue(channel, t, item{catchUp: true})
	}
}

// enqueue queues it behind the channel's earlier work and, unless a drainer
// runs already (another receive goroutine, or the channel's back-fill
// worker), delivers the queue on the calling receive goroutine. It never
// waits for I/O: work that must read history moves to a worker.
func (h *Hub) enqueue(channel string, t *topic, it item) {
	t.dmu.Lock()
	if len(t.queue) >= h.cfg.QueueMax && it.m != nil {
		// Full while a back-fill waits: history holds chat messages, so
		// one marker stands for all of them; events are lost.
		if it.m.Seq > 0 && h.cfg.Backfill != nil && !t.refilling {
			t.refilling = true
			t.queue = append(t.queue, item{refill: true})
		}
		t.dmu.Unlock()
		h.overflowed.Add(1)
		return
	}
	t.queue = append(t.queue, it)
	if t.draining {
		t.dmu.Unlock()
		return
	}
	t.draining = true
	t.dmu.Unlock()
	h.drain(channel, t, false)
}

// drain delivers the channel's queue until it is empty. On a receive
// goroutine (onWorker false) it stops at the first item that needs
// history and hands the rest of the queue to a new worker goroutine for
// the channel, owned by the hub; the worker does the I/O and goes on
// draining. Either way one goroutine at a time drains a channel, in queue
// order.
func (h *Hub) drain(channel string, t *topic, onWorker bool) {
	var done []item
	for {
		t.dmu.Lock()
		if cap(done) > 0 && cap(done) <= 1024 { // not after a burst: its array goes
			t.spare = done[:0] // the next batch's array: no allocation per message
		}
		batch := t.queue
		if len(batch) == 0 {
			t.draining = false
			t.dmu.Unlock()
			return
		}
		t.queue, t.spare = t.spare, nil
		t.dmu.Unlock()
		for i, it := range batch {
			after, gap := h.gap(t, it)
			if gap && !onWorker {
				t.dmu.Lock()
				t.queue = append(batch[i:], t.queue...)
				t.dmu.Unlock()
				h.wg.Add(1) // a receive goroutine holds the group open
				go func() {
					defer h.wg.Done()
					h.drain(channel, t, true)
				}()
				return
			}
			h.process(channel, t, it, after, gap)
		}
		clear(batch) // drop the messages
		done = batch
	}
}

// refillReads bounds the history reads of one refill marker (a Backfiller
// returns up to 1000 messages a read); what is left is read at the next
// gap.
const refillReads = 100

// gap reports whether it needs a read of history first, and after which
// seq. Called by the drainer.
func (h *Hub) gap(t *topic, it item) (after int64, gap bool) {
	if h.cfg.Backfill == nil {
		return 0, false
	}
	after = t.lastSeq
	if after == 0 {
		t.dmu.Lock()
		floor, ok := t.floor, t.floorOK
		t.dmu.Unlock()
		if !ok {
			return 0, false // nothing delivered, no known start: nothing this hub skipped
		}
		after = floor // nothing delivered since the subscription began there
	}
	if it.catchUp || it.refill {
		return after, true
	}
	// A gap after the last delivered seq, or after the head read at
	// subscription time when nothing was delivered yet.
	return after, it.m.Seq > after+1
}

// process delivers one item, reading history first when gap. Called by
// the drainer, with no lock held.
func (h *Hub) process(channel string, t *topic, it item, after int64, gap bool) {
	if it.catchUp {
		if gap {
			h.backfill(channel, t, after, 0)
		}
		h.resubscribed(t, channel)
		return
	}
	if it.refill {
		t.dmu.Lock()
		t.refilling = false // later overflows need a marker of their own
		t.dmu.Unlock()
		// Page by page up to the head: the full queue may have let more
		// go than one read returns.
		for i := 0; i < refillReads && gap; i++ {
			from := t.lastSeq
			h.backfill(channel, t, max(after, from), 0)
			gap = t.lastSeq > from
		}
		return
	}
	m := it.m
	if m.Seq > 0 && t.lastSeq > 0 && m.Seq <= t.lastSeq {
		h.duplicates.Add(1)
		return
	}
	if gap {
		h.backfill(channel, t, after, m.Seq)
	}
	if h.cfg.Observe != nil {
		h.cfg.Observe(m)
	}
	h.deliver(t, m)
}

// deliver hands m to the channel's local subscribers and advances lastSeq.
// Called by the drainer, with no lock held.
func (h *Hub) deliver(t *topic, m *Msg) {
	if m.Seq > 0 {
		if m.Seq <= t.lastSeq {
			return
		}
		t.lastSeq = m.Seq
	}
	subs := t.subscribers()
	m.Fanout = len(subs)
	for _, s := range subs {
		s.Deliver(m)
	}
}

// backfill delivers what channel published after seq `after` (and before
// the seq `before`, when non-zero), read from history. Called by the
// channel's worker: it may wait for Redis up to ConfirmTimeout.
func (h *Hub) backfill(channel string, t *topic, after, before int64) {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.ConfirmTimeout)
	defer cancel()
	payloads, err := h.cfg.Backfill.Since(ctx, channel, after)
	if err != nil {
		h.cfg.Logger.Warn("backfill from history failed", "channel", channel, "after", after, "err", err)
		return
	}
	for _, p := range payloads {
		m := h.newMsg(channel, p)
		if before > 0 && m.Seq >= before {
			break
		}
		h.backfilled.Add(1)
		h.deliver(t, m)
	}
}

// newMsg builds the shared form of a payload received on channel.
func (h *Hub) newMsg(channel string, payload []byte) *Msg {
	m := NewMsg(channel, payload)
	if m.ID == "" {
		m.ID = "m" + strconv.FormatUint(h.seq.Add(1), 10)
	}
	return m
}

// NewMsg reads the id and seq of a chat message payload (or of a
// tombstone) with wire.ParseMessageHead; other payloads get an empty ID and
// zero Seq.
func NewMsg(channel string, payload []byte) *Msg {
	m := &Msg{Channel: channel, Payload: payload}
	if id, seq, ok := wire.ParseMessageHead(payload); ok {
		m.ID, m.Seq = id, seq
	}
	return m
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
