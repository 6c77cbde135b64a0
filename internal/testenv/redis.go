package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisAddr is the Redis the tests use (IMBUNDLE_TEST_REDIS overrides it).
func RedisAddr() string { return Getenv("IMBUNDLE_TEST_REDIS", "127.0.0.1:6379") }

// Redis returns a client on the machine's Redis, or skips (fails under CI).
// Tests must confine themselves to keys under their own unique prefix or to
// a logical database they flush, since the server is shared; the test
// holds the server's lock (redislock.go) until it ends, so that test
// packages running at once do not flush each other's databases.
func Redis(t testing.TB, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: RedisAddr(), DB: db})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		Unavailable(t, "Redis at "+RedisAddr(), err)
	}
	lockRedis(t, RedisAddr())
	t.Cleanup(func() { c.Close() })
	return c
}
