package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/infra/auth"
)

var secret = []byte("test-secret-0123456789")

// token builds a JWT by hand: header {"alg": alg, "typ": "JWT"}, the given
// claims, and an HMAC signature with key using hash h (nil: no signature).
func token(t testing.TB, alg string, h func() hash.Hash, key []byte, claims map[string]any) string {
	t.Helper()
	hdr, err := json.Marshal(map[string]any{"alg": alg, "typ": "JWT"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString(hdr) + "." + enc.EncodeToString(body)
	if h == nil {
		return signed + "."
	}
	mac := hmac.New(h, key)
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}

// claims returns valid claims for user 7, with overrides applied; a nil
// override value deletes the claim.
func claims(over map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"sub": "7", "name": "alice", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func hs256(t testing.TB, over map[string]any) string {
	t.Helper()
	return token(t, "HS256", sha256.New, secret, claims(over))
}

func verifier(t testing.TB, cfg auth.Config) *auth.Verifier {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = secret
	}
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestVerifyRejects(t *testing.T) {
	now := time.Now()
	enc := base64.RawURLEncoding
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", auth.ErrMissingToken},
		{"alg none", token(t, "none", nil, nil, claims(nil)), auth.ErrInvalidToken},
		{"alg None", token(t, "None", nil, nil, claims(nil)), auth.ErrInvalidToken},
		{"wrong secret", token(t, "HS256", sha256.New, []byte("other"), claims(nil)), auth.ErrInvalidToken},
		{"HMAC signature under RS256 header", token(t, "RS256", sha256.New, secret, claims(nil)), auth.ErrInvalidToken},
		{"HMAC signature under ES256 header", token(t, "ES256", sha256.New, secret, claims(nil)), auth.ErrInvalidToken},
		{"HMAC signature under PS512 header", token(t, "PS512", sha512.New, secret, claims(nil)), auth.ErrInvalidToken},
		{"HS256 header with HS512 signature", token(t, "HS256", sha512.New, secret, claims(nil)), auth.ErrInvalidToken},
		{"expired beyond leeway", hs256(t, map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}), auth.ErrExpiredToken},
		{"nbf in the future", hs256(t, map[string]any{"nbf": now.Add(time.Hour).Unix()}), auth.ErrInvalidToken},
		{"iat in the future", hs256(t, map[string]any{"iat": now.Add(time.Hour).Unix()}), auth.ErrInvalidToken},
		{"missing exp", hs256(t, map[string]any{"exp": nil}), auth.ErrInvalidToken},
		{"exp as string", hs256(t, map[string]any{"exp": "tomorrow"}), auth.ErrInvalidToken},
		{"missing sub", hs256(t, map[string]any{"sub": nil}), auth.ErrInvalidToken},
		{"empty sub", hs256(t, map[string]any{"sub": ""}), auth.ErrInvalidToken},
		{"non-numeric sub", hs256(t, map[string]any{"sub": "alice"}), auth.ErrInvalidToken},
		{"fractional sub", hs256(t, map[string]any{"sub": "7.5"}), auth.ErrInvalidToken},
		{"sub as JSON number", hs256(t, map[string]any{"sub": 7}), auth.ErrInvalidToken},
		{"zero sub", hs256(t, map[string]any{"sub": "0"}), auth.ErrInvalidToken},
		{"negative sub", hs256(t, map[string]any{"sub": "-7"}), auth.ErrInvalidToken},
		{"sub beyond int64", hs256(t, map[string]any{"sub": "9223372036854775808"}), auth.ErrInvalidToken},
		{"one segment", "abcdef", auth.ErrInvalidToken},
		{"two segments", "abc.def", auth.ErrInvalidToken},
		{"four segments", hs256(t, nil) + ".x", auth.ErrInvalidToken},
		{"dots only", "..", auth.ErrInvalidToken},
		{"not base64", "!!!.???.***", auth.ErrInvalidToken},
		{"header not JSON", enc.EncodeToString([]byte("nope")) + ".e30.sig", auth.ErrInvalidToken},
		{"with Bearer prefix", "Bearer " + hs256(t, nil), auth.ErrInvalidToken},
		{"truncated signature", hs256(t, nil)[:len(hs256(t, nil))-4], auth.ErrInvalidToken},
	}
	v := verifier(t, auth.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %v", id, err, tt.want)
			}
			if id != (auth.Identity{}) {
				t.Errorf("identity %+v returned with error", id)
			}
			for _, other := range []error{auth.ErrMissingToken, auth.ErrInvalidToken, auth.ErrExpiredToken} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("error %q also matches %v", err, other)
				}
			}
			for _, part := range append([]string{tt.token}, strings.Split(tt.token, ".")...) {
				if len(part) >= 8 && strings.Contains(err.Error(), part) {
					t.Errorf("error text %q contains (part of) the token", err)
				}
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		cfg   auth.Config
		token string
		want  auth.Identity
	}{
		{"minted", auth.Config{}, mint(t, secret, 42, "bob"), auth.Identity{UserID: 42, Name: "bob"}},
		{"no name", auth.Config{}, hs256(t, map[string]any{"name": nil}), auth.Identity{UserID: 7}},
		{"HS384", auth.Config{}, token(t, "HS384", sha512.New384, secret, claims(nil)), auth.Identity{UserID: 7, Name: "alice"}},
		{"HS512", auth.Config{}, token(t, "HS512", sha512.New, secret, claims(nil)), auth.Identity{UserID: 7, Name: "alice"}},
		{"expired within leeway", auth.Config{}, hs256(t, map[string]any{"exp": now.Add(-10 * time.Second).Unix()}), auth.Identity{UserID: 7, Name: "alice"}},
		{"iat slightly ahead (clock skew)", auth.Config{}, hs256(t, map[string]any{"iat": now.Add(10 * time.Second).Unix()}), auth.Identity{UserID: 7, Name: "alice"}},
		{"previous secret", auth.Config{PreviousSecret: []byte("old")}, mint(t, []byte("old"), 9, ""), auth.Identity{UserID: 9}},
		{"current secret with previous set", auth.Config{PreviousSecret: []byte("old")}, mint(t, secret, 9, ""), auth.Identity{UserID: 9}},
		{"issuer", auth.Config{Issuer: "roomwire"}, hs256(t, map[string]any{"iss": "roomwire"}), auth.Identity{UserID: 7, Name: "alice"}},
		{"audience string", auth.Config{Audience: "chat"}, hs256(t, map[string]any{"aud": "chat"}), auth.Identity{UserID: 7, Name: "alice"}},
		{"audience list", auth.Config{Audience: "chat"}, hs256(t, map[string]any{"aud": []string{"x", "chat"}}), auth.Identity{UserID: 7, Name: "alice"}},
		{"issuer not configured ignores iss", auth.Config{}, hs256(t, map[string]any{"iss": "anyone"}), auth.Identity{UserID: 7, Name: "alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verifier(t, tt.cfg).Verify(tt.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.UserID != tt.want.UserID || got.Name != tt.want.Name {
				t.Errorf("identity = %+v, want %+v", got, tt.want)
			}
			if got.ExpiresAt.IsZero() {
				t.Error("ExpiresAt is zero")
			}
		})
	}
}

func TestVerifyConfiguredChecks(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		cfg   auth.Config
		token string
		want  error
	}{
		{"unrelated secret with previous set", auth.Config{PreviousSecret: []byte("old")}, mint(t, []byte("neither"), 9, ""), auth.ErrInvalidToken},
		{"previous secret, expired", auth.Config{PreviousSecret: []byte("old")}, token(t, "HS256", sha256.New, []byte("old"), claims(map[string]any{"exp": now.Add(-time.Hour).Unix()})), auth.ErrExpiredToken},
		{"missing issuer", auth.Config{Issuer: "roomwire"}, hs256(t, nil), auth.ErrInvalidToken},
		{"wrong issuer", auth.Config{Issuer: "roomwire"}, hs256(t, map[string]any{"iss": "evil"}), auth.ErrInvalidToken},
		{"missing audience", auth.Config{Audience: "chat"}, hs256(t, nil), auth.ErrInvalidToken},
		{"wrong audience", auth.Config{Audience: "chat"}, hs256(t, map[string]any{"aud": []string{"api"}}), auth.ErrInvalidToken},
		{"algorithm outside allow-list", auth.Config{Algorithms: []string{"HS256"}}, token(t, "HS512", sha512.New, secret, claims(nil)), auth.ErrInvalidToken},
		{"short leeway", auth.Config{Leeway: time.Second}, hs256(t, map[string]any{"exp": now.Add(-10 * time.Second).Unix()}), auth.ErrExpiredToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := verifier(t, tt.cfg).Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %v", id, err, tt.want)
			}
		})
	}
}

func mint(t testing.TB, key []byte, user int64, name string) string {
	t.Helper()
	tok, err := auth.Mint(key, user, name, time.Hour)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return tok
}

func TestMint(t *testing.T) {
	before := time.Now()
	tok := mint(t, secret, 42, "ann")
	id, err := verifier(t, auth.Config{}).Verify(tok)
	if err != nil {
		t.Fatalf("Verify(minted): %v", err)
	}
	if id.UserID != 42 || id.Name != "ann" {
		t.Errorf("identity = %+v", id)
	}
	// exp has second precision.
	if lo, hi := before.Add(time.Hour-time.Second), time.Now().Add(time.Hour+time.Second); id.ExpiresAt.Before(lo) || id.ExpiresAt.After(hi) {
		t.Errorf("ExpiresAt = %v, want about an hour from now", id.ExpiresAt)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if !strings.Contains(string(hdr), `"alg":"HS256"`) {
		t.Errorf("header %s is not HS256", hdr)
	}
	if _, err := verifier(t, auth.Config{Secret: []byte("other")}).Verify(tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("minted token verified under another secret: %v", err)
	}
	expired, err := auth.Mint(secret, 42, "", -time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier(t, auth.Config{}).Verify(expired); !errors.Is(err, auth.ErrExpiredToken) {
		t.Errorf("token minted with negative ttl: %v, want ErrExpiredToken", err)
	}
}

func TestNewVerifier(t *testing.T) {
	tests := []struct {
		name string
		cfg  auth.Config
		ok   bool
	}{
		{"defaults", auth.Config{Secret: secret}, true},
		{"explicit HMAC list", auth.Config{Secret: secret, Algorithms: []string{"HS256", "HS512"}}, true},
		{"nil secret", auth.Config{}, false},
		{"empty secret", auth.Config{Secret: []byte{}}, false},
		{"only previous secret", auth.Config{PreviousSecret: secret}, false},
		{"RS256", auth.Config{Secret: secret, Algorithms: []string{"RS256"}}, false},
		{"ES256", auth.Config{Secret: secret, Algorithms: []string{"ES256"}}, false},
		{"PS256", auth.Config{Secret: secret, Algorithms: []string{"PS256"}}, false},
		{"EdDSA", auth.Config{Secret: secret, Algorithms: []string{"EdDSA"}}, false},
		{"none", auth.Config{Secret: secret, Algorithms: []string{"none"}}, false},
		{"HMAC mixed with RS256", auth.Config{Secret: secret, Algorithms: []string{"HS256", "RS256"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := auth.NewVerifier(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("NewVerifier error = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && v != nil {
				t.Error("non-nil verifier returned with error")
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header, want string
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi"},
		{"bearer abc", "abc"},
		{"BEARER abc", "abc"},
		{"BeArEr abc", "abc"},
		{"Bearer   abc  ", "abc"},
		{"", ""},
		{"Bearer", ""},
		{"Bearer ", ""},
		{"Bearer    ", ""},
		{"Bearerabc", ""},
		{"Basic dXNlcjpwYXNz", ""},
		{"abc.def.ghi", ""},
		{" Bearer abc", ""},
		{"Token abc", ""},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := auth.BearerToken(tt.header); got != tt.want {
				t.Errorf("BearerToken(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}
