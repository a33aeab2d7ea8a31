package ctl

import (
	"encoding/json"
	"testing"

	"github.com/roomwire/roomwire/shared/chat/registry"
)

// TestSessionLineJSON pins the output line of "chatctl sessions", live and
// stale. These are the bytes that registry.Session (with stale beside it)
// produced before the line had a type of its own.
func TestSessionLineJSON(t *testing.T) {
	live := sessionLineOf(registry.Session{ID: "s1", UserID: 8, RoomID: 2, Node: "n1", ConnectedAt: "c", RemoteAddr: "10.0.0.1:5"})
	stale := sessionLine{ID: "s2", UserID: 8, Stale: true}
	for _, tt := range []struct {
		line sessionLine
		want string
	}{
		{live, `{"sessionId":"s1","userId":8,"roomId":2,"node":"n1","connectedAt":"c","remoteAddr":"10.0.0.1:5"}`},
		{stale, `{"sessionId":"s2","userId":8,"node":"","connectedAt":"","remoteAddr":"","stale":true}`},
	} {
		if got, err := json.Marshal(tt.line); err != nil || string(got) != tt.want {
			t.Errorf("json.Marshal(%+v) = %s, %v; want %s", tt.line, got, err, tt.want)
		}
	}
}
