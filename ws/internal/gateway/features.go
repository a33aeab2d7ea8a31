package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/typing"
)

// The chat features' STOMP destinations:
//
//	SUBSCRIBE /user/queue/notifications     the session user's personal notifications
//	SEND      /pub/chat/room/{id}/read      {"seq":N}: move the read position (members)
//	SEND      /pub/chat/room/{id}/typing    {} or {"typing":false}: TYPING event (members)
//
// and CONNECT with chatRoomId marks that room read up to its latest message.
const (
	// NotificationsDestination delivers every notification of the session's
	// user, from any node (Spring's user-destination convention).
	NotificationsDestination = "/user/queue/notifications"
	// roomPubPrefix starts the per-room SEND destinations.
	roomPubPrefix = "/pub/chat/room/"
)

// ReadMarker moves read positions; readstate.Store implements it. Entering
// is the CONNECT room's move to its latest message, made to ride in the
// session's registration (markEntered).
type ReadMarker interface {
	MarkRead(ctx context.Context, roomID, userID, seq int64) (readstate.Result, error)
	Entering(roomID, userID int64) *readstate.Entry
}

// Typist announces typing, rate-limited; typing.Store implements it.
type Typist interface {
	Typing(ctx context.Context, roomID, userID int64, typing bool) (sent bool, err error)
}

var (
	_ ReadMarker = (*readstate.Store)(nil)
	_ Typist     = (*typing.Store)(nil)
)

// onFeatureSend handles SEND to a room's read and typing destinations.
// handled is false for any other destination (and when the feature is not
// wired), which onSend then refuses or serves.
func (c *conn) onFeatureSend(f *stomp.Frame) (handled bool, err error) {
	rest, ok := strings.CutPrefix(f.Value("destination"), roomPubPrefix)
	if !ok {
		return false, nil
	}
	idPart, action, ok := strings.Cut(rest, "/")
	if !ok {
		return false, nil
	}
	id, ok := wire.ParseID(idPart)
	if !ok {
		return false, nil
	}
	switch {
	case action == "read" && c.srv.reads != nil:
		return true, c.onRead(id, f.Body)
	case action == "typing" && c.srv.typist != nil:
		return true, c.onTyping(id, f.Body)
	}
	return false, nil
}

// onRead moves the session user's read position in room: body {"seq":N},
// N >= 0 (capped at the room's latest seq; never backwards).
func (c *conn) onRead(roomID int64, body []byte) error {
	var req struct {
		Seq *int64 `json:"seq"`
	}
	if err := decodeOne(body, &req); err != nil || req.Seq == nil || *req.Seq < 0 {
		return badRequest(`body must be JSON like {"seq":17} with a non-negative seq`)
	}
	ctx, cancel := c.srv.redisCtx()
	defer cancel()
	_, err := c.srv.reads.MarkRead(ctx, roomID, c.ident.UserID, *req.Seq)
	return c.featureErr("mark read", roomID, err)
}

// onTyping announces that the session user is typing in room (body empty
// or {"typing":true}) or stopped ({"typing":false}). Beyond the rate limit
// the event is dropped silently; a requested RECEIPT is still sent.
func (c *conn) onTyping(roomID int64, body []byte) error {
	req := struct {
		Typing *bool `json:"typing"`
	}{}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeOne(body, &req); err != nil {
			return badRequest(`body must be empty or JSON like {"typing":false}`)
		}
	}
	ctx, cancel := c.srv.redisCtx()
	defer cancel()
	_, err := c.srv.typist.Typing(ctx, roomID, c.ident.UserID, req.Typing == nil || *req.Typing)
	return c.featureErr("announce typing", roomID, err)
}

// featureErr turns a read-state or typing error into the gateway's.
func (c *conn) featureErr(what string, roomID int64, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, readstate.ErrNotMember), errors.Is(err, readstate.ErrRoomNotFound), errors.Is(err, typing.ErrNotMember):
		return fmt.Errorf("%w: not a member of room %d", errForbidden, roomID)
	case errors.Is(err, readstate.ErrBadSeq):
		return badRequest("%s", err.Error())
	}
	c.log().Warn(what, "room", roomID, "err", err)
	return errUnavailable
}

// entering prepares markEntered's read move to ride in the registration
// of the session entering roomID; none without read state or a room.
func (c *conn) entering(roomID, userID int64) (*readstate.Entry, []registry.Rider) {
	if c.srv.reads == nil || roomID == 0 {
		return nil, nil
	}
	e := c.srv.reads.Entering(roomID, userID)
	return e, []registry.Rider{e}
}

// markEntered marks the CONNECT room read up to its latest message, as the
// seed's connectToChatRoom implied; it announces READ when that moved the
// position. The move rode in the registration (entering); this reads its
// answer and sends the UNREAD note when it moved. A failure is logged: the
// session is established all the same.
func (c *conn) markEntered(ctx context.Context, e *readstate.Entry) {
	if e == nil {
		return
	}
	if _, err := e.Finish(ctx); err != nil {
		c.log().Warn("mark room read at CONNECT", "room", c.roomID, "err", err)
	}
}

// mayWatch checks that the session may subscribe to roomID's destinations;
// roomID 0 is the user's own notifications, open to every session.
func (c *conn) mayWatch(ctx context.Context, roomID int64) error {
	if roomID == 0 || roomID == c.roomID {
		return nil // the CONNECT room's membership was checked at CONNECT
	}
	return c.requireMember(ctx, roomID, c.ident.UserID)
}

// ownTyping is what a subscription skips: on a room's events destination,
// the TYPING events of the session's own user (any of their sessions), so
// typing reaches only the others. Nil for other destinations.
func (c *conn) ownTyping(roomID int64, channel string) []byte {
	if roomID == 0 || channel != c.srv.keys.RoomEvents(roomID) {
		return nil
	}
	return wire.TypingPrefix(roomID, c.ident.UserID)
}

// decodeOne decodes exactly one JSON object from body.
func decodeOne(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one JSON value")
	}
	return nil
}
