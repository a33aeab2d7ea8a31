package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/roomwire/roomwire/shared/auth"
	"github.com/roomwire/roomwire/shared/registry"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// conn is one WebSocket connection and, after CONNECT, one STOMP session.
//
// Goroutines: serve (the HTTP handler's goroutine) runs the read loop and
// owns the session; writeLoop is the only writer. Hub deliveries and kicks
// only enqueue.
type conn struct {
	srv        *Server
	ws         *websocket.Conn
	remoteAddr string
	dec        *stomp.Decoder

	// Set at CONNECT by the read loop, read-only afterwards.
	id        string
	ident     auth.Identity
	version   string
	roomID    int64
	sess      registry.Session // the registry entry, for re-registration
	hbOut     time.Duration    // server-to-client beat interval (0 = none)
	hbIn      time.Duration    // client-to-server beat interval (0 = none)
	connected bool

	// Owned by the read loop.
	subs   map[string]*subscription
	txs    map[string][]*stomp.Frame
	sends  *rate.Limiter // SEND frames; nil without a limit
	expiry *time.Timer   // ends the session when the token expires; nil before CONNECT
	// connectBy is when CONNECT must have succeeded; connTimer sends the
	// ERROR then. Both set by serve.
	connectBy time.Time
	connTimer *time.Timer

	// acks holds unacknowledged deliveries of client-ack subscriptions;
	// watched counts subscriptions per room, for Revoke. Both under ackMu.
	ackMu   sync.Mutex
	acks    map[string]*subscription
	watched map[int64]int

	// hb hands the negotiated server heart-beat interval to the writer.
	hb chan time.Duration

	// Outbound queue, guarded by qmu.
	qmu         sync.Mutex
	queue       []outItem
	qbytes      int
	closing     bool
	closeCode   websocket.StatusCode
	closeReason string

	endReason string // why the session ended; first setEnd wins

	wake       chan struct{}
	writerDone chan struct{}
}

// setEnd records why the session ends, unless a reason is already set.
func (c *conn) setEnd(reason string) {
	c.qmu.Lock()
	if c.endReason == "" {
		c.endReason = reason
	}
	c.qmu.Unlock()
}

// isClosing reports whether finish (or a slow-consumer cut) was called.
func (c *conn) isClosing() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.closing
}

// reason returns the recorded end reason ("closed" when none was set).
func (c *conn) reason() string {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.endReason == "" {
		return "closed"
	}
	return c.endReason
}

func newConn(srv *Server, ws *websocket.Conn, remoteAddr string) *conn {
	return &conn{
		srv:        srv,
		ws:         ws,
		remoteAddr: remoteAddr,
		dec:        stomp.NewDecoder(srv.preAuthLimits()),
		version:    stomp.V12,
		subs:       make(map[string]*subscription),
		txs:        make(map[string][]*stomp.Frame),
		acks:       make(map[string]*subscription),
		watched:    make(map[int64]int),
		hb:         make(chan time.Duration, 1),
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
	}
}

// serve runs the connection until it ends, then ends the session exactly once.
func (c *conn) serve(ctx context.Context) {
	stopWriter := make(chan struct{})
	go c.writeLoop(stopWriter)
	// The CONNECT deadline counts from the upgrade, not per read, so a
	// frame dribbled a byte at a time cannot hold the socket open.
	c.connectBy = time.Now().Add(c.srv.cfg.ConnectTimeout)
	c.connTimer = time.AfterFunc(c.srv.cfg.ConnectTimeout, c.connectTimedOut)
	err := c.readLoop(ctx)
	if err != nil {
		p := describe(err)
		if p.code == websocket.StatusInternalError {
			c.srv.log.Error("connection failed", "session", c.id, "err", err)
		} else {
			// Only the client-safe text: a decoder detail may quote client
			// bytes, which could hold a token.
			c.srv.log.Debug("connection refused a frame", "session", c.id, "reason", p.message)
		}
		c.setEnd("error")
		c.srv.countError(p.kind)
		if !c.connected {
			p.detail = "" // it may quote a CONNECT header, i.e. a token
		}
		c.finish(c.errorFrame(p, receiptOf(err), !c.connected), p.code, p.message)
	}
	// After finish, let the writer flush the final ERROR/RECEIPT and close,
	// bounded; when the peer just went away there is nothing to flush.
	if c.isClosing() {
		t := time.NewTimer(c.srv.cfg.WriteTimeout + time.Second)
		select {
		case <-c.writerDone:
		case <-t.C:
		}
		t.Stop()
	}
	close(stopWriter)
	c.ws.CloseNow()
	<-c.writerDone
	c.end()
}

// readLoop reads WebSocket messages and feeds the decoder until the socket
// closes (nil) or a frame fails (the error to report). Messages are fed in
// chunks as they arrive, so the decoder's limits, not the size of a
// WebSocket message, bound what is buffered, and an oversized frame is
// answered with an ERROR frame.
func (c *conn) readLoop(ctx context.Context) error {
	chunk := make([]byte, readChunk)
	for {
		rctx, cancel := context.WithTimeout(ctx, c.readTimeout())
		_, r, err := c.ws.Reader(rctx)
		for err == nil {
			var n int
			n, err = r.Read(chunk)
			if n > 0 {
				if derr := c.dec.Decode(chunk[:n], c.handle); derr != nil {
					cancel()
					if errors.Is(derr, errStop) {
						return nil
					}
					return derr
				}
			}
			if errors.Is(err, io.EOF) {
				err = nil // this message is over; read the next
				break
			}
		}
		cancel()
		if err != nil {
			if errors.Is(rctx.Err(), context.DeadlineExceeded) {
				c.setEnd("timeout")
			}
			return nil // socket closed, timed out or broken: nothing more to say
		}
	}
}

// readChunk is how much of a WebSocket message is fed to the decoder at once.
const readChunk = 16 << 10

// readTimeout is the longest silence tolerated from the client: the
// CONNECT timeout before CONNECT, then twice the negotiated heart-beat.
func (c *conn) readTimeout() time.Duration {
	if !c.connected {
		// connTimer ends the connection at connectBy with an ERROR; the
		// read deadline is only the backstop, after the writer's grace.
		return max(time.Until(c.connectBy)+c.srv.cfg.WriteTimeout+time.Second, time.Millisecond)
	}
	if c.hbIn > 0 {
		return 2*c.hbIn + time.Second
	}
	return c.srv.cfg.IdleTimeout
}

// end releases everything the session holds, once.
func (c *conn) end() {
	c.connTimer.Stop()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	for _, s := range c.subs {
		c.srv.hub.Unsubscribe(s.channel, s)
	}
	c.srv.subsOpen.Add(-int64(len(c.subs)))
	if !c.connected {
		return
	}
	c.srv.forget(c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := c.srv.sessions.End(ctx, c.sess, c.reason()); err != nil {
		c.srv.log.Warn("remove session from registry", "session", c.id, "err", err)
	}
	c.srv.log.Debug("session ended", "session", c.id, "user", c.ident.UserID, "reason", c.reason())
}

// connectTimedOut ends a connection that has not completed CONNECT within
// ConnectTimeout (ERROR "timed out waiting for CONNECT", close 1008). It runs
// on the timer's goroutine and only queues; a successful CONNECT stops the
// timer first.
func (c *conn) connectTimedOut() {
	c.setEnd("timeout")
	// Built without c.version, which the read loop may be writing.
	f := &stomp.Frame{Command: "ERROR", Headers: []stomp.Header{{Key: "message", Value: errConnectTimeout.Error()}}}
	c.finish(stomp.AppendFrame(nil, f, stomp.V10), websocket.StatusPolicyViolation, "connect timeout")
}

// expire ends the session when its token's exp passes (ERROR "token
// expired", close 1008); the client reconnects with a fresh token. It runs
// on the expiry timer's goroutine and only queues.
func (c *conn) expire() {
	c.setEnd("token-expired")
	p := describe(errTokenExpired)
	c.srv.countError(p.kind)
	c.finish(c.errorFrame(p, "", false), p.code, "token expired")
}

// kick ends the session from outside the read loop with an ERROR frame.
func (c *conn) kick(reason string, code websocket.StatusCode) {
	c.setEnd(reason)
	p := problem{message: errKicked.Error() + ": " + reason, code: code}
	c.finish(c.errorFrame(p, "", false), code, reason)
}

func remoteAddr(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// watches reports whether the session is in room roomID or subscribed to one
// of its destinations. Safe from any goroutine.
func (c *conn) watches(roomID int64) bool {
	if c.roomID == roomID {
		return true
	}
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	return c.watched[roomID] > 0
}
