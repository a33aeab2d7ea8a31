package gateway_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/ws/internal/gateway"
)

// TestConnectRefusalOrder: a CONNECT into a room is refused first for the
// user's membership (not a member of room N), then for rcvId's, then for
// the session cap; each with its ERROR and close code 1008, leaving no
// session or presence behind.
func TestConnectRefusalOrder(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.MaxSessionsPerUser = 2 })
	id := e.group(1, 2, 4)
	room := strconv.FormatInt(id, 10)
	for _, user := range []int64{3, 3, 4, 4} { // 3 (not a member) and 4 at the cap
		e.connect(user)
	}
	tests := []struct {
		name      string
		user, rcv int64
		want      string
	}{
		{"not a member", 5, 0, fmt.Sprintf("forbidden: not a member of room %d", id)},
		{"not a member, at the cap", 3, 0, fmt.Sprintf("forbidden: not a member of room %d", id)},
		{"not a member, nor rcvId", 5, 6, fmt.Sprintf("forbidden: not a member of room %d", id)},
		{"rcvId not a member", 1, 5, "forbidden: rcvId is not a member of the room"},
		{"rcvId not a member, at the cap", 4, 3, "forbidden: rcvId is not a member of the room"},
		{"at the cap", 4, 2, "at most 2 concurrent sessions per user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dial()
			headers := []string{"Authorization", "Bearer " + e.token(tt.user), "accept-version", "1.2", "chatRoomId", room}
			if tt.rcv != 0 {
				headers = append(headers, "rcvId", strconv.FormatInt(tt.rcv, 10))
			}
			c.send("CONNECT", "", headers...)
			c.expectErrorAndClose(tt.want, websocket.StatusPolicyViolation)
			redistest.Eventually(t, "no session of the refused CONNECT", func() bool {
				s, err := e.reg.UserSessions(context.Background(), tt.user)
				return err == nil && len(s) == map[int64]int{3: 2, 4: 2}[tt.user]
			})
			if p, err := e.reg.RoomPresence(context.Background(), id); err != nil || len(p) != 0 {
				t.Errorf("presence in room %d: %v (%v), want none", id, p, err)
			}
		})
	}
	c, _ := e.connect(1, "chatRoomId", room, "rcvId", "2")
	c.send("DISCONNECT", "", "receipt", "bye")
	c.expect("RECEIPT")
}
