package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/roomwire/roomwire/shared/chat/notify"
)

// outbox lists the offline outbox for operators, as JSON lines, without
// claiming anything: chatctl outbox [-limit N] prints the pending users
// (userId, claimableFrom, records), soonest claimable first; chatctl
// outbox -user ID prints that user's records, oldest first.
func outbox(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flagSet("outbox", stderr)
	userID := fs.Int64("user", 0, "list this user's records instead of the pending users")
	limit := fs.Int("limit", 100, "most pending users to list")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *userID < 0 || *limit <= 0 {
		fmt.Fprintln(stderr, "chatctl outbox: -user ID and -limit N must be positive")
		return ErrUsage
	}
	rdb, ks, err := openRedis(getenv)
	if err != nil {
		return err
	}
	defer rdb.Close()
	out := notify.NewOutbox(rdb, ks)
	var lines []any
	if *userID > 0 {
		recs, err := out.Records(ctx, *userID)
		if err != nil {
			return err
		}
		for _, r := range recs {
			lines = append(lines, r)
		}
	} else {
		users, err := out.Pending(ctx, *limit)
		if err != nil {
			return err
		}
		for _, u := range users {
			lines = append(lines, u)
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return nil
}
