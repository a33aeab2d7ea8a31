package fanout

import (
	"context"
	"strconv"

	"github.com/roomwire/roomwire/shared/wire"
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

// confirm records Redis' confirmation of a SUBSCRIBE received on sh. It
// reports true for a confirmation nobody waited for: the client resubscribed
// after reconnecting, the hub retried a refused SUBSCRIBE, or it re-routed
// the channel to another cluster master.
func (h *Hub) confirm(sh *shard, channel string) (resubscribed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[channel]
	if t != nil && t.shard == sh {
		t.stale = false
	}
	n, pending := h.inflight[channel]
	if !pending {
		return true
	}
	if n > 1 {
		h.inflight[channel] = n - 1
		return false
	}
	delete(h.inflight, channel)
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
func (h *Hub) resubscribed(channel string) {
	h.mu.RLock()
	var rs []Resubscriber
	if t := h.topics[channel]; t != nil {
		for s := range t.subs {
			if r, ok := s.(Resubscriber); ok {
				rs = append(rs, r)
			}
		}
	}
	h.mu.RUnlock()
	for _, r := range rs {
		r.Resubscribed(channel)
	}
}

// dispatch handles one message received live from Redis.
func (h *Hub) dispatch(channel, payload string) {
	h.received.Add(1)
	m := h.newMsg(channel, []byte(payload))
	h.mu.RLock()
	t := h.topics[channel]
	h.mu.RUnlock()
	if t == nil {
		return // unsubscribed meanwhile
	}
	t.dmu.Lock()
	defer t.dmu.Unlock()
	if m.Seq > 0 && t.lastSeq > 0 && m.Seq <= t.lastSeq {
		h.duplicates.Add(1)
		return
	}
	// A gap after the last delivered seq, or after the head read at
	// subscription time when nothing was delivered yet.
	if last := t.lastSeq; m.Seq > 0 && (last > 0 || t.floorOK) {
		if last == 0 {
			last = t.floor
		}
		if m.Seq > last+1 {
			h.catchUpLocked(channel, t, m.Seq)
		}
	}
	if h.cfg.Observe != nil {
		h.cfg.Observe(m)
	}
	h.deliverLocked(t, m)
}

// deliverLocked hands m to the channel's local subscribers and advances
// lastSeq. Caller holds t.dmu.
func (h *Hub) deliverLocked(t *topic, m *Msg) {
	if m.Seq > 0 {
		if m.Seq <= t.lastSeq {
			return
		}
		t.lastSeq = m.Seq
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range t.subs {
		s.Deliver(m)
	}
}

// catchUp delivers what channel published after its last dispatched seq,
// read from history.
func (h *Hub) catchUp(channel string) {
	h.mu.RLock()
	t := h.topics[channel]
	h.mu.RUnlock()
	if t == nil {
		return
	}
	t.dmu.Lock()
	defer t.dmu.Unlock()
	h.catchUpLocked(channel, t, 0)
}

// catchUpLocked delivers what channel published after its last dispatched
// seq (and before the seq `before`, when non-zero). Caller holds t.dmu.
func (h *Hub) catchUpLocked(channel string, t *topic, before int64) {
	after := t.lastSeq
	if after == 0 && t.floorOK {
		after = t.floor // nothing delivered since the subscription began there
	} else if after == 0 {
		return // nothing delivered, no known start: nothing this hub skipped
	}
	if h.cfg.Backfill == nil {
		return
	}
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
		h.deliverLocked(t, m)
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
