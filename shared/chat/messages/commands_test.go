package messages_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
)

// TestSendCommandsPerMessage counts, with INFO commandstats, the Redis
// commands one send runs in the common case of a one-to-one chat: a send
// naming its receiver into a direct room where both members are present,
// with notifications on. Every command is paid for every message; the
// count may only go down (it was 14 before the short path for pairs).
func TestSendCommandsPerMessage(t *testing.T) {
	sendCommands(t, messages.Config{Observer: &sentLog{}}, 11)
}

// TestSendCommandsPerMessageArchiveFeed: the archive feed adds one command
// per message, the XADD (the trim guard's HGET runs only in rooms over
// HistoryLen).
func TestSendCommandsPerMessageArchiveFeed(t *testing.T) {
	calls := sendCommands(t, messages.Config{Observer: &sentLog{}, ArchiveFeed: messages.ArchiveFeed{On: true}}, 12)
	if calls["xadd"] != 20 {
		t.Errorf("%d XADD for 20 sends", calls["xadd"])
	}
}

// sendCommands sends 20 messages in a direct room where both members are
// present and checks that send.lua ran at most most commands per message.
func sendCommands(t *testing.T, cfg messages.Config, most int) map[string]int {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t, cfg)
	room := f.direct(t, 1, 2)
	f.rdb.HSet(ctx, f.keys.RoomPresence(room), "1", 1, "2", 1)
	f.send(t, room, 1, 2, "load the script")

	const sends = 20
	if err := f.rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range sends {
		f.send(t, room, int64(1+i%2), int64(2-i%2), "hi")
	}
	calls := commandCalls(t, f.rdb)
	if calls["evalsha"] != sends {
		t.Fatalf("%d EVALSHA for %d sends (%v): one round trip each expected", calls["evalsha"], sends, calls)
	}
	inner := 0
	for cmd, n := range calls {
		if cmd != "evalsha" && !strings.HasPrefix(cmd, "config") && cmd != "info" {
			inner += n
		}
	}
	per := float64(inner) / sends
	t.Logf("send.lua ran %.1f commands per message (%v)", per, calls)
	if per > float64(most) {
		t.Errorf("send.lua ran %.1f commands per message (%v), want at most %d", per, calls, most)
	}
	return calls
}

// commandCalls returns INFO commandstats as command -> calls.
func commandCalls(t *testing.T, rdb redis.UniversalClient) map[string]int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
		out[name] = n
	}
	return out
}
