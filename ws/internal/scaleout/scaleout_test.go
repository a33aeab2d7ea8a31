package scaleout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/redis/fanout"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/tools/chatload/load"
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

// busyGroup is the fault tests' load: one group of 20 spread over urls, 4
// publishers at 25 msg/s each (100 msg/s, 2,000 deliveries/s) for window,
// the fault started with the phase.
func busyGroup(name string, urls []string, rooms *room.Store, userBase int64, window time.Duration, fault func(int)) load.Config {
	return load.Config{
		Name: name, WS: urls, Rooms: 1, RoomSize: 20, Publishers: 4, UserBase: userBase,
		Rates: []float64{25}, Duration: window, Drain: 5 * time.Second, Settle: time.Millisecond,
		Secret: secret, Seed: load.RoomStoreSeeder{Rooms: rooms}, ConnectParallel: 8, PhaseStart: fault,
	}
}

// faultAfter returns a PhaseStart that runs f on its own goroutine d after
// the phase begins, and wait, which returns f's error once it is done.
func faultAfter(d time.Duration, f func() error) (start func(int), wait func() error) {
	var wg sync.WaitGroup
	var err error
	start = func(int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(d)
			err = f()
		}()
	}
	return start, func() error { wg.Wait(); return err }
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
	dropped := 0 // kills that found pub/sub connections; read after wait
	kill, wait := faultAfter(0, func() error {
		for end := time.Now().Add(window - 200*time.Millisecond); time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
			n, err := admin.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Result()
			if err != nil {
				return fmt.Errorf("CLIENT KILL TYPE pubsub: %w", err)
			}
			if n > 0 {
				dropped++
			}
		}
		return nil
	})
	runClean(t, busyGroup("pubsub kills", urls, rooms, 300_000, window, kill))
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if dropped < 20 {
		t.Fatalf("pub/sub connections were dropped %d times: the fault did not happen", dropped)
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
	failover, wait := faultAfter(500*time.Millisecond, func() error {
		return c.Failover(context.Background(), c.Replicas[0])
	})
	runClean(t, busyGroup("failover", urls, room.NewStore(rdb, ks, room.Config{}), 400_000, 2*time.Second, failover))
	if err := wait(); err != nil {
		t.Fatalf("failover: %v", err)
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
	var src, dst *redistest.Server
	migrate, wait := faultAfter(500*time.Millisecond, func() error {
		id, err := rdb.Get(ctx, ks.RoomIDs()).Int64() // the run's only room
		if err != nil {
			return err
		}
		key := ks.RoomMessages(id)
		if src, err = c.MasterOf(ctx, key); err != nil {
			return err
		}
		dst = c.Masters[0]
		if dst == src {
			dst = c.Masters[1]
		}
		return c.MoveSlot(ctx, fanout.Slot(key), src, dst)
	})
	runClean(t, busyGroup("reshard", urls, room.NewStore(rdb, ks, room.Config{}), 500_000, 2*time.Second, migrate))
	if err := wait(); err != nil {
		t.Fatalf("slot migration: %v", err)
	}
	id, _ := rdb.Get(ctx, ks.RoomIDs()).Int64()
	if now, err := c.MasterOf(ctx, ks.RoomMessages(id)); err != nil || now != dst {
		t.Fatalf("room %d on %v after the migration (err %v), want %s", id, now, err, dst.Addr)
	}
}
