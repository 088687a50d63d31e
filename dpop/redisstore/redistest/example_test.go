package redistest_test

import (
	"fmt"

	"github.com/jwtverify/jwtverify/dpop/redisstore/redistest"
)

// A test starts its own redis-server and stops it when it ends. The
// example has no Output comment, so go test compiles it without running
// it: running it needs redis-server (see Start). The tests of
// dpop/redisstore run the same steps.
func ExampleStart() {
	srv, err := redistest.Start()
	if err != nil {
		fmt.Println("no redis-server:", err)
		return
	}
	defer srv.Stop()
	fmt.Println("redis at", srv.Addr()) // hand it to redisstore.New's client
}
