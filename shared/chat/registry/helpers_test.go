package registry_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// fixture is a registry over a private key space.
type fixture struct {
	rdb  redis.UniversalClient
	keys keys.Space
	reg  *registry.Registry
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return fixtureOn(t, srv.Client(t))
}

// fixtureOn is newFixture on any Redis: a single server or a cluster.
func fixtureOn(t testing.TB, rdb redis.UniversalClient) *fixture {
	t.Helper()
	ks := redistest.Space(t)
	return &fixture{rdb: rdb, keys: ks, reg: registry.New(rdb, ks)}
}

func (f *fixture) register(t testing.TB, id string, user, roomID int64, node string) registry.Session {
	t.Helper()
	s := registry.Session{ID: id, UserID: user, RoomID: roomID, Node: node,
		ConnectedAt: "2026-01-02T03:04:05.678Z", RemoteAddr: "10.0.0.1:5" + id}
	if _, err := f.reg.Register(context.Background(), s); err != nil {
		t.Fatalf("Register(%s): %v", id, err)
	}
	return s
}

// roomEvents publishes a marker on the room's events channel and returns
// every event ps received on that channel before it. Redis delivers one
// connection's messages in order, so this is everything published so far.
func (f *fixture) roomEvents(t testing.TB, ps *redis.PubSub, roomID int64) []wire.Event {
	t.Helper()
	const marker = `{"type":"TEST_MARKER"}`
	if err := f.rdb.Publish(context.Background(), f.keys.RoomEvents(roomID), marker).Err(); err != nil {
		t.Fatal(err)
	}
	var out []wire.Event
	for {
		msg := redistest.Next(t, ps)
		if msg.Channel != f.keys.RoomEvents(roomID) {
			t.Fatalf("message on %q; roomEvents needs a subscription to one room", msg.Channel)
		}
		if msg.Payload == marker {
			return out
		}
		var ev wire.Event
		if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil {
			t.Fatalf("event %q: %v", msg.Payload, err)
		}
		if !wireTime.MatchString(ev.At) {
			t.Errorf("event %s: at is not the wire time layout", msg.Payload)
		}
		ev.At = "" // compared separately
		out = append(out, ev)
	}
}

var wireTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// keysUnder lists every key of the fixture's key space, sorted, except
// the users' last-seen keys, which outlive sessions by design (see
// lastseen_test.go).
func (f *fixture) keysUnder(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, k := range redistest.Keys(t, f.rdb, f.keys.Prefix()+":*") {
		if !strings.HasSuffix(k, ":lastseen") {
			out = append(out, k)
		}
	}
	return out
}
