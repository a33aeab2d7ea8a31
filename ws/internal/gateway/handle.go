package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// errStop ends the read loop without an error (after DISCONNECT).
var errStop = errors.New("stop reading")

// frameError carries the receipt of the frame that failed, so the ERROR
// frame can name it in receipt-id.
type frameError struct {
	err     error
	receipt string
}

func (e *frameError) Error() string { return e.err.Error() }
func (e *frameError) Unwrap() error { return e.err }

func receiptOf(err error) string {
	var fe *frameError
	if errors.As(err, &fe) {
		return fe.receipt
	}
	return ""
}

// handle processes one decoded frame in the read loop. Once the connection
// is closing it handles nothing more: errStop ends the read loop, and with
// it the rest of the WebSocket message being read.
func (c *conn) handle(f *stomp.Frame) error {
	if c.ending.Load() {
		return errStop
	}
	c.srv.framesIn.Add(1)
	c.srv.framesInBy[commandIndex(f.Command)].Add(1)
	err := c.dispatch(f)
	if err != nil && !errors.Is(err, errStop) {
		if r, ok := f.Get("receipt"); ok && f.Command != "CONNECT" && f.Command != "STOMP" {
			return &frameError{err: err, receipt: r}
		}
	}
	return err
}

func (c *conn) dispatch(f *stomp.Frame) error {
	if !c.connected {
		if f.Command != "CONNECT" && f.Command != "STOMP" {
			return errNotConnected
		}
		return c.onConnect(f)
	}
	if err := c.spend(f); err != nil {
		return err
	}
	var err error
	switch f.Command {
	case "CONNECT", "STOMP":
		return errAlreadyConnected
	case "SUBSCRIBE":
		err = c.onSubscribe(f)
	case "UNSUBSCRIBE":
		err = c.onUnsubscribe(f)
	case "SEND", "ACK", "NACK":
		if tx, ok := f.Get("transaction"); ok {
			err = c.inTransaction(tx, f)
		} else {
			err = c.apply(f)
		}
	case "BEGIN", "COMMIT", "ABORT":
		err = c.onTransaction(f)
	case "DISCONNECT":
		c.setEnd("disconnect")
		var last []byte
		if r, ok := f.Get("receipt"); ok {
			last = c.receiptFrame(r)
		}
		c.finish(last, 1000, "bye")
		return errStop
	default:
		return badRequest("%s is not a client command", f.Command)
	}
	if err != nil {
		return err
	}
	if r, ok := f.Get("receipt"); ok {
		c.enqueueNow(outItem{frame: c.receiptFrame(r)})
	}
	return nil
}

// apply runs SEND, ACK or NACK (directly or at COMMIT).
func (c *conn) apply(f *stomp.Frame) error {
	switch f.Command {
	case "SEND":
		return c.onSend(f)
	default:
		return c.onAck(f)
	}
}

func (c *conn) onConnect(f *stomp.Frame) error {
	version, ok := negotiate(f.Value("accept-version"))
	if !ok {
		c.version = stomp.V12
		return fmt.Errorf("%w: supported protocol versions are 1.0, 1.1, 1.2", errBadRequest)
	}
	c.version = version
	token := auth.BearerToken(f.Value("Authorization"))
	if token == "" {
		token = auth.BearerToken(f.Value("authorization"))
	}
	if token == "" {
		token = f.Value("passcode")
	}
	ident, err := c.srv.verifier.Verify(token)
	if err != nil {
		return err
	}
	sendID, err := optionalID(f, "sendId")
	if err != nil {
		return err
	}
	if sendID != 0 && sendID != ident.UserID {
		return errIdentity
	}
	roomID, err := optionalID(f, "chatRoomId")
	if err != nil {
		return err
	}
	rcvID, err := optionalID(f, "rcvId")
	if err != nil {
		return err
	}
	ctx, cancel := c.srv.redisCtx()
	defer cancel()
	cx, cy := parseHeartBeat(f.Value("heart-beat"))
	sx, sy := c.srv.cfg.HeartbeatOut, c.srv.cfg.HeartbeatIn
	if cy > 0 && sx > 0 {
		c.hbOut = max(sx, cy)
	}
	if cx > 0 && sy > 0 {
		// Capped: a client asking to beat once in weeks would otherwise
		// hold its socket that long in silence (readTimeout).
		c.hbIn = min(max(cx, sy), max(sy, c.srv.cfg.IdleTimeout/2))
	}
	c.id = newSessionID()
	c.lg = nil // log() adds the session from now on
	c.ident = ident
	c.roomID = roomID
	sess := registry.Session{ID: c.id, UserID: ident.UserID, RoomID: roomID, Node: c.srv.cfg.NodeID,
		ConnectedAt: wire.FormatTime(time.Now()), RemoteAddr: c.remoteAddr}
	c.sess = sess
	c.srv.remember(c)
	entry, riders := c.entering(roomID, ident.UserID)
	terms := registry.Terms{Member: true, Receiver: rcvID, Max: c.srv.cfg.MaxSessionsPerUser}
	if _, err := c.srv.sessions.RegisterCapped(ctx, sess, terms, riders...); err != nil {
		c.srv.forget(c)
		return c.refused(err, roomID)
	}
	c.srv.registered(c)
	c.connected = true
	c.connTimer.Stop()
	c.connTimer = nil // not needed any more; end checks
	c.dec.SetVersion(version)
	c.dec.SetLimits(c.srv.frameLimits())
	reply := &stomp.Frame{Command: "CONNECTED", Headers: []stomp.Header{
		{Key: "version", Value: version},
		{Key: "heart-beat", Value: ms(sx) + "," + ms(sy)},
		{Key: "server", Value: c.srv.cfg.ServerName},
		{Key: "session", Value: c.id},
		{Key: "user-name", Value: strconv.FormatInt(ident.UserID, 10)},
	}}
	c.enqueueNow(outItem{frame: stomp.AppendFrame(nil, reply, version)})
	if c.hbOut > 0 {
		c.lastWrite.Store(time.Now().UnixNano())
		c.beatEvery.Store(int64(c.hbOut))
		c.srv.startBeats()
	}
	c.markEntered(ctx, entry)
	c.startBudgets()
	if !ident.ExpiresAt.IsZero() {
		// No leeway here: the session ends when the token says it does.
		c.expiry = time.AfterFunc(time.Until(ident.ExpiresAt), c.expire)
	}
	c.debug("session connected", "user", ident.UserID, "room", roomID, "version", version)
	return nil
}

// refused answers a CONNECT whose registration failed: the registry
// checked, in this order, the CONNECT room's membership of the user and of
// rcvId (when it names someone else), then MaxSessionsPerUser.
func (c *conn) refused(err error, roomID int64) error {
	switch {
	case errors.Is(err, registry.ErrNotMember):
		return fmt.Errorf("%w: not a member of room %d", errForbidden, roomID)
	case errors.Is(err, registry.ErrReceiverNotMember):
		return fmt.Errorf("%w: rcvId is not a member of the room", errForbidden)
	case errors.Is(err, registry.ErrTooManySessions):
		return limitErr("at most %d concurrent sessions per user", c.srv.cfg.MaxSessionsPerUser)
	}
	c.log().Warn("register session", "err", err)
	return errUnavailable
}

func (c *conn) requireMember(ctx context.Context, roomID, userID int64) error {
	ok, err := c.srv.members.IsMember(ctx, roomID, userID)
	if err != nil {
		c.log().Warn("membership check", "err", err)
		return errUnavailable
	}
	if !ok {
		return fmt.Errorf("%w: not a member of room %d", errForbidden, roomID)
	}
	return nil
}

// negotiate picks the highest version offered; no header means 1.0.
func negotiate(accept string) (string, bool) {
	if accept == "" {
		return stomp.V10, true
	}
	best := ""
	for _, v := range strings.Split(accept, ",") {
		switch v = strings.TrimSpace(v); v {
		case stomp.V10, stomp.V11, stomp.V12:
			if v > best {
				best = v
			}
		}
	}
	return best, best != ""
}

func parseHeartBeat(v string) (cx, cy time.Duration) {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return 0, 0
	}
	x, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 31)
	y, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 31)
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	return time.Duration(x) * time.Millisecond, time.Duration(y) * time.Millisecond
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// optionalID parses a positive integer header (wire.ParseID, as REST
// parses ids); absent or empty means 0.
func optionalID(f *stomp.Frame, key string) (int64, error) {
	v, ok := f.Get(key)
	if !ok || v == "" {
		return 0, nil
	}
	id, ok := wire.ParseID(v)
	if !ok {
		return 0, badRequest("header %s must be a positive integer", key)
	}
	return id, nil
}

func newSessionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *conn) receiptFrame(id string) []byte {
	return stomp.AppendFrame(nil, &stomp.Frame{Command: "RECEIPT", Headers: []stomp.Header{{Key: "receipt-id", Value: id}}}, c.version)
}

func (c *conn) errorFrame(p problem, receipt string, beforeConnected bool) []byte {
	version, msg := c.version, p.message
	if beforeConnected {
		// @stomp/stompjs unescapes headers only after CONNECTED, so an
		// ERROR answering CONNECT goes unescaped, on one line.
		version, msg = stomp.V10, strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
	}
	f := &stomp.Frame{Command: "ERROR", Headers: []stomp.Header{{Key: "message", Value: msg}}}
	if receipt != "" {
		f.Headers = append(f.Headers, stomp.Header{Key: "receipt-id", Value: receipt})
	}
	if p.detail != "" {
		f.Headers = append(f.Headers, stomp.Header{Key: "content-type", Value: "text/plain"})
		f.Body = []byte(p.detail)
	}
	return stomp.AppendFrame(nil, f, version)
}
