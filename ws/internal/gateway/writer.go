package gateway

import (
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// outItem is one queued outbound frame: either pre-encoded bytes (replies)
// or a delivery, encoded by the writer from the node-wide shared message.
type outItem struct {
	frame []byte
	msg   *fanout.Msg
	sub   *subscription
	// raw is the unwritten rest of a WebSocket message already framed and
	// begun by enqueueNow: written as it is, before anything else.
	raw []byte
}

func (it outItem) size() int {
	switch {
	case it.raw != nil:
		return len(it.raw)
	case it.msg != nil:
		return len(it.msg.Payload) + 256
	}
	return len(it.frame)
}

// inlineFanout is the most local subscribers a message may have for its
// deliveries to be written by the hub's goroutine (enqueueNow): a direct
// room's two members, a small group. Larger rooms keep one writer per
// connection, so their writes spread over every core and coalesce.
const inlineFanout = 4

// heartbeat is the STOMP heart-beat: one end-of-line.
var heartbeat = []byte{'\n'}

// enqueue adds it to the bounded queue without blocking and makes sure a
// writer runs. A full queue marks the client a slow consumer: its queue is
// dropped and it is disconnected. It reports whether the item was queued.
func (c *conn) enqueue(it outItem) bool {
	c.qmu.Lock()
	if c.closing || c.dead {
		c.qmu.Unlock()
		return false
	}
	n := it.size()
	if len(c.queue) >= c.srv.cfg.QueueFrames || c.qbytes+n > c.srv.cfg.QueueBytes {
		c.queue, c.qbytes = nil, 0
		c.closing = true
		c.ending.Store(true)
		c.closeCode, c.closeReason = wsconn.StatusPolicyViolation, "slow consumer"
		if c.endReason == "" {
			c.endReason = "slow-consumer"
		}
		c.drained.Broadcast()
		c.qmu.Unlock()
		c.srv.slowConsumers.Add(1)
		// The writer may sit in a blocked write until its deadline; closing
		// the socket now ends the session at once (the client is not
		// reading, so a close handshake could not complete anyway).
		c.ws.CloseNow()
		return false
	}
	c.queue = append(c.queue, it)
	c.qbytes += n
	c.startWriterLocked()
	c.qmu.Unlock()
	return true
}

// enqueueNow is enqueue for a caller that can afford one write system
// call: when nothing is queued and no writer runs, the calling goroutine
// encodes it and makes one non-blocking write attempt
// (wsconn.TryWriteText) instead of starting a writer goroutine, whose
// start, wake-up on another thread and exit cost more than the write.
// What the socket does not take goes to a writer, first in the queue, so
// nothing ever waits for a slow peer here. Used for the read loop's
// replies and for deliveries to rooms with few subscribers on this node
// (see deliverLive); a large fan-out keeps its writers, which run on every
// core and coalesce. Inline writes take at most half a core (inline.go);
// beyond, frames go to writers as enqueue's do.
func (c *conn) enqueueNow(it outItem) bool {
	start := time.Now().UnixNano()
	if !c.srv.inline.allow(start) {
		return c.enqueue(it) // the window's share of inline writes is used up (inline.go)
	}
	c.qmu.Lock()
	if c.writing || len(c.queue) > 0 || c.closing || c.dead || it.size() > c.srv.cfg.QueueBytes {
		c.qmu.Unlock()
		return c.enqueue(it)
	}
	c.writing = true // this goroutine is the writer until it hands over or stops
	c.qmu.Unlock()

	bp := writeBufs.Get().(*[]byte)
	buf := c.appendItem((*bp)[:wsconn.HeaderRoom], it)
	rest, err := c.ws.TryWriteText(buf)
	if rest != nil {
		rest = append([]byte(nil), rest...) // buf goes back to the pool
	}
	if cap(buf) <= 256<<10 {
		*bp = buf[:0]
		writeBufs.Put(bp)
	}
	if err != nil {
		c.writeFailed(err)
		return false
	}
	now := time.Now().UnixNano()
	c.srv.inline.spend(now - start)
	c.srv.framesOut.Add(1)
	c.lastWrite.Store(now)

	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.dead { // the connection ended meanwhile (closed waits for writers only)
		c.writing = false
		return true
	}
	if rest != nil {
		c.queue = append(c.queue, outItem{})
		copy(c.queue[1:], c.queue)
		c.queue[0] = outItem{raw: rest}
		c.qbytes += len(rest)
	}
	if len(c.queue) > 0 || c.closing { // queued meanwhile, or finish was asked
		c.writers.Add(1)
		c.srv.writerRuns.Add(1)
		go c.writeLoop() // c.writing stays true: the role passes to it
		return true
	}
	c.writing = false
	return true
}

// finish queues a last frame (may be nil) and asks the writer to close the
// socket with code after writing everything queued before it. Later
// enqueues are dropped. Only the first finish counts.
func (c *conn) finish(last []byte, code wsconn.StatusCode, reason string) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.closing || c.dead {
		return
	}
	if last != nil {
		c.queue = append(c.queue, outItem{frame: last})
	}
	c.closing = true
	c.ending.Store(true)
	c.closeCode, c.closeReason = code, reason
	c.drained.Broadcast()
	c.startWriterLocked()
}

// startWriterLocked starts the connection's writer unless it runs already
// (c.qmu held). There is at most one writer at a time; it runs while there
// is something to write and exits when the queue is empty, so an idle
// connection holds no writer goroutine and no write buffer.
func (c *conn) startWriterLocked() {
	if c.writing || c.dead {
		return
	}
	c.writing = true
	c.writers.Add(1)
	c.srv.writerRuns.Add(1)
	go c.writeLoop()
}

// markDeadLocked records that nothing more will be written (c.qmu held).
func (c *conn) markDeadLocked() {
	if !c.dead {
		c.dead = true
		c.ending.Store(true)
		close(c.stopped)
		c.drained.Broadcast()
	}
}

// take swaps the queue with dst (emptied) and returns what was queued;
// closing reports that the writer must close the socket after writing it.
// ok is false when the writer must stop: nothing is queued and no close is
// asked, or the connection is dead; the writer is then marked stopped.
//
// Everything taken before has been written: take tells waiting replays that
// the queue is drained (c.drained).
func (c *conn) take(dst []outItem) (items []outItem, closing, ok bool, code wsconn.StatusCode, reason string) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	c.drained.Broadcast()
	if c.dead || (len(c.queue) == 0 && !c.closing) {
		c.writing = false
		if cap(c.queue) > 16 {
			c.queue = nil // do not pin a burst's queue on an idle connection
		}
		if cap(dst) <= 16 {
			c.spare = dst[:0]
		}
		return nil, false, false, 0, ""
	}
	if dst == nil {
		dst, c.spare = c.spare, nil
	}
	items, c.queue, c.qbytes = c.queue, dst[:0], 0
	return items, c.closing, true, c.closeCode, c.closeReason
}

// writeBufs recycles writers' batch buffers between writer runs.
var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// writeLoop is the connection's only writer while it runs. It coalesces
// everything queued into one WebSocket message (several whole STOMP
// frames), written straight to the socket with the write deadline, and
// closes the socket when finish was called. It returns when the queue is
// empty, the socket fails or is closed.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	bp := writeBufs.Get().(*[]byte)
	buf := *bp
	var items []outItem
	defer func() {
		if cap(buf) <= 256<<10 { // do not pin a burst's buffer
			*bp = buf[:0]
			writeBufs.Put(bp)
		}
	}()
	for {
		var closing, ok bool
		var code wsconn.StatusCode
		var reason string
		items, closing, ok, code, reason = c.take(items)
		if !ok {
			return
		}
		for i := 0; i < len(items); {
			var err error
			if raw := items[i].raw; raw != nil {
				err = c.ws.WriteRaw(raw)
				i++
			} else {
				buf = buf[:wsconn.HeaderRoom]
				for ; i < len(items) && items[i].raw == nil && len(buf) < c.srv.cfg.MaxBatchBytes; i++ {
					buf = c.appendItem(buf, items[i])
				}
				err = c.writeMessage(buf)
			}
			if err != nil {
				c.writeFailed(err)
				return
			}
		}
		clear(items)
		if closing {
			c.closeWith(code, reason)
			c.qmu.Lock()
			c.writing = false
			c.markDeadLocked()
			c.qmu.Unlock()
			return
		}
	}
}

// writeFailed ends the connection after a failed socket write by the
// writer (c.writing held): the socket is closed and nothing more is
// written.
func (c *conn) writeFailed(err error) {
	c.ws.CloseNow()
	c.qmu.Lock()
	// A write whose peer acknowledged nothing for WriteTimeout (wsconn):
	// the peer is not reading.
	stalled := errors.Is(err, os.ErrDeadlineExceeded) && c.endReason == ""
	if stalled {
		c.endReason = "slow-consumer"
	}
	c.writing = false
	c.markDeadLocked()
	c.qmu.Unlock()
	if stalled {
		c.srv.slowConsumers.Add(1)
	}
}

// closeWith runs the close handshake (wsconn's Close: bounded by its close
// timeout, reading the peer's close frame unless the read loop does).
func (c *conn) closeWith(code wsconn.StatusCode, reason string) {
	_ = c.ws.Close(code, reason)
}

// writeMessage sends buf[wsconn.HeaderRoom:] as one text message, framed in
// the room left in front of it.
func (c *conn) writeMessage(buf []byte) error {
	if err := c.ws.WriteText(buf); err != nil {
		return err
	}
	c.srv.framesOut.Add(1)
	c.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// appendItem encodes one queued item. Deliveries reuse the shared payload
// and only add this subscription's headers.
func (c *conn) appendItem(dst []byte, it outItem) []byte {
	if it.msg == nil {
		if len(it.frame) == 1 && it.frame[0] == '\n' {
			c.srv.framesOutBy[heartbeatIndex].Add(1)
		} else {
			c.srv.framesOutBy[commandIndex(frameCommand(it.frame))].Add(1)
		}
		return append(dst, it.frame...)
	}
	c.srv.framesOutBy[messageIndex].Add(1)
	s := it.sub
	dst = append(dst, s.head...)
	dst = stomp.AppendEscaped(dst, it.msg.ID, c.version)
	dst = append(dst, "\nsubscription:"...)
	dst = append(dst, s.idEsc...)
	if s.ack != ackAuto {
		dst = append(dst, "\nack:"...)
		dst = append(dst, s.idEsc...)
		dst = append(dst, ':')
		dst = stomp.AppendEscaped(dst, it.msg.ID, c.version)
	}
	dst = append(dst, "\ncontent-type:application/json\ncontent-length:"...)
	dst = strconv.AppendInt(dst, int64(len(it.msg.Payload)), 10)
	dst = append(dst, "\n\n"...)
	dst = append(dst, it.msg.Payload...)
	return append(dst, 0)
}
