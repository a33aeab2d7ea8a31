package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestHostileREST: malformed, mistyped, oversized and abusive requests
// each get a 4xx problem+json, never a 500, and never echo the request.
func TestHostileREST(t *testing.T) {
	e := newEnv(t)
	g := e.createGroup(t, 8, "G", 3)
	room := func(p string) string { return fmt.Sprintf("/api/v1/chat-rooms/%d%s", g, p) }
	big := `{"type":"group","name":"` + strings.Repeat("n", 70<<10) + `","memberIds":[3]}`
	deep := `{"type":"group","memberIds":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	cases := []struct {
		name, method, path string
		body               any // nil: no body; string: raw
		status             int
		detail             string
	}{
		// Invalid JSON.
		{"truncated JSON", "POST", "/api/v1/chat-rooms", `{"type":`, 400, "malformed JSON"},
		{"not JSON", "POST", "/api/v1/chat-rooms", `type=group`, 400, "malformed JSON"},
		{"empty body", "POST", "/api/v1/chat-rooms", ``, 400, "empty"},
		{"array body", "POST", "/api/v1/chat-rooms", `[1,2]`, 400, "JSON object"},
		{"string body", "POST", "/api/v1/chat-rooms", `"group"`, 400, "JSON object"},
		{"two objects", "POST", "/api/v1/chat-rooms", `{"type":"group"}{"type":"group"}`, 400, "single JSON object"},
		{"deep nesting", "POST", "/api/v1/chat-rooms", deep, 400, ""},
		{"NUL in JSON", "POST", room("/messages"), "{\"message\":\"a\x00b\"}", 400, "malformed JSON"},
		{"lone surrogate escape", "POST", room("/messages"), `{"message":"a\ud800b"}`, 400, "unpaired surrogate"},
		{"low surrogate first", "POST", room("/messages"), `{"message":"\udc00\ud800"}`, 400, "unpaired surrogate"},
		{"invalid UTF-8", "POST", room("/messages"), "{\"message\":\"a\xffb\"}", 400, "UTF-8"},
		// Wrong types.
		{"memberIds as string", "POST", "/api/v1/chat-rooms", `{"type":"group","memberIds":"3"}`, 400, "memberIds"},
		{"member id as string", "POST", "/api/v1/chat-rooms", `{"type":"group","memberIds":["3"]}`, 400, "memberIds"},
		{"type as number", "POST", "/api/v1/chat-rooms", `{"type":1}`, 400, "type"},
		{"message as number", "POST", room("/messages"), `{"message":5}`, 400, "message"},
		{"userId as bool", "POST", room("/members"), `{"userId":true}`, 400, "userId"},
		{"chatRoomId as string", "POST", "/api/v1/chat-room/disconnect", `{"chatRoomId":"2"}`, 400, "chatRoomId"},
		{"fractional id", "POST", room("/members"), `{"userId":1.5}`, 400, "userId"},
		// Negative, huge and overflowing ids.
		{"negative room id", "GET", "/api/v1/chat-rooms/-1", nil, 400, "invalid room id"},
		{"zero room id", "GET", "/api/v1/chat-rooms/0", nil, 400, "invalid room id"},
		{"overflowing room id", "GET", "/api/v1/chat-rooms/99999999999999999999", nil, 400, "invalid room id"},
		{"largest room id", "GET", "/api/v1/chat-rooms/9223372036854775807", nil, 404, "room not found"},
		{"negative member in path", "DELETE", room("/members/-5"), nil, 400, ""},
		{"negative member id", "POST", room("/members"), `{"userId":-5}`, 400, ""},
		{"overflowing member id", "POST", room("/members"), `{"userId":9223372036854775808}`, 400, "userId"},
		{"huge exponent", "POST", room("/members"), `{"userId":1e400}`, 400, "userId"},
		{"negative member ids", "POST", "/api/v1/chat-rooms", `{"type":"group","name":"x","memberIds":[-3]}`, 400, ""},
		{"negative rcvId", "POST", room("/messages"), `{"message":"hi","rcvId":-3}`, 400, "rcvId"},
		{"negative chatRoomId", "POST", "/api/v1/chat-room/disconnect", `{"chatRoomId":-2}`, 400, "chatRoomId"},
		{"negative limit", "GET", room("/messages?limit=-1"), nil, 400, "limit"},
		{"overflowing after", "GET", room("/messages?after=99999999999999999999"), nil, 400, "after"},
		{"negative wait", "GET", room("/messages?after=0&wait=-5s"), nil, 400, "wait"},
		{"overflowing wait", "GET", room("/messages?after=0&wait=99999999999999999999h"), nil, 400, "wait"},
		// Unknown fields are refused, not ignored.
		{"unknown field", "POST", "/api/v1/chat-rooms", `{"type":"group","name":"x","memberIds":[3],"admin":true}`, 400, "unknown field"},
		{"unknown field on send", "POST", room("/messages"), `{"message":"hi","sentAt":"2020-01-01"}`, 400, "unknown field"},
		// Oversized bodies.
		{"body over 64 KiB", "POST", "/api/v1/chat-rooms", big, 413, "too large"},
		{"message over the limit", "POST", room("/messages"), `{"message":"` + strings.Repeat("m", maxMessage+1) + `"}`, 413, ""},
		// Path traversal and injection lookalikes.
		{"encoded traversal", "GET", "/api/v1/chat-rooms/..%2F..%2Fhealthz", nil, 0, ""},
		{"dot-dot id", "GET", "/api/v1/chat-rooms/..", nil, 0, ""},
		{"encoded dot-dot id", "GET", "/api/v1/chat-rooms/%2e%2e", nil, 0, ""},
		{"SQL-looking id", "GET", "/api/v1/chat-rooms/1;DROP%20TABLE%20rooms", nil, 400, "invalid room id"},
		{"quote in id", "GET", "/api/v1/chat-rooms/1'%20OR%20'1'='1", nil, 400, "invalid room id"},
		{"NUL in id", "GET", "/api/v1/chat-rooms/1%00", nil, 400, "invalid room id"},
		{"hex id", "GET", "/api/v1/chat-rooms/0x10", nil, 400, "invalid room id"},
		{"signed id", "GET", "/api/v1/chat-rooms/+1", nil, 400, "invalid room id"},
		{"exponent id", "GET", "/api/v1/chat-rooms/1e3", nil, 400, "invalid room id"},
		{"unicode digits", "GET", "/api/v1/chat-rooms/%D9%A1", nil, 400, "invalid room id"},
		{"traversal in member id", "DELETE", room("/members/..%2F3"), nil, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.request(t, c.method, c.path, 8, c.body)
			if c.status == 0 { // any 4xx will do (400 or 404 depending on routing)
				if res.status < 400 || res.status > 499 {
					t.Fatalf("status %d, want 4xx; body %s", res.status, res.body)
				}
				res.wantProblem(t, res.status, c.detail)
				return
			}
			res.wantProblem(t, c.status, c.detail)
			if s, ok := c.body.(string); ok && len(s) > 64 && strings.Contains(string(res.body), s[:64]) {
				t.Fatalf("the answer echoes the request body")
			}
		})
	}
}

// TestHostileAuthorization: missing and garbled Authorization headers are
// 401 problems that do not echo the header.
func TestHostileAuthorization(t *testing.T) {
	e := newEnv(t)
	valid := token(t, 8)
	for _, h := range []string{
		"",
		"Bearer",
		"Bearer    ",
		"Bearer " + strings.Repeat("A", 6000),
		"Bearer a.b",
		"Bearer ....",
		"Bearer " + valid + "x",
		"Bearer " + valid[:len(valid)-10],
		"Bearer " + strings.Replace(valid, ".", "..", 1),
		"Bearer \xff\xfe\x80",
		"Bearer " + valid + " " + valid,
		"Basic " + valid,
		"Token " + valid,
		valid,
		"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiI4In0.",
	} {
		name := h
		if len(name) > 30 {
			name = name[:30]
		}
		t.Run(name, func(t *testing.T) {
			req := newRequest(t, "GET", e.url+"/api/v1/chat-rooms", nil)
			if h != "" {
				req.Header["Authorization"] = []string{h}
			}
			res := send(t, req)
			res.wantProblem(t, http.StatusUnauthorized, "")
			if tok := strings.TrimPrefix(h, "Bearer "); len(tok) > 16 && strings.Contains(string(res.body), tok[:16]) {
				t.Fatalf("the answer echoes the header: %s", res.body)
			}
		})
	}
}
