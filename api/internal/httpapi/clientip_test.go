package httpapi_test

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/infra/clientip"
)

// behindProxy makes the test (on 127.0.0.1) a trusted proxy.
func behindProxy(c *httpapi.Config) {
	c.ClientIP = clientip.New(clientip.Config{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
}

// forwarded sends GET /api/v1/chat-rooms for client (X-Forwarded-For)
// with the Authorization value auth ("" for none).
func (e *env) forwarded(t testing.TB, client, authz string) resp {
	t.Helper()
	req := newRequest(t, "GET", e.url+"/api/v1/chat-rooms", nil)
	if client != "" {
		req.Header.Set("X-Forwarded-For", client)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	return send(t, req)
}

// countingVerifier counts the tokens it is asked to verify.
type countingVerifier struct {
	httpapi.TokenVerifier
	calls atomic.Int64
}

func (v *countingVerifier) Verify(tok string) (auth.Identity, error) {
	v.calls.Add(1)
	return v.TokenVerifier.Verify(tok)
}

// TestRatePerIPWithoutValidToken: requests without a valid token are
// limited per client address: beyond the burst the address gets 429
// problem+json with Retry-After and its tokens are no longer verified;
// another client behind the same proxy is not affected, and valid
// requests spend nothing.
func TestRatePerIPWithoutValidToken(t *testing.T) {
	var verifier *countingVerifier
	e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
		behindProxy(c)
		c.RatePerIP, c.RateBurstPerIP = 0.5, 3
		verifier = &countingVerifier{TokenVerifier: d.Tokens}
		d.Tokens = verifier
	})
	const bad = "Bearer not-a-token"
	e.forwarded(t, "198.51.100.1", "").wantProblem(t, http.StatusUnauthorized, "missing token")
	for range 2 {
		e.forwarded(t, "198.51.100.1", bad).wantProblem(t, http.StatusUnauthorized, "invalid token")
	}
	before := verifier.calls.Load()
	res := e.forwarded(t, "198.51.100.1", bad)
	res.wantProblem(t, http.StatusTooManyRequests, "too many requests without a valid token from this address")
	if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 || s > 2 {
		t.Fatalf("Retry-After %q, want 1-2 seconds", res.header.Get("Retry-After"))
	}
	// While the bucket is empty nothing from the address is verified.
	e.forwarded(t, "198.51.100.1", "Bearer "+token(t, 8)).wantProblem(t, http.StatusTooManyRequests, "without a valid token")
	if n := verifier.calls.Load() - before; n != 0 {
		t.Fatalf("%d tokens verified for an address over its limit, want 0", n)
	}
	// Another client behind the same proxy has its own bucket.
	e.forwarded(t, "198.51.100.2", bad).wantProblem(t, http.StatusUnauthorized, "invalid token")
	// Valid requests spend nothing.
	for range 5 {
		e.forwarded(t, "198.51.100.3", "Bearer "+token(t, 3)).want(t, http.StatusOK, nil)
	}
	e.forwarded(t, "198.51.100.3", bad).wantProblem(t, http.StatusUnauthorized, "invalid token")
	if !strings.Contains(e.logs.String(), "remote=198.51.100.3") {
		t.Fatalf("the request log does not name the forwarded client:\n%s", e.logs.String())
	}
}

// TestRatePerIPIgnoresUntrustedForwardedFor: without a trusted proxy a
// client cannot pick a fresh bucket by sending X-Forwarded-For.
func TestRatePerIPIgnoresUntrustedForwardedFor(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.RatePerIP, c.RateBurstPerIP = 0.5, 2 })
	e.forwarded(t, "198.51.100.1", "").wantProblem(t, http.StatusUnauthorized, "missing token")
	e.forwarded(t, "198.51.100.2", "").wantProblem(t, http.StatusUnauthorized, "missing token")
	e.forwarded(t, "198.51.100.3", "").wantProblem(t, http.StatusTooManyRequests, "without a valid token")
}

// TestAuthorizationHeaderCap: an Authorization header beyond 8 KiB is
// refused with 401 problem+json without being verified.
func TestAuthorizationHeaderCap(t *testing.T) {
	var verifier *countingVerifier
	e := newEnv(t, func(_ *httpapi.Config, d *httpapi.Deps) {
		verifier = &countingVerifier{TokenVerifier: d.Tokens}
		d.Tokens = verifier
	})
	huge := "Bearer eyJ" + strings.Repeat("A", 20<<10)
	res := e.forwarded(t, "", huge)
	res.wantProblem(t, http.StatusUnauthorized, "the Authorization header is longer than 8192 bytes")
	if res.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	if n := verifier.calls.Load(); n != 0 {
		t.Fatalf("the oversized token was verified (%d calls)", n)
	}
	e.forwarded(t, "", "Bearer "+token(t, 8)).want(t, http.StatusOK, nil)
}
