package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// Buffer sizes of the bufio reader and writer a connection hands to
// coder/websocket in place of net/http's 4 KiB pair, held for the life of
// the connection. The reader only buffers frame headers and small frames
// (larger reads go straight into the read loop's pooled chunk); the writer
// only carries the library's control frames (pong, close: at most 131
// bytes), deliveries bypass it.
const (
	wsReadBuffer  = 512
	wsWriteBuffer = 256
)

// socket is a hijacked connection as the gateway uses it besides
// coder/websocket. Its write side is shared by the connection's writer
// (whole WebSocket messages it frames itself) and the library (control
// frames, through the bufio.Writer it was given): mu makes every Write one
// uninterrupted sequence of frames. Its read side lets the read loop wait
// for data without entering the library (waitReadable). Every write
// has a deadline of between 9/10 of timeout and timeout; it is refreshed
// only when less than 9/10 is left, so a busy connection does not re-arm a
// timer per write.
type socket struct {
	timeout time.Duration

	mu       sync.Mutex
	nc       net.Conn
	deadline time.Time

	// Read side, set by Hijack. br is the reader coder/websocket reads
	// frames from; brMu orders the read loop's look at what br holds with
	// the library's own reads of the close handshake (closeWith). rc
	// waits for the socket to be readable (nil: not a syscall.Conn).
	br     *bufio.Reader
	brMu   sync.Mutex
	rc     syscall.RawConn
	ready  func(fd uintptr) bool // readyOnce, bound once
	peeked bool                  // readyOnce has peeked in this wait
	// early: the client sent bytes behind its upgrade request. Accept
	// moves them from br's buffer into br's source, where Buffered does
	// not see them, until the first read refills br.
	early bool
}

// buffered reports whether the library's reader holds unread bytes (the
// next message may be there, with nothing left on the socket).
func (s *socket) buffered() bool {
	if s.br == nil {
		return false
	}
	if s.early {
		s.early = false
		return true
	}
	s.brMu.Lock()
	defer s.brMu.Unlock()
	return s.br.Buffered() > 0
}

// waitReadable returns when the socket has bytes (or EOF, an error) to
// read or is closed, true then; or when limit (if not 0) has passed, false.
// It only waits, in a shallow call that keeps the goroutine's stack small;
// without a RawConn it returns true at once. Only the read loop calls it.
func (s *socket) waitReadable(limit time.Duration) bool {
	if s.rc == nil {
		return true
	}
	if limit > 0 {
		_ = s.nc.SetReadDeadline(time.Now().Add(limit))
	}
	s.peeked = false
	err := s.rc.Read(s.ready)
	if limit > 0 {
		_ = s.nc.SetReadDeadline(time.Time{})
	}
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// readyOnce is the RawConn.Read callback of waitReadable: the first call
// peeks at the socket (data may have arrived before the poller was
// armed); after a wake-up from the poller it reports ready without a
// system call (a spurious wake-up costs one empty library read attempt).
func (s *socket) readyOnce(fd uintptr) bool {
	if s.peeked {
		return true
	}
	s.peeked = true
	return readable(fd)
}

var errNotHijacked = errors.New("connection not hijacked")

// Write writes p whole, or fails (the deadline passed, the socket closed).
func (s *socket) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nc == nil {
		return 0, errNotHijacked
	}
	now := time.Now()
	if s.deadline.Sub(now) < s.timeout-s.timeout/10 {
		s.deadline = now.Add(s.timeout)
		if err := s.nc.SetWriteDeadline(s.deadline); err != nil {
			return 0, err
		}
	}
	return s.nc.Write(p)
}

// hijackWriter is the ResponseWriter handed to websocket.Accept: its
// Hijack keeps the net.Conn for the connection's socket and gives the
// library small buffers (see wsReadBuffer) instead of net/http's.
type hijackWriter struct {
	http.ResponseWriter
	sock *socket
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (h hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent right behind the upgrade stay first: they are
	// pulled into the new reader's buffer, where Accept looks for them.
	var src io.Reader = nc
	n := brw.Reader.Buffered()
	if n > 0 {
		b, _ := brw.Reader.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(b)), nc)
	}
	br := bufio.NewReaderSize(src, max(wsReadBuffer, n))
	if n > 0 {
		if _, err := br.Peek(n); err != nil {
			nc.Close()
			return nil, nil, err
		}
	}
	h.sock.mu.Lock()
	h.sock.nc = nc
	h.sock.mu.Unlock()
	h.sock.br, h.sock.early = br, n > 0
	if sc, ok := nc.(syscall.Conn); ok {
		h.sock.rc, _ = sc.SyscallConn()
		h.sock.ready = h.sock.readyOnce
	}
	return nc, bufio.NewReadWriter(br, bufio.NewWriterSize(h.sock, wsWriteBuffer)), nil
}
