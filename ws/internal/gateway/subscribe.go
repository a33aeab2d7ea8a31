package gateway

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// Acknowledgement modes of a subscription.
const (
	ackAuto             = "auto"
	ackClient           = "client"
	ackClientIndividual = "client-individual"
)

// subscription is one STOMP subscription; it is the hub's Subscriber.
type subscription struct {
	c       *conn
	id      string
	dest    string
	channel string
	roomID  int64
	ack     string
	skip    []byte // deliveries starting with these bytes are not for this session (ownTyping)
	idEsc   []byte // id and destination escaped once for MESSAGE headers
	destEsc []byte
	head    []byte   // "MESSAGE\ndestination:<dest>\nmessage-id:", built once
	pending []string // unacknowledged ack ids, oldest first (client modes); guarded by c.ackMu

	// mu guards the resume state (resume.go): while replaying, live
	// messages are buffered (bufBytes, also counted in c.resumeBuf); drops
	// counts the buffers dropped for exceeding their bound; lastSeq is the
	// highest seq queued to the client; gap: a gap before the next
	// message is announced (the replay stopped at MaxReplay, or history
	// no longer held the seq after lastSeq).
	mu        sync.Mutex
	replaying bool
	buffered  []*fanout.Msg
	bufBytes  int
	drops     int
	gap       bool
	lastSeq   int64
	chat      bool // a room's messages destination: its messages are in history (catch-up)

	stopped atomic.Bool // unsubscribed: deliveries and a running replay stop
}

// Deliver queues m for this subscription; called by the hub, never blocks.
func (s *subscription) Deliver(m *fanout.Msg) {
	if s.skip != nil && bytes.HasPrefix(m.Payload, s.skip) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped.Load():
	case s.replaying:
		s.bufferLocked(m)
	case s.chat && m.Seq > s.lastSeq && s.c.aboveHighWater():
		s.catchUpLocked(m) // late rather than lost: resume.go
	default:
		s.deliverLive(m)
	}
}

// messageHead is the start of every MESSAGE frame of a subscription to the
// (escaped) destination, up to the message-id value.
func messageHead(destEsc []byte) []byte {
	b := append([]byte("MESSAGE\ndestination:"), destEsc...)
	return append(b, "\nmessage-id:"...)
}

// destination maps a subscribable destination to its room and channel.
func (c *conn) destination(dest string) (roomID int64, channel string, err error) {
	if dest == NotificationsDestination {
		return 0, c.srv.keys.UserNotifications(c.ident.UserID), nil
	}
	const prefix = "/sub/chat/room/"
	rest, ok := strings.CutPrefix(dest, prefix)
	if !ok {
		return 0, "", errUnknownDestination
	}
	idPart, events := strings.CutSuffix(rest, "/events")
	id, ok := wire.ParseID(idPart)
	if !ok {
		return 0, "", errUnknownDestination
	}
	if events {
		return id, c.srv.keys.RoomEvents(id), nil
	}
	return id, c.srv.keys.RoomMessages(id), nil
}

func (c *conn) onSubscribe(f *stomp.Frame) error {
	// Copies: the subscription outlives the frame, whose header text is
	// one arena for all its headers.
	dest := strings.Clone(f.Value("destination"))
	id, hasID := f.Get("id")
	id = strings.Clone(id)
	if !hasID {
		if c.version != stomp.V10 {
			return badRequest("SUBSCRIBE needs an id header")
		}
		id = dest
	}
	if id == "" {
		return badRequest("SUBSCRIBE id must not be empty")
	}
	if _, dup := c.subs[id]; dup {
		return badRequest("subscription id %q is already in use", id)
	}
	if len(c.subs) >= c.srv.cfg.MaxSubscriptions {
		return limitErr("at most %d subscriptions per session", c.srv.cfg.MaxSubscriptions)
	}
	ack := f.Value("ack")
	switch ack {
	case "":
		ack = ackAuto
	case ackAuto, ackClient, ackClientIndividual:
	default:
		return badRequest("ack must be auto, client or client-individual")
	}
	roomID, channel, err := c.destination(dest)
	if err != nil {
		return err
	}
	ctx, cancel := c.srv.redisCtx()
	defer cancel()
	if err := c.mayWatch(ctx, roomID); err != nil {
		return err
	}
	chat := channel == c.srv.keys.RoomMessages(roomID)
	resumeFrom, resuming, err := resumeSeq(f, chat)
	if err != nil {
		return err
	}
	s := &subscription{c: c, id: id, dest: dest, channel: channel, roomID: roomID, ack: ack, replaying: resuming, chat: chat, skip: c.ownTyping(roomID, channel),
		idEsc: stomp.AppendEscaped(nil, id, c.version), destEsc: stomp.AppendEscaped(nil, dest, c.version)}
	s.head = messageHead(s.destEsc)
	if err := c.srv.hub.Subscribe(ctx, channel, s); err != nil {
		c.log().Warn("hub subscribe", "err", err)
		return errUnavailable
	}
	if resuming {
		if err := c.resume(ctx, s, resumeFrom); err != nil {
			c.srv.hub.Unsubscribe(channel, s)
			c.log().Warn("resume from history", "err", err)
			return errUnavailable
		}
	}
	c.subs[id] = s
	c.srv.subsOpen.Add(1)
	c.ackMu.Lock()
	c.watched[roomID]++
	c.ackMu.Unlock()
	return nil
}

func (c *conn) onUnsubscribe(f *stomp.Frame) error {
	id, ok := f.Get("id")
	if !ok && c.version == stomp.V10 {
		id, ok = f.Get("destination")
	}
	if !ok {
		return badRequest("UNSUBSCRIBE needs an id header")
	}
	s := c.subs[id]
	if s == nil {
		return badRequest("no subscription with id %q", id)
	}
	c.drop(s)
	return nil
}

// drop ends one subscription, and its replay if one runs, and forgets its
// pending acknowledgements.
func (c *conn) drop(s *subscription) {
	c.stopReplay(s)
	delete(c.subs, s.id)
	c.srv.subsOpen.Add(-1)
	c.srv.hub.Unsubscribe(s.channel, s)
	c.ackMu.Lock()
	for _, a := range s.pending {
		delete(c.acks, a)
	}
	s.pending = nil
	if c.watched[s.roomID]--; c.watched[s.roomID] <= 0 {
		delete(c.watched, s.roomID)
	}
	c.ackMu.Unlock()
}

// onAck handles ACK and NACK. NACKed messages are not redelivered (chat
// history is the place to fetch them again); both just settle the id.
func (c *conn) onAck(f *stomp.Frame) error {
	var id string
	if c.version == stomp.V12 {
		id = f.Value("id")
	} else {
		id = f.Value("subscription") + ":" + f.Value("message-id")
	}
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	s := c.acks[id]
	if s == nil {
		return badRequest("%s of unknown message %q", f.Command, id)
	}
	if s.ack == ackClient { // cumulative: settles everything up to id
		for i, a := range s.pending {
			delete(c.acks, a)
			if a == id {
				s.pending = s.pending[i+1:]
				break
			}
		}
		return nil
	}
	delete(c.acks, id)
	for i, a := range s.pending {
		if a == id {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			break
		}
	}
	return nil
}

// resumeSeq parses the last-seq header; it applies to chat destinations
// only (events carry no sequence).
func resumeSeq(f *stomp.Frame, sequenced bool) (int64, bool, error) {
	v, ok := f.Get(ResumeHeader)
	if !ok || !sequenced {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false, badRequest("%s must be a non-negative integer", ResumeHeader)
	}
	return n, true, nil
}
