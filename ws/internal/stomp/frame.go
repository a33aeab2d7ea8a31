// Package stomp encodes and decodes STOMP 1.0, 1.1 and 1.2 frames as they
// travel over a WebSocket: a Decoder turns a byte stream (split and merged
// arbitrarily by the transport) into Frames, and AppendFrame renders a Frame
// in one version's wire form. The package does no I/O and keeps no session
// state beyond what framing needs.
package stomp

import "unsafe"

// Protocol versions, as they appear in accept-version and version headers.
const (
	V10 = "1.0"
	V11 = "1.1"
	V12 = "1.2"
)

// Commands understood by the codec. Client commands first, then server ones.
const (
	CmdConnect     = "CONNECT"
	CmdStomp       = "STOMP"
	CmdSend        = "SEND"
	CmdSubscribe   = "SUBSCRIBE"
	CmdUnsubscribe = "UNSUBSCRIBE"
	CmdAck         = "ACK"
	CmdNack        = "NACK"
	CmdBegin       = "BEGIN"
	CmdCommit      = "COMMIT"
	CmdAbort       = "ABORT"
	CmdDisconnect  = "DISCONNECT"
	CmdConnected   = "CONNECTED"
	CmdMessage     = "MESSAGE"
	CmdReceipt     = "RECEIPT"
	CmdError       = "ERROR"
)

// maxCommandLen is the length of the longest command, UNSUBSCRIBE.
const maxCommandLen = len(CmdUnsubscribe)

// command returns the canonical string for a command line, or "" when the
// line is no known command. It does not allocate.
func command(line []byte) string {
	switch string(line) {
	case CmdConnect:
		return CmdConnect
	case CmdStomp:
		return CmdStomp
	case CmdSend:
		return CmdSend
	case CmdSubscribe:
		return CmdSubscribe
	case CmdUnsubscribe:
		return CmdUnsubscribe
	case CmdAck:
		return CmdAck
	case CmdNack:
		return CmdNack
	case CmdBegin:
		return CmdBegin
	case CmdCommit:
		return CmdCommit
	case CmdAbort:
		return CmdAbort
	case CmdDisconnect:
		return CmdDisconnect
	case CmdConnected:
		return CmdConnected
	case CmdMessage:
		return CmdMessage
	case CmdReceipt:
		return CmdReceipt
	case CmdError:
		return CmdError
	}
	return ""
}

// HasBody reports whether frames of command cmd may carry a body: only SEND,
// MESSAGE and ERROR do.
func HasBody(cmd string) bool {
	return cmd == CmdSend || cmd == CmdMessage || cmd == CmdError
}

// rawHeaders reports whether cmd's headers are never escaped, whatever the
// version: CONNECT and CONNECTED stay readable by STOMP 1.0 peers.
func rawHeaders(cmd string) bool {
	return cmd == CmdConnect || cmd == CmdConnected
}

// Header is one header line of a frame, already unescaped.
type Header struct{ Key, Value string }

// Frame is one STOMP frame. Headers keep wire order; repeated keys are kept,
// and Get returns the first, which is the one STOMP says wins. A Frame from a
// Decoder owns all its memory and may be retained and modified freely. Frame
// methods are not safe for concurrent use with writers of the same Frame.
type Frame struct {
	Command string
	Headers []Header
	Body    []byte

	// arena is the size of the one block a Decoder allocated for the body
	// and the header text (0 for Frames made otherwise).
	arena int
}

// Size returns about how many bytes the Frame keeps in memory: the Frame
// and its header array, and its body and header text. For a Frame from a
// Decoder that text is one block sized by the raw (escaped) header bytes,
// so it may exceed the unescaped values; Size counts the block. Callers
// holding many Frames (a transaction) bound them by it.
func (f *Frame) Size() int {
	text := len(f.Body)
	for _, h := range f.Headers {
		text += len(h.Key) + len(h.Value)
	}
	return int(unsafe.Sizeof(Frame{})) + cap(f.Headers)*int(unsafe.Sizeof(Header{})) + max(text, f.arena)
}

// Get returns the value of the first header named key (case-sensitive) and
// whether there was one.
func (f *Frame) Get(key string) (string, bool) {
	for i := range f.Headers {
		if f.Headers[i].Key == key {
			return f.Headers[i].Value, true
		}
	}
	return "", false
}

// Value returns the value of the first header named key, or "" when absent.
func (f *Frame) Value(key string) string {
	v, _ := f.Get(key)
	return v
}

// Set replaces the value of the first header named key, or appends the header
// when there is none. Later repeats of key are left alone.
func (f *Frame) Set(key, value string) {
	for i := range f.Headers {
		if f.Headers[i].Key == key {
			f.Headers[i].Value = value
			return
		}
	}
	f.Headers = append(f.Headers, Header{Key: key, Value: value})
}

// Default limits, used for zero (or negative) fields of Limits.
const (
	DefaultMaxFrameBytes  = 64 << 10
	DefaultMaxHeaders     = 64
	DefaultMaxHeaderBytes = 8 << 10
)

// Limits bound what a Decoder buffers and accepts. Zero or negative fields
// take the defaults.
type Limits struct {
	// MaxFrameBytes bounds a whole frame from the first byte of its command
	// to its terminating NUL, headers and body included (heart-beats before
	// and after it do not count). Default DefaultMaxFrameBytes (65536).
	MaxFrameBytes int
	// MaxHeaders bounds the number of header lines of a frame. Default
	// DefaultMaxHeaders (64).
	MaxHeaders int
	// MaxHeaderBytes bounds one header line, name, colon and escaped value,
	// not counting its EOL. Default DefaultMaxHeaderBytes (8192).
	MaxHeaderBytes int
}

// withDefaults returns l with zero or negative fields set to the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxFrameBytes <= 0 {
		l.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return l
}
