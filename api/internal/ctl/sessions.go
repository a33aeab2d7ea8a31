package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// sessionLine is one line of "chatctl sessions": the registry entry, or,
// when a view lists a session whose hash is gone, the view's data with
// stale set. It is the CLI's output format, converted from registry.Session
// here (sessionLineOf) so that the domain struct is not the format.
type sessionLine struct {
	ID          string `json:"sessionId"`
	UserID      int64  `json:"userId"`
	RoomID      int64  `json:"roomId,omitempty"`
	Node        string `json:"node"`
	ConnectedAt string `json:"connectedAt"`
	RemoteAddr  string `json:"remoteAddr"`
	Stale       bool   `json:"stale,omitempty"`
}

func sessionLineOf(s registry.Session) sessionLine {
	return sessionLine{ID: s.ID, UserID: s.UserID, RoomID: s.RoomID, Node: s.Node, ConnectedAt: s.ConnectedAt, RemoteAddr: s.RemoteAddr}
}

// sessions prints the sessions of a room or a user as JSON lines, sorted by
// session id: chatctl sessions -room 2 | -user 8.
func sessions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("sessions", stderr)
	roomID := fs.Int64("room", 0, "room id")
	userID := fs.Int64("user", 0, "user id")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*roomID > 0) == (*userID > 0) || *roomID < 0 || *userID < 0 {
		fmt.Fprintln(stderr, "chatctl sessions: give exactly one of -room ID or -user ID (positive)")
		return ErrUsage
	}
	rdb, ks, err := openRedis(getenv)
	if err != nil {
		return err
	}
	defer rdb.Close()
	reg := registry.New(rdb, ks)

	var view map[string]int64 // session id -> room id (user view) or user id (room view)
	if *userID > 0 {
		view, err = reg.UserSessions(ctx, *userID)
	} else {
		view, err = roomSessions(ctx, rdb, ks, *roomID)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, sid := range slices.Sorted(maps.Keys(view)) {
		s, ok, err := reg.Get(ctx, sid)
		if err != nil {
			return err
		}
		line := sessionLineOf(s)
		if !ok {
			line = sessionLine{ID: sid, UserID: *userID, RoomID: *roomID, Stale: true}
			if *userID > 0 {
				line.RoomID = view[sid]
			} else {
				line.UserID = view[sid]
			}
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}

// roomSessions reads a room's session view (session id -> user id). The
// registry package has no reader for this view yet, so it is read here by
// its key name.
func roomSessions(ctx context.Context, rdb redis.UniversalClient, ks keys.Space, roomID int64) (map[string]int64, error) {
	m, err := rdb.HGetAll(ctx, ks.RoomSessions(roomID)).Result()
	if err != nil {
		return nil, fmt.Errorf("load sessions of room %d: %w", roomID, err)
	}
	out := make(map[string]int64, len(m))
	for sid, uid := range m {
		out[sid], _ = strconv.ParseInt(uid, 10, 64)
	}
	return out, nil
}
