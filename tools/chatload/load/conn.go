package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// Subprotocols are offered in stompjs' order; the server must pick v12.stomp.
var Subprotocols = []string{"v12.stomp", "v11.stomp", "v10.stomp"}

// subscribeReceipt is the receipt asked for on the one SUBSCRIBE, so the
// run knows when every subscription is live before it publishes.
const subscribeReceipt = "sub-0-ready"

// roomState is one room of the run.
type roomState struct {
	id      int64
	members []int64
	subs    atomic.Int64 // connections whose SUBSCRIBE was confirmed
}

// conn is one client connection. Its reader goroutine is the only reader of
// ws and owns buf and lastSeq; counters are atomics read by the runner.
type conn struct {
	r     *Runner
	idx   int
	user  int64
	rcv   int64 // the other member of a direct room, else 0
	room  *roomState
	token string
	ws    *websocket.Conn

	buf      []byte
	pendingN int // bytes of buf spanned by the frame readFrame returned
	lastSeq  int64
	delay    time.Duration // a slow reader sleeps this long after each message read

	recv, dups, gaps, late, foreign atomic.Uint64
	receipts                        atomic.Uint64 // RECEIPTs of SENDs
	subscribed, alive               atomic.Bool
	_                               [64]byte // keep hot counters of neighbours apart
}

// httpClients returns one HTTP client per source address: 127.0.0.1..N as
// the local address of every dialled socket, or the kernel's choice for N=1.
// rcvbuf > 0 is every socket's SO_RCVBUF.
func httpClients(n, rcvbuf int) []*http.Client {
	if n <= 1 && rcvbuf <= 0 {
		return []*http.Client{{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}}
	}
	out := make([]*http.Client, max(n, 1))
	for i := range out {
		d := &net.Dialer{Timeout: 10 * time.Second, Control: setRcvBuf(rcvbuf)}
		if n > 1 {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i+1))}
		}
		out[i] = &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableCompression: true}}
	}
	return out
}

// setRcvBuf is a net.Dialer Control setting SO_RCVBUF to n (nil for n <= 0).
func setRcvBuf(n int) func(network, address string, rc syscall.RawConn) error {
	if n <= 0 {
		return nil
	}
	return func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("set SO_RCVBUF %d: %w", n, serr)
		}
		return nil
	}
}

// open dials, sends CONNECT, waits for CONNECTED, sends SUBSCRIBE (with a
// receipt the reader will see) and starts the reader. It returns the time
// from dial to CONNECTED.
func (c *conn) open(ctx context.Context, wsURL string, hc *http.Client) (time.Duration, error) {
	start := time.Now()
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: hc, Subprotocols: Subprotocols})
	if err != nil {
		return 0, fmt.Errorf("dial: %w", err)
	}
	if p := ws.Subprotocol(); p != "v12.stomp" {
		ws.CloseNow()
		return 0, fmt.Errorf("server chose subprotocol %q, want v12.stomp", p)
	}
	ws.SetReadLimit(16 << 20)
	c.ws = ws
	hb := max(0, int(c.r.cfg.HeartBeat/time.Millisecond)) // negative: heart-beat:0,0
	if err := ws.Write(ctx, websocket.MessageText, ConnectFrame(c.token, c.room.id, c.user, c.rcv, hb)); err != nil {
		ws.CloseNow()
		return 0, fmt.Errorf("write CONNECT: %w", err)
	}
	f, err := c.readFrame(ctx)
	if err != nil {
		ws.CloseNow()
		return 0, fmt.Errorf("waiting for CONNECTED: %w", err)
	}
	switch {
	case f.Is("CONNECTED"):
	case f.Is("ERROR"):
		msg, _ := f.Header("message")
		ws.CloseNow()
		return 0, fmt.Errorf("server refused CONNECT: %s", msg)
	default:
		ws.CloseNow()
		return 0, fmt.Errorf("got %s before CONNECTED", f.Command)
	}
	took := time.Since(start)
	c.consumeFrame()
	if err := ws.Write(ctx, websocket.MessageText, SubscribeFrame("sub-0", RoomDestination(c.room.id), subscribeReceipt)); err != nil {
		ws.CloseNow()
		return 0, fmt.Errorf("write SUBSCRIBE: %w", err)
	}
	c.alive.Store(true)
	c.r.readers.Add(1)
	go c.readLoop()
	return took, nil
}

// readFrame reads until buf holds one complete frame and returns a view of
// it; consumeFrame drops it from buf. Used during the handshake only.
func (c *conn) readFrame(ctx context.Context) (FrameView, error) {
	for {
		f, n, ok, err := NextFrame(c.buf)
		if err != nil {
			return f, err
		}
		if ok {
			c.pendingN = n
			return f, nil
		}
		if err := c.readMessage(ctx); err != nil {
			return f, err
		}
	}
}

func (c *conn) consumeFrame() {
	c.buf = c.buf[:copy(c.buf, c.buf[c.pendingN:])]
	c.pendingN = 0
}

// readMessage appends the next WebSocket message to buf.
func (c *conn) readMessage(ctx context.Context) error {
	_, rd, err := c.ws.Reader(ctx)
	if err != nil {
		return err
	}
	for {
		if len(c.buf) == cap(c.buf) {
			c.buf = slices.Grow(c.buf, max(512, cap(c.buf)))
		}
		n, err := rd.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+n]
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLoop reads until the socket closes, handling every frame.
func (c *conn) readLoop() {
	defer c.r.readers.Done()
	defer c.alive.Store(false)
	ctx := context.Background() // no per-read timer: Runner closes sockets to stop
	for {
		if err := c.drain(); err != nil {
			c.r.noteError(fmt.Errorf("user %d: %w", c.user, err))
			c.ws.CloseNow()
			return
		}
		if err := c.readMessage(ctx); err != nil {
			if !c.r.stopping.Load() {
				c.r.dropped.Add(1)
				c.r.noteError(fmt.Errorf("user %d: connection lost: %w", c.user, err))
			}
			return
		}
		if c.delay > 0 {
			time.Sleep(c.delay) // before the message is handled: the lag shows in its latency
		}
	}
}

// drain handles every complete frame in buf and keeps the rest.
func (c *conn) drain() error {
	b := c.buf
	for {
		f, n, ok, err := NextFrame(b)
		if err != nil {
			return err
		}
		b = b[n:]
		if !ok {
			break
		}
		c.onFrame(&f)
	}
	c.buf = c.buf[:copy(c.buf, b)]
	return nil
}

func (c *conn) onFrame(f *FrameView) {
	switch {
	case f.Is("MESSAGE"):
		c.onMessage(f.Body)
	case f.Is("RECEIPT"):
		id, _ := f.Header("receipt-id")
		switch {
		case bytes.HasPrefix(id, []byte(SendReceiptPrefix)):
			c.receipts.Add(1)
		case string(id) == subscribeReceipt && !c.subscribed.Swap(true):
			c.room.subs.Add(1)
			c.r.subscribedN.Add(1)
		}
	case f.Is("ERROR"):
		msg, _ := f.Header("message")
		c.r.serverErrors.Add(1)
		c.r.noteError(fmt.Errorf("user %d: ERROR %s", c.user, msg))
	}
}

// onMessage accounts one delivery: duplicates and gaps by seq (a room's
// messages arrive in seq order), then latency if it belongs to this run's
// current phase.
func (c *conn) onMessage(body []byte) {
	d, ok := ParseDelivery(body)
	if !ok {
		c.foreign.Add(1)
		return
	}
	if c.lastSeq != 0 {
		if d.Seq <= c.lastSeq {
			c.dups.Add(1)
			return
		}
		if d.Seq > c.lastSeq+1 {
			c.gaps.Add(uint64(d.Seq - c.lastSeq - 1))
		}
	}
	c.lastSeq = d.Seq
	r := c.r
	switch {
	case d.Stamp.Run != r.runID:
		c.foreign.Add(1)
	case d.Stamp.Phase != int(r.phase.Load()):
		c.late.Add(1)
	default:
		c.recv.Add(1)
		r.latency.Record(time.Duration(time.Now().UnixNano() - d.Stamp.T))
	}
}
