package load_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/fanout"
	"github.com/roomwire/roomwire/shared/keys"
	"github.com/roomwire/roomwire/shared/redistest"
	"github.com/roomwire/roomwire/shared/room"
	"github.com/roomwire/roomwire/ws/internal/load"
)

// The scale-out and delivery tests that need load: chatload's runner
// against several in-process ws nodes of one deployment (one Redis, one key
// space), with faults injected while messages flow. Every message must
// reach every member of its room, the sender included, exactly once and in
// order (chatload checks each subscriber's seqs), whichever node each
// member is connected to: connection i goes to node i mod n, so the
// members of a room are spread over the nodes.

// nodes starts n nodes of one deployment and returns their URLs and the
// deployment's room store.
func nodes(t *testing.T, n int) ([]string, *room.Store) {
	t.Helper()
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	urls := make([]string, n)
	for i := range urls {
		urls[i] = nodeOn(t, rdb, ks, ks.Prefix()+"-node-"+string(rune('a'+i)))
	}
	return urls, room.NewStore(rdb, ks, room.Config{})
}

// runClean runs cfg and fails t unless every phase delivered everything it
// sent, once, in order, within the drain time, to connections that stayed.
func runClean(t *testing.T, cfg load.Config) []load.Result {
	t.Helper()
	r, err := load.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(cfg.Rates) {
		t.Fatalf("%d results, want one per phase", len(res))
	}
	conns := cfg.Rooms * cfg.RoomSize
	for _, p := range res {
		if p.Connected != conns || p.Subscribed != conns {
			t.Fatalf("phase %d: connected %d, subscribed %d of %d: %v", p.Phase, p.Connected, p.Subscribed, conns, p.FirstErrors)
		}
		if p.Sent == 0 || p.SendFailed != 0 || p.Expected != p.Sent*uint64(cfg.RoomSize) {
			t.Fatalf("phase %d: sent %d (failed %d), expected %d", p.Phase, p.Sent, p.SendFailed, p.Expected)
		}
		if p.Received != p.Expected || p.Lost != 0 || p.Duplicates != 0 || p.Gaps != 0 || p.Late != 0 ||
			p.Disconnected != 0 || p.Errors != 0 {
			t.Fatalf("phase %d: %s; errors %v", p.Phase, p.Summary(), p.FirstErrors)
		}
	}
	return res
}

func TestLoadAcrossNodesLosesNothing(t *testing.T) {
	urls, rooms := nodes(t, 3)
	tests := []struct {
		name             string
		rooms, size, pub int
	}{
		{"direct rooms", 15, 2, 2},
		{"one group", 1, 30, 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runClean(t, load.Config{
				Name: tt.name, WS: urls, Rooms: tt.rooms, RoomSize: tt.size, Publishers: tt.pub,
				UserBase: int64(100_000 * (i + 1)), Rates: []float64{20, 50}, Duration: 400 * time.Millisecond,
				Drain: 3 * time.Second, Settle: time.Millisecond, Secret: secret,
				Seed: load.RoomStoreSeeder{Rooms: rooms}, ConnectParallel: 8,
			})
		})
	}
}

// TestLoadSurvivesDroppedPubSubConnections: Redis drops every pub/sub
// connection (CLIENT KILL TYPE pubsub) every 20 ms while two nodes carry a
// busy group. go-redis reconnects and resubscribes at once, but what is
// published in between reaches no node; each hub then reads it from
// history, so its subscribers see every message once and in order.
// (Without the history read, dozens of messages are lost in every run.)
func TestLoadSurvivesDroppedPubSubConnections(t *testing.T) {
	urls, rooms := nodes(t, 2)
	admin := srv.Client(t)
	const window = 1500 * time.Millisecond
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		killed []int64
	)
	kill := func(int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := time.Now().Add(window - 200*time.Millisecond)
			for time.Now().Before(end) {
				time.Sleep(20 * time.Millisecond)
				n, err := admin.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Result()
				if err != nil {
					t.Errorf("CLIENT KILL TYPE pubsub: %v", err)
					return
				}
				mu.Lock()
				killed = append(killed, n)
				mu.Unlock()
			}
		}()
	}
	runClean(t, load.Config{
		Name: "pubsub kills", WS: urls, Rooms: 1, RoomSize: 20, Publishers: 4, UserBase: 300_000,
		Rates: []float64{25}, Duration: window, Drain: 5 * time.Second, Settle: time.Millisecond,
		Secret: secret, Seed: load.RoomStoreSeeder{Rooms: rooms}, ConnectParallel: 8, PhaseStart: kill,
	})
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	dropped := 0
	for _, n := range killed {
		if n > 0 {
			dropped++
		}
	}
	if dropped < 20 {
		t.Fatalf("pub/sub connections were dropped %d times (%v): the fault did not happen", dropped, killed)
	}
}

// TestLoadThroughClusterFailover: two nodes on a Redis Cluster (a master
// and its replica) carry a busy group while the replica takes over
// (CLUSTER FAILOVER, the coordinated kind an operator runs before
// maintenance). Sends follow the slots to the new master; each hub moves
// the room's sharded subscription there and reads what it missed from
// history: every message arrives once and in order, and no send fails.
func TestLoadThroughClusterFailover(t *testing.T) {
	c, err := redistest.StartCluster(redistest.ClusterOptions{Masters: 1, ReplicasPerMaster: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // after the nodes' cleanups, which run first
	rdb := c.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	urls := []string{nodeOn(t, rdb, ks, "cluster-a"), nodeOn(t, rdb, ks, "cluster-b")}
	oldMaster := c.Masters[0]
	var wg sync.WaitGroup
	var ferr error
	failover := func(int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(500 * time.Millisecond)
			ferr = c.Failover(context.Background(), c.Replicas[0])
		}()
	}
	runClean(t, load.Config{
		Name: "failover", WS: urls, Rooms: 1, RoomSize: 20, Publishers: 4, UserBase: 400_000,
		Rates: []float64{25}, Duration: 2 * time.Second, Drain: 5 * time.Second, Settle: time.Millisecond,
		Secret: secret, Seed: load.RoomStoreSeeder{Rooms: room.NewStore(rdb, ks, room.Config{})},
		ConnectParallel: 8, PhaseStart: failover,
	})
	wg.Wait()
	if ferr != nil {
		t.Fatalf("failover: %v", ferr)
	}
	if c.Masters[0] == oldMaster {
		t.Fatal("the old master still serves the slots: the fault did not happen")
	}
}

// TestLoadThroughSlotMigration: two nodes on a three-master cluster carry
// a busy group while its hash slot (every key and channel of the room)
// migrates to another master, as redis-cli --cluster reshard does it.
// Sends ride MOVED, ASK and TRYAGAIN; each hub follows the channel to its
// new master: every message arrives once and in order, and no send fails.
func TestLoadThroughSlotMigration(t *testing.T) {
	c, err := redistest.StartCluster(redistest.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	rdb := c.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	urls := []string{nodeOn(t, rdb, ks, "reshard-a"), nodeOn(t, rdb, ks, "reshard-b")}
	ctx := context.Background()
	var (
		wg       sync.WaitGroup
		merr     error
		src, dst *redistest.Server
	)
	migrate := func(int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(500 * time.Millisecond)
			id, err := rdb.Get(ctx, ks.RoomIDs()).Int64() // the run's only room
			if err != nil {
				merr = err
				return
			}
			key := ks.RoomMessages(id)
			if src, merr = c.MasterOf(ctx, key); merr != nil {
				return
			}
			dst = c.Masters[0]
			if dst == src {
				dst = c.Masters[1]
			}
			merr = c.MoveSlot(ctx, fanout.Slot(key), src, dst)
		}()
	}
	runClean(t, load.Config{
		Name: "reshard", WS: urls, Rooms: 1, RoomSize: 20, Publishers: 4, UserBase: 500_000,
		Rates: []float64{25}, Duration: 2 * time.Second, Drain: 5 * time.Second, Settle: time.Millisecond,
		Secret: secret, Seed: load.RoomStoreSeeder{Rooms: room.NewStore(rdb, ks, room.Config{})},
		ConnectParallel: 8, PhaseStart: migrate,
	})
	wg.Wait()
	if merr != nil {
		t.Fatalf("slot migration: %v", merr)
	}
	id, _ := rdb.Get(ctx, ks.RoomIDs()).Int64()
	if now, err := c.MasterOf(ctx, ks.RoomMessages(id)); err != nil || now != dst {
		t.Fatalf("room %d on %v after the migration (err %v), want %s", id, now, err, dst.Addr)
	}
}
