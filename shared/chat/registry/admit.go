package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/room"
)

// ErrTooManySessions means RegisterCapped refused a session: its user
// already has the most live sessions allowed.
var ErrTooManySessions = errors.New("too many sessions")

// Terms are what RegisterCapped admits a new session on, checked in this
// order: its user's membership of its room, its receiver's, then the cap.
// Membership is not checked for a session in no room.
type Terms struct {
	// Member requires the session's user to be a member of its room; a
	// refusal wraps ErrNotMember.
	Member bool
	// Receiver, when not 0 and not the session's user, must be a member
	// of the session's room as well (a CONNECT's rcvId); a refusal wraps
	// ErrReceiverNotMember.
	Receiver int64
	// Max is the most live sessions the user may have on all nodes
	// (<= 0: no cap); a refusal wraps ErrTooManySessions.
	Max int
}

// members returns the users t requires to be members of s's room, the
// session's user first.
func (t Terms) members(s Session) []int64 {
	if s.RoomID <= 0 {
		return nil
	}
	var users []int64
	if t.Member {
		users = append(users, s.UserID)
	}
	if t.Receiver != 0 && t.Receiver != s.UserID {
		users = append(users, t.Receiver)
	}
	return users
}

// ErrNotMember means RegisterCapped refused a session: its user is not a
// member of its room (or the room does not exist).
var ErrNotMember = errors.New("not a member of the room")

// ErrReceiverNotMember means RegisterCapped refused a session: the
// receiver it names (Terms.Receiver) is not a member of its room.
var ErrReceiverNotMember = errors.New("receiver not a member of the room")

// claimCall is one call of claim.lua for a session.
type claimCall struct {
	keys    []string
	args    []any
	max     int
	members []int64 // checked by the call, the session's user first
}

// claim is claim.lua's call for s under a cap of max, checking that
// members (none: no check) are members of s's room.
func (r *Registry) claim(s Session, max int, members []int64) claimCall {
	c := claimCall{keys: []string{r.keys.UserSessions(s.UserID)}, args: []any{s.ID, s.RoomID, max},
		max: max, members: members}
	if len(members) > 0 {
		c.keys = append(c.keys, r.keys.RoomMembers(s.RoomID))
		for _, u := range members {
			c.args = append(c.args, u)
		}
	}
	return c
}

// refusal is the error for claim.lua's answer n (not 1) for s.
func (c claimCall) refusal(s Session, n int) error {
	if i := -n - 1; n < 0 && i < len(c.members) {
		return notMember(s, c.members[i])
	}
	if n == 0 {
		return tooMany(s, c.max)
	}
	return fmt.Errorf("claim session %s: unexpected answer %d", s.ID, n)
}

// claimed reads claim.lua's answer for s: 1 when claimed, else a refusal
// (claimCall.refusal); rerun reports that it had to be run again after the
// pipeline (first use on this Redis: NOSCRIPT).
func (r *Registry) claimed(ctx context.Context, claim *redis.Cmd, c claimCall, s Session) (n int, rerun bool, err error) {
	if redis.HasErrorPrefix(claim.Err(), "NOSCRIPT") {
		claim, rerun = claimScript.Run(ctx, r.rdb, c.keys, c.args...), true
	}
	n, err = claim.Int()
	if err != nil {
		return 0, rerun, fmt.Errorf("claim a session of user %d: %w", s.UserID, err)
	}
	return n, rerun, nil
}

// admit refuses s, before anything is written, when a user of members is
// not a member of its room or, capped, when its user is at the cap (an
// early refusal; the claim is exact): where claim.lua cannot check the
// membership (a cluster: other slots; or no claim, uncapped).
func (r *Registry) admit(ctx context.Context, s Session, t Terms, members []int64) error {
	a, err := r.Admit(ctx, s.UserID, s.RoomID, members...)
	if err != nil {
		return fmt.Errorf("register session %s: %w", s.ID, err)
	}
	for i, ok := range a.Members {
		if !ok {
			return notMember(s, members[i])
		}
	}
	if t.Max > 0 && a.Sessions >= t.Max {
		return tooMany(s, t.Max)
	}
	return nil
}

// notMember is the refusal of s because user is not a member of its room.
func notMember(s Session, user int64) error {
	if user == s.UserID {
		return fmt.Errorf("register session %s: user %d is not a member of room %d: %w", s.ID, user, s.RoomID, ErrNotMember)
	}
	return fmt.Errorf("register session %s: its receiver %d is not a member of room %d: %w", s.ID, user, s.RoomID, ErrReceiverNotMember)
}

// tooMany is the refusal of s because its user is at the cap of max.
func tooMany(s Session, max int) error {
	return fmt.Errorf("register session %s: user %d is at the cap of %d sessions: %w", s.ID, s.UserID, max, ErrTooManySessions)
}

// discard removes what register wrote before the claim refused s (the
// session hash and the node's entry; nothing else was written) and returns
// refusal, the claim's reason.
func (r *Registry) discard(ctx context.Context, s Session, refusal error) error {
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.keys.Session(s.ID))
		p.SRem(ctx, r.keys.NodeSessions(s.Node), s.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("discard refused session %s: %w", s.ID, err)
	}
	return refusal
}

// Admission is what a CONNECT must know before its session registers.
type Admission struct {
	// Sessions is how many live sessions the user has on every node: for
	// an early refusal; RegisterCapped enforces the cap atomically.
	Sessions int
	// Members tells, for each user asked about, whether they belong to the
	// room (empty when no room was given).
	Members []bool
}

// Admit reads, in one round trip (a pipeline; on a cluster one per node,
// in parallel), userID's session count and whether each of users is a
// member of roomID (room 0: membership is not read). RegisterCapped uses
// it where claim.lua cannot check the membership.
func (r *Registry) Admit(ctx context.Context, userID, roomID int64, users ...int64) (Admission, error) {
	var count *redis.IntCmd
	member := make([]*redis.BoolCmd, 0, len(users))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if roomID > 0 {
			for _, u := range users {
				member = append(member, room.QueueIsMember(ctx, p, r.keys, roomID, u))
			}
		}
		count = p.HLen(ctx, r.keys.UserSessions(userID))
		return nil
	})
	if err != nil {
		return Admission{}, fmt.Errorf("admit user %d to room %d: %w", userID, roomID, err)
	}
	a := Admission{Sessions: int(count.Val()), Members: make([]bool, len(member))}
	for i, m := range member {
		a.Members[i] = m.Val()
	}
	return a, nil
}
