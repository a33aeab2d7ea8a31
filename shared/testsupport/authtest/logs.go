package authtest

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// jwtLike matches the header and payload of any JWT (both are base64url
// JSON objects, so they start with "eyJ").
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}`)

// AssertNoSecrets fails t when logs (captured from the service called who)
// hold anything like a token, an Authorization value or secret.
func AssertNoSecrets(t testing.TB, who, logs string, secret []byte) {
	t.Helper()
	if m := jwtLike.FindString(logs); m != "" {
		t.Errorf("the %s's log holds a token: %.40s...", who, m)
	}
	if strings.Contains(strings.ToLower(logs), "bearer") {
		t.Errorf("the %s's log holds an Authorization value", who)
	}
	if len(secret) > 0 && strings.Contains(logs, string(secret)) {
		t.Errorf("the %s's log holds the JWT secret", who)
	}
}

// AssertNoTokens fails t when logs (captured from the service called who)
// lack any of saw, or hold any of tokens, whole or its payload or signature
// alone (Leaks), or an Authorization value. saw are texts the capture must
// hold, so that one which caught nothing cannot pass.
func AssertNoTokens(t testing.TB, who, logs string, tokens []string, saw ...string) {
	t.Helper()
	for _, s := range saw {
		if !strings.Contains(logs, s) {
			t.Fatalf("the %s's log capture lacks %q: %q", who, s, logs)
			return
		}
	}
	for _, tok := range tokens {
		if Leaks(logs, tok) {
			t.Errorf("the %s's log holds (part of) token %.20s...", who, tok)
		}
	}
	if strings.Contains(strings.ToLower(logs), "bearer") {
		t.Errorf("the %s's log holds an Authorization value", who)
	}
}

// Leaks reports whether s holds the token or its signature or payload.
func Leaks(s, token string) bool {
	if strings.Contains(s, token) {
		return true
	}
	parts := strings.Split(token, ".")
	for _, p := range parts[1:] {
		if len(p) >= 16 && strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// LogBuffer captures log output (or any writer's) for a test: safe for
// the service's goroutines writing and the test reading at once.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
