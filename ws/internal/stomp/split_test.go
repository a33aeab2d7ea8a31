package stomp

import (
	"fmt"
	"strings"
	"testing"
)

// TestDecodeSplit feeds inputs whole, in two pieces at every split point, and
// one byte at a time: frames, error and leftover must not depend on the split.
func TestDecodeSplit(t *testing.T) {
	small := Limits{MaxFrameBytes: 60, MaxHeaders: 3, MaxHeaderBytes: 20}
	tests := []struct {
		name    string
		version string
		limits  Limits
		in      string
	}{
		{name: "stompjs session", in: seedConnect + "\n" + seedSubscribe + "\n" + seedSend + "\n" + seedSend + seedDisconnect + "\n"},
		{name: "CRLF and heart-beats", in: "\r\n\n\r\nSEND\r\ndestination:/a\r\n\r\nhi\x00\r\n\r\nACK\r\nid:1\r\n\r\n\x00\r\n"},
		{name: "content-length with NULs", in: "SEND\ncontent-length:4\n\n\x00a\x00b\x00MESSAGE\ncontent-length:0\n\n\x00"},
		{name: "escapes", in: "SEND\na\\cb:\\r\\n\\\\\n\n\x00CONNECT\nk:\\x\n\n\x00"},
		{name: "1.1 escapes", version: V11, in: "SEND\na\\cb:\\n\\\\\n\n\x00SEND\nk:\\r\n\n\x00"},
		{name: "unfinished last frame", in: seedSubscribe + "SEND\ndestination:/a\ncontent-length:10\n\nabc"},
		{name: "half a CRLF heart-beat", in: seedSubscribe + "\r\n\r"},
		{name: "lying content-length", in: seedSubscribe + "SEND\ncontent-length:1\n\nab\x00"},
		{name: "body on SUBSCRIBE", in: seedSubscribe + "SUBSCRIBE\nid:1\n\nbody\x00"},
		{name: "bad escape", in: seedSubscribe + "SEND\nk:\\t\n\n\x00"},
		{name: "unknown command", in: seedDisconnect + "\r\nFROBNICATE\n\n\x00"},
		{name: "frame too large", limits: small, in: "SEND\n\n" + strings.Repeat("x", 53) + "\x00SEND\n\n" + strings.Repeat("x", 54) + "\x00"},
		{name: "headers too large for frame", limits: Limits{MaxFrameBytes: 60}, in: "ACK\n\n\x00SEND\n" + strings.Repeat("a:1234567890\n", 2) + "b:" + strings.Repeat("y", 30)},
		{name: "header too long", limits: small, in: "ACK\nid:1\n\n\x00SEND\nk:" + strings.Repeat("v", 19) + "\n\n\x00"},
		{name: "too many headers", limits: small, in: "SEND\na:1\nb:2\nc:3\n\n\x00SEND\na:1\nb:2\nc:3\nd:4\n\n\x00"},
		{name: "declared content-length too large", limits: small, in: "ACK\n\n\x00SEND\ncontent-length:50\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newDec := func() *Decoder {
				d := NewDecoder(tt.limits)
				if tt.version != "" {
					d.SetVersion(tt.version)
				}
				return d
			}
			in := []byte(tt.in)
			whole := newDec()
			want, wantErr := decodeChunks(whole, in)
			wantMsg := errMsg(t, wantErr)
			t.Logf("whole: %d frames, err %v", len(want), wantErr)
			if len(want) == 0 {
				t.Fatal("test input decodes to no frame")
			}
			check := func(how string, dec *Decoder, got []*Frame, err error) {
				t.Helper()
				if !equalFrames(got, want) || errMsg(t, err) != wantMsg {
					t.Fatalf("%s: %s err %v; whole: %s err %v", how, formatFrames(got), err, formatFrames(want), wantErr)
				}
				if wantErr == nil && dec.Buffered() != whole.Buffered() {
					t.Fatalf("%s: Buffered %d, whole %d", how, dec.Buffered(), whole.Buffered())
				}
			}
			for i := 0; i <= len(in); i++ {
				dec := newDec()
				got, err := decodeChunks(dec, in[:i:i], in[i:])
				check(fmt.Sprintf("split at %d", i), dec, got, err)
			}
			bytewise := make([][]byte, len(in))
			for i := range in {
				bytewise[i] = in[i : i+1 : i+1]
			}
			dec := newDec()
			got, err := decodeChunks(dec, bytewise...)
			check("byte by byte", dec, got, err)
		})
	}
}
