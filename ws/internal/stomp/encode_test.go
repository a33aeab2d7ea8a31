package stomp

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		name    string
		f       *Frame
		version string
		want    string
	}{
		{name: "MESSAGE with content-length added", version: V12,
			f:    fr("MESSAGE", `{"a":1}`, "destination", "/sub/chat/room/2", "message-id", "m-1", "subscription", "sub-0"),
			want: "MESSAGE\ndestination:/sub/chat/room/2\nmessage-id:m-1\nsubscription:sub-0\ncontent-length:7\n\n{\"a\":1}\x00"},
		{name: "existing content-length kept", version: V12,
			f:    fr("ERROR", "oops", "content-length", "4", "message", "bad"),
			want: "ERROR\ncontent-length:4\nmessage:bad\n\noops\x00"},
		{name: "no body, no content-length", version: V12,
			f: fr("RECEIPT", "", "receipt-id", "close-1"), want: "RECEIPT\nreceipt-id:close-1\n\n\x00"},
		{name: "no headers", version: V12, f: fr("RECEIPT", ""), want: "RECEIPT\n\n\x00"},
		{name: "body with NUL", version: V12, f: fr("MESSAGE", "a\x00b"), want: "MESSAGE\ncontent-length:3\n\na\x00b\x00"},
		{name: "1.2 escapes", version: V12, f: fr("MESSAGE", "", "a:b", "x\r\n:\\y"),
			want: "MESSAGE\na\\cb:x\\r\\n\\c\\\\y\n\n\x00"},
		{name: "1.1 escapes no CR", version: V11, f: fr("MESSAGE", "", "a:b", "x\r\n:\\y"),
			want: "MESSAGE\na\\cb:x\r\\n\\c\\\\y\n\n\x00"},
		{name: "1.0 escapes nothing", version: V10, f: fr("MESSAGE", "", "k", `a:b\c`),
			want: "MESSAGE\nk:a:b\\c\n\n\x00"},
		{name: "CONNECTED is not escaped", version: V12, f: fr("CONNECTED", "", "version", "1.2", "server", `roomwire/1:x\y`),
			want: "CONNECTED\nversion:1.2\nserver:roomwire/1:x\\y\n\n\x00"},
		{name: "CONNECT is not escaped", version: V12, f: fr("CONNECT", "", "login", `a:b`),
			want: "CONNECT\nlogin:a:b\n\n\x00"},
		{name: "unknown version means 1.2", version: "2.0", f: fr("MESSAGE", "", "k", "\r"),
			want: "MESSAGE\nk:\\r\n\n\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("prefix")
			got := string(AppendFrame(prefix, tt.f, tt.version))
			if got != "prefix"+tt.want {
				t.Errorf("got  %q\nwant %q", got, "prefix"+tt.want)
			}
		})
	}
}

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ version, in, want string }{
		{V12, "plain", "plain"},
		{V12, "", ""},
		{V12, "a\\b:c\nd\re", `a\\b\cc\nd\re`},
		{V11, "a\\b:c\nd\re", "a\\\\b\\cc\\nd\re"},
		{V10, "a\\b:c\nd\re", "a\\b:c\nd\re"},
		{V12, "::", `\c\c`},
		{V12, "한글:", `한글\c`},
	}
	for _, tt := range tests {
		t.Run(tt.version+" "+tt.in, func(t *testing.T) {
			if got := string(AppendEscaped(nil, tt.in, tt.version)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRoundTrip checks that Decode(AppendFrame(f)) == f for random frames
// whose headers the version can express.
func TestRoundTrip(t *testing.T) {
	alphabets := map[string]string{
		V12: "ab:\\\n\rcé한\t ",
		V11: "ab:\\\ncé한\t ", // no CR: 1.1 cannot express a trailing one
		V10: "ab\\cé한\t ",    // no escaping: no LF, CR or colon (in names)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	randString := func(alphabet string, min int) string {
		runes := []rune(alphabet)
		n := min + rng.IntN(8)
		var sb strings.Builder
		for range n {
			sb.WriteRune(runes[rng.IntN(len(runes))])
		}
		return sb.String()
	}
	for _, version := range []string{V10, V11, V12} {
		t.Run(version, func(t *testing.T) {
			dec := NewDecoder(Limits{})
			dec.SetVersion(version)
			var wire []byte
			var want []*Frame
			for range 500 {
				f := &Frame{Command: []string{"SEND", "MESSAGE", "ERROR", "SUBSCRIBE", "ACK"}[rng.IntN(5)]}
				for range rng.IntN(6) {
					f.Headers = append(f.Headers, Header{randString(alphabets[version], 1), randString(alphabets[version], 0)})
				}
				if HasBody(f.Command) && rng.IntN(2) == 0 {
					f.Body = []byte(randString("x\x00\n\r:", 1))
				}
				wire = AppendFrame(wire, f, version)
				if len(f.Body) > 0 {
					f.Headers = append(f.Headers, Header{"content-length", strconv.Itoa(len(f.Body))})
				}
				want = append(want, f)
			}
			got, err := decodeChunks(dec, wire)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("decoded %d frames, want %d", len(got), len(want))
			}
			for i := range got {
				if !equalFrame(got[i], want[i]) {
					t.Fatalf("frame %d: got %s want %s", i, formatFrames(got[i:i+1]), formatFrames(want[i:i+1]))
				}
			}
		})
	}
}
