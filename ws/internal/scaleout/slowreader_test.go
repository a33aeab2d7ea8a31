package scaleout_test

import (
	"testing"
	"time"

	"github.com/roomwire/roomwire/shared/chat/room"
	"github.com/roomwire/roomwire/shared/infra/auth"
	"github.com/roomwire/roomwire/shared/redis/keys"
	"github.com/roomwire/roomwire/shared/testsupport/redistest"
	"github.com/roomwire/roomwire/tools/chatload/load"
	"github.com/roomwire/roomwire/ws/internal/gateway"
	"github.com/roomwire/roomwire/ws/internal/wsnode"
	"github.com/roomwire/roomwire/ws/internal/wsnode/wsnodetest"
)

// TestSlowReadersLoseNothing is the room on a small scale: 400
// msg/s into one group while two members read far slower than that (the
// load tool's -slow-readers, -read-delay and a small -rcvbuf) through a
// small outbound queue. They fall seconds behind, past what the queue
// holds, and still get every message once and in order, late: the node
// catches them up from history instead of cutting them.
func TestSlowReadersLoseNothing(t *testing.T) {
	rdb := srv.Client(t)
	ks := keys.MustNew(redistest.Prefix(t))
	verifier, err := auth.NewVerifier(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	n := wsnodetest.Start(t, rdb, ks, verifier, wsnode.Config{ID: "slow-" + ks.Prefix(),
		Gateway: gateway.Config{QueueFrames: 32, QueueBytes: 128 << 10}})
	rooms := room.NewStore(rdb, ks, room.Config{})
	// 4.8 MB in 3 s, into a queue of 32 frames; a slow reader reads one
	// WebSocket message (one or more coalesced frames) per 20 ms. Before
	// the catch-up, both were cut as slow consumers (12 % lost).
	res := runClean(t, load.Config{
		Name: "slow readers", WS: []string{n.WS}, Rooms: 1, RoomSize: 10, Publishers: 4,
		UserBase: 900_000, Rates: []float64{100}, Duration: 3 * time.Second, Payload: 4000,
		Drain: 30 * time.Second, Settle: time.Millisecond, Secret: secret,
		Seed: load.RoomStoreSeeder{Rooms: rooms}, ConnectParallel: 8,
		SlowReaders: 2, ReadDelay: 20 * time.Millisecond, RcvBuf: 4096,
	})
	if st := n.Gateway.Stats(); st.SlowConsumers != 0 || st.CatchUps == 0 {
		t.Fatalf("slow consumers cut %d, catch-ups %d: want none cut and some caught up", st.SlowConsumers, st.CatchUps)
	}
	t.Logf("%s", res[0].Summary())
	if res[0].LatMaxMs < 1000 {
		t.Fatalf("max latency %.0f ms: the slow readers never fell behind", res[0].LatMaxMs)
	}
}
