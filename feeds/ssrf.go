package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrPrivateNetwork is what a fetch fails with when the address it would
// connect to is loopback, private, link-local or otherwise not a public
// internet address, and private networks are not allowed.
var ErrPrivateNetwork = errors.New("private or loopback address (set --allow-private-networks to allow)")

// ssrfRefusedError names the address that was refused, so the message says
// where a feed URL (or a redirect, or a DNS answer) tried to lead.
type ssrfRefusedError struct {
	address string // ip:port as dialed
}

func (e *ssrfRefusedError) Error() string {
	return "refused to connect to " + e.address + ": " + ErrPrivateNetwork.Error()
}

func (e *ssrfRefusedError) Unwrap() error { return ErrPrivateNetwork }

// ssrfControl returns a net.Dialer.ControlContext that refuses connections to
// addresses allow rejects. It runs on the resolved address of every
// connection, after DNS and for every redirect hop, so neither DNS rebinding
// nor a redirect to an internal host gets past it.
func ssrfControl(allow func(netip.Addr) bool) func(ctx context.Context, network, address string, c syscall.RawConn) error {
	return func(_ context.Context, _, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			// Fail closed: an address we cannot read is an address we cannot vouch for.
			return fmt.Errorf("parse dial address %q: %w", address, err)
		}
		if !allow(ap.Addr()) {
			return &ssrfRefusedError{address: address}
		}
		return nil
	}
}

// ssrfPublicAddr reports whether a is a public unicast address that a feed
// may live on. Everything a server on the internet could use to reach
// Recap's own machine or network is refused.
func ssrfPublicAddr(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	// ::ffff:127.0.0.1 reaches 127.0.0.1; classify the IPv4 address it carries.
	a = a.Unmap().WithZone("")
	if a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return false
	}
	for _, p := range ssrfReservedPrefixes() {
		if p.Contains(a) {
			return false
		}
	}
	// NAT64 and 6to4 gateways translate these to the IPv4 address inside,
	// which may be internal.
	if v4, ok := ssrfEmbeddedIPv4(a); ok {
		return ssrfPublicAddr(v4)
	}
	return true
}

// ssrfReservedPrefixes are the ranges netip's predicates do not cover but
// that are not public internet either. A function, not a package variable,
// so nothing can change the list at run time.
func ssrfReservedPrefixes() [8]netip.Prefix {
	return [...]netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
		netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, often internal in clouds
		netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
		netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking, used for internal networks
		netip.MustParsePrefix("240.0.0.0/4"),    // reserved, includes 255.255.255.255
		netip.MustParsePrefix("::/96"),          // deprecated IPv4-compatible IPv6
		netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
		netip.MustParsePrefix("fec0::/10"),      // deprecated site-local, still routed by some stacks
	}
}

// ssrfEmbeddedIPv4 returns the IPv4 address carried by a NAT64 (64:ff9b::/96)
// or 6to4 (2002::/16) address.
func ssrfEmbeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	if netip.MustParsePrefix("64:ff9b::/96").Contains(a) {
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	}
	if b[0] == 0x20 && b[1] == 0x02 {
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}
