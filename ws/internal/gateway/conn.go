package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// conn is one WebSocket connection and, after CONNECT, one STOMP session.
//
// Goroutines: the read loop (wsconn's Serve, calling OnMessage and OnEnd)
// owns the session; it runs on one goroutine at a time and may move to a
// fresh one when idle. writeLoop, started on demand while something is
// queued (at most one at a time), is the only writer of messages; wsconn
// writes control frames under the same lock and keeps the close state.
// Hub deliveries, kicks and the node's heart-beat loop only enqueue. An
// idle connection has one goroutine, parked in a shallow wait, and no read
// or write buffer beyond wsconn's small read buffer.
type conn struct {
	srv        *Server
	ws         *wsconn.Conn
	remoteAddr string
	dec        *stomp.Decoder
	// lg is the connection's logger, made by log() on first use (most
	// connections never log, and a logger with attributes costs about half
	// a kilobyte); peer and reqID are its attributes. Only serve's
	// goroutine logs with it.
	lg          *slog.Logger
	peer, reqID string

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
	subs    map[string]*subscription
	txs     map[string]*transaction // open transactions; nil until the first BEGIN
	txBytes int                     // bytes held by all open transactions (MaxTxBytes)
	// Per-session budgets (limits.go), nil without a limit: every frame
	// after CONNECT, SEND frames, SUBSCRIBE and UNSUBSCRIBE frames.
	frameBudget, sends, subBudget *rate.Limiter
	expiry                        *time.Timer // ends the session when the token expires; nil before CONNECT
	// connectBy is when CONNECT must have succeeded; connTimer sends the
	// ERROR then. readTimer closes the socket after readTimeout of silence
	// (re-armed per message). All set by serve.
	connectBy time.Time
	connTimer *time.Timer
	readTimer *time.Timer

	// acks holds unacknowledged deliveries of client-ack subscriptions;
	// watched counts subscriptions per room, for Revoke. Both under ackMu.
	ackMu   sync.Mutex
	acks    map[string]*subscription // nil until the first client-ack delivery
	watched map[int64]int

	// beatEvery is the server heart-beat interval in ns once CONNECTED is
	// queued (0 before, or none); lastWrite is the time of the last socket
	// write (unix ns). The node's heart-beat loop reads both.
	beatEvery atomic.Int64
	lastWrite atomic.Int64

	// Outbound queue and writer state, guarded by qmu. writing: a writer
	// runs; dead: nothing more will be written (stopped is closed then).
	// drained (on qmu) is broadcast when the writer takes the queue and
	// when the connection starts closing: replays wait on it (resume.go).
	qmu         sync.Mutex
	drained     sync.Cond
	queue       []outItem
	spare       []outItem // the writer's emptied batch, reused as the next queue
	qbytes      int
	closing     bool
	closeCode   wsconn.StatusCode
	closeReason string
	writing     bool
	dead        bool

	endReason string // why the session ended; first setEnd wins

	// ending is set once the connection is closing (finish, a slow
	// consumer cut, a kick, the read timeout, a failed write): the read
	// loop then handles no further frame, not even the rest of a
	// WebSocket message already read. Read without a lock, per frame.
	ending atomic.Bool

	writers sync.WaitGroup // the running writer, if any
	stopped chan struct{}

	// Resumes and catch-ups (resume.go): replays run one at a time
	// (replayMu), each on its own goroutine (replays), under replayCtx,
	// which closed cancels (stopReplays). startReplay, from the read loop
	// (resume) or a hub delivery (catch-up), makes replayCtx at the first
	// replay; rmu guards it, replayStop and replaysOver, so no replay
	// starts after stopReplays. resumeBuf counts the bytes of live messages
	// buffered by replaying subscriptions.
	replayMu    sync.Mutex
	replays     sync.WaitGroup
	rmu         sync.Mutex
	replayCtx   context.Context
	replayStop  context.CancelFunc
	replaysOver bool
	resumeBuf   atomic.Int64
}

// startReplay runs run on a new replay goroutine owned by the connection,
// with the connection's replay context; it reports false, running nothing,
// once the connection has ended (stopReplays). Safe from any goroutine.
func (c *conn) startReplay(run func(ctx context.Context)) bool {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.replaysOver {
		return false
	}
	if c.replayStop == nil {
		c.replayCtx, c.replayStop = context.WithCancel(context.Background())
	}
	ctx := c.replayCtx
	c.replays.Add(1)
	go func() {
		defer c.replays.Done()
		run(ctx)
	}()
	return true
}

// stopReplays cancels the running replays, waits for them and lets no
// other start (closed, once the socket is dead).
func (c *conn) stopReplays() {
	c.rmu.Lock()
	c.replaysOver = true
	if c.replayStop != nil {
		c.replayStop()
	}
	c.rmu.Unlock()
	c.replays.Wait()
}

// log returns the connection's logger: remote and request_id, and session
// from CONNECT on (node comes with Config.Logger). Only serve's goroutine
// calls it.
func (c *conn) log() *slog.Logger {
	if c.lg == nil {
		args := make([]any, 0, 6)
		if c.peer != "" {
			args = append(args, "remote", c.peer, "request_id", c.reqID)
		}
		if c.id != "" {
			args = append(args, "session", c.id)
		}
		c.lg = c.srv.log.With(args...)
	}
	return c.lg
}

// debug logs at debug level, without making the connection's logger when
// that level is off (every CONNECT and session end would make one).
func (c *conn) debug(msg string, args ...any) {
	if c.srv.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log().Debug(msg, args...)
	}
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

func newConn(srv *Server, remoteAddr string) *conn {
	c := &conn{
		srv:        srv,
		remoteAddr: remoteAddr,
		dec:        stomp.NewDecoder(srv.preAuthLimits()),
		version:    stomp.V12,
		subs:       make(map[string]*subscription, 1),
		watched:    make(map[int64]int, 1),
		stopped:    make(chan struct{}),
	}
	c.drained.L = &c.qmu
	return c
}

// serve runs the connection until it ends (OnMessage, OnEnd), then ends
// the session exactly once.
func (c *conn) serve() {
	// The CONNECT deadline counts from the upgrade, not per read, so a
	// frame dribbled a byte at a time cannot hold the socket open.
	c.connectBy = time.Now().Add(c.srv.cfg.ConnectTimeout)
	c.connTimer = time.AfterFunc(c.srv.cfg.ConnectTimeout, c.connectTimedOut)
	c.readTimer = time.AfterFunc(c.readTimeout(), c.readTimedOut)
	c.ws.Serve(c)
}

var _ wsconn.Handler = (*conn)(nil)

// OnMessage feeds one WebSocket message to the decoder (readMessage), then
// re-arms the read timer: it bounds the silence between messages (an
// AfterFunc timer, not a context and timer per message).
func (c *conn) OnMessage(r io.Reader) error {
	err := c.readMessage(r)
	c.readTimer.Reset(c.readTimeout())
	return err
}

// OnEnd is closed; errStop (DISCONNECT, or the socket failed) is no error.
func (c *conn) OnEnd(err error) {
	if errors.Is(err, errStop) {
		err = nil
	}
	c.closed(err)
}

// closed ends the connection after the read loop stopped with err (nil:
// the peer went away or DISCONNECT), then ends the session.
func (c *conn) closed(err error) {
	defer c.srv.wg.Done()
	defer c.srv.connsOpen.Add(-1)
	c.readTimer.Stop()
	if err != nil {
		p := describe(err)
		if p.code == wsconn.StatusInternalError {
			c.log().Error("connection failed", "err", err)
		} else {
			// Only the client-safe text: a decoder detail may quote client
			// bytes, which could hold a token. The message may still quote
			// an id the client chose: anything token-shaped is redacted.
			c.debug("connection refused a frame", "reason", auth.RedactTokens(p.message))
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
		case <-c.stopped:
		case <-t.C:
		}
		t.Stop()
	}
	c.qmu.Lock()
	c.markDeadLocked()
	c.qmu.Unlock()
	c.ws.CloseNow()
	c.writers.Wait()
	c.stopReplays()
	c.end()
}

// readMessage feeds one WebSocket message to the decoder. It returns the
// decoder's error, errMessageTooLarge, errStop, or errStop when the socket
// failed. A message may hold at most maxMessage bytes: beyond, the read
// stops there (wsconn's own limit is a little higher, so it never
// cuts the connection before the ERROR frame is sent).
func (c *conn) readMessage(r io.Reader) error {
	bp := readChunks.Get().(*[]byte)
	defer readChunks.Put(bp)
	chunk := *bp
	limit := c.srv.maxMessage()
	var derr error
	for total := 0; ; {
		n, err := r.Read(chunk)
		if total += n; total > limit {
			if derr != nil {
				return derr
			}
			return errMessageTooLarge
		}
		if n > 0 && derr == nil {
			// After a decoder error, or once closing, the rest of the
			// message is read and dropped (bounded by limit and
			// readTimer), so the close handshake that follows starts at
			// a frame boundary.
			derr = c.dec.Decode(chunk[:n], c.handle)
		}
		if errors.Is(err, io.EOF) {
			return derr // this message is over; nil: read the next
		}
		if err != nil {
			if derr != nil {
				return derr
			}
			return errStop // socket closed, timed out or broken
		}
	}
}

// readTimedOut closes a connection silent for longer than readTimeout.
func (c *conn) readTimedOut() {
	c.setEnd("timeout")
	c.ending.Store(true)
	c.ws.CloseNow()
}

// readChunks recycles the read loop's chunks between messages.
var readChunks = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

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
	if c.connTimer != nil {
		c.connTimer.Stop()
	}
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
		c.log().Warn("remove session from registry", "err", err)
	}
	c.debug("session ended", "user", c.ident.UserID, "reason", c.reason())
}

// connectTimedOut ends a connection that has not completed CONNECT within
// ConnectTimeout (ERROR "timed out waiting for CONNECT", close 1008). It runs
// on the timer's goroutine and only queues; a successful CONNECT stops the
// timer first.
func (c *conn) connectTimedOut() {
	c.setEnd("timeout")
	// Built without c.version, which the read loop may be writing.
	f := &stomp.Frame{Command: "ERROR", Headers: []stomp.Header{{Key: "message", Value: errConnectTimeout.Error()}}}
	c.finish(stomp.AppendFrame(nil, f, stomp.V10), wsconn.StatusPolicyViolation, "connect timeout")
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
func (c *conn) kick(reason string, code wsconn.StatusCode) {
	c.setEnd(reason)
	p := problem{message: errKicked.Error() + ": " + reason, code: code}
	c.finish(c.errorFrame(p, "", false), code, reason)
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
