package stomp

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Frames as the seed's React app (@stomp/stompjs 7.x) sends them. seedConnect
// is the capture in /work/shared/STOMP.md, byte for byte.
const (
	seedConnect = "CONNECT\n" +
		"Authorization:Bearer aaaa\n" +
		"chatRoomId:2\n" +
		"sendId:8\n" +
		"rcvId:3\n" +
		"accept-version:1.2,1.1,1.0\n" +
		"heart-beat:10000,10000\n" +
		"\n\x00"
	seedSubscribe  = "SUBSCRIBE\nid:sub-0\ndestination:/sub/chat/room/2\n\n\x00"
	seedSendBody   = `{"chatRoomId":2,"sendId":8,"rcvId":3,"message":"안녕하세요, see you at 7?"}`
	seedDisconnect = "DISCONNECT\nreceipt:close-1\n\n\x00"
)

// seedSend is a SEND as stompjs writes it: destination, content-length in
// UTF-8 bytes, no content-type.
var seedSend = fmt.Sprintf("SEND\ndestination:/pub/send-message\ncontent-length:%d\n\n%s\x00",
	len(seedSendBody), seedSendBody)

// fr builds a Frame from a command, a body and key, value pairs.
func fr(cmd, body string, kv ...string) *Frame {
	f := &Frame{Command: cmd}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Headers = append(f.Headers, Header{kv[i], kv[i+1]})
	}
	if body != "" {
		f.Body = []byte(body)
	}
	return f
}

// equalFrame compares frames, treating nil and empty as equal.
func equalFrame(a, b *Frame) bool {
	return a.Command == b.Command && bytes.Equal(a.Body, b.Body) &&
		len(a.Headers) == len(b.Headers) && (len(a.Headers) == 0 || slices.Equal(a.Headers, b.Headers))
}

func formatFrames(fs []*Frame) string {
	var sb strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&sb, "%s %q %q; ", f.Command, f.Headers, f.Body)
	}
	return sb.String()
}

func equalFrames(a, b []*Frame) bool {
	return slices.EqualFunc(a, b, equalFrame)
}

// decodeChunks feeds chunks to a fresh decoder and collects frames until the
// first error.
func decodeChunks(dec *Decoder, chunks ...[]byte) ([]*Frame, error) {
	var out []*Frame
	emit := func(f *Frame) error { out = append(out, f); return nil }
	for _, c := range chunks {
		if err := dec.Decode(c, emit); err != nil {
			return out, err
		}
	}
	return out, nil
}

// errMsg returns the Msg of a decode error, "" for nil, and fails the test
// when err is not an *Error.
func errMsg(tb testing.TB, err error) string {
	tb.Helper()
	if err == nil {
		return ""
	}
	var se *Error
	if !errors.As(err, &se) {
		tb.Fatalf("error %v (%T) is not a *stomp.Error", err, err)
	}
	return se.Msg
}
