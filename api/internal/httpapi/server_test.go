package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

func TestHealth(t *testing.T) {
	e := newEnv(t)
	var body map[string]string
	e.request(t, "GET", "/healthz", 0, nil).want(t, 200, &body)
	if body["status"] != "ok" {
		t.Fatalf("healthz %v", body)
	}
	e.request(t, "GET", "/readyz", 0, nil).want(t, 200, nil)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	down := redis.NewClient(&redis.Options{Addr: closed})
	t.Cleanup(func() { down.Close() })
	unready := newEnv(t, func(_ *httpapi.Config, d *httpapi.Deps) {
		d.Ping = func(ctx context.Context) error { return down.Ping(ctx).Err() }
	})
	unready.request(t, "GET", "/readyz", 0, nil).wantProblem(t, http.StatusServiceUnavailable, "redis is unavailable")
	unready.request(t, "GET", "/healthz", 0, nil).want(t, 200, nil)
}

func TestRoutingErrorsAreProblems(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, method, path string
		wantStatus         int
		wantAllow          string
	}{
		{"unknown route", "GET", "/nope", 404, ""},
		{"unknown API route", "GET", "/api/v1/rooms", 404, ""},
		{"trailing slash", "GET", "/api/v1/chat-rooms/", 404, ""},
		{"wrong method", "PUT", "/api/v1/chat-rooms", 405, "GET, POST"},
		{"GET on disconnect", "GET", "/api/v1/chat-room/disconnect", 405, "POST"},
		{"POST on healthz", "POST", "/healthz", 405, "GET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.request(t, c.method, c.path, 8, nil)
			res.wantProblem(t, c.wantStatus, "")
			if allow := res.header.Get("Allow"); !sameMethods(allow, c.wantAllow) {
				t.Fatalf("Allow %q, want %q", allow, c.wantAllow)
			}
		})
	}
}

// sameMethods compares two comma-separated method lists as sets.
func sameMethods(a, b string) bool {
	split := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				m[p] = true
			}
		}
		return m
	}
	return fmt.Sprint(split(a)) == fmt.Sprint(split(b))
}

func TestOversizedBodyIs413(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup(t, 8, "G", 3)
	big := `{"message":"` + strings.Repeat("x", 64<<10) + `"}`
	e.request(t, "POST", fmt.Sprintf("/api/v1/chat-rooms/%d/messages", id), 8, big).
		wantProblem(t, http.StatusRequestEntityTooLarge, "request body is too large")
	e.request(t, "POST", "/api/v1/chat-rooms", 8, `{"type":"group","name":"g"}`+strings.Repeat(" ", 64<<10)).
		wantProblem(t, http.StatusRequestEntityTooLarge, "request body is too large")
}

func TestCORS(t *testing.T) {
	const app = "https://app.example"
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.AllowedOrigins = []string{app, "http://localhost:3000"} })
	plain := newEnv(t)
	cases := []struct {
		name, origin, method string
		env                  *env
		preflight            bool
		wantStatus           int
		wantCORS             bool
	}{
		{"allowed origin", app, "GET", e, false, 200, true},
		{"allowed origin, preflight", app, "OPTIONS", e, true, 204, true},
		{"other origin", "https://evil.example", "GET", e, false, 200, false},
		{"other origin, preflight", "https://evil.example", "OPTIONS", e, true, 405, false},
		{"origin differing in case", "https://APP.example", "GET", e, false, 200, false},
		{"no origins configured", app, "GET", plain, false, 200, false},
		{"no origins configured, preflight", app, "OPTIONS", plain, true, 405, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := newRequest(t, c.method, c.env.url+"/api/v1/chat-rooms", nil)
			req.Header.Set("Origin", c.origin)
			if c.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
			} else {
				req.Header.Set("Authorization", "Bearer "+token(t, 8))
			}
			res := send(t, req)
			if res.status != c.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.status, c.wantStatus, res.body)
			}
			h := res.header
			if got := h.Get("Access-Control-Allow-Origin"); (got == c.origin) != c.wantCORS || (!c.wantCORS && got != "") {
				t.Fatalf("Access-Control-Allow-Origin %q (want CORS: %v)", got, c.wantCORS)
			}
			if c.wantCORS && !strings.Contains(h.Get("Vary"), "Origin") {
				t.Fatalf("Vary %q lacks Origin", h.Get("Vary"))
			}
			if c.preflight && c.wantCORS {
				if h.Get("Access-Control-Allow-Methods") != "GET, POST, PATCH, DELETE, OPTIONS" ||
					h.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type, X-Request-ID" {
					t.Fatalf("preflight headers %v", h)
				}
			}
			if !c.preflight && c.wantCORS && h.Get("Access-Control-Expose-Headers") != "X-Request-ID" {
				t.Fatalf("Access-Control-Expose-Headers %q, want X-Request-ID readable", h.Get("Access-Control-Expose-Headers"))
			}
			if !c.wantCORS && h.Get("Access-Control-Allow-Methods") != "" {
				t.Fatalf("CORS headers for a refused origin: %v", h)
			}
		})
	}
	t.Run("errors carry CORS headers too", func(t *testing.T) {
		req := newRequest(t, "GET", e.url+"/api/v1/chat-rooms", nil)
		req.Header.Set("Origin", app)
		res := send(t, req)
		res.wantProblem(t, 401, "missing token")
		if res.header.Get("Access-Control-Allow-Origin") != app {
			t.Fatalf("a 401 lacks CORS headers, so the browser hides it: %v", res.header)
		}
	})
}

// brokenRooms fails ListPage: with a Redis-ish error, or by panicking.
type brokenRooms struct {
	httpapi.RoomStore
	panics bool
}

func (b brokenRooms) ListPage(context.Context, int64, room.ListQuery) (room.ListPage, error) {
	if b.panics {
		panic("boom")
	}
	return room.ListPage{}, errors.New("dial tcp 10.1.2.3:6379: connection refused")
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	for _, panics := range []bool{false, true} {
		t.Run(fmt.Sprint("panics=", panics), func(t *testing.T) {
			var logs authtest.LogBuffer
			e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				d.Rooms = brokenRooms{RoomStore: d.Rooms, panics: panics}
			})
			tok := token(t, 8)
			req := newRequest(t, "GET", e.url+"/api/v1/chat-rooms", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res := send(t, req)
			res.wantProblem(t, http.StatusInternalServerError, "internal error")
			if strings.Contains(string(res.body), "10.1.2.3") || strings.Contains(string(res.body), "boom") {
				t.Fatalf("the answer leaks the cause: %s", res.body)
			}
			cause := "10.1.2.3"
			if panics {
				cause = "boom"
			}
			redistest.Eventually(t, "the request log line", func() bool { return strings.Contains(logs.String(), "status=500") })
			if out := logs.String(); !strings.Contains(out, cause) || strings.Contains(out, tok) {
				t.Fatalf("logs should hold the cause %q and never the token:\n%s", cause, out)
			}
			e.request(t, "GET", "/healthz", 0, nil).want(t, 200, nil) // still serving
		})
	}
}

// TestRedisOutageIs503: when Redis cannot be reached, routes answer 503
// problem+json with Retry-After (never 500), and the spec documents it.
func TestRedisOutageIs503(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	down := redis.NewClient(&redis.Options{Addr: closed, MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	ks := redistest.Space(t)
	e := newEnv(t, func(_ *httpapi.Config, d *httpapi.Deps) {
		msgs := messages.NewStore(down, ks, messages.Config{})
		d.Rooms, d.Messages, d.Edits = room.NewStore(down, ks, room.Config{}), msgs, msgs
	})
	for _, r := range []struct{ method, path string }{
		{"POST", "/api/v1/chat-rooms/1/messages"},
		{"GET", "/api/v1/chat-rooms"},
		{"GET", "/api/v1/chat-rooms/1/messages"},
	} {
		var body any
		if r.method == "POST" {
			body = map[string]any{"message": "hi"}
		}
		res := e.request(t, r.method, r.path, 8, body)
		res.wantProblem(t, http.StatusServiceUnavailable, "service unavailable, try again")
		if got := res.header.Get("Retry-After"); got != "1" {
			t.Errorf("%s %s: Retry-After = %q, want 1", r.method, r.path, got)
		}
	}
	if !strings.Contains(e.logs.String(), "redis unavailable") {
		t.Errorf("the outage was not logged:\n%s", e.logs.String())
	}
}
