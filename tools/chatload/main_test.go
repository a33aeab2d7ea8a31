package main

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/infra/config"
	"github.com/roomwire/roomwire/tools/chatload/load"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		wantErr string
		check   func(t *testing.T, o *options)
	}{
		{name: "conns derive rooms", args: "-conns 2000 -room-size 2 -rate 1",
			check: func(t *testing.T, o *options) {
				if o.cfg.Rooms != 1000 || o.seed != "api" {
					t.Fatalf("rooms %d seed %q", o.cfg.Rooms, o.seed)
				}
			}},
		{name: "phases and redis seeding", args: "-rooms 1 -room-size 1000 -publishers 10 -total-rate 50,100 -redis redis://127.0.0.1:6390/0",
			check: func(t *testing.T, o *options) {
				if len(o.cfg.TotalRates) != 2 || o.cfg.TotalRates[1] != 100 || o.seed != "redis" {
					t.Fatalf("%+v", o.cfg.TotalRates)
				}
			}},
		{name: "idle", args: "-conns 10 -idle -server-pids 1,2 -redis-pid 3",
			check: func(t *testing.T, o *options) {
				if !o.cfg.Idle() || len(o.cfg.ServerPIDs) != 2 || o.cfg.RedisPIDs[0] != 3 {
					t.Fatalf("%+v", o.cfg)
				}
			}},
		{name: "heartbeat 0 means none", args: "-conns 10 -idle -heartbeat 0",
			check: func(t *testing.T, o *options) {
				if o.cfg.HeartBeat >= 0 {
					t.Fatalf("heart-beat %s, want negative (none)", o.cfg.HeartBeat)
				}
			}},
		{name: "chatload's own shape by default", args: "-conns 10 -rate 1",
			check: func(t *testing.T, o *options) {
				if o.cfg.HeartBeat != 10*time.Second || o.cfg.Schedule != load.ScheduleEven || o.cfg.Send != (load.SendShape{}) {
					t.Fatalf("heart-beat %s schedule %q send %+v", o.cfg.HeartBeat, o.cfg.Schedule, o.cfg.Send)
				}
			}},
		{name: "each option alone", args: "-conns 10 -rate 1 -send-receipts -schedule random -content-type application/json -body marker",
			check: func(t *testing.T, o *options) {
				want := load.SendShape{ContentType: "application/json", Receipt: true, Marker: true}
				if o.cfg.Schedule != load.ScheduleRandom || o.cfg.Send != want || o.cfg.HeartBeat != 10*time.Second {
					t.Fatalf("schedule %q send %+v heart-beat %s", o.cfg.Schedule, o.cfg.Send, o.cfg.HeartBeat)
				}
			}},
		{name: "independent preset", args: "-conns 10 -rate 1 -independent",
			check: func(t *testing.T, o *options) {
				want := load.SendShape{ContentType: "application/json", Marker: true}
				if o.cfg.Schedule != load.ScheduleRandom || o.cfg.Send != want || o.cfg.HeartBeat >= 0 {
					t.Fatalf("schedule %q send %+v heart-beat %s", o.cfg.Schedule, o.cfg.Send, o.cfg.HeartBeat)
				}
			}},
		{name: "flags given win over the preset", args: "-heartbeat 5s -conns 10 -rate 1 -independent -schedule even",
			check: func(t *testing.T, o *options) {
				if o.cfg.Schedule != load.ScheduleEven || o.cfg.HeartBeat != 5*time.Second || !o.cfg.Send.Marker {
					t.Fatalf("schedule %q heart-beat %s send %+v", o.cfg.Schedule, o.cfg.HeartBeat, o.cfg.Send)
				}
			}},
		{name: "slow readers", args: "-conns 10 -rate 1 -slow-readers 3 -read-delay 20ms -rcvbuf 8192",
			check: func(t *testing.T, o *options) {
				if o.cfg.SlowReaders != 3 || o.cfg.ReadDelay != 20*time.Millisecond || o.cfg.RcvBuf != 8192 {
					t.Fatalf("slow readers %d read delay %s rcvbuf %d", o.cfg.SlowReaders, o.cfg.ReadDelay, o.cfg.RcvBuf)
				}
			}},
		{name: "no slow readers by default", args: "-conns 10 -rate 1",
			check: func(t *testing.T, o *options) {
				if o.cfg.SlowReaders != 0 || o.cfg.ReadDelay != 0 || o.cfg.RcvBuf != 0 {
					t.Fatalf("slow readers %d read delay %s rcvbuf %d", o.cfg.SlowReaders, o.cfg.ReadDelay, o.cfg.RcvBuf)
				}
			}},
		{name: "bad body", args: "-conns 10 -rate 1 -body json", wantErr: "-body must be"},
		{name: "bad schedule", args: "-conns 10 -rate 1 -schedule bunched", wantErr: "-schedule must be"},
		{name: "rate or idle needed", args: "-conns 10", wantErr: "give -rate"},
		{name: "idle takes no rate", args: "-conns 10 -idle -rate 1", wantErr: "-idle does not take"},
		{name: "conns fit rooms", args: "-conns 11 -room-size 2 -rate 1", wantErr: "not a multiple"},
		{name: "conns and rooms agree", args: "-conns 10 -rooms 3 -rate 1", wantErr: "!= -rooms"},
		{name: "bad pid", args: "-conns 10 -idle -server-pids x", wantErr: "bad PID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(strings.Fields(tt.args), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestRefusesRemoteTargets(t *testing.T) {
	for _, args := range []string{
		"-conns 2 -idle -jwt-secret s -redis redis://10.1.2.3:6379/0",
		"-conns 2 -idle -jwt-secret s -redis redis+cluster://127.0.0.1:7000,10.1.2.3:7001",
		"-conns 2 -idle -jwt-secret s -redis redis+sentinel://127.0.0.1:26379,10.1.2.3:26379/mymaster",
		"-conns 2 -idle -jwt-secret s -api http://example.com",
		"-conns 2 -idle -jwt-secret s -api http://127.0.0.1:1 -ws ws://192.0.2.7/ws",
	} {
		err := run(context.Background(), strings.Fields(args), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%s: err = %v, want a loopback refusal", args, err)
		}
	}
}

// TestRedisClient: -redis takes the services' URL forms, a cluster URL
// gives a cluster client of every seed, and the pool defaults to 32.
func TestRedisClient(t *testing.T) {
	for _, tc := range []struct {
		url       string
		wantAddrs []string
		wantPool  int
	}{
		{"redis://127.0.0.1:6390/0", []string{"127.0.0.1:6390"}, 32},
		{"redis://localhost:6390/0?pool_size=4", []string{"localhost:6390"}, 4},
		{"redis+cluster://127.0.0.1:7000,[::1]:7001", []string{"127.0.0.1:7000", "[::1]:7001"}, 32},
		{"redis+cluster://127.0.0.1:7000?pool_size=5", []string{"127.0.0.1:7000"}, 5},
		{"redis+sentinel://127.0.0.1:26379,[::1]:26380/mymaster", []string{"127.0.0.1:26379", "[::1]:26380"}, 32},
	} {
		t.Run(tc.url, func(t *testing.T) {
			o := &options{redisURL: tc.url}
			rdb, err := o.redisClient()
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			var addrs []string
			var pool int
			switch c := rdb.(type) {
			case *redis.Client:
				addrs, pool = []string{c.Options().Addr}, c.Options().PoolSize
				if strings.Contains(tc.url, "+sentinel") && c.Options().Addr == "FailoverClient" {
					addrs, _ = config.Common{RedisURL: tc.url}.RedisAddrs()
				}
			case *redis.ClusterClient:
				addrs, pool = c.Options().Addrs, c.Options().PoolSize
			}
			if _, cluster := rdb.(*redis.ClusterClient); cluster != strings.Contains(tc.url, "+cluster") {
				t.Errorf("client %T", rdb)
			}
			if !slices.Equal(addrs, tc.wantAddrs) || pool != tc.wantPool {
				t.Errorf("addrs %v pool %d, want %v pool %d", addrs, pool, tc.wantAddrs, tc.wantPool)
			}
		})
	}
}
