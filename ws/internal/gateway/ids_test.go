package gateway_test

import (
	"fmt"
	"testing"

	"github.com/coder/websocket"

	"github.com/roomwire/roomwire/ws/internal/gateway"
)

// TestIDSpelling: ids in CONNECT headers and in destinations have one
// spelling (wire.ParseID, as REST): "+3", "03" or " 3" is no id.
func TestIDSpelling(t *testing.T) {
	e := newEnv(t, nil)
	room := e.directRoom(8, 3)
	for _, v := range []string{fmt.Sprint("+", room), fmt.Sprint("0", room), fmt.Sprint(" ", room), "0"} {
		for _, h := range []string{"chatRoomId", "sendId", "rcvId"} {
			t.Run("CONNECT "+h+":"+v, func(t *testing.T) {
				c := e.dial()
				c.t = t
				c.send("CONNECT", "", "Authorization", "Bearer "+e.token(8), "accept-version", "1.2", h, v)
				c.expectErrorAndClose("header "+h+" must be a positive integer", websocket.StatusProtocolError)
			})
		}
		t.Run("SUBSCRIBE room "+v, func(t *testing.T) {
			c, _ := e.connect(8)
			c.t = t
			c.send("SUBSCRIBE", "", "id", "a", "destination", "/sub/chat/room/"+v)
			c.expectErrorAndClose("unknown destination", websocket.StatusProtocolError)
		})
	}
	c, _ := e.connect(8, "chatRoomId", fmt.Sprint(room), "sendId", "8", "rcvId", "3")
	c.send("SUBSCRIBE", "", "id", "a", "destination", fmt.Sprintf("/sub/chat/room/%d", room), "receipt", "r")
	c.receipt("r")
	c.send("SEND", sendBody(room, 8, "hi"), "destination", gateway.SendDestination, "receipt", "s")
	for got := false; !got; {
		got = c.next().Command == "RECEIPT"
	}
}
