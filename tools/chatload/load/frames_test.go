package load

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// parse reads b as exactly one frame with NextFrame. That the server's
// codec reads the client frames as meant is checked in ws/internal/scaleout,
// which sees both.
func parse(t *testing.T, b []byte) FrameView {
	t.Helper()
	f, n, ok, err := NextFrame(b)
	if err != nil || !ok || n != len(b) {
		t.Fatalf("parse %q: ok %v, %d of %d bytes, %v", b, ok, n, len(b), err)
	}
	return f
}

func TestClientFramesAsStompjsWritesThem(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"CONNECT of the seed app", ConnectFrame("aaaa", 2, 8, 3, 10000),
			"CONNECT\nAuthorization:Bearer aaaa\nchatRoomId:2\nsendId:8\nrcvId:3\naccept-version:1.2,1.1,1.0\nheart-beat:10000,10000\n\n\x00"},
		{"CONNECT of a group member", ConnectFrame("t", 5, 9, 0, 10000),
			"CONNECT\nAuthorization:Bearer t\nchatRoomId:5\nsendId:9\naccept-version:1.2,1.1,1.0\nheart-beat:10000,10000\n\n\x00"},
		{"SUBSCRIBE with receipt", SubscribeFrame("sub-0", RoomDestination(2), "r"),
			"SUBSCRIBE\nreceipt:r\nid:sub-0\ndestination:/sub/chat/room/2\n\n\x00"},
		{"SUBSCRIBE", SubscribeFrame("sub-1", RoomDestination(7), ""),
			"SUBSCRIBE\nid:sub-1\ndestination:/sub/chat/room/7\n\n\x00"},
		{"SUBSCRIBE escapes as STOMP 1.2", SubscribeFrame("a:b\\c", "/x\ny\r", ""),
			"SUBSCRIBE\nid:a\\cb\\\\c\ndestination:/x\\ny\\r\n\n\x00"},
		{"CONNECT does not escape", ConnectFrame("a:b", 0, 0, 0, 0),
			"CONNECT\nAuthorization:Bearer a:b\naccept-version:1.2,1.1,1.0\nheart-beat:0,0\n\n\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", tt.got, tt.want)
			}
		})
	}
}

func TestSenderFrame(t *testing.T) {
	s := NewSender(SendShape{})
	st := Stamp{T: 1795709956184798994, N: 7, Phase: 2, Run: 99}
	frame := s.Frame(2, 8, 3, st, 100)
	f := parse(t, frame)
	body := string(f.Body)
	if want := "SEND\ndestination:/pub/send-message\ncontent-length:" + strconv.Itoa(len(body)) + "\n\n"; !strings.HasPrefix(string(frame), want) {
		t.Fatalf("frame %q: want it to start with %q (destination then content-length, as stompjs)", frame, want)
	}
	const prefix = `{"chatRoomId":2,"sendId":8,"rcvId":3,"message":"t=1795709956184798994 n=7 p=2 r=99 x`
	if !strings.HasPrefix(body, prefix) || !strings.HasSuffix(body, `x"}`) {
		t.Fatalf("body %s", body)
	}
	// The delivered form carries the same text, so it parses back.
	delivered := `{"id":"2-1","chatRoomId":2,"seq":1,"sendId":8,"rcvId":3,"message":"` +
		strings.TrimSuffix(strings.TrimPrefix(body, `{"chatRoomId":2,"sendId":8,"rcvId":3,"message":"`), `"}`) + `","sentAt":"x"}`
	if d, ok := ParseDelivery([]byte(delivered)); !ok || d.Stamp != st {
		t.Fatalf("delivered form parses to %+v %v", d, ok)
	}
	if n := testing.AllocsPerRun(100, func() { s.Frame(2, 8, 3, st, 100) }); n != 0 {
		t.Fatalf("%v allocations per warmed-up Frame", n)
	}
}

// serverFrame is a frame as the ws node's codec writes it: headers in
// order, then content-length when body is non-empty.
func serverFrame(command, body string, headers ...string) []byte {
	b := []byte(command + "\n")
	for i := 0; i+1 < len(headers); i += 2 {
		b = append(b, headers[i]+":"+headers[i+1]+"\n"...)
	}
	if body != "" {
		b = append(b, "content-length:"+strconv.Itoa(len(body))+"\n"...)
	}
	return append(append(append(b, '\n'), body...), 0)
}

// TestSenderShapes: the SEND frames of an independent STOMP client
// (content-type, a receipt per SEND, the "~marker~xxxx" text) differ from
// chatload's own only where asked, and every shape carries the stamp back.
func TestSenderShapes(t *testing.T) {
	st := Stamp{T: 17, N: 42, Phase: 1, Run: 5}
	const json = `{"chatRoomId":2,"sendId":8,"rcvId":3,"message":"`
	tests := []struct {
		name    string
		shape   SendShape
		headers string
		text    string
	}{
		{"chatload's own", SendShape{},
			"destination:/pub/send-message|content-length:97", "t=17 n=42 p=1 r=5 " + strings.Repeat("x", 29)},
		{"content-type", SendShape{ContentType: "application/json"},
			"destination:/pub/send-message|content-type:application/json|content-length:97", "t=17 n=42 p=1 r=5 " + strings.Repeat("x", 29)},
		{"receipt", SendShape{Receipt: true},
			"destination:/pub/send-message|receipt:m-42|content-length:97", "t=17 n=42 p=1 r=5 " + strings.Repeat("x", 29)},
		{"marker", SendShape{Marker: true},
			"destination:/pub/send-message|content-length:97", "~t=17 n=42 p=1 r=5~" + strings.Repeat("x", 28)},
		{"independent client with receipts", SendShape{ContentType: "application/json", Receipt: true, Marker: true},
			"destination:/pub/send-message|content-type:application/json|receipt:m-42|content-length:97", "~t=17 n=42 p=1 r=5~" + strings.Repeat("x", 28)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSender(tt.shape)
			for range 2 { // the second frame reuses the buffers
				frame := s.Frame(2, 8, 3, st, 47)
				f := parse(t, frame)
				if head := "SEND\n" + strings.ReplaceAll(tt.headers, "|", "\n") + "\n\n"; !strings.HasPrefix(string(frame), head) {
					t.Fatalf("frame\n%q\nwant it to start with\n%q", frame, head)
				}
				if got, want := string(f.Body), json+tt.text+`"}`; got != want {
					t.Fatalf("body\n%s\nwant\n%s", got, want)
				}
				delivered := `{"id":"2-1","chatRoomId":2,"seq":1,"sendId":8,"rcvId":3,"message":"` + tt.text + `","sentAt":"x"}`
				if d, ok := ParseDelivery([]byte(delivered)); !ok || d.Stamp != st {
					t.Fatalf("delivered form parses to %+v %v", d, ok)
				}
			}
		})
	}
}

func TestConnectFrameWithoutHeartBeats(t *testing.T) {
	got := string(ConnectFrame("t", 2, 8, 3, 0))
	want := "CONNECT\nAuthorization:Bearer t\nchatRoomId:2\nsendId:8\nrcvId:3\naccept-version:1.2,1.1,1.0\nheart-beat:0,0\n\n\x00"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

// serverStream is what a node writes: several MESSAGEs (with content-length),
// a RECEIPT, heart-beats, an ERROR without content-length.
func serverStream() ([]byte, []string) {
	var b []byte
	var want []string
	for i := range 5 {
		body := `{"id":"2-` + string(rune('1'+i)) + `","seq":1,"message":"a\x00b"}`
		b = append(b, serverFrame("MESSAGE", body, "destination", "/sub/chat/room/2", "message-id", "2-1",
			"subscription", "sub-0", "content-type", "application/json")...)
		want = append(want, "MESSAGE "+body)
		if i == 2 {
			b = append(b, "\n\r\n"...)
		}
	}
	b = append(b, serverFrame("RECEIPT", "", "receipt-id", "sub-0-ready")...)
	want = append(want, "RECEIPT ")
	b = append(b, "ERROR\nmessage:bye\n\nno length\x00"...)
	want = append(want, "ERROR no length")
	return b, want
}

func scanAll(t *testing.T, chunks [][]byte) []string {
	t.Helper()
	var got []string
	var buf []byte
	for _, ch := range chunks {
		buf = append(buf, ch...)
		for {
			f, n, ok, err := NextFrame(buf)
			if err != nil {
				t.Fatal(err)
			}
			buf = buf[n:]
			if !ok {
				break
			}
			got = append(got, string(f.Command)+" "+string(f.Body))
		}
	}
	if len(bytes.Trim(buf, "\r\n")) != 0 {
		t.Fatalf("left over %q", buf)
	}
	return got
}

func TestNextFrameWholeAndSplit(t *testing.T) {
	stream, want := serverStream()
	check := func(name string, chunks [][]byte) {
		got := scanAll(t, chunks)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: got\n%q\nwant\n%q", name, got, want)
		}
	}
	check("one message", [][]byte{stream})
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var chunks [][]byte
		for rest := stream; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(40))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		check("random split", chunks)
	}
}

func TestNextFrameHeaders(t *testing.T) {
	in := []byte("RECEIPT\r\nreceipt-id:sub-0-ready\r\nx:y\r\n\r\n\x00")
	f, n, ok, err := NextFrame(in)
	if err != nil || !ok || n != len(in) {
		t.Fatalf("ok %v n %d err %v", ok, n, err)
	}
	if v, _ := f.Header("receipt-id"); string(v) != "sub-0-ready" {
		t.Fatalf("receipt-id %q", v)
	}
	if _, has := f.Header("receipt"); has {
		t.Fatal("prefix of a header name matched")
	}
	if !f.Is("RECEIPT") {
		t.Fatalf("command %q", f.Command)
	}
}

func TestNextFrameErrors(t *testing.T) {
	for _, in := range []string{
		"MESSAGE\ncontent-length:x\n\nabc\x00",
		"MESSAGE\ncontent-length:2\n\nabc\x00",
	} {
		if _, _, _, err := NextFrame([]byte(in)); err == nil {
			t.Errorf("NextFrame(%q) accepted", in)
		}
	}
}

func TestNextFrameDoesNotAllocate(t *testing.T) {
	stream, _ := serverStream()
	n := testing.AllocsPerRun(100, func() {
		for b := stream; ; {
			_, k, ok, _ := NextFrame(b)
			b = b[k:]
			if !ok {
				return
			}
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
