// Package wsconn is the server side of RFC 6455 WebSocket connections as
// the gateway uses them, owning the byte stream end to end: the upgrade,
// reading masked client frames with a size limit, control frames (ping,
// pong, close), writing whole messages with a deadline, and the close
// state, so nothing is written after a Close frame (§5.5.1). It also runs
// the read loop (Serve): between messages it waits for the socket in a
// shallow call, and an idle loop moves to a fresh goroutine, so an idle
// connection holds a small stack and no buffer beyond ReadBuffer.
//
// Concurrency: one goroutine reads (Serve's); writes, Close and CloseNow
// are safe from any goroutine.
package wsconn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// StatusCode is a close frame's status code (RFC 6455 §7.4).
type StatusCode int

// Close status codes.
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusNoStatusRcvd            StatusCode = 1005 // never sent: a close frame without a code
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
)

// CloseError is the peer's close frame, returned by reads after it came.
type CloseError struct {
	Code   StatusCode
	Reason string
}

func (e CloseError) Error() string {
	return fmt.Sprintf("websocket closed by peer: status %d %q", int(e.Code), e.Reason)
}

// ErrClosed is returned by writes once a Close frame was sent (by Close,
// or by the reader answering the peer's close or a protocol error) or the
// socket was closed.
var ErrClosed = errors.New("websocket closed")

// Conn is one server-side WebSocket connection.
type Conn struct {
	nc          net.Conn
	subprotocol string
	writeTimeout,
	closeTimeout time.Duration
	readLimit int64

	// Write side, guarded by wmu: deadline is the write deadline set on
	// nc; closeSent records that a Close frame went out (nothing may
	// follow it). sent counts the bytes the socket took; ackedMark is how
	// many of them the peer had acknowledged when deadline was set (-1:
	// unknown).
	wmu       sync.Mutex
	deadline  time.Time
	closeSent bool
	sent      int64
	ackedMark int64

	// rtok is the read token: whoever reads from br holds it (the read
	// loop for one message at a time, or Close waiting for the peer's
	// close frame). gone is closed with the socket.
	rtok   chan struct{}
	gone   chan struct{}
	isGone atomic.Bool

	// Read side, used by the holder of rtok.
	br *bufio.Reader
	fr frameReader
	// Readiness wait (Serve): rc is nil when nc is not a syscall.Conn.
	rc      syscall.RawConn
	ready   func(fd uintptr) bool // readyOnce, bound once
	peeked  bool
	handled bool // messages were read since the read loop last moved
}

// New wraps nc, a connection already upgraded to WebSocket, as the server
// end (o may be nil: the defaults).
func New(nc net.Conn, o *Options) *Conn {
	var opts Options
	if o != nil {
		opts = *o
	}
	c := newConn(nc, bufio.NewReaderSize(nc, ReadBuffer), opts)
	if sc, ok := nc.(syscall.Conn); ok {
		c.rc, _ = sc.SyscallConn()
	}
	return c
}

func newConn(nc net.Conn, br *bufio.Reader, o Options) *Conn {
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 5 * time.Second
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 32 << 20
	}
	c := &Conn{nc: nc, br: br, writeTimeout: o.WriteTimeout, closeTimeout: o.CloseTimeout,
		readLimit: o.ReadLimit, rtok: make(chan struct{}, 1), gone: make(chan struct{})}
	c.fr.c = c
	c.fr.fin = true
	c.ready = c.readyOnce
	return c
}

// Subprotocol returns the subprotocol selected at the upgrade ("" if none).
func (c *Conn) Subprotocol() string { return c.subprotocol }

// HeaderRoom is the room WriteText needs in front of a payload for the
// largest frame header a server sends (2 + 8 bytes, unmasked).
const HeaderRoom = 10

// WriteText sends buf[HeaderRoom:] as one text message, framing it in the
// room in front, in one socket write with the write deadline. It returns
// ErrClosed after a Close frame was sent.
func (c *Conn) WriteText(buf []byte) error {
	p := frameText(buf)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent || c.isGone.Load() {
		return ErrClosed
	}
	return c.writeLocked(p)
}

// TryWriteText frames buf[HeaderRoom:] as one text message like WriteText
// but never waits: it makes one non-blocking write attempt, and none when
// another write holds the connection. rest is what the socket did not
// take, nil when it took everything; the caller writes rest with
// WriteRaw before anything else. rest aliases buf.
func (c *Conn) TryWriteText(buf []byte) (rest []byte, err error) {
	p := frameText(buf)
	if c.rc == nil || !c.wmu.TryLock() {
		return p, nil
	}
	defer c.wmu.Unlock()
	if c.closeSent || c.isGone.Load() {
		return nil, ErrClosed
	}
	n, err := tryWrite(c.rc, p)
	c.sent += int64(n)
	if err != nil {
		return nil, fmt.Errorf("websocket write: %w", err)
	}
	if n == len(p) {
		return nil, nil
	}
	return p[n:], nil
}

// WriteRaw writes p, the rest of a message TryWriteText began, with the
// write deadline. It returns ErrClosed after a Close frame was sent.
func (c *Conn) WriteRaw(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent || c.isGone.Load() {
		return ErrClosed
	}
	return c.writeLocked(p)
}

// frameText writes the header of a text frame of buf[HeaderRoom:] into the
// room in front and returns the frame.
func frameText(buf []byte) []byte {
	n := len(buf) - HeaderRoom
	var h int
	switch {
	case n < 126:
		h = HeaderRoom - 2
		buf[h+1] = byte(n)
	case n <= 0xffff:
		h = HeaderRoom - 4
		buf[h+1] = 126
		binary.BigEndian.PutUint16(buf[h+2:], uint16(n))
	default:
		buf[1] = 127
		binary.BigEndian.PutUint64(buf[2:], uint64(n))
	}
	buf[h] = 0x80 | opText
	return buf[h:]
}

// writeLocked writes p whole with the write deadline (c.wmu held). The
// deadline is between 9/10 of writeTimeout and writeTimeout away: it is
// refreshed only when less than 9/10 is left, so a busy connection does
// not re-arm a timer per write. When it passes, the write goes on with a
// new deadline if the peer acknowledged bytes since the deadline was set:
// the peer reads, only slowly (the kernel wakes a writer only once a
// third of a full send buffer is free, which at a slow reader's pace can
// take longer than the timeout). A peer that acknowledged nothing fails it.
func (c *Conn) writeLocked(p []byte) error {
	for {
		now := time.Now()
		if c.deadline.Sub(now) < c.writeTimeout-c.writeTimeout/10 {
			c.deadline = now.Add(c.writeTimeout)
			if err := c.nc.SetWriteDeadline(c.deadline); err != nil {
				return fmt.Errorf("websocket write: %w", err)
			}
			c.ackedMark = c.acked()
		}
		n, err := c.nc.Write(p)
		c.sent += int64(n)
		if err == nil {
			return nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || c.ackedMark < 0 || c.acked() <= c.ackedMark {
			return fmt.Errorf("websocket write: %w", err)
		}
		p = p[n:]
	}
}

// acked returns how many of the bytes written the peer acknowledged, -1
// when the socket does not tell (c.wmu held).
func (c *Conn) acked() int64 {
	q, ok := unsent(c.rc)
	if !ok {
		return -1
	}
	return c.sent - int64(q)
}

// writeControl sends a control frame (payload at most 125 bytes); a close
// frame marks the connection closed for writes.
func (c *Conn) writeControl(op byte, payload []byte) error {
	var b [2 + maxControl]byte
	b[0] = 0x80 | op
	b[1] = byte(len(payload))
	n := 2 + copy(b[2:], payload)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent || c.isGone.Load() {
		return ErrClosed
	}
	if op == opClose {
		c.closeSent = true
	}
	return c.writeLocked(b[:n])
}

// writeClose sends a close frame with code (none for StatusNoStatusRcvd)
// and reason, shortened to fit.
func (c *Conn) writeClose(code StatusCode, reason string) error {
	var p [maxControl]byte
	if code == StatusNoStatusRcvd {
		return c.writeControl(opClose, nil)
	}
	binary.BigEndian.PutUint16(p[:], uint16(code))
	n := 2 + copy(p[2:], closeReason(reason))
	return c.writeControl(opClose, p[:n])
}

// Close sends a close frame with code and reason (shortened to 123 bytes
// on a rune boundary), waits up to CloseTimeout for the peer's close
// frame, reading it itself unless the read loop is in a message, and
// closes the socket. Messages still arriving are dropped. After a close
// frame was already sent it only closes the socket.
func (c *Conn) Close(code StatusCode, reason string) error {
	defer c.CloseNow()
	if err := c.writeClose(code, reason); err != nil {
		return err
	}
	t := time.AfterFunc(c.closeTimeout, func() { c.CloseNow() })
	defer t.Stop()
	select {
	case c.rtok <- struct{}{}:
		c.fr.drain()
		<-c.rtok
	case <-c.gone: // the read loop saw the peer's close frame, or a timeout
	}
	return nil
}

// CloseNow closes the socket at once, without a close frame. Safe to call
// more than once.
func (c *Conn) CloseNow() {
	// No lock: a writer may hold wmu in a blocked write, which closing
	// the socket ends.
	if c.isGone.CompareAndSwap(false, true) {
		_ = c.nc.Close()
		close(c.gone)
	}
}

// maxCloseReason is the longest reason a close frame carries (a control
// frame's 125 bytes less the code).
const maxCloseReason = maxControl - 2

// closeReason shortens reason to fit a close frame, on a rune boundary.
func closeReason(reason string) string {
	if len(reason) <= maxCloseReason {
		return reason
	}
	reason = reason[:maxCloseReason-3]
	for !utf8.ValidString(reason) {
		reason = reason[:len(reason)-1]
	}
	return reason + "..."
}
