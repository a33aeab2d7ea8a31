// Package auth verifies the JWTs that identify users on both services and
// mints development tokens.
//
// A token's "sub" is the user id as a decimal integer string; "exp" is
// required; "name" is optional. Keys are HMAC secrets (HS256/384/512), PEM
// public keys and a JWK Set fetched over HTTP (RS256/384/512, ES256/384/512,
// EdDSA). Each key verifies only the algorithms of its own family, and
// "none" is never accepted.
package auth

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Sentinel errors returned (wrapped) by Verify. Their texts are safe to show
// to clients: none contains the token.
var (
	// ErrMissingToken means no token was presented.
	ErrMissingToken = errors.New("missing token")
	// ErrInvalidToken means the token is malformed, badly signed, uses a
	// refused algorithm or lacks a required claim.
	ErrInvalidToken = errors.New("invalid token")
	// ErrExpiredToken means the token's exp has passed.
	ErrExpiredToken = errors.New("token expired")
)

// Identity is who a verified token speaks for.
type Identity struct {
	UserID    int64
	Name      string
	ExpiresAt time.Time
}

// Config configures a Verifier. At least one of Secret, PublicKeysPEM and
// JWKS.URL is required.
type Config struct {
	// Secret is the HMAC key (JWT_SECRET); it verifies HS256/384/512 only.
	Secret []byte
	// PreviousSecret, when set, is also accepted, for key rotation
	// (JWT_PREVIOUS_SECRET).
	PreviousSecret []byte
	// PublicKeysPEM holds PEM public keys (JWT_PUBLIC_KEY_FILE's content):
	// RSA keys verify RS256/384/512, EC keys the ES algorithm of their curve
	// (P-256: ES256, P-384: ES384, P-521: ES512), Ed25519 keys EdDSA.
	PublicKeysPEM []byte
	// JWKS, when its URL is set, is fetched and refreshed by the Verifier
	// until Close; its keys verify by the same rules, matched by kid.
	JWKS JWKSConfig
	// Algorithms narrows the accepted algorithms; default every algorithm
	// of a configured key family. "none" is never accepted, and a listed
	// algorithm needs a key of its family.
	Algorithms []string
	// Leeway is the clock skew allowed on exp/nbf/iat; default 30s,
	// negative for none.
	Leeway time.Duration
	// Issuer and Audience are checked when non-empty.
	Issuer   string
	Audience string
}

// Verifier checks tokens. It is safe for concurrent use. A Verifier with a
// JWKS owns a goroutine: Close stops it.
type Verifier struct {
	algs   []string // accepted algorithms
	static []key    // secrets and PEM keys
	jwks   *jwks    // nil without JWKS
	parser *jwt.Parser
}

// Reasons of ErrInvalidToken found while choosing the keys of a token.
var (
	errAlgorithm  = errors.New("algorithm not allowed")
	errUnknownKey = errors.New("unknown key")
	errBadKid     = errors.New("kid must be a string")
)

// NewVerifier validates cfg, fills defaults and returns a Verifier. With a
// JWKS URL it starts fetching at once (a failed first fetch is logged and
// retried; tokens needing the JWKS fail until one succeeds).
func NewVerifier(cfg Config) (*Verifier, error) {
	v := &Verifier{}
	if len(cfg.Secret) > 0 {
		v.static = append(v.static, secretKey(cfg.Secret))
		if len(cfg.PreviousSecret) > 0 {
			v.static = append(v.static, secretKey(cfg.PreviousSecret))
		}
	} else if len(cfg.PreviousSecret) > 0 {
		return nil, errors.New("auth: a previous secret needs a current secret")
	}
	if len(cfg.PublicKeysPEM) > 0 {
		pubs, err := ParsePublicKeysPEM(cfg.PublicKeysPEM)
		if err != nil {
			return nil, fmt.Errorf("auth: public key: %w", err)
		}
		for _, p := range pubs {
			k, _ := publicKey("", p) // checked by ParsePublicKeysPEM
			v.static = append(v.static, k)
		}
	}
	if len(v.static) == 0 && cfg.JWKS.URL == "" {
		return nil, errors.New("auth: no key: set a secret, a public key or a JWKS URL")
	}
	families := map[string]bool{}
	for _, k := range v.static {
		for _, a := range k.algs {
			families[a] = true
		}
	}
	if cfg.JWKS.URL != "" {
		for _, a := range supported {
			families[a] = families[a] || !slices.Contains(hmacAlgs, a) // every asymmetric one
		}
	}
	if len(cfg.Algorithms) == 0 {
		for _, a := range supported {
			if families[a] {
				v.algs = append(v.algs, a)
			}
		}
	}
	for _, a := range cfg.Algorithms {
		if !slices.Contains(supported, a) {
			return nil, fmt.Errorf("auth: algorithm %q is not supported", a)
		}
		if !families[a] {
			return nil, fmt.Errorf("auth: algorithm %q has no key of its family configured", a)
		}
		v.algs = append(v.algs, a)
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = 30 * time.Second
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	opts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithIssuedAt(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	if cfg.JWKS.URL != "" {
		j, err := newJWKS(cfg.JWKS)
		if err != nil {
			return nil, err
		}
		v.jwks = j
	}
	return v, nil
}

// Close stops the JWKS refresher, if any. Verify keeps working on the
// cached keys afterwards.
func (v *Verifier) Close() {
	if v.jwks != nil {
		v.jwks.close()
	}
}

type claims struct {
	Name string `json:"name,omitempty"`
	jwt.RegisteredClaims
}

// Verify checks token (without any "Bearer " prefix) and returns its identity.
func (v *Verifier) Verify(token string) (Identity, error) {
	if token == "" {
		return Identity{}, ErrMissingToken
	}
	var c claims
	_, err := v.parser.ParseWithClaims(token, &c, v.keys)
	if err == nil {
		return identityOf(c)
	}
	if errors.Is(err, jwt.ErrTokenExpired) {
		return Identity{}, ErrExpiredToken
	}
	return Identity{}, fmt.Errorf("%w: %s", ErrInvalidToken, reason(err))
}

// keys is the jwt.Keyfunc: it returns only keys whose family allows the
// token's alg, so the header can never choose how a key is used. Before it
// runs nothing is verified; after it, the signature against these keys.
func (v *Verifier) keys(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if !slices.Contains(v.algs, alg) {
		return nil, errAlgorithm
	}
	var kid string
	if raw, ok := t.Header["kid"]; ok {
		s, isString := raw.(string)
		if !isString {
			return nil, errBadKid
		}
		kid = s
	}
	var set []jwt.VerificationKey
	for _, k := range v.static {
		if k.allows(alg) {
			set = append(set, k.pub)
		}
	}
	if v.jwks != nil && !slices.Contains(hmacAlgs, alg) {
		found := v.jwks.match(kid, alg)
		if len(found) == 0 && v.jwks.refetch() {
			found = v.jwks.match(kid, alg)
		}
		for _, k := range found {
			set = append(set, k.pub)
		}
	}
	if len(set) == 0 {
		return nil, errUnknownKey
	}
	return jwt.VerificationKeySet{Keys: set}, nil
}

func identityOf(c claims) (Identity, error) {
	uid, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || uid <= 0 {
		return Identity{}, fmt.Errorf("%w: sub must be a positive decimal user id", ErrInvalidToken)
	}
	id := Identity{UserID: uid, Name: c.Name}
	if c.ExpiresAt != nil {
		id.ExpiresAt = c.ExpiresAt.Time
	}
	return id, nil
}

// reason turns a jwt error into a short client-safe phrase.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, errAlgorithm):
		return "algorithm not allowed"
	case errors.Is(err, errUnknownKey):
		return "unknown key"
	case errors.Is(err, errBadKid):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "algorithm not allowed"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "required claim missing"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	default:
		return "rejected"
	}
}

// BearerToken extracts the token from an Authorization header value
// ("Bearer <token>", scheme case-insensitive). It returns "" when absent.
func BearerToken(header string) string {
	const p = "bearer "
	if len(header) > len(p) && strings.EqualFold(header[:len(p)], p) {
		return strings.TrimSpace(header[len(p):])
	}
	return ""
}

// Mint signs an HS256 token for userID valid for ttl. It is meant for
// development and tests (chatctl token, make run).
func Mint(secret []byte, userID int64, name string, ttl time.Duration) (string, error) {
	now := time.Now()
	c := claims{
		Name: name,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}
