//go:build !linux

package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
)

// errNoHosts is the error of every operation on systems other than Linux.
var errNoHosts = fmt.Errorf("netns: hosts need Linux, not %s: %w", runtime.GOOS, errors.ErrUnsupported)

// MaybeRunInit does nothing: hosts need Linux.
func MaybeRunInit() {}

// Available reports that hosts need Linux.
func Available() error { return errNoHosts }

// HasNetem reports that packet delay needs Linux.
func HasNetem() (bool, string) { return false, "needs Linux" }

// CgroupDir reports that cgroups need Linux.
func CgroupDir() (string, error) { return "", errNoHosts }

// RemoveCgroups reports that cgroups need Linux.
func RemoveCgroups(ctx context.Context, dir string) error { return errNoHosts }

// A Network is a private switch with hosts on it; on this system there
// are none.
type Network struct{}

// NewNetwork reports that hosts need Linux.
func NewNetwork(prefix netip.Prefix) (*Network, error) { return nil, errNoHosts }

// Prefix returns the zero prefix.
func (n *Network) Prefix() netip.Prefix { return netip.Prefix{} }

// Addr returns the zero address.
func (n *Network) Addr() netip.Addr { return netip.Addr{} }

// Hosts returns nil.
func (n *Network) Hosts() []*Host { return nil }

// AddHost reports that hosts need Linux.
func (n *Network) AddHost(ctx context.Context, name string, addr netip.Addr, cgroupParent string) (*Host, error) {
	return nil, errNoHosts
}

// DialContext reports that hosts need Linux.
func (n *Network) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, errNoHosts
}

// ListenPacket reports that hosts need Linux.
func (n *Network) ListenPacket(ctx context.Context, network, addr string) (net.PacketConn, error) {
	return nil, errNoHosts
}

// State returns the zero State.
func (n *Network) State() State { return State{} }

// Apply reports that hosts need Linux.
func (n *Network) Apply(state State) error { return errNoHosts }

// Close does nothing.
func (n *Network) Close(ctx context.Context) error { return nil }

// A Host is a machine on a Network; on this system there are none.
type Host struct{}

// Name returns "".
func (h *Host) Name() string { return "" }

// Addr returns the zero address.
func (h *Host) Addr() netip.Addr { return netip.Addr{} }

// Cgroup returns "".
func (h *Host) Cgroup() string { return "" }

// InitPid returns 0.
func (h *Host) InitPid() int { return 0 }

// Start reports that hosts need Linux.
func (h *Host) Start(cmd *exec.Cmd) error { return errNoHosts }

// Kill reports that hosts need Linux.
func (h *Host) Kill() (Method, error) { return 0, errNoHosts }

// Wait does nothing.
func (h *Host) Wait(ctx context.Context) error { return nil }

// Restart reports that hosts need Linux.
func (h *Host) Restart(ctx context.Context) error { return errNoHosts }

// Pause reports that hosts need Linux.
func (h *Host) Pause(ctx context.Context) (Method, error) { return 0, errNoHosts }

// Resume reports that hosts need Linux.
func (h *Host) Resume(ctx context.Context) error { return errNoHosts }

// Procs reports that hosts need Linux.
func (h *Host) Procs() ([]int, error) { return nil, errNoHosts }

// DialContext reports that hosts need Linux.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return nil, errNoHosts
}

// Listen reports that hosts need Linux.
func (h *Host) Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	return nil, errNoHosts
}

// ListenPacket reports that hosts need Linux.
func (h *Host) ListenPacket(ctx context.Context, network, addr string) (net.PacketConn, error) {
	return nil, errNoHosts
}

// Faults keeps the faults of a network namespace; on this system there
// are none.
type Faults struct{}

// NewFaults reports that network namespaces need Linux.
func NewFaults(iface string) (*Faults, error) { return nil, errNoHosts }

// Program reports that network namespaces need Linux.
func (f *Faults) Program(r Rules) error { return errNoHosts }

// Close does nothing.
func (f *Faults) Close() {}
