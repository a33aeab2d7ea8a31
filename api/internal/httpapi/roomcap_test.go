package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
)

// A user in the most rooms allowed (the default 1000) cannot be put in
// another: not by creating a group with them, not by a direct room, not by
// an add. Each answers 409 naming the user.
func TestRoomsPerUserCap(t *testing.T) {
	e := newEnv(t)
	g := e.createGroup(t, 8, "G", 3)
	full := make([]any, 1000)
	for i := range full {
		full[i] = 100000 + i // rooms user 5 is in, as far as the cap counts
	}
	if err := e.rdb.SAdd(context.Background(), e.ks.UserRooms(5), full...).Err(); err != nil {
		t.Fatal(err)
	}
	const detail = "user 5 is in the most rooms allowed (1000)"
	e.request(t, "POST", "/api/v1/chat-rooms", 8, map[string]any{"type": "group", "name": "x", "memberIds": []int64{3, 5}}).
		wantProblem(t, http.StatusConflict, detail)
	e.request(t, "POST", "/api/v1/chat-rooms", 8, map[string]any{"type": "direct", "memberIds": []int64{5}}).
		wantProblem(t, http.StatusConflict, detail)
	e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/members", g), 8, map[string]any{"userId": 5}).
		wantProblem(t, http.StatusConflict, detail)
	if n := e.rdb.SCard(context.Background(), e.ks.UserRooms(3)).Val(); n != 1 {
		t.Errorf("user 3 is in %d rooms, want 1: the refused group took its claim back", n)
	}
}
