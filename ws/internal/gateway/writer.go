package gateway

import (
	"context"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/fanout"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// outItem is one queued outbound frame: either pre-encoded bytes (replies)
// or a delivery, encoded by the writer from the node-wide shared message.
type outItem struct {
	frame []byte
	msg   *fanout.Msg
	sub   *subscription
}

func (it outItem) size() int {
	if it.msg != nil {
		return len(it.msg.Payload) + 256
	}
	return len(it.frame)
}

// enqueue adds it to the bounded queue without blocking. A full queue marks
// the client a slow consumer: its queue is dropped and it is disconnected.
// It reports whether the item was queued.
func (c *conn) enqueue(it outItem) bool {
	c.qmu.Lock()
	if c.closing {
		c.qmu.Unlock()
		return false
	}
	n := it.size()
	if len(c.queue) >= c.srv.cfg.QueueFrames || c.qbytes+n > c.srv.cfg.QueueBytes {
		c.queue, c.qbytes = nil, 0
		c.closing = true
		c.closeCode, c.closeReason = websocket.StatusPolicyViolation, "slow consumer"
		if c.endReason == "" {
			c.endReason = "slow-consumer"
		}
		c.qmu.Unlock()
		c.srv.slowConsumers.Add(1)
		// The writer may sit in a blocked Write until its deadline; closing
		// the socket now ends the session at once (the client is not
		// reading, so a close handshake could not complete anyway).
		c.ws.CloseNow()
		return false
	}
	c.queue = append(c.queue, it)
	c.qbytes += n
	c.qmu.Unlock()
	c.signal()
	return true
}

// finish queues a last frame (may be nil) and asks the writer to close the
// socket with code after writing everything queued before it. Later
// enqueues are dropped. Only the first finish counts.
func (c *conn) finish(last []byte, code websocket.StatusCode, reason string) {
	c.qmu.Lock()
	if c.closing {
		c.qmu.Unlock()
		return
	}
	if last != nil {
		c.queue = append(c.queue, outItem{frame: last})
	}
	c.closing = true
	c.closeCode, c.closeReason = code, reason
	c.qmu.Unlock()
	c.signal()
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take removes everything queued; closing reports that the writer must
// close the socket after writing it.
func (c *conn) take(dst []outItem) (items []outItem, closing bool, code websocket.StatusCode, reason string) {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	items = append(dst[:0], c.queue...)
	clear(c.queue)
	c.queue, c.qbytes = c.queue[:0], 0
	return items, c.closing, c.closeCode, c.closeReason
}

// writeLoop is the connection's only writer. It coalesces everything queued
// into one WebSocket message (several whole STOMP frames), sends heart-beats
// when idle, and closes the socket when finish was called. It returns when
// the socket is closed or stop is closed.
func (c *conn) writeLoop(stop <-chan struct{}) {
	defer close(c.writerDone)
	var tick <-chan time.Time
	var every time.Duration
	var items []outItem
	buf := make([]byte, 0, 512)
	lastWrite := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-c.wake:
		case every = <-c.hb:
			t := time.NewTicker(every)
			defer t.Stop()
			tick = t.C
			continue
		case now := <-tick:
			if now.Sub(lastWrite) >= every-every/10 {
				c.srv.framesOutBy[heartbeatIndex].Add(1)
				if !c.write([]byte{'\n'}) {
					return
				}
				lastWrite = now
			}
			continue
		}
		var closing bool
		var code websocket.StatusCode
		var reason string
		items, closing, code, reason = c.take(items)
		for i := 0; i < len(items); {
			buf = buf[:0]
			for ; i < len(items) && len(buf) < c.srv.cfg.MaxBatchBytes; i++ {
				buf = c.appendItem(buf, items[i])
			}
			if !c.write(buf) {
				return
			}
			lastWrite = time.Now()
		}
		clear(items)
		if cap(buf) > 1<<20 {
			buf = make([]byte, 0, 512) // do not pin a burst's buffer
		}
		if closing {
			_ = c.ws.Close(code, reason) // bounded by the library's close handshake timeout
			return
		}
	}
}

// write sends one WebSocket message with the write deadline; on failure it
// drops the connection.
func (c *conn) write(b []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.srv.cfg.WriteTimeout)
	err := c.ws.Write(ctx, websocket.MessageText, b)
	cancel()
	if err != nil {
		c.ws.CloseNow()
		return false
	}
	c.srv.framesOut.Add(1)
	return true
}

// appendItem encodes one queued item. Deliveries reuse the shared payload
// and only add this subscription's headers.
func (c *conn) appendItem(dst []byte, it outItem) []byte {
	if it.msg == nil {
		c.srv.framesOutBy[commandIndex(frameCommand(it.frame))].Add(1)
		return append(dst, it.frame...)
	}
	c.srv.framesOutBy[messageIndex].Add(1)
	s := it.sub
	dst = append(dst, "MESSAGE\ndestination:"...)
	dst = append(dst, s.destEsc...)
	dst = append(dst, "\nmessage-id:"...)
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
