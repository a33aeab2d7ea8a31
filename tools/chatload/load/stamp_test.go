package load

import (
	"strings"
	"testing"
)

func TestStampRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		stamp   Stamp
		payload int
	}{
		{"short payload", Stamp{T: 1795709956184798994, N: 3419, Phase: 1, Run: 643240857}, 0},
		{"padded", Stamp{T: 1, N: 2, Phase: 0, Run: 4294967295}, 200},
		{"phase 31", Stamp{T: 99, N: 1 << 40, Phase: 31, Run: 7}, 64},
	}
	forms := []struct {
		name   string
		append func(Stamp, []byte, int) []byte
	}{{"stamp", Stamp.Append}, {"marker", Stamp.AppendMarker}}
	for _, tt := range tests {
		for _, form := range forms {
			t.Run(tt.name+" "+form.name, func(t *testing.T) {
				text := string(form.append(tt.stamp, nil, tt.payload))
				if len(text) < tt.payload {
					t.Fatalf("text %d bytes, want at least %d", len(text), tt.payload)
				}
				if strings.ContainsAny(text, "\"\\") {
					t.Fatalf("text %q needs JSON escaping", text)
				}
				body := `{"id":"1-35","chatRoomId":1,"seq":35,"sendId":19,"rcvId":20,"message":"` + text + `","sentAt":"2026-11-26T16:19:16.184Z"}`
				d, ok := ParseDelivery([]byte(body))
				if !ok {
					t.Fatalf("ParseDelivery(%s) failed", body)
				}
				if d.Seq != 35 || d.Stamp != tt.stamp {
					t.Fatalf("got %+v, want seq 35 and %+v", d, tt.stamp)
				}
			})
		}
	}
}

func TestParseDeliveryRejects(t *testing.T) {
	for _, body := range []string{
		`{"type":"RESUME_TRUNCATED","chatRoomId":2,"lastSeq":1,"oldestSeq":5}`,
		`{"id":"1-1","chatRoomId":1,"seq":1,"sendId":8,"message":"hello","sentAt":"x"}`,
		`{"id":"1-1","chatRoomId":1,"seq":1,"sendId":8,"message":"t=12 n=","sentAt":"x"}`,
		`{"id":"1-1","chatRoomId":1,"seq":,"message":"t=1 n=2 p=3 r=4"}`,
		`{"id":"1-1","chatRoomId":1,"seq":1,"message":"~~t=1 n=2 p=3 r=4~"}`,
	} {
		if d, ok := ParseDelivery([]byte(body)); ok {
			t.Errorf("ParseDelivery(%s) = %+v, want rejection", body, d)
		}
	}
}

func TestParseDeliveryDoesNotAllocate(t *testing.T) {
	body := []byte(`{"id":"1-35","chatRoomId":1,"seq":35,"sendId":19,"message":"t=17 n=3 p=1 r=6 xxxx","sentAt":"z"}`)
	if n := testing.AllocsPerRun(100, func() { ParseDelivery(body) }); n != 0 {
		t.Fatalf("%v allocations per ParseDelivery", n)
	}
}
