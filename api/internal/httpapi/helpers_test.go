package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/api/internal/httpapi"
	"github.com/roomwire/roomwire/shared/chat/messages"
	"github.com/roomwire/roomwire/shared/chat/notify"
	"github.com/roomwire/roomwire/shared/chat/readstate"
	"github.com/roomwire/roomwire/shared/chat/registry"
	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/events"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/authtest"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
)

var srv *redistest.Server

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	// TestHealth dials a closed port on purpose; go-redis would log every
	// failed dial of it.
	redis.SetLogger(quietRedis{})
	redistest.Main(m, &srv)
}

// quietRedis drops go-redis' internal log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// testSecret signs the tokens of every test.
var testSecret = []byte("httpapi-test-secret")

// maxMessage is the message size limit of the test API.
const maxMessage = 100

// env is one API under test: the real gin engine behind an httptest.Server,
// on the package's private Redis under a fresh key prefix.
type env struct {
	url   string
	rdb   *redis.Client
	ks    keys.Space
	rooms *room.Store
	msgs  *messages.Store
	reg   *registry.Registry
	logs  *authtest.LogBuffer // everything the API logs, at debug level
	// handler is the API itself, without the spec check in front.
	handler http.Handler
}

// newEnv starts an API. change, when given, edits the config and deps
// before the API is built.
func newEnv(t testing.TB, change ...func(*httpapi.Config, *httpapi.Deps)) *env {
	t.Helper()
	return newEnvStores(t, envStores{}, change...)
}

// envStores edits the configs of an env's room and message stores before
// they are built (the archive feed and reader, the history length); nil
// fields change nothing.
type envStores struct {
	rooms    func(*room.Config)
	messages func(*messages.Config)
}

// newEnvStores is newEnv with store configs edited by stores.
func newEnvStores(t testing.TB, stores envStores, change ...func(*httpapi.Config, *httpapi.Deps)) *env {
	t.Helper()
	rdb := srv.Client(t)
	ks := redistest.Space(t)
	pub := events.NewPublisher(rdb, ks)
	verifier, err := auth.NewVerifier(auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	notes := notify.New(rdb, ks, pub, notify.Config{Logger: slog.New(slog.DiscardHandler)})
	rcfg := room.Config{}
	mcfg := messages.Config{MaxBytes: maxMessage, Observer: notes}
	if stores.rooms != nil {
		stores.rooms(&rcfg)
	}
	if stores.messages != nil {
		stores.messages(&mcfg)
	}
	e := &env{rdb: rdb, ks: ks, rooms: room.NewStore(rdb, ks, rcfg),
		msgs: messages.NewStore(rdb, ks, mcfg), reg: registry.New(rdb, ks)}
	// The API logs at debug level into e.logs; when the test ends the
	// capture must hold no token. The per-user and per-address rate limits
	// are off unless a test sets them.
	e.logs = &authtest.LogBuffer{}
	t.Cleanup(func() { authtest.AssertNoSecrets(t, "API", e.logs.String(), testSecret) })
	cfg := httpapi.Config{Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RatePerUser: -1, RatePerIP: -1, RoomCreatesPerMinute: -1, MemberAddsPerMinute: -1}
	hub := fanout.New(rdb, fanout.Config{Logger: slog.New(slog.DiscardHandler)})
	hctx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = hub.Run(hctx) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	deps := httpapi.Deps{Rooms: e.rooms, Messages: e.msgs, Sessions: e.reg, Events: pub, Tokens: verifier,
		Ping:     func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		Notifier: hub, RoomChannel: ks.RoomMessages,
		Reads: readstate.NewStore(rdb, ks, readstate.Config{Observer: notes}), Edits: e.msgs, Presence: e.reg, Notes: notes}
	for _, f := range change {
		f(&cfg, &deps)
	}
	h, err := httpapi.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	// Every request and response is validated against api/openapi.yaml
	// (openapi_test.go); mismatches are reported once the server stopped.
	checked, report := withSpecCheck(t, h)
	t.Cleanup(report)
	ts := httptest.NewServer(checked)
	t.Cleanup(ts.Close)
	e.url = ts.URL
	return e
}

// token mints a valid token for user.
func token(t testing.TB, user int64) string {
	t.Helper()
	tok, err := auth.Mint(testSecret, user, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// resp is a buffered response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// request sends method path as user (no Authorization when user is 0).
// body is sent as is when it is a string, JSON-encoded otherwise, and not
// at all when nil.
func (e *env) request(t testing.TB, method, path string, user int64, body any) resp {
	t.Helper()
	req := newRequest(t, method, e.url+path, body)
	if user != 0 {
		req.Header.Set("Authorization", "Bearer "+token(t, user))
	}
	return send(t, req)
}

func newRequest(t testing.TB, method, url string, body any) *http.Request {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func send(t testing.TB, req *http.Request) resp {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// want checks the status and decodes a JSON body into v (when not nil).
func (r resp) want(t testing.TB, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// problem is the RFC 9457 body every error has.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// wantProblem checks that r is a problem+json with status, and that its
// detail contains detail.
func (r resp) wantProblem(t testing.TB, status int, detail string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", r.body, err)
	}
	if p.Type != "about:blank" || p.Status != status || p.Title != http.StatusText(status) {
		t.Fatalf("problem %+v does not match status %d", p, status)
	}
	if !strings.Contains(p.Detail, detail) {
		t.Fatalf("detail %q, want it to contain %q", p.Detail, detail)
	}
}

// createDirect makes the direct room of a and b and returns its id.
func (e *env) createDirect(t testing.TB, a, b int64) int64 {
	t.Helper()
	var r room.Room
	res := e.request(t, "POST", "/api/v1/chat-rooms", a, map[string]any{"type": "direct", "memberIds": []int64{b}})
	if res.status != http.StatusCreated && res.status != http.StatusOK {
		t.Fatalf("create direct room: status %d: %s", res.status, res.body)
	}
	res.want(t, res.status, &r)
	return r.ID
}

// createGroup makes a group of by and members and returns its id.
func (e *env) createGroup(t testing.TB, by int64, name string, members ...int64) int64 {
	t.Helper()
	var r room.Room
	e.request(t, "POST", "/api/v1/chat-rooms", by,
		map[string]any{"type": "group", "name": name, "memberIds": members}).want(t, http.StatusCreated, &r)
	return r.ID
}
