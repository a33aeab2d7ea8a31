package scaleout_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/tools/chatload/load"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
	"github.com/roomwire/roomwire/ws/internal/wsnode/wsnodetest"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

var secret = []byte("load-test-secret")

// node starts one in-process ws node on a private key space and returns
// its ws:// URL and the room store.
func node(t *testing.T) (string, *room.Store) {
	t.Helper()
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	return nodeOn(t, rdb, ks, "load-"+ks.Prefix()), room.NewStore(rdb, ks, room.Config{})
}

// nodeOn starts one in-process ws node named id, assembled as cmd/ws
// assembles it, on rdb and key space ks (nodes on the same ones are one
// deployment) and returns its ws:// URL.
func nodeOn(t *testing.T, rdb redis.UniversalClient, ks keys.Space, id string) string {
	t.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	// The load clients all dial from 127.0.0.1: the per-address connect
	// limit (50 at once, 10/s) is lifted, as make bench does, or the
	// subtests of one node together run into it.
	return wsnodetest.Start(t, rdb, ks, verifier, wsnode.Config{ID: id, Gateway: gateway.Config{ConnectRate: -1}}).WS
}

// TestRunDeliversEverythingInDirectAndGroupRooms: on one node, and on three
// nodes of one deployment with each room's members spread over them.
func TestRunDeliversEverythingInDirectAndGroupRooms(t *testing.T) {
	tests := []struct {
		name             string
		rooms, size, pub int
	}{
		{"direct rooms", 10, 2, 2},
		{"one group", 1, 25, 3},
	}
	for _, n := range []int{1, 3} {
		urls, rooms := nodes(t, n)
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s on %d nodes", tt.name, n), func(t *testing.T) {
				res := runClean(t, load.Config{
					Name: tt.name, WS: urls, Rooms: tt.rooms, RoomSize: tt.size, Publishers: tt.pub,
					UserBase: int64(100_000*n + 1000*tt.size), Rates: []float64{20, 40}, Duration: 300 * time.Millisecond,
					Drain: 3 * time.Second, Settle: time.Millisecond, Secret: secret,
					Seed: load.RoomStoreSeeder{Rooms: rooms}, ConnectParallel: 8,
				})
				for _, p := range res {
					if p.LatP99Ms <= 0 || p.LatMaxMs < p.LatP99Ms {
						t.Fatalf("phase %d: latency p99 %v max %v", p.Phase, p.LatP99Ms, p.LatMaxMs)
					}
				}
			})
		}
	}
}

// TestRunAccountsEveryClientShape: each of the independent client's
// settings alone, and all of them together, still deliver everything once,
// with the stamp read back from the text; SEND receipts are counted.
func TestRunAccountsEveryClientShape(t *testing.T) {
	url, rooms := node(t)
	independent := load.SendShape{ContentType: "application/json", Marker: true}
	tests := []struct {
		name      string
		heartBeat time.Duration
		schedule  string
		send      load.SendShape
	}{
		{"no heart-beats", -1, "", load.SendShape{}},
		{"random phases", 0, load.ScheduleRandom, load.SendShape{}},
		{"content-type", 0, "", load.SendShape{ContentType: "application/json"}},
		{"marker text", 0, "", load.SendShape{Marker: true}},
		{"SEND receipts", 0, "", load.SendShape{Receipt: true}},
		{"independent client", -1, load.ScheduleRandom, independent},
		{"independent client with receipts", -1, load.ScheduleRandom, load.SendShape{ContentType: "application/json", Marker: true, Receipt: true}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runClean(t, load.Config{
				Name: tt.name, WS: []string{url}, Rooms: 5, RoomSize: 2, Publishers: 2,
				UserBase: int64(70_000 + 100*i), Rates: []float64{20}, Duration: 300 * time.Millisecond,
				Drain: 3 * time.Second, Settle: time.Millisecond, Secret: secret, Payload: 100,
				Seed: load.RoomStoreSeeder{Rooms: rooms}, ConnectParallel: 8,
				HeartBeat: tt.heartBeat, Schedule: tt.schedule, Send: tt.send,
			})
			want := uint64(0)
			if tt.send.Receipt {
				want = res[0].Sent
			}
			if got := res[0].SendReceipts; got != want {
				t.Fatalf("%d SEND receipts, want %d", got, want)
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
