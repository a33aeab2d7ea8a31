// Package messages is the one send path of the system, shared by STOMP SEND
// and REST POST, and the reader of room history.
//
// Send runs send.lua: membership check, per-room sequence number, history
// append with trimming, publish on the room's channel, and the room-side
// half of the post-send step (the sender's read position, the members away
// from the room), in one atomic step and one Redis round trip. The
// published payload is byte-for-byte the stored history entry. With the
// archive feed on (Config.ArchiveFeed) the same step appends the entry to
// the room's archive stream for the archiver; with an Archive
// (Config.Archive) History and Since read on into PostgreSQL below the
// oldest entry Redis keeps.
package messages

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

//go:embed send.lua
var sendLua string

var sendScript = events.NewScript(sendLua)

//go:embed history.lua
var historyLua string

var historyScript = redis.NewScript(historyLua)

// Sentinel errors of Send. Their texts are safe to show to clients.
var (
	// ErrRoomNotFound means the room does not exist.
	ErrRoomNotFound = errors.New("room not found")
	// ErrNotMember means the sender is not a member of the room.
	ErrNotMember = errors.New("sender is not a member of the room")
	// ErrBadReceiver means rcvId names a user outside the room.
	ErrBadReceiver = errors.New("rcvId is not a member of the room")
	// ErrEmpty means the message text is empty or only white space and
	// invisible characters (zero-width spaces and joiners, BOM, fillers).
	ErrEmpty = errors.New("message is empty")
	// ErrTooLong means the message text exceeds the configured maximum.
	ErrTooLong = errors.New("message is too long")
	// ErrInvalidText means the message text is not valid UTF-8, or holds a
	// control character other than tab, line feed and carriage return
	// (U+0000-U+001F): those would be stored as 6-byte \u00XX escapes.
	ErrInvalidText = errors.New("message is not valid text")
)

// Config configures a Store.
type Config struct {
	// MaxBytes bounds a message text in UTF-8 bytes; default 4096.
	MaxBytes int
	// HistoryLen is how many messages each room keeps; default 100000.
	HistoryLen int
	// EditWindow is how long after sending its author may edit or delete
	// a message; default 15m.
	EditWindow time.Duration
	// Observer, when set, is told about every message Send stored, after
	// it was published (notify.Notifier: personal notifications, outbox).
	Observer SendObserver
	// ArchiveFeed, when On, appends every stored, edited and deleted
	// message to the room's archive stream and guards history trimming
	// (see ArchiveFeed); off by default.
	ArchiveFeed ArchiveFeed
	// Archive, when set, is older history: History and Since continue
	// into it below the oldest entry Redis retains, with the same JSON
	// and the same paging. nil (the default): Redis alone.
	Archive Archive
}

// SendObserver runs the post-send step of the one send path. MessageSent
// is called synchronously by Send; it must not fail the send (the message
// is already stored and published) and should bound its own work.
type SendObserver interface {
	// MaxAway bounds the room size for which send.lua lists the members
	// away from the room: larger rooms get PostSend.TooLarge instead.
	MaxAway() int
	MessageSent(ctx context.Context, m wire.Message, post PostSend)
}

// SenderNoter is an optional part of a SendObserver: the note to the
// sender's own sessions when sending read more than the message itself
// (the sender had unread messages in the room). Where the sender's
// channel can be published from the room's script (a single Redis or
// Sentinel; not a Cluster, where it is on another slot), send.lua
// publishes it in the send's own round trip and PostSend.SenderNoted
// tells the observer so.
type SenderNoter interface {
	// SenderNote returns the channel of user's notifications and the
	// note telling them room has nothing unread any more, stamped at.
	SenderNote(roomID, userID int64, at string) (channel string, payload []byte)
}

// PostSend is what send.lua read for the post-send step, in the same
// atomic step as the message itself.
type PostSend struct {
	// SenderRead is the sender's read position before the message (the
	// send moved it to the message); after a replayed send (a retry whose
	// first reply was lost) it is the position the first run moved.
	SenderRead int64
	// SenderNoted reports that send.lua published the SenderNoter's note
	// itself (whenever SenderRead < the message's seq-1).
	SenderNoted bool
	// TooLarge reports a room with more members than MaxAway: Away is
	// then empty.
	TooLarge bool
	// Away are the members other than the sender with no session in the
	// room, with their read positions.
	Away []Member
}

// Member is a room member and their read position (highest seq read).
type Member struct {
	UserID, Read int64
}

// Store sends messages and reads history. It is safe for concurrent use.
type Store struct {
	rdb     redis.UniversalClient
	keys    keys.Space
	cfg     Config
	sharded bool // a Redis Cluster: one archive stream per slot
	now     func() time.Time
}

// NewStore returns a Store; zero fields of cfg take their defaults.
func NewStore(rdb redis.UniversalClient, ks keys.Space, cfg Config) *Store {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 4096
	}
	if cfg.HistoryLen <= 0 {
		cfg.HistoryLen = 100000
	}
	if cfg.EditWindow <= 0 {
		cfg.EditWindow = 15 * time.Minute
	}
	if cfg.ArchiveFeed.StreamMax <= 0 {
		cfg.ArchiveFeed.StreamMax = defaultStreamMax
	}
	if cfg.ArchiveFeed.BacklogMax <= 0 {
		cfg.ArchiveFeed.BacklogMax = defaultBacklogMax
	}
	return &Store{rdb: rdb, keys: ks, cfg: cfg, sharded: events.Sharded(rdb), now: time.Now}
}

// MaxBytes is the configured maximum message size.
func (s *Store) MaxBytes() int { return s.cfg.MaxBytes }

// Send stores and publishes one message from sender into room. rcv may be 0;
// in a direct room it is then filled with the other member. It returns the
// message as stored, and its JSON, after running the Observer (if any).
func (s *Store) Send(ctx context.Context, roomID, sender, rcv int64, text string) (wire.Message, []byte, error) {
	if err := s.Validate(text); err != nil {
		return wire.Message{}, nil, err
	}
	if roomID <= 0 || sender <= 0 || rcv < 0 {
		return wire.Message{}, nil, ErrRoomNotFound
	}
	now := s.now()
	sentAt := wire.FormatTime(now)
	tail := wire.AppendMessageTail(nil, text, sentAt, "") // send.lua writes the head
	ks := []string{s.keys.RoomMeta(roomID), s.keys.RoomMembers(roomID), s.keys.RoomHistory(roomID),
		s.keys.RoomMessages(roomID), s.keys.RoomSendKeys(roomID), s.keys.RoomPresence(roomID), s.keys.RoomRead(roomID)}
	maxAway := -1
	if s.cfg.Observer != nil {
		maxAway = s.cfg.Observer.MaxAway()
	}
	// A fresh idempotency key per call: go-redis retries a command whose
	// connection broke, and a script Redis ran before dying must not run
	// twice (it would store and publish the message again).
	feed := s.cfg.ArchiveFeed
	if feed.On {
		ks = append(ks, s.keys.ArchiveStreamFor(roomID, s.sharded))
	}
	noteCh, note := "", []byte(nil)
	if noter, ok := s.cfg.Observer.(SenderNoter); ok && !s.sharded {
		noteCh, note = noter.SenderNote(roomID, sender, sentAt)
	}
	args := []any{roomID, sender, rcv, tail, s.cfg.HistoryLen, now.UnixMilli(), newSendKey(), maxAway,
		feed.StreamMax, feed.BacklogMax, noteCh, note}
	reply, err := sendScript.Run(ctx, s.rdb, ks, args...).Slice()
	if err != nil {
		return wire.Message{}, nil, mapScriptErr(err, roomID)
	}
	res, ints, err := parseSendReply(reply)
	if err != nil {
		return wire.Message{}, nil, fmt.Errorf("send to room %d: %w", roomID, err)
	}
	// The stored JSON is made of these very values; only a replay (whose
	// message may have been edited since) is decoded.
	m := wire.Message{ID: wire.MessageID(roomID, ints[0]), ChatRoomID: roomID,
		Seq: ints[0], SendID: sender, RcvID: ints[1], Message: text, SentAt: sentAt}
	if ints[2] == 1 {
		m = wire.Message{}
		if err := json.Unmarshal([]byte(res), &m); err != nil {
			return wire.Message{}, nil, fmt.Errorf("decode sent message of room %d: %w", roomID, err)
		}
	}
	post := postSend(ints[3:])
	post.SenderNoted = noteCh != ""
	if s.cfg.Observer != nil {
		s.cfg.Observer.MessageSent(ctx, m, post)
	}
	return m, []byte(res), nil
}

// parseSendReply splits send.lua's reply into the message JSON and the
// integers after it: seq, receiver, replayed, sender's read, too large,
// then user and read position pairs.
func parseSendReply(reply []any) (string, []int64, error) {
	if len(reply) < 6 || len(reply)%2 != 0 {
		return "", nil, fmt.Errorf("unexpected send.lua reply of %d values", len(reply))
	}
	msg, ok := reply[0].(string)
	ints := make([]int64, len(reply)-1)
	for i, v := range reply[1:] {
		n, isInt := v.(int64)
		ok = ok && isInt
		ints[i] = n
	}
	if !ok {
		return "", nil, fmt.Errorf("unexpected send.lua reply types %T %T", reply[0], reply[1])
	}
	return msg, ints, nil
}

// postSend reads send.lua's post-send values: sender's read, too large,
// then user and read position pairs.
func postSend(ints []int64) PostSend {
	post := PostSend{SenderRead: ints[0], TooLarge: ints[1] == 1}
	if n := (len(ints) - 2) / 2; n > 0 {
		post.Away = make([]Member, n)
		for i := range post.Away {
			post.Away[i] = Member{UserID: ints[2+2*i], Read: ints[3+2*i]}
		}
	}
	return post
}

// Validate checks a message text without sending it: valid UTF-8, not
// blank, at most MaxBytes bytes, no control characters but tab, line feed
// and carriage return.
func (s *Store) Validate(text string) error {
	switch {
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidText)
	case blank(text):
		return ErrEmpty
	case len(text) > s.cfg.MaxBytes:
		return fmt.Errorf("%w: at most %d bytes", ErrTooLong, s.cfg.MaxBytes)
	}
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return fmt.Errorf("%w: control character U+%04X at byte %d (only tab and line breaks are allowed)", ErrInvalidText, c, i)
		}
	}
	return nil
}

// EntryOverhead bounds the bytes of a history entry beside its text's
// JSON string: id, chatRoomId, seq, sendId and rcvId at 19 digits each,
// sentAt and editedAt (a tombstone is smaller), field names and quotes.
const EntryOverhead = 256

// MaxEntryBytes bounds a stored history entry, and a published message,
// in bytes: EntryOverhead + 2*MaxBytes. Validate leaves no character whose
// JSON escape is more than twice its UTF-8 size (" \ tab LF CR: 2 bytes
// for 1; U+2028, U+2029: 6 for 3; <, >, & are not escaped), so the default
// 4,096-byte text takes at most 8,448 bytes stored. MESSAGE_EDITED and
// MESSAGE_DELETED events carry one entry plus at most 200 bytes.
func (s *Store) MaxEntryBytes() int { return EntryOverhead + 2*s.cfg.MaxBytes }

func mapScriptErr(err error, roomID int64) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "NOROOM"):
		return ErrRoomNotFound
	case strings.HasPrefix(msg, "NOTMEMBER"):
		return ErrNotMember
	case strings.HasPrefix(msg, "NORCV"):
		return ErrBadReceiver
	}
	return fmt.Errorf("send to room %d: %w", roomID, err)
}

// Query selects a page of history by seq. Zero Before/After mean unbounded.
type Query struct {
	Before int64 // only seq < Before
	After  int64 // only seq > After
	Limit  int   // default 50, at most 500
	// MaxBytes bounds the summed size of the page's entries (each counted
	// with one separator byte); 0 means no byte bound. The first entry is
	// always returned, whatever its size, so paging always advances.
	MaxBytes int
	// Ascending returns oldest first; the default is newest first, except
	// that a query with only After set is ascending (the page right after).
	Ascending bool
}

// Page is a history page: raw message JSON in the order asked for.
type Page struct {
	Messages []json.RawMessage
	// HasMore reports whether more messages match beyond this page (the
	// page was cut by Limit or by MaxBytes).
	HasMore bool
}

// History returns a page of a room's history in one round trip
// (history.lua): Redis stops at Limit entries or MaxBytes bytes, so only
// the page itself crosses the network. With an Archive the same round trip
// also reads where Redis's history begins, and the part of the range below
// it comes from the Archive (one more query, only when the page reaches
// there).
func (s *Store) History(ctx context.Context, roomID int64, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 500 {
		q.Limit = 500
	}
	lo, hi := "-inf", "+inf"
	if q.After > 0 {
		lo = "(" + strconv.FormatInt(q.After, 10)
	}
	if q.Before > 0 {
		hi = "(" + strconv.FormatInt(q.Before, 10)
	}
	asc := 0
	if q.Ascending || (q.After > 0 && q.Before == 0) {
		asc = 1
	}
	ks := []string{s.keys.RoomHistory(roomID)}
	head := 1 // reply values before the entries
	if s.cfg.Archive != nil {
		ks = append(ks, s.keys.RoomMeta(roomID))
		head = 2
	}
	reply, err := historyScript.Run(ctx, s.rdb, ks, lo, hi, q.Limit, max(q.MaxBytes, 0), asc).Slice()
	if err != nil {
		return Page{}, fmt.Errorf("read history of room %d: %w", roomID, err)
	}
	more, ok := reply[0].(int64)
	var boundary int64
	if head == 2 {
		okB := len(reply) > 1
		if okB {
			boundary, okB = reply[1].(int64)
		}
		ok = ok && okB
	}
	if !ok {
		return Page{}, fmt.Errorf("read history of room %d: unexpected reply %v", roomID, reply[:min(len(reply), head)])
	}
	p := Page{HasMore: more == 1, Messages: make([]json.RawMessage, 0, len(reply)-head)}
	for _, v := range reply[head:] {
		str, ok := v.(string)
		if !ok {
			return Page{}, fmt.Errorf("read history of room %d: unexpected entry %T", roomID, v)
		}
		p.Messages = append(p.Messages, json.RawMessage(str))
	}
	if s.cfg.Archive != nil {
		return s.mergeArchive(ctx, roomID, q, asc == 1, boundary, p)
	}
	return p, nil
}

// Since returns up to limit (> 0) messages with seq > after, oldest first,
// and the room's oldest retained seq (0 when history is empty), so callers
// can tell whether history still reaches back to after+1.
//
// With an Archive, the messages below Redis's oldest entry come from the
// Archive, and oldest is the oldest seq the two hold together as far as
// after+1 is concerned: when the Archive is asked (after+1 lies below
// Redis's history) it is the first archived seq after `after`, else
// Redis's oldest (which is then at most after+1). So oldest > after+1
// exactly when neither holds after+1, and then it is the first seq either
// holds. The Archive is asked only when after+1 lies below Redis's history.
// When the Archive fails, Since returns what Redis holds (msgs and oldest as
// without an Archive) together with an error wrapping ErrArchiveUnavailable,
// so a resume can go on and report the older part as truncated.
func (s *Store) Since(ctx context.Context, roomID, after int64, limit int) (msgs [][]byte, oldest int64, err error) {
	var rng *redis.StringSliceCmd
	var first *redis.ZSliceCmd
	var last *redis.StringCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		rng = p.ZRangeByScore(ctx, s.keys.RoomHistory(roomID), &redis.ZRangeBy{
			Min: "(" + strconv.FormatInt(after, 10), Max: "+inf", Count: int64(limit)})
		first = p.ZRangeWithScores(ctx, s.keys.RoomHistory(roomID), 0, 0)
		if s.cfg.Archive != nil {
			last = p.HGet(ctx, s.keys.RoomMeta(roomID), "lastSeq")
		}
		return nil
	})
	if errors.Is(err, redis.Nil) {
		err = nil // only the HGET answers nil: no lastSeq, a room without messages (or no room)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read history of room %d after %d: %w", roomID, after, err)
	}
	for _, v := range rng.Val() {
		msgs = append(msgs, []byte(v))
	}
	if f := first.Val(); len(f) == 1 {
		oldest = int64(f[0].Score)
	}
	if s.cfg.Archive == nil {
		return msgs, oldest, nil
	}
	boundary := oldest
	if boundary == 0 {
		n, _ := strconv.ParseInt(last.Val(), 10, 64)
		boundary = n + 1
	}
	return s.sinceArchive(ctx, roomID, after, limit, boundary, msgs, oldest)
}

// LastSeq returns the room's latest seq (0 before its first message).
func (s *Store) LastSeq(ctx context.Context, roomID int64) (int64, error) {
	n, err := s.rdb.HGet(ctx, s.keys.RoomMeta(roomID), "lastSeq").Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("read last seq of room %d: %w", roomID, err)
	}
	return n, nil
}

// newSendKey returns a random idempotency key for one Send.
func newSendKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
