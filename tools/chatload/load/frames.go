package load

import (
	"bytes"
	"errors"
	"math"
	"strconv"
)

// Client frames are rendered with the headers in the order @stomp/stompjs 7
// writes them. The tool has its own small encoder (appendFrame) so that it
// does not depend on the ws module; ws/internal/scaleout checks that the
// server's codec reads these frames as meant and that NextFrame reads the
// server's.

// header is one STOMP header of a client frame.
type header struct{ key, value string }

// appendFrame appends a STOMP 1.2 client frame: the command, the headers
// (escaped as 1.2 requires, except in CONNECT), a content-length header when
// body is non-empty, a blank line, the body and the NUL.
func appendFrame(dst []byte, command string, headers []header, body []byte) []byte {
	dst = append(dst, command...)
	dst = append(dst, '\n')
	raw := command == "CONNECT"
	for _, h := range headers {
		dst = appendEscaped(dst, h.key, raw)
		dst = append(dst, ':')
		dst = appendEscaped(dst, h.value, raw)
		dst = append(dst, '\n')
	}
	if len(body) > 0 {
		dst = append(dst, "content-length:"...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	dst = append(dst, body...)
	return append(dst, 0)
}

// appendEscaped appends v with backslash, LF, CR and colon escaped as
// STOMP 1.2 requires, or unchanged when raw.
func appendEscaped(dst []byte, v string, raw bool) []byte {
	if raw {
		return append(dst, v...)
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case ':':
			dst = append(dst, '\\', 'c')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// ConnectFrame renders the CONNECT frame of the seed's React app:
// Authorization, chatRoomId, sendId, rcvId (the last three only when
// non-zero), accept-version and heart-beat. heartBeat is in milliseconds for
// both directions (stompjs' default is 10000).
func ConnectFrame(token string, roomID, sendID, rcvID int64, heartBeatMS int) []byte {
	hs := []header{{"Authorization", "Bearer " + token}}
	for _, h := range []struct {
		k string
		v int64
	}{{"chatRoomId", roomID}, {"sendId", sendID}, {"rcvId", rcvID}} {
		if h.v != 0 {
			hs = append(hs, header{h.k, strconv.FormatInt(h.v, 10)})
		}
	}
	hb := strconv.Itoa(heartBeatMS)
	hs = append(hs, header{"accept-version", "1.2,1.1,1.0"}, header{"heart-beat", hb + "," + hb})
	return appendFrame(nil, "CONNECT", hs, nil)
}

// SubscribeFrame renders SUBSCRIBE as stompjs does for
// client.subscribe(destination, cb, {receipt}): receipt (when non-empty), id
// and destination.
func SubscribeFrame(id, destination, receipt string) []byte {
	var hs []header
	if receipt != "" {
		hs = append(hs, header{"receipt", receipt})
	}
	hs = append(hs, header{"id", id}, header{"destination", destination})
	return appendFrame(nil, "SUBSCRIBE", hs, nil)
}

// RoomDestination is the subscription destination of a room's chat messages.
func RoomDestination(roomID int64) string {
	return "/sub/chat/room/" + strconv.FormatInt(roomID, 10)
}

// SendDestination is where the seed publishes chat messages.
const SendDestination = "/pub/send-message"

// SendShape is what a Sender puts into each SEND besides destination and
// content-length. The zero value is chatload's own shape: stompjs'
// client.publish with no extra headers and the stamp text as the message.
type SendShape struct {
	// ContentType, when set, is sent as the content-type header (an
	// independent STOMP client sends application/json).
	ContentType string
	// Receipt asks for a RECEIPT of every SEND (receipt:m-<message number>).
	Receipt bool
	// Marker writes the message text as "~<stamp>~xxxx…" (Stamp.AppendMarker)
	// instead of "<stamp> xxxx…".
	Marker bool
}

// Sender renders SEND frames for one publishing goroutine, reusing its
// buffers: it does not allocate once warmed up (one string per frame with
// SendShape.Receipt). Not safe for concurrent use.
type Sender struct {
	shape   SendShape
	headers []header
	receipt int // index of the receipt header in headers, or -1
	body    []byte
	out     []byte
}

// NewSender returns a Sender of frames of the given shape.
func NewSender(shape SendShape) *Sender {
	s := &Sender{shape: shape, receipt: -1}
	s.headers = []header{{"destination", SendDestination}}
	if shape.ContentType != "" {
		s.headers = append(s.headers, header{"content-type", shape.ContentType})
	}
	if shape.Receipt {
		s.receipt = len(s.headers)
		s.headers = append(s.headers, header{key: "receipt"})
	}
	return s
}

// SendReceiptPrefix starts the receipt id of every SEND that asks for one.
const SendReceiptPrefix = "m-"

// Frame renders SEND /pub/send-message with the seed's JSON body
// {"chatRoomId","sendId","rcvId","message"} and a content-length header, as
// stompjs' client.publish does (headers in its order: destination, then
// the shape's content-type and receipt, then content-length). The message
// text is the Stamp's (ASCII without quotes or backslashes, so it needs no
// JSON escaping). The result is valid until the next call.
func (s *Sender) Frame(roomID, sendID, rcvID int64, st Stamp, payload int) []byte {
	b := append(s.body[:0], `{"chatRoomId":`...)
	b = strconv.AppendInt(b, roomID, 10)
	b = append(b, `,"sendId":`...)
	b = strconv.AppendInt(b, sendID, 10)
	b = append(b, `,"rcvId":`...)
	b = strconv.AppendInt(b, rcvID, 10)
	b = append(b, `,"message":"`...)
	if s.shape.Marker {
		b = st.AppendMarker(b, payload)
	} else {
		b = st.Append(b, payload)
	}
	b = append(b, `"}`...)
	s.body = b
	if s.receipt >= 0 {
		s.headers[s.receipt].value = SendReceiptPrefix + strconv.FormatUint(st.N, 10)
	}
	s.out = appendFrame(s.out[:0], "SEND", s.headers, b)
	return s.out
}

// FrameView is one STOMP frame inside a read buffer. Its slices alias the
// buffer and are valid until the buffer is reused; header values are raw
// (still escaped), which is enough for the numeric and id headers a load
// client reads.
type FrameView struct {
	Command []byte
	headers []byte // header lines, each ending in LF (CR LF allowed)
	Body    []byte
}

// Header returns the raw value of the first header named name.
func (f *FrameView) Header(name string) ([]byte, bool) {
	h := f.headers
	for len(h) > 0 {
		line := h
		if i := bytes.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			h = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) > len(name) && line[len(name)] == ':' && string(line[:len(name)]) == name {
			return line[len(name)+1:], true
		}
	}
	return nil, false
}

// Is reports whether the frame's command is cmd.
func (f *FrameView) Is(cmd string) bool { return string(f.Command) == cmd }

// ErrBadFrame reports input that is not a STOMP frame stream.
var ErrBadFrame = errors.New("load: malformed STOMP frame from server")

// NextFrame finds the first complete frame in b, after any heart-beat EOLs.
// It returns the frame and the bytes consumed; ok is false when b ends
// inside a frame (n then counts only the heart-beats skipped, and the caller
// keeps b[n:] for the next read). It does not allocate.
func NextFrame(b []byte) (f FrameView, n int, ok bool, err error) {
	for n < len(b) && (b[n] == '\n' || b[n] == '\r') {
		n++
	}
	rest := b[n:]
	if len(rest) == 0 {
		return f, n, false, nil
	}
	eol := bytes.IndexByte(rest, '\n')
	if eol < 0 {
		return f, n, false, nil
	}
	f.Command = bytes.TrimSuffix(rest[:eol], []byte{'\r'})
	hstart := eol + 1
	// The headers end at the first empty line.
	p := hstart
	for {
		i := bytes.IndexByte(rest[p:], '\n')
		if i < 0 {
			return FrameView{}, n, false, nil
		}
		line := rest[p : p+i]
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			f.headers = rest[hstart:p]
			p += i + 1
			break
		}
		p += i + 1
	}
	if v, has := f.Header("content-length"); has {
		cl64, valid := parseDigits(v)
		if !valid || cl64 > 1<<30 {
			return FrameView{}, n, false, ErrBadFrame
		}
		cl := int(cl64)
		if p+cl >= len(rest) {
			return FrameView{}, n, false, nil
		}
		if rest[p+cl] != 0 {
			return FrameView{}, n, false, ErrBadFrame
		}
		f.Body = rest[p : p+cl]
		return f, n + p + cl + 1, true, nil
	}
	i := bytes.IndexByte(rest[p:], 0)
	if i < 0 {
		return FrameView{}, n, false, nil
	}
	f.Body = rest[p : p+i]
	return f, n + p + i + 1, true, nil
}

// parseDigits parses a non-empty run of decimal digits that fits an int64.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}
