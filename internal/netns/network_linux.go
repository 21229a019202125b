package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// A Network is a private switch with hosts on it: a bridge in an
// anonymous network namespace of its own, addressed .254 of the network's
// prefix (the control point, which no fault touches), and one veth to each
// host. Nothing is added to the namespace of the calling program, so
// networks with the same prefix can run side by side. Its methods may be
// called from any goroutine.
type Network struct {
	prefix   netip.Prefix
	addr     netip.Addr      // the control point, .254
	switchFD int             // holds the switch namespace
	nl       *netlink.Handle // netlink in the switch namespace
	bridge   int             // the bridge's link index

	mu     sync.Mutex
	hosts  []*Host
	seq    int              // numbers the hosts' veths
	state  State            // as last applied
	rules  map[string]Rules // state, by host
	made   []string         // cgroup directories AddHost made, parents first
	closed bool
}

// Available reports why hosts cannot be made by this program, or nil if
// they can: it needs the privileges of root (CAP_SYS_ADMIN and
// CAP_NET_ADMIN) and a kernel with network and PID namespaces.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netns: hosts need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")
	}
	if _, err := os.Stat("/proc/self/ns/pid"); err != nil {
		return fmt.Errorf("netns: no PID namespaces: %w", err)
	}
	fd, err := newNetNS()
	if err != nil {
		return fmt.Errorf("netns: cannot make a network namespace: %w", err)
	}
	unix.Close(fd)
	return nil
}

// NewNetwork makes an empty network for the IPv4 prefix, at most a /24,
// for example 10.77.0.0/24: its switch holds the address .254 of it.
// Close removes it.
func NewNetwork(prefix netip.Prefix) (*Network, error) {
	if !prefix.IsValid() || !prefix.Addr().Is4() || prefix.Bits() > 24 || prefix.Masked() != prefix {
		return nil, fmt.Errorf("netns: new network: prefix %v: want an IPv4 network address of at most /24, such as 10.77.0.0/24", prefix)
	}
	n := &Network{prefix: prefix, addr: offset(prefix.Addr(), 254), switchFD: -1}
	fd, err := newNetNS()
	if err != nil {
		return nil, fmt.Errorf("netns: new network: %w", err)
	}
	n.switchFD = fd
	err = onThread(fd, func() error {
		noIPv6()
		var err error
		n.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err == nil {
		err = n.makeBridge()
	}
	if err != nil {
		if n.nl != nil {
			n.nl.Close()
		}
		unix.Close(fd)
		return nil, fmt.Errorf("netns: new network: %w", err)
	}
	return n, nil
}

// makeBridge makes the switch's bridge, with the control point's address,
// and brings it and the loopback up.
func (n *Network) makeBridge() error {
	lo, err := n.nl.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := n.nl.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "br0"
	br := &netlink.Bridge{LinkAttrs: attrs}
	if err := n.nl.LinkAdd(br); err != nil {
		return fmt.Errorf("add bridge: %w", err)
	}
	if err := n.nl.AddrAdd(br, ipNet(n.addr, n.prefix.Bits())); err != nil {
		return fmt.Errorf("address bridge: %w", err)
	}
	if err := n.nl.LinkSetUp(br); err != nil {
		return fmt.Errorf("bridge up: %w", err)
	}
	n.bridge = br.Index
	return nil
}

// ipNet returns addr/bits for netlink.
func ipNet(addr netip.Addr, bits int) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(bits, 32)}}
}

// offset returns the IPv4 address k after a.
func offset(a netip.Addr, k uint32) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += k
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Prefix returns the network's prefix.
func (n *Network) Prefix() netip.Prefix { return n.prefix }

// Addr returns the address of the control point, .254 of the prefix: the
// switch's own, from which Network.DialContext dials.
func (n *Network) Addr() netip.Addr { return n.addr }

// Hosts returns the network's hosts, in the order they were added.
func (n *Network) Hosts() []*Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.hosts)
}

// switchNS returns a duplicate of the descriptor of the switch namespace,
// for the caller to close.
func (n *Network) switchNS() (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return -1, errors.New("network is closed")
	}
	return dupFD(n.switchFD)
}

// DialContext connects to addr (an IP address and a port) on network
// ("tcp", "udp", ...) from the control point, which no fault touches. The
// connection can be used from any goroutine.
func (n *Network) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	fd, err := n.switchNS()
	if err != nil {
		return nil, fmt.Errorf("netns: dial %s: %w", addr, err)
	}
	defer unix.Close(fd)
	c, err := nsDialContext(ctx, fd, network, addr)
	if err != nil {
		return nil, fmt.Errorf("netns: from the control point: %w", err)
	}
	return c, nil
}

// ListenPacket listens for packets on addr at the control point.
func (n *Network) ListenPacket(ctx context.Context, network, addr string) (net.PacketConn, error) {
	fd, err := n.switchNS()
	if err != nil {
		return nil, fmt.Errorf("netns: listen %s: %w", addr, err)
	}
	defer unix.Close(fd)
	pc, err := nsListenPacket(ctx, fd, network, addr)
	if err != nil {
		return nil, fmt.Errorf("netns: at the control point: %w", err)
	}
	return pc, nil
}

// State returns the state last applied.
func (n *Network) State() State {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state.Clone()
}

// Apply makes the network do what state says, replacing the state before
// it. Each host's rules are replaced in one nftables transaction, so that a
// host never holds half of a state; the hosts are changed one after the
// other. A host that is down gets its part when it restarts. A state that
// names a host the network lacks is an error, and changes nothing.
func (n *Network) Apply(state State) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("netns: apply: network is closed")
	}
	return n.applyLocked(state)
}

// applyLocked is Apply; the caller holds n.mu.
func (n *Network) applyLocked(state State) error {
	addrs := make(map[string]netip.Addr, len(n.hosts))
	for _, h := range n.hosts {
		addrs[h.name] = h.addr
	}
	rules, err := state.Compile(addrs)
	if err != nil {
		return fmt.Errorf("netns: apply: %w", err)
	}
	n.state, n.rules = state.Clone(), rules
	var errs []error
	for _, h := range n.hosts {
		h.mu.Lock()
		l := h.life
		h.mu.Unlock()
		if l == nil {
			continue
		}
		if err := l.net.Program(rules[h.name]); err != nil {
			errs = append(errs, fmt.Errorf("netns: apply on %s: %w", h.name, err))
		}
	}
	return errors.Join(errs...)
}

// Close kills every host, waits for each to end and removes it, then
// removes the switch and the cgroup directories AddHost made. A host ends
// only once every process started on it has been waited for (see
// Host.Wait): Close returns an error naming those not waited for if ctx
// ends first, and what remains is removed when they are. Close may be
// called more than once.
func (n *Network) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	hosts := slices.Clone(n.hosts)
	n.mu.Unlock()
	var errs []error
	for _, h := range hosts {
		if _, err := h.Kill(); err != nil && !errors.Is(err, errNotRunning) {
			errs = append(errs, err)
		}
	}
	for _, h := range hosts {
		if err := h.Wait(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nl.Close()
	n.nl = nil // a host still ending removes its link no more: its namespace's end does
	unix.Close(n.switchFD)
	// Other networks may share a parent: a busy one stays.
	for _, dir := range slices.Backward(n.made) {
		unix.Rmdir(dir)
	}
	return errors.Join(errs...)
}
