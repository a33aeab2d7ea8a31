// Package config parses the settings both services share. Only main reads
// the environment: it passes its lookup function (os.Getenv) to Load.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/auth"
	"github.com/roomwire/roomwire/shared/keys"
)

// DevSecret is the JWT secret used when DEV_MODE is on and JWT_SECRET is
// unset. It is public: never run production with DEV_MODE.
const DevSecret = "roomwire-dev-secret-not-for-production"

// Common holds the settings of both services.
type Common struct {
	// RedisURL is REDIS_URL; default redis://localhost:6379/0.
	RedisURL string
	// RedisPrefix is REDIS_PREFIX, the first part of every key; default "chat".
	RedisPrefix string
	// JWTSecret is JWT_SECRET. Required unless DevMode.
	JWTSecret []byte
	// JWTPreviousSecret is JWT_PREVIOUS_SECRET, accepted during rotation.
	JWTPreviousSecret []byte
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
	if len(c.JWTSecret) == 0 {
		if !c.DevMode {
			return c, errors.New("JWT_SECRET is required (or set DEV_MODE=1 to use the public development secret)")
		}
		c.JWTSecret = []byte(DevSecret)
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
	if _, err := redis.ParseURL(c.RedisURL); err != nil {
		return c, fmt.Errorf("REDIS_URL: %w", err)
	}
	return c, nil
}

// Logger builds the slog logger the settings ask for.
func (c Common) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Redis opens a client for RedisURL.
func (c Common) Redis() (redis.UniversalClient, error) {
	opt, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return redis.NewClient(opt), nil
}

// Keys returns the key space of RedisPrefix.
func (c Common) Keys() keys.Space { return keys.MustNew(c.RedisPrefix) }

// Verifier returns the token verifier for the configured secrets.
func (c Common) Verifier() (*auth.Verifier, error) {
	return auth.NewVerifier(auth.Config{Secret: c.JWTSecret, PreviousSecret: c.JWTPreviousSecret})
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
