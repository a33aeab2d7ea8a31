package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/events"
)

// ErrNoSession means "chatctl kick" found no such session in the registry:
// it never existed, or it already ended (closed, kicked, reaped).
var ErrNoSession = errors.New("no such session")

// kickLeaveReason is the LEAVE reason a kick announces on the room's
// events channel, like "api" for the disconnect API.
const kickLeaveReason = "kick"

// kick ends one session: chatctl kick -session SID [-reason TEXT]. Like the
// disconnect API it takes the session from the registry (registry.Kick,
// once; only the first remover wins; recorded for the node, which closes
// the socket even if the command below is lost) and then asks the
// session's node, over its control channel, to close the socket with TEXT
// as the reason.
func kick(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("kick", stderr)
	sid := fs.String("session", "", "session id (required), as listed by chatctl sessions")
	reason := fs.String("reason", "kicked by operator", "reason given to the client")
	if err := parse(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*sid) == "" {
		fmt.Fprintln(stderr, "chatctl kick: -session SID is required")
		return ErrUsage
	}
	rdb, ks, err := openRedis(getenv)
	if err != nil {
		return err
	}
	defer rdb.Close()
	s, removed, err := registry.New(rdb, ks).Kick(ctx, *sid, kickLeaveReason, *reason)
	if !removed {
		if err != nil {
			return err
		}
		return fmt.Errorf("kick %s: %w (already ended, or never registered)", *sid, ErrNoSession)
	}
	// Remove may fail after taking the session (while cleaning its views):
	// the session is gone all the same, and its socket must still close.
	cmd := wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{s.ID}, Reason: *reason}
	if perr := events.NewPublisher(rdb, ks).Node(ctx, s.Node, cmd); perr != nil {
		return errors.Join(err, perr)
	}
	fmt.Fprintf(stdout, "kicked session %s (user %d, room %d) on node %s: %s\n", s.ID, s.UserID, s.RoomID, s.Node, *reason)
	if err != nil {
		return fmt.Errorf("session %s removed and its node told, but cleaning its views failed: %w", s.ID, err)
	}
	return nil
}
