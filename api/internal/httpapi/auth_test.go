package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/infra/auth"
)

// unsignedToken builds an "alg":"none" token for user, valid for an hour.
func unsignedToken(user int64) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims := fmt.Sprintf(`{"sub":"%d","exp":%d}`, user, time.Now().Add(time.Hour).Unix())
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "."
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	mint := func(secret []byte, user int64, ttl time.Duration) string {
		tok, err := auth.Mint(secret, user, "", ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cases := []struct {
		name       string
		header     string // Authorization; "" sends none
		wantStatus int
		wantDetail string
	}{
		{"no header", "", 401, "missing token"},
		{"empty bearer", "Bearer ", 401, "missing token"},
		{"other scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("8:pw")), 401, "missing token"},
		{"token without scheme", mint(testSecret, 8, time.Hour), 401, "missing token"},
		{"garbage", "Bearer not.a.jwt", 401, "invalid token: malformed"},
		{"wrong secret", "Bearer " + mint([]byte("someone else's secret"), 8, time.Hour), 401, "invalid token: bad signature"},
		{"expired", "Bearer " + mint(testSecret, 8, -time.Hour), 401, "token expired"},
		{"alg none", "Bearer " + unsignedToken(8), 401, "invalid token"},
		{"user id not positive", "Bearer " + mint(testSecret, -8, time.Hour), 401, "invalid token: sub must be a positive"},
		{"valid", "Bearer " + mint(testSecret, 8, time.Hour), 200, ""},
		{"valid, lower-case scheme", "bearer " + mint(testSecret, 8, time.Hour), 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := newRequest(t, "GET", e.url+"/api/v1/chat-rooms", nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			res := send(t, req)
			if c.wantStatus == 200 {
				res.want(t, 200, nil)
				return
			}
			res.wantProblem(t, c.wantStatus, c.wantDetail)
			if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate %q", res.header.Get("WWW-Authenticate"))
			}
			if tok := strings.TrimPrefix(c.header, "Bearer "); len(tok) > 10 && strings.Contains(string(res.body), tok) {
				t.Fatalf("the answer echoes the token: %s", res.body)
			}
		})
	}
}

func TestEveryAPIRouteNeedsAToken(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup(t, 8, "G", 3)
	routes := []struct{ method, path string }{
		{"POST", "/api/v1/chat-rooms"},
		{"GET", "/api/v1/chat-rooms"},
		{"GET", "/api/v1/chat-rooms/%d"},
		{"POST", "/api/v1/chat-rooms/%d/members"},
		{"DELETE", "/api/v1/chat-rooms/%d/members/3"},
		{"GET", "/api/v1/chat-rooms/%d/messages"},
		{"POST", "/api/v1/chat-rooms/%d/messages"},
		{"GET", "/api/v1/chat-rooms/%d/presence"},
		{"POST", "/api/v1/chat-room/disconnect"},
	}
	for _, r := range routes {
		path := r.path
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, id)
		}
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			e.request(t, r.method, path, 0, `{}`).wantProblem(t, http.StatusUnauthorized, "missing token")
		})
	}
}
