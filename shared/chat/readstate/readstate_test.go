package readstate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// observed records ReadMoved calls.
type observed struct {
	mu    sync.Mutex
	calls []string
}

func (o *observed) ReadMoved(_ context.Context, roomID, userID, unread int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("room %d user %d unread %d", roomID, userID, unread))
}

func (o *observed) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.calls...)
}

type fixture struct {
	rdb   redis.UniversalClient
	keys  keys.Space
	rooms *room.Store
	msgs  *messages.Store
	reads *readstate.Store
	obs   *observed
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return fixtureOn(t, srv.Client(t))
}

// fixtureOn is newFixture on any Redis: a single server or a cluster.
func fixtureOn(t testing.TB, rdb redis.UniversalClient) *fixture {
	t.Helper()
	ks := redistest.Space(t)
	obs := &observed{}
	return &fixture{rdb: rdb, keys: ks, rooms: room.NewStore(rdb, ks, room.Config{}),
		msgs: messages.NewStore(rdb, ks, messages.Config{}), obs: obs,
		reads: readstate.NewStore(rdb, ks, readstate.Config{Observer: obs})}
}

// group creates a group of by and members with n messages from by.
func (f *fixture) group(t testing.TB, n int, by int64, members ...int64) int64 {
	t.Helper()
	ctx := context.Background()
	r, err := f.rooms.CreateGroup(ctx, by, "g", members)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, _, err := f.msgs.Send(ctx, r.ID, by, 0, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	return r.ID
}

// events returns what arrives on ps within d.
func events(ps *redis.PubSub, d time.Duration) []wire.ReadEvent {
	var out []wire.ReadEvent
	deadline := time.Now().Add(d)
	for {
		msg, err := ps.ReceiveTimeout(context.Background(), time.Until(deadline))
		if err != nil {
			return out
		}
		if m, ok := msg.(*redis.Message); ok {
			var ev wire.ReadEvent
			_ = json.Unmarshal([]byte(m.Payload), &ev)
			out = append(out, ev)
		}
	}
}

func TestMarkReadMovesForwardsOnly(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.group(t, 5, 8, 3)
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(id))

	steps := []struct {
		name       string
		seq        int64
		wantSeq    int64
		wantUnread int64
		wantMoved  bool
	}{
		{"first read", 2, 2, 3, true},
		{"backwards is ignored", 1, 2, 3, false},
		{"same is ignored", 2, 2, 3, false},
		{"beyond lastSeq is capped", 99, 5, 0, true},
		{"Latest when already there", readstate.Latest, 5, 0, false},
		{"zero", 0, 5, 0, false},
	}
	for _, st := range steps {
		r, err := f.reads.MarkRead(ctx, id, 3, st.seq)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		want := readstate.Result{ChatRoomID: id, UserID: 3, Seq: st.wantSeq, UnreadCount: st.wantUnread, Moved: st.wantMoved}
		if r != want {
			t.Errorf("%s: got %+v, want %+v", st.name, r, want)
		}
	}
	got := events(ps, 300*time.Millisecond)
	if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 5 {
		t.Fatalf("READ events %+v, want seq 2 then 5", got)
	}
	for _, ev := range got {
		if ev.Type != wire.EventRead || ev.ChatRoomID != id || ev.UserID != 3 || ev.At == "" {
			t.Errorf("event %+v", ev)
		}
	}
	wantCalls := []string{fmt.Sprintf("room %d user 3 unread 3", id), fmt.Sprintf("room %d user 3 unread 0", id)}
	if c := f.obs.get(); fmt.Sprint(c) != fmt.Sprint(wantCalls) {
		t.Errorf("observer calls %q, want %q", c, wantCalls)
	}
	// 8 is at 5 too: sending moved the sender's position to each message.
	pos, err := f.reads.Positions(ctx, id)
	if err != nil || len(pos) != 2 || pos[3] != 5 || pos[8] != 5 {
		t.Fatalf("Positions = %v, %v", pos, err)
	}
}

func TestMarkReadRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.group(t, 1, 8, 3)
	tests := []struct {
		name       string
		room, user int64
		seq        int64
		want       error
	}{
		{"not a member", id, 5, 1, readstate.ErrNotMember},
		{"no such room", id + 100, 8, 1, readstate.ErrRoomNotFound},
		{"zero room", 0, 8, 1, readstate.ErrRoomNotFound},
		{"negative seq", id, 8, -1, readstate.ErrBadSeq},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.reads.MarkRead(ctx, tt.room, tt.user, tt.seq); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if pos := f.rdb.HGetAll(ctx, f.keys.RoomRead(id)).Val(); len(pos) != 1 || pos["8"] != "1" {
		t.Errorf("positions %v after refused reads, want only the sender's own (8 at 1)", pos)
	}
}

func TestJoinIsSilent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.group(t, 4, 8, 3)
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(id))
	if _, err := f.rooms.AddMember(ctx, id, 8, 5); err != nil {
		t.Fatal(err)
	}
	if err := f.reads.Join(ctx, id, 5); err != nil {
		t.Fatal(err)
	}
	if got := events(ps, 200*time.Millisecond); len(got) != 0 {
		t.Errorf("Join announced %+v", got)
	}
	if len(f.obs.get()) != 0 {
		t.Errorf("Join told the observer")
	}
	pos, err := f.reads.PositionsOf(ctx, 5, []int64{id, id + 1})
	if err != nil || pos[id] != 4 || pos[id+1] != 0 {
		t.Fatalf("PositionsOf = %v, %v", pos, err)
	}
	if err := f.reads.Forget(ctx, id, 5); err != nil {
		t.Fatal(err)
	}
	if pos, _ := f.reads.Positions(ctx, id); len(pos) != 1 || pos[8] != 4 {
		t.Errorf("after Forget: %v, want only the sender 8 at 4", pos)
	}
}

// Concurrent readers of one member: the position ends at the highest seq
// asked for, and READ events only ever go up.
func TestConcurrentReadsNeverGoBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := f.group(t, 50, 8, 3)
	ps := redistest.Subscribe(t, f.rdb, f.keys.RoomEvents(id))
	var wg sync.WaitGroup
	for g := 0; g < 5; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for s := int64(g); s <= 50; s += 5 {
				if _, err := f.reads.MarkRead(ctx, id, 3, s); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	got := events(ps, 300*time.Millisecond)
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Fatalf("READ events went back: %+v", got)
		}
	}
	if len(got) == 0 || got[len(got)-1].Seq != 50 {
		t.Fatalf("last READ %+v, want seq 50", got)
	}
	if pos, _ := f.reads.Positions(ctx, id); pos[3] != 50 {
		t.Fatalf("position %d, want 50", pos[3])
	}
}
