package gateway

import (
	"errors"
	"slices"
	"testing"
)

// sendBodyErrors are the only ERROR messages a SEND body can cause: fixed
// texts, so none can quote the body.
var sendBodyErrors = []string{
	describe(badRequest("body must be JSON like {\"chatRoomId\":2,\"message\":\"hi\"}")).message,
	describe(badRequest("body must hold one JSON object")).message,
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
		`{"chatRoomId":2,"message":"\ud800"}`,
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
