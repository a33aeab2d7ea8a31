package ctl

import (
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/config"
	"github.com/roomwire/roomwire/shared/keys"
)

// openRedis opens the Redis of REDIS_URL (and REDIS_TLS_CA_FILE) and the
// key space of REDIS_PREFIX. The Redis commands need no token settings, so
// the JWT_* variables are hidden from config.Load: it neither insists on a
// secret nor reads key files that may exist only where the services run.
// The caller closes the client.
func openRedis(getenv func(string) string) (redis.UniversalClient, keys.Space, error) {
	c, err := config.Load(func(k string) string {
		switch {
		case k == "JWT_SECRET":
			return "unused-by-chatctl"
		case strings.HasPrefix(k, "JWT_"):
			return ""
		}
		return getenv(k)
	})
	if err != nil {
		return nil, keys.Space{}, err
	}
	rdb, err := c.Redis()
	if err != nil {
		return nil, keys.Space{}, err
	}
	return rdb, c.Keys(), nil
}
