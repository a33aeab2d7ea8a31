package fanout

import (
	"context"
	"time"
)

// checkSub is the hub's own subscriber of Config.CheckChannel.
type checkSub struct{}

func (checkSub) Deliver(*Msg) {}

// checkMaster runs while the hub runs (MasterCheck > 0, not on a cluster):
// every MasterCheck it publishes an empty message on CheckChannel, which the
// hub subscribes itself, through the client (so to the server commands go
// to). Redis answering that no client received it while the hub's
// subscription is confirmed means the pub/sub connection is on another
// server: after a Sentinel failover the old master can stay up, and a
// master, for ten seconds and more, and nothing the new master publishes
// reaches its subscribers. The hub then opens a new connection (the
// failover client dials the master the sentinels name) and back-fills what
// it missed, as after a broken connection.
func (h *Hub) checkMaster() {
	defer h.wg.Done()
	ch := h.cfg.CheckChannel
	subscribed := false
	t := time.NewTicker(h.cfg.MasterCheck)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		if !subscribed {
			ctx, cancel := context.WithTimeout(h.ctx, h.cfg.ConfirmTimeout)
			err := h.Subscribe(ctx, ch, checkSub{})
			cancel()
			if err != nil {
				h.cfg.Logger.Debug("subscribe to the master check channel failed; retrying", "err", err)
				continue
			}
			subscribed = true
		}
		tp := h.topic(ch)
		failed := false
		if tp != nil {
			b := h.bucket(ch)
			b.mu.RLock()
			failed = tp.err != nil
			b.mu.RUnlock()
		}
		h.mu.RLock()
		sh := h.shards[""]
		confirmed := sh != nil && tp != nil && tp.shard == sh && !tp.stale.Load() && !failed
		h.mu.RUnlock()
		if !confirmed {
			continue // being resubscribed: the connection is known to be broken
		}
		ctx, cancel := context.WithTimeout(h.ctx, h.cfg.MasterCheck)
		n, err := h.rdb.Publish(ctx, ch, "").Result()
		cancel()
		if err != nil || n > 0 {
			continue // Redis is down (the connection breaks too), or all is well
		}
		h.cfg.Logger.Warn("redis pub/sub connection is not on the master that commands go to (a failover?); reconnecting")
		h.switched.Add(1)
		h.replace(sh)
	}
}
