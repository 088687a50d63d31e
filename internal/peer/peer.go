// Package peer tells whether a request's peer is one of the trusted
// proxies: the middleware and the command's proxy both decide by it which
// forwarding headers to believe. It holds no state.
package peer

import (
	"net"
	"net/netip"
)

// In reports whether remoteAddr (an http.Request's RemoteAddr, host:port)
// is an address in one of prefixes; an IPv4-mapped IPv6 address counts as
// its IPv4 address. An address that does not parse is in none.
func In(remoteAddr string, prefixes []netip.Prefix) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range prefixes {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}
