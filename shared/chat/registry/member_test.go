package registry_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// RegisterCapped with Terms.Member refuses a session whose user, or whose
// receiver, is not a member of its room, membership before the cap, and
// the user before the receiver. A refused session writes nothing at all
// (no session hash, node-set, user or room entry, presence) and announces
// nothing. On a single Redis the check rides in the claim: an admitted
// session costs one round trip, a refused one two (the second removes the
// session hash and node-set entry written before the claim); on a cluster
// the membership is read first, and a refusal costs that one round trip.
// Uncapped, the membership is read first on both; and the fold holds on a
// Redis that lost its scripts (NOSCRIPT: claim.lua runs again).
func TestRegisterCappedChecksMembership(t *testing.T) {
	redistest.OnBoth(t, srv, func(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
		ctx := context.Background()
		f := fixtureOn(t, rdb)
		k := f.keys
		if c != nil {
			c.Spread(t, k.UserSessions(1), k.RoomMembers(5))
		}
		if err := rdb.SAdd(ctx, k.RoomMembers(5), 1, 2).Err(); err != nil {
			t.Fatal(err)
		}
		const max = 3
		for _, s := range []struct {
			id   string
			user int64
		}{{"x1", 2}, {"x2", 2}, {"x3", 2}, {"y1", 4}, {"y2", 4}, {"y3", 4}} { // users 2 and 4 at the cap
			f.register(t, s.id, s.user, 0, "n1")
		}
		l := redistest.Listen(t, rdb, k.RoomEvents(5), k.RoomEvents(6))
		counter := &redistest.RoundTrips{}
		rdb.AddHook(counter)
		connect := func(id string, user, roomID, receiver int64) (bool, error) {
			t.Helper()
			s := registry.Session{ID: id, UserID: user, RoomID: roomID, Node: "n1"}
			counter.Reset()
			return f.reg.RegisterCapped(ctx, s, registry.Terms{Max: max, Member: true, Receiver: receiver})
		}

		if entered, err := connect("a", 1, 5, 2); err != nil || !entered {
			t.Fatalf("member 1 with member receiver 2: %v, %v; want entered", entered, err)
		}
		if got := l.Next(t).Payload; !strings.Contains(got, `"type":"ENTER"`) {
			t.Errorf("event %s, want ENTER", got)
		}
		// Admitted, the scripts loaded: one round trip on a single Redis.
		if _, err := connect("c", 1, 5, 1); err != nil {
			t.Errorf("receiver is the user: %v", err)
		}
		want := int64(1)
		if c != nil {
			want = 4 // the membership and count, the claim, presence.lua, the check
		}
		if n := counter.N(); n != want {
			t.Errorf("an admitted session made %d round trips, want %d", n, want)
		}
		if _, err := connect("b", 3, 0, 4); err != nil {
			t.Errorf("a non-member in no room: %v; membership is not checked without a room", err)
		}

		tests := []struct {
			name                   string
			user, roomID, receiver int64
			want                   error
		}{
			{"not a member", 3, 5, 0, registry.ErrNotMember},
			{"missing room", 1, 6, 0, registry.ErrNotMember},
			{"receiver not a member", 1, 5, 3, registry.ErrReceiverNotMember},
			{"neither: the user first", 3, 5, 4, registry.ErrNotMember},
			{"not a member at the cap: membership first", 4, 5, 0, registry.ErrNotMember},
			{"receiver not a member, user at the cap: membership first", 2, 5, 3, registry.ErrReceiverNotMember},
			{"member at the cap", 2, 5, 1, registry.ErrTooManySessions},
		}
		refusals := []error{registry.ErrNotMember, registry.ErrReceiverNotMember, registry.ErrTooManySessions}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := f.contents(t)
				_, err := connect("refused", tt.user, tt.roomID, tt.receiver)
				trips := counter.N()
				for _, e := range refusals {
					if errors.Is(err, e) != (e == tt.want) {
						t.Errorf("RegisterCapped: %v, want %v only", err, tt.want)
					}
				}
				if after := f.contents(t); !maps.Equal(after, before) {
					t.Errorf("the refused session changed keys:\n%v\nwas %v", after, before)
				}
				want := int64(2) // the registration, then the discard
				if c != nil {
					want = 1 // the membership and count, read first
				}
				if trips != want {
					t.Errorf("the refusal made %d round trips, want %d", trips, want)
				}
				l.None(t, 20*time.Millisecond)
			})
		}

		t.Run("uncapped", func(t *testing.T) {
			before := f.contents(t)
			s := registry.Session{ID: "u", UserID: 3, RoomID: 5, Node: "n1"}
			if _, err := f.reg.RegisterCapped(ctx, s, registry.Terms{Member: true}); !errors.Is(err, registry.ErrNotMember) {
				t.Errorf("a non-member, no cap: %v, want ErrNotMember", err)
			}
			if after := f.contents(t); !maps.Equal(after, before) {
				t.Errorf("the refused session changed keys:\n%v\nwas %v", after, before)
			}
			s.UserID = 2 // a member at the cap of 3: no cap here
			if _, err := f.reg.RegisterCapped(ctx, s, registry.Terms{Member: true, Receiver: 1}); err != nil {
				t.Errorf("a member, no cap: %v", err)
			}
			l.Next(t) // its ENTER
		})
		if c != nil {
			return
		}
		t.Run("scripts not loaded", func(t *testing.T) {
			if err := rdb.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			before := f.contents(t)
			if _, err := connect("n", 1, 5, 3); !errors.Is(err, registry.ErrReceiverNotMember) {
				t.Errorf("receiver not a member: %v, want ErrReceiverNotMember", err)
			}
			if after := f.contents(t); !maps.Equal(after, before) {
				t.Errorf("the refused session changed keys:\n%v\nwas %v", after, before)
			}
			l.None(t, 20*time.Millisecond)
		})
	})
}

// contents reads every key of the fixture's key space (keysUnder) as
// text, sets sorted: a set's DUMP may differ for the same members.
func (f *fixture) contents(t testing.TB) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, key := range f.keysUnder(t) {
		var v any
		var err error
		switch typ := f.rdb.Type(ctx, key).Val(); typ {
		case "set":
			var m []string
			m, err = f.rdb.SMembers(ctx, key).Result()
			slices.Sort(m)
			v = m
		case "hash":
			v, err = f.rdb.HGetAll(ctx, key).Result() // fmt prints maps sorted
		case "string":
			v, err = f.rdb.Get(ctx, key).Result()
		default:
			v, err = f.rdb.Dump(ctx, key).Result()
		}
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		out[key] = fmt.Sprint(v)
	}
	return out
}
