package fanout

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// shard is one pub/sub connection and its receive goroutine: the only one on
// a single Redis, one per master serving a subscribed channel on a cluster.
// A channel is subscribed on at most one shard at a time.
type shard struct {
	addr    string        // cluster master address; "" on a single Redis
	sharded bool          // SSUBSCRIBE (cluster) or SUBSCRIBE
	ps      *redis.PubSub // owned; closed by close
	client  *redis.Client // cluster: the shard's own client for addr, closed by close
	closed  atomic.Bool

	channels map[string]struct{} // channels routed here; guarded by Hub.mu
	retrying bool                // a retry goroutine runs; guarded by Hub.mu

	// Subscriptions arriving together go out as one command per slot.
	wmu      sync.Mutex
	pending  []string
	waiters  []chan error
	flushing bool
}

// shardLocked returns the shard for addr, opening it (and starting its
// receive goroutine) if needed. Caller holds h.mu.
func (h *Hub) shardLocked(addr string) *shard {
	if sh := h.shards[addr]; sh != nil {
		return sh
	}
	sh := &shard{addr: addr, channels: make(map[string]struct{})}
	if h.cluster == nil {
		sh.ps = h.rdb.Subscribe(h.ctx)
	} else {
		o := h.cluster.Options()
		sh.client = redis.NewClient(&redis.Options{
			Addr: addr, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
			DialTimeout: o.DialTimeout, WriteTimeout: o.WriteTimeout, Protocol: o.Protocol,
			PoolSize: 1, MaxRetries: -1,
		})
		sh.ps = sh.client.SSubscribe(h.ctx)
		sh.sharded = true
	}
	h.shards[addr] = sh
	h.wg.Add(1)
	go h.receive(sh)
	return sh
}

// subscribe sends SUBSCRIBE (SSUBSCRIBE) for channel, batched with other
// channels asked for at the same time. It returns once the command is
// written; Redis confirms it on the receive goroutine.
func (sh *shard) subscribe(timeout time.Duration, channel string) error {
	done := make(chan error, 1)
	sh.wmu.Lock()
	sh.pending = append(sh.pending, channel)
	sh.waiters = append(sh.waiters, done)
	if !sh.flushing {
		sh.flushing = true
		for len(sh.pending) > 0 {
			chans, waiters := sh.pending, sh.waiters
			sh.pending, sh.waiters = nil, nil
			sh.wmu.Unlock()
			err := sh.send(timeout, true, chans)
			for _, w := range waiters {
				w <- err
			}
			sh.wmu.Lock()
		}
		sh.flushing = false
	}
	sh.wmu.Unlock()
	return <-done
}

// unsubscribe sends UNSUBSCRIBE (SUNSUBSCRIBE) for channels; failures are
// harmless (a closed or broken connection subscribes to nothing).
func (sh *shard) unsubscribe(timeout time.Duration, channels ...string) {
	if sh.closed.Load() {
		return
	}
	_ = sh.send(timeout, false, channels)
}

// send writes one (un)subscribe command per hash slot: on a cluster all
// channels of one SSUBSCRIBE must share a slot.
func (sh *shard) send(timeout time.Duration, sub bool, chans []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if !sh.sharded {
		if sub {
			return sh.ps.Subscribe(ctx, chans...)
		}
		return sh.ps.Unsubscribe(ctx, chans...)
	}
	bySlot := make(map[int][]string, 1)
	for _, c := range chans {
		s := Slot(c)
		bySlot[s] = append(bySlot[s], c)
	}
	var errs []error
	for _, group := range bySlot {
		if sub {
			errs = append(errs, sh.ps.SSubscribe(ctx, group...))
		} else {
			errs = append(errs, sh.ps.SUnsubscribe(ctx, group...))
		}
	}
	return errors.Join(errs...)
}

func (sh *shard) close() {
	if sh.closed.Swap(true) {
		return
	}
	_ = sh.ps.Close()
	if sh.client != nil {
		_ = sh.client.Close()
	}
}

// closeIfIdle closes a cluster shard left without channels (its master may
// be gone for good after a failover). The single Redis connection stays.
func (h *Hub) closeIfIdle(sh *shard) {
	if !sh.sharded {
		return
	}
	h.mu.Lock()
	idle := len(sh.channels) == 0 && h.shards[sh.addr] == sh
	if idle {
		delete(h.shards, sh.addr)
	}
	h.mu.Unlock()
	if idle {
		sh.close()
	}
}

// receive reads sh's connection until the hub or the shard closes.
//
// go-redis' PubSub reconnects by itself after a connection error and sends
// SUBSCRIBE for every channel it holds on the new connection; Receive
// returns that error first. Redis may refuse such a SUBSCRIBE (an ACL, a
// server out of memory): the error reply comes out of Receive as a
// redis.Error, the connection stays up, and nothing would ever subscribe
// the channels again. So every error marks the channels it may have cost
// stale, and a retry goroutine subscribes them again with backoff until
// Redis confirms each; the confirmation back-fills the gap.
func (h *Hub) receive(sh *shard) {
	defer h.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		v, err := sh.ps.Receive(h.ctx)
		if err != nil {
			if h.ctx.Err() != nil || sh.closed.Load() || errors.Is(err, redis.ErrClosed) {
				return
			}
			if refused(err) {
				h.refused(sh, err)
				continue // an answer on a live connection: nothing to wait for
			}
			if sh.sharded {
				if h.clusterError(sh, err) {
					return // the shard was replaced
				}
			} else {
				h.cfg.Logger.Warn("redis pub/sub receive failed; retrying", "err", err, "backoff", backoff)
				h.markStale(sh, false)
			}
			select {
			case <-h.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := v.(type) {
		case *redis.Message:
			h.dispatch(m.Channel, m.Payload)
		case *redis.Subscription:
			switch m.Kind {
			case "subscribe", "ssubscribe":
				if resubscribed := h.confirm(sh, m.Channel); resubscribed {
					h.catchUp(m.Channel) // then tells its Resubscribers
				}
			case "sunsubscribe":
				h.lost(sh, m.Channel)
			}
		}
	}
}

// refused reports whether err is an error reply of Redis (not a broken
// connection), other than a cluster's MOVED, which re-routes instead.
func refused(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && !strings.HasPrefix(err.Error(), "MOVED ")
}

// refused handles an error reply on sh: Redis refused a (re)subscribe. The
// reply does not name its channels, so every channel of sh not confirmed
// yet (waiting for its first confirmation, or stale) is retried.
func (h *Hub) refused(sh *shard, err error) {
	h.failures.Add(1)
	h.cfg.Logger.Warn("redis refused a pub/sub subscription; retrying", "addr", sh.addr, "err", err)
	h.markStale(sh, true)
}

// markStale marks sh's channels stale (only those not confirmed yet when
// unconfirmedOnly) and starts the retry goroutine of sh if none runs.
func (h *Hub) markStale(sh *shard, unconfirmedOnly bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range sh.channels {
		t := h.topic(ch)
		if t == nil || t.shard != sh {
			continue
		}
		if !unconfirmedOnly {
			t.stale.Store(true)
			continue
		}
		select {
		case <-t.ready:
		default:
			t.stale.Store(true)
		}
	}
	if sh.retrying || h.closed.Load() {
		return
	}
	sh.retrying = true
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.retry(sh)
	}()
}

// retry subscribes sh's stale channels again, with backoff, until none is
// left (Redis confirmed each), the shard closes or the hub stops. A
// SUBSCRIBE of a channel already subscribed is harmless: Redis confirms it
// again, and the hub back-fills nothing new.
func (h *Hub) retry(sh *shard) {
	backoff := 50 * time.Millisecond
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(backoff):
		}
		h.mu.Lock()
		var chans []string
		for ch := range sh.channels {
			if t := h.topic(ch); t != nil && t.shard == sh && t.stale.Load() {
				chans = append(chans, ch)
			}
		}
		if len(chans) == 0 || sh.closed.Load() || h.closed.Load() {
			sh.retrying = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		if err := sh.send(h.cfg.ConfirmTimeout, true, chans); err != nil {
			h.failures.Add(1)
			h.cfg.Logger.Warn("re-subscribing channels failed; retrying", "addr", sh.addr, "channels", len(chans), "err", err)
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
