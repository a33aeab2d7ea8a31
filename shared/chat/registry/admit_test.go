package registry_test

import (
	"context"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// Admit reads a user's session count and the CONNECT room's membership in
// one round trip, on a single Redis and on a cluster where the room's and
// the user's keys live on different masters.
func TestAdmit(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb)
		k := f.keys
		if c != nil {
			c.Spread(t, k.RoomMembers(5), k.UserSessions(1))
		}
		if err := rdb.SAdd(ctx, k.RoomMembers(5), 1, 2).Err(); err != nil {
			t.Fatal(err)
		}
		f.register(t, "s1", 1, 5, "n1")
		f.register(t, "s2", 1, 0, "n2")

		tests := []struct {
			name         string
			user, roomID int64
			users        []int64
			want         registry.Admission
		}{
			{"member and peer", 1, 5, []int64{1, 2}, registry.Admission{Sessions: 2, Members: []bool{true, true}}},
			{"peer not a member", 1, 5, []int64{1, 3}, registry.Admission{Sessions: 2, Members: []bool{true, false}}},
			{"not a member", 3, 5, []int64{3}, registry.Admission{Sessions: 0, Members: []bool{false}}},
			{"missing room", 1, 6, []int64{1}, registry.Admission{Sessions: 2, Members: []bool{false}}},
			{"no room: membership not read", 2, 0, []int64{2}, registry.Admission{Sessions: 0, Members: []bool{}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := f.reg.Admit(ctx, tt.user, tt.roomID, tt.users...)
				if err != nil || got.Sessions != tt.want.Sessions || !slices.Equal(got.Members, tt.want.Members) {
					t.Errorf("Admit(%d, %d, %v) = %+v, %v; want %+v", tt.user, tt.roomID, tt.users, got, err, tt.want)
				}
			})
		}
	})
}

// Register sends the session, its views and presence.lua in one pipeline
// on a single Redis (EXISTS included) once the script is loaded.
func TestRegisterRoundTrips(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.register(t, "warm", 9, 4, "n1") // loads presence.lua (NOSCRIPT, then EVAL)
	counter := &roundTrips{}
	hooked := srv.Client(t)
	hooked.AddHook(counter)
	entered, err := registry.New(hooked, f.keys).Register(ctx, registry.Session{ID: "s1", UserID: 7, RoomID: 4, Node: "n1"})
	if err != nil || !entered {
		t.Fatalf("Register = %v, %v; want entered", entered, err)
	}
	if counter.n != 1 {
		t.Errorf("Register made %d round trips, want 1", counter.n)
	}
	if s, ok, err := f.reg.Get(ctx, "s1"); err != nil || !ok || s.UserID != 7 {
		t.Errorf("Get(s1) = %+v, %v, %v", s, ok, err)
	}
}

// roundTrips counts commands and pipelines sent, except those that set up
// a new connection (HELLO, CLIENT SETINFO); not concurrency safe.
type roundTrips struct{ n int }

func setup(cmd redis.Cmder) bool { return cmd.Name() == "hello" || cmd.Name() == "client" }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !setup(cmd) {
			h.n++
		}
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !setup(cmds[0]) {
			h.n++
		}
		return next(ctx, cmds)
	}
}
