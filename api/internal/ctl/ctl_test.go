package ctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roomwire/roomwire/api/internal/ctl"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/infra/config"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// envOf is a getenv over a fixed map.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// tailing is a chatctl command (a tail) running in the background.
type tailing struct {
	out, errOut authtest.LogBuffer
	cancel      context.CancelFunc
	done        chan error
}

// startTail runs chatctl with args over vars in the background until stop
// or the end of the test.
func startTail(t *testing.T, vars map[string]string, args ...string) *tailing {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tl := &tailing{cancel: cancel, done: make(chan error, 1)}
	go func() { tl.done <- ctl.Run(ctx, args, envOf(vars), &tl.out, &tl.errOut) }()
	t.Cleanup(cancel)
	return tl
}

// stop cancels the command and fails t unless it ends without an error
// within 5s.
func (tl *tailing) stop(t *testing.T) {
	t.Helper()
	tl.cancel()
	select {
	case err := <-tl.done:
		if err != nil {
			t.Fatalf("tail ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tail did not stop on cancel")
	}
}

// run runs chatctl with args and returns its output.
func run(t testing.TB, vars map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = ctl.Run(context.Background(), args, envOf(vars), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestToken(t *testing.T) {
	cases := []struct {
		name       string
		vars       map[string]string
		args       []string
		wantSecret string
		wantName   string
		wantTTL    time.Duration
	}{
		{"configured secret", map[string]string{"JWT_SECRET": "s3cret"}, []string{"-user", "8", "-name", "Alice"}, "s3cret", "Alice", 24 * time.Hour},
		{"development secret", map[string]string{"DEV_MODE": "1"}, []string{"-user", "8", "-ttl", "1h"}, config.DevSecret, "", time.Hour},
		{"configured secret wins in dev mode", map[string]string{"DEV_MODE": "1", "JWT_SECRET": "s3cret"}, []string{"-user", "8"}, "s3cret", "", 24 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := run(t, c.vars, append([]string{"token"}, c.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			v, err := auth.NewVerifier(auth.Config{Secret: []byte(c.wantSecret)})
			if err != nil {
				t.Fatal(err)
			}
			id, err := v.Verify(strings.TrimSpace(out))
			if err != nil {
				t.Fatalf("token %q: %v", out, err)
			}
			if id.UserID != 8 || id.Name != c.wantName {
				t.Fatalf("identity %+v", id)
			}
			if left := time.Until(id.ExpiresAt); left > c.wantTTL || left < c.wantTTL-time.Minute {
				t.Fatalf("expires in %v, want about %v", left, c.wantTTL)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	dev := map[string]string{"DEV_MODE": "1"}
	cases := []struct {
		name    string
		vars    map[string]string
		args    []string
		wantErr error // nil: any non-usage error
		wantOut string
	}{
		{"no command", dev, nil, ctl.ErrUsage, "usage: chatctl"},
		{"unknown command", dev, []string{"tokens"}, ctl.ErrUsage, `unknown command "tokens"`},
		{"token without user", dev, []string{"token"}, ctl.ErrUsage, "-user must be positive"},
		{"token with bad ttl", dev, []string{"token", "-user", "8", "-ttl", "-1h"}, ctl.ErrUsage, "-ttl must be positive"},
		{"token with unknown flag", dev, []string{"token", "-user", "8", "-admin"}, ctl.ErrUsage, "flag provided but not defined"},
		{"token with extra argument", dev, []string{"token", "-user", "8", "extra"}, ctl.ErrUsage, `unexpected argument "extra"`},
		{"token without any secret", map[string]string{}, []string{"token", "-user", "8"}, nil, ""},
		{"sessions without selector", dev, []string{"sessions"}, ctl.ErrUsage, "exactly one of -room ID or -user ID"},
		{"sessions with both selectors", dev, []string{"sessions", "-room", "2", "-user", "8"}, ctl.ErrUsage, "exactly one of"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, err := run(t, c.vars, c.args...)
			if err == nil || out != "" {
				t.Fatalf("err %v, stdout %q; want an error and no output", err, out)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if c.wantErr == nil && errors.Is(err, ctl.ErrUsage) {
				t.Fatalf("err %v is a usage error", err)
			}
			if !strings.Contains(errOut, c.wantOut) {
				t.Fatalf("stderr %q lacks %q", errOut, c.wantOut)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	out, _, err := run(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"token -user ID", "sessions -room ID | -user ID", "kick -session SID", "say -room ID -text TEXT", "tail -room ID [-events]", "outbox [-limit 100] | outbox -user ID", "healthcheck URL"} {
		if !strings.Contains(out, want) {
			t.Fatalf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t)
	prefix := redistest.Prefix(t)
	ks := keys.MustNew(prefix)
	reg := registry.New(rdb, ks)
	for _, s := range []registry.Session{
		{ID: "b", UserID: 8, RoomID: 2, Node: "n1", ConnectedAt: "2026-01-01T00:00:00.000Z", RemoteAddr: "127.0.0.1:1"},
		{ID: "a", UserID: 8, RoomID: 5, Node: "n2", ConnectedAt: "2026-01-01T00:00:01.000Z", RemoteAddr: "127.0.0.1:2"},
		{ID: "c", UserID: 3, RoomID: 2, Node: "n2", ConnectedAt: "2026-01-01T00:00:02.000Z", RemoteAddr: "127.0.0.1:3"},
	} {
		if _, err := reg.Register(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// A view entry whose session hash is gone (a crash between two writes).
	if err := rdb.HSet(ctx, ks.RoomSessions(2), "gone", 9).Err(); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"REDIS_URL": srv.URL(), "REDIS_PREFIX": prefix}
	cases := []struct {
		args []string
		want []string // session ids in order; a trailing "!" marks stale
	}{
		{[]string{"-user", "8"}, []string{"a", "b"}},
		{[]string{"-room", "2"}, []string{"b", "c", "gone!"}},
		{[]string{"-user", "4"}, nil},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, errOut, err := run(t, vars, append([]string{"sessions"}, c.args...)...)
			if err != nil {
				t.Fatalf("%v: %s", err, errOut)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" {
					continue
				}
				var s struct {
					registry.Session
					Stale bool `json:"stale"`
				}
				if err := json.Unmarshal([]byte(line), &s); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				if s.Stale {
					s.ID += "!"
				} else if s.Node == "" || s.UserID == 0 || s.ConnectedAt == "" {
					t.Fatalf("incomplete session %q", line)
				}
				got = append(got, s.ID)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("sessions %v, want %v\n%s", got, c.want, out)
			}
		})
	}
}
