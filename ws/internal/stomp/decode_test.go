package stomp

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	sendLen := strconv.Itoa(len(seedSendBody))
	small := Limits{MaxFrameBytes: 40, MaxHeaders: 2, MaxHeaderBytes: 10}
	tests := []struct {
		name    string
		version string // "" leaves the default (V12)
		limits  Limits
		in      string
		want    []*Frame
		wantErr *Error
	}{
		{name: "seed CONNECT", in: seedConnect, want: []*Frame{fr("CONNECT", "",
			"Authorization", "Bearer aaaa", "chatRoomId", "2", "sendId", "8", "rcvId", "3",
			"accept-version", "1.2,1.1,1.0", "heart-beat", "10000,10000")}},
		{name: "stompjs SUBSCRIBE", in: seedSubscribe, want: []*Frame{fr("SUBSCRIBE", "",
			"id", "sub-0", "destination", "/sub/chat/room/2")}},
		{name: "stompjs SEND", in: seedSend, want: []*Frame{fr("SEND", seedSendBody,
			"destination", "/pub/send-message", "content-length", sendLen)}},
		{name: "stompjs DISCONNECT", in: seedDisconnect, want: []*Frame{fr("DISCONNECT", "", "receipt", "close-1")}},
		{name: "session", in: "\n" + seedConnect + "\n" + seedSubscribe + "\n\n" + seedSend + "\n" + seedDisconnect,
			want: []*Frame{
				fr("CONNECT", "", "Authorization", "Bearer aaaa", "chatRoomId", "2", "sendId", "8", "rcvId", "3",
					"accept-version", "1.2,1.1,1.0", "heart-beat", "10000,10000"),
				fr("SUBSCRIBE", "", "id", "sub-0", "destination", "/sub/chat/room/2"),
				fr("SEND", seedSendBody, "destination", "/pub/send-message", "content-length", sendLen),
				fr("DISCONNECT", "", "receipt", "close-1"),
			}},
		{name: "heart-beats only", in: "\n\r\n\n\r\n"},
		{name: "heart-beats between frames", in: "\r\n\nBEGIN\ntransaction:t\n\n\x00\n\r\n\nCOMMIT\ntransaction:t\n\n\x00\r\n",
			want: []*Frame{fr("BEGIN", "", "transaction", "t"), fr("COMMIT", "", "transaction", "t")}},
		{name: "CRLF", in: "SEND\r\ndestination:/a\r\nx:\r\n\r\nhi\x00",
			want: []*Frame{fr("SEND", "hi", "destination", "/a", "x", "")}},
		{name: "CR inside a value is kept", in: "SEND\nk:a\rb\n\n\x00", want: []*Frame{fr("SEND", "", "k", "a\rb")}},
		{name: "no command, body or headers", in: "ACK\n\n\x00", want: []*Frame{fr("ACK", "")}},
		{name: "server commands", in: "CONNECTED\nversion:1.2\n\n\x00MESSAGE\nk:v\n\nm\x00RECEIPT\nreceipt-id:1\n\n\x00ERROR\nmessage:x\n\nbad\x00",
			want: []*Frame{fr("CONNECTED", "", "version", "1.2"), fr("MESSAGE", "m", "k", "v"),
				fr("RECEIPT", "", "receipt-id", "1"), fr("ERROR", "bad", "message", "x")}},
		{name: "every client command", in: "STOMP\n\n\x00UNSUBSCRIBE\nid:1\n\n\x00NACK\nid:1\n\n\x00ABORT\ntransaction:t\n\n\x00",
			want: []*Frame{fr("STOMP", ""), fr("UNSUBSCRIBE", "", "id", "1"), fr("NACK", "", "id", "1"), fr("ABORT", "", "transaction", "t")}},
		{name: "repeated header, first wins", in: "SEND\nk:1\nk:2\n\n\x00", want: []*Frame{fr("SEND", "", "k", "1", "k", "2")}},
		{name: "split at first colon", in: "SEND\nk:a:b\n\n\x00", want: []*Frame{fr("SEND", "", "k", "a:b")}},
		{name: "no trimming", in: "SEND\n k : v \n\n\x00", want: []*Frame{fr("SEND", "", " k ", " v ")}},
		{name: "UTF-8 header", in: "SEND\n이름:값\n\n\x00", want: []*Frame{fr("SEND", "", "이름", "값")}},
		{name: "1.2 escapes", in: `SEND` + "\n" + `a\cb:\r\n\c\\` + "\n\n\x00",
			want: []*Frame{fr("SEND", "", "a:b", "\r\n:\\")}},
		{name: "1.1 escapes", version: V11, in: `SEND` + "\n" + `a\cb:\n\c\\` + "\n\n\x00",
			want: []*Frame{fr("SEND", "", "a:b", "\n:\\")}},
		{name: "1.0 does not unescape", version: V10, in: `SEND` + "\n" + `a\cb:\r\x\` + "\n\n\x00",
			want: []*Frame{fr("SEND", "", `a\cb`, `\r\x\`)}},
		{name: "CONNECT is not unescaped", in: `CONNECT` + "\n" + `login:a\nb\x` + "\n\n\x00",
			want: []*Frame{fr("CONNECT", "", "login", `a\nb\x`)}},
		{name: "CONNECTED is not unescaped", version: V11, in: `CONNECTED` + "\n" + `server:a\cb\` + "\n\n\x00",
			want: []*Frame{fr("CONNECTED", "", "server", `a\cb\`)}},
		{name: "STOMP is unescaped", in: `STOMP` + "\n" + `login:a\cb` + "\n\n\x00",
			want: []*Frame{fr("STOMP", "", "login", "a:b")}},
		{name: "content-length with NULs", in: "SEND\ncontent-length:3\n\na\x00b\x00",
			want: []*Frame{fr("SEND", "a\x00b", "content-length", "3")}},
		{name: "content-length 0 without body", in: "SUBSCRIBE\ncontent-length:0\n\n\x00",
			want: []*Frame{fr("SUBSCRIBE", "", "content-length", "0")}},
		{name: "content-length leading zeros", in: "SEND\ncontent-length:002\n\nab\x00",
			want: []*Frame{fr("SEND", "ab", "content-length", "002")}},
		{name: "first content-length wins", in: "SEND\ncontent-length:1\ncontent-length:x\n\na\x00",
			want: []*Frame{fr("SEND", "a", "content-length", "1", "content-length", "x")}},
		{name: "frame at MaxFrameBytes", limits: small, in: "SEND\n\n" + strings.Repeat("b", 33) + "\x00",
			want: []*Frame{fr("SEND", strings.Repeat("b", 33))}},
		{name: "header line at MaxHeaderBytes", limits: small, in: "SEND\nk:45678901\n\n\x00",
			want: []*Frame{fr("SEND", "", "k", "45678901")}},
		{name: "MaxHeaders headers", limits: small, in: "SEND\na:1\nb:2\n\n\x00",
			want: []*Frame{fr("SEND", "", "a", "1", "b", "2")}},
		{name: "ten headers", in: "SEND\n0:0\n1:1\n2:2\n3:3\n4:4\n5:5\n6:6\n7:7\n8:8\n9:9\n\n\x00",
			want: []*Frame{fr("SEND", "", "0", "0", "1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "6", "6", "7", "7", "8", "8", "9", "9")}},
		{name: "incomplete frame is no error", in: "SEND\ndestination:/a\n\nhal"},

		{name: "unknown command", in: "FOO\n\n\x00", wantErr: ErrUnknownCommand},
		{name: "command is case-sensitive", in: "send\n\n\x00", wantErr: ErrUnknownCommand},
		{name: "command with space", in: "SEND \n\n\x00", wantErr: ErrUnknownCommand},
		{name: "lone CR before command", in: "\rSEND\n\n\x00", wantErr: ErrUnknownCommand},
		{name: "long command line fails before EOL", in: "SENDSENDSENDSEND", wantErr: ErrUnknownCommand},
		{name: "error after good frame", in: seedSubscribe + "BAD\n\n\x00",
			want: []*Frame{fr("SUBSCRIBE", "", "id", "sub-0", "destination", "/sub/chat/room/2")}, wantErr: ErrUnknownCommand},
		{name: "missing colon", in: "SEND\nkv\n\n\x00", wantErr: ErrMalformedHeader},
		{name: "empty header name", in: "SEND\n:v\n\n\x00", wantErr: ErrMalformedHeader},
		{name: "NUL in header", in: "SEND\nk:v\x00w\n\n\x00", wantErr: ErrMalformedHeader},
		{name: "NUL ends headers early", in: "SEND\nk:v\x00", wantErr: nil},
		{name: "invalid UTF-8 in header", in: "SEND\nk:\xff\n\n\x00", wantErr: ErrMalformedHeader},
		{name: "1.2 unknown escape", in: "SEND\nk:\\t\n\n\x00", wantErr: ErrInvalidEscape},
		{name: "1.2 trailing backslash", in: "SEND\nk:v\\\n\n\x00", wantErr: ErrInvalidEscape},
		{name: "escape in name", in: "SEND\nk\\x:v\n\n\x00", wantErr: ErrInvalidEscape},
		{name: `1.1 has no \r`, version: V11, in: "SEND\nk:\\r\n\n\x00", wantErr: ErrInvalidEscape},
		{name: "negative content-length", in: "SEND\ncontent-length:-1\n\n\x00", wantErr: ErrInvalidContentLength},
		{name: "empty content-length", in: "SEND\ncontent-length:\n\n\x00", wantErr: ErrInvalidContentLength},
		{name: "non-decimal content-length", in: "SEND\ncontent-length:0x1\n\n\x00", wantErr: ErrInvalidContentLength},
		{name: "content-length with space", in: "SEND\ncontent-length: 1\n\na\x00", wantErr: ErrInvalidContentLength},
		{name: "huge content-length", in: "SEND\ncontent-length:99999999999999999999999\n\n", wantErr: ErrFrameTooLarge},
		{name: "content-length too short", in: "SEND\ncontent-length:2\n\nabc\x00", wantErr: ErrContentLengthMismatch},
		{name: "content-length too long", in: "SEND\ncontent-length:5\n\nabc\x00" + "SEND\n\n\x00", wantErr: ErrContentLengthMismatch},
		{name: "body on SUBSCRIBE", in: "SUBSCRIBE\nid:1\n\nx\x00", wantErr: ErrUnexpectedBody},
		{name: "body on CONNECT with content-length", in: "CONNECT\ncontent-length:1\n\nx\x00", wantErr: ErrUnexpectedBody},
		{name: "body on DISCONNECT fails before NUL", in: "DISCONNECT\n\nx", wantErr: ErrUnexpectedBody},
		{name: "frame over MaxFrameBytes", limits: small, in: "SEND\n\n" + strings.Repeat("b", 34) + "\x00", wantErr: ErrFrameTooLarge},
		{name: "unfinished frame at MaxFrameBytes", limits: small, in: "SEND\n\n" + strings.Repeat("b", 34), wantErr: ErrFrameTooLarge},
		{name: "NUL just over MaxFrameBytes", limits: Limits{MaxFrameBytes: 5}, in: "ACK\n\n\x00", wantErr: ErrFrameTooLarge},
		{name: "declared content-length over limit", limits: Limits{MaxFrameBytes: 40}, in: "SEND\ncontent-length:30\n\n", wantErr: ErrFrameTooLarge},
		{name: "too many headers", limits: small, in: "SEND\na:1\nb:2\nc:3\n\n\x00", wantErr: ErrTooManyHeaders},
		{name: "header too long", limits: small, in: "SEND\nk:456789012\n\n\x00", wantErr: ErrHeaderTooLong},
		{name: "header too long before EOL", limits: small, in: "SEND\nk:456789012", wantErr: ErrHeaderTooLong},
		{name: "CR does not count toward header length", limits: small, in: "SEND\nk:45678901\r", wantErr: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := NewDecoder(tt.limits)
			if tt.version != "" {
				dec.SetVersion(tt.version)
			}
			got, err := decodeChunks(dec, []byte(tt.in))
			if !equalFrames(got, tt.want) {
				t.Errorf("frames:\n got %s\nwant %s", formatFrames(got), formatFrames(tt.want))
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			errMsg(t, err)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeGetValueSet(t *testing.T) {
	got, err := decodeChunks(NewDecoder(Limits{}), []byte("SEND\nk:1\nk:2\nempty:\n\n\x00"))
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d frames, err %v", len(got), err)
	}
	f := got[0]
	tests := []struct {
		key, want string
		ok        bool
	}{{"k", "1", true}, {"empty", "", true}, {"missing", "", false}, {"K", "", false}}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			v, ok := f.Get(tt.key)
			if v != tt.want || ok != tt.ok || f.Value(tt.key) != tt.want {
				t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.key, v, ok, tt.want, tt.ok)
			}
		})
	}
	f.Set("k", "3")
	f.Set("new", "4")
	want := fr("SEND", "", "k", "3", "k", "2", "empty", "", "new", "4")
	if !equalFrame(f, want) {
		t.Errorf("after Set: %s", formatFrames([]*Frame{f}))
	}
}

func TestDecoderState(t *testing.T) {
	t.Run("errors are sticky and the buffer is dropped", func(t *testing.T) {
		dec := NewDecoder(Limits{})
		_, err := decodeChunks(dec, []byte("SEND\nbad\n"))
		if !errors.Is(err, ErrMalformedHeader) {
			t.Fatalf("err %v", err)
		}
		if _, err2 := decodeChunks(dec, []byte(seedDisconnect)); err2 != err {
			t.Fatalf("second call: %v, want %v", err2, err)
		}
		if dec.Buffered() != 0 {
			t.Fatalf("Buffered %d after error", dec.Buffered())
		}
	})
	t.Run("emit error stops and resumes after the frame", func(t *testing.T) {
		dec := NewDecoder(Limits{})
		stop := errors.New("stop")
		var n int
		in := []byte(seedSubscribe + seedDisconnect)
		err := dec.Decode(in, func(*Frame) error { n++; return stop })
		if err != stop || n != 1 {
			t.Fatalf("err %v after %d frames", err, n)
		}
		got, err := decodeChunks(dec, nil)
		if err != nil || len(got) != 1 || got[0].Command != "DISCONNECT" {
			t.Fatalf("resume: %s, %v", formatFrames(got), err)
		}
	})
	t.Run("input is not retained", func(t *testing.T) {
		dec := NewDecoder(Limits{})
		in := []byte(seedSend + seedSend[:20])
		got, err := decodeChunks(dec, in)
		if err != nil || len(got) != 1 {
			t.Fatalf("%d frames, err %v", len(got), err)
		}
		if dec.Buffered() != 20 {
			t.Fatalf("Buffered %d, want 20", dec.Buffered())
		}
		clear(in)
		rest, err := decodeChunks(dec, []byte(seedSend[20:]))
		if err != nil || len(rest) != 1 || !equalFrame(got[0], rest[0]) {
			t.Fatalf("rest: %s, %v", formatFrames(rest), err)
		}
		if got[0].Value("destination") != "/pub/send-message" || string(got[0].Body) != seedSendBody {
			t.Fatalf("frame changed with its input: %s", formatFrames(got))
		}
	})
	t.Run("body cannot grow into headers", func(t *testing.T) {
		got, _ := decodeChunks(NewDecoder(Limits{}), []byte("SEND\nk:v\n\nb\x00"))
		_ = append(got[0].Body, "XXXX"...)
		if got[0].Value("k") != "v" {
			t.Fatalf("append to Body changed a header: %q", got[0].Headers)
		}
	})
	t.Run("large buffer is released", func(t *testing.T) {
		dec := NewDecoder(Limits{})
		big := "SEND\n\n" + strings.Repeat("x", 3*keepCap) + "\x00"
		if _, err := decodeChunks(dec, []byte(big[:10]), []byte(big[10:])); err != nil {
			t.Fatal(err)
		}
		if dec.Buffered() != 0 || cap(dec.buf) > keepCap {
			t.Fatalf("Buffered %d, cap %d", dec.Buffered(), cap(dec.buf))
		}
	})
	t.Run("large buffer shrinks around a small tail", func(t *testing.T) {
		dec := NewDecoder(Limits{})
		big := "SEND\n\n" + strings.Repeat("x", 3*keepCap) + "\x00"
		if _, err := decodeChunks(dec, []byte(big[:10]), []byte(big[10:]+"ACK\n")); err != nil {
			t.Fatal(err)
		}
		if dec.Buffered() != 4 || cap(dec.buf) > keepCap {
			t.Fatalf("Buffered %d, cap %d", dec.Buffered(), cap(dec.buf))
		}
		got, err := decodeChunks(dec, []byte("id:1\n\n\x00"))
		if err != nil || len(got) != 1 || !equalFrame(got[0], fr("ACK", "", "id", "1")) {
			t.Fatalf("%s, %v", formatFrames(got), err)
		}
	})
	t.Run("zero Decoder uses defaults", func(t *testing.T) {
		var dec Decoder
		got, err := decodeChunks(&dec, []byte(seedSend))
		if err != nil || len(got) != 1 {
			t.Fatalf("%d frames, err %v", len(got), err)
		}
	})
	t.Run("SetLimits raises the limit for later frames", func(t *testing.T) {
		dec := NewDecoder(Limits{MaxFrameBytes: 200})
		var got []*Frame
		err := dec.Decode([]byte(seedConnect+seedSend+seedSend), func(f *Frame) error {
			got = append(got, f)
			dec.SetLimits(Limits{MaxFrameBytes: 50})
			return nil
		})
		if !errors.Is(err, ErrFrameTooLarge) || len(got) != 1 {
			t.Fatalf("%d frames, err %v", len(got), err)
		}
	})
	t.Run("SetVersion applies to the next frame", func(t *testing.T) {
		dec := NewDecoder(Limits{})
		var got []*Frame
		in := "CONNECT\nk:a\\cb\n\n\x00SEND\nk:a\\cb\n\n\x00"
		err := dec.Decode([]byte(in), func(f *Frame) error {
			got = append(got, f)
			dec.SetVersion(V10)
			return nil
		})
		if err != nil || len(got) != 2 || got[1].Value("k") != `a\cb` {
			t.Fatalf("%s, %v", formatFrames(got), err)
		}
	})
}

func TestError(t *testing.T) {
	long := strings.Repeat("X", 40)
	_, err := decodeChunks(NewDecoder(Limits{}), []byte(long+"\n"))
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"sentinel", ErrFrameTooLarge, "stomp: frame too large"},
		{"detail quotes and cuts input", err, `stomp: unknown command: "` + long[:32] + `"...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if errors.Is(err, ErrFrameTooLarge) || !errors.Is(err, ErrUnknownCommand) {
		t.Errorf("errors.Is matches the wrong sentinel for %v", err)
	}
}

// Size counts what a decoded Frame retains: its body and the header text
// as received, escapes included, besides the Frame and its header array.
func TestFrameSize(t *testing.T) {
	body := strings.Repeat("b", 1000)
	esc := strings.Repeat(`\\`, 500) // 1000 bytes on the wire, 500 unescaped
	got, err := decodeChunks(NewDecoder(Limits{}), []byte("SEND\nk:"+esc+"\n\n"+body+"\x00"))
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d frames, err %v", len(got), err)
	}
	if n, min := got[0].Size(), len(body)+1+len(esc); n < min || n > min+256 {
		t.Errorf("Size() = %d, want about %d", n, min)
	}
	built := fr("SEND", body, "k", "v")
	if n := built.Size(); n < len(body)+2 || n > len(body)+256 {
		t.Errorf("Size() of a built frame = %d, want about %d", n, len(body)+2)
	}
}
