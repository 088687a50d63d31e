package redisstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jwtverify/jwtverify/dpop/redisstore"
	"github.com/redis/go-redis/v9"
)

// A Store from the --replay-store URL (here from the environment), shared
// by every instance that is given the same URL.
func ExampleNewFromURL() {
	store, err := redisstore.NewFromURL(os.Getenv("REPLAY_STORE_URL"), redisstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// A Checker remembers a digest of the proof's key and jti.
	sum := sha256.Sum256([]byte("key-thumbprint." + rand.Text()))
	id := base64.RawURLEncoding.EncodeToString(sum[:])
	until := time.Now().Add(5 * time.Minute)

	for range 2 {
		seen, err := store.Remember(context.Background(), id, until)
		if err != nil {
			log.Fatal(err) // fail closed: the proof is not accepted
		}
		fmt.Println("seen:", seen)
	}
	// Output:
	// seen: false
	// seen: true
}

// A Store on a client of the caller's, which must honour context
// deadlines and should not retry.
func ExampleNew() {
	opts, err := redis.ParseURL(os.Getenv("REPLAY_STORE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1
	client := redis.NewClient(opts)
	defer client.Close() // the Store does not own client

	store, err := redisstore.New(client, redisstore.Options{
		Prefix:  "myapp:dpop:",
		Timeout: 100 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	sum := sha256.Sum256([]byte(rand.Text()))
	seen, err := store.Remember(context.Background(), base64.RawURLEncoding.EncodeToString(sum[:]), time.Now().Add(time.Minute))
	fmt.Println("seen:", seen, "error:", err)
	// Output:
	// seen: false error: <nil>
}
