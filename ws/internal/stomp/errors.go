package stomp

import "strconv"

// Error is a decoding error. Msg is a short, fixed, client-safe text meant for
// the "message" header of the ERROR frame a server answers with; Detail says
// more for logs and may quote (truncated) client input.
//
// Every error the Decoder reports itself is an *Error, comparable with
// errors.Is against the Err* sentinels below (which match on Msg).
type Error struct {
	Msg    string
	Detail string
}

// Error returns "stomp: Msg" or "stomp: Msg: Detail".
func (e *Error) Error() string {
	if e.Detail == "" {
		return "stomp: " + e.Msg
	}
	return "stomp: " + e.Msg + ": " + e.Detail
}

// Is reports whether target is an *Error with the same Msg and no Detail, so
// that errors.Is(err, ErrFrameTooLarge) matches any frame-too-large error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Detail == "" && t.Msg == e.Msg
}

// Sentinels for errors.Is; decode errors carry the same Msg plus a Detail.
var (
	// ErrUnknownCommand: the command line is not a STOMP command (commands
	// are case-sensitive).
	ErrUnknownCommand = &Error{Msg: "unknown command"}
	// ErrMalformedHeader: a header line has no colon, an empty name, a NUL
	// or invalid UTF-8.
	ErrMalformedHeader = &Error{Msg: "malformed header"}
	// ErrInvalidEscape: a header holds a backslash sequence the frame's
	// version does not define, or ends in a lone backslash.
	ErrInvalidEscape = &Error{Msg: "invalid header escape"}
	// ErrInvalidContentLength: content-length is not a non-negative decimal
	// integer.
	ErrInvalidContentLength = &Error{Msg: "invalid content-length"}
	// ErrContentLengthMismatch: the byte after content-length body bytes is
	// not the terminating NUL.
	ErrContentLengthMismatch = &Error{Msg: "content-length does not match body"}
	// ErrUnexpectedBody: a frame other than SEND, MESSAGE or ERROR has a
	// non-empty body.
	ErrUnexpectedBody = &Error{Msg: "frame must not have a body"}
	// ErrFrameTooLarge: the frame exceeds Limits.MaxFrameBytes, or declares
	// a content-length that would make it do so.
	ErrFrameTooLarge = &Error{Msg: "frame too large"}
	// ErrTooManyHeaders: the frame has more than Limits.MaxHeaders headers.
	ErrTooManyHeaders = &Error{Msg: "too many headers"}
	// ErrHeaderTooLong: a header line exceeds Limits.MaxHeaderBytes.
	ErrHeaderTooLong = &Error{Msg: "header too long"}
)

// errorf returns a new *Error with sentinel's Msg and the given Detail.
func errorf(sentinel *Error, detail string) *Error {
	return &Error{Msg: sentinel.Msg, Detail: detail}
}

// quote renders client input for a Detail, cut to a readable length.
func quote(b []byte) string {
	const max = 32
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}
