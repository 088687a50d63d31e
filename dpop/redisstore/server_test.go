package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jwtverify/jwtverify/dpop/redisstore/redistest"
	"github.com/redis/go-redis/v9"
)

// The tests run against a real redis-server that TestMain starts with
// redistest (installing it from Debian's packages if it is missing):
// testURL is its URL, also in the environment as REPLAY_STORE_URL for the
// examples.
var (
	testServer *redistest.Server
	testURL    string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// go-redis logs each failed dial; the tests that fail closed make many.
	redis.SetLogger(discardLogger{})
	var err error
	if testServer, err = redistest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "redisstore tests:", err)
		return 1
	}
	defer testServer.Stop()
	testURL = testServer.URL()
	if err := os.Setenv("REPLAY_STORE_URL", testURL); err != nil {
		fmt.Fprintln(os.Stderr, "redisstore tests:", err)
		return 1
	}
	return m.Run()
}

// rawClient is a plain client of the test server, for looking at the keys
// a Store wrote.
func rawClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: testServer.Addr()})
	t.Cleanup(func() { c.Close() })
	return c
}

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}
