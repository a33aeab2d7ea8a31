package gateway

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/coder/websocket"

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
	subs map[string]*subscription
	txs  map[string][]*stomp.Frame

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
		dec:        stomp.NewDecoder(stomp.Limits{MaxFrameBytes: srv.cfg.MaxPreAuthFrameBytes, MaxHeaders: 32}),
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
// closes (nil) or a frame fails (the error to report).
func (c *conn) readLoop(ctx context.Context) error {
	var buf bytes.Buffer
	for {
		rctx, cancel := context.WithTimeout(ctx, c.readTimeout())
		_, r, err := c.ws.Reader(rctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		cancel()
		if err != nil {
			if errors.Is(rctx.Err(), context.DeadlineExceeded) {
				c.setEnd("timeout")
			}
			return nil // socket closed, timed out or broken: nothing more to say
		}
		if err := c.dec.Decode(buf.Bytes(), c.handle); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
}

// readTimeout is the longest silence tolerated from the client: the
// CONNECT timeout before CONNECT, then twice the negotiated heart-beat.
func (c *conn) readTimeout() time.Duration {
	if !c.connected {
		return c.srv.cfg.ConnectTimeout
	}
	if c.hbIn > 0 {
		return 2*c.hbIn + time.Second
	}
	return c.srv.cfg.IdleTimeout
}

// end releases everything the session holds, once.
func (c *conn) end() {
	for _, s := range c.subs {
		c.srv.hub.Unsubscribe(s.channel, s)
	}
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
