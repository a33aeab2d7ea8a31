package wsconn

import (
	"errors"
	"io"
	"os"
	"time"
)

// Handler receives a connection's messages from Serve.
type Handler interface {
	// OnMessage handles one data message (text or binary alike), reading
	// r up to io.EOF; what it leaves unread is skipped. An error ends the
	// read loop. r is valid only during the call.
	OnMessage(r io.Reader) error
	// OnEnd is called once when the read loop ends, with OnMessage's
	// error, or nil when the socket ended (the peer's close frame, a
	// protocol error answered with a close frame, EOF, CloseNow).
	OnEnd(err error)
}

// RelayIdle is how long a read loop that has read messages waits on its
// goroutine before going on on a fresh one (see Serve).
const RelayIdle = 2 * time.Second

// errIdle asks Serve to continue on a fresh goroutine.
var errIdle = errors.New("read loop idle")

// Serve runs the read loop until the connection ends, then calls h.OnEnd.
// It calls h.OnMessage for each message, in order, one at a time.
//
// Handling a message grows a goroutine's stack (to tens of KiB for a
// handler making network calls), which an idle connection would keep; so
// when the loop has read messages and then waits RelayIdle for the next
// one in vain, it goes on on a new goroutine, which starts small and waits
// in a shallow call. An idle connection thus moves once per quiet spell.
// The chain of goroutines is one read loop: the caller owns it through
// OnEnd, called exactly once.
func (c *Conn) Serve(h Handler) {
	err := c.readLoop(h)
	if errors.Is(err, errIdle) {
		go c.Serve(h)
		return
	}
	h.OnEnd(err)
}

// readLoop reads messages until the socket ends (nil), h fails (its
// error) or the loop has been idle for RelayIdle (errIdle).
func (c *Conn) readLoop(h Handler) error {
	for {
		if !c.lockRead() {
			return nil
		}
		if c.br.Buffered() == 0 {
			// Wait outside the reader, without the read token: Close may
			// read the peer's close frame meanwhile.
			c.unlockRead()
			if !c.handled {
				c.waitReadable(0)
			} else if !c.waitReadable(RelayIdle) {
				c.handled = false
				return errIdle
			}
			if !c.lockRead() {
				return nil
			}
		}
		if err := c.fr.next(); err != nil {
			c.unlockRead()
			return nil // socket closed, peer's close, protocol error: nothing more to say
		}
		err := h.OnMessage(&c.fr)
		c.unlockRead()
		c.handled = true
		if err != nil {
			return err
		}
	}
}

// lockRead takes the read token; false when the socket is gone.
func (c *Conn) lockRead() bool {
	select {
	case c.rtok <- struct{}{}:
		if c.isGone.Load() {
			<-c.rtok
			return false
		}
		return true
	case <-c.gone:
		return false
	}
}

func (c *Conn) unlockRead() { <-c.rtok }

// waitReadable returns when the socket has bytes (or EOF, an error) to
// read or is closed, true then; or when limit (if not 0) has passed, false.
// It only waits, in a shallow call that keeps the goroutine's stack small;
// without a RawConn it returns true at once.
func (c *Conn) waitReadable(limit time.Duration) bool {
	if c.rc == nil {
		return true
	}
	if limit > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(limit))
	}
	c.peeked = false
	err := c.rc.Read(c.ready)
	if limit > 0 {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// readyOnce is the RawConn.Read callback of waitReadable: the first call
// peeks at the socket (data may have arrived before the poller was armed);
// after a wake-up from the poller it reports ready without a system call
// (a spurious wake-up costs one empty read attempt).
func (c *Conn) readyOnce(fd uintptr) bool {
	if c.peeked {
		return true
	}
	c.peeked = true
	return readable(fd)
}
