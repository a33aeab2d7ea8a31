package messages

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxBatch bounds how many sends share one round trip.
const maxBatch = 128

// sendCall is one Send's run of send.lua.
type sendCall struct {
	ctx   context.Context
	keys  []string
	args  []any
	reply []any
	err   error
	// lead receives true when this call is handed the lead (it then runs
	// the queue, itself first), false when reply and err are set.
	lead chan bool
}

// batcher pipelines concurrent sends (from different connections, or the
// REST handlers) into one round trip, without a timer and without a
// goroutine of its own: a send that finds fewer than SendsInFlight round
// trips in flight runs at once, as if alone; sends that come while all
// are in flight queue, and when one is done the first of them runs them
// all (up to 128) in one pipeline and wakes the others. So a lone send costs what it did, and under load the
// commands, system calls and wake-ups of many sends are shared. The
// order of one caller's sends is kept, as each waits for its reply.
type batcher struct {
	mu       sync.Mutex
	inflight int         // round trips in flight
	queue    []*sendCall // sends waiting for the next one
}

// run runs send.lua for one send, alone or in a batch with others. On a
// Redis Cluster every send runs alone, as one EVALSHA: a batch spans the
// masters, and a master in trouble (a failover) would stall the sends to
// the rooms of every other master behind it.
func (s *Store) run(ctx context.Context, keys []string, args []any) ([]any, error) {
	if s.sharded {
		return sendScript.Run(ctx, s.rdb, keys, args...).Slice()
	}
	c := &sendCall{ctx: ctx, keys: keys, args: args, lead: make(chan bool, 1)}
	b := &s.batch
	batch := []*sendCall{c}
	b.mu.Lock()
	if b.inflight < s.cfg.SendsInFlight {
		b.inflight++
		b.mu.Unlock()
	} else {
		b.queue = append(b.queue, c)
		b.mu.Unlock()
		if !<-c.lead {
			return c.reply, c.err
		}
		// Handed the lead (and the round trip's slot) by a call that
		// finished: c is at the head of the queue.
		b.mu.Lock()
		n := min(len(b.queue), maxBatch)
		batch = b.queue[:n:n]
		b.queue = b.queue[n:]
		if len(b.queue) == 0 {
			b.queue = nil // let the backing array go
		}
		b.mu.Unlock()
	}

	s.runBatch(batch)

	b.mu.Lock()
	if len(b.queue) > 0 {
		b.queue[0].lead <- true
	} else {
		b.inflight--
	}
	b.mu.Unlock()
	for _, o := range batch[1:] {
		o.lead <- false
	}
	return c.reply, c.err
}

// runBatch runs send.lua for every call of batch: one EVALSHA (EVAL when
// the script is not loaded) for one call, a pipeline for more. Calls
// whose context ended while they waited are not sent. The pipeline runs
// under the latest deadline of the calls, and is not cancelled with any
// of them: the others' sends must not fail for it.
func (s *Store) runBatch(batch []*sendCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.reply, c.err = sendScript.Run(c.ctx, s.rdb, c.keys, c.args...).Slice()
		return
	}
	live := make([]*sendCall, 0, len(batch))
	var deadline time.Time
	for _, c := range batch {
		if c.err = c.ctx.Err(); c.err != nil {
			continue
		}
		live = append(live, c)
		if d, ok := c.ctx.Deadline(); ok && d.After(deadline) {
			deadline = d
		}
	}
	if len(live) == 0 {
		return
	}
	ctx := context.WithoutCancel(live[0].ctx)
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	cmds := make([]*redis.Cmd, len(live))
	// Each command carries its own error; the pipeline's is the first.
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range live {
			cmds[i] = sendScript.EvalSha(ctx, p, s.rdb, c.keys, c.args...)
		}
		return nil
	})
	for i, c := range live {
		c.reply, c.err = cmds[i].Slice()
		if redis.HasErrorPrefix(c.err, "NOSCRIPT") {
			// Not run: Redis lost its script cache (a restart, SCRIPT
			// FLUSH, a new cluster master). Run loads it with EVAL.
			c.reply, c.err = sendScript.Run(ctx, s.rdb, c.keys, c.args...).Slice()
		}
	}
}
