package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/typing"
)

// The authorization matrix over STOMP: users A and B, rooms R1 (group of A
// with B), R2 (group of A alone), R3 (direct room of B and C). Every room
// destination is tried by both users in all three rooms: members succeed,
// non-members get ERROR and the close, and leave no trace (no room key
// written, nothing published on any room or user channel).
const (
	wsA int64 = 8
	wsB int64 = 3
	wsC int64 = 5
)

type wsWorld struct {
	e       *env
	rooms   map[string]int64
	members map[string][]int64
}

func (w *wsWorld) isMember(room string, user int64) bool {
	return slices.Contains(w.members[room], user)
}

func newWSWorld(t *testing.T) *wsWorld {
	t.Helper()
	e := featureNode(t, redistest.Space(t), "authz", typing.Config{})
	w := &wsWorld{e: e,
		rooms:   map[string]int64{"R1": e.group(wsA, wsB), "R2": e.group(wsA), "R3": e.directRoom(wsB, wsC)},
		members: map[string][]int64{"R1": {wsA, wsB}, "R2": {wsA}, "R3": {wsB, wsC}},
	}
	owner := map[string]int64{"R1": wsA, "R2": wsA, "R3": wsC}
	for name, id := range w.rooms {
		if _, _, err := e.msgs.Send(context.Background(), id, owner[name], 0, "first in "+name); err != nil {
			t.Fatal(err)
		}
	}
	// The node's notifier runs off the send path and decides then who is
	// online: the setup waits until it has filed B's two offline records
	// (the first messages of R1 and R3), or a test that connects B first
	// would see them published to B as if its action had caused them.
	redistest.Eventually(t, "the setup's notifications", func() bool {
		return e.rdb.XLen(context.Background(), e.keys.UserOutbox(wsB)).Val() == 2
	})
	return w
}

// wsRoomState is every key of every room with its DUMP.
func wsRoomState(t testing.TB, e *env) redistest.Snapshot {
	t.Helper()
	return redistest.TakeSnapshot(t, e.rdb, e.keys.Prefix()+":room:*")
}

// wsPublished listens on every room and user channel; the returned func
// answers what was published since.
func wsPublished(t testing.TB, e *env) func() []string {
	t.Helper()
	return redistest.Published(t, e.rdb, e.keys.Prefix()+":room:{0}:authz-marker", e.keys.Prefix()+":room:*", e.keys.Prefix()+":user:*")
}

// wsAction is one STOMP destination of the matrix.
type wsAction struct {
	name string
	// do runs the action as user in room id. A member's run checks its
	// success itself; a non-member's returns the ERROR the server sent
	// (the connection must be closed after it).
	do func(t *testing.T, w *wsWorld, id, user int64, member bool) *stomp.Frame
	// refusal is what the ERROR message must contain.
	refusal string
}

// refused waits for the ERROR of a refused frame, which must be the next
// frame (nothing of the room may arrive before it), and for the close.
func refused(c *client) *stomp.Frame {
	c.t.Helper()
	f := c.expect("ERROR")
	c.expectClosed()
	return f
}

var wsActions = []wsAction{
	{name: "SUBSCRIBE messages", refusal: "forbidden",
		do: func(t *testing.T, w *wsWorld, id, user int64, member bool) *stomp.Frame {
			c, _ := w.e.connect(user)
			// last-seq:0 asks for the whole history: a non-member must get
			// none of it.
			c.send("SUBSCRIBE", "", "id", "m", "destination", fmt.Sprintf("/sub/chat/room/%d", id), "last-seq", "0", "receipt", "sub")
			if !member {
				return refused(c)
			}
			// The replayed message and the RECEIPT, in either order.
			var msgs int
			for receipt := false; !receipt || msgs == 0; {
				switch f := c.next(); f.Command {
				case "RECEIPT":
					receipt = true
				case "MESSAGE":
					msgs++
					if m := msgOf(t, f); num(m["chatRoomId"]) != id || num(m["seq"]) != 1 {
						t.Fatalf("resumed %v", m)
					}
				default:
					t.Fatalf("got %s %v %q", f.Command, f.Headers, f.Body)
				}
			}
			return nil
		}},
	{name: "SUBSCRIBE events", refusal: "forbidden",
		do: func(t *testing.T, w *wsWorld, id, user int64, member bool) *stomp.Frame {
			c, _ := w.e.connect(user)
			c.send("SUBSCRIBE", "", "id", "ev", "destination", eventsDest(id), "receipt", "sub")
			if !member {
				return refused(c)
			}
			c.expect("RECEIPT")
			// The member's subscription works: their own ENTER shows.
			w.e.connect(user, "chatRoomId", strconv.FormatInt(id, 10))
			if ev := c.event(); ev["type"] != "ENTER" || num(ev["chatRoomId"]) != id || num(ev["userId"]) != user {
				t.Fatalf("event %v", ev)
			}
			return nil
		}},
	{name: "SEND /pub/send-message", refusal: "not a member",
		do: func(t *testing.T, w *wsWorld, id, user int64, member bool) *stomp.Frame {
			c, _ := w.e.connect(user)
			body := fmt.Sprintf(`{"chatRoomId":%d,"sendId":%d,"message":"hello"}`, id, user)
			if !member {
				c.send("SEND", body, "destination", gateway.SendDestination, "receipt", "r")
				return refused(c)
			}
			c.sendOK(gateway.SendDestination, body)
			if n := w.e.rdb.ZCard(context.Background(), w.e.keys.RoomHistory(id)).Val(); n != 2 {
				t.Fatalf("history has %d messages after a member's send, want 2", n)
			}
			return nil
		}},
	{name: "SEND read", refusal: "forbidden",
		do: func(t *testing.T, w *wsWorld, id, user int64, member bool) *stomp.Frame {
			c, _ := w.e.connect(user)
			if !member {
				c.send("SEND", `{"seq":1}`, "destination", roomDest(id, "read"), "receipt", "r")
				return refused(c)
			}
			c.sendOK(roomDest(id, "read"), `{"seq":1}`)
			pos := w.e.rdb.HGet(context.Background(), w.e.keys.RoomRead(id), strconv.FormatInt(user, 10)).Val()
			if pos != "1" {
				t.Fatalf("read position %q after a member's read, want 1", pos)
			}
			return nil
		}},
	{name: "SEND typing", refusal: "forbidden",
		do: func(t *testing.T, w *wsWorld, id, user int64, member bool) *stomp.Frame {
			c, _ := w.e.connect(user)
			if !member {
				c.send("SEND", `{"typing":true}`, "destination", roomDest(id, "typing"), "receipt", "r")
				return refused(c)
			}
			published := wsPublished(t, w.e)
			c.sendOK(roomDest(id, "typing"), `{"typing":true}`)
			want := fmt.Sprintf(`%s {"type":"TYPING","chatRoomId":%d,"userId":%d,"typing":true`, w.e.keys.RoomEvents(id), id, user)
			if got := published(); len(got) != 1 || !strings.HasPrefix(got[0], want) {
				t.Fatalf("published %q, want one %s…", got, want)
			}
			return nil
		}},
	{name: "CONNECT chatRoomId", refusal: "forbidden",
		do: func(t *testing.T, w *wsWorld, id, user int64, member bool) *stomp.Frame {
			r := strconv.FormatInt(id, 10)
			if !member {
				c := w.e.dial()
				c.send("CONNECT", "", "accept-version", "1.2", "Authorization", "Bearer "+w.e.token(user),
					"chatRoomId", r, "sendId", strconv.FormatInt(user, 10))
				return refused(c)
			}
			w.e.connect(user, "chatRoomId", r, "sendId", strconv.FormatInt(user, 10))
			redistest.Eventually(t, "the member's presence in the room", func() bool {
				p, err := w.e.reg.RoomPresence(context.Background(), id)
				return err == nil && p[user] == 1
			})
			return nil
		}},
}

func TestAuthorizationMatrixSTOMP(t *testing.T) {
	users := map[string]int64{"A": wsA, "B": wsB}
	cases := 0
	for _, a := range wsActions {
		for _, un := range []string{"A", "B"} {
			for _, rn := range []string{"R1", "R2", "R3"} {
				cases++
				user := users[un]
				t.Run(fmt.Sprintf("%s/%s/%s", a.name, un, rn), func(t *testing.T) {
					w := newWSWorld(t)
					id := w.rooms[rn]
					if w.isMember(rn, user) {
						a.do(t, w, id, user, true)
						return
					}
					ctx := context.Background()
					before := wsRoomState(t, w.e)
					published := wsPublished(t, w.e)
					f := a.do(t, w, id, user, false)
					if msg := f.Value("message"); !strings.Contains(msg, a.refusal) {
						t.Errorf("ERROR message %q, want it to contain %q", msg, a.refusal)
					}
					if f.Value("message") != "" && strings.Contains(string(f.Body), "first in") {
						t.Errorf("ERROR body leaks history: %q", f.Body)
					}
					// The refused connection's session is gone before we look.
					redistest.Eventually(t, "the refused session to end", func() bool {
						s, err := w.e.reg.UserSessions(ctx, user)
						return err == nil && len(s) == 0
					})
					if pub := published(); len(pub) != 0 {
						t.Errorf("non-member's %s published %q", a.name, pub)
					}
					if d := before.Diff(wsRoomState(t, w.e)); len(d) != 0 {
						t.Errorf("non-member's %s changed room keys: %v", a.name, d)
					}
					if p, err := w.e.reg.RoomPresence(ctx, id); err != nil || p[user] != 0 {
						t.Errorf("non-member present in %s: %v (%v)", rn, p, err)
					}
					pos, err := w.e.rdb.HExists(ctx, w.e.keys.RoomRead(id), strconv.FormatInt(user, 10)).Result()
					if err != nil || pos {
						t.Errorf("non-member has a read position in %s (%v)", rn, err)
					}
				})
			}
		}
	}
	if want := len(wsActions) * 2 * 3; cases != want {
		t.Fatalf("matrix has %d cases, want %d", cases, want)
	}
}

// drainNotes collects the notifications c receives until it has been
// quiet for a while.
func drainNotes(c *client) []map[string]any {
	c.t.Helper()
	var got []map[string]any
	for {
		select {
		case f := <-c.frames:
			if f.Command != "MESSAGE" || f.Value("destination") != gateway.NotificationsDestination {
				c.t.Fatalf("got %s %v %q on a notifications-only session", f.Command, f.Headers, f.Body)
			}
			got = append(got, msgOf(c.t, f))
		case <-time.After(300 * time.Millisecond):
			return got
		}
	}
}

// TestNotificationsAreOnlyTheSubscribers runs the matrix's traffic while A
// and B each listen on /user/queue/notifications: each sees only their
// own notifications, never one about a room they are not in.
func TestNotificationsAreOnlyTheSubscribers(t *testing.T) {
	w := newWSWorld(t)
	ctx := context.Background()
	a, _ := w.e.connect(wsA)
	a.subscribeOK("n", gateway.NotificationsDestination)
	b, _ := w.e.connect(wsB)
	b.subscribeOK("n", gateway.NotificationsDestination)
	// Another user's queue cannot be named.
	for _, dest := range []string{"/user/8/queue/notifications", "/user/queue/notifications/8", "/user/queue/notifications?user=8"} {
		x, _ := w.e.connect(wsB)
		x.send("SUBSCRIBE", "", "id", "x", "destination", dest)
		if f := refused(x); !strings.Contains(f.Value("message"), "unknown destination") {
			t.Fatalf("SUBSCRIBE %s: %v", dest, f.Headers)
		}
	}

	// B writes in R1 (A notified), A in R2 (nobody: A alone), C in R3 (B
	// notified), A reads R1 (A's UNREAD).
	if _, _, err := w.e.msgs.Send(ctx, w.rooms["R1"], wsB, wsA, "from B in R1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.e.msgs.Send(ctx, w.rooms["R2"], wsA, 0, "from A in R2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.e.msgs.Send(ctx, w.rooms["R3"], wsC, wsB, "from C in R3"); err != nil {
		t.Fatal(err)
	}
	gotA, gotB := drainNotes(a), drainNotes(b)
	// Then A reads R1: the UNREAD is A's alone.
	a.send("SEND", `{"seq":50}`, "destination", roomDest(w.rooms["R1"], "read"))
	gotA = append(gotA, drainNotes(a)...)
	if late := drainNotes(b); len(late) != 0 {
		t.Errorf("B got %v after A's read", late)
	}
	check := func(who string, user int64, got []map[string]any, want []string) {
		t.Helper()
		var kinds []string
		for _, n := range got {
			room := num(n["chatRoomId"])
			name := ""
			for rn, id := range w.rooms {
				if id == room {
					name = rn
				}
			}
			if name == "" || !w.isMember(name, user) {
				t.Errorf("%s got a notification about room %d, not theirs: %v", who, room, n)
			}
			if n["type"] == "MESSAGE" && num(n["sendId"]) == user {
				t.Errorf("%s was notified of their own message: %v", who, n)
			}
			kinds = append(kinds, fmt.Sprintf("%s %s", n["type"], name))
		}
		for _, k := range want {
			if !slices.Contains(kinds, k) {
				t.Errorf("%s got %v, missing %s", who, kinds, k)
			}
		}
	}
	check("A", wsA, gotA, []string{"MESSAGE R1", "UNREAD R1"})
	check("B", wsB, gotB, []string{"MESSAGE R3"})
}

// TestConnectRoomDoesNotWidenAccess: a session CONNECTed into one of its
// rooms cannot reach another room through a body's chatRoomId, a room
// destination, or a transaction applied at COMMIT.
func TestConnectRoomDoesNotWidenAccess(t *testing.T) {
	cases := []struct {
		name   string
		frames func(c *client, r2 int64)
	}{
		{"send-message to another room", func(c *client, r2 int64) {
			c.send("SEND", sendBody(r2, wsB, "x"), "destination", gateway.SendDestination)
		}},
		{"send-message without sendId", func(c *client, r2 int64) {
			c.send("SEND", fmt.Sprintf(`{"chatRoomId":%d,"message":"x"}`, r2), "destination", gateway.SendDestination)
		}},
		{"read of another room", func(c *client, r2 int64) {
			c.send("SEND", `{"seq":1}`, "destination", roomDest(r2, "read"))
		}},
		{"typing in another room", func(c *client, r2 int64) {
			c.send("SEND", "", "destination", roomDest(r2, "typing"))
		}},
		{"send in a transaction", func(c *client, r2 int64) {
			c.send("BEGIN", "", "transaction", "tx")
			c.send("SEND", sendBody(r2, wsB, "x"), "destination", gateway.SendDestination, "transaction", "tx")
			c.send("COMMIT", "", "transaction", "tx")
		}},
		{"subscribe with resume", func(c *client, r2 int64) {
			c.send("SUBSCRIBE", "", "id", "1", "destination", fmt.Sprintf("/sub/chat/room/%d", r2), "last-seq", "0")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWSWorld(t)
			r2 := w.rooms["R2"]
			c, _ := w.e.connect(wsB, "chatRoomId", strconv.FormatInt(w.rooms["R3"], 10), "sendId", strconv.FormatInt(wsB, 10))
			before := wsRoomState(t, w.e)
			published := wsPublished(t, w.e)
			tc.frames(c, r2)
			f := refused(c)
			if msg := f.Value("message"); !strings.Contains(msg, "forbidden") && !strings.Contains(msg, "not a member") {
				t.Errorf("ERROR message %q", msg)
			}
			if strings.Contains(string(f.Body), "first in") {
				t.Errorf("ERROR body leaks history: %q", f.Body)
			}
			redistest.Eventually(t, "B's session to end", func() bool {
				s, err := w.e.reg.UserSessions(context.Background(), wsB)
				return err == nil && len(s) == 0
			})
			// Only R3 may change (B's session there ended: LEAVE, presence).
			for _, d := range before.Diff(wsRoomState(t, w.e)) {
				if !strings.Contains(d, fmt.Sprintf(":room:{%d}:", w.rooms["R3"])) {
					t.Errorf("changed: %s", d)
				}
			}
			// (CONNECT's read of R3 may announce its UNREAD late.)
			for _, p := range published() {
				if !strings.Contains(p, fmt.Sprintf(":room:{%d}:", w.rooms["R3"])) &&
					!strings.Contains(p, fmt.Sprintf(`"chatRoomId":%d,`, w.rooms["R3"])) {
					t.Errorf("published: %s", p)
				}
			}
			if n := w.e.rdb.ZCard(context.Background(), w.e.keys.RoomHistory(r2)).Val(); n != 1 {
				t.Errorf("R2 history has %d messages, want 1", n)
			}
		})
	}
}
