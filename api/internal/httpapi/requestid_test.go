package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// generatedID is the shape of an id the API makes up.
var generatedID = regexp.MustCompile(`^[0-9a-f]{16}$`)

// logLines decodes a JSON log capture, one record a line.
func logLines(t testing.TB, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for line := range strings.Lines(out) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, rec)
	}
	return lines
}

// TestRequestIDInAnswerAndLogs: a sane X-Request-ID is kept, anything else
// is replaced by a generated id; the id is echoed in the answer, and every
// line logged while serving the request (the access line, the error of a
// failed request) carries it as request_id, with user_id once the caller
// is authenticated.
func TestRequestIDInAnswerAndLogs(t *testing.T) {
	for _, tc := range []struct {
		name, sent string
		kept       bool
		broken     bool // the room store fails: an error line is logged too
	}{
		{name: "sane id is kept", sent: "abc-123", kept: true},
		{name: "kept on a failing request", sent: "abc-123", kept: true, broken: true},
		{name: "absent id is generated", sent: ""},
		{name: "id with a space is replaced", sent: "abc 123"},
		{name: "overlong id is replaced", sent: strings.Repeat("x", 65)},
		{name: "JWT-shaped id is replaced", sent: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4In0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs authtest.LogBuffer
			e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
				c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				if tc.broken {
					d.Rooms = brokenRooms{RoomStore: d.Rooms}
				}
			})
			req := newRequest(t, "GET", e.url+"/api/v1/chat-rooms", nil)
			req.Header.Set("Authorization", "Bearer "+token(t, 8))
			if tc.sent != "" {
				req.Header.Set("X-Request-ID", tc.sent)
			}
			res := send(t, req)
			if want := map[bool]int{false: http.StatusOK, true: http.StatusInternalServerError}[tc.broken]; res.status != want {
				t.Fatalf("status %d, want %d: %s", res.status, want, res.body)
			}
			id := res.header.Get("X-Request-ID")
			switch {
			case tc.kept && id != tc.sent:
				t.Fatalf("X-Request-ID %q, want %q echoed", id, tc.sent)
			case !tc.kept && !generatedID.MatchString(id):
				t.Fatalf("X-Request-ID %q, want a generated id (16 hex digits)", id)
			}

			redistest.Eventually(t, "the access log line", func() bool { return strings.Contains(logs.String(), `"http request"`) })
			msgs := map[string]bool{}
			for _, rec := range logLines(t, logs.String()) {
				msgs[rec["msg"].(string)] = true
				if rec["request_id"] != id {
					t.Errorf("line %v: request_id %v, want %q", rec, rec["request_id"], id)
				}
				if rec["user_id"] != 8.0 {
					t.Errorf("line %v: user_id %v, want 8", rec, rec["user_id"])
				}
			}
			if !msgs["http request"] || tc.broken && !msgs["request failed"] {
				t.Errorf("logged %v, want the access line (and the failure of a broken request)", msgs)
			}
			if !tc.kept && tc.sent != "" && strings.Contains(logs.String(), tc.sent) {
				t.Errorf("the refused id %q was logged", tc.sent)
			}
		})
	}
}

// TestRequestIDBeforeAuthentication: a request refused before the caller
// is known (no token, no route) still gets its id back and logged, without
// a user_id.
func TestRequestIDBeforeAuthentication(t *testing.T) {
	var logs authtest.LogBuffer
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	for _, tc := range []struct {
		path, id string
		status   int
	}{
		{"/api/v1/chat-rooms", "anon-1", http.StatusUnauthorized},
		{"/no/such/route", "anon-2", http.StatusNotFound},
	} {
		req := newRequest(t, "GET", e.url+tc.path, nil)
		req.Header.Set("X-Request-ID", tc.id)
		res := send(t, req)
		res.wantProblem(t, tc.status, "")
		if got := res.header.Get("X-Request-ID"); got != tc.id {
			t.Errorf("%s: X-Request-ID %q, want %q", tc.path, got, tc.id)
		}
	}
	redistest.Eventually(t, "two access lines", func() bool { return strings.Count(logs.String(), `"http request"`) == 2 })
	for _, rec := range logLines(t, logs.String()) {
		want := map[string]string{"/api/v1/chat-rooms": "anon-1", "/no/such/route": "anon-2"}[rec["path"].(string)]
		if rec["request_id"] != want {
			t.Errorf("line %v: request_id %v, want %q", rec, rec["request_id"], want)
		}
		if _, ok := rec["user_id"]; ok {
			t.Errorf("line %v: user_id of an unauthenticated request", rec)
		}
	}
}
