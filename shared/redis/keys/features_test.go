package keys_test

import (
	"testing"

	"github.com/roomwire/roomwire/shared/redis/keys"
)

// Names of the chat features (read state, typing, notifications, presence):
// room keys carry the room's hash tag, user keys the user's, so every Lua
// script touches one slot.
func TestFeatureNames(t *testing.T) {
	k := keys.MustNew("chat")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"RoomRead", k.RoomRead(2), "chat:room:{2}:read"},
		{"RoomTyping", k.RoomTyping(2, 8), "chat:room:{2}:typing:8"},
		{"UserNotifications", k.UserNotifications(8), "chat:user:{u8}:notifications"},
		{"UserLastSeen", k.UserLastSeen(8), "chat:user:{u8}:lastseen"},
		{"UserOutbox", k.UserOutbox(8), "chat:user:{u8}:outbox"},
		{"NotificationsPending", k.NotificationsPending(), "chat:notifications:pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
