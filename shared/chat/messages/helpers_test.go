package messages_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// fixture is a message store over a private key space, with rooms created
// through the real room store.
type fixture struct {
	rdb   redis.UniversalClient
	keys  keys.Space
	msgs  *messages.Store
	rooms *room.Store
}

func newFixture(t testing.TB, cfg messages.Config) *fixture {
	t.Helper()
	return fixtureOn(t, srv.Client(t), cfg)
}

// fixtureOn is newFixture on any Redis: a single server or a cluster.
func fixtureOn(t testing.TB, rdb redis.UniversalClient, cfg messages.Config) *fixture {
	t.Helper()
	ks := redistest.Space(t)
	return &fixture{rdb: rdb, keys: ks, msgs: messages.NewStore(rdb, ks, cfg), rooms: room.NewStore(rdb, ks, room.Config{})}
}

func (f *fixture) group(t testing.TB, caller int64, members ...int64) int64 {
	t.Helper()
	r, err := f.rooms.CreateGroup(context.Background(), caller, "g", members)
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	return r.ID
}

func (f *fixture) direct(t testing.TB, a, b int64) int64 {
	t.Helper()
	r, _, err := f.rooms.CreateDirect(context.Background(), a, b)
	if err != nil {
		t.Fatalf("CreateDirect: %v", err)
	}
	return r.ID
}

// send sends text and fails the test on error.
func (f *fixture) send(t testing.TB, roomID, sender, rcv int64, text string) (wire.Message, []byte) {
	t.Helper()
	m, raw, err := f.msgs.Send(context.Background(), roomID, sender, rcv, text)
	if err != nil {
		t.Fatalf("Send(room %d, sender %d, rcv %d): %v", roomID, sender, rcv, err)
	}
	return m, raw
}

// seqs decodes the seq of each raw message.
func seqs(t testing.TB, raws [][]byte) []int64 {
	t.Helper()
	out := []int64{}
	for _, r := range raws {
		var m wire.Message
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatalf("history entry %s: %v", r, err)
		}
		out = append(out, m.Seq)
	}
	return out
}

// oneSeq selects the history entry with exactly this seq.
func oneSeq(seq int64) *redis.ZRangeBy {
	s := strconv.FormatInt(seq, 10)
	return &redis.ZRangeBy{Min: s, Max: s}
}
