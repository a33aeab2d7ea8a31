package room_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// fixture is a room store over a private key space, plus the real message
// store for activity.
type fixture struct {
	rdb   redis.UniversalClient
	keys  keys.Space
	rooms *room.Store
	msgs  *messages.Store
}

func newFixture(t testing.TB, cfg room.Config) *fixture {
	t.Helper()
	return fixtureOn(t, srv.Client(t), cfg)
}

// fixtureOn is newFixture on any Redis: a single server or a cluster.
func fixtureOn(t testing.TB, rdb redis.UniversalClient, cfg room.Config) *fixture {
	t.Helper()
	ks := redistest.Space(t)
	return &fixture{rdb: rdb, keys: ks, rooms: room.NewStore(rdb, ks, cfg), msgs: messages.NewStore(rdb, ks, messages.Config{})}
}

func (f *fixture) group(t testing.TB, caller int64, members ...int64) room.Room {
	t.Helper()
	r, err := f.rooms.CreateGroup(context.Background(), caller, "team", members)
	if err != nil {
		t.Fatalf("CreateGroup(%d, %v): %v", caller, members, err)
	}
	return r
}

func (f *fixture) direct(t testing.TB, a, b int64) room.Room {
	t.Helper()
	r, _, err := f.rooms.CreateDirect(context.Background(), a, b)
	if err != nil {
		t.Fatalf("CreateDirect(%d, %d): %v", a, b, err)
	}
	return r
}

// userRooms reads a user's room set straight from Redis.
func (f *fixture) userRooms(t testing.TB, user int64) []int64 {
	t.Helper()
	var ids []int64
	for _, v := range f.rdb.SMembers(context.Background(), f.keys.UserRooms(user)).Val() {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("user %d rooms hold %q", user, v)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// members reads a room's member set straight from Redis.
func (f *fixture) members(t testing.TB, id int64) []int64 {
	t.Helper()
	ms, err := f.rooms.Members(context.Background(), id)
	if err != nil {
		t.Fatalf("Members(%d): %v", id, err)
	}
	return ms
}

// nextMilli returns once the wall clock has moved to a later millisecond,
// so that timestamps taken before and after differ.
func nextMilli(t testing.TB) {
	t.Helper()
	start := time.Now().UnixMilli()
	redistest.Eventually(t, "the next millisecond", func() bool { return time.Now().UnixMilli() > start })
}
