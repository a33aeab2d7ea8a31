package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/config"
	"github.com/roomwire/roomwire/shared/redis/events"
)

// say posts a message: chatctl say -room ID -text TEXT [-as USER]. It goes
// through the one send path (messages.Store.Send, with the post-send
// notifications run in line), so it is stored in history, gets the next
// seq and reaches subscribers like any message. The sender must be a
// member: -as USER, or by default the room's creator (createdBy in the
// room's meta). The message carries no "system" mark on the wire: pick
// the sender accordingly (a dedicated operator member, for instance).
// MAX_MESSAGE_BYTES, HISTORY_LEN, NOTIFY_OUTBOX_MAXLEN and the ARCHIVE_*
// settings are read with the api's defaults, so a send trims history and
// feeds the archive as the api's would.
func say(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("say", stderr)
	roomID := fs.Int64("room", 0, "room id (required)")
	text := fs.String("text", "", "message text (required)")
	as := fs.Int64("as", 0, "sending member's user id; default the room's creator")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *roomID <= 0 || *as < 0 || *text == "" {
		fmt.Fprintln(stderr, "chatctl say: -room ID (positive) and -text TEXT are required; -as USER must be positive")
		return ErrUsage
	}
	maxBytes, err := config.Int(getenv, "MAX_MESSAGE_BYTES", 4096, 1)
	if err != nil {
		return err
	}
	historyLen, err := config.Int(getenv, "HISTORY_LEN", 100000, 1)
	if err != nil {
		return err
	}
	outboxLen, err := config.Int(getenv, "NOTIFY_OUTBOX_MAXLEN", 100, 1)
	if err != nil {
		return err
	}
	rdb, ks, err := openRedis(getenv)
	if err != nil {
		return err
	}
	defer rdb.Close()

	sender, by := *as, "-as"
	if sender == 0 {
		r, err := room.NewStore(rdb, ks, room.Config{}).Get(ctx, *roomID)
		if errors.Is(err, room.ErrNotFound) {
			return fmt.Errorf("say to room %d: %w", *roomID, messages.ErrRoomNotFound)
		}
		if err != nil {
			return err
		}
		sender, by = r.CreatedBy, "the room's creator"
	}
	// Not started: the notifier runs its post-send step inside Send.
	notes := notify.New(rdb, ks, events.NewPublisher(rdb, ks), notify.Config{
		OutboxMaxLen: int64(outboxLen), Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	arc, err := config.LoadArchive(getenv)
	if err != nil {
		return err
	}
	mcfg := messages.Config{MaxBytes: maxBytes, HistoryLen: historyLen, Observer: notes}
	if arc.On() { // fed like the api's sends, so the archive misses nothing
		mcfg.ArchiveFeed = messages.ArchiveFeed{On: true, StreamMax: arc.StreamMax, BacklogMax: arc.BacklogMax}
	}
	store := messages.NewStore(rdb, ks, mcfg)
	m, _, err := store.Send(ctx, *roomID, sender, 0, *text)
	switch {
	case errors.Is(err, messages.ErrNotMember):
		return fmt.Errorf("say to room %d as user %d (%s): %w; pass -as with a member's id", *roomID, sender, by, err)
	case err != nil:
		return fmt.Errorf("say to room %d: %w", *roomID, err)
	}
	_, err = fmt.Fprintf(stdout, "sent message %s (seq %d) to room %d as user %d at %s\n", m.ID, m.Seq, m.ChatRoomID, m.SendID, m.SentAt)
	return err
}
