package gateway

import (
	"errors"
	"fmt"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/wsconn"
)

// Sentinel errors of the gateway; each ends the connection with an ERROR
// frame whose message header is the error's text.
var (
	// errNotConnected: a frame other than CONNECT/STOMP came first.
	errNotConnected = errors.New("expected CONNECT or STOMP first")
	// errAlreadyConnected: a second CONNECT on one connection.
	errAlreadyConnected = errors.New("already connected")
	// errUnknownDestination: SUBSCRIBE or SEND to a destination we do not serve.
	errUnknownDestination = errors.New("unknown destination")
	// errForbidden: the user may not subscribe or send there.
	errForbidden = errors.New("forbidden")
	// errIdentity: an id in a header or body differs from the token's user.
	errIdentity = errors.New("sendId does not match the authenticated user")
	// errBadRequest: a frame is well-formed STOMP but its content is wrong.
	errBadRequest = errors.New("bad request")
	// errLimit: a configured bound was exceeded.
	errLimit = errors.New("limit exceeded")
	// errRateLimited: SEND frames came faster than Config.SendRate allows.
	errRateLimited = errors.New("rate limit exceeded")
	// errConnectTimeout: CONNECT did not succeed within Config.ConnectTimeout.
	errConnectTimeout = errors.New("timed out waiting for CONNECT")
	// errTokenExpired: the CONNECT token's exp passed during the session.
	errTokenExpired = errors.New("token expired")
	// errUnavailable: a backing service (Redis) failed.
	errUnavailable = errors.New("service unavailable, try again")
	// errMessageTooLarge: one WebSocket message exceeded the read limit
	// (16 x MaxFrameBytes).
	errMessageTooLarge = errors.New("message too large")
	// errKicked: the session was ended from outside (API, revoke, shutdown).
	errKicked = errors.New("session ended")
)

// problem is what an error turns into on the wire.
type problem struct {
	message string // ERROR message header
	detail  string // ERROR body (text/plain)
	code    wsconn.StatusCode
	// kind is the low-cardinality class of the error, the reason label of
	// the error-disconnect metric (see Stats).
	kind string
}

// describe maps any error reaching the connection to its ERROR frame and
// close code. It is the one place where errors become STOMP.
func describe(err error) problem {
	var se *stomp.Error
	switch {
	case errors.As(err, &se):
		return problem{"malformed frame: " + se.Msg, se.Detail, wsconn.StatusProtocolError, "malformed"}
	case errors.Is(err, errMessageTooLarge):
		return problem{"malformed frame: " + err.Error(), "", wsconn.StatusMessageTooBig, "malformed"}
	case errors.Is(err, auth.ErrMissingToken), errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrExpiredToken):
		return problem{"authentication failed: " + err.Error(), "", wsconn.StatusPolicyViolation, "auth"}
	case errors.Is(err, errIdentity), errors.Is(err, errForbidden):
		return problem{err.Error(), "", wsconn.StatusPolicyViolation, "forbidden"}
	case errors.Is(err, messages.ErrNotMember), errors.Is(err, messages.ErrRoomNotFound):
		return problem{"forbidden: not a member of the room", "", wsconn.StatusPolicyViolation, "forbidden"}
	case errors.Is(err, messages.ErrEmpty), errors.Is(err, messages.ErrTooLong),
		errors.Is(err, messages.ErrInvalidText), errors.Is(err, messages.ErrBadReceiver):
		return problem{err.Error(), "", wsconn.StatusPolicyViolation, "bad-message"}
	case errors.Is(err, errLimit), errors.Is(err, errRateLimited), errors.Is(err, errTokenExpired):
		return problem{err.Error(), "", wsconn.StatusPolicyViolation, limitKind(err)}
	case errors.Is(err, errKicked):
		return problem{err.Error(), "", wsconn.StatusNormalClosure, "kicked"}
	case errors.Is(err, errUnavailable):
		return problem{errUnavailable.Error(), "", wsconn.StatusTryAgainLater, "unavailable"}
	case errors.Is(err, errNotConnected), errors.Is(err, errAlreadyConnected),
		errors.Is(err, errUnknownDestination), errors.Is(err, errBadRequest):
		return problem{err.Error(), "", wsconn.StatusProtocolError, "protocol"}
	}
	return problem{"internal error", "", wsconn.StatusInternalError, "internal"}
}

// limitKind tells the configured bounds apart for the metric's reason label.
func limitKind(err error) string {
	switch {
	case errors.Is(err, errRateLimited):
		return "rate-limited"
	case errors.Is(err, errTokenExpired):
		return "token-expired"
	}
	return "limit"
}

// badRequest wraps errBadRequest with a client-safe detail.
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// isDomain reports whether err is a send-path error meant for the client
// (as opposed to a Redis failure).
func isDomain(err error) bool {
	for _, e := range []error{messages.ErrNotMember, messages.ErrRoomNotFound, messages.ErrEmpty,
		messages.ErrTooLong, messages.ErrInvalidText, messages.ErrBadReceiver} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
