package wsconn_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"testing/iotest"
	"time"

	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// pipeConn is a net.Conn reading a fixed client stream and recording
// what the server writes.
type pipeConn struct {
	r   io.Reader
	out bytes.Buffer
}

func (p *pipeConn) Read(b []byte) (int, error)       { return p.r.Read(b) }
func (p *pipeConn) Write(b []byte) (int, error)      { return p.out.Write(b) }
func (p *pipeConn) Close() error                     { return nil }
func (p *pipeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (p *pipeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (p *pipeConn) SetDeadline(time.Time) error      { return nil }
func (p *pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (p *pipeConn) SetWriteDeadline(time.Time) error { return nil }

// collect is a Handler keeping every message.
type collect struct {
	msgs [][]byte
	done bool
}

func (c *collect) OnMessage(r io.Reader) error {
	b, _ := io.ReadAll(r)
	c.msgs = append(c.msgs, b)
	return nil
}
func (c *collect) OnEnd(error) { c.done = true }

const fuzzLimit = 4096

// run reads the client stream in through a Conn and returns the messages
// and the bytes the server wrote.
func run(t *testing.T, r io.Reader) ([][]byte, []byte) {
	p := &pipeConn{r: r}
	c := wsconn.New(p, &wsconn.Options{ReadLimit: fuzzLimit})
	var h collect
	c.Serve(&h) // no RawConn: runs to the end on this goroutine
	if !h.done {
		t.Fatal("OnEnd not called")
	}
	return h.msgs, p.out.Bytes()
}

// checkServerFrames parses what the server wrote: unmasked, well-formed
// frames, and nothing after a close frame.
func checkServerFrames(t *testing.T, b []byte) {
	for len(b) > 0 {
		if len(b) < 2 || b[1]&0x80 != 0 || b[0]&0x70 != 0 || b[0]&0x80 == 0 {
			t.Fatalf("bad server frame header % x", b[:min(len(b), 2)])
		}
		n, hl := int(b[1]&0x7f), 2
		switch n {
		case 126:
			n, hl = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			n, hl = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		op := b[0] & 0x0f
		if op >= 0x8 && n > 125 || len(b) < hl+n {
			t.Fatalf("bad server frame: opcode %d, length %d of %d", op, n, len(b)-hl)
		}
		b = b[hl+n:]
		if op == 0x8 && len(b) > 0 {
			t.Fatalf("%d bytes after the close frame", len(b))
		}
	}
}

// FuzzFrameReader feeds arbitrary client streams to the frame reader:
// it never panics, never yields a message over the read limit, writes only
// well-formed frames with nothing after a close frame, and reads the same
// messages when the stream arrives a byte at a time.
func FuzzFrameReader(f *testing.F) {
	seeds := [][]byte{
		frame(true, 0x1, []byte("CONNECT\naccept-version:1.2\n\n\x00"), true),
		frame(true, 0x1, []byte("\n"), true),
		append(frame(false, 0x1, []byte("SE"), true), append(frame(true, 0x9, []byte("p"), true), frame(true, 0x0, []byte("ND"), true)...)...),
		frame(true, 0x2, bytes.Repeat([]byte("x"), 300), true),
		frame(true, 0x1, bytes.Repeat([]byte("x"), fuzzLimit+1), true),
		frame(true, 0x1, []byte("unmasked"), false),
		frame(true, 0x8, []byte{0x03, 0xe8, 'b', 'y', 'e'}, true),
		frame(true, 0x8, nil, true),
		append(frame(true, 0x8, []byte{0x03, 0xe8}, true), frame(true, 0x1, []byte("after close"), true)...),
		frame(true, 0x9, make([]byte, 126), true),
		{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4},
		{},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		msgs, out := run(t, bytes.NewReader(in))
		for _, m := range msgs {
			if len(m) > fuzzLimit {
				t.Fatalf("message of %d bytes over the limit", len(m))
			}
		}
		checkServerFrames(t, out)
		msgs2, out2 := run(t, iotest.OneByteReader(bytes.NewReader(in)))
		if len(msgs) != len(msgs2) || !bytes.Equal(out, out2) {
			t.Fatalf("split stream: %d messages (want %d), output % x (want % x)", len(msgs2), len(msgs), out2, out)
		}
		for i := range msgs {
			if !bytes.Equal(msgs[i], msgs2[i]) {
				t.Fatalf("message %d differs when split", i)
			}
		}
	})
}
