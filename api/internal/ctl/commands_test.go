package ctl_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/api/internal/ctl"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/chat/wire"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

// env is one test's Redis: a private key prefix on the shared server.
type env struct {
	rdb  redis.UniversalClient
	ks   keys.Space
	vars map[string]string
}

func newEnv(t testing.TB) env {
	t.Helper()
	return envOn(t, srv.Client(t), srv.URL())
}

// envOn is newEnv on any Redis: rdb is a client of the one at url.
func envOn(t testing.TB, rdb redis.UniversalClient, url string) env {
	t.Helper()
	prefix := redistest.Prefix(t)
	return env{rdb: rdb, ks: keys.MustNew(prefix),
		vars: map[string]string{"REDIS_URL": url, "REDIS_PREFIX": prefix}}
}

// subscribe subscribes to channels and waits for Redis to confirm.
func subscribe(t testing.TB, rdb redis.UniversalClient, channels ...string) <-chan *redis.Message {
	t.Helper()
	sub := rdb.Subscribe(context.Background(), channels...)
	t.Cleanup(func() { sub.Close() })
	for range channels {
		if _, err := sub.Receive(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return sub.Channel()
}

// next returns the next message on ch, failing after 5s.
func next(t testing.TB, ch <-chan *redis.Message) *redis.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return nil
	}
}

// none fails if ch delivers within 200ms.
func none(t testing.TB, ch <-chan *redis.Message) {
	t.Helper()
	select {
	case m := <-ch:
		t.Fatalf("unexpected %s on %s", m.Payload, m.Channel)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestKick(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	reg := registry.New(e.rdb, e.ks)
	for _, s := range []registry.Session{
		{ID: "a", UserID: 8, RoomID: 2, Node: "n1", ConnectedAt: "2026-01-01T00:00:00.000Z"},
		{ID: "b", UserID: 8, RoomID: 2, Node: "n2", ConnectedAt: "2026-01-01T00:00:01.000Z"},
	} {
		if _, err := reg.Register(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	control := subscribe(t, e.rdb, e.ks.NodeControl("n1"), e.ks.NodeControl("n2"))

	out, errOut, err := run(t, e.vars, "kick", "-session", "a", "-reason", "maintenance")
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	if want := "kicked session a (user 8, room 2) on node n1: maintenance"; !strings.Contains(out, want) {
		t.Fatalf("stdout %q lacks %q", out, want)
	}
	m := next(t, control)
	var c wire.Control
	if err := json.Unmarshal([]byte(m.Payload), &c); err != nil {
		t.Fatal(err)
	}
	if m.Channel != e.ks.NodeControl("n1") || c.Op != wire.OpDisconnect || strings.Join(c.SessionIDs, ",") != "a" || c.Reason != "maintenance" {
		t.Fatalf("control %s on %s", m.Payload, m.Channel)
	}
	if _, ok, err := reg.Get(ctx, "a"); err != nil || ok {
		t.Fatalf("session a still registered (ok %v, err %v)", ok, err)
	}
	if got, err := reg.Ended(ctx, "n1"); err != nil || got["a"] != "maintenance" {
		t.Errorf("ended sessions of n1 = %v, %v; want a: maintenance", got, err)
	}
	if v, err := reg.UserSessions(ctx, 8); err != nil || len(v) != 1 || v["b"] != 2 {
		t.Fatalf("user view %v (err %v), want only b", v, err)
	}

	t.Run("again", func(t *testing.T) {
		out, errOut, err := run(t, e.vars, "kick", "-session", "a")
		if !errors.Is(err, ctl.ErrNoSession) || out != "" {
			t.Fatalf("err %v, stdout %q, stderr %q; want ErrNoSession and no output", err, out, errOut)
		}
		none(t, control)
	})
	t.Run("default reason", func(t *testing.T) {
		if _, errOut, err := run(t, e.vars, "kick", "-session", "b"); err != nil {
			t.Fatalf("%v: %s", err, errOut)
		}
		m := next(t, control)
		if m.Channel != e.ks.NodeControl("n2") || !strings.Contains(m.Payload, `"reason":"kicked by operator"`) {
			t.Fatalf("control %s on %s", m.Payload, m.Channel)
		}
	})
	t.Run("without session", func(t *testing.T) {
		if _, errOut, err := run(t, e.vars, "kick"); !errors.Is(err, ctl.ErrUsage) || !strings.Contains(errOut, "-session SID is required") {
			t.Fatalf("err %v, stderr %q", err, errOut)
		}
	})
}

func TestKickAnnouncesLeave(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := registry.New(e.rdb, e.ks).Register(ctx, registry.Session{ID: "x", UserID: 5, RoomID: 7, Node: "n1"}); err != nil {
		t.Fatal(err)
	}
	evs := subscribe(t, e.rdb, e.ks.RoomEvents(7))
	if _, errOut, err := run(t, e.vars, "kick", "-session", "x"); err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	var ev wire.Event
	if err := json.Unmarshal([]byte(next(t, evs).Payload), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != wire.EventLeave || ev.UserID != 5 || ev.Reason != "kick" {
		t.Fatalf("event %+v, want LEAVE of user 5 with reason kick", ev)
	}
}

func TestSay(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rooms := room.NewStore(e.rdb, e.ks, room.Config{})
	r, err := rooms.CreateGroup(ctx, 8, "ops", []int64{3, 5})
	if err != nil {
		t.Fatal(err)
	}
	id := itoa
	msgs := subscribe(t, e.rdb, e.ks.RoomMessages(r.ID))
	cases := []struct {
		name       string
		args       []string
		wantSender int64
		wantErr    error
		wantText   string // in the error
	}{
		{"as the creator by default", []string{"-room", id(r.ID), "-text", "maintenance at 22:00"}, 8, nil, ""},
		{"as a member", []string{"-room", id(r.ID), "-text", "hello from 3", "-as", "3"}, 3, nil, ""},
		{"as a stranger", []string{"-room", id(r.ID), "-text", "x", "-as", "99"}, 0, messages.ErrNotMember, "pass -as"},
		{"into an unknown room", []string{"-room", "999999", "-text", "x"}, 0, messages.ErrRoomNotFound, ""},
		{"too long", []string{"-room", id(r.ID), "-text", strings.Repeat("x", 4097)}, 0, messages.ErrTooLong, ""},
	}
	seq := int64(0)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, err := run(t, e.vars, append([]string{"say"}, c.args...)...)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || out != "" || !strings.Contains(err.Error(), c.wantText) {
					t.Fatalf("err %v, stdout %q; want %v", err, out, c.wantErr)
				}
				none(t, msgs)
				return
			}
			if err != nil {
				t.Fatalf("%v: %s", err, errOut)
			}
			seq++
			var m wire.Message
			if err := json.Unmarshal([]byte(next(t, msgs).Payload), &m); err != nil {
				t.Fatal(err)
			}
			if m.Seq != seq || m.SendID != c.wantSender || m.Message != c.args[3] || m.ChatRoomID != r.ID {
				t.Fatalf("published %+v", m)
			}
			if !strings.Contains(out, "sent message "+m.ID) {
				t.Fatalf("stdout %q", out)
			}
		})
	}
	page, err := messages.NewStore(e.rdb, e.ks, messages.Config{}).History(ctx, r.ID, messages.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 2 {
		t.Fatalf("history holds %d messages, want 2", len(page.Messages))
	}
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"-room", "1"}, {"-text", "x"}, {"-room", "1", "-text", "x", "-as", "-2"}} {
			if _, _, err := run(t, e.vars, append([]string{"say"}, args...)...); !errors.Is(err, ctl.ErrUsage) {
				t.Fatalf("say %v: err %v, want a usage error", args, err)
			}
		}
	})
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestTail(t *testing.T) { redistest.OnBoth(t, srv, testTail) }

// testTail runs chatctl tail against rdb's Redis: the shared server (c is
// nil) or a cluster, where it must use sharded pub/sub.
func testTail(t *testing.T, rdb redis.UniversalClient, c *redistest.Cluster) {
	ctx := context.Background()
	url := srv.URL()
	if c != nil {
		url = c.URL()
	}
	e := envOn(t, rdb, url)
	rooms := room.NewStore(e.rdb, e.ks, room.Config{})
	r, err := rooms.CreateGroup(ctx, 8, "ops", []int64{3})
	if err != nil {
		t.Fatal(err)
	}
	store := messages.NewStore(e.rdb, e.ks, messages.Config{})
	pub := events.NewPublisher(e.rdb, e.ks)
	for i, withEvents := range []bool{false, true} {
		name := map[bool]string{false: "messages", true: "with events"}[withEvents]
		t.Run(name, func(t *testing.T) {
			args := []string{"tail", "-room", itoa(r.ID)}
			if withEvents {
				args = append(args, "-events")
			}
			tl := startTail(t, e.vars, args...)
			redistest.Eventually(t, "tail to subscribe", func() bool { return strings.Contains(tl.errOut.String(), "listening on") })

			// Published before the message on one connection, the event
			// reaches tail first if it is subscribed at all.
			if err := pub.Room(ctx, wire.Event{Type: wire.EventEnter, ChatRoomID: r.ID, UserID: 3, At: "2026-01-01T00:00:00.000Z"}); err != nil {
				t.Fatal(err)
			}
			text := "line one\nline two"
			m, _, err := store.Send(ctx, r.ID, 3, 0, text)
			if err != nil {
				t.Fatal(err)
			}
			wantMsg := m.SentAt + " room " + itoa(r.ID) + " seq " + itoa(int64(i+1)) + ` user 3: "line one\nline two"`
			redistest.Eventually(t, "the message line", func() bool { return strings.Contains(tl.out.String(), wantMsg) })
			tl.stop(t)
			lines := strings.Split(strings.TrimSpace(tl.out.String()), "\n")
			wantEvent := "2026-01-01T00:00:00.000Z room " + itoa(r.ID) + " ENTER user 3"
			want := []string{wantMsg}
			if withEvents {
				want = []string{wantEvent, wantMsg}
			}
			if strings.Join(lines, "|") != strings.Join(want, "|") {
				t.Fatalf("output\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
		})
	}
	t.Run("without room", func(t *testing.T) {
		if _, _, err := run(t, e.vars, "tail"); !errors.Is(err, ctl.ErrUsage) {
			t.Fatalf("err %v, want a usage error", err)
		}
	})
}

func TestHealthcheck(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "draining", http.StatusServiceUnavailable) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(4 * time.Second):
		}
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()
	closed := httptest.NewServer(mux)
	closed.Close()
	cases := []struct {
		name    string
		args    []string
		wantErr error
	}{
		{"200", []string{hs.URL + "/ok"}, nil},
		{"503", []string{hs.URL + "/down"}, ctl.ErrUnhealthy},
		{"redirect is not healthy", []string{hs.URL + "/moved"}, ctl.ErrUnhealthy},
		{"slower than 2s", []string{hs.URL + "/slow"}, ctl.ErrUnhealthy},
		{"nobody listening", []string{closed.URL + "/ok"}, ctl.ErrUnhealthy},
		// Docker reserves exit 2 (a usage error): these are unhealthy too.
		{"no URL", nil, ctl.ErrUnhealthy},
		{"two URLs", []string{hs.URL, hs.URL}, ctl.ErrUnhealthy},
		{"not http", []string{"localhost:8080/healthz"}, ctl.ErrUnhealthy},
		{"unknown flag", []string{"-x", hs.URL}, ctl.ErrUnhealthy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			out, errOut, err := run(t, nil, append([]string{"healthcheck"}, c.args...)...)
			if !errors.Is(err, c.wantErr) || errors.Is(err, ctl.ErrUsage) || out != "" {
				t.Fatalf("err %v, stdout %q, stderr %q; want %v", err, out, errOut, c.wantErr)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

func TestTokenKeys(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "pub.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("rotation signs with the current secret", func(t *testing.T) {
		out, errOut, err := run(t, map[string]string{"JWT_SECRET": "new", "JWT_PREVIOUS_SECRET": "old", "JWT_PUBLIC_KEY_FILE": keyFile}, "token", "-user", "8")
		if err != nil {
			t.Fatalf("%v: %s", err, errOut)
		}
		for secret, valid := range map[string]bool{"new": true, "old": false} {
			v, err := auth.NewVerifier(auth.Config{Secret: []byte(secret)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(strings.TrimSpace(out)); (err == nil) != valid {
				t.Fatalf("verify with %q: %v", secret, err)
			}
		}
	})
	for name, vars := range map[string]map[string]string{
		"public key file only":        {"JWT_PUBLIC_KEY_FILE": keyFile},
		"JWKS only":                   {"JWT_JWKS_URL": "https://issuer.example/jwks.json"},
		"public key file in dev mode": {"JWT_PUBLIC_KEY_FILE": keyFile, "DEV_MODE": "1"},
	} {
		t.Run("refused with "+name, func(t *testing.T) {
			out, _, err := run(t, vars, "token", "-user", "8")
			if !errors.Is(err, ctl.ErrNoSecret) || out != "" {
				t.Fatalf("err %v, stdout %q; want ErrNoSecret", err, out)
			}
		})
	}
}

func TestRedisCommandsIgnoreTokenSettings(t *testing.T) {
	e := newEnv(t)
	e.vars["JWT_PUBLIC_KEY_FILE"] = "/nonexistent/pub.pem"
	e.vars["JWT_PREVIOUS_SECRET"] = "old"
	if _, errOut, err := run(t, e.vars, "sessions", "-user", "8"); err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
}

func TestTailFormat(t *testing.T) {
	cases := []struct{ name, payload, want string }{
		{"message", `{"id":"2-17","chatRoomId":2,"seq":17,"sendId":8,"rcvId":3,"message":"hi","sentAt":"2026-11-26T16:10:46.579Z"}`,
			"2026-11-26T16:10:46.579Z room 2 seq 17 user 8 → 3: hi"},
		{"edited message", `{"id":"2-1","chatRoomId":2,"seq":1,"sendId":8,"message":"fixed","sentAt":"t0","editedAt":"t1"}`,
			"t0 room 2 seq 1 user 8: fixed (edited t1)"},
		{"leave", `{"type":"LEAVE","chatRoomId":2,"userId":8,"at":"t2","reason":"closed"}`,
			"t2 room 2 LEAVE user 8 reason=closed"},
		{"read", `{"type":"READ","chatRoomId":2,"userId":8,"seq":17,"at":"t3"}`,
			"t3 room 2 READ user 8 seq=17"},
		{"edit event with a nested message", `{"type":"MESSAGE_EDITED","chatRoomId":2,"userId":8,"seq":1,"at":"t4","message":{"id":"2-1", "seq":1}}`,
			`t4 room 2 MESSAGE_EDITED user 8 message={"id":"2-1","seq":1} seq=1`},
		{"not JSON", `hello`, "chan hello"},
		{"JSON of another shape", `{"x":1}`, `chan {"x":1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ctl.FormatPayload("chan", c.payload); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
