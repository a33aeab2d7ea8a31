package ctl_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/api/internal/ctl"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/events"
)

// TestOutbox: chatctl outbox lists the users with offline records, and
// one user's records, without claiming them.
func TestOutbox(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r, err := room.NewStore(e.rdb, e.ks, room.Config{}).CreateGroup(ctx, 8, "ops", []int64{3, 5})
	if err != nil {
		t.Fatal(err)
	}
	n := notify.New(e.rdb, e.ks, events.NewPublisher(e.rdb, e.ks), notify.Config{})
	msgs := messages.NewStore(e.rdb, e.ks, messages.Config{Observer: n})
	for _, text := range []string{"one", "<two> & more"} {
		if _, _, err := msgs.Send(ctx, r.ID, 8, 0, text); err != nil {
			t.Fatal(err)
		}
	}

	out, errOut, err := run(t, e.vars, "outbox")
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	var users []notify.Pending
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var p notify.Pending
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if time.Since(p.From) > time.Minute || p.Records != 2 {
			t.Errorf("pending %+v, want claimable now with 2 records", p)
		}
		users = append(users, p)
	}
	if len(users) != 2 || users[0].UserID+users[1].UserID != 3+5 {
		t.Fatalf("pending users %+v, want 3 and 5", users)
	}

	out, errOut, err = run(t, e.vars, "outbox", "-user", "5")
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rec notify.Record
	if len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &rec) != nil ||
		rec.UserID != 5 || rec.ChatRoomID != r.ID || rec.Seq != 2 || rec.Preview != "<two> & more" || rec.UnreadCount != 2 {
		t.Fatalf("records of 5:\n%s", out)
	}
	if !strings.Contains(lines[1], `"preview":"<two> & more"`) {
		t.Errorf("record line %s is HTML-escaped", lines[1])
	}
	// Listing claimed nothing: both users are still claimable.
	if claims, err := notify.NewOutbox(e.rdb, e.ks).Claim(ctx, 10, time.Minute); err != nil || len(claims) != 2 {
		t.Errorf("Claim after listing = %v, %v; want both users", claims, err)
	}

	for _, args := range [][]string{{"outbox", "-user", "-1"}, {"outbox", "-limit", "0"}, {"outbox", "x"}} {
		if _, _, err := run(t, e.vars, args...); !errors.Is(err, ctl.ErrUsage) {
			t.Errorf("%v: err %v, want a usage error", args, err)
		}
	}
}
