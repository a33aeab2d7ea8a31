package load_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/auth"
	"github.com/roomwire/roomwire/shared/fanout"
	"github.com/roomwire/roomwire/shared/keys"
	"github.com/roomwire/roomwire/shared/messages"
	"github.com/roomwire/roomwire/shared/redistest"
	"github.com/roomwire/roomwire/shared/registry"
	"github.com/roomwire/roomwire/shared/room"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/load"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

var secret = []byte("load-test-secret")

// node starts one in-process ws node (gateway + hub) on a private key
// space and returns its ws:// URL and the room store.
func node(t *testing.T) (string, *room.Store) {
	t.Helper()
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	return nodeOn(t, rdb, ks, "load-"+ks.Prefix()), room.NewStore(rdb, ks, room.Config{})
}

// nodeOn starts one in-process ws node named id on rdb and key space ks
// (nodes on the same ones are one deployment) and returns its ws:// URL.
// Its hub closes seq gaps from history, as cmd/ws's does.
func nodeOn(t *testing.T, rdb redis.UniversalClient, ks keys.Space, id string) string {
	t.Helper()
	rooms := room.NewStore(rdb, ks, room.Config{})
	msgs := messages.NewStore(rdb, ks, messages.Config{})
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := fanout.New(rdb, fanout.Config{Logger: log, Backfill: msgs.ByChannel()})
	gw := gateway.New(gateway.Config{NodeID: id, Logger: log}, gateway.Deps{
		Keys: ks, Verifier: verifier, Members: rooms, Sender: msgs, History: msgs,
		Sessions: registry.New(rdb, ks), Hub: hub})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = hub.Run(ctx) }()
	hs := httptest.NewServer(gw)
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = gw.Shutdown(sctx)
		hs.Close()
		cancel()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
}

func TestRunDeliversEverythingInDirectAndGroupRooms(t *testing.T) {
	url, rooms := node(t)
	tests := []struct {
		name             string
		rooms, size, pub int
	}{
		{"direct rooms", 10, 2, 2},
		{"one group", 1, 25, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := load.New(load.Config{
				Name: tt.name, WS: []string{url}, Rooms: tt.rooms, RoomSize: tt.size, Publishers: tt.pub,
				UserBase: int64(1000 * tt.size), Rates: []float64{20, 40}, Duration: 300 * time.Millisecond,
				Drain: 3 * time.Second, Settle: time.Millisecond, Secret: secret,
				Seed: load.RoomStoreSeeder{Rooms: rooms}, ConnectParallel: 8,
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 2 {
				t.Fatalf("%d results, want one per phase", len(res))
			}
			for _, p := range res {
				if p.Connected != tt.rooms*tt.size || p.Subscribed != p.Connected {
					t.Fatalf("phase %d: connected %d, subscribed %d of %d: %v", p.Phase, p.Connected, p.Subscribed, tt.rooms*tt.size, p.FirstErrors)
				}
				if p.Sent == 0 || p.Expected != p.Sent*uint64(tt.size) {
					t.Fatalf("phase %d: sent %d expected %d: every message is due to every member, the sender too", p.Phase, p.Sent, p.Expected)
				}
				if p.Received != p.Expected || p.Lost != 0 || p.Duplicates != 0 || p.Gaps != 0 || p.Late != 0 || p.Errors != 0 {
					t.Fatalf("phase %d: %s", p.Phase, p.Summary())
				}
				if p.LatP99Ms <= 0 || p.LatMaxMs < p.LatP99Ms {
					t.Fatalf("phase %d: latency p99 %v max %v", p.Phase, p.LatP99Ms, p.LatMaxMs)
				}
			}
		})
	}
}

func TestIdleRunHoldsConnections(t *testing.T) {
	url, rooms := node(t)
	r, err := load.New(load.Config{
		Name: "idle", WS: []string{url}, Rooms: 20, RoomSize: 2, UserBase: 50000,
		Duration: 200 * time.Millisecond, Settle: time.Millisecond, Secret: secret,
		Seed: load.RoomStoreSeeder{Rooms: rooms}, HeartBeat: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Mode != "idle" || res[0].Connected != 40 || res[0].Errors != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestRunReportsRefusedConnections(t *testing.T) {
	url, rooms := node(t)
	r, err := load.New(load.Config{
		Name: "bad secret", WS: []string{url}, Rooms: 2, RoomSize: 2, UserBase: 60000,
		Duration: 10 * time.Millisecond, Settle: time.Millisecond, Secret: []byte("wrong"),
		Seed: load.RoomStoreSeeder{Rooms: rooms},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("err = %v, want the server's refusal", err)
	}
}

func TestAPISeederPostsTheSeedRequests(t *testing.T) {
	var mu sync.Mutex
	var got []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := auth.BearerToken(r.Header.Get("Authorization"))
		v, _ := auth.NewVerifier(auth.Config{Secret: secret})
		id, err := v.Verify(tok)
		if err != nil || r.URL.Path != "/api/v1/chat-rooms" || r.Method != http.MethodPost {
			http.Error(w, "bad", http.StatusUnauthorized)
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		b, _ := json.Marshal(body)
		mu.Lock()
		got = append(got, string(b)+" by "+strconv.FormatInt(id.UserID, 10))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":42,"type":"direct"}`))
	}))
	defer api.Close()
	s := &load.APISeeder{BaseURL: api.URL, Secret: secret}
	id, err := s.CreateRoom(context.Background(), []int64{8, 3}, true, "")
	if err != nil || id != 42 {
		t.Fatalf("direct: %d, %v", id, err)
	}
	if _, err := s.CreateRoom(context.Background(), []int64{5, 6, 7}, false, "team"); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"memberIds":[3],"type":"direct"} by 8`, `{"memberIds":[6,7],"name":"team","type":"group"} by 5`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
