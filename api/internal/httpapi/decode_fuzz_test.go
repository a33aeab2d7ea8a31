package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// FuzzDecodeJSON feeds arbitrary bodies to the REST decode helper for every
// request type: it never panics, accepts only one valid JSON value, and
// refuses with a 400 or 413 (never a 500) whose detail stays short.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"type":"direct","memberIds":[3]}`,
		`{"type":"group","name":"team","memberIds":[3,5]}`,
		`{"userId":5}`,
		`{"message":"hi","rcvId":3,"chatRoomId":2,"sendId":8}`,
		`{"sendId":8,"rcvId":3,"chatRoomId":2}`,
		`{"type":`, `[1,2]`, `"x"`, `null`, ``, `{}{}`, `{"userId":1e400}`, `{"userId":-1}`,
		`{"memberIds":[9223372036854775808]}`, `{"unknown":1}`, `{"message":"\ud800"}`,
		"{\"message\":\"\xff\"}", `{"memberIds":[[[[[[]]]]]]}`, `{"type":"group"} `, "\ufeff{}",
	} {
		for kind := range uint8(4) {
			f.Add([]byte(seed), kind)
		}
	}
	gin.SetMode(gin.TestMode)
	s := &server{cfg: Config{MaxBodyBytes: 4 << 10}, log: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, body []byte, kind uint8) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		dst := []any{&createRoomRequest{}, &addMemberRequest{}, &sendRequest{}, &disconnectRequest{}}[kind%4]
		err := s.decode(c, dst)
		if err == nil {
			if !json.Valid(bytes.TrimSpace(body)) && !json.Valid(body) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
			return
		}
		status, detail := classify(err)
		if status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge {
			t.Fatalf("body %q: status %d (%v)", body, status, err)
		}
		if detail == "" || len(detail) > 200 {
			t.Fatalf("body %q: detail %q", body, detail)
		}
	})
}
