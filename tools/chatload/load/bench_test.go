package load

import (
	"testing"
	"time"
)

// BenchmarkReceiveDelivery is the load client's work per delivered MESSAGE
// once its bytes are read: find the frame, parse seq and stamp, record the
// latency. It must stay far below the server's cost per delivery, since the
// client shares the machine.
func BenchmarkReceiveDelivery(b *testing.B) {
	var st Stamp
	st.T, st.N, st.Phase, st.Run = time.Now().UnixNano(), 1, 0, 7
	body := `{"id":"2-17","chatRoomId":2,"seq":17,"sendId":8,"rcvId":3,"message":"` + string(st.Append(nil, 64)) + `","sentAt":"2026-11-26T15:44:02.123Z"}`
	frame := serverFrame("MESSAGE", body, "destination", "/sub/chat/room/2", "message-id", "2-17",
		"subscription", "sub-0", "content-type", "application/json")
	var h Histogram
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		f, _, ok, err := NextFrame(frame)
		if !ok || err != nil {
			b.Fatal(ok, err)
		}
		d, ok := ParseDelivery(f.Body)
		if !ok {
			b.Fatal("no stamp")
		}
		h.Record(time.Duration(time.Now().UnixNano() - d.Stamp.T))
	}
}

// BenchmarkSenderFrame renders one SEND frame with a 64-byte stamped text.
func BenchmarkSenderFrame(b *testing.B) {
	s := NewSender(SendShape{})
	st := Stamp{T: time.Now().UnixNano(), N: 1, Run: 7}
	b.ReportAllocs()
	for b.Loop() {
		st.N++
		s.Frame(2, 8, 3, st, 64)
	}
}
