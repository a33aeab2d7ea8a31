package config_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/infra/config"
)

// env is a map-backed getenv.
type env map[string]string

func (e env) get(name string) string { return e[name] }

func TestLoadDefaults(t *testing.T) {
	c, err := config.Load(env{"JWT_SECRET": "s3cret"}.get)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.RedisURL != "redis://localhost:6379/0" {
		t.Errorf("RedisURL = %q", c.RedisURL)
	}
	if c.RedisPrefix != "chat" || c.Keys().Prefix() != "chat" {
		t.Errorf("RedisPrefix = %q, Keys().Prefix() = %q", c.RedisPrefix, c.Keys().Prefix())
	}
	if string(c.JWTSecret) != "s3cret" || len(c.JWTPreviousSecret) != 0 {
		t.Errorf("secrets = %q, %q", c.JWTSecret, c.JWTPreviousSecret)
	}
	if c.DevMode {
		t.Error("DevMode on by default")
	}
	if c.LogLevel != slog.LevelInfo || c.LogFormat != "text" {
		t.Errorf("log = %v %q, want INFO text", c.LogLevel, c.LogFormat)
	}
}

func TestLoadExplicit(t *testing.T) {
	c, err := config.Load(env{
		"REDIS_URL": "redis://:pw@redis.internal:6380/2", "REDIS_PREFIX": "stage:chat",
		"JWT_SECRET": "new", "JWT_PREVIOUS_SECRET": "old", "DEV_MODE": "false",
		"LOG_LEVEL": "debug", "LOG_FORMAT": "json",
	}.get)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := config.Common{
		RedisURL: "redis://:pw@redis.internal:6380/2", RedisPrefix: "stage:chat",
		JWTSecret: []byte("new"), JWTPreviousSecret: []byte("old"),
		JWTJWKSRefresh: 10 * time.Minute, JWTJWKSMinRefetch: 30 * time.Second, JWTLeeway: 30 * time.Second,
		LogLevel: slog.LevelDebug, LogFormat: "json",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load = %+v\nwant   %+v", c, want)
	}
}

func TestLoadSecret(t *testing.T) {
	tests := []struct {
		name    string
		env     env
		wantErr bool
		secret  string
	}{
		{"missing", env{}, true, ""},
		{"missing, DEV_MODE off", env{"DEV_MODE": "0"}, true, ""},
		{"DEV_MODE=1 uses DevSecret", env{"DEV_MODE": "1"}, false, config.DevSecret},
		{"DEV_MODE=true uses DevSecret", env{"DEV_MODE": "true"}, false, config.DevSecret},
		{"DEV_MODE keeps an explicit secret", env{"DEV_MODE": "1", "JWT_SECRET": "mine"}, false, "mine"},
		{"DEV_MODE not a boolean", env{"DEV_MODE": "maybe", "JWT_SECRET": "x"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(tt.env.get)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Load error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if string(c.JWTSecret) != tt.secret {
				t.Errorf("JWTSecret = %q, want %q", c.JWTSecret, tt.secret)
			}
			v, err := c.Verifier(nil)
			if err != nil {
				t.Fatalf("Verifier: %v", err)
			}
			tok, _ := auth.Mint([]byte(tt.secret), 3, "", time.Minute)
			if id, err := v.Verify(tok); err != nil || id.UserID != 3 {
				t.Errorf("Verify(token under %q) = %+v, %v", tt.secret, id, err)
			}
		})
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name, key, value, errMentions string
	}{
		{"unknown log level", "LOG_LEVEL", "verbose", "LOG_LEVEL"},
		{"numeric log level", "LOG_LEVEL", "3", "LOG_LEVEL"},
		{"log format", "LOG_FORMAT", "xml", "LOG_FORMAT"},
		{"log format is case-sensitive", "LOG_FORMAT", "JSON", "LOG_FORMAT"},
		{"prefix with brace", "REDIS_PREFIX", "chat{1}", "REDIS_PREFIX"},
		{"prefix with space", "REDIS_PREFIX", "my chat", "REDIS_PREFIX"},
		{"url scheme", "REDIS_URL", "http://localhost:6379", "REDIS_URL"},
		{"url garbage", "REDIS_URL", "::not a url", "REDIS_URL"},
		{"url bad db", "REDIS_URL", "redis://localhost:6379/x", "REDIS_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(env{"JWT_SECRET": "s", tt.key: tt.value}.get)
			if err == nil {
				t.Fatalf("Load accepted %s=%q", tt.key, tt.value)
			}
			if !strings.Contains(err.Error(), tt.errMentions) {
				t.Errorf("error %q does not name %s", err, tt.errMentions)
			}
		})
	}
}

func TestLoadLogLevels(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		c, err := config.Load(env{"JWT_SECRET": "s", "LOG_LEVEL": in}.get)
		if err != nil || c.LogLevel != want {
			t.Errorf("LOG_LEVEL=%s: %v, %v; want %v", in, c.LogLevel, err, want)
		}
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	c := config.Common{LogLevel: slog.LevelWarn, LogFormat: "json"}
	log := c.Logger(&buf)
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("json logger wrote %q: %v", buf.String(), err)
	}
	if rec["msg"] != "shown" || rec["level"] != "WARN" {
		t.Errorf("record = %v", rec)
	}
	buf.Reset()
	config.Common{LogFormat: "text"}.Logger(&buf).Info("hello")
	if !strings.Contains(buf.String(), "msg=hello") {
		t.Errorf("text logger wrote %q", buf.String())
	}
}

func TestRedisClient(t *testing.T) {
	c := config.Common{RedisURL: "redis://localhost:1/3"}
	rdb, err := c.Redis()
	if err != nil {
		t.Fatalf("Redis: %v", err)
	}
	defer rdb.Close()
	if _, err := (config.Common{RedisURL: "http://x"}).Redis(); err == nil {
		t.Error("Redis accepted an http URL")
	}
}

func TestBool(t *testing.T) {
	tests := []struct {
		value   string
		def     bool
		want    bool
		wantErr bool
	}{
		{"", false, false, false},
		{"", true, true, false},
		{"  ", true, true, false},
		{"1", false, true, false},
		{"true", false, true, false},
		{"TRUE", false, true, false},
		{" yes ", false, true, false},
		{"on", false, true, false},
		{"0", true, false, false},
		{"false", true, false, false},
		{"No", true, false, false},
		{"off", true, false, false},
		{"2", false, false, true},
		{"y", true, true, true},
		{"enabled", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := config.Bool(env{"B": tt.value}.get, "B", tt.def)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Bool(%q, def %v) = %v, %v; want %v, err %v", tt.value, tt.def, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "B") {
				t.Errorf("error %q does not name the variable", err)
			}
		})
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		value     string
		def, min  int
		want      int
		wantError bool
	}{
		{"", 7, 1, 7, false},
		{"42", 7, 1, 42, false},
		{" 42 ", 7, 1, 42, false},
		{"1", 7, 1, 1, false},
		{"0", 7, 1, 7, true},
		{"-5", 7, -10, -5, false},
		{"-11", 7, -10, 7, true},
		{"4.5", 7, 1, 7, true},
		{"ten", 7, 1, 7, true},
		{"99999999999999999999", 7, 1, 7, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := config.Int(env{"N": tt.value}.get, "N", tt.def, tt.min)
			if got != tt.want || (err != nil) != tt.wantError {
				t.Errorf("Int(%q, %d, %d) = %d, %v; want %d, err %v", tt.value, tt.def, tt.min, got, err, tt.want, tt.wantError)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		value     string
		want      time.Duration
		wantError bool
	}{
		{"", 5 * time.Second, false},
		{"10s", 10 * time.Second, false},
		{" 500ms ", 500 * time.Millisecond, false},
		{"1h30m", 90 * time.Minute, false},
		{"0", 0, false},
		{"0s", 0, false},
		{"-1s", 5 * time.Second, true},
		{"10", 5 * time.Second, true},
		{"soon", 5 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := config.Duration(env{"D": tt.value}.get, "D", 5*time.Second)
			if got != tt.want || (err != nil) != tt.wantError {
				t.Errorf("Duration(%q) = %v, %v; want %v, err %v", tt.value, got, err, tt.want, tt.wantError)
			}
		})
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		value string
		want  []string
	}{
		{"", nil},
		{" , ,", nil},
		{"a", []string{"a"}},
		{"a,b", []string{"a", "b"}},
		{" a , b ,, c,", []string{"a", "b", "c"}},
		{"https://x.example, https://y.example", []string{"https://x.example", "https://y.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			if got := config.List(env{"L": tt.value}.get, "L"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List(%q) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}

func TestRate(t *testing.T) {
	tests := []struct {
		value     string
		want      float64
		wantError bool
	}{
		{"", 20, false},
		{"5", 5, false},
		{" 0.5 ", 0.5, false},
		{"0", -1, false},
		{"off", -1, false},
		{"OFF", -1, false},
		{"-3", 20, true},
		{"NaN", 20, true},
		{"Inf", 20, true},
		{"fast", 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := config.Rate(env{"R": tt.value}.get, "R", 20)
			if got != tt.want || (err != nil) != tt.wantError {
				t.Errorf("Rate(%q) = %v, %v; want %v, err %v", tt.value, got, err, tt.want, tt.wantError)
			}
		})
	}
}
