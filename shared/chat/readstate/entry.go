package readstate

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Entry is MarkRead(room, user, Latest), the read move of a session that
// enters a room at CONNECT, made to ride in the session's registration:
// the registry queues it in its own pipeline (it is a registry.Rider), so
// it costs no round trip of its own; Finish then reads its answer. An
// Entry serves one CONNECT, on one goroutine.
type Entry struct {
	s              *Store
	roomID, userID int64
	head, tail     string
	cmd            *redis.Cmd // nil until queued
}

// Entering returns the move of user's position in room to the room's
// latest message, announced as MarkRead announces it (READ on the room's
// events channel; the Observer from Finish).
func (s *Store) Entering(roomID, userID int64) *Entry {
	e := &Entry{s: s, roomID: roomID, userID: userID}
	e.head, e.tail = s.announcement(roomID, userID)
	return e
}

// Queue queues the move on p, a pipeline on the Store's Redis. With
// sessions set (a hash on the room's slot: the room's session hash) the
// move is made only if that hash holds the field session.
func (e *Entry) Queue(ctx context.Context, p redis.Pipeliner, sessions, session string) {
	if e.roomID <= 0 || e.userID <= 0 {
		return // Finish reports it
	}
	ks, args := e.s.readKeys(e.roomID), []any{e.userID, Latest, e.head, e.tail}
	if sessions != "" {
		ks, args = append(ks, sessions), append(args, session)
	}
	e.cmd = readScript.EvalSha(ctx, p, e.s.rdb, ks, args...)
}

// Finish returns the move's result and tells the Observer when the
// position moved, as MarkRead does. Call it once the pipeline ran and only
// when the registration succeeded: a move that did not run in the pipeline
// (not queued, its script not loaded yet, or the session not in the hash:
// its presence.lua not loaded yet, or a removal racing the registration)
// is made now.
func (e *Entry) Finish(ctx context.Context) (Result, error) {
	if !e.ran() {
		if e.roomID <= 0 || e.userID <= 0 {
			return Result{}, ErrRoomNotFound
		}
		e.cmd = readScript.Run(ctx, e.s.rdb, e.s.readKeys(e.roomID), e.userID, Latest, e.head, e.tail)
	}
	r, err := e.s.result(e.roomID, e.userID, e.cmd)
	e.s.observe(ctx, r, err)
	return r, err
}

// ran reports whether the queued move ran and was not held back by its
// session check.
func (e *Entry) ran() bool {
	if e.cmd == nil || redis.HasErrorPrefix(e.cmd.Err(), "NOSCRIPT") {
		return false
	}
	vals, err := e.cmd.Int64Slice()
	return err != nil || len(vals) != 3 || vals[1] != -1
}
