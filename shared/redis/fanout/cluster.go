package fanout

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Slot returns the Redis Cluster hash slot of a key or sharded channel name:
// CRC16 of its hash tag (the text between the first "{" and the next "}",
// if not empty) or of the whole name, modulo 16384.
func Slot(name string) int {
	if i := strings.IndexByte(name, '{'); i >= 0 {
		if j := strings.IndexByte(name[i+1:], '}'); j > 0 {
			name = name[i+1 : i+1+j]
		}
	}
	var crc uint16 // CRC16-CCITT (XMODEM), as Redis Cluster uses
	for i := 0; i < len(name); i++ {
		crc ^= uint16(name[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc % 16384)
}

// routes knows which cluster master owns each slot, from CLUSTER SLOTS,
// corrected by MOVED replies and refreshed when a slot is lost.
type routes struct {
	cc *redis.ClusterClient

	mu       sync.Mutex
	ranges   []slotRange
	override map[int]string // from MOVED replies since the last refresh
	loaded   time.Time
}

type slotRange struct {
	start, end int
	addr       string
}

func newRoutes(cc *redis.ClusterClient) *routes { return &routes{cc: cc} }

// owner returns the address of the master owning channel's slot.
func (r *routes) owner(ctx context.Context, channel string) (string, error) {
	slot := Slot(channel)
	if addr, ok := r.lookup(slot); ok {
		return addr, nil
	}
	if err := r.refresh(ctx, 0); err != nil {
		return "", err
	}
	if addr, ok := r.lookup(slot); ok {
		return addr, nil
	}
	return "", fmt.Errorf("redis cluster: no master serves slot %d", slot)
}

func (r *routes) lookup(slot int) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if addr, ok := r.override[slot]; ok {
		return addr, true
	}
	for _, s := range r.ranges {
		if slot >= s.start && slot <= s.end {
			return s.addr, true
		}
	}
	return "", false
}

// refresh reloads the slot map unless it was loaded less than minAge ago.
func (r *routes) refresh(ctx context.Context, minAge time.Duration) error {
	r.mu.Lock()
	fresh := minAge > 0 && time.Since(r.loaded) < minAge
	r.mu.Unlock()
	if fresh {
		return nil
	}
	//lint:ignore SA1019 go-redis's ClusterClient reads its slot map with CLUSTER SLOTS too (Redis 7+ serves it); routes must agree with it
	slots, err := r.cc.ClusterSlots(ctx).Result()
	if err != nil {
		return fmt.Errorf("redis cluster slots: %w", err)
	}
	ranges := make([]slotRange, 0, len(slots))
	for _, s := range slots {
		if len(s.Nodes) > 0 {
			ranges = append(ranges, slotRange{start: s.Start, end: s.End, addr: s.Nodes[0].Addr})
		}
	}
	r.mu.Lock()
	r.ranges, r.override, r.loaded = ranges, nil, time.Now()
	r.mu.Unlock()
	return nil
}

// set records a MOVED reply: slot now belongs to addr.
func (r *routes) set(slot int, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.override == nil {
		r.override = make(map[int]string)
	}
	r.override[slot] = addr
}

// subscribeRedis routes a new topic to its shard and subscribes it there.
func (h *Hub) subscribeRedis(ctx context.Context, channel string, t *topic) error {
	addr := ""
	if h.routes != nil {
		var err error
		if addr, err = h.routes.owner(ctx, channel); err != nil {
			return err
		}
	}
	h.mu.Lock()
	if h.closed.Load() {
		h.mu.Unlock()
		return fmt.Errorf("hub closed")
	}
	sh := h.shardLocked(addr)
	sh.channels[channel] = struct{}{}
	t.shard = sh
	h.mu.Unlock()
	return sh.subscribe(h.cfg.ConfirmTimeout, channel)
}

// clusterError handles a receive error of a cluster shard other than a
// refusal (see receive). A MOVED reply (an SSUBSCRIBE sent to a master that
// no longer owns the slot) re-routes that slot's channels. Anything else (a
// broken connection: go-redis would resubscribe every channel in one
// SSUBSCRIBE, which a cluster refuses across slots) replaces the shard; it
// reports true then.
func (h *Hub) clusterError(sh *shard, err error) (replaced bool) {
	if f := strings.Fields(err.Error()); len(f) == 3 && f[0] == "MOVED" {
		if slot, perr := strconv.Atoi(f[1]); perr == nil {
			h.routes.set(slot, f[2])
			h.mu.RLock()
			var chans []string
			for ch := range sh.channels {
				if Slot(ch) == slot {
					chans = append(chans, ch)
				}
			}
			h.mu.RUnlock()
			if len(chans) > 0 {
				h.cfg.Logger.Info("redis cluster slot moved; re-routing its channels", "slot", slot, "from", sh.addr, "to", f[2], "channels", len(chans))
				h.reroute(sh, chans)
			}
			return false
		}
	}
	h.cfg.Logger.Warn("redis shard pub/sub connection failed; re-subscribing its channels", "addr", sh.addr, "err", err)
	h.replace(sh)
	return true
}

// lost handles an SUNSUBSCRIBE nobody asked for: the master gave up the
// channel's slot (failover, resharding), so the channel moves to the new
// owner.
func (h *Hub) lost(sh *shard, channel string) {
	h.mu.RLock()
	t := h.topic(channel)
	mine := t != nil && t.shard == sh
	h.mu.RUnlock()
	if !mine {
		return // our own unsubscribe
	}
	h.cfg.Logger.Info("redis cluster master gave up a channel's slot; re-routing", "channel", channel, "from", sh.addr)
	if err := h.routes.refresh(h.ctx, 100*time.Millisecond); err != nil {
		h.cfg.Logger.Warn("redis cluster slots refresh failed", "err", err)
	}
	h.reroute(sh, []string{channel})
}

// reroute takes chans off shard from and subscribes them again where their
// slots now live; the new subscription's confirmation back-fills the gap.
func (h *Hub) reroute(from *shard, chans []string) {
	h.mu.Lock()
	moving := chans[:0:0]
	for _, ch := range chans {
		if t := h.topic(ch); t != nil && t.shard == from {
			delete(from.channels, ch)
			t.shard = nil
			t.stale.Store(true)
			moving = append(moving, ch)
		}
	}
	h.mu.Unlock()
	if len(moving) == 0 {
		return
	}
	// Forget them on the old connection too, so that a reconnect there
	// never subscribes them again.
	from.unsubscribe(h.cfg.ConfirmTimeout, moving...)
	h.moved.Add(uint64(len(moving)))
	h.startRehome(moving, "")
	h.closeIfIdle(from)
}

// replace closes a broken shard (or, on a single Redis, the connection
// MasterCheck found on a former master) and subscribes its channels again.
func (h *Hub) replace(sh *shard) {
	h.mu.Lock()
	if h.shards[sh.addr] == sh {
		delete(h.shards, sh.addr)
	}
	chans := make([]string, 0, len(sh.channels))
	for ch := range sh.channels {
		chans = append(chans, ch)
		if t := h.topic(ch); t != nil && t.shard == sh {
			t.shard = nil
			t.stale.Store(true)
		}
	}
	clear(sh.channels)
	h.mu.Unlock()
	sh.close()
	h.startRehome(chans, sh.addr)
}

// startRehome subscribes chans again on a goroutine owned by the hub,
// retrying with backoff until each is placed, gone, or the hub closes.
// from is the master they were on when its connection broke: a channel
// placed on another one (its master crashed, a replica took over) counts
// as moved. "" when the caller counted the move already.
func (h *Hub) startRehome(chans []string, from string) {
	if len(chans) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.rehome(chans, from)
	}()
}

func (h *Hub) rehome(chans []string, from string) {
	backoff := 50 * time.Millisecond
	for {
		var retry []string
		var lastErr error
		for _, ch := range chans {
			if err := h.resubscribe(ch, from); err != nil {
				retry, lastErr = append(retry, ch), err
			}
		}
		if len(retry) == 0 {
			return
		}
		h.failures.Add(uint64(len(retry)))
		h.cfg.Logger.Warn("re-subscribing channels failed; retrying", "channels", len(retry), "err", lastErr, "backoff", backoff)
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
		if h.routes != nil {
			if err := h.routes.refresh(h.ctx, 0); err != nil {
				h.cfg.Logger.Warn("redis cluster slots refresh failed", "err", err)
			}
		}
		chans = retry
	}
}

// resubscribe places a channel without a shard on its slot owner's shard,
// counting it moved when that is not the master from (see startRehome).
func (h *Hub) resubscribe(channel, from string) error {
	addr := "" // a single Redis (MasterCheck, see replace)
	if h.routes != nil {
		var err error
		if addr, err = h.routes.owner(h.ctx, channel); err != nil {
			return err
		}
	}
	h.mu.Lock()
	t := h.topic(channel)
	if h.closed.Load() || t == nil || t.shard != nil {
		h.mu.Unlock()
		return nil // closed, unsubscribed meanwhile, or already placed
	}
	sh := h.shardLocked(addr)
	sh.channels[channel] = struct{}{}
	t.shard = sh
	h.mu.Unlock()
	if err := sh.subscribe(h.cfg.ConfirmTimeout, channel); err != nil {
		h.mu.Lock()
		if t.shard == sh {
			delete(sh.channels, channel)
			t.shard = nil
		}
		h.mu.Unlock()
		return err
	}
	if from != "" && addr != from {
		h.moved.Add(1)
	}
	return nil
}
