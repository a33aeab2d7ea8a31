package config

import (
	"slices"
	"strings"
	"testing"
)

// TestClusterURL: the cluster forms of REDIS_URL and REDIS_CLUSTER_ADDRS
// give the seeds, credentials, TLS and options asked for, and bad ones fail
// with the setting's name.
func TestClusterURL(t *testing.T) {
	cases := []struct {
		name, url  string
		addrs      []string // REDIS_CLUSTER_ADDRS
		wantAddrs  []string
		wantUser   string
		wantPass   string
		wantTLS    bool
		wantPool   int
		wantErr    string
		notCluster bool
	}{
		{name: "seeds", url: "redis+cluster://127.0.0.1:7000,127.0.0.1:7001,h3:7002",
			wantAddrs: []string{"127.0.0.1:7000", "127.0.0.1:7001", "h3:7002"}},
		{name: "credentials and options", url: "redis+cluster://chat:pw@a:1,b:2/?pool_size=7",
			wantAddrs: []string{"a:1", "b:2"}, wantUser: "chat", wantPass: "pw", wantPool: 7},
		{name: "query without slash", url: "redis+cluster://a:1,b:2?pool_size=3", wantAddrs: []string{"a:1", "b:2"}, wantPool: 3},
		{name: "tls", url: "rediss+cluster://:pw@a:1", wantAddrs: []string{"a:1"}, wantPass: "pw", wantTLS: true},
		{name: "db 0 allowed", url: "redis+cluster://a:1/0", wantAddrs: []string{"a:1"}},
		{name: "addrs env with default url", url: "redis://localhost:6379/0", addrs: []string{"x:1", "y:2"}, wantAddrs: []string{"x:1", "y:2"}},
		{name: "addrs env keeps url credentials and tls", url: "rediss://u:p@ignored:1", addrs: []string{"x:1"},
			wantAddrs: []string{"x:1"}, wantUser: "u", wantPass: "p", wantTLS: true},
		{name: "single is not a cluster", url: "redis://a:1/0", notCluster: true},
		{name: "other db", url: "redis+cluster://a:1/3", wantErr: "only database 0"},
		{name: "no hosts", url: "redis+cluster://", wantErr: "at least one host"},
		{name: "host without port", url: "redis+cluster://a:1,b", wantErr: `"b"`},
		{name: "unknown option", url: "redis+cluster://a:1?bogus=1", wantErr: "REDIS_URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Common{RedisURL: tc.url, RedisClusterAddrs: tc.addrs}
			if c.RedisCluster() == tc.notCluster {
				t.Fatalf("RedisCluster() = %v", !tc.notCluster)
			}
			if tc.notCluster {
				return
			}
			opt, err := c.clusterOptions()
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
			if !slices.Equal(opt.Addrs, tc.wantAddrs) {
				t.Errorf("addrs = %v, want %v", opt.Addrs, tc.wantAddrs)
			}
			if opt.Username != tc.wantUser || opt.Password != tc.wantPass {
				t.Errorf("user/pass = %q/%q, want %q/%q", opt.Username, opt.Password, tc.wantUser, tc.wantPass)
			}
			if (opt.TLSConfig != nil) != tc.wantTLS {
				t.Errorf("TLS = %v, want %v", opt.TLSConfig != nil, tc.wantTLS)
			}
			if opt.MaxRedirects != 8 {
				t.Errorf("max redirects = %d, want the default 8", opt.MaxRedirects)
			}
			if opt.ClusterStateReloadInterval != ClusterReload {
				t.Errorf("slot map reload every %v, want %v (go-redis' 60s outlasts a crashed master's failover)", opt.ClusterStateReloadInterval, ClusterReload)
			}
			if opt.PoolSize != tc.wantPool {
				t.Errorf("pool size = %d, want %d", opt.PoolSize, tc.wantPool)
			}
		})
	}
}

// TestLoadRedisClusterAddrs: Load reads REDIS_CLUSTER_ADDRS and validates
// the cluster URL.
func TestLoadRedisClusterAddrs(t *testing.T) {
	env := map[string]string{"DEV_MODE": "1", "REDIS_CLUSTER_ADDRS": " a:1, b:2 ,"}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.RedisClusterAddrs, []string{"a:1", "b:2"}) || !c.RedisCluster() {
		t.Fatalf("addrs = %q, cluster = %v", c.RedisClusterAddrs, c.RedisCluster())
	}
	env = map[string]string{"DEV_MODE": "1", "REDIS_URL": "redis+cluster://a:1/5"}
	if _, err := Load(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "database 0") {
		t.Fatalf("Load with a cluster db 5: err = %v", err)
	}
}
