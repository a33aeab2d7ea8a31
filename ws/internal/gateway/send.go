package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// SendDestination is where clients publish chat messages (the seed's /pub
// application prefix).
const SendDestination = "/pub/send-message"

// onSend publishes a chat message through the shared send path. The body is
// the seed's JSON; unknown fields are ignored, but sendId, when present,
// must be the session's user, and chatRoomId defaults to the CONNECT room.
func (c *conn) onSend(f *stomp.Frame) error {
	if handled, err := c.onFeatureSend(f); handled {
		return err
	}
	if f.Value("destination") != SendDestination {
		// The destination is not quoted: a client may put anything there,
		// a token too, and the error's text is logged.
		return fmt.Errorf("%w (send to %s)", errUnknownDestination, SendDestination)
	}
	req, err := parseSendBody(f.Body, c.ident.UserID, c.roomID)
	if err != nil {
		return err
	}
	ctx, cancel := c.srv.redisCtx()
	defer cancel()
	if _, _, err := c.srv.sender.Send(ctx, req.ChatRoomID, c.ident.UserID, req.RcvID, req.Message); err != nil {
		if isDomain(err) {
			return err
		}
		c.log().Warn("send message", "err", err)
		return errUnavailable
	}
	c.srv.published.Add(1)
	return nil
}

// parseSendBody decodes a SEND body for user, whose CONNECT named
// defaultRoom (0 for none). It returns errBadRequest or errIdentity errors
// whose texts never quote the body. FuzzSendBody holds it to that.
func parseSendBody(body []byte, user, defaultRoom int64) (wire.SendRequest, error) {
	req, ok := decodeSendFast(body)
	if !ok {
		var err error
		if req, err = decodeSendJSON(body); err != nil {
			return req, err
		}
	}
	if req.SendID != 0 && req.SendID != user {
		return req, errIdentity
	}
	if req.ChatRoomID == 0 {
		req.ChatRoomID = defaultRoom
	}
	if req.ChatRoomID <= 0 || req.RcvID < 0 {
		return req, badRequest("chatRoomId must be a positive integer (or CONNECT with chatRoomId)")
	}
	return req, nil
}

// decodeSendJSON decodes a SEND body with encoding/json: one JSON value,
// white space around it, valid UTF-8 with no lone surrogate escapes.
func decodeSendJSON(body []byte) (wire.SendRequest, error) {
	var req wire.SendRequest
	// encoding/json would replace these with U+FFFD and store altered
	// text; the fast path never accepts them (it falls back to here).
	if !wire.ValidJSONText(body) {
		return req, badRequest("body must be UTF-8 without unpaired surrogate escapes")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return req, badRequest("body must be JSON like {\"chatRoomId\":2,\"message\":\"hi\"}")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, badRequest("body must hold one JSON object")
	}
	return req, nil
}

func limitErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errLimit, fmt.Sprintf(format, args...))
}
