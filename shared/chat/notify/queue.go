package notify

import (
	"context"
	"time"
)

// maxBatch bounds how many queued post-send steps the worker runs together.
const maxBatch = 256

// Start moves the post-send step off the send path: MessageSent then only
// queues the message (bounded by QueueSize) and one worker goroutine runs
// the steps in order until ctx ends. A send thus never waits for
// notifications, nor for Redis trouble in them. The worker takes what has
// queued up while it worked, and what comes within BatchWait after the
// first, as one batch (up to 256 messages): under load the round trips of
// many messages are shared, at the price of notifications up to BatchWait
// later; when ctx ends, the batch in hand still runs. Call Start before
// the Notifier is used; the returned function waits for the worker to
// stop. Without Start, MessageSent runs the step in the caller.
func (n *Notifier) Start(ctx context.Context) (wait func()) {
	n.queue = make(chan sent, n.cfg.QueueSize)
	done := make(chan struct{})
	go func() {
		defer close(done)
		batch := make([]sent, 0, maxBatch)
		wait := time.NewTimer(time.Hour)
		wait.Stop()
		defer wait.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-n.queue:
				batch = append(batch[:0], s)
			}
			wait.Reset(n.cfg.BatchWait)
		more:
			for len(batch) < maxBatch {
				select {
				case s := <-n.queue:
					batch = append(batch, s)
				case <-wait.C:
					break more
				case <-ctx.Done():
					break more
				}
			}
			wait.Stop()
			n.process(ctx, batch)
			clear(batch) // drop the references until the next batch
		}
	}()
	return func() { <-done }
}

// enqueue hands s to the worker, dropping it when the queue is full:
// notifications are best effort and must never slow sending down.
func (n *Notifier) enqueue(s sent) {
	select {
	case n.queue <- s:
	default:
		if d := n.dropped.Add(1); d&(d-1) == 0 { // log at 1, 2, 4, 8, ...
			n.cfg.Logger.Warn("post-send notifications dropped: queue full", "dropped", d, "room", s.m.ChatRoomID, "seq", s.m.Seq)
		}
	}
}

// Dropped returns how many post-send steps were dropped on a full queue.
func (n *Notifier) Dropped() uint64 { return n.dropped.Load() }
