// Package auth verifies the JWTs that identify users on both services and
// mints development tokens.
//
// A token's "sub" is the user id as a decimal integer string; "exp" is
// required; "name" is optional. Only the configured HMAC algorithms are
// accepted ("none" and asymmetric algorithms are refused).
package auth

import (
	"errors"
	"fmt"
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

// Config configures a Verifier.
type Config struct {
	// Secret is the HMAC key (JWT_SECRET). Required.
	Secret []byte
	// PreviousSecret, when set, is also accepted, for key rotation.
	PreviousSecret []byte
	// Algorithms is the allow-list; default HS256, HS384, HS512.
	Algorithms []string
	// Leeway is the clock skew allowed on exp/nbf/iat; default 30s.
	Leeway time.Duration
	// Issuer and Audience are checked when non-empty.
	Issuer   string
	Audience string
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	cfg     Config
	parsers []*jwt.Parser
	keys    [][]byte
}

// NewVerifier validates cfg, fills defaults and returns a Verifier.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("auth: secret is empty")
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{"HS256", "HS384", "HS512"}
	}
	for _, a := range cfg.Algorithms {
		if !strings.HasPrefix(a, "HS") {
			return nil, fmt.Errorf("auth: algorithm %q is not an HMAC algorithm", a)
		}
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(cfg.Algorithms),
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
	v := &Verifier{cfg: cfg, keys: [][]byte{cfg.Secret}}
	if len(cfg.PreviousSecret) > 0 {
		v.keys = append(v.keys, cfg.PreviousSecret)
	}
	v.parsers = []*jwt.Parser{jwt.NewParser(opts...)}
	return v, nil
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
	var lastErr error
	for _, key := range v.keys {
		var c claims
		_, err := v.parsers[0].ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return key, nil })
		if err == nil {
			return identityOf(c)
		}
		lastErr = err
		if !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			break
		}
	}
	if errors.Is(lastErr, jwt.ErrTokenExpired) {
		return Identity{}, ErrExpiredToken
	}
	return Identity{}, fmt.Errorf("%w: %s", ErrInvalidToken, reason(lastErr))
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
