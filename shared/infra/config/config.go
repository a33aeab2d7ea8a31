// Package config parses the settings both services share. Only main reads
// the environment: it passes its lookup function (os.Getenv) to Load.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// DevSecret is the JWT secret used when DEV_MODE is on and JWT_SECRET is
// unset. It is public: never run production with DEV_MODE.
const DevSecret = "roomwire-dev-secret-not-for-production"

// Common holds the settings of both services.
type Common struct {
	// RedisURL is REDIS_URL; default redis://localhost:6379/0.
	RedisURL string
	// RedisClusterAddrs is REDIS_CLUSTER_ADDRS: comma-separated host:port
	// seeds of a Redis Cluster; when set they replace REDIS_URL's host
	// (whose scheme, credentials and options still apply). Default none.
	RedisClusterAddrs []string
	// RedisPrefix is REDIS_PREFIX, the first part of every key; default "chat".
	RedisPrefix string
	// RedisCAFile is REDIS_TLS_CA_FILE: PEM certificates trusted for
	// rediss:// besides the system roots; default none.
	RedisCAFile string
	// JWTSecret is JWT_SECRET (HS256/384/512). Required unless DevMode,
	// JWTPublicKeyFile or JWTJWKSURL is set.
	JWTSecret []byte
	// JWTPreviousSecret is JWT_PREVIOUS_SECRET, accepted during rotation.
	JWTPreviousSecret []byte
	// JWTPublicKeyFile is JWT_PUBLIC_KEY_FILE: PEM public keys (RSA, EC
	// P-256/384/521, Ed25519) for RS*, ES* and EdDSA tokens; default none.
	// JWTPublicKeysPEM is its content, read by Load.
	JWTPublicKeyFile string
	JWTPublicKeysPEM []byte
	// JWTJWKSURL is JWT_JWKS_URL, a JWK Set fetched over http(s); default none.
	JWTJWKSURL string
	// JWTJWKSRefresh is JWT_JWKS_REFRESH, the routine refetch period; default 10m.
	JWTJWKSRefresh time.Duration
	// JWTJWKSMinRefetch is JWT_JWKS_MIN_REFETCH, the least time between
	// refetches caused by unknown kids; default 30s.
	JWTJWKSMinRefetch time.Duration
	// JWTLeeway is JWT_LEEWAY, the clock skew allowed on exp/nbf/iat;
	// default 30s, at most 5m.
	JWTLeeway time.Duration
	// JWTIssuer and JWTAudience are JWT_ISSUER and JWT_AUDIENCE: when set,
	// tokens must carry that iss / have that aud.
	JWTIssuer   string
	JWTAudience string
	// DevMode is DEV_MODE (true/1): allows running with DevSecret.
	DevMode bool
	// LogLevel is LOG_LEVEL (debug, info, warn, error); default info.
	LogLevel slog.Level
	// LogFormat is LOG_FORMAT (json or text); default text.
	LogFormat string
}

// Load reads the common settings through getenv and validates them.
func Load(getenv func(string) string) (Common, error) {
	c := Common{
		RedisURL:    or(getenv("REDIS_URL"), "redis://localhost:6379/0"),
		RedisPrefix: or(getenv("REDIS_PREFIX"), "chat"),
		JWTSecret:   []byte(getenv("JWT_SECRET")),
		LogFormat:   or(getenv("LOG_FORMAT"), "text"),
	}
	c.JWTPreviousSecret = []byte(getenv("JWT_PREVIOUS_SECRET"))
	var err error
	if c.DevMode, err = Bool(getenv, "DEV_MODE", false); err != nil {
		return c, err
	}
	if err := c.loadTokens(getenv); err != nil {
		return c, err
	}
	c.RedisCAFile = getenv("REDIS_TLS_CA_FILE")
	for _, a := range strings.Split(getenv("REDIS_CLUSTER_ADDRS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.RedisClusterAddrs = append(c.RedisClusterAddrs, a)
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(or(getenv("LOG_LEVEL"), "info"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return c, fmt.Errorf("LOG_FORMAT must be json or text, not %q", c.LogFormat)
	}
	if _, err := keys.New(c.RedisPrefix); err != nil {
		return c, fmt.Errorf("REDIS_PREFIX: %w", err)
	}
	if err := c.validateRedis(); err != nil {
		return c, err
	}
	return c, nil
}

// LoadRedis reads the common settings of a process that verifies no tokens
// (chatctl's Redis commands, the archiver): the JWT_* variables are hidden
// from Load, so it neither insists on a secret nor reads key files that may
// exist only where the services run.
func LoadRedis(getenv func(string) string) (Common, error) {
	return Load(func(k string) string {
		switch {
		case k == "JWT_SECRET":
			return "unused-without-tokens"
		case strings.HasPrefix(k, "JWT_"):
			return ""
		}
		return getenv(k)
	})
}

// loadTokens reads the JWT settings. A secret is required unless DEV_MODE,
// a public key file or a JWKS URL provides keys.
func (c *Common) loadTokens(getenv func(string) string) error {
	c.JWTPublicKeyFile = getenv("JWT_PUBLIC_KEY_FILE")
	c.JWTJWKSURL = getenv("JWT_JWKS_URL")
	c.JWTIssuer = getenv("JWT_ISSUER")
	c.JWTAudience = getenv("JWT_AUDIENCE")
	var errs []error
	var err error
	c.JWTJWKSRefresh, err = Duration(getenv, "JWT_JWKS_REFRESH", 10*time.Minute)
	errs = append(errs, err)
	c.JWTJWKSMinRefetch, err = Duration(getenv, "JWT_JWKS_MIN_REFETCH", 30*time.Second)
	errs = append(errs, err)
	c.JWTLeeway, err = Duration(getenv, "JWT_LEEWAY", 30*time.Second)
	errs = append(errs, err)
	if c.JWTLeeway > 5*time.Minute {
		errs = append(errs, errors.New("JWT_LEEWAY must be at most 5m"))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if c.JWTPublicKeyFile != "" {
		if c.JWTPublicKeysPEM, err = os.ReadFile(c.JWTPublicKeyFile); err != nil {
			return fmt.Errorf("JWT_PUBLIC_KEY_FILE: %w", err)
		}
		if _, err := auth.ParsePublicKeysPEM(c.JWTPublicKeysPEM); err != nil {
			return fmt.Errorf("JWT_PUBLIC_KEY_FILE %s: %w", c.JWTPublicKeyFile, err)
		}
	}
	if c.JWTJWKSURL != "" {
		if u, err := url.Parse(c.JWTJWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("JWT_JWKS_URL must be an http(s) URL")
		}
	}
	if len(c.JWTSecret) == 0 {
		if len(c.JWTPreviousSecret) > 0 {
			return errors.New("JWT_PREVIOUS_SECRET needs JWT_SECRET")
		}
		if c.DevMode && c.JWTPublicKeyFile == "" && c.JWTJWKSURL == "" {
			c.JWTSecret = []byte(DevSecret)
		} else if !c.DevMode && c.JWTPublicKeyFile == "" && c.JWTJWKSURL == "" {
			return errors.New("JWT_SECRET is required (or JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL, or DEV_MODE=1 to use the public development secret)")
		}
	}
	return nil
}

// Logger builds the slog logger the settings ask for.
func (c Common) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Keys returns the key space of RedisPrefix.
func (c Common) Keys() keys.Space { return keys.MustNew(c.RedisPrefix) }

// Verifier returns the token verifier for the configured keys. With a JWKS
// URL it runs a refresher goroutine, logging to log: Close the verifier.
func (c Common) Verifier(log *slog.Logger) (*auth.Verifier, error) {
	leeway := c.JWTLeeway
	if leeway == 0 {
		leeway = -1 // JWT_LEEWAY=0: none at all
	}
	return auth.NewVerifier(auth.Config{
		Secret: c.JWTSecret, PreviousSecret: c.JWTPreviousSecret, PublicKeysPEM: c.JWTPublicKeysPEM,
		JWKS:   auth.JWKSConfig{URL: c.JWTJWKSURL, Refresh: c.JWTJWKSRefresh, MinRefetch: c.JWTJWKSMinRefetch, Logger: log},
		Leeway: leeway, Issuer: c.JWTIssuer, Audience: c.JWTAudience,
	})
}

// Bool parses a boolean variable (1/0, true/false, yes/no, on/off).
func Bool(getenv func(string) string, name string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(getenv(name))) {
	case "":
		return def, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return def, fmt.Errorf("%s must be a boolean", name)
}

// Int parses an integer variable with a default and a lower bound.
func Int(getenv func(string) string, name string, def, min int) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return def, fmt.Errorf("%s must be an integer >= %d", name, min)
	}
	return n, nil
}

// Rate parses a rate limit in events per second (a decimal such as 20 or
// 0.5) with a default; "0" or "off" turn the limit off and return -1.
func Rate(getenv func(string) string, name string, def float64) (float64, error) {
	v := strings.ToLower(strings.TrimSpace(getenv(name)))
	switch v {
	case "":
		return def, nil
	case "0", "off":
		return -1, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return def, fmt.Errorf("%s must be a positive number per second, or 0/off for no limit", name)
	}
	return f, nil
}

// Duration parses a Go duration variable ("10s", "500ms") with a default.
func Duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return def, fmt.Errorf("%s must be a non-negative duration such as 10s", name)
	}
	return d, nil
}

// List splits a comma-separated variable, dropping empty items.
func List(getenv func(string) string, name string) []string {
	var out []string
	for _, p := range strings.Split(getenv(name), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
