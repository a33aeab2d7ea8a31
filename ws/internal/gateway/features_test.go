package gateway_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/stomp"
	"github.com/roomwire/roomwire/ws/internal/typing"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
)

// featureNode starts one ws node as cmd/ws assembles it on key space ks;
// nodes started on one ks form a cluster.
func featureNode(t *testing.T, ks keys.Space, name string, tcfg typing.Config) *env {
	t.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return startEnv(t, ks, verifier, wsnode.Config{ID: name + "-" + ks.Prefix(),
		Gateway: gateway.Config{WriteTimeout: 2 * time.Second, ConnectRate: -1}, Typing: tcfg})
}

func (e *env) group(by int64, members ...int64) int64 {
	e.t.Helper()
	r, err := e.rooms.CreateGroup(context.Background(), by, "g", members)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.ID
}

// subscribeOK subscribes c to dest and waits for the receipt.
func (c *client) subscribeOK(id, dest string) {
	c.t.Helper()
	c.send("SUBSCRIBE", "", "id", id, "destination", dest, "receipt", "sub-"+id)
	if r := c.expect("RECEIPT"); r.Value("receipt-id") != "sub-"+id {
		c.t.Fatalf("receipt %v", r.Headers)
	}
}

// sendOK sends to dest with a receipt and waits for it; MESSAGE frames
// arriving first are returned.
func (c *client) sendOK(dest, body string) (before []*stomp.Frame) {
	c.t.Helper()
	c.send("SEND", body, "destination", dest, "receipt", "s-"+dest)
	for {
		f := c.next()
		switch f.Command {
		case "RECEIPT":
			return before
		case "MESSAGE":
			before = append(before, f)
		default:
			c.t.Fatalf("got %s %v %q waiting for the RECEIPT of SEND %s", f.Command, f.Headers, f.Body, dest)
		}
	}
}

// event waits for the next MESSAGE and returns its JSON.
func (c *client) event() map[string]any {
	c.t.Helper()
	return msgOf(c.t, c.expect("MESSAGE"))
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func roomDest(id int64, suffix string) string {
	return "/pub/chat/room/" + strconv.FormatInt(id, 10) + "/" + suffix
}

func eventsDest(id int64) string { return fmt.Sprintf("/sub/chat/room/%d/events", id) }

func TestReadOverSTOMP(t *testing.T) {
	e := featureNode(t, redistest.Space(t), "a", typing.Config{})
	id := e.group(8, 3)
	for i := 0; i < 3; i++ {
		if _, _, err := e.msgs.Send(context.Background(), id, 8, 0, "m"); err != nil {
			t.Fatal(err)
		}
	}
	watcher, _ := e.connect(8)
	watcher.subscribeOK("ev", eventsDest(id))
	reader, _ := e.connect(3)

	reader.sendOK(roomDest(id, "read"), `{"seq":2}`)
	ev := watcher.event()
	if ev["type"] != "READ" || num(ev["chatRoomId"]) != id || num(ev["userId"]) != 3 || num(ev["seq"]) != 2 || ev["at"] == "" {
		t.Fatalf("READ event %v", ev)
	}
	reader.sendOK(roomDest(id, "read"), `{"seq":1}`) // backwards: nothing
	reader.sendOK(roomDest(id, "read"), `{"seq":99,"extra":true}`)
	if ev := watcher.event(); num(ev["seq"]) != 3 {
		t.Fatalf("capped READ %v, want seq 3", ev)
	}
	watcher.noFrame(100 * time.Millisecond)
	if pos := e.rdb.HGet(context.Background(), e.keys.RoomRead(id), "3").Val(); pos != "3" {
		t.Fatalf("position %q", pos)
	}

	cases := []struct {
		name, user, dest, body, want string
	}{
		{"not a member", "5", roomDest(id, "read"), `{"seq":1}`, "forbidden"},
		{"no seq", "3", roomDest(id, "read"), `{}`, "bad request"},
		{"negative seq", "3", roomDest(id, "read"), `{"seq":-1}`, "bad request"},
		{"not JSON", "3", roomDest(id, "read"), `seq=1`, "bad request"},
		{"two objects", "3", roomDest(id, "read"), `{"seq":1}{"seq":2}`, "bad request"},
		{"bad room id", "3", "/pub/chat/room/x/read", `{"seq":1}`, "unknown destination"},
		{"unknown action", "3", roomDest(id, "unread"), `{"seq":1}`, "unknown destination"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user, _ := strconv.ParseInt(tc.user, 10, 64)
			c, _ := e.connect(user)
			c.send("SEND", tc.body, "destination", tc.dest)
			if f := c.expect("ERROR"); !strings.Contains(f.Value("message"), tc.want) || strings.Contains(f.Value("message"), tc.body) {
				t.Fatalf("message %q, want it to contain %q and not quote the body", f.Value("message"), tc.want)
			}
			c.expectClosed()
		})
	}
}

func TestConnectIntoRoomMarksItRead(t *testing.T) {
	e := featureNode(t, redistest.Space(t), "a", typing.Config{})
	id := e.group(8, 3)
	watcher, _ := e.connect(8)
	watcher.subscribeOK("ev", eventsDest(id))

	// Nothing to read yet: entering moves nothing and announces nothing
	// but ENTER.
	first, _ := e.connect(3, "chatRoomId", strconv.FormatInt(id, 10))
	if ev := watcher.event(); ev["type"] != "ENTER" {
		t.Fatalf("got %v, want ENTER", ev)
	}
	watcher.noFrame(100 * time.Millisecond)
	first.send("DISCONNECT", "")
	if ev := watcher.event(); ev["type"] != "LEAVE" {
		t.Fatalf("got %v, want LEAVE", ev)
	}

	for i := 0; i < 4; i++ {
		if _, _, err := e.msgs.Send(context.Background(), id, 8, 0, "m"); err != nil {
			t.Fatal(err)
		}
	}
	e.connect(3, "chatRoomId", strconv.FormatInt(id, 10))
	got := map[string]int64{}
	for len(got) < 2 {
		ev := watcher.event()
		got[ev["type"].(string)] = num(ev["seq"])
	}
	if got["READ"] != 4 {
		t.Fatalf("events %v, want ENTER and READ up to 4", got)
	}
	if pos := e.rdb.HGet(context.Background(), e.keys.RoomRead(id), "3").Val(); pos != "4" {
		t.Fatalf("position %q, want 4", pos)
	}
}

func TestTypingReachesOnlyOthers(t *testing.T) {
	ks := redistest.Space(t)
	a := featureNode(t, ks, "a", typing.Config{PerWindow: 3, Window: time.Minute})
	b := featureNode(t, ks, "b", typing.Config{PerWindow: 3, Window: time.Minute})
	id := a.group(8, 3)
	other, _ := b.connect(8)
	other.subscribeOK("ev", eventsDest(id))
	typist, _ := a.connect(3)
	typist.subscribeOK("ev", eventsDest(id))
	twin, _ := b.connect(3) // the typist's second session, on the other node
	twin.subscribeOK("ev", eventsDest(id))

	for _, body := range []string{"", `{"typing":false}`, `{"typing":true}`, ``, ``} {
		if got := typist.sendOK(roomDest(id, "typing"), body); len(got) != 0 {
			t.Fatalf("the typist received %q", got[0].Body)
		}
	}
	// Starts and stops have separate budgets: three starts and the stop
	// pass, the fourth start is over the rate.
	for _, want := range []bool{true, false, true, true} {
		ev := other.event()
		if ev["type"] != "TYPING" || num(ev["userId"]) != 3 || num(ev["chatRoomId"]) != id || ev["typing"] != want || ev["at"] == "" {
			t.Fatalf("TYPING event %v, want typing=%v", ev, want)
		}
	}
	other.noFrame(150 * time.Millisecond) // the last start was over the rate
	twin.noFrame(10 * time.Millisecond)

	// 8's own typing reaches 3's sessions, not 8's.
	other.sendOK(roomDest(id, "typing"), "")
	for _, c := range []*client{typist, twin} {
		if ev := c.event(); ev["type"] != "TYPING" || num(ev["userId"]) != 8 {
			t.Fatalf("got %v, want 8's TYPING", ev)
		}
	}
	other.noFrame(100 * time.Millisecond)
	if n := a.rdb.Exists(context.Background(), ks.RoomHistory(id)).Val(); n != 0 {
		t.Fatal("typing was stored")
	}

	outsider, _ := a.connect(5)
	outsider.send("SEND", "", "destination", roomDest(id, "typing"))
	if f := outsider.expect("ERROR"); !strings.Contains(f.Value("message"), "forbidden") {
		t.Fatalf("outsider: %v", f.Headers)
	}
	bad, _ := a.connect(3)
	bad.send("SEND", `{"typing":"yes"}`, "destination", roomDest(id, "typing"))
	if f := bad.expect("ERROR"); !strings.Contains(f.Value("message"), "bad request") {
		t.Fatalf("bad body: %v", f.Headers)
	}
}

func TestNotificationsReachEverySessionOnEveryNode(t *testing.T) {
	ctx := context.Background()
	ks := redistest.Space(t)
	a := featureNode(t, ks, "a", typing.Config{})
	b := featureNode(t, ks, "b", typing.Config{})
	id := a.group(8, 3, 5, 6)
	r := strconv.FormatInt(id, 10)
	onA, _ := a.connect(3)
	onA.subscribeOK("n", gateway.NotificationsDestination)
	onB, _ := b.connect(3)
	onB.subscribeOK("n", gateway.NotificationsDestination)
	viewer, _ := b.connect(5, "chatRoomId", r) // viewing the room: no notification
	viewer.subscribeOK("n", gateway.NotificationsDestination)
	sender, _ := a.connect(8, "chatRoomId", r)

	sender.sendOK(gateway.SendDestination, sendBody(id, 8, "hello everyone, this is 8"))
	for _, c := range []*client{onA, onB} {
		f := c.expect("MESSAGE")
		if f.Value("destination") != gateway.NotificationsDestination || f.Value("subscription") != "n" {
			t.Fatalf("headers %v", f.Headers)
		}
		n := msgOf(t, f)
		if n["type"] != "MESSAGE" || num(n["chatRoomId"]) != id || num(n["seq"]) != 1 || num(n["sendId"]) != 8 ||
			n["preview"] != "hello everyone, this is 8" || num(n["unreadCount"]) != 1 {
			t.Fatalf("notification %v", n)
		}
	}
	viewer.noFrame(100 * time.Millisecond)

	// 6 has no session: one outbox record, for 6 only.
	res, err := a.rdb.ZRange(ctx, ks.NotificationsPending(), 0, -1).Result()
	if err != nil || len(res) != 1 || res[0] != "6" || a.rdb.XLen(ctx, ks.UserOutbox(6)).Val() != 1 {
		t.Fatalf("pending outbox users %v, %v; want 6 with one record", res, err)
	}

	// A read on one node: UNREAD reaches both of 3's sessions.
	early := onB.sendOK(roomDest(id, "read"), `{"seq":1}`) // the UNREAD may beat the RECEIPT
	for _, c := range []*client{onA, onB} {
		var n map[string]any
		if c == onB && len(early) > 0 {
			n = msgOf(t, early[0])
		} else {
			n = c.event()
		}
		if n["type"] != "UNREAD" || num(n["chatRoomId"]) != id || num(n["unreadCount"]) != 0 {
			t.Fatalf("got %v, want UNREAD 0", n)
		}
	}
	// Another user's notifications are not 3's business.
	onA.send("SUBSCRIBE", "", "id", "x", "destination", "/user/queue/notifications/8")
	if f := onA.expect("ERROR"); !strings.Contains(f.Value("message"), "unknown destination") {
		t.Fatalf("got %v", f.Headers)
	}
}
