package scaleout_test

import (
	"testing"
	"time"

	"github.com/roomwire/roomwire/tools/chatload/load"
	"github.com/roomwire/roomwire/ws/internal/stomp"
)

// The load tool renders and reads STOMP with its own small codec (it does
// not import the ws module); these tests hold it to the server's.

// TestLoadClientFramesDecodeWithTheServerCodec: every client frame the tool
// writes means to the server what the tool meant.
func TestLoadClientFramesDecodeWithTheServerCodec(t *testing.T) {
	st := load.Stamp{T: time.Now().UnixNano(), N: 3, Run: 7}
	tests := []struct {
		name, command string
		frame         []byte
		want          map[string]string
	}{
		{"CONNECT", "CONNECT", load.ConnectFrame("a.b:c", 2, 8, 3, 10000),
			map[string]string{"Authorization": "Bearer a.b:c", "chatRoomId": "2", "sendId": "8", "rcvId": "3", "heart-beat": "10000,10000"}},
		{"SUBSCRIBE", "SUBSCRIBE", load.SubscribeFrame("s:1", load.RoomDestination(9), "r\n1"),
			map[string]string{"id": "s:1", "destination": "/sub/chat/room/9", "receipt": "r\n1"}},
		{"SEND", "SEND", load.NewSender(load.SendShape{}).Frame(2, 8, 3, st, 64),
			map[string]string{"destination": load.SendDestination}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*stomp.Frame
			err := stomp.NewDecoder(stomp.Limits{}).Decode(tt.frame, func(f *stomp.Frame) error { got = append(got, f); return nil })
			if err != nil || len(got) != 1 || got[0].Command != tt.command {
				t.Fatalf("decoded %v, %v", got, err)
			}
			for k, v := range tt.want {
				if g, _ := got[0].Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
		})
	}
}

// TestServerFramesParseWithTheLoadCodec: what the server's encoder writes,
// the tool's NextFrame reads back whole, body and headers.
func TestServerFramesParseWithTheLoadCodec(t *testing.T) {
	body := `{"id":"2-17","chatRoomId":2,"seq":17,"message":"a\u0000b"}`
	var stream []byte
	stream = stomp.AppendFrame(stream, &stomp.Frame{Command: "MESSAGE", Headers: []stomp.Header{
		{Key: "destination", Value: "/sub/chat/room/2"}, {Key: "message-id", Value: "2-17"},
		{Key: "subscription", Value: "sub-0"}}, Body: []byte(body)}, stomp.V12)
	stream = stomp.AppendFrame(stream, &stomp.Frame{Command: "RECEIPT", Headers: []stomp.Header{{Key: "receipt-id", Value: "r-1"}}}, stomp.V12)
	f, n, ok, err := load.NextFrame(stream)
	if err != nil || !ok || !f.Is("MESSAGE") || string(f.Body) != body {
		t.Fatalf("first frame: %q %q ok %v err %v", f.Command, f.Body, ok, err)
	}
	if v, _ := f.Header("subscription"); string(v) != "sub-0" {
		t.Fatalf("subscription %q", v)
	}
	f, m, ok, err := load.NextFrame(stream[n:])
	if err != nil || !ok || !f.Is("RECEIPT") || n+m != len(stream) {
		t.Fatalf("second frame: %q ok %v err %v, %d of %d bytes", f.Command, ok, err, n+m, len(stream))
	}
	if v, _ := f.Header("receipt-id"); string(v) != "r-1" {
		t.Fatalf("receipt-id %q", v)
	}
}
