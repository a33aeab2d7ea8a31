package ctl

import (
	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/infra/config"
	"github.com/roomwire/roomwire/shared/redis/keys"
)

// openRedis opens the Redis of REDIS_URL (and REDIS_TLS_CA_FILE) and the
// key space of REDIS_PREFIX. The Redis commands need no token settings
// (config.LoadRedis). The caller closes the client.
func openRedis(getenv func(string) string) (redis.UniversalClient, keys.Space, error) {
	c, err := config.LoadRedis(getenv)
	if err != nil {
		return nil, keys.Space{}, err
	}
	rdb, err := c.Redis()
	if err != nil {
		return nil, keys.Space{}, err
	}
	return rdb, c.Keys(), nil
}
