package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
)

// TestTokenTable runs the shared token table (also run against STOMP
// CONNECT in ws and against REST in api) on the verifier itself.
func TestTokenTable(t *testing.T) {
	k := authtest.Shared()
	v := k.Verifier(t)
	for _, tc := range k.Valid(t, 7) {
		t.Run("valid/"+tc.Name, func(t *testing.T) {
			id, err := v.Verify(tc.Token)
			if err != nil || id.UserID != 7 || id.ExpiresAt.IsZero() {
				t.Fatalf("Verify = %+v, %v; want user 7", id, err)
			}
		})
	}
	for _, tc := range k.Invalid(t, 7) {
		t.Run("invalid/"+tc.Name, func(t *testing.T) {
			id, err := v.Verify(tc.Token)
			if !errors.Is(err, tc.Err) {
				t.Fatalf("Verify = %+v, %v; want %v", id, err, tc.Err)
			}
			if !strings.Contains(err.Error(), tc.Reason) {
				t.Errorf("error %q does not say %q", err, tc.Reason)
			}
			if id != (auth.Identity{}) {
				t.Errorf("identity %+v returned with an error", id)
			}
			for _, part := range strings.Split(tc.Token, ".") {
				if len(part) >= 8 && strings.Contains(err.Error(), part) {
					t.Errorf("error %q quotes the token", err)
				}
			}
		})
	}
}

// TestAlgorithmConfusion: a key verifies only its own family, whatever the
// token's header says.
func TestAlgorithmConfusion(t *testing.T) {
	k := authtest.Shared()
	c := authtest.Claims(7, nil)
	pemOnly, err := auth.NewVerifier(auth.Config{PublicKeysPEM: k.PublicPEM()})
	if err != nil {
		t.Fatal(err)
	}
	secretOnly, err := auth.NewVerifier(auth.Config{Secret: k.Secret})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		v      *auth.Verifier
		token  string
		reason string
	}{
		{"HS256 signed with the PEM file, PEM keys only", pemOnly, authtest.Sign(t, "HS256", k.PublicPEM(), "", c), "algorithm not allowed"},
		{"HS256 signed with the DER key, PEM keys only", pemOnly, authtest.Sign(t, "HS256", x509.MarshalPKCS1PublicKey(&k.PEMRSA.PublicKey), "", c), "algorithm not allowed"},
		{"RS256 token, secret only", secretOnly, authtest.Sign(t, "RS256", k.PEMRSA, "", c), "algorithm not allowed"},
		{"EdDSA token, secret only", secretOnly, authtest.Sign(t, "EdDSA", k.PEMEd, "", c), "algorithm not allowed"},
		{"ES256 key signing as RS256 header", pemOnly, strings.Replace(authtest.Sign(t, "ES256", k.PEMEC, "", c), "eyJhbGciOiJFUzI1NiIs", "eyJhbGciOiJSUzI1NiIs", 1), "bad signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Verify(tc.token)
			if !errors.Is(err, auth.ErrInvalidToken) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Verify: %v, want invalid token: %s", err, tc.reason)
			}
		})
	}
	// The same keys verify their own family.
	if id, err := pemOnly.Verify(authtest.Sign(t, "RS512", k.PEMRSA, "", c)); err != nil || id.UserID != 7 {
		t.Errorf("RS512 with the PEM RSA key: %+v, %v", id, err)
	}
}

func TestJWKSUnknownKidIsRefetchedAtMostOncePerPeriod(t *testing.T) {
	k := authtest.Shared()
	srv := authtest.ServeJWKS(t, authtest.JWKSOf(map[string]any{authtest.KidRSA: &k.JWKSRSA.PublicKey}))
	const period = 400 * time.Millisecond
	v, err := auth.NewVerifier(auth.Config{JWKS: auth.JWKSConfig{URL: srv.URL, MinRefetch: period, Refresh: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	c := authtest.Claims(7, nil)
	if _, err := v.Verify(authtest.Sign(t, "RS256", k.JWKSRSA, authtest.KidRSA, c)); err != nil {
		t.Fatalf("known kid: %v", err)
	}
	// Let the rate-limit window of the first fetch pass, then rotate in a
	// new key: the first token naming it triggers one refetch and passes.
	time.Sleep(period + 50*time.Millisecond)
	srv.Set(authtest.JWKSOf(map[string]any{authtest.KidRSA: &k.JWKSRSA.PublicKey, "rotated": &k.Stranger.PublicKey}))
	before := srv.Fetches.Load()
	if id, err := v.Verify(authtest.Sign(t, "RS256", k.Stranger, "rotated", c)); err != nil || id.UserID != 7 {
		t.Fatalf("rotated kid: %+v, %v", id, err)
	}
	if got := srv.Fetches.Load() - before; got != 1 {
		t.Fatalf("%d fetches for one unknown kid, want 1", got)
	}
	// A flood of made-up kids right after costs nothing more.
	before = srv.Fetches.Load()
	for i := range 50 {
		_, err := v.Verify(authtest.Sign(t, "ES256", k.JWKSEC, fmt.Sprint("made-up-", i), c))
		if !errors.Is(err, auth.ErrInvalidToken) || !strings.Contains(err.Error(), "unknown key") {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if got := srv.Fetches.Load() - before; got != 0 {
		t.Fatalf("%d fetches within the rate-limit period, want 0", got)
	}
}

func TestJWKSRefreshKeepsKeysOnFailureAndStopsOnClose(t *testing.T) {
	k := authtest.Shared()
	srv := authtest.ServeJWKS(t, k.JWKS())
	v, err := auth.NewVerifier(auth.Config{JWKS: auth.JWKSConfig{URL: srv.URL, Refresh: 20 * time.Millisecond, MinRefetch: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	tok := authtest.Sign(t, "EdDSA", k.JWKSEd, authtest.KidEd, authtest.Claims(7, nil))
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Fetches.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no periodic refresh")
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Set([]byte("{not json"))
	n := srv.Fetches.Load()
	for srv.Fetches.Load() < n+2 {
		if time.Now().After(deadline) {
			t.Fatal("no refresh after a failure")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("cached key lost after failed refreshes: %v", err)
	}
	v.Close()
	n = srv.Fetches.Load()
	time.Sleep(100 * time.Millisecond)
	if got := srv.Fetches.Load(); got != n {
		t.Fatalf("%d fetches after Close", got-n)
	}
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("cached key unusable after Close: %v", err)
	}
}

func TestJWKSUnreachable(t *testing.T) {
	k := authtest.Shared()
	v, err := auth.NewVerifier(auth.Config{Secret: k.Secret, JWKS: auth.JWKSConfig{URL: "http://127.0.0.1:1/jwks", Timeout: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Verify(authtest.Sign(t, "RS256", k.JWKSRSA, authtest.KidRSA, authtest.Claims(7, nil))); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("Verify with the JWKS down: %v", err)
	}
	if id, err := v.Verify(authtest.Sign(t, "HS256", k.Secret, "", authtest.Claims(7, nil))); err != nil || id.UserID != 7 {
		t.Fatalf("HMAC with the JWKS down: %+v, %v", id, err)
	}
}

func TestNewVerifierKeyConfig(t *testing.T) {
	k := authtest.Shared()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	pkixPEM := func(pub any) []byte {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf("PUBLIC KEY", der)
	}
	privDER, _ := x509.MarshalPKCS8PrivateKey(k.PEMEC)
	cases := []struct {
		name string
		cfg  auth.Config
		ok   bool
	}{
		{"PEM only", auth.Config{PublicKeysPEM: k.PublicPEM()}, true},
		{"JWKS only", auth.Config{JWKS: auth.JWKSConfig{URL: "https://idp.example/jwks"}}, true},
		{"certificate", auth.Config{PublicKeysPEM: certPEM(t, k.PEMEC)}, true},
		{"PKCS#1 RSA public key", auth.Config{PublicKeysPEM: pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.PEMRSA.PublicKey))}, true},
		{"RS256 allowed with PEM", auth.Config{PublicKeysPEM: k.PublicPEM(), Algorithms: []string{"RS256"}}, true},
		{"no key at all", auth.Config{}, false},
		{"private key as PEM", auth.Config{PublicKeysPEM: pemOf("PRIVATE KEY", privDER)}, false},
		{"1024-bit RSA", auth.Config{PublicKeysPEM: pkixPEM(&small.PublicKey)}, false},
		{"P-224", auth.Config{PublicKeysPEM: pkixPEM(&p224.PublicKey)}, false},
		{"not PEM", auth.Config{PublicKeysPEM: []byte("ssh-ed25519 AAAA")}, false},
		{"JWKS not http", auth.Config{JWKS: auth.JWKSConfig{URL: "file:///etc/jwks.json"}}, false},
		{"HS256 without a secret", auth.Config{PublicKeysPEM: k.PublicPEM(), Algorithms: []string{"HS256"}}, false},
		{"none listed", auth.Config{Secret: k.Secret, Algorithms: []string{"none"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := auth.NewVerifier(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("NewVerifier: %v, want ok=%v", err, tc.ok)
			}
			if v != nil {
				v.Close()
			}
		})
	}
}

func certPEM(t testing.TB, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
