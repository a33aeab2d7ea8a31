package httpapi_test

import (
	"log/slog"
	"net/http"
	"strconv"
	"testing"

	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
)

// TestTokenTableOverREST runs the shared token table (authtest) against the
// API: good tokens of every key kind are served, bad ones get 401 with the
// verifier's reason and never an echo of the token. The API's debug log,
// captured throughout (with failing and hostile requests too), never holds
// a token or an Authorization value.
func TestTokenTableOverREST(t *testing.T) {
	k := authtest.Shared()
	logs := &authtest.LogBuffer{}
	e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		d.Tokens = k.Verifier(t)
	})
	get := func(t *testing.T, header string) resp {
		req := newRequest(t, "GET", e.url+"/api/v1/chat-rooms", nil)
		req.Header.Set("Authorization", header)
		return send(t, req)
	}
	used := k.Run(t, 8, func(t *testing.T, tc authtest.Case) {
		get(t, "Bearer "+tc.Token).want(t, http.StatusOK, nil)
	}, func(t *testing.T, tc authtest.Case) {
		res := get(t, "Bearer "+tc.Token)
		res.wantProblem(t, http.StatusUnauthorized, tc.Reason)
		if authtest.Leaks(string(res.body), tc.Token) {
			t.Fatalf("the answer quotes the token: %s", res.body)
		}
	})
	// More places a token might travel: a failing request of a valid
	// user, a query string, a body.
	tok := authtest.Sign(t, "HS256", k.Secret, "", authtest.Claims(8, nil))
	used = append(used, tok)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/chat-rooms/999999", ""},
		{"GET", "/api/v1/chat-rooms?access_token=" + tok, ""},
		{"GET", "/api/v1/chat-rooms/" + tok, ""},
		{"GET", "/api/v1/" + tok + "/x", ""},
		{"POST", "/api/v1/chat-rooms", `{"type":"group","token":"` + tok + `"}`},
		{"POST", "/api/v1/chat-rooms", `{"type":"` + tok + `"}`},
	} {
		var body any
		if r.body != "" {
			body = r.body
		}
		req := newRequest(t, r.method, e.url+r.path, body)
		req.Header.Set("Authorization", "Bearer "+tok)
		if res := send(t, req); res.status >= 500 {
			t.Errorf("%s %s: status %d", r.method, r.path, res.status)
		}
	}

	authtest.AssertNoTokens(t, "API", logs.String(), used, "http request", "user_id=8")
}

// TestRateLimitPerUser: beyond the burst a user gets 429 problem+json with
// Retry-After; other users are not affected.
func TestRateLimitPerUser(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.RatePerUser, c.RateBurst = 0.5, 3 })
	for range 3 {
		e.request(t, "GET", "/api/v1/chat-rooms", 8, nil).want(t, http.StatusOK, nil)
	}
	res := e.request(t, "GET", "/api/v1/chat-rooms", 8, nil)
	res.wantProblem(t, http.StatusTooManyRequests, "rate limit exceeded")
	if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 || s > 2 {
		t.Fatalf("Retry-After %q, want 1-2 seconds", res.header.Get("Retry-After"))
	}
	e.request(t, "GET", "/api/v1/chat-rooms", 3, nil).want(t, http.StatusOK, nil)
	// Unauthenticated requests do not spend anyone's tokens.
	e.request(t, "GET", "/api/v1/chat-rooms", 0, nil).wantProblem(t, http.StatusUnauthorized, "missing token")
}
