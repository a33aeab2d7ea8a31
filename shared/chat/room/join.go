package room

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/redis/go-redis/v9"
)

//go:embed join.lua
var joinLua string

var joinScript = redis.NewScript(joinLua)

// join.lua's answers.
const (
	joinMissingActor = -1
	joinFull         = 0
	joinAdded        = 1
	joinAlready      = 2
)

// joinCall is one run of join.lua: add member to set unless it holds max.
type joinCall struct {
	set    string
	member int64
	max    int
	actor  int64 // > 0: set must hold actor already
	// record, when not "", is the archive stream that receives a "type
	// room" record of roomID when the member is added.
	record string
	roomID int64
}

// joins runs join.lua for each call in one pipeline (on a cluster, one
// round trip per master, in parallel) and returns the answers. After
// NOSCRIPT (first use on a Redis) it loads the script and sends those
// calls again. On error, answers not known are 0.
func (s *Store) joins(ctx context.Context, calls []joinCall) ([]int64, error) {
	out := make([]int64, len(calls))
	todo := make([]int, len(calls))
	for i := range todo {
		todo[i] = i
	}
	for attempt := 0; len(todo) > 0; attempt++ {
		if attempt > 0 {
			if err := joinScript.Load(ctx, s.rdb).Err(); err != nil {
				return out, fmt.Errorf("load join.lua: %w", err)
			}
		}
		cmds := make([]*redis.Cmd, len(todo))
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range todo {
				call := calls[c]
				ks, args := []string{call.set}, []any{call.member, call.max}
				if call.actor > 0 || call.record != "" {
					args = append(args, call.actor)
				}
				if call.record != "" {
					ks = append(ks, call.record)
					args = append(args, call.roomID, s.cfg.ArchiveFeed.StreamMax)
				}
				cmds[i] = joinScript.EvalSha(ctx, p, ks, args...)
			}
			return nil
		})
		var again []int
		var firstErr error
		for i, cmd := range cmds {
			n, err := cmd.Int64()
			switch {
			case redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0:
				again = append(again, todo[i])
			case err != nil:
				if firstErr == nil {
					firstErr = fmt.Errorf("add %d to %s: %w", calls[todo[i]].member, calls[todo[i]].set, err)
				}
			default:
				out[todo[i]] = n
			}
		}
		if firstErr != nil {
			return out, firstErr
		}
		todo = again
	}
	return out, nil
}

// claim puts roomID into the room set of each of users, none beyond
// Config.MaxRoomsPerUser, before the room's side is written. If a user is
// refused (ErrTooManyRooms, naming them) or Redis fails, the claims this
// call made are taken back. A user whose set holds roomID already passes.
// claimed lists the users whose sets this call changed.
func (s *Store) claim(ctx context.Context, roomID int64, users []int64) (claimed []int64, err error) {
	calls := make([]joinCall, len(users))
	for i, u := range users {
		calls[i] = joinCall{set: s.keys.UserRooms(u), member: roomID, max: s.cfg.MaxRoomsPerUser}
	}
	res, err := s.joins(ctx, calls)
	for i, n := range res {
		switch {
		case n == joinAdded:
			claimed = append(claimed, users[i])
		case n == joinFull && err == nil:
			err = fmt.Errorf("%w: user %d is in the most rooms allowed (%d)", ErrTooManyRooms, users[i], s.cfg.MaxRoomsPerUser)
		}
	}
	if err != nil {
		s.unclaim(ctx, roomID, claimed)
		return nil, err
	}
	return claimed, nil
}

// unclaim takes back claim's work for users, when the room's side refused
// them. Best effort: if it fails, a user's set keeps a room id whose room
// does not list them (it counts against their cap until they leave it).
func (s *Store) unclaim(ctx context.Context, roomID int64, users []int64) {
	if len(users) == 0 {
		return
	}
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range users {
			p.SRem(ctx, s.keys.UserRooms(u), roomID)
		}
		return nil
	})
}
