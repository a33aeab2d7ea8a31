// Package notify produces personal notifications and offline records.
//
// After every message (the post-send step of the one send path, run by
// messages.Store through its Observer) it gets from send.lua, read in the
// same atomic step on the room's slot, the members with no session in the
// room, then reads in one pipeline over their user slots whether they
// have a live session at all. Members with a session elsewhere get
// {"type":"MESSAGE",...} on their notifications channel (every session of theirs, on any node, that
// subscribed to /user/queue/notifications); members with no session at all
// get a record in their own outbox stream (keys.UserOutbox), and an entry
// in the pending index (keys.NotificationsPending), for push workers,
// which read them through Outbox (see outbox.go). It also announces membership changes (ADDED / REMOVED) and unread
// counts after reads (UNREAD, as readstate's Observer).
//
// The work per message is bounded: rooms with more than MaxRecipients
// members get no per-message notifications (their members see unread
// counts in the room list), and each step runs under Timeout. Failures are
// logged, never returned: the message is stored and published already.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// Publisher publishes personal notifications; events.Publisher implements it.
type Publisher interface {
	Users(ctx context.Context, notes ...events.UserNote) error
}

// Config configures a Notifier. Zero fields take the defaults.
type Config struct {
	// MaxRecipients: rooms with more members than this get no MESSAGE
	// notifications and no outbox records; default 1000.
	MaxRecipients int
	// PreviewRunes bounds the message preview in characters; default 100.
	PreviewRunes int
	// OutboxMaxLen bounds each user's outbox stream (XADD MAXLEN, exact):
	// a user with more records waiting loses the oldest; default 100.
	OutboxMaxLen int64
	// OutboxTTL expires a user's outbox stream this long after its last
	// record, so records no worker reads do not stay forever; default
	// 168h (7 days).
	OutboxTTL time.Duration
	// Timeout bounds each notification step; default 2s.
	Timeout time.Duration
	// QueueSize bounds the post-send steps waiting for the worker started
	// by Start; default 4096. When full, a step is dropped (logged).
	QueueSize int
	// BatchWait is how long the worker, having taken a post-send step,
	// gathers more to run with it in the same round trips; default 2ms.
	BatchWait time.Duration
	// Logger receives failures; default slog.Default().
	Logger *slog.Logger
}

// Outbox record fields, as XADD writes them (all values are strings);
// Outbox.Records parses them into a Record.
const (
	FieldUserID      = "userId"
	FieldChatRoomID  = "chatRoomId"
	FieldSeq         = "seq"
	FieldSendID      = "sendId"
	FieldPreview     = "preview"
	FieldSentAt      = "sentAt"
	FieldUnreadCount = "unreadCount"
)

// Notifier sends personal notifications. It is safe for concurrent use.
type Notifier struct {
	rdb  redis.UniversalClient
	keys keys.Space
	pub  Publisher
	cfg  Config
	// queue is set by Start (before any use) when a worker runs the steps.
	queue   chan sent
	dropped atomic.Uint64
}

var (
	_ messages.SendObserver = (*Notifier)(nil)
	_ messages.SenderNoter  = (*Notifier)(nil)
	_ readstate.Observer    = (*Notifier)(nil)
)

// New returns a Notifier; zero fields of cfg take their defaults.
func New(rdb redis.UniversalClient, ks keys.Space, pub Publisher, cfg Config) *Notifier {
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 1000
	}
	if cfg.PreviewRunes <= 0 {
		cfg.PreviewRunes = 100
	}
	if cfg.OutboxMaxLen <= 0 {
		cfg.OutboxMaxLen = 100
	}
	if cfg.OutboxTTL <= 0 {
		cfg.OutboxTTL = 7 * 24 * time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 4096
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 2 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Notifier{rdb: rdb, keys: ks, pub: pub, cfg: cfg}
}

// MaxAway is Config.MaxRecipients (messages.SendObserver): send.lua lists
// the members away from rooms up to that size.
func (n *Notifier) MaxAway() int { return n.cfg.MaxRecipients }

// sent is one message's post-send step, as send.lua read it.
type sent struct {
	m    wire.Message
	post messages.PostSend
}

// MessageSent is the post-send step (messages.SendObserver): MESSAGE
// notifications for members online elsewhere, outbox records for members
// offline, and UNREAD 0 to the sender's sessions when sending read more
// than the message itself.
func (n *Notifier) MessageSent(ctx context.Context, m wire.Message, post messages.PostSend) {
	if len(post.Away) == 0 && !post.TooLarge && (post.SenderNoted || post.SenderRead >= m.Seq-1) {
		return // nothing to do: no wake-up of the worker, no round trip
	}
	if n.queue != nil {
		n.enqueue(sent{m, post})
		return
	}
	n.process(ctx, []sent{{m, post}})
}

// SenderNote is the UNREAD 0 note to user's sessions for room
// (messages.SenderNoter): send.lua publishes it itself where it can.
func (n *Notifier) SenderNote(roomID, userID int64, at string) (string, []byte) {
	return n.keys.UserNotifications(userID), wire.Marshal(wire.Notification{
		Type: wire.NoteUnread, ChatRoomID: roomID, UnreadCount: wire.Count(0), At: at})
}

// process runs the post-send steps of a batch of messages under Timeout.
func (n *Notifier) process(ctx context.Context, batch []sent) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.Timeout)
	defer cancel()
	if err := n.messagesSent(ctx, batch); err != nil {
		m := batch[0].m
		n.cfg.Logger.Warn("post-send notifications failed", "room", m.ChatRoomID, "seq", m.Seq, "messages", len(batch), "err", err)
	}
}

// messagesSent does the user-side half of the post-send step for a batch
// of messages, in at most four round trips whatever the batch size: the
// away members' session counts, then the notifications, then the outbox
// records, then the pending index.
func (n *Notifier) messagesSent(ctx context.Context, batch []sent) error {
	var away []int64
	for _, s := range batch {
		if s.post.TooLarge {
			n.cfg.Logger.Debug("room too large for message notifications", "room", s.m.ChatRoomID, "max", n.cfg.MaxRecipients)
		}
		for _, a := range s.post.Away {
			away = append(away, a.UserID)
		}
	}
	online, err := n.online(ctx, away)
	if err != nil {
		return err
	}
	var notes []events.UserNote
	var offline []record
	for _, s := range batch {
		m := s.m
		if s.post.SenderRead < m.Seq-1 && !s.post.SenderNoted {
			// Sending read everything before: the sender's other sessions
			// learn that this room has nothing unread any more.
			notes = append(notes, events.UserNote{UserID: m.SendID, Note: wire.Notification{
				Type: wire.NoteUnread, ChatRoomID: m.ChatRoomID, UnreadCount: wire.Count(0)}})
		}
		if len(s.post.Away) == 0 {
			continue
		}
		preview := Preview(m.Message, n.cfg.PreviewRunes)
		for _, a := range s.post.Away {
			unread := max(0, m.Seq-a.Read)
			if !online[a.UserID] {
				offline = append(offline, record{m: &s.m, preview: preview, user: a.UserID, unread: unread})
				continue
			}
			notes = append(notes, events.UserNote{UserID: a.UserID, Note: wire.Notification{Type: wire.NoteMessage,
				ChatRoomID: m.ChatRoomID, Seq: m.Seq, SendID: m.SendID, Preview: preview, UnreadCount: wire.Count(unread)}})
		}
	}
	// The outbox is written even when publishing failed: a batch holds up
	// to 256 messages, whose offline records must not depend on it.
	return errors.Join(n.pub.Users(ctx, notes...), n.outbox(ctx, offline))
}

// online reports which of users have any live session; the session
// hashes are on the users' slots, read in one pipeline.
func (n *Notifier) online(ctx context.Context, users []int64) (map[int64]bool, error) {
	if len(users) == 0 {
		return nil, nil
	}
	out := make(map[int64]bool, len(users))
	cmds := make(map[int64]*redis.IntCmd, len(users))
	_, err := n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range users {
			if cmds[u] == nil {
				cmds[u] = p.HLen(ctx, n.keys.UserSessions(u))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count sessions of %d absent members: %w", len(cmds), err)
	}
	for u, c := range cmds {
		out[u] = c.Val() > 0
	}
	return out, nil
}

// record is one outbox record: a message for a member with no session.
type record struct {
	m            *wire.Message
	preview      string
	user, unread int64
}

// Added tells each user they were added to room (ADDED).
func (n *Notifier) Added(ctx context.Context, roomID int64, users ...int64) error {
	notes := make([]events.UserNote, len(users))
	for i, u := range users {
		notes[i] = events.UserNote{UserID: u, Note: wire.Notification{Type: wire.NoteAdded, ChatRoomID: roomID}}
	}
	return n.pub.Users(ctx, notes...)
}

// Removed tells user they were removed from (or left) room (REMOVED).
func (n *Notifier) Removed(ctx context.Context, roomID, user int64) error {
	return n.pub.Users(ctx, events.UserNote{UserID: user, Note: wire.Notification{Type: wire.NoteRemoved, ChatRoomID: roomID}})
}

// ReadMoved tells user's sessions their unread count of room (UNREAD);
// readstate calls it after a read moved the position.
func (n *Notifier) ReadMoved(ctx context.Context, roomID, userID, unread int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.Timeout)
	defer cancel()
	note := events.UserNote{UserID: userID, Note: wire.Notification{Type: wire.NoteUnread, ChatRoomID: roomID, UnreadCount: wire.Count(unread)}}
	if err := n.pub.Users(ctx, note); err != nil {
		n.cfg.Logger.Warn("unread notification failed", "room", roomID, "user", userID, "err", err)
	}
}

// Preview returns text cut to at most runes characters, with "…" when cut.
func Preview(text string, runes int) string {
	if utf8.RuneCountInString(text) <= runes {
		return text
	}
	i, n := 0, 0
	for i = range text {
		if n == runes {
			break
		}
		n++
	}
	return text[:i] + "…"
}
