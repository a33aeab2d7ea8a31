package httpapi_test

import (
	"fmt"
	"testing"
)

// TestIDSpelling: an id in a path or in ?userIds= has one spelling,
// wire.ParseID's, the one STOMP takes too: decimal digits, no sign, no
// leading zero.
func TestIDSpelling(t *testing.T) {
	e := newEnv(t)
	g := e.createGroup(t, 8, "G", 3)
	for _, tc := range []struct {
		name, path string
		status     int
	}{
		{"canonical room id", fmt.Sprintf("/api/v1/chat-rooms/%d", g), 200},
		{"leading zero", fmt.Sprintf("/api/v1/chat-rooms/0%d", g), 400},
		{"plus sign", fmt.Sprintf("/api/v1/chat-rooms/+%d", g), 400},
		{"canonical user ids", "/api/v1/presence?userIds=3,8", 200},
		{"leading zero user id", "/api/v1/presence?userIds=03", 400},
		{"signed user id", "/api/v1/presence?userIds=%2B3", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.request(t, "GET", tc.path, 8, nil)
			if tc.status != 200 {
				res.wantProblem(t, tc.status, "")
				return
			}
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
		})
	}
}
