package gateway_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

func TestConnectRegistersSession(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	c, connected := e.connect(8, "chatRoomId", strconv.FormatInt(room, 10), "sendId", "8", "rcvId", "3")
	for _, h := range []string{"version", "heart-beat", "server", "session"} {
		if _, ok := connected.Get(h); !ok {
			t.Errorf("CONNECTED lacks %s: %v", h, connected.Headers)
		}
	}
	if v := connected.Value("version"); v != "1.2" {
		t.Errorf("version = %q, want 1.2", v)
	}
	sid := connected.Value("session")
	got, err := e.rdb.HGetAll(context.Background(), e.keys.Session(sid)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if got["userId"] != "8" || got["roomId"] != strconv.FormatInt(room, 10) || got["node"] == "" {
		t.Errorf("registry entry = %v", got)
	}
	if n, _ := e.rdb.HGet(context.Background(), e.keys.RoomSessions(room), sid).Result(); n != "8" {
		t.Errorf("room view = %q", n)
	}
	c.send("DISCONNECT", "", "receipt", "close-1")
	if r := c.expect("RECEIPT"); r.Value("receipt-id") != "close-1" {
		t.Errorf("receipt-id = %q", r.Value("receipt-id"))
	}
	c.expectClosed()
	redistest.Eventually(t, "registry entry removed", func() bool {
		return e.rdb.Exists(context.Background(), e.keys.Session(sid)).Val() == 0 &&
			e.rdb.HLen(context.Background(), e.keys.RoomSessions(room)).Val() == 0
	})
}

func TestConnectRefusals(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	r := strconv.FormatInt(room, 10)
	expired, _ := mintExpired(8)
	cases := []struct {
		name    string
		headers []string
		want    string
	}{
		{"missing token", []string{"accept-version", "1.2"}, "authentication failed: missing token"},
		{"garbage token", []string{"accept-version", "1.2", "Authorization", "Bearer abc.def.ghi"}, "authentication failed"},
		{"wrong secret", []string{"accept-version", "1.2", "Authorization", "Bearer " + mintWith([]byte("other"), 8)}, "authentication failed"},
		{"expired", []string{"accept-version", "1.2", "Authorization", "Bearer " + expired}, "token expired"},
		{"spoofed sendId", []string{"accept-version", "1.2", "Authorization", "Bearer " + e.token(8), "sendId", "99"}, "sendId does not match"},
		{"not a member", []string{"accept-version", "1.2", "Authorization", "Bearer " + e.token(5), "chatRoomId", r}, "forbidden"},
		{"bad room id", []string{"accept-version", "1.2", "Authorization", "Bearer " + e.token(8), "chatRoomId", "x"}, "chatRoomId"},
		{"no common version", []string{"accept-version", "2.0", "Authorization", "Bearer " + e.token(8)}, "versions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial()
			c.send("CONNECT", "", tc.headers...)
			f := c.expect("ERROR")
			if !strings.Contains(f.Value("message"), tc.want) {
				t.Errorf("message = %q, want it to contain %q", f.Value("message"), tc.want)
			}
			c.expectClosed()
		})
	}
	if n := e.rdb.Keys(context.Background(), e.keys.Prefix()+":session:*").Val(); len(n) != 0 {
		t.Errorf("refused connections left sessions: %v", n)
	}
}

func TestChatBetweenTwoUsers(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	dest := fmt.Sprintf("/sub/chat/room/%d", room)
	a, _ := e.connect(8)
	b, _ := e.connect(3)
	a.send("SUBSCRIBE", "", "id", "sub-0", "destination", dest, "receipt", "s1")
	a.expect("RECEIPT")
	b.send("SUBSCRIBE", "", "id", "sub-0", "destination", dest, "receipt", "s1")
	b.expect("RECEIPT")

	check := func(f *stomp.Frame, seq float64, sender float64, rcv float64, text string) {
		t.Helper()
		if f.Value("subscription") != "sub-0" || f.Value("destination") != dest || f.Value("message-id") == "" {
			t.Errorf("headers = %v", f.Headers)
		}
		m := msgOf(t, f)
		if m["message"] != text || m["sendId"] != sender || m["rcvId"] != rcv || m["seq"] != seq {
			t.Errorf("message = %v, want seq %v from %v to %v: %q", m, seq, sender, rcv, text)
		}
	}
	a.send("SEND", sendBody(room, 8, "hi"), "destination", gateway.SendDestination)
	check(a.expect("MESSAGE"), 1, 8, 3, "hi")
	check(b.expect("MESSAGE"), 1, 8, 3, "hi")
	b.send("SEND", fmt.Sprintf(`{"chatRoomId":%d,"message":"hello"}`, room), "destination", gateway.SendDestination)
	check(a.expect("MESSAGE"), 2, 3, 8, "hello")
	check(b.expect("MESSAGE"), 2, 3, 8, "hello")
}

func TestFramesSplitAndPacked(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	c := e.dial()
	connect := "CONNECT\nAuthorization:Bearer " + e.token(8) + "\naccept-version:1.2\nheart-beat:0,0\n\n\x00"
	sub := fmt.Sprintf("SUBSCRIBE\nid:s\ndestination:/sub/chat/room/%d\nreceipt:r1\n\n\x00", room)
	for i := 0; i < len(connect); i += 7 { // one frame over many WebSocket messages
		c.raw(connect[i:min(i+7, len(connect))])
	}
	c.expect("CONNECTED")
	body := sendBody(room, 8, "packed")
	send := fmt.Sprintf("SEND\ndestination:/pub/send-message\ncontent-length:%d\n\n%s\x00", len(body), body)
	c.raw(sub + "\n" + send + "\r\n") // several frames and heart-beat EOLs in one message
	c.expect("RECEIPT")
	if m := msgOf(t, c.expect("MESSAGE")); m["message"] != "packed" {
		t.Errorf("message = %v", m)
	}
}

func TestSendRefusals(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	other := e.directRoom(3, 5)
	cases := []struct {
		name, body, dest, want string
	}{
		{"spoofed sendId", sendBody(room, 3, "x"), gateway.SendDestination, "sendId does not match"},
		{"not a member", sendBody(other, 8, "x"), gateway.SendDestination, "not a member"},
		{"empty", sendBody(room, 8, "  "), gateway.SendDestination, "empty"},
		{"too long", sendBody(room, 8, strings.Repeat("x", 40001)), gateway.SendDestination, "too long"},
		{"not json", "hello", gateway.SendDestination, "JSON"},
		{"unknown destination", sendBody(room, 8, "x"), "/pub/elsewhere", "unknown destination"},
		{"no room", `{"message":"x"}`, gateway.SendDestination, "chatRoomId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := e.connect(8)
			c.send("SEND", tc.body, "destination", tc.dest, "receipt", "r-"+tc.name)
			f := c.expect("ERROR")
			if !strings.Contains(f.Value("message"), tc.want) {
				t.Errorf("message = %q, want %q", f.Value("message"), tc.want)
			}
			if f.Value("receipt-id") != "r-"+tc.name {
				t.Errorf("receipt-id = %q", f.Value("receipt-id"))
			}
			c.expectClosed()
		})
	}
	for _, id := range []int64{room, other} {
		if n := e.rdb.ZCard(context.Background(), e.keys.RoomHistory(id)).Val(); n != 0 {
			t.Errorf("room %d history has %d messages after refused sends", id, n)
		}
	}
}

func TestSubscribeRefusals(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(3, 5)
	cases := []struct {
		name, want string
		kv         []string
	}{
		{"non-member", "forbidden", []string{"id", "1", "destination", fmt.Sprintf("/sub/chat/room/%d", room)}},
		{"missing id", "id", []string{"destination", fmt.Sprintf("/sub/chat/room/%d", room)}},
		{"unknown destination", "unknown destination", []string{"id", "1", "destination", "/topic/all"}},
		{"bad ack", "ack", []string{"id", "1", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "ack", "maybe"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := e.connect(8)
			c.send("SUBSCRIBE", "", tc.kv...)
			if f := c.expect("ERROR"); !strings.Contains(f.Value("message"), tc.want) {
				t.Errorf("message = %q, want %q", f.Value("message"), tc.want)
			}
			c.expectClosed()
		})
	}
}

func TestTransactionAppliesOnCommit(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	c, _ := e.connect(8)
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "receipt", "r")
	c.expect("RECEIPT")
	c.send("BEGIN", "", "transaction", "t1")
	c.send("SEND", sendBody(room, 8, "one"), "destination", gateway.SendDestination, "transaction", "t1")
	c.send("SEND", sendBody(room, 8, "two"), "destination", gateway.SendDestination, "transaction", "t1")
	c.send("BEGIN", "", "transaction", "t2")
	c.send("SEND", sendBody(room, 8, "aborted"), "destination", gateway.SendDestination, "transaction", "t2")
	c.send("ABORT", "", "transaction", "t2", "receipt", "ab")
	c.expect("RECEIPT")
	c.noFrame(100 * time.Millisecond)
	c.send("COMMIT", "", "transaction", "t1", "receipt", "cm")
	first, second, receipt := c.next(), c.next(), c.next()
	frames := []string{first.Command, second.Command, receipt.Command}
	var texts []string
	for _, f := range [][]byte{first.Body, second.Body, receipt.Body} {
		if len(f) > 0 {
			texts = append(texts, string(f))
		}
	}
	if strings.Join(frames, ",") != "MESSAGE,MESSAGE,RECEIPT" && strings.Join(frames, ",") != "RECEIPT,MESSAGE,MESSAGE" &&
		strings.Join(frames, ",") != "MESSAGE,RECEIPT,MESSAGE" {
		t.Fatalf("frames = %v", frames)
	}
	if len(texts) != 2 || !strings.Contains(texts[0], `"one"`) || !strings.Contains(texts[1], `"two"`) {
		t.Errorf("committed messages = %v", texts)
	}
	c.send("COMMIT", "", "transaction", "nope")
	if f := c.expect("ERROR"); !strings.Contains(f.Value("message"), "unknown transaction") {
		t.Errorf("message = %q", f.Value("message"))
	}
}

func TestClientAck(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	c, _ := e.connect(8)
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "ack", "client-individual", "receipt", "r")
	c.expect("RECEIPT")
	c.send("SEND", sendBody(room, 8, "ack me"), "destination", gateway.SendDestination)
	m := c.expect("MESSAGE")
	ack := m.Value("ack")
	if ack == "" {
		t.Fatalf("MESSAGE of a client-individual subscription lacks ack: %v", m.Headers)
	}
	c.send("ACK", "", "id", ack, "receipt", "a1")
	c.expect("RECEIPT")
	c.send("ACK", "", "id", ack) // already settled
	if f := c.expect("ERROR"); !strings.Contains(f.Value("message"), "unknown message") {
		t.Errorf("message = %q", f.Value("message"))
	}
}

func TestFrameBeforeConnectAndSecondConnect(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial()
	c.send("SUBSCRIBE", "", "id", "1", "destination", "/sub/chat/room/1")
	if f := c.expect("ERROR"); !strings.Contains(f.Value("message"), "CONNECT") {
		t.Errorf("message = %q", f.Value("message"))
	}
	c.expectClosed()
	c2, _ := e.connect(8)
	c2.send("CONNECT", "", "accept-version", "1.2", "Authorization", "Bearer "+e.token(8))
	if f := c2.expect("ERROR"); !strings.Contains(f.Value("message"), "already connected") {
		t.Errorf("message = %q", f.Value("message"))
	}
}

func TestKickThroughControlChannel(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	c, connected := e.connect(8, "chatRoomId", strconv.FormatInt(room, 10))
	sid := connected.Value("session")
	// The api removes the entry, then tells the node.
	if _, removed, err := e.reg.Remove(context.Background(), sid, "api"); err != nil || !removed {
		t.Fatalf("remove: %v %v", removed, err)
	}
	ctl := wire.Control{Op: wire.OpDisconnect, SessionIDs: []string{sid}, Reason: "disconnected via API"}
	nodeID := "node-" + e.keys.Prefix()
	if err := e.rdb.Publish(context.Background(), e.keys.NodeControl(nodeID), wire.Marshal(ctl)).Err(); err != nil {
		t.Fatal(err)
	}
	if f := c.expect("ERROR"); !strings.Contains(f.Value("message"), "disconnected via API") {
		t.Errorf("message = %q", f.Value("message"))
	}
	c.expectClosed()
	redistest.Eventually(t, "session forgotten locally", func() bool { return e.gw.Sessions() == 0 })
}

func TestSlowConsumerIsCutOff(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.QueueBytes = 1 << 20 })
	room := e.directRoom(8, 3)
	dest := fmt.Sprintf("/sub/chat/room/%d", room)
	slow, slowConnected := e.connect(3)
	slow.send("SUBSCRIBE", "", "id", "s", "destination", dest, "receipt", "r")
	slow.expect("RECEIPT")
	slow.pause() // stops reading: the server's writes to it back up
	fast, _ := e.connect(8)
	fast.send("SUBSCRIBE", "", "id", "s", "destination", dest, "receipt", "r")
	fast.expect("RECEIPT")
	sid := slowConnected.Value("session")
	big := strings.Repeat("x", 30000)
	// Socket buffers absorb a few MB before the server's queue fills.
	for i := 0; e.rdb.Exists(context.Background(), e.keys.Session(sid)).Val() == 1; i++ {
		if i == 2000 {
			t.Fatal("the stalled client was never disconnected")
		}
		fast.send("SEND", sendBody(room, 8, fmt.Sprint(i, big)), "destination", gateway.SendDestination)
		if m := msgOf(t, fast.expect("MESSAGE")); m["message"] != fmt.Sprint(i, big) {
			t.Fatalf("fast client got a wrong message at %d", i)
		}
	}
}

func TestResumeFromLastSeq(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	for i := 1; i <= 5; i++ {
		if _, _, err := e.msgs.Send(context.Background(), room, 8, 0, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := e.connect(3)
	// Live traffic keeps flowing while the resume runs.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 6; i <= 40; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, _, _ = e.msgs.Send(context.Background(), room, 8, 0, fmt.Sprint("m", i))
		}
	}()
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "last-seq", "2")
	var seqs []int
	for len(seqs) == 0 || seqs[len(seqs)-1] < 40 {
		m := msgOf(t, c.expect("MESSAGE"))
		seqs = append(seqs, int(m["seq"].(float64)))
	}
	close(stop)
	<-done
	for i, s := range seqs {
		if s != i+3 {
			t.Fatalf("seqs = %v: want 3..40 exactly once, in order", seqs)
		}
	}
}

func TestResumeTellsWhenHistoryIsTruncated(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	for i := 1; i <= 5; i++ {
		_, _, _ = e.msgs.Send(context.Background(), room, 8, 0, fmt.Sprint("m", i))
	}
	// Trim the first three entries as retention would.
	e.rdb.ZRemRangeByScore(context.Background(), e.keys.RoomHistory(room), "-inf", "3")
	c, _ := e.connect(3)
	c.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "last-seq", "1")
	n := c.expect("MESSAGE")
	if n.Value("x-resume-truncated") != "true" || !strings.Contains(string(n.Body), `"oldestSeq":4`) {
		t.Fatalf("first frame = %v %s, want a truncation notice", n.Headers, n.Body)
	}
	for _, want := range []float64{4, 5} {
		if m := msgOf(t, c.expect("MESSAGE")); m["seq"] != want {
			t.Fatalf("seq = %v, want %v", m["seq"], want)
		}
	}
}

func TestRevokeEndsSubscriptionsOfRemovedMember(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	other := e.directRoom(3, 5)
	watcher, _ := e.connect(3)
	watcher.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "receipt", "r")
	watcher.expect("RECEIPT")
	bystander, _ := e.connect(3)
	bystander.send("SUBSCRIBE", "", "id", "s", "destination", fmt.Sprintf("/sub/chat/room/%d", other), "receipt", "r")
	bystander.expect("RECEIPT")
	ctl := wire.Control{Op: wire.OpRevoke, RoomID: room, UserID: 3, Reason: "removed from room"}
	if err := e.rdb.Publish(context.Background(), e.keys.Control(), wire.Marshal(ctl)).Err(); err != nil {
		t.Fatal(err)
	}
	if f := watcher.expect("ERROR"); !strings.Contains(f.Value("message"), "removed from room") {
		t.Errorf("message = %q", f.Value("message"))
	}
	watcher.expectClosed()
	// The same user's session that only watches another room is untouched.
	bystander.send("SEND", sendBody(other, 3, "still here"), "destination", gateway.SendDestination)
	if m := msgOf(t, bystander.expect("MESSAGE")); m["message"] != "still here" {
		t.Errorf("bystander got %v", m)
	}
}

func TestErrorBeforeConnectedIsNotEscaped(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial()
	c.raw("CONNECT\naccept-version:1.2\nAuthorization:Bearer x.y.z\n\n\x00")
	// Read the raw bytes: @stomp/stompjs does not unescape before CONNECTED.
	select {
	case <-c.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("not closed")
	}
	if len(c.rawLog) == 0 || !strings.Contains(c.rawLog[0], "message:authentication failed: invalid token") {
		t.Fatalf("raw ERROR = %q", c.rawLog)
	}
}
