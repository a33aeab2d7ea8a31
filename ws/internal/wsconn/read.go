package wsconn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxControl is the largest control frame payload (§5.5).
const maxControl = 125

// ProtocolError is a client frame breaking RFC 6455; the connection was
// failed with a close frame carrying Code.
type ProtocolError struct {
	Code StatusCode
	Msg  string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("websocket protocol error (%d): %s", int(e.Code), e.Msg)
}

// header is one frame's header.
type header struct {
	fin    bool
	op     byte
	length int64
	key    [4]byte
}

// frameReader reads client frames from its Conn's reader: the message in
// progress, as an io.Reader, with control frames handled in between. Only
// the holder of the read token uses it. Once it fails (err) every read
// fails the same way.
type frameReader struct {
	c         *Conn
	remaining int64 // unread payload of the current data frame
	fin       bool  // the current data frame ends its message
	key       [4]byte
	pos       int   // position in the mask key
	total     int64 // payload bytes of the message read so far
	err       error
}

// fail fails the connection: a close frame with code, then the socket is
// closed.
func (f *frameReader) fail(code StatusCode, msg string) error {
	f.err = &ProtocolError{Code: code, Msg: msg}
	_ = f.c.writeClose(code, msg)
	f.c.CloseNow()
	return f.err
}

// setErr records a read error; a clean end of stream inside a frame is
// unexpected (io.EOF from Read means the message is over).
func (f *frameReader) setErr(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	f.err = err
	return err
}

// header reads and checks one frame header.
func (f *frameReader) header() (header, error) {
	br := f.c.br
	b, err := br.Peek(2)
	if err != nil {
		if len(b) == 0 && errors.Is(err, io.EOF) {
			f.err = io.EOF // the peer went away between frames
			return header{}, io.EOF
		}
		return header{}, f.setErr(err)
	}
	n := 2
	switch b[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	masked := b[1]&0x80 != 0
	if masked {
		n += 4
	}
	if b, err = br.Peek(n); err != nil {
		return header{}, f.setErr(err)
	}
	h := header{fin: b[0]&0x80 != 0, op: b[0] & 0x0f}
	rsv := b[0] & 0x70
	var l uint64
	switch l7 := b[1] & 0x7f; l7 {
	case 126:
		l = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		l = binary.BigEndian.Uint64(b[2:])
	default:
		l = uint64(l7)
	}
	if masked {
		copy(h.key[:], b[n-4:n])
	}
	_, _ = br.Discard(n)
	switch {
	case rsv != 0:
		return header{}, f.fail(StatusProtocolError, "reserved bits set")
	case !masked:
		return header{}, f.fail(StatusProtocolError, "unmasked frame from client")
	case l > 1<<63-1:
		return header{}, f.fail(StatusProtocolError, "invalid payload length")
	}
	h.length = int64(l)
	switch h.op {
	case opContinuation, opText, opBinary:
	case opClose, opPing, opPong:
		if !h.fin || h.length > maxControl {
			return header{}, f.fail(StatusProtocolError, "fragmented or oversized control frame")
		}
	default:
		return header{}, f.fail(StatusProtocolError, fmt.Sprintf("unknown opcode %d", h.op))
	}
	return h, nil
}

// frame reads frames up to the next data frame, handling control frames
// on the way.
func (f *frameReader) frame() (header, error) {
	for {
		if f.err != nil {
			return header{}, f.err
		}
		h, err := f.header()
		if err != nil {
			return header{}, err
		}
		if h.op < opClose {
			return h, nil
		}
		if err := f.control(h); err != nil {
			return header{}, err
		}
	}
}

// control handles a ping (answered with a pong), pong (ignored) or close
// frame (answered with a close frame unless one was sent, then the socket
// is closed and reads return CloseError).
func (f *frameReader) control(h header) error {
	br := f.c.br
	p, err := br.Peek(int(h.length))
	if err != nil {
		return f.setErr(err)
	}
	mask(p, h.key, 0)
	switch h.op {
	case opPing:
		err := f.c.writeControl(opPong, p)
		_, _ = br.Discard(len(p))
		if err != nil && !errors.Is(err, ErrClosed) {
			f.c.CloseNow()
			return f.setErr(err)
		}
		return nil
	case opPong:
		_, _ = br.Discard(len(p))
		return nil
	}
	ce := CloseError{Code: StatusNoStatusRcvd}
	if len(p) == 1 {
		return f.fail(StatusProtocolError, "close frame payload of 1 byte")
	}
	if len(p) >= 2 {
		ce = CloseError{Code: StatusCode(binary.BigEndian.Uint16(p)), Reason: string(p[2:])}
		if !validWireCode(ce.Code) {
			return f.fail(StatusProtocolError, fmt.Sprintf("invalid close code %d", ce.Code))
		}
	}
	_, _ = br.Discard(len(p))
	_ = f.c.writeClose(ce.Code, ce.Reason) // ErrClosed when ours went first
	f.c.CloseNow()
	f.err = ce
	return ce
}

// validWireCode reports whether a peer may send code in a close frame.
func validWireCode(code StatusCode) bool {
	switch code {
	case 1004, StatusNoStatusRcvd, 1006, 1015:
		return false
	}
	return code >= 1000 && code <= 1014 || code >= 3000 && code <= 4999
}

// start makes h the current data frame.
func (f *frameReader) start(h header) {
	f.remaining, f.fin, f.key, f.pos = h.length, h.fin, h.key, 0
}

// next starts the next message, skipping what is left of the current one.
func (f *frameReader) next() error {
	if err := f.skip(); err != nil {
		return err
	}
	h, err := f.frame()
	if err != nil {
		return err
	}
	if h.op == opContinuation {
		return f.fail(StatusProtocolError, "continuation frame outside a message")
	}
	f.start(h)
	f.total = 0
	return nil
}

// skip discards the rest of the current message.
func (f *frameReader) skip() error {
	var b [256]byte
	for {
		_, err := f.Read(b[:])
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Read reads the current message's payload, unmasked; io.EOF at its end.
// A message beyond the read limit fails the connection with 1009.
func (f *frameReader) Read(p []byte) (int, error) {
	for f.remaining == 0 {
		if f.err != nil {
			return 0, f.err
		}
		if f.fin {
			return 0, io.EOF
		}
		h, err := f.frame()
		if err != nil {
			return 0, err
		}
		if h.op != opContinuation {
			return 0, f.fail(StatusProtocolError, "new message inside a fragmented one")
		}
		f.start(h)
	}
	if f.err != nil {
		return 0, f.err
	}
	left := f.c.readLimit - f.total
	if left <= 0 {
		return 0, f.fail(StatusMessageTooBig, fmt.Sprintf("read limited at %d bytes", f.c.readLimit))
	}
	if int64(len(p)) > min(f.remaining, left) {
		p = p[:min(f.remaining, left)]
	}
	n, err := f.c.br.Read(p)
	f.pos = mask(p[:n], f.key, f.pos)
	f.remaining -= int64(n)
	f.total += int64(n)
	if err != nil {
		return n, f.setErr(err)
	}
	return n, nil
}

// drain reads and drops frames until the peer's close frame (or an
// error), for Close.
func (f *frameReader) drain() {
	for f.err == nil {
		if f.remaining > 0 {
			n, err := f.c.br.Discard(int(min(f.remaining, 1<<30)))
			f.remaining -= int64(n)
			if err != nil {
				f.setErr(err)
				return
			}
			continue
		}
		h, err := f.frame()
		if err != nil {
			return
		}
		f.start(h)
	}
}

// mask XORs b with key starting at key position pos (§5.3) and returns
// the position after b.
func mask(b []byte, key [4]byte, pos int) int {
	if len(b) >= 16 {
		k := uint32(key[pos&3]) | uint32(key[(pos+1)&3])<<8 | uint32(key[(pos+2)&3])<<16 | uint32(key[(pos+3)&3])<<24
		k64 := uint64(k)<<32 | uint64(k)
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= key[pos&3]
		pos++
	}
	return pos & 3
}
