package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/roomwire/roomwire/shared/infra/config"
)

// callTimeout bounds one command of redistest call.
const callTimeout = 10 * time.Second

func runCall(ctx context.Context, url string, in io.Reader, out io.Writer) error {
	rdb, err := config.Common{RedisURL: url}.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	return serve(ctx, in, out, caller{rdb}.do)
}

// caller runs one command through the services' client for the URL.
type caller struct{ rdb redis.UniversalClient }

func (c caller) do(ctx context.Context, words []string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	args := make([]any, len(words))
	for i, w := range words {
		args[i] = w
	}
	var v any
	var err error
	cc, isCluster := c.rdb.(*redis.ClusterClient)
	cmd, sub := strings.ToUpper(words[0]), ""
	if cmd == "PUBSUB" && len(words) > 1 {
		sub = strings.ToUpper(words[1])
	}
	switch {
	case isCluster && cmd == "KEYS":
		v, err = eachMaster(ctx, cc, args, appendSorted)
	case isCluster && sub == "NUMSUB":
		v, err = eachMaster(ctx, cc, args, addCounts)
	case isCluster && sub == "SHARDNUMSUB" && len(words) == 3:
		var m *redis.Client
		if m, err = cc.MasterForKey(ctx, words[2]); err == nil {
			v, err = m.Do(ctx, args...).Result()
		}
	default:
		v, err = c.rdb.Do(ctx, args...).Result()
	}
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return jsonable(v), nil
}

// eachMaster runs args on every master and merges the replies.
func eachMaster(ctx context.Context, cc *redis.ClusterClient, args []any, merge func(a, b []any) []any) (any, error) {
	var mu sync.Mutex
	out := []any{}
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		v, err := m.Do(ctx, args...).Slice()
		mu.Lock()
		out = merge(out, v)
		mu.Unlock()
		return err
	})
	return out, err
}

// appendSorted merges KEYS replies.
func appendSorted(a, b []any) []any {
	a = append(a, b...)
	slices.SortFunc(a, func(x, y any) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
	return a
}

// addCounts merges PUBSUB NUMSUB replies, [channel, count, ...]: the counts
// of a channel add up.
func addCounts(a, b []any) []any {
	if len(a) == 0 {
		return b
	}
	for i := 1; i < len(a) && i < len(b); i += 2 {
		x, _ := a[i].(int64)
		y, _ := b[i].(int64)
		a[i] = x + y
	}
	return a
}

// jsonable turns a RESP3 reply into values encoding/json takes: maps get
// string keys.
func jsonable(v any) any {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonable(x)
		}
		return out
	case error:
		return v.Error()
	}
	return v
}
