package stomp

import (
	"bytes"
	"math"
	"unicode/utf8"
)

// keepCap is the largest buffer capacity a Decoder keeps once it holds no
// unfinished frame; larger buffers are released so idle connections stay small.
const keepCap = 4 << 10

// state is where a Decoder is within the frame grammar.
type state uint8

const (
	stateIdle    state = iota // between frames, skipping heart-beat EOLs
	stateCommand              // reading the command line
	stateHeaders              // reading header lines up to the blank line
	stateBody                 // reading the body and its NUL
)

// span locates one raw header line as offsets from the frame's first byte:
// the name is [start, colon), the value is (colon, end).
type span struct{ start, colon, end int }

// Decoder turns a stream of bytes, split and merged arbitrarily by the
// transport, into Frames. The zero Decoder is ready to use, with default
// Limits and V12 escaping; NewDecoder sets other limits. A Decoder is not safe
// for concurrent use: it belongs to the one goroutine reading a connection.
type Decoder struct {
	lim Limits
	esc escaping
	buf []byte // input kept between calls: the unfinished frame, if any
	err error  // the first decode error; Decode keeps returning it

	// Progress through the frame in progress. off, pos, line and body index
	// the input of the running call, and buf between calls.
	state state
	off   int    // first byte of the frame, or of pending heart-beats
	pos   int    // every byte before pos has been scanned
	line  int    // first byte of the line being read
	body  int    // first body byte
	cmd   string // the frame's command, once read
	clen  int    // declared content-length, or -1
	hdrs  []span // header lines read so far
	text  int    // total bytes of header names and values read so far
}

// NewDecoder returns a Decoder enforcing l (zero fields take the defaults)
// and unescaping headers by STOMP 1.2 rules until SetVersion says otherwise.
func NewDecoder(l Limits) *Decoder {
	return &Decoder{lim: l.withDefaults()}
}

// SetVersion selects the header escaping rules (V10, V11 or V12; anything
// else means V12) for every frame completed after the call, including one
// already partly buffered. CONNECT and CONNECTED are never unescaped. Call it
// from emit or between Decode calls, e.g. once CONNECT has been negotiated.
func (d *Decoder) SetVersion(v string) { d.esc = escapingFor(v) }

// SetLimits replaces the limits (zero fields take the defaults), e.g. small
// before authentication and larger after. They apply from the next check on,
// to the frame in progress too; a content-length already accepted is not
// re-checked against a lower MaxFrameBytes until the frame completes.
func (d *Decoder) SetLimits(l Limits) { d.lim = l.withDefaults() }

// Buffered returns the number of input bytes held for an unfinished frame
// (or half a CRLF heart-beat) between Decode calls.
func (d *Decoder) Buffered() int { return len(d.buf) }

// Decode appends data to what is buffered and calls emit for every complete
// frame, in order. A partial frame stays buffered for the next call (data
// itself is not retained: the caller may reuse it). EOLs between frames are
// heart-beats and are skipped silently. Frames passed to emit own their memory.
//
// If emit returns an error, Decode stops and returns it; the frame was
// consumed and a later Decode continues after it. A decode error is an
// *Error; after one the Decoder drops its buffer and returns the same error
// from every later call. emit must not call Decode on the same Decoder.
func (d *Decoder) Decode(data []byte, emit func(*Frame) error) error {
	if d.err != nil {
		return d.err
	}
	if d.lim.MaxFrameBytes == 0 {
		d.lim = d.lim.withDefaults()
	}
	in, kept := data, len(d.buf) > 0
	if kept {
		d.buf = append(d.buf, data...)
		in = d.buf
	}
	err := d.parse(in, emit)
	if d.err != nil {
		d.buf, d.hdrs = nil, nil
		return err
	}
	d.keep(in, kept)
	return err
}

// keep moves the unconsumed tail of in to the start of buf and rebases the
// scan offsets on it, so buf never holds bytes of finished frames, and
// releases a buffer grown by a large input once it holds little.
func (d *Decoder) keep(in []byte, kept bool) {
	rest := in[d.off:]
	switch {
	case len(rest) == 0 && cap(d.buf) > keepCap:
		d.buf = nil
	case len(rest) == 0:
		d.buf = d.buf[:0]
	case cap(d.buf) > keepCap && len(rest) <= keepCap/2:
		d.buf = append(make([]byte, 0, keepCap), rest...)
	case !kept:
		d.buf = append(d.buf[:0], rest...)
	case d.off > 0:
		d.buf = d.buf[:copy(d.buf, rest)]
	}
	d.pos -= d.off
	d.line -= d.off
	d.body -= d.off
	d.off = 0
}

// parse runs the state machine over in until it needs more input or fails.
func (d *Decoder) parse(in []byte, emit func(*Frame) error) error {
	for {
		var more bool
		var err error
		switch d.state {
		case stateIdle:
			more = d.skipHeartBeats(in)
		case stateCommand, stateHeaders:
			more, err = d.readLine(in)
		default:
			var f *Frame
			f, more, err = d.readBody(in)
			if f != nil {
				if err := emit(f); err != nil {
					return err
				}
			}
		}
		if err != nil {
			d.err = err
			return err
		}
		if more {
			return nil
		}
	}
}

// skipHeartBeats skips EOLs and starts a frame at the first other byte. It
// reports whether more input is needed first.
func (d *Decoder) skipHeartBeats(in []byte) (more bool) {
	p := d.pos
loop:
	for p < len(in) {
		switch {
		case in[p] == '\n':
			p++
		case in[p] == '\r' && p+1 == len(in):
			break loop // maybe half a CRLF
		case in[p] == '\r' && in[p+1] == '\n':
			p += 2
		default:
			d.off, d.pos, d.line = p, p, p
			d.state, d.clen, d.hdrs, d.text = stateCommand, -1, d.hdrs[:0], 0
			return false
		}
	}
	d.off, d.pos = p, p
	return true
}

// viewEnd bounds scanning to the bytes the frame in progress may occupy.
func (d *Decoder) viewEnd(in []byte) int {
	if len(in)-d.off <= d.lim.MaxFrameBytes {
		return len(in)
	}
	return max(d.off+d.lim.MaxFrameBytes, d.pos)
}

// readLine reads the command line or one header line.
func (d *Decoder) readLine(in []byte) (more bool, err error) {
	end := d.viewEnd(in)
	i := bytes.IndexByte(in[d.pos:end], '\n')
	if i < 0 {
		d.pos = end
		return true, d.checkPartialLine(in)
	}
	e := d.pos + i
	d.pos = e + 1
	if e > d.line && in[e-1] == '\r' {
		e--
	}
	start := d.line
	d.line = d.pos
	if d.state == stateCommand {
		return false, d.commandLine(in[start:e])
	}
	return false, d.headerLine(in, start, e)
}

// checkPartialLine fails early on a line that cannot end well, so an attacker
// cannot make the Decoder buffer up to the frame limit for nothing. Each check
// holds for any longer prefix, so results do not depend on how input is split.
func (d *Decoder) checkPartialLine(in []byte) error {
	n := d.pos - d.line
	if n > 0 && in[d.pos-1] == '\r' {
		n-- // may be the first half of a CRLF
	}
	if d.state == stateCommand && n > maxCommandLen {
		return errorf(ErrUnknownCommand, quote(in[d.line:d.pos]))
	}
	if d.state == stateHeaders && n > d.lim.MaxHeaderBytes {
		return errorf(ErrHeaderTooLong, quote(in[d.line:d.pos]))
	}
	if len(in)-d.off >= d.lim.MaxFrameBytes {
		return errorf(ErrFrameTooLarge, "unfinished "+d.cmdName())
	}
	return nil
}

// cmdName names the frame in progress for error details.
func (d *Decoder) cmdName() string {
	if d.state == stateCommand {
		return "command line"
	}
	return d.cmd + " frame"
}

// commandLine checks the command line and moves on to the headers.
func (d *Decoder) commandLine(line []byte) error {
	d.cmd = command(line)
	if d.cmd == "" {
		return errorf(ErrUnknownCommand, quote(line))
	}
	d.state = stateHeaders
	return nil
}

// headerLine checks the header line in[start:end] and records it; an empty
// line ends the headers.
func (d *Decoder) headerLine(in []byte, start, end int) error {
	if start == end {
		return d.endHeaders()
	}
	line := in[start:end]
	switch {
	case len(line) > d.lim.MaxHeaderBytes:
		return errorf(ErrHeaderTooLong, quote(line))
	case len(d.hdrs) >= d.lim.MaxHeaders:
		return errorf(ErrTooManyHeaders, d.cmd+" frame")
	case bytes.IndexByte(line, 0) >= 0:
		return errorf(ErrMalformedHeader, "NUL in header")
	case !utf8.Valid(line):
		return errorf(ErrMalformedHeader, "invalid UTF-8 in header")
	}
	c := bytes.IndexByte(line, ':')
	switch {
	case c < 0:
		return errorf(ErrMalformedHeader, "missing colon in "+quote(line))
	case c == 0:
		return errorf(ErrMalformedHeader, "empty header name")
	}
	d.hdrs = append(d.hdrs, span{start - d.off, start + c - d.off, end - d.off})
	d.text += len(line) - 1
	// An escaped name or value never reads as content-length or as digits,
	// so the raw bytes decide.
	if d.clen < 0 && string(line[:c]) == "content-length" {
		n, ok := parseLength(line[c+1:])
		if !ok {
			return errorf(ErrInvalidContentLength, quote(line[c+1:]))
		}
		d.clen = n
	}
	return nil
}

// endHeaders checks what the headers say about the body and moves on to it.
func (d *Decoder) endHeaders() error {
	d.state, d.body = stateBody, d.pos
	if d.clen > 0 && !HasBody(d.cmd) {
		return errorf(ErrUnexpectedBody, d.cmd+" frame")
	}
	if d.clen >= 0 && d.clen > d.lim.MaxFrameBytes-(d.body-d.off)-1 {
		return errorf(ErrFrameTooLarge, "declared content-length")
	}
	return nil
}

// parseLength parses a non-negative decimal integer, saturating at MaxInt.
func parseLength(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxInt-9)/10 {
			n = math.MaxInt
		} else {
			n = n*10 + int(c-'0')
		}
	}
	return n, true
}

// readBody finds the end of the body and builds the frame.
func (d *Decoder) readBody(in []byte) (f *Frame, more bool, err error) {
	if d.clen >= 0 {
		nul := d.body + d.clen
		if nul >= len(in) {
			d.pos = len(in)
			return nil, true, nil
		}
		if in[nul] != 0 {
			return nil, false, errorf(ErrContentLengthMismatch, d.cmd+" frame")
		}
		return d.finish(in, nul)
	}
	if !HasBody(d.cmd) {
		if d.body >= len(in) {
			return nil, true, nil
		}
		if in[d.body] != 0 {
			return nil, false, errorf(ErrUnexpectedBody, d.cmd+" frame")
		}
		return d.finish(in, d.body)
	}
	end := d.viewEnd(in)
	i := bytes.IndexByte(in[d.pos:end], 0)
	if i < 0 {
		d.pos = end
		if len(in)-d.off >= d.lim.MaxFrameBytes {
			return nil, false, errorf(ErrFrameTooLarge, "unfinished "+d.cmd+" body")
		}
		return nil, true, nil
	}
	return d.finish(in, d.pos+i)
}

// finish builds the frame ending with the NUL at in[nul] and returns to idle.
func (d *Decoder) finish(in []byte, nul int) (*Frame, bool, error) {
	if nul+1-d.off > d.lim.MaxFrameBytes {
		return nil, false, errorf(ErrFrameTooLarge, d.cmd+" frame")
	}
	f, err := d.build(in[d.off:], in[d.body:nul])
	if err != nil {
		return nil, false, err
	}
	d.state, d.pos = stateIdle, nul+1
	d.off, d.line, d.body = d.pos, d.pos, d.pos
	return f, false, nil
}
