package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/infra/config"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
)

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadTokenSources(t *testing.T) {
	k := authtest.Shared()
	pemFile := writeFile(t, "pub.pem", k.PublicPEM())
	notPEM := writeFile(t, "garbage.pem", []byte("hello"))
	cases := []struct {
		name    string
		env     env
		wantErr string
	}{
		{"public key file instead of a secret", env{"JWT_PUBLIC_KEY_FILE": pemFile}, ""},
		{"JWKS instead of a secret", env{"JWT_JWKS_URL": "https://idp.example/.well-known/jwks.json"}, ""},
		{"everything", env{"JWT_SECRET": "s", "JWT_PUBLIC_KEY_FILE": pemFile, "JWT_JWKS_URL": "http://127.0.0.1:1/j",
			"JWT_JWKS_REFRESH": "1m", "JWT_JWKS_MIN_REFETCH": "5s", "JWT_LEEWAY": "0", "JWT_ISSUER": "i", "JWT_AUDIENCE": "a"}, ""},
		{"no key at all", env{}, "JWT_SECRET is required"},
		{"missing key file", env{"JWT_PUBLIC_KEY_FILE": "/nonexistent/pub.pem"}, "JWT_PUBLIC_KEY_FILE"},
		{"key file not PEM", env{"JWT_PUBLIC_KEY_FILE": notPEM}, "JWT_PUBLIC_KEY_FILE"},
		{"JWKS URL not http", env{"JWT_JWKS_URL": "ftp://idp.example/jwks"}, "JWT_JWKS_URL"},
		{"JWKS URL without host", env{"JWT_JWKS_URL": "https:///jwks"}, "JWT_JWKS_URL"},
		{"leeway too large", env{"JWT_SECRET": "s", "JWT_LEEWAY": "1h"}, "JWT_LEEWAY"},
		{"leeway not a duration", env{"JWT_SECRET": "s", "JWT_LEEWAY": "30"}, "JWT_LEEWAY"},
		{"refresh not a duration", env{"JWT_SECRET": "s", "JWT_JWKS_REFRESH": "often"}, "JWT_JWKS_REFRESH"},
		{"previous secret alone", env{"JWT_PREVIOUS_SECRET": "old", "JWT_PUBLIC_KEY_FILE": pemFile}, "JWT_PREVIOUS_SECRET"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(tc.env.get)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load: %v, want an error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			v, err := c.Verifier(nil)
			if err != nil {
				t.Fatalf("Verifier: %v", err)
			}
			v.Close()
		})
	}
}

// TestVerifierFromEnvironment: the settings reach the verifier (keys,
// issuer, audience, leeway), and a DEV_MODE with a public key does not
// silently add the public development secret.
func TestVerifierFromEnvironment(t *testing.T) {
	k := authtest.Shared()
	jwks := authtest.ServeJWKS(t, k.JWKS())
	c, err := config.Load(env{"DEV_MODE": "1", "JWT_PUBLIC_KEY_FILE": writeFile(t, "pub.pem", k.PublicPEM()),
		"JWT_JWKS_URL": jwks.URL, "JWT_ISSUER": authtest.Issuer, "JWT_AUDIENCE": authtest.Audience, "JWT_LEEWAY": "0s"}.get)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Verifier(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	claims := authtest.Claims(5, nil)
	for _, tok := range []string{
		authtest.Sign(t, "ES256", k.PEMEC, "", claims),
		authtest.Sign(t, "EdDSA", k.JWKSEd, authtest.KidEd, claims),
	} {
		if id, err := v.Verify(tok); err != nil || id.UserID != 5 {
			t.Errorf("Verify: %+v, %v", id, err)
		}
	}
	refused := map[string]string{
		"development secret":   authtest.Sign(t, "HS256", []byte(config.DevSecret), "", claims),
		"other issuer":         authtest.Sign(t, "ES256", k.PEMEC, "", authtest.Claims(5, map[string]any{"iss": "x"})),
		"other audience":       authtest.Sign(t, "ES256", k.PEMEC, "", authtest.Claims(5, map[string]any{"aud": "x"})),
		"expired, zero leeway": authtest.Sign(t, "ES256", k.PEMEC, "", authtest.Claims(5, map[string]any{"exp": time.Now().Add(-2 * time.Second).Unix()})),
	}
	for name, tok := range refused {
		if _, err := v.Verify(tok); !errors.Is(err, auth.ErrInvalidToken) && !errors.Is(err, auth.ErrExpiredToken) {
			t.Errorf("%s: Verify = %v, want a refusal", name, err)
		}
	}
}
