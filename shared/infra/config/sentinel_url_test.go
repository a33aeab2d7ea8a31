package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestSentinelURL: the sentinel forms of REDIS_URL give the sentinels, the
// master name, the credentials of the master and of the sentinels, TLS and
// options asked for, and bad ones fail with the setting's name and without
// the password.
func TestSentinelURL(t *testing.T) {
	cases := []struct {
		name, url    string
		clusterAddrs []string
		want         redis.FailoverOptions
		wantTLS      bool
		wantErr      string
	}{
		{name: "sentinels and master", url: "redis+sentinel://127.0.0.1:26379,h2:26380/mymaster",
			want: redis.FailoverOptions{SentinelAddrs: []string{"127.0.0.1:26379", "h2:26380"}, MasterName: "mymaster"}},
		{name: "credentials, db and options", url: "redis+sentinel://chat:pw@a:1,b:2/chat-main?db=2&sentinel_password=spw&pool_size=7",
			want: redis.FailoverOptions{SentinelAddrs: []string{"a:1", "b:2"}, MasterName: "chat-main",
				Username: "chat", Password: "pw", SentinelPassword: "spw", DB: 2, PoolSize: 7}},
		{name: "sentinel user", url: "redis+sentinel://:pw@a:1/m?sentinel_username=su&sentinel_password=spw",
			want: redis.FailoverOptions{SentinelAddrs: []string{"a:1"}, MasterName: "m", Password: "pw",
				SentinelUsername: "su", SentinelPassword: "spw"}},
		{name: "tls", url: "rediss+sentinel://:pw@a:1/m", wantTLS: true,
			want: redis.FailoverOptions{SentinelAddrs: []string{"a:1"}, MasterName: "m", Password: "pw"}},
		{name: "no master name", url: "redis+sentinel://a:1", wantErr: "master name"},
		{name: "empty master name", url: "redis+sentinel://a:1/?db=0", wantErr: "master name"},
		{name: "no sentinels", url: "redis+sentinel:///m", wantErr: "at least one sentinel"},
		{name: "sentinel without port", url: "redis+sentinel://:pw@a:1,b/m", wantErr: `"b"`},
		{name: "master name in the query", url: "redis+sentinel://a:1/m?master_name=x", wantErr: "master_name"},
		{name: "unknown option", url: "redis+sentinel://:pw@a:1/m?bogus=1", wantErr: "REDIS_URL"},
		{name: "bad db", url: "redis+sentinel://:pw@a:1/m?db=x", wantErr: "REDIS_URL"},
		{name: "with cluster addrs", url: "redis+sentinel://a:1/m", clusterAddrs: []string{"x:1"}, wantErr: "REDIS_CLUSTER_ADDRS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Common{RedisURL: tc.url, RedisClusterAddrs: tc.clusterAddrs}
			if !c.RedisSentinel() {
				t.Fatal("RedisSentinel() = false")
			}
			opt, err := c.sentinelOptions()
			if verr := c.validateRedis(); (verr == nil) != (err == nil) {
				t.Fatalf("validateRedis() = %v, sentinelOptions() = %v", verr, err)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if !slices.Equal(opt.SentinelAddrs, w.SentinelAddrs) || opt.MasterName != w.MasterName ||
				opt.Username != w.Username || opt.Password != w.Password ||
				opt.SentinelUsername != w.SentinelUsername || opt.SentinelPassword != w.SentinelPassword ||
				opt.DB != w.DB || opt.PoolSize != w.PoolSize {
				t.Errorf("options = %+v, want %+v", *opt, w)
			}
			if addrs, err := c.RedisAddrs(); err != nil || !slices.Equal(addrs, w.SentinelAddrs) {
				t.Errorf("RedisAddrs() = %v, %v; want the sentinels", addrs, err)
			}
			if (opt.TLSConfig != nil) != tc.wantTLS {
				t.Errorf("TLS = %v, want %v", opt.TLSConfig != nil, tc.wantTLS)
			}
			if tc.wantTLS && opt.TLSConfig.ServerName != "" {
				t.Errorf("TLS ServerName %q: every connection must verify the host it dials", opt.TLSConfig.ServerName)
			}
		})
	}
	if c := (Common{RedisURL: "redis+sentinel://a:1/m"}); c.MasterCheck() <= 0 {
		t.Error("no master check under Sentinel")
	}
	if c := (Common{RedisURL: "redis://a:1/0"}); c.MasterCheck() != 0 {
		t.Error("a master check on a single Redis")
	}
	if (Common{RedisURL: "redis://a:1/0"}).RedisSentinel() || (Common{RedisURL: "redis+cluster://a:1"}).RedisSentinel() {
		t.Error("RedisSentinel() true for a single or cluster URL")
	}
}

// TestSentinelClient: Redis() opens a failover client for a sentinel URL.
func TestSentinelClient(t *testing.T) {
	rdb, err := Common{RedisURL: "redis+sentinel://127.0.0.1:1/m"}.Redis()
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	c, ok := rdb.(*redis.Client)
	if !ok || c.Options().Addr != "FailoverClient" {
		t.Fatalf("Redis() = %T (addr %v), want a go-redis failover client", rdb, c)
	}
}
