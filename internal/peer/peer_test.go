package peer

import (
	"net/netip"
	"testing"
)

func TestIn(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for addr, want := range map[string]bool{
		"10.1.2.3:443": true, "[::ffff:10.1.2.3]:443": true, "[fd00::1]:80": true,
		"192.0.2.1:443": false, "[2001:db8::1]:80": false, "10.1.2.3": false, "": false, "not-an-ip:80": false,
	} {
		if got := In(addr, trusted); got != want {
			t.Errorf("In(%q) = %v, want %v", addr, got, want)
		}
	}
	if In("10.1.2.3:443", nil) {
		t.Error("no prefix trusts every peer")
	}
}
