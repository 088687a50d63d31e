package jwtverify_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtverify/jwtverify"
	"github.com/jwtverify/jwtverify/internal/testkeys"
	"github.com/jwtverify/jwtverify/jwttest"
	"github.com/jwtverify/jwtverify/keyset"
)

// tagged is a Preparer whose state is its tag, and which refuses any
// other's state: it accepts every signature, so only the state matters.
type tagged struct {
	tag      string
	prepares *atomic.Int32
}

func (p tagged) Name() string { return "same-name" }
func (p tagged) VerifySignature(string, any, string, []byte) error {
	return errors.New("VerifySignature called on a Preparer")
}
func (p tagged) Prepare(any) (any, error) { p.prepares.Add(1); return p.tag, nil }
func (p tagged) VerifyPrepared(_ string, state any, _ string, _ []byte) error {
	if state != p.tag {
		return errors.New("another Preparer's state")
	}
	return nil
}

// uncomparable is a Preparer of a type == cannot compare.
type uncomparable struct {
	plain *atomic.Int32
	_     []int
}

func (uncomparable) Name() string { return "uncomparable" }
func (u uncomparable) VerifySignature(string, any, string, []byte) error {
	u.plain.Add(1)
	return nil
}
func (uncomparable) Prepare(any) (any, error) { return nil, errors.New("Prepare called") }
func (uncomparable) VerifyPrepared(string, any, string, []byte) error {
	return errors.New("VerifyPrepared called")
}

// TestPreparer: the state is prepared once per Key and Preparer and kept
// in the Key; two Preparers of one Name sharing a Key each get their own
// state, never the other's; a Preparer that == cannot compare is used as
// a plain Backend.
func TestPreparer(t *testing.T) {
	ks := testkeys.Load()
	k, _ := jwtverify.NewPublicKey("k", "ES256", &ks.P256.PublicKey)
	static, _ := keyset.NewStatic(k)
	tok := jwttest.Sign("ES256", ks.P256, map[string]any{"kid": "k"}, map[string]any{"exp": time.Now().Add(time.Hour).Unix()})
	cfg := jwtverify.Config{Keys: static, SkipIssuerCheck: true, SkipAudienceCheck: true}
	var na, nb atomic.Int32
	va, err := jwtverify.New(tagged{"A", &na}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	vb, _ := jwtverify.New(tagged{"B", &nb}, cfg)
	for range 3 {
		if _, err := va.Verify(context.Background(), tok); err != nil {
			t.Fatalf("A: %v", err)
		}
	}
	if na.Load() != 1 {
		t.Fatalf("A prepared %d times for one key, want 1", na.Load())
	}
	for _, v := range []*jwtverify.Verifier{vb, va, vb} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("%v: %v", v, err)
		}
	}
	var plain atomic.Int32
	vu, _ := jwtverify.New(uncomparable{plain: &plain}, cfg)
	if _, err := vu.Verify(context.Background(), tok); err != nil || plain.Load() != 1 {
		t.Fatalf("uncomparable Preparer: %v, VerifySignature calls %d", err, plain.Load())
	}
}
