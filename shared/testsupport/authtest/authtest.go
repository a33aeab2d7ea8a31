// Package authtest gives tests of every module the same signing keys, JWK
// Set server and table of good and bad tokens, so the verifier, STOMP
// CONNECT and the REST API are checked against one list.
package authtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomwire/roomwire/shared/infra/auth"
)

// Issuer and Audience are what Config requires and Claims puts in tokens.
const (
	Issuer   = "roomwire-test"
	Audience = "roomwire"
)

// Keys is a set of signing keys: an HMAC secret and a previous one, one
// RSA, EC P-256 and Ed25519 key whose public halves are in PublicPEM, the
// same three kinds published in a JWK Set with kids, and a stranger key in
// neither.
type Keys struct {
	Secret, PreviousSecret []byte
	PEMRSA                 *rsa.PrivateKey
	PEMEC                  *ecdsa.PrivateKey
	PEMEd                  ed25519.PrivateKey
	JWKSRSA                *rsa.PrivateKey // kid "rsa-1"
	JWKSEC                 *ecdsa.PrivateKey
	JWKSEd                 ed25519.PrivateKey
	Stranger               *rsa.PrivateKey
}

// Kids of the JWK Set keys.
const (
	KidRSA = "rsa-1"
	KidEC  = "ec-1"
	KidEd  = "ed-1"
)

var (
	once   sync.Once
	shared *Keys
)

// Shared returns one Keys per test process (RSA key generation is slow).
func Shared() *Keys {
	once.Do(func() {
		rsaKey := func() *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			return k
		}
		ecKey := func() *ecdsa.PrivateKey {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				panic(err)
			}
			return k
		}
		edKey := func() ed25519.PrivateKey {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				panic(err)
			}
			return k
		}
		shared = &Keys{
			Secret: []byte("authtest-current-secret"), PreviousSecret: []byte("authtest-previous-secret"),
			PEMRSA: rsaKey(), PEMEC: ecKey(), PEMEd: edKey(),
			JWKSRSA: rsaKey(), JWKSEC: ecKey(), JWKSEd: edKey(),
			Stranger: rsaKey(),
		}
	})
	return shared
}

// PublicPEM is the PEM file of the three PEM keys' public halves.
func (k *Keys) PublicPEM() []byte {
	var out []byte
	for _, pub := range []any{&k.PEMRSA.PublicKey, &k.PEMEC.PublicKey, k.PEMEd.Public()} {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			panic(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})...)
	}
	return out
}

// JWKS is the JWK Set document of the three JWKS keys, plus an HMAC key and
// an encryption key that a verifier must ignore.
func (k *Keys) JWKS() []byte {
	return JWKSOf(map[string]any{KidRSA: &k.JWKSRSA.PublicKey, KidEC: &k.JWKSEC.PublicKey, KidEd: k.JWKSEd.Public()})
}

// JWKSOf renders public keys by kid as a JWK Set, with the two decoys.
func JWKSOf(keys map[string]any) []byte {
	b64 := base64.RawURLEncoding.EncodeToString
	set := []map[string]any{
		{"kty": "oct", "kid": "hmac-decoy", "k": b64([]byte("never a verification key"))},
	}
	for kid, pub := range keys {
		switch p := pub.(type) {
		case *rsa.PublicKey:
			set = append(set, map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
				"n": b64(p.N.Bytes()), "e": b64(big.NewInt(int64(p.E)).Bytes())})
			set = append(set, map[string]any{"kty": "RSA", "kid": kid + "-enc", "use": "enc",
				"n": b64(p.N.Bytes()), "e": b64(big.NewInt(int64(p.E)).Bytes())})
		case *ecdsa.PublicKey:
			raw, err := p.Bytes()
			if err != nil {
				panic(err)
			}
			size := (len(raw) - 1) / 2
			set = append(set, map[string]any{"kty": "EC", "kid": kid, "crv": p.Curve.Params().Name,
				"x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:])})
		case ed25519.PublicKey:
			set = append(set, map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(p)})
		}
	}
	b, err := json.Marshal(map[string]any{"keys": set})
	if err != nil {
		panic(err)
	}
	return b
}

// JWKSServer serves a JWK Set that a test may replace, and counts fetches.
type JWKSServer struct {
	URL     string
	body    atomic.Value // []byte
	Fetches atomic.Int64
}

// Set replaces the served document.
func (s *JWKSServer) Set(doc []byte) { s.body.Store(doc) }

// ServeJWKS serves doc until t ends.
func ServeJWKS(t testing.TB, doc []byte) *JWKSServer {
	t.Helper()
	s := &JWKSServer{}
	s.Set(doc)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.Fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.body.Load().([]byte))
	}))
	t.Cleanup(hs.Close)
	s.URL = hs.URL + "/.well-known/jwks.json"
	return s
}

// Config returns a verifier configuration trusting every key of k but the
// stranger, with the JWK Set served until t ends, Issuer and Audience.
func (k *Keys) Config(t testing.TB) auth.Config {
	t.Helper()
	return auth.Config{
		Secret: k.Secret, PreviousSecret: k.PreviousSecret, PublicKeysPEM: k.PublicPEM(),
		JWKS:   auth.JWKSConfig{URL: ServeJWKS(t, k.JWKS()).URL, MinRefetch: time.Second, Timeout: 2 * time.Second},
		Issuer: Issuer, Audience: Audience,
	}
}

// Verifier builds a verifier of Config, closed when t ends.
func (k *Keys) Verifier(t testing.TB) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(k.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// Claims are valid claims for user (iss, aud, iat, an exp an hour ahead),
// with overrides applied; a nil override deletes the claim.
func Claims(user int64, over map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"sub": strconv.FormatInt(user, 10), "iss": Issuer, "aud": Audience,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// Sign signs claims with alg and key, adding kid to the header when not
// empty. alg "none" yields an unsigned token.
func Sign(t testing.TB, alg string, key any, kid string, claims map[string]any) string {
	t.Helper()
	if alg == "none" {
		enc := base64.RawURLEncoding.EncodeToString
		hdr, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT"})
		body, _ := json.Marshal(claims)
		return enc(hdr) + "." + enc(body) + "."
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), jwt.MapClaims(claims))
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", alg, err)
	}
	return s
}

// Case is one token and what a verifier of Config makes of it.
type Case struct {
	Name  string
	Token string
	// Err is nil for a valid token, else auth.ErrInvalidToken or
	// auth.ErrExpiredToken; Reason, when set, is part of the error text.
	Err    error
	Reason string
}

// Valid lists good tokens for user, one per kind of key.
func (k *Keys) Valid(t testing.TB, user int64) []Case {
	t.Helper()
	c := Claims(user, nil)
	return []Case{
		{Name: "HS256 current secret", Token: Sign(t, "HS256", k.Secret, "", c)},
		{Name: "HS512 previous secret", Token: Sign(t, "HS512", k.PreviousSecret, "", c)},
		{Name: "RS256 PEM", Token: Sign(t, "RS256", k.PEMRSA, "", c)},
		{Name: "ES256 PEM", Token: Sign(t, "ES256", k.PEMEC, "", c)},
		{Name: "EdDSA PEM", Token: Sign(t, "EdDSA", k.PEMEd, "", c)},
		{Name: "RS256 JWKS", Token: Sign(t, "RS256", k.JWKSRSA, KidRSA, c)},
		{Name: "ES256 JWKS", Token: Sign(t, "ES256", k.JWKSEC, KidEC, c)},
		{Name: "EdDSA JWKS", Token: Sign(t, "EdDSA", k.JWKSEd, KidEd, c)},
	}
}

// Invalid lists every way a token for user is refused by a verifier of
// Config.
func (k *Keys) Invalid(t testing.TB, user int64) []Case {
	t.Helper()
	now := time.Now()
	c := func(over map[string]any) map[string]any { return Claims(user, over) }
	inv := auth.ErrInvalidToken
	return []Case{
		{"alg none", Sign(t, "none", nil, "", c(nil)), inv, "algorithm not allowed"},
		{"wrong secret", Sign(t, "HS256", []byte("not the secret"), "", c(nil)), inv, "bad signature"},
		{"RS public key used as HMAC secret", Sign(t, "HS256", k.PublicPEM(), "", c(nil)), inv, "bad signature"},
		{"JWKS RSA modulus used as HMAC secret", Sign(t, "HS256", k.JWKSRSA.N.Bytes(), KidRSA, c(nil)), inv, "bad signature"},
		{"HMAC signature under an RS256 header", hmacAs(t, "RS256", k.Secret, c(nil)), inv, "bad signature"},
		{"stranger RSA key without kid", Sign(t, "RS256", k.Stranger, "", c(nil)), inv, "bad signature"},
		{"unknown kid", Sign(t, "RS256", k.Stranger, "no-such-kid", c(nil)), inv, ""},
		{"PS256 (not allowed)", Sign(t, "PS256", k.PEMRSA, "", c(nil)), inv, "algorithm not allowed"},
		{"HMAC signature under an ES384 header", hmacAs(t, "ES384", k.Secret, c(nil)), inv, ""},
		{"expired", Sign(t, "RS256", k.PEMRSA, "", c(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()})), auth.ErrExpiredToken, "token expired"},
		{"not yet valid", Sign(t, "ES256", k.PEMEC, "", c(map[string]any{"nbf": now.Add(time.Hour).Unix()})), inv, "not valid yet"},
		{"issued in the future", Sign(t, "HS256", k.Secret, "", c(map[string]any{"iat": now.Add(time.Hour).Unix()})), inv, "issued in the future"},
		{"missing exp", Sign(t, "HS256", k.Secret, "", c(map[string]any{"exp": nil})), inv, "required claim missing"},
		{"wrong issuer", Sign(t, "EdDSA", k.PEMEd, "", c(map[string]any{"iss": "evil"})), inv, "wrong issuer"},
		{"missing issuer", Sign(t, "HS256", k.Secret, "", c(map[string]any{"iss": nil})), inv, "required claim missing"},
		{"wrong audience", Sign(t, "RS256", k.JWKSRSA, KidRSA, c(map[string]any{"aud": "other-service"})), inv, "wrong audience"},
		{"missing sub", Sign(t, "HS256", k.Secret, "", c(map[string]any{"sub": nil})), inv, "sub must be"},
		{"non-numeric sub", Sign(t, "ES256", k.JWKSEC, KidEC, c(map[string]any{"sub": "alice"})), inv, "sub must be"},
		{"negative sub", Sign(t, "HS256", k.Secret, "", c(map[string]any{"sub": "-" + strconv.FormatInt(user, 10)})), inv, "sub must be"},
		{"kid not a string", withHeader(t, k.Secret, map[string]any{"alg": "RS256", "kid": 7}, c(nil)), inv, ""},
		{"garbage", "not.a.jwt", inv, "malformed"},
	}
}

// Run runs every token of Valid and Invalid for user as a subtest of t:
// "valid/<name>" calls valid, "invalid/<name>" calls invalid, each with the
// subtest's t and its Case. It returns every token it used, for
// AssertNoTokens.
func (k *Keys) Run(t *testing.T, user int64, valid, invalid func(t *testing.T, c Case)) (used []string) {
	t.Helper()
	for _, set := range []struct {
		name  string
		cases []Case
		try   func(*testing.T, Case)
	}{{"valid/", k.Valid(t, user), valid}, {"invalid/", k.Invalid(t, user), invalid}} {
		for _, c := range set.cases {
			used = append(used, c.Token)
			t.Run(set.name+c.Name, func(t *testing.T) { set.try(t, c) })
		}
	}
	return used
}

// hmacAs signs claims with an HMAC-SHA256 of secret under a header naming alg.
func hmacAs(t testing.TB, alg string, secret []byte, claims map[string]any) string {
	t.Helper()
	return withHeader(t, secret, map[string]any{"alg": alg, "typ": "JWT"}, claims)
}

// withHeader builds a token with an arbitrary header, HMAC-SHA256 signed.
func withHeader(t testing.TB, secret []byte, header, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	hdr, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signing := enc(hdr) + "." + enc(body)
	sig, err := jwt.SigningMethodHS256.Sign(signing, secret)
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc(sig)
}
