package gateway

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// sendBodyErrors are the only ERROR messages a SEND body can cause: fixed
// texts, so none can quote the body.
var sendBodyErrors = []string{
	describe(badRequest("body must be JSON like {\"chatRoomId\":2,\"message\":\"hi\"}")).message,
	describe(badRequest("body must hold one JSON object")).message,
	describe(badRequest("body must be UTF-8 without unpaired surrogate escapes")).message,
	describe(badRequest("chatRoomId must be a positive integer (or CONNECT with chatRoomId)")).message,
	describe(errIdentity).message,
}

// FuzzSendBody feeds arbitrary SEND bodies to the body parser: it never
// panics, accepts only requests the send path may run (a positive room, a
// non-negative receiver, no other user's sendId), and refuses with one of
// a few fixed, client-safe texts.
func FuzzSendBody(f *testing.F) {
	for _, seed := range []string{
		`{"chatRoomId":2,"sendId":8,"rcvId":3,"message":"hi"}`,
		`{"chatRoomId":2,"message":"hi"}`,
		`{"message":"no room"}`,
		`{"chatRoomId":-1,"message":"x"}`,
		`{"chatRoomId":2,"sendId":9,"message":"spoof"}`,
		`{"chatRoomId":"2","message":"x"}`,
		`{"chatRoomId":99999999999999999999,"message":"x"}`,
		`{"chatRoomId":2,"message":"x"} {"chatRoomId":2}`,
		`{"chatRoomId":2,"message":"x"}]`,
		`{"chatRoomId":2,"message":"\ud800"}`, `{"chatRoomId":2,"message":"\udc00\ud800"}`,
		`{"chatRoomId":2,"message":"\ud83d\ude00"}`, "{\"chatRoomId\":2,\"message\":\"\xff\"}",
		"{\"chatRoomId\":2,\"message\":\"a\\\"\xed\xa0\x80\"}",
		`[1,2,3]`, `null`, `""`, ``, `{`, "\x00", `{"chatRoomId":1e3,"message":"x"}`,
		`{"chatRoomId":2,"rcvId":-3,"message":"x"}`, `{"CHATROOMID":2,"message":"x","extra":{"a":[1,{}]}}`,
	} {
		f.Add([]byte(seed), int64(8), int64(0))
		f.Add([]byte(seed), int64(8), int64(5))
	}
	f.Fuzz(func(t *testing.T, body []byte, user, defaultRoom int64) {
		if user <= 0 || defaultRoom < 0 {
			return // the session guarantees both
		}
		req, err := parseSendBody(body, user, defaultRoom)
		if err == nil {
			if req.ChatRoomID <= 0 || req.RcvID < 0 || (req.SendID != 0 && req.SendID != user) {
				t.Fatalf("accepted %q as %+v for user %d", body, req, user)
			}
			// Invalid UTF-8 and lone surrogates are refused, not replaced.
			spelled := bytes.Contains(body, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`))
			if strings.ContainsRune(req.Message, utf8.RuneError) && !spelled {
				t.Fatalf("accepted %q with U+FFFD in the text: %q", body, req.Message)
			}
			return
		}
		if !errors.Is(err, errBadRequest) && !errors.Is(err, errIdentity) {
			t.Fatalf("error %v is neither a bad request nor an identity error", err)
		}
		p := describe(err)
		if p.code == 0 || p.message == "" || p.message == "internal error" {
			t.Fatalf("error %v maps to %+v", err, p)
		}
		if !slices.Contains(sendBodyErrors, p.message) {
			t.Fatalf("ERROR message %q is not one of the fixed texts (it may quote the body)", p.message)
		}
	})
}

// FuzzSendBodyFastPath: whatever the fast SEND body decoder accepts,
// encoding/json decodes without error to the same request.
func FuzzSendBodyFastPath(f *testing.F) {
	for _, seed := range []string{
		`{"chatRoomId":2,"sendId":8,"rcvId":3,"message":"hi"}`,
		` { "message" : "안녕" , "chatRoomId" : 12 } `, `{}`, `{"message":""}`,
		`{"chatRoomId":-0,"message":"x"}`, `{"chatRoomId":007}`, `{"rcvId":9223372036854775807}`,
		`{"chatRoomId":2,"chatRoomId":3}`, `{"chatRoomid":2}`, `{"message":"a\"b"}`, "{\"message\":\"\xff\"}",
		`{"chatRoomId":1.0}`, `{"chatRoomId":1e1}`, `{"chatRoomId":null}`, `{"chatRoomId":2,}`, `{"chatRoomId":2}x`,
		`{"chatRoomId":-}`, "{\"message\":\"\t\"}", `{"message":"x"` + "\u00a0}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeSendFast(body)
		if !ok {
			return
		}
		slow, err := decodeSendJSON(body)
		if err != nil {
			t.Fatalf("fast path accepted %q as %+v; encoding/json refuses it: %v", body, fast, err)
		}
		if fast != slow {
			t.Fatalf("%q: fast path %+v, encoding/json %+v", body, fast, slow)
		}
	})
}

// TestSendBodyFastPathTakesTheSeedsShape: the seed client's body, with and
// without sendId/rcvId, and Korean text, take the fast path; bodies
// with escapes, unknown keys or other number forms do not (they go to
// encoding/json).
func TestSendBodyFastPathTakesTheSeedsShape(t *testing.T) {
	for body, want := range map[string]bool{
		`{"chatRoomId":2,"sendId":8,"rcvId":3,"message":"안녕하세요"}`: true,
		` {"message": "hi", "chatRoomId": 2} `:                    true,
		`{"chatRoomId":2,"message":"say \"hi\""}`:                 false,
		`{"chatRoomId":2,"message":"hi","extra":1}`:               false,
		`{"chatRoomId":2.0,"message":"hi"}`:                       false,
		`{"CHATROOMID":2,"message":"hi"}`:                         false,
	} {
		if _, ok := decodeSendFast([]byte(body)); ok != want {
			t.Errorf("decodeSendFast(%s) ok = %v, want %v", body, ok, want)
		}
	}
}
