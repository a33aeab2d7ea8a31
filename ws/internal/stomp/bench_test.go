package stomp

import (
	"strconv"
	"testing"
)

// BenchmarkDecodeSend decodes one SEND as stompjs writes it, with a ~100-byte
// JSON body, per Decode call: the common case of one frame per message.
func BenchmarkDecodeSend(b *testing.B) {
	body := `{"chatRoomId":2,"sendId":8,"rcvId":3,"message":"hello there, are we still on for lunch at noon?"}`
	in := []byte("SEND\ndestination:/pub/send-message\ncontent-length:" + strconv.Itoa(len(body)) + "\n\n" + body + "\x00")
	dec := NewDecoder(Limits{})
	var n int
	emit := func(f *Frame) error { n += len(f.Body); return nil }
	if err := dec.Decode(in, emit); err != nil || n != len(body) {
		b.Fatalf("setup: %v, body %d", err, n)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := dec.Decode(in, emit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSendSplit is BenchmarkDecodeSend with every frame arriving
// in two pieces, so the Decoder buffers.
func BenchmarkDecodeSendSplit(b *testing.B) {
	in := []byte(seedSend)
	dec := NewDecoder(Limits{})
	emit := func(*Frame) error { return nil }
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := dec.Decode(in[:40], emit); err != nil {
			b.Fatal(err)
		}
		if err := dec.Decode(in[40:], emit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendMessage encodes a MESSAGE with 5 headers and a JSON body
// into a reused buffer.
func BenchmarkAppendMessage(b *testing.B) {
	body := `{"id":"m-1","chatRoomId":2,"seq":41,"sendId":8,"message":"hello there","sentAt":"2026-11-26T15:44:02.123Z"}`
	f := fr("MESSAGE", body,
		"destination", "/sub/chat/room/2",
		"message-id", "2-41",
		"subscription", "sub-0",
		"content-type", "application/json",
		"content-length", strconv.Itoa(len(body)))
	buf := AppendFrame(nil, f, V12)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFrame(buf[:0], f, V12)
	}
}
