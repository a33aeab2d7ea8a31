package notify

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/redis/keys"
)

// The offline outbox, written by the post-send step and read by push
// workers through Outbox:
//
//   - keys.UserOutbox(u): one stream per user, on the user's slot, capped
//     at Config.OutboxMaxLen records (exact MAXLEN: the oldest go first)
//     and expiring Config.OutboxTTL after its last record. A flood into a
//     room evicts only the flooded users' own older records, never another
//     user's.
//   - keys.NotificationsPending(): one sorted set, member user id, score
//     the time (unix ms) from which a worker may claim the user. The
//     post-send step adds users with ZADD NX now, after their records are
//     in; it holds at most one entry per user.
//
// A worker loops: Claim (users due, leased for a while), Records, send the
// pushes, Done. Delivery is at least once: a worker that dies before Done
// leaves its claims to expire, and its users are claimed again.

//go:embed claim.lua
var claimLua string

//go:embed release.lua
var releaseLua string

var (
	claimScript   = redis.NewScript(claimLua)
	releaseScript = redis.NewScript(releaseLua)
)

// ErrBadLease means Claim was given a lease or a count that is not positive.
var ErrBadLease = errors.New("outbox claim needs a positive count and lease")

// Record is one offline notification record: a message for a user who
// had no live session when it was sent.
type Record struct {
	// ID is the record's stream id ("<ms>-<n>"); records of a user are in
	// ascending id order. Pass the last one handled to Done.
	ID          string `json:"id"`
	UserID      int64  `json:"userId"`
	ChatRoomID  int64  `json:"chatRoomId"`
	Seq         int64  `json:"seq"`
	SendID      int64  `json:"sendId"`
	Preview     string `json:"preview"`
	SentAt      string `json:"sentAt"`
	UnreadCount int64  `json:"unreadCount"`
}

// Claim is one user claimed by a push worker, until the lease runs out.
type Claim struct {
	UserID int64
	// Until is the end of the lease (millisecond precision); it also names
	// the claim to Done, which releases nothing when another worker has
	// claimed the user since.
	Until time.Time
}

// Pending is one user of the pending index, for operators.
type Pending struct {
	UserID int64 `json:"userId"`
	// From is when a worker may claim the user: when the first record
	// waiting arrived, or when the current claim's lease ends.
	From time.Time `json:"claimableFrom"`
	// Records is how many records the user's stream holds.
	Records int64 `json:"records"`
}

// Outbox is the push workers' side of the offline outbox. It is safe for
// concurrent use, by any number of workers on any number of processes.
type Outbox struct {
	rdb  redis.UniversalClient
	keys keys.Space
	now  func() time.Time
}

// NewOutbox returns the outbox under ks.
func NewOutbox(rdb redis.UniversalClient, ks keys.Space) *Outbox {
	return &Outbox{rdb: rdb, keys: ks, now: time.Now}
}

// Claim claims up to n users whose records are due, longest waiting first,
// for lease: no other Claim returns them before the lease ends. Read each
// one's Records, send the pushes, then call Done; a worker that does not
// call Done within the lease (it crashed) loses the users to the next
// Claim, and their records are pushed again (at least once).
func (o *Outbox) Claim(ctx context.Context, n int, lease time.Duration) ([]Claim, error) {
	if n <= 0 || lease < time.Millisecond {
		return nil, ErrBadLease
	}
	now := o.now()
	until := now.Add(lease).Truncate(time.Millisecond)
	ids, err := claimScript.Run(ctx, o.rdb, []string{o.keys.NotificationsPending()},
		now.UnixMilli(), until.UnixMilli(), n).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("claim outbox users: %w", err)
	}
	out := make([]Claim, 0, len(ids))
	for _, s := range ids {
		u, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("claim outbox users: member %q is not a user id", s)
		}
		out = append(out, Claim{UserID: u, Until: until})
	}
	return out, nil
}

// Records returns user's records, oldest first (at most
// Config.OutboxMaxLen of the writers).
func (o *Outbox) Records(ctx context.Context, user int64) ([]Record, error) {
	msgs, err := o.rdb.XRange(ctx, o.keys.UserOutbox(user), "-", "+").Result()
	if err != nil {
		return nil, fmt.Errorf("read outbox of user %d: %w", user, err)
	}
	out := make([]Record, len(msgs))
	for i, m := range msgs {
		out[i] = parseRecord(m)
	}
	return out, nil
}

// Done ends claim c after its user's records up to and including lastID
// were pushed ("" when there were none): it deletes them, then removes the
// user from the pending index, or, when records arrived meanwhile, leaves
// the user claimable again at once. When the lease had run out and another
// worker claimed the user since, Done deletes the records but leaves that
// claim alone.
func (o *Outbox) Done(ctx context.Context, c Claim, lastID string) error {
	pending, stream := o.keys.NotificationsPending(), o.keys.UserOutbox(c.UserID)
	// Release first, then look at the stream: a record added after the look
	// is indexed by its writer after the release (the writer adds its users
	// once their records are in), so no record is left unindexed.
	released, err := releaseScript.Run(ctx, o.rdb, []string{pending}, c.UserID, c.Until.UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("release outbox claim of user %d: %w", c.UserID, err)
	}
	var left *redis.IntCmd
	_, err = o.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if lastID != "" {
			next, err := nextID(lastID)
			if err != nil {
				return err
			}
			p.XTrimMinID(ctx, stream, next)
		}
		left = p.XLen(ctx, stream)
		return nil
	})
	if err == nil && released == 1 && left.Val() > 0 {
		err = o.rdb.ZAddNX(ctx, pending, redis.Z{Score: float64(o.now().UnixMilli()), Member: c.UserID}).Err()
	}
	if err != nil {
		return fmt.Errorf("finish outbox of user %d up to %s: %w", c.UserID, lastID, err)
	}
	return nil
}

// Pending lists up to n users of the pending index, soonest claimable
// first, with their record counts (for operators: chatctl outbox).
func (o *Outbox) Pending(ctx context.Context, n int) ([]Pending, error) {
	zs, err := o.rdb.ZRangeWithScores(ctx, o.keys.NotificationsPending(), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("read the pending outbox users: %w", err)
	}
	out := make([]Pending, len(zs))
	lens := make([]*redis.IntCmd, len(zs))
	_, err = o.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, z := range zs {
			s, _ := z.Member.(string)
			u, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("member %q is not a user id", s)
			}
			out[i] = Pending{UserID: u, From: time.UnixMilli(int64(z.Score)).UTC()}
			lens[i] = p.XLen(ctx, o.keys.UserOutbox(u))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count the records of %d pending outbox users: %w", len(zs), err)
	}
	for i, l := range lens {
		out[i].Records = l.Val()
	}
	return out, nil
}

// nextID returns the stream id right after id ("<ms>-<n>"): XTRIM MINID
// with it deletes id and everything before.
func nextID(id string) (string, error) {
	ms, n, ok := strings.Cut(id, "-")
	_, merr := strconv.ParseUint(ms, 10, 64)
	seq, err := strconv.ParseUint(n, 10, 64)
	if !ok || merr != nil || err != nil || seq == ^uint64(0) {
		return "", fmt.Errorf("bad outbox record id %q", id)
	}
	return ms + "-" + strconv.FormatUint(seq+1, 10), nil
}

// parseRecord reads a stream entry written by Notifier.outbox.
func parseRecord(m redis.XMessage) Record {
	str := func(f string) string { s, _ := m.Values[f].(string); return s }
	num := func(f string) int64 { n, _ := strconv.ParseInt(str(f), 10, 64); return n }
	return Record{ID: m.ID, UserID: num(FieldUserID), ChatRoomID: num(FieldChatRoomID), Seq: num(FieldSeq),
		SendID: num(FieldSendID), Preview: str(FieldPreview), SentAt: str(FieldSentAt), UnreadCount: num(FieldUnreadCount)}
}

// outbox appends one record per offline member to that member's stream,
// then adds the members to the pending index (in that order: see Done).
func (n *Notifier) outbox(ctx context.Context, offline []record) error {
	if len(offline) == 0 {
		return nil
	}
	var users []redis.Z
	seen := make(map[int64]bool)
	_, err := n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range offline {
			p.XAdd(ctx, &redis.XAddArgs{Stream: n.keys.UserOutbox(r.user), MaxLen: n.cfg.OutboxMaxLen,
				Values: []any{FieldUserID, r.user, FieldChatRoomID, r.m.ChatRoomID, FieldSeq, r.m.Seq, FieldSendID, r.m.SendID,
					FieldPreview, r.preview, FieldSentAt, r.m.SentAt, FieldUnreadCount, r.unread}})
			if !seen[r.user] {
				seen[r.user] = true
				users = append(users, redis.Z{Member: r.user})
			}
		}
		for _, u := range users {
			p.PExpire(ctx, n.keys.UserOutbox(u.Member.(int64)), n.cfg.OutboxTTL)
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("append %d outbox records: %w", len(offline), err)
	}
	// Indexed even when some appends failed: a user indexed without
	// records costs a worker one empty read.
	now := float64(time.Now().UnixMilli())
	for i := range users {
		users[i].Score = now
	}
	if zerr := n.rdb.ZAddNX(ctx, n.keys.NotificationsPending(), users...).Err(); zerr != nil {
		err = errors.Join(err, fmt.Errorf("index %d users with outbox records: %w", len(users), zerr))
	}
	return err
}
