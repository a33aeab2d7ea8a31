package notify

import (
	"context"

	"github.com/roomwire/roomwire/shared/wire"
)

// Start moves the post-send step off the send path: MessageSent then only
// queues the message (bounded by QueueSize) and one worker goroutine runs
// the steps in order until ctx ends. A send thus never waits for
// notifications, nor for Redis trouble in them. Call Start before the
// Notifier is used; the returned function waits for the worker to stop.
// Without Start, MessageSent runs the step in the caller.
func (n *Notifier) Start(ctx context.Context) (wait func()) {
	n.queue = make(chan wire.Message, n.cfg.QueueSize)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-n.queue:
				n.process(ctx, m)
			}
		}
	}()
	return func() { <-done }
}

// enqueue hands m to the worker, dropping it when the queue is full:
// notifications are best effort and must never slow sending down.
func (n *Notifier) enqueue(m wire.Message) {
	select {
	case n.queue <- m:
	default:
		if d := n.dropped.Add(1); d&(d-1) == 0 { // log at 1, 2, 4, 8, ...
			n.cfg.Logger.Warn("post-send notifications dropped: queue full", "dropped", d, "room", m.ChatRoomID, "seq", m.Seq)
		}
	}
}

// Dropped returns how many post-send steps were dropped on a full queue.
func (n *Notifier) Dropped() uint64 { return n.dropped.Load() }
