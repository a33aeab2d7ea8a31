package wsconn_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// echo is a Handler that writes every message back as a text message and
// records how the read loop ended.
type echo struct {
	c    *wsconn.Conn
	ends chan error
}

func (e *echo) OnMessage(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil // the reader failed: the loop ends by itself
	}
	buf := append(make([]byte, wsconn.HeaderRoom), b...)
	if err := e.c.WriteText(buf); err != nil && !errors.Is(err, wsconn.ErrClosed) {
		return err
	}
	return nil
}

func (e *echo) OnEnd(err error) { e.ends <- err }

// server starts an echo server with o; conns receives each accepted
// connection's echo.
func server(t testing.TB, o *wsconn.Options) (url string, conns chan *echo) {
	t.Helper()
	conns = make(chan *echo, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := wsconn.Accept(w, r, o)
		if err != nil {
			return
		}
		e := &echo{c: c, ends: make(chan error, 1)}
		conns <- e
		go c.Serve(e)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), conns
}

// raw is a hand-driven client for what coder/websocket will not send.
type raw struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

const upgrade = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// dialRaw upgrades a raw connection to url, sending extra right behind
// the request.
func dialRaw(t testing.TB, url string, extra []byte) *raw {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(url, "ws://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(append([]byte(upgrade), extra...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("Sec-WebSocket-Accept %q", got)
	}
	return &raw{t: t, nc: nc, br: br}
}

// frame encodes one client frame; masked unless told otherwise.
func frame(fin bool, op byte, payload []byte, masked bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	var m byte
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

func (r *raw) send(b ...[]byte) {
	r.t.Helper()
	for _, f := range b {
		if _, err := r.nc.Write(f); err != nil {
			r.t.Fatal(err)
		}
	}
}

// read reads one server frame; err at EOF.
func (r *raw) read() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 {
		r.t.Fatal("server frame is masked")
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, _ = io.ReadFull(r.br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, _ = io.ReadFull(r.br, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r.br, payload); err != nil {
		return 0, nil, err
	}
	return h[0] & 0x0f, payload, nil
}

// expectClose reads frames up to a close frame, which must carry code and
// be the last thing the server sends (RFC 6455 §5.5.1).
func (r *raw) expectClose(code wsconn.StatusCode) {
	r.t.Helper()
	for {
		op, p, err := r.read()
		if err != nil {
			r.t.Fatalf("no close frame: %v", err)
		}
		if op != 0x8 {
			continue
		}
		if len(p) < 2 || wsconn.StatusCode(binary.BigEndian.Uint16(p)) != code {
			r.t.Fatalf("close frame %q, want code %d", p, code)
		}
		if op, p, err := r.read(); err == nil {
			r.t.Fatalf("frame after close: opcode %d %q", op, p)
		}
		return
	}
}
